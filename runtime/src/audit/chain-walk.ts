/**
 * Walks the stored records in order and checks the hash chain (runtime/spec/audit.md §3, §9):
 * every seq present once and in order, each stored hash = SHA-256(previous hash ‖ bytes).
 */

import { type AuditRecord, chainHash, decodeRecord, sameBytes } from '@elastos/protocol/audit/record';
import { AuditFault } from '@elastos/verifier/audit/audit-fault';
import type { Store } from '../store/index.js';
import { keyNumber, RECORD_PREFIX, range, unpackRecord } from './layout.js';

export interface WalkedRecord {
  seq: number;
  hash: Uint8Array;
  bytes: Uint8Array;
  record: AuditRecord;
}

export interface WalkStart {
  /** The first seq expected (0, or the first kept after pruning). */
  seq: number;
  /** The chain hash before it (genesis, or the head of the checkpoint the prune kept). */
  prev: Uint8Array;
}

const chainError = (seq: number, why: string) => new AuditFault('E_AUDIT_CHAIN', seq, `record ${why}`);

/** Decodes one stored record, naming its seq on failure. */
function checkRecord(seq: number, value: Uint8Array, prev: Uint8Array): WalkedRecord {
  let stored: ReturnType<typeof unpackRecord>;
  let record: AuditRecord;
  try {
    stored = unpackRecord(value, seq);
    record = decodeRecord(stored.bytes);
  } catch (err) {
    throw chainError(seq, `does not decode (${(err as Error).message})`);
  }
  if (record.seq !== seq) throw chainError(seq, `carries seq ${record.seq}`);
  const hash = chainHash(prev, stored.bytes);
  if (!sameBytes(hash, stored.hash)) throw chainError(seq, 'hash does not match its content and predecessor');
  return { seq, hash: stored.hash, bytes: stored.bytes, record };
}

/**
 * Yields each record after checking it; throws E_AUDIT_CHAIN (with `seq`) at the first record
 * that is modified, out of place, or after a gap (the gap's first missing seq is reported).
 */
export async function* walkChain(store: Store, start: WalkStart, to?: number): AsyncGenerator<WalkedRecord> {
  let expect = start.seq;
  let prev = start.prev;
  for await (const [key, value] of store.ns('audit').iterator(range(RECORD_PREFIX, start.seq, to))) {
    const seq = keyNumber(key, RECORD_PREFIX);
    if (seq < 0) throw chainError(expect, `stray key ${key} in the audit namespace`);
    if (seq > expect) throw chainError(expect, `missing (the next stored record is ${seq})`);
    const walked = checkRecord(seq, value, prev);
    yield walked;
    prev = walked.hash;
    expect = seq + 1;
  }
}
