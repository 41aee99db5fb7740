/**
 * The "edit": a JPEG comment segment (ITU T.81 §B.2.4.5, marker 0xFFFE) inserted right after
 * the start-of-image marker. The picture is unchanged and the file stays a valid JPEG.
 */
export function addJpegComment(jpeg: Buffer, text: string): Buffer {
  if (jpeg.length < 2 || jpeg[0] !== 0xff || jpeg[1] !== 0xd8) throw new RangeError('not a JPEG (no SOI marker)');
  const body = Buffer.from(text, 'utf8').subarray(0, 65533);
  const head = Buffer.from([0xff, 0xfe, 0, 0]);
  head.writeUInt16BE(body.length + 2, 2);
  return Buffer.concat([jpeg.subarray(0, 2), head, body, jpeg.subarray(2)]);
}
