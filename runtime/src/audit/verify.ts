/**
 * The verifier (runtime/spec/audit.md §9): walks the chain and the checkpoints, checks the
 * signatures and Merkle roots, and compares the checkpoint chain with the TPM anchor.
 * Throws an AuditFault naming the first bad sequence number.
 */

import { leafHash, merkleRoot } from '@elastos/protocol/audit/merkle';
import { GENESIS_HASH, sameBytes } from '@elastos/protocol/audit/record';
import { AuditFault } from '@elastos/verifier/audit/audit-fault';
import { type SignedCheckpoint, unpackCheckpoint } from '@elastos/verifier/audit/checkpoint';
import { AuditKeyring, KEY_EVENT } from '@elastos/verifier/audit/keyring';
import type { Store } from '../store/index.js';
import type { AnchorState, AuditAnchor } from './anchor.js';
import { AnchorFold } from './anchor-position.js';
import { readHead } from './audit-log.js';
import { type WalkedRecord, type WalkStart, walkChain } from './chain-walk.js';
import { CHECKPOINT_PREFIX, keyNumber, range } from './layout.js';
import { readPrune } from './prune.js';

export interface VerifyOptions {
  /**
   * Runtime public keys the caller trusts (may be none). A checkpoint signed by another key counts
   * only if an `audit.key` record introduced that key and the TPM anchor vouches for the chain (§6.1).
   */
  publicKeys: readonly Uint8Array[];
  /** The TPM anchor to compare with; without it the anchor checks are skipped (and reported so). */
  anchor?: AuditAnchor;
  onProgress?: (done: number, total: number) => void;
  /**
   * Checks of other state against the verified records `first..last` (e.g. the tokens', token.md
   * §8.3): each throws an AuditFault when the store holds less than the records say.
   */
  stateChecks?: ReadonlyArray<(store: Store, first: number, last: number) => Promise<object>>;
}

export interface VerifyReport {
  ok: true;
  /** First and last seq kept (first > 0 after pruning); last = -1 for an empty log. */
  first: number;
  last: number;
  records: number;
  checkpoints: number;
  /** Records after the last checkpoint: chained, not yet covered by a signed root. */
  unchecked: number;
  /** `anchored`, `pending` (the last checkpoints stored and signed, not yet in NV: §7.2), or `not-checked`. */
  anchor: 'anchored' | 'pending' | 'not-checked';
  /** Checkpoints not yet covered by the TPM anchor (absent when it was not checked). */
  unanchored?: number;
  tpmCounter?: number;
  /** The keyIds that signed the checkpoints, oldest first. */
  keys: string[];
  /** What each of `stateChecks` reported, in order. */
  state?: object[];
}

/**
 * Loads and checks the checkpoint chain: indices, links, signatures. Returns the good prefix and
 * the first fault (pointing at the bad checkpoint's `from`), which the caller reports only if no
 * record before it is bad.
 */
async function loadCheckpoints(
  store: Store,
  keyring: AuditKeyring,
): Promise<{ list: SignedCheckpoint[]; fault?: AuditFault }> {
  const list: SignedCheckpoint[] = [];
  for await (const [key, value] of store.ns('audit').iterator(range(CHECKPOINT_PREFIX))) {
    const prev = list[list.length - 1];
    const from = prev ? prev.body.to + 1 : 0;
    const at = (why: string) => new AuditFault('E_AUDIT_CHECKPOINT', from, `checkpoint ${list.length}: ${why}`);
    let c: SignedCheckpoint;
    try {
      c = unpackCheckpoint(value);
    } catch (err) {
      return { list, fault: at((err as Error).message) };
    }
    let why: string | undefined;
    if (keyNumber(key, CHECKPOINT_PREFIX) !== list.length || c.body.index !== list.length) why = 'out of sequence';
    else if (c.body.from !== from) why = `starts at ${c.body.from}, not right after the previous one`;
    else if (!sameBytes(c.body.prev, prev ? prev.hash : GENESIS_HASH)) why = 'does not link to the previous checkpoint';
    // A key the caller does not trust yet is checked during the walk, once its audit.key record is read.
    else if (keyring.isTrusted(c.body.keyId)) why = await keyring.check(c);
    if (why) return { list, fault: at(why) };
    list.push(c);
  }
  return { list };
}

/** Checks checkpoint `k` once its last record is read; true when only an introduced key signed it. */
async function closeCheckpoint(
  c: SignedCheckpoint,
  k: number,
  leaves: Uint8Array[],
  r: WalkedRecord,
  keyring: AuditKeyring,
): Promise<boolean> {
  const fault = (why: string) => new AuditFault('E_AUDIT_CHECKPOINT', c.body.from, `checkpoint ${k}: ${why}`);
  if (!sameBytes(merkleRoot(leaves), c.body.root))
    throw fault(`Merkle root does not match records ${c.body.from}..${c.body.to}`);
  if (!sameBytes(r.hash, c.body.head)) throw fault(`chain head does not match record ${c.body.to}`);
  if (keyring.isTrusted(c.body.keyId)) return false;
  const why = await keyring.check(c);
  if (why) throw fault(why);
  return true;
}

/**
 * Checks the records against the checkpoints' roots, heads and signatures. Returns the last seq
 * walked and the checkpoints that only an introduced key signed (the TPM anchor must vouch).
 */
