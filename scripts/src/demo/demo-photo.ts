/**
 * The demo's "vacation.jpg": a real baseline JPEG (ITU T.81), made here rather than committed.
 * Grey, one flat level per 8x8 block (DC coefficients only, quantiser 1), so the encoder is the
 * Huffman coding of DC differences with the standard luminance DC table (T.81 Annex K.3) and
 * an AC table holding only end-of-block.
 */
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];

/** Canonical Huffman codes (T.81 Annex C) for the table's values. */
function huffmanCodes(bits: number[], vals: number[]): Map<number, { code: number; len: number }> {
  const out = new Map<number, { code: number; len: number }>();
  let code = 0;
  let k = 0;
  bits.forEach((n, i) => {
    for (let j = 0; j < n; j++) out.set(vals[k++] as number, { code: code++, len: i + 1 });
    code <<= 1;
  });
  return out;
}

class BitWriter {
  private readonly bytes: number[] = [];
  private acc = 0;
  private n = 0;

  put(value: number, len: number): void {
    for (let i = len - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }

  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0); // byte stuffing (T.81 §F.1.2.3)
    this.acc = 0;
    this.n = 0;
  }

  done(): Buffer {
    while (this.n !== 0) this.put(1, 1);
    return Buffer.from(this.bytes);
  }
}

const segment = (marker: number, body: number[]) => [
  0xff,
  marker,
  (body.length + 2) >> 8,
  (body.length + 2) & 0xff,
  ...body,
];

/** A `width` x `height` grey JPEG whose block levels (0-255) come from `level(bx, by)`. */
export function makeGreyJpeg(width: number, height: number, level: (bx: number, by: number) => number): Buffer {
  const dc = huffmanCodes(DC_BITS, DC_VALS);
  const w = new BitWriter();
  let prev = 0;
  for (let by = 0; by < Math.ceil(height / 8); by++) {
    for (let bx = 0; bx < Math.ceil(width / 8); bx++) {
      const value = Math.round((Math.max(0, Math.min(255, level(bx, by))) - 128) * 8);
      const diff = value - prev;
      prev = value;
      const cat = diff === 0 ? 0 : Math.floor(Math.log2(Math.abs(diff))) + 1;
      const h = dc.get(cat) as { code: number; len: number };
      w.put(h.code, h.len);
      if (cat > 0) w.put(diff > 0 ? diff : diff + (1 << cat) - 1, cat);
      w.put(0, 1); // end of block: the only AC code
    }
  }
  const header = [
    0xff,
    0xd8,
    ...segment(0xdb, [0x00, ...new Array(64).fill(1)]),
    ...segment(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, 1, 1, 0x11, 0]),
    ...segment(0xc4, [0x00, ...DC_BITS, ...DC_VALS]),
    ...segment(0xc4, [0x10, 1, ...new Array(15).fill(0), 0x00]),
    ...segment(0xda, [1, 1, 0x00, 0, 63, 0]),
  ];
  return Buffer.concat([Buffer.from(header), w.done(), Buffer.from([0xff, 0xd9])]);
}

/** A sky over a sea over a beach, 640 x 480. */
export function vacationPhoto(): Buffer {
  return makeGreyJpeg(640, 480, (bx, by) => {
    if (by < 30) return 200 - by * 2 + Math.round(8 * Math.sin(bx / 5));
    if (by < 45) return 90 + Math.round(20 * Math.sin((bx + by * 3) / 3));
    return 170 + Math.round(10 * Math.cos((bx * by) / 40));
  });
}
