import assert from 'node:assert/strict';
import jpeg from 'jpeg-js';
import { makeGreyJpeg, vacationPhoto } from './demo-photo.js';

describe('demo photo: a real baseline JPEG made by the demo', () => {
  it('decodes with an independent decoder to the block levels it was made from', () => {
    const img = jpeg.decode(
      makeGreyJpeg(24, 16, (bx, by) => 40 + bx * 60 + by * 10),
      { useTArray: true },
    );
    assert.equal(img.width, 24);
    assert.equal(img.height, 16);
    const at = (x: number, y: number) => img.data[4 * (y * 24 + x)];
    assert.equal(at(0, 0), 40);
    assert.equal(at(23, 0), 160);
    assert.equal(at(10, 15), 110);
  });

  it('the vacation photo is 640 x 480', () => {
    const img = jpeg.decode(vacationPhoto());
    assert.deepEqual([img.width, img.height], [640, 480]);
  });
});
