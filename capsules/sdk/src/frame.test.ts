import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeFrames, FrameReader, MAX_OUT_BODY } from './frame.js';

describe('SDK: IPC framing (runtime/spec/ipc.md §2)', () => {
  it('reads back any bodies however the stream is cut', () => {
    fc.assert(
      fc.property(fc.array(fc.string({ minLength: 1 }), { minLength: 1, maxLength: 8 }), fc.nat(64), (bodies, cut) => {
        const bytes = encodeFrames(bodies.map((b) => JSON.stringify(b)));
        const got: string[] = [];
        const reader = new FrameReader();
        const at = Math.min(cut, bytes.length);
        reader.push(bytes.subarray(0, at), (b) => got.push(JSON.parse(b.toString())));
        reader.push(bytes.subarray(at), (b) => got.push(JSON.parse(b.toString())));
        assert.deepEqual(got, bodies);
      }),
    );
  });

  it('refuses to send a body over the runtime limit, and a zero-length frame is fatal', () => {
    assert.throws(() => encodeFrames(['x'.repeat(MAX_OUT_BODY + 1)]), { code: 'E_IPC_FRAME' });
    assert.throws(() => new FrameReader().push(Buffer.alloc(8), () => undefined), { code: 'E_IPC_FRAME' });
  });
});
