/**
 * The append path's record encoder (runtime/spec/audit.md §2): writes the same canonical bytes
 * as cborg's rfc8949EncodeOptions, without building cborg's token tree, straight into the
 * stored value (hash ‖ bytes, §4). Records it does not handle byte-for-byte (details, a
 * non-integer number, a surrogate in a text) go through `encodeRecord`; tests compare both.
 */
import { hash as digest } from 'node:crypto';
import { HASH_BYTES } from '@elastos/protocol/audit/record';

/** The fields a record may carry, and the text fields among them. */
const FIELDS = ['v', 'seq', 'time', 'actor', 'type', 'resource', 'action', 'decision', 'code', 'tokenId'] as const;
type Field = (typeof FIELDS)[number];
const NUMBERS = new Set<Field>(['v', 'seq', 'time']);

/** §4.2.1: map keys sorted by their encoded bytes; for short ASCII keys, shorter first, then bytewise. */
const ORDER: readonly Field[] = [...FIELDS].sort((a, b) => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0));
const KEY_BYTES: readonly number[][] = ORDER.map((k) => [0x60 + k.length, ...Buffer.from(k)]);
const SURROGATE = /[\uD800-\uDFFF]/;
const TWO_32 = 0x1_0000_0000;

/** The event fields this encoder reads (an AuditEvent without `details`). */
export type FlatEvent = { [K in Field]?: string | number };

let scratch = new Uint8Array(4096);

/**
 * Writes a CBOR head (major type, argument) in its shortest form at `at`; returns the new
 * offset. Plain byte stores: on the sequential path each call into native code costs more.
 */
function head(buf: Uint8Array, at: number, major: number, n: number): number {
  const m = major << 5;
  if (n < 24) {
    buf[at] = m | n;
    return at + 1;
  }
  const width = n < 0x100 ? 1 : n < 0x10000 ? 2 : n < TWO_32 ? 4 : 8;
  buf[at] = m | (width === 1 ? 24 : width === 2 ? 25 : width === 4 ? 26 : 27);
  // Big-endian: the low 32 bits last, the high ones (only for width 8) before them.
  let lo = n >>> 0;
  for (let i = Math.min(width, 4); i >= 1; i--, lo >>>= 8) buf[at + width - Math.min(width, 4) + i] = lo & 0xff;
  let hi = Math.floor(n / TWO_32);
  for (let i = width - 4; i >= 1; i--, hi >>>= 8) buf[at + i] = hi & 0xff;
  return at + 1 + width;
}

/**
 * A text field: ASCII byte by byte, other text through Buffer (which agrees with cborg when
 * there is no surrogate); -1 for text with a surrogate.
 */
function text(buf: Uint8Array, at: number, value: string): number {
  const n = value.length;
  let ascii = true;
  for (let i = 0; i < n && ascii; i++) ascii = value.charCodeAt(i) < 0x80;
  if (ascii) {
    at = head(buf, at, 3, n);
    for (let i = 0; i < n; i++) buf[at + i] = value.charCodeAt(i);
    return at + n;
  }
  if (SURROGATE.test(value)) return -1;
  const bytes = Buffer.from(value, 'utf8');
  at = head(buf, at, 3, bytes.length);
  buf.set(bytes, at);
  return at + bytes.length;
}

/** Upper bound of the encoded size, or -1 when this encoder must not handle the record. */
function bound(r: FlatEvent): number {
  let size = 1 + 3 * 20;
  for (const k of FIELDS) {
    const value = r[k];
    if (value === undefined || NUMBERS.has(k)) continue;
    if (typeof value !== 'string') return -1;
    size += 20 + value.length * 3;
  }
  return size;
}

/**
 * The stored value (32-byte chain hash over `prev` ‖ canonical bytes, spec §3-§4) of record
 * `seq` for an event without details, or undefined when it needs the general encoder.
 */
export function packFlatRecord(
  event: FlatEvent,
  v: number,
  seq: number,
  time: number,
  prev: Uint8Array,
): { value: Uint8Array; bytes: Uint8Array; hash: Uint8Array } | undefined {
  if (!Number.isSafeInteger(time) || !Number.isSafeInteger(seq) || !Number.isSafeInteger(v)) return undefined;
  const size = bound(event);
  if (size < 0) return undefined;
  if (scratch.length < size) scratch = new Uint8Array(size * 2);
  const buf = scratch;
  let count = 3;
  for (const k of FIELDS) if (!NUMBERS.has(k) && event[k] !== undefined) count++;
  let at = head(buf, 0, 5, count);
  for (let f = 0; f < ORDER.length; f++) {
    const k = ORDER[f] as Field;
    const value = k === 'v' ? v : k === 'seq' ? seq : k === 'time' ? time : event[k];
    if (value === undefined) continue;
    for (const byte of KEY_BYTES[f] as number[]) buf[at++] = byte;
    if (typeof value === 'number') at = value >= 0 ? head(buf, at, 0, value) : head(buf, at, 1, -1 - value);
    else {
      at = text(buf, at, value);
      if (at < 0) return undefined;
    }
  }
  // The value is prev ‖ bytes while the hash is taken, then the hash replaces prev.
  const value = new Uint8Array(HASH_BYTES + at);
  value.set(prev, 0);
  value.set(buf.subarray(0, at), HASH_BYTES);
  const hash = digest('sha256', value, 'buffer');
  value.set(hash, 0);
  return { value, bytes: value.subarray(HASH_BYTES), hash };
}
