/**
 * Reading the trail for people: `audit tail` (newest records, filtered) and single records.
 * Reads do not check the chain; `verifyAuditLog` does.
 */

import { type AuditRecord, decodeRecord, toHex } from '@elastos/protocol/audit/record';
import { ElastosError } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { keyNumber, RECORD_PREFIX, range, recordKey, unpackRecord } from './layout.js';

export interface TailQuery {
  /** Only records after this seq (for `tail -f`), oldest first. */
  after?: number;
  /** Only records at or after this time (ms since the epoch). */
  since?: number;
  /** Only records by or about this capsule: actor or resource `capsule:<name>`, or `details.capsule` = name. */
  capsule?: string;
  /** At most this many (the newest ones unless `after` is given). */
  limit?: number;
}

export interface ShownRecord extends AuditRecord {
  hash: string;
}

export function matches(r: AuditRecord, q: TailQuery): boolean {
  if (q.since !== undefined && r.time < q.since) return false;
  if (q.capsule !== undefined) {
    const tag = `capsule:${q.capsule}`;
    if (r.actor !== tag && r.resource !== tag && r.details?.capsule !== q.capsule) return false;
  }
  return true;
}

/** The records matching `q`, oldest first. */
export async function tailRecords(store: Store, q: TailQuery): Promise<ShownRecord[]> {
  const limit = q.limit ?? 20;
  const out: ShownRecord[] = [];
  const forward = q.after !== undefined;
  const it = store
    .ns('audit')
    .iterator({ ...range(RECORD_PREFIX, forward ? (q.after as number) + 1 : 0), reverse: !forward });
  for await (const [key, value] of it) {
    const seq = keyNumber(key, RECORD_PREFIX);
    const { hash, bytes } = unpackRecord(value, seq);
    const r = decodeRecord(bytes);
    // Newest first when going backwards: stop once older than --since (times rise with seq).
    if (!forward && q.since !== undefined && r.time < q.since) break;
    if (matches(r, q)) out.push({ ...r, hash: toHex(hash) });
    if (out.length >= limit) break;
  }
  return forward ? out : out.reverse();
}

/** One stored record with its chain hash and canonical bytes. */
export async function readRecord(
  store: Store,
  seq: number,
): Promise<{ record: AuditRecord; hash: Uint8Array; bytes: Uint8Array }> {
  const value = await store.get('audit', recordKey(seq));
  if (!value) throw new ElastosError('E_NOT_FOUND', `no audit record ${seq}`);
  const { hash, bytes } = unpackRecord(value, seq);
  return { record: decodeRecord(bytes), hash, bytes };
}

/** `10m`, `2h`, `3d` before now, or an ISO date, as ms since the epoch; E_USAGE otherwise. */
export function parseSince(text: string, now = Date.now()): number {
  const m = /^(\d+)([smhd])$/.exec(text);
  if (m) return now - Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 's' | 'm' | 'h' | 'd'];
  const t = Date.parse(text);
  if (Number.isNaN(t)) throw new ElastosError('E_USAGE', `--since wants 10m, 2h, 3d or a date, not ${text}`);
  return t;
}
