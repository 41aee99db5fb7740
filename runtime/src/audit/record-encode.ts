/**
 * The append path's record encoder (runtime/spec/audit.md §2): writes the same canonical bytes
 * as cborg's rfc8949EncodeOptions, without building cborg's token tree, straight into the
 * stored value (hash ‖ bytes, §4). Records it does not handle byte-for-byte (details, a
 * non-integer number, a surrogate in a text) go through `encodeRecord`; tests compare both.
 */
import { createHash } from 'node:crypto';
import { HASH_BYTES } from './record.js';

/** The fields a record may carry, and the text fields among them. */
const FIELDS = ['v', 'seq', 'time', 'actor', 'type', 'resource', 'action', 'decision', 'code', 'tokenId'] as const;
type Field = (typeof FIELDS)[number];
const NUMBERS = new Set<Field>(['v', 'seq', 'time']);

/** §4.2.1: map keys sorted by their encoded bytes; for short ASCII keys, shorter first, then bytewise. */
const ORDER: readonly Field[] = [...FIELDS].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
const KEY_BYTES = new Map<Field, Buffer>(ORDER.map((k) => [k, Buffer.from([0x60 + k.length, ...Buffer.from(k)])]));
const SURROGATE = /[\uD800-\uDFFF]/;

/** The record fields this encoder reads (an AuditRecord without `details`). */
export type FlatRecord = { [K in Field]?: string | number };

let scratch = Buffer.allocUnsafe(4096);

/** Writes a CBOR head (major type, argument) in its shortest form at `at`; returns the new offset. */
function head(buf: Buffer, at: number, major: number, n: number): number {
  const m = major << 5;
  if (n < 24) {
    buf[at] = m | n;
    return at + 1;
  }
  if (n < 0x100) {
    buf[at] = m | 24;
    buf[at + 1] = n;
    return at + 2;
  }
  if (n < 0x10000) {
    buf[at] = m | 25;
    buf.writeUInt16BE(n, at + 1);
    return at + 3;
  }
  if (n < 0x1_0000_0000) {
    buf[at] = m | 26;
    buf.writeUInt32BE(n, at + 1);
    return at + 5;
  }
  buf[at] = m | 27;
  buf.writeUInt32BE(Math.floor(n / 0x1_0000_0000), at + 1);
  buf.writeUInt32BE(n >>> 0, at + 5);
  return at + 9;
}

/** Upper bound of the encoded size, or -1 when this encoder must not handle the record. */
function bound(r: FlatRecord): number {
  let size = 1;
  for (const k of FIELDS) {
    const value = r[k];
    if (value === undefined) continue;
    if (NUMBERS.has(k) ? !Number.isSafeInteger(value) : typeof value !== 'string' || SURROGATE.test(value)) return -1;
    size += 10 + 9 + (typeof value === 'string' ? value.length * 3 : 0);
  }
  return size;
}

/**
 * The stored value (32-byte chain hash over `prev` ‖ canonical bytes) of a record without
 * details, or undefined when the record needs the general encoder.
 */
export function packFlatRecord(
  r: FlatRecord,
  prev: Uint8Array,
): { value: Uint8Array; bytes: Uint8Array; hash: Uint8Array } | undefined {
  const size = bound(r);
  if (size < 0) return undefined;
  if (scratch.length < size) scratch = Buffer.allocUnsafe(size * 2);
  const buf = scratch;
  let count = 0;
  for (const k of ORDER) if (r[k] !== undefined) count++;
  let at = head(buf, 0, 5, count);
  for (const k of ORDER) {
    const value = r[k];
    if (value === undefined) continue;
    const key = KEY_BYTES.get(k) as Buffer;
    at += key.copy(buf, at);
    if (typeof value === 'number') {
      at = value >= 0 ? head(buf, at, 0, value) : head(buf, at, 1, -1 - value);
      continue;
    }
    const n = Buffer.byteLength(value, 'utf8');
    at = head(buf, at, 3, n);
    at += buf.write(value, at, n, 'utf8');
  }
  const value = new Uint8Array(HASH_BYTES + at);
  const bytes = value.subarray(HASH_BYTES);
  bytes.set(buf.subarray(0, at));
  const hash = createHash('sha256').update(prev).update(bytes).digest();
  value.set(hash, 0);
  return { value, bytes, hash };
}
