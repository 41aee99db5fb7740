/**
 * Where the audit trail lives in the store's `audit` namespace (runtime/spec/audit.md §4).
 * Keys sort in log order because numbers are zero-padded to 16 decimal digits.
 */

import { HASH_BYTES } from '@elastos/protocol/audit/record';
import { ElastosError } from '../errors/index.js';
import type { Store } from '../store/index.js';

const WIDTH = 16;
export const RECORD_PREFIX = 'r/';
export const CHECKPOINT_PREFIX = 'c/';
/** The retention marker (spec §8): records below `from` were pruned under checkpoint `index`. */
export const PRUNE_KEY = 'prune';

const pad = (n: number) => n.toString().padStart(WIDTH, '0');
export const recordKey = (seq: number): string => `${RECORD_PREFIX}${pad(seq)}`;
export const checkpointKey = (index: number): string => `${CHECKPOINT_PREFIX}${pad(index)}`;

/** The number in a record or checkpoint key, or -1 when the key is not one. */
export function keyNumber(key: string, prefix: string): number {
  if (!key.startsWith(prefix) || key.length !== prefix.length + WIDTH) return -1;
  const n = Number(key.slice(prefix.length));
  return Number.isSafeInteger(n) ? n : -1;
}

/** A stored record value: its 32-byte chain hash, then its canonical bytes (spec §4). */
export interface StoredRecord {
  hash: Uint8Array;
  bytes: Uint8Array;
}

export function packRecord(hash: Uint8Array, bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(HASH_BYTES + bytes.length);
  out.set(hash, 0);
  out.set(bytes, HASH_BYTES);
  return out;
}

export function unpackRecord(value: Uint8Array, seq: number): StoredRecord {
  if (value.length <= HASH_BYTES) throw new ElastosError('E_STORE_CORRUPT', `audit record ${seq} is too short`);
  return { hash: value.subarray(0, HASH_BYTES), bytes: value.subarray(HASH_BYTES) };
}

/** Range bounds of an iterator over keys with `prefix` from number `from` (inclusive) to `to` (inclusive). */
export function range(prefix: string, from = 0, to = Number.MAX_SAFE_INTEGER): { gte: string; lte: string } {
  return { gte: `${prefix}${pad(from)}`, lte: `${prefix}${pad(Math.min(to, 10 ** WIDTH - 1))}` };
}

/** The last stored entry under `prefix`, or undefined. */
export async function lastEntry(store: Store, prefix: string): Promise<{ n: number; value: Uint8Array } | undefined> {
  const it = store.ns('audit').iterator({ ...range(prefix), reverse: true, limit: 1 });
  try {
    const entry = await it.next();
    if (!entry) return undefined;
    const [key, value] = entry;
    const n = keyNumber(key, prefix);
    if (n < 0) throw new ElastosError('E_STORE_CORRUPT', `bad audit key ${key}`);
    return { n, value };
  } finally {
    await it.close();
  }
}
