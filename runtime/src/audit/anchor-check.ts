/**
 * The runtime's start against its TPM anchor (runtime/spec/audit.md §7.1): compare the stored
 * checkpoints with NV, verify in full whatever NV does not cover yet, and only then complete
 * its anchoring. Anything else that differs is refused: the runtime never anchors what it has
 * not checked, so the anchor vouches only for checkpoints a runtime holding the sealed key made.
 */

import { leafHash, merkleRoot } from '@elastos/protocol/audit/merkle';
import { GENESIS_HASH, sameBytes } from '@elastos/protocol/audit/record';
import { checkpointSignatureOk, type SignedCheckpoint, unpackCheckpoint } from '@elastos/verifier/audit/checkpoint';
import { ElastosError } from '../errors/index.js';
import type { RuntimeKey } from '../keys/runtime-key.js';
import type { Store } from '../store/index.js';
import type { AuditAnchor } from './anchor.js';
import { AnchorFold } from './anchor-position.js';
import { walkChain } from './chain-walk.js';
import { CHECKPOINT_PREFIX, keyNumber, RECORD_PREFIX, range, recordKey, unpackRecord } from './layout.js';
import { readPrune } from './prune.js';

/** What the start found: the stored checkpoints folded, and the TPM counter once NV covers them all. */
export interface ReconciledAnchor {
  fold: AnchorFold;
  counter: number;
}

const bad = (c: SignedCheckpoint | number, why: string) =>
  new ElastosError('E_AUDIT_CHECKPOINT', `checkpoint ${typeof c === 'number' ? c : c.body.index}: ${why}`);

/** Folds every stored checkpoint in order; one that does not decode or sits out of sequence is refused. */
export async function foldCheckpoints(store: Store): Promise<AnchorFold> {
  const fold = new AnchorFold();
  for await (const [key, value] of store.ns('audit').iterator(range(CHECKPOINT_PREFIX))) {
    let c: SignedCheckpoint;
    try {
      c = unpackCheckpoint(value);
    } catch (err) {
      throw bad(fold.count, (err as Error).message);
    }
    if (keyNumber(key, CHECKPOINT_PREFIX) !== fold.count || c.body.index !== fold.count)
      throw bad(fold.count, 'out of sequence');
    fold.add(c);
  }
  return fold;
}

/** Recomputes checkpoint `c`'s Merkle root and chain head from the stored records (§6). */
async function checkRecords(store: Store, c: SignedCheckpoint, prevHead: Uint8Array): Promise<void> {
  const leaves: Uint8Array[] = [];
  let head = prevHead;
  try {
    for await (const r of walkChain(store, { seq: c.body.from, prev: prevHead }, c.body.to)) {
      leaves.push(leafHash(r.bytes));
      head = r.hash;
    }
  } catch (err) {
    throw bad(c, `its records do not chain: ${(err as Error).message}`);
  }
  if (leaves.length !== c.body.count)
    throw new ElastosError(
      'E_AUDIT_TRUNCATED',
      `checkpoint ${c.body.index}: records ${c.body.from + leaves.length}..${c.body.to} are missing`,
    );
  if (!sameBytes(merkleRoot(leaves), c.body.root)) throw bad(c, 'Merkle root does not match its records');
  if (!sameBytes(head, c.body.head)) throw bad(c, 'chain head does not match its last record');
}

/**
 * Checks `run` (the checkpoints after `before`) in full before they are anchored: in sequence,
 * linked, signed by this runtime's key (the one the TPM unsealed), root and head recomputed from
 * the records.
 */
export async function checkUnanchored(
  store: Store,
  run: readonly SignedCheckpoint[],
  before: SignedCheckpoint | undefined,
  key: RuntimeKey,
): Promise<void> {
  const prune = await readPrune(store);
  let prev = before;
  for (const c of run) {
    if (c.body.from !== (prev ? prev.body.to + 1 : 0)) throw bad(c, 'does not start right after the previous one');
    if (!sameBytes(c.body.prev, prev ? prev.hash : GENESIS_HASH)) throw bad(c, 'does not link to the previous one');
    if (c.body.keyId !== key.keyId || !(await checkpointSignatureOk(c, key.publicKey)))
      throw bad(c, `not signed by this runtime's key ${key.keyId} (signed as ${c.body.keyId}): refusing to anchor it`);
    if (prune && prune.from > c.body.from)
      throw bad(c, `its records were pruned before it was anchored (pruned below ${prune.from})`);
    await checkRecords(store, c, prev ? prev.body.head : GENESIS_HASH);
    prev = c;
  }
}

/** Refuses a trail whose records stop short of its own last checkpoint (§7.1). */
export async function checkTrailReaches(store: Store, last: SignedCheckpoint | undefined): Promise<void> {
  if (!last) return;
  const prune = await readPrune(store);
  if (prune && prune.from > last.body.to) return; // everything it covers was pruned (§8)
  const value = await store.get('audit', recordKey(last.body.to));
  if (!value) {
    const it = store.ns('audit').iterator({ ...range(RECORD_PREFIX), reverse: true, limit: 1 });
    const end = await it.next().finally(() => it.close());
    const at = end ? keyNumber(end[0], RECORD_PREFIX) + 1 : 0;
    throw new ElastosError(
      'E_AUDIT_TRUNCATED',
      `the trail ends at seq ${at - 1} but checkpoint ${last.body.index} covers records up to ${last.body.to}: records were deleted`,
    );
  }
  if (!sameBytes(unpackRecord(value, last.body.to).hash, last.body.head))
    throw new ElastosError(
      'E_AUDIT_CHECKPOINT',
      `checkpoint ${last.body.index}: record ${last.body.to} is not the chain head it signed`,
    );
}

/**
 * Brings the TPM level with the store at start (§7.1): completes an interrupted increment, or
 * verifies and anchors the checkpoints after the last anchor point. Returns the folded
 * checkpoints and the TPM counter's value.
 */
export async function reconcileAnchor(store: Store, anchor: AuditAnchor, key: RuntimeKey): Promise<ReconciledAnchor> {
  const fold = await foldCheckpoints(store);
  await checkTrailReaches(store, fold.last);
  const state = await anchor.read();
  const at = fold.locate(state);
  switch (at.kind) {
    case 'anchored':
      return { fold, counter: state.counter };
    case 'unincremented':
      await anchor.increment(); // extended, then the runtime stopped before the increment
      return { fold, counter: state.counter + 1 };
    case 'open': {
      await checkUnanchored(store, fold.run, fold.beforeRun, key);
      const last = fold.last as SignedCheckpoint;
      await anchor.extend(last.hash);
      await anchor.increment();
      return { fold, counter: last.body.counter };
    }
    case 'behind':
      throw new ElastosError('E_AUDIT_CHECKPOINT', `the TPM anchor is behind the stored checkpoints: ${at.why}`);
    case 'ahead':
      throw new ElastosError('E_AUDIT_ROLLBACK', `${at.why}: the store is not the one the TPM anchored`);
  }
}