async function walkAgainst(
  store: Store,
  start: WalkStart,
  cps: SignedCheckpoint[],
  options: VerifyOptions & { keyring: AuditKeyring },
  to?: number,
): Promise<{ last: number; relied: SignedCheckpoint[] }> {
  const total = (await readHead(store)).next - start.seq;
  let k = cps.findIndex((c) => c.body.to >= start.seq);
  if (k < 0) k = cps.length;
  // Pruned ranges: their audit.key records are gone, so only the anchor vouches for their keys.
  const relied = cps.slice(0, k).filter((c) => !options.keyring.isTrusted(c.body.keyId));
  let leaves: Uint8Array[] = [];
  let last = start.seq - 1;
  for await (const r of walkChain(store, start, to)) {
    last = r.seq;
    if (r.record.type === KEY_EVENT) await options.keyring.learn(r.record, cps[k - 1]?.hash ?? GENESIS_HASH);
    const c = cps[k];
    if (c) {
      leaves.push(leafHash(r.bytes));
      if (r.seq === c.body.to) {
        if (await closeCheckpoint(c, k, leaves, r, options.keyring)) relied.push(c);
        leaves = [];
        k++;
      }
    }
    if (options.onProgress && (r.seq - start.seq) % 1000 === 999) options.onProgress(r.seq - start.seq + 1, total);
  }
  const open = cps[k];
  if (open)
    throw new AuditFault(
      'E_AUDIT_TRUNCATED',
      last + 1,
      `records ${last + 1}..${open.body.to} are missing (checkpoint ${k} covers them)`,
    );
  options.onProgress?.(last - start.seq + 1, total);
  return { last, relied };
}

/**
 * Compares the TPM's extend value and counter with the checkpoint chain (§7, §9). Returns the
 * state and the first checkpoint NV does not cover yet (cps.length when it covers them all).
 */
function checkAnchor(cps: SignedCheckpoint[], state: AnchorState): { anchor: 'anchored' | 'pending'; open: number } {
  const fold = new AnchorFold();
  for (const c of cps) fold.add(c);
  const at = fold.locate(state);
  const lastC = cps[cps.length - 1];
  switch (at.kind) {
    case 'anchored':
      return { anchor: 'anchored', open: cps.length };
    case 'unincremented':
      return { anchor: 'pending', open: cps.length }; // extended, not yet incremented
    case 'open':
      return { anchor: 'pending', open: at.first }; // signed and stored, not yet anchored (§7.2)
    case 'behind':
      throw new AuditFault('E_AUDIT_CHECKPOINT', (cps[at.first] as SignedCheckpoint).body.from, at.why);
    case 'ahead':
      throw new AuditFault(
        'E_AUDIT_ROLLBACK',
        lastC ? lastC.body.to + 1 : 0,
        `${at.why} (TPM counter ${state.counter}): the store is an older copy`,
      );
  }
}

/** Where the kept chain starts: 0, or after the checkpoint that a prune kept (§8). */
async function walkStart(store: Store, cps: SignedCheckpoint[]): Promise<WalkStart> {
  const prune = await readPrune(store);
  if (!prune) return { seq: 0, prev: GENESIS_HASH };
  const c = cps[prune.checkpoint];
  if (!c || c.body.to + 1 !== prune.from)
    throw new AuditFault(
      'E_AUDIT_TRUNCATED',
      0,
      `records below ${prune.from} are gone without a checkpoint that ends there`,
    );
  return { seq: prune.from, prev: c.body.head };
}

/** Verifies the whole audit trail in `store`; throws an AuditFault at the first bad seq. */
export async function verifyAuditLog(store: Store, options: VerifyOptions): Promise<VerifyReport> {
  const keyring = new AuditKeyring(options.publicKeys);
  const { list: cps, fault } = await loadCheckpoints(store, keyring);
  const start = await walkStart(store, cps);
  const { last, relied } = await walkAgainst(
    store,
    start,
    cps,
    { ...options, keyring },
    fault ? fault.seq - 1 : undefined,
  );
  if (fault) throw fault;
  const state = options.anchor ? await options.anchor.read() : undefined;
  const checked = state ? checkAnchor(cps, state) : undefined;
  const anchor = checked ? checked.anchor : 'not-checked';
  // The anchor vouches for introduced keys only where it covers the checkpoint (not a pending one).
  const open = checked ? checked.open : 0;
  const unvouched = relied.find((c) => c.body.index >= open);
  if (unvouched)
    throw new AuditFault(
      'E_AUDIT_CHECKPOINT',
      unvouched.body.from,
      `checkpoint ${unvouched.body.index} is signed by key ${unvouched.body.keyId}, which only the TPM anchor could vouch for, and it does not: verify with the TPM, or trust that key`,
    );
  const lastC = cps[cps.length - 1];
  const report: VerifyReport = {
    ok: true,
    first: start.seq,
    last,
    records: last - start.seq + 1,
    checkpoints: cps.length,
    unchecked: last - (lastC ? lastC.body.to : -1),
    anchor,
    keys: [...new Set(cps.map((c) => c.body.keyId))],
  };
  if (state) report.tpmCounter = state.counter;
  if (checked) report.unanchored = cps.length - checked.open;
  if (options.stateChecks) report.state = [];
  for (const check of options.stateChecks ?? []) report.state?.push(await check(store, start.seq, last));
  return report;
}
