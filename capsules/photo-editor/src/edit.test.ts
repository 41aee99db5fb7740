import assert from 'node:assert/strict';
import { addJpegComment } from './edit.js';

describe('photo-editor: the edit is a JPEG comment segment after SOI', () => {
  it('inserts FFFE with its length and keeps the rest byte for byte', () => {
    const jpeg = Buffer.from('ffd8ffe000104a46494600ffd9', 'hex');
    const out = addJpegComment(jpeg, 'hi');
    assert.equal(out.subarray(0, 8).toString('hex'), 'ffd8fffe00046869');
    assert.deepEqual(out.subarray(8), jpeg.subarray(2));
  });

  it('refuses what is not a JPEG', () => {
    assert.throws(() => addJpegComment(Buffer.from('GIF89a'), 'x'), RangeError);
  });
});
