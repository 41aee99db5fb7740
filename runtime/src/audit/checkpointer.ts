/**
 * Makes and anchors checkpoints (runtime/spec/audit.md §6-§7): a signed checkpoint every N
 * records or T ms; an NV anchoring at most every `anchorMs` (the NV write budget, §7.2), on
 * demand, and at close. Under one lock, in log order: store the signed checkpoint (synced),
 * then, when an anchoring is due, extend the TPM's NV index with its hash and increment the NV
 * counter. Appends never wait for the TPM.
 */

import { leafHash, merkleRoot } from '@elastos/protocol/audit/merkle';
import { GENESIS_HASH, toHex } from '@elastos/protocol/audit/record';
import { type CheckpointBody, packCheckpoint, type SignedCheckpoint } from '@elastos/verifier/audit/checkpoint';
import { ElastosError } from '../errors/index.js';
import type { RuntimeKey } from '../keys/runtime-key.js';
import type { Store } from '../store/index.js';
import type { AuditAnchor } from './anchor.js';
import { checkTrailReaches, foldCheckpoints, reconcileAnchor } from './anchor-check.js';
import type { AuditLog, CommittedRecord } from './audit-log.js';
import { signCheckpoint } from './checkpoint.js';
import { checkpointKey, RECORD_PREFIX, range, unpackRecord } from './layout.js';

export interface CheckpointOptions {
  key: RuntimeKey;
  /** The TPM anchor; absent only in the dev profile without a TPM (checkpoints are then unanchored). */
  anchor?: AuditAnchor;
  entries: number;
  ms: number;
  /**
   * Least time between two NV anchorings (config `audit.anchorMs`, §7.2); 0 anchors every
   * checkpoint. A checkpoint asked for with `anchor` and the one at close are always anchored.
   */
  anchorMs?: number;
  clock?: () => number;
  /** Told about a failed checkpoint or anchoring (the next one retries). */
  onError?: (err: ElastosError) => void;
}

/** A checkpoint as reported once it is stored; `anchored` once NV covers it. */
export interface CheckpointInfo {
  index: number;
  from: number;
  to: number;
  count: number;
  root: string;
  head: string;
  hash: string;
  counter: number;
  keyId: string;
  anchored: boolean;
}

export const checkpointInfo = (c: SignedCheckpoint, anchored: boolean): CheckpointInfo => ({
  index: c.body.index,
  from: c.body.from,
  to: c.body.to,
  count: c.body.count,
  root: toHex(c.body.root),
  head: toHex(c.body.head),
  hash: toHex(c.hash),
  counter: c.body.counter,
  keyId: c.body.keyId,
  anchored,
});

export class Checkpointer {
  private leaves: Uint8Array[] = [];
  private headHash: Uint8Array = GENESIS_HASH;
  private lock: Promise<unknown> = Promise.resolve();
  private queued: Promise<CheckpointInfo | undefined> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private anchorTimer: NodeJS.Timeout | undefined;
  /** An anchoring failed part-way: the TPM's state must be read back before the next one. */
  private pending = false;
  private forceAnchor = false;
  /** The last checkpoint NV covers, and when it was anchored (the runtime's clock). */
  private anchored: SignedCheckpoint | undefined;
  private anchoredAt: number;
  private stale = false;
  /** Commits that arrive while the leaves are re-read from the store. */
  private during: CommittedRecord[] | undefined;
  private readonly listeners = new Set<(info: CheckpointInfo) => void>();
  private readonly unsubscribe: () => void;

  private constructor(
    private readonly store: Store,
    private readonly log: AuditLog,
    private readonly options: CheckpointOptions,
    private last: SignedCheckpoint | undefined,
    private leavesFrom: number,
    private counter: number,
  ) {
    this.anchored = options.anchor ? last : undefined;
    this.anchoredAt = this.now();
    this.unsubscribe = log.onCommit((records) => this.committed(records));
  }

