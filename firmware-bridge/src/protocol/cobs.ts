/**
 * Consistent Overhead Byte Stuffing (Cheshire & Baker, IEEE/ACM ToN 7(2), 1999), as used by
 * spec/protocol.md §2: the encoded block holds no 0x00, so 0x00 alone delimits frames.
 * Small enough (and specified tightly enough) that a dependency would cost more than it saves.
 */

/** Encodes `data` (any bytes) into a block without zero bytes; overhead is 1 + floor(n / 254). */
export function cobsEncode(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(data.length + Math.floor(data.length / 254) + 1);
  let codeAt = 0;
  let code = 1;
  let o = 1;
  for (let i = 0; i < data.length; i++) {
    const byte = data[i] ?? 0;
    if (byte !== 0) {
      out[o++] = byte;
      code++;
    }
    // A full block (254 data bytes) closes without an implied zero; at the very end no new block opens.
    if (byte === 0 || (code === 0xff && i + 1 < data.length)) {
      out[codeAt] = code;
      codeAt = o++;
      code = 1;
    }
  }
  out[codeAt] = code;
  return out.subarray(0, o);
}

/** Decodes one COBS block (without its delimiter); `undefined` when the block is not valid COBS. */
export function cobsDecode(block: Uint8Array): Uint8Array | undefined {
  const out = new Uint8Array(block.length);
  let o = 0;
  let i = 0;
  while (i < block.length) {
    const code = block[i] ?? 0;
    if (code === 0 || i + code > block.length) return undefined;
    for (let k = 1; k < code; k++) {
      const byte = block[i + k] ?? 0;
      if (byte === 0) return undefined;
      out[o++] = byte;
    }
    i += code;
    if (code !== 0xff && i < block.length) out[o++] = 0;
  }
  return out.subarray(0, o);
}
