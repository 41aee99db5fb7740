const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';
const CAPSULE_ID = /^cap1[a-z2-7]{52}$/;
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The 32-byte content digest to extend for a capsule, as hex: given as 64 hex characters, or
 * as a capsule id `cap1<base32 of the digest>` (runtime/spec/capsule-package.md). Anything else
 * is a caller's mistake (RangeError).
 */
export function capsuleDigestHex(digestOrId: string): string {
  if (HEX64.test(digestOrId)) return digestOrId;
  if (!CAPSULE_ID.test(digestOrId)) throw new RangeError('a capsule digest is 64 lowercase hex or a cap1… id');
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const ch of digestOrId.slice(4)) {
    buffer = ((buffer << 5) | BASE32.indexOf(ch)) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((buffer >>> bits) & 0xff);
    }
  }
  return Buffer.from(out.slice(0, 32)).toString('hex');
}
