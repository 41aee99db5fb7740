/**
 * Retention (runtime/spec/audit.md §8): records may be deleted only below a checkpoint, so the
 * checkpoint chain and its TPM anchor still verify and the kept chain starts at a signed head.
 */

import { type SignedCheckpoint, unpackCheckpoint } from '@elastos/verifier/audit/checkpoint';
import { decode, encode, rfc8949EncodeOptions } from 'cborg';
import { ElastosError } from '../errors/index.js';
import type { BatchOp, Store } from '../store/index.js';
import type { AuditSink } from './audit-sink.js';
import { CHECKPOINT_PREFIX, PRUNE_KEY, RECORD_PREFIX, range } from './layout.js';

export interface PruneMarker {
  /** The first seq kept. */
  from: number;
  /** The checkpoint whose `to + 1` is `from`; its `head` is the kept chain's previous hash. */
  checkpoint: number;
}

export async function readPrune(store: Store): Promise<PruneMarker | undefined> {
  const value = await store.get('audit', PRUNE_KEY);
  if (!value) return undefined;
  let m: unknown;
  try {
    m = decode(value, { strict: true });
  } catch {
    m = undefined;
  }
  const p = m as Partial<PruneMarker> | undefined;
  if (!p || !Number.isSafeInteger(p.from) || !Number.isSafeInteger(p.checkpoint))
    throw new ElastosError('E_STORE_CORRUPT', 'the audit prune marker does not decode');
  return { from: p.from as number, checkpoint: p.checkpoint as number };
}

/** The checkpoint that ends right below `below`, or undefined. */
async function checkpointEndingBelow(store: Store, below: number): Promise<SignedCheckpoint | undefined> {
  for await (const [, value] of store.ns('audit').iterator(range(CHECKPOINT_PREFIX))) {
    const c = unpackCheckpoint(value);
    if (c.body.to + 1 === below) return c;
    if (c.body.to + 1 > below) return undefined;
  }
  return undefined;
}

/** The checkpointer's side that a prune needs: how far NV reaches, and a way to anchor now. */
interface Anchoring {
  readonly anchoredThrough: number | undefined;
  checkpoint(anchor: boolean): Promise<unknown>;
}

/**
 * Prunes through a log and records who pruned what (the trail keeps a trace of its own retention).
 * Anchors first when the range is not in NV yet: a start must be able to recompute every
 * checkpoint NV does not cover (§7.1), so their records are never pruned.
 */
export async function pruneAndAudit(
  log: AuditSink & { exclusive<T>(fn: () => Promise<T>): Promise<T>; store: Store; checkpoints?: Anchoring },
  below: number,
  actor: string,
): Promise<{ from: number; deleted: number }> {
  const through = log.checkpoints?.anchoredThrough;
  if (through !== undefined && below - 1 > through) await log.checkpoints?.checkpoint(true);
  const done = await log.exclusive(() => pruneAudit(log.store, below, log.checkpoints?.anchoredThrough));
  await log.append({ actor, type: 'audit.prune', details: { below: done.from, deleted: done.deleted } });
  return done;
}

/**
 * Deletes the records below `below`, which must be `to + 1` of a stored checkpoint, and at most
 * `anchoredThrough + 1` when the log is anchored (else E_AUDIT_PRUNE). The marker is written first, so a crash mid-way leaves only stale records
 * below it, which a second prune removes.
 */
export async function pruneAudit(
  store: Store,
  below: number,
  anchoredThrough?: number,
): Promise<{ from: number; deleted: number }> {
  if (!Number.isSafeInteger(below) || below < 1) throw new ElastosError('E_AUDIT_PRUNE', `cannot prune below ${below}`);
  if (anchoredThrough !== undefined && below - 1 > anchoredThrough)
    throw new ElastosError('E_AUDIT_PRUNE', `records up to ${below - 1} are not anchored in the TPM yet`);
  const c = await checkpointEndingBelow(store, below);
  if (!c) throw new ElastosError('E_AUDIT_PRUNE', `no checkpoint ends at ${below - 1}: prune only below a checkpoint`);
  const current = await readPrune(store);
  if (current && current.from > below) throw new ElastosError('E_AUDIT_PRUNE', `already pruned below ${current.from}`);
  const marker: PruneMarker = { from: below, checkpoint: c.body.index };
  await store.put('audit', PRUNE_KEY, encode(marker, rfc8949EncodeOptions), { sync: true });
  let deleted = 0;
  let ops: BatchOp[] = [];
  const sub = store.ns('audit');
  for await (const key of sub.keys(range(RECORD_PREFIX, 0, below - 1))) {
    ops.push({ type: 'del', sublevel: sub, key });
    if (ops.length === 10_000) {
      await store.batch(ops, { sync: true });
      deleted += ops.length;
      ops = [];
    }
  }
  if (ops.length > 0) await store.batch(ops, { sync: true });
  deleted += ops.length;
  return { from: below, deleted };
}