  /**
   * Loads the checkpoints, refuses a trail cut short of its last one, verifies and anchors what
   * NV does not cover yet (§7.1), and follows `log`.
   */
  static async open(store: Store, log: AuditLog, options: CheckpointOptions): Promise<Checkpointer> {
    let last: SignedCheckpoint | undefined;
    let counter = 0;
    if (options.anchor) {
      const reconciled = await reconcileAnchor(store, options.anchor, options.key);
      last = reconciled.fold.last;
      counter = reconciled.counter;
    } else {
      last = (await foldCheckpoints(store)).last;
      await checkTrailReaches(store, last);
    }
    const cp = new Checkpointer(store, log, options, last, last ? last.body.to + 1 : 0, counter);
    await cp.reload();
    return cp;
  }

  /** The last checkpoint stored (anchored once NV covers it). */
  get lastCheckpoint(): CheckpointInfo | undefined {
    return this.last ? checkpointInfo(this.last, this.isAnchored(this.last)) : undefined;
  }

  /** The last seq NV covers (records up to it may be pruned, §8); -1 when none; undefined without a TPM. */
  get anchoredThrough(): number | undefined {
    if (!this.options.anchor) return undefined;
    return this.anchored ? this.anchored.body.to : -1;
  }

  /** Told each checkpoint once stored (anchored or not), and again when a later anchoring covers it. */
  onCheckpoint(listener: (info: CheckpointInfo) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Checkpoints every record made durable so far; with `anchor`, also anchors it in NV now.
   * Resolves with the checkpoint once stored (and anchored when due); undefined: nothing new.
   */
  checkpoint(anchor = false): Promise<CheckpointInfo | undefined> {
    if (anchor) this.forceAnchor = true;
    if (this.queued) return this.queued;
    const run = this.lock.then(() => {
      this.queued = undefined;
      return this.make();
    });
    this.queued = run;
    this.lock = run.catch((err: unknown) => this.options.onError?.(err as ElastosError));
    return run;
  }

  /** Runs `fn` under the checkpoint lock: no checkpoint is stored or anchored meanwhile. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.lock.then(fn);
    this.lock = run.catch(() => {});
    return run;
  }

  /** Final checkpoint, anchored (an orderly stop leaves nothing for a power cut to lose); stops following the log. */
  async close(): Promise<void> {
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    if (this.anchorTimer) clearTimeout(this.anchorTimer);
    this.closing = true;
    await this.checkpoint(true);
  }

  private closing = false;

  private now(): number {
    return (this.options.clock ?? Date.now)();
  }

  private isAnchored(c: SignedCheckpoint): boolean {
    return this.anchored !== undefined && this.anchored.body.index >= c.body.index;
  }

  private committed(records: CommittedRecord[]): void {
    const first = records[0];
    if (!first) return;
    if (this.during) {
      this.during.push(...records);
      return;
    }
    // A batch reported failed may have reached the disk after all: re-read the range then.
    if (first.seq !== this.leavesFrom + this.leaves.length) this.stale = true;
    for (const r of records) this.leaves.push(leafHash(r.bytes));
    this.headHash = (records[records.length - 1] as CommittedRecord).hash;
    if (this.leaves.length >= this.options.entries) void this.checkpoint().catch(() => {});
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.checkpoint().catch(() => {}), this.options.ms);
      this.timer.unref();
    }
  }

  /** Rebuilds the leaves of the unchecked range from the store. */
  private async reload(): Promise<void> {
    const next = this.log.head.next;
    const leaves: Uint8Array[] = [];
    let head = this.last ? this.last.body.head : GENESIS_HASH;
    this.during = [];
    let ok = false;
    try {
      for await (const [, value] of this.store.ns('audit').iterator(range(RECORD_PREFIX, this.leavesFrom, next - 1))) {
        const r = unpackRecord(value, this.leavesFrom + leaves.length);
        leaves.push(leafHash(r.bytes));
        head = r.hash;
      }
      ok = true;
    } finally {
      const during = this.during;
      this.during = undefined;
      this.leaves = leaves;
      this.headHash = head;
      this.stale = !ok; // a failed read is retried by the next checkpoint
      this.committed(during.filter((r) => r.seq >= next));
    }
  }

  private async make(): Promise<CheckpointInfo | undefined> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const { anchor, key } = this.options;
    const force = this.forceAnchor;
    this.forceAnchor = false;
    if (this.pending && anchor) await this.recover(anchor);
    if (this.stale) await this.reload();
    const count = this.leaves.length;
    if (count === 0) {
      // Nothing new, but the last checkpoint may still wait for its anchoring.
      if (!anchor || !this.last || this.isAnchored(this.last) || !(force || this.anchorDue())) return undefined;
      await this.anchor(anchor, this.last);
      return this.report(this.last);
    }
    const body: CheckpointBody = {
      v: 1,
      index: this.last ? this.last.body.index + 1 : 0,
      from: this.leavesFrom,
      to: this.leavesFrom + count - 1,
      count,
      root: merkleRoot(this.leaves.slice(0, count)),
      head: this.headHash,
      prev: this.last ? this.last.hash : GENESIS_HASH,
      counter: anchor ? this.counter + 1 : 0,
      time: this.now(),
      keyId: key.keyId,
    };
    const signed = await signCheckpoint(body, key);
    await this.store.put('audit', checkpointKey(body.index), packCheckpoint(signed), { sync: true });
    this.last = signed;
    this.leaves.splice(0, count);
    this.leavesFrom = body.to + 1;
    if (anchor && (force || this.anchorDue())) await this.anchor(anchor, signed);
    else if (anchor) this.scheduleAnchor();
    return this.report(signed);
  }

  private report(c: SignedCheckpoint): CheckpointInfo {
    const info = checkpointInfo(c, this.isAnchored(c));
    for (const listener of this.listeners) {
      try {
        listener(info);
      } catch {
        // A listener's bug does not make a stored checkpoint fail.
      }
    }
    return info;
  }

  private anchorDue(): boolean {
    return this.closing || this.now() - this.anchoredAt >= (this.options.anchorMs ?? 0);
  }

  /** Anchors the last checkpoint once `anchorMs` has passed since the last anchoring, records or not. */
  private scheduleAnchor(): void {
    if (this.anchorTimer) return;
    const wait = Math.max(0, this.anchoredAt + (this.options.anchorMs ?? 0) - this.now());
    this.anchorTimer = setTimeout(() => {
      this.anchorTimer = undefined;
      void this.checkpoint(true).catch(() => {});
    }, wait);
    this.anchorTimer.unref();
  }

  /** After a failed anchoring: read the TPM back and complete it, exactly as a start does (§7.1). */
  private async recover(anchor: AuditAnchor): Promise<void> {
    const { fold, counter } = await reconcileAnchor(this.store, anchor, this.options.key);
    this.counter = counter;
    this.anchored = fold.last;
    this.anchoredAt = this.now();
    this.pending = false;
  }

  /** NV_Extend with the checkpoint's hash, then NV_Increment: it and every checkpoint it links back to are anchored. */
  private async anchor(anchor: AuditAnchor, signed: SignedCheckpoint): Promise<void> {
    this.pending = true;
    try {
      await anchor.extend(signed.hash);
      await anchor.increment();
    } catch (cause) {
      throw new ElastosError(
        'E_TPM_COMMAND',
        `checkpoint ${signed.body.index} stored but not anchored: ${(cause as Error).message}`,
        { cause },
      );
    }
    this.counter = signed.body.counter;
    this.anchored = signed;
    this.anchoredAt = this.now();
    this.pending = false;
    if (this.anchorTimer) clearTimeout(this.anchorTimer);
    this.anchorTimer = undefined;
  }
}
