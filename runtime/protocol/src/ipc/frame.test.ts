import assert from 'node:assert/strict';
import { encodeFrames, FrameDecoder } from './frame.js';

/** Runs `fn` counting the bytes Buffer.concat copies (the decoder's only copy). */
function copiedBy(fn: () => void): number {
  const concat = Buffer.concat;
  let copied = 0;
  Buffer.concat = (list: readonly Uint8Array[], total?: number) => {
    const out = concat(list, total);
    copied += out.length;
    return out;
  };
  try {
    fn();
  } finally {
    Buffer.concat = concat;
  }
  return copied;
}

describe('IPC frame decoder: cost of a hostile sender', () => {
  it('assembles a 64 KiB frame sent a byte at a time with one copy (linear, not quadratic)', () => {
    const frame = encodeFrames(['x'.repeat(64 * 1024 - 4)]);
    const d = new FrameDecoder(64 * 1024);
    let got = 0;
    const copied = copiedBy(() => {
      for (let i = 0; i < frame.length; i++) d.push(frame.subarray(i, i + 1), (b) => (got += b.length));
    });
    assert.equal(got, frame.length - 4);
    assert.equal(d.pending, 0);
    assert.ok(copied <= 2 * frame.length, `copied ${copied} bytes for a ${frame.length}-byte frame`);
  });

  it('refuses an oversized frame as soon as its header is in, before its body arrives', () => {
    const d = new FrameDecoder(1024);
    d.push(Buffer.from([0, 0]), () => undefined);
    assert.throws(() => d.push(Buffer.from([0x10, 0]), () => undefined), { code: 'E_IPC_FRAME' });
  });

  it('splits frames across any chunk boundaries', () => {
    const bodies = ['a', 'bc', 'x'.repeat(300), 'd'];
    const stream = encodeFrames(bodies);
    for (const size of [1, 2, 3, 5, 7, 301, stream.length]) {
      const d = new FrameDecoder(1024);
      const out: string[] = [];
      for (let i = 0; i < stream.length; i += size) d.push(stream.subarray(i, i + size), (b) => out.push(b.toString()));
      assert.deepEqual(out, bodies, `chunks of ${size}`);
    }
  });
});
