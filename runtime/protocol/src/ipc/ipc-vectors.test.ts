import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { ElastosError, hasCode } from '../errors/index.js';
import { encodeFrames, FrameDecoder } from './frame.js';
import { type SCHEMAS, validate, validateDecision } from './messages.js';

interface Vectors {
  maxFrameBytes: number;
  frames: Array<{ name: string; body: string; hex: string }>;
  valid: Array<{ kind: keyof typeof SCHEMAS; name: string; json: unknown }>;
  invalid: Array<{ kind: keyof typeof SCHEMAS; name: string; json: unknown; code: string }>;
  frameErrors: Array<{ name: string; hex: string; code: string }>;
}

const v = JSON.parse(readFileSync(new URL('../../../spec/ipc-vectors.json', import.meta.url), 'utf8')) as Vectors;
const check = (kind: keyof typeof SCHEMAS, json: unknown) =>
  kind === 'decision' ? validateDecision(json) : validate(kind, json);

describe('IPC spec vectors (runtime/spec/ipc-vectors.json)', () => {
  it('frames each body as its vector, and splits a stream fed byte by byte back into bodies', () => {
    const stream = Buffer.concat(v.frames.map((f) => Buffer.from(f.hex, 'hex')));
    for (const f of v.frames) assert.equal(encodeFrames([f.body]).toString('hex'), f.hex, f.name);
    assert.equal(encodeFrames(v.frames.map((f) => f.body)).toString('hex'), stream.toString('hex'));
    const bodies: string[] = [];
    const d = new FrameDecoder(v.maxFrameBytes);
    for (const byte of stream) d.push(Buffer.from([byte]), (b) => bodies.push(b.toString()));
    assert.deepEqual(
      bodies,
      v.frames.map((f) => f.body),
    );
    assert.equal(d.pending, 0);
  });

  it('refuses bad frame headers with E_IPC_FRAME', () => {
    for (const f of v.frameErrors) {
      const d = new FrameDecoder(v.maxFrameBytes);
      assert.throws(
        () => d.push(Buffer.from(f.hex, 'hex'), () => undefined),
        (e) => hasCode(e, f.code as never),
        f.name,
      );
    }
  });

  it('accepts the valid messages and refuses the invalid ones with E_IPC_SCHEMA', () => {
    for (const m of v.valid) check(m.kind, m.json);
    for (const m of v.invalid)
      assert.throws(
        () => check(m.kind, m.json),
        (e) => hasCode(e, m.code as never),
        m.name,
      );
  });

  it('the frame decoder never throws anything but E_IPC_FRAME on any byte stream (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 8 }), (chunks) => {
        const d = new FrameDecoder(256);
        try {
          for (const c of chunks) d.push(Buffer.from(c), () => undefined);
        } catch (e) {
          assert.ok(e instanceof ElastosError && e.code === 'E_IPC_FRAME');
        }
      }),
      { numRuns: 2000 },
    );
  });
});
