/**
 * Makes and anchors checkpoints (runtime/spec/audit.md §6-§7): every N records or T ms and at
 * close. Under one lock, in log order: store the signed checkpoint (synced), extend the TPM's
 * NV index with its hash, increment the NV counter. Appends never wait for the TPM.
 */

import { leafHash, merkleRoot } from '@elastos/protocol/audit/merkle';
import { GENESIS_HASH, toHex } from '@elastos/protocol/audit/record';
import { ElastosError } from '../errors/index.js';
import type { RuntimeKey } from '../keys/runtime-key.js';
import type { Store } from '../store/index.js';
import type { AuditAnchor } from './anchor.js';
import { reconcileAnchor } from './anchor-check.js';
import type { AuditLog, CommittedRecord } from './audit-log.js';
import {
  type CheckpointBody,
  packCheckpoint,
  type SignedCheckpoint,
  signCheckpoint,
  unpackCheckpoint,
} from './checkpoint.js';
import { CHECKPOINT_PREFIX, checkpointKey, lastEntry, RECORD_PREFIX, range, unpackRecord } from './layout.js';

export interface CheckpointOptions {
  key: RuntimeKey;
  /** The TPM anchor; absent only in the dev profile without a TPM (checkpoints are then unanchored). */
  anchor?: AuditAnchor;
  entries: number;
  ms: number;
  clock?: () => number;
  /** Told about a failed checkpoint or anchoring (the next one retries). */
  onError?: (err: ElastosError) => void;
}

/** A checkpoint as reported: only once it is stored and (with an anchor) anchored. */
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
  private pending = false;
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
    this.unsubscribe = log.onCommit((records) => this.committed(records));
  }

  /** Loads the last checkpoint, completes an interrupted anchoring, and follows `log`. */
  static async open(store: Store, log: AuditLog, options: CheckpointOptions): Promise<Checkpointer> {
    const stored = await lastEntry(store, CHECKPOINT_PREFIX);
    const last = stored ? unpackCheckpoint(stored.value) : undefined;
    let counter = 0;
    if (options.anchor) counter = await reconcileAnchor(store, options.anchor);
    const cp = new Checkpointer(store, log, options, last, last ? last.body.to + 1 : 0, counter);
    await cp.reload();
    return cp;
  }

  /** The last checkpoint stored (anchored unless a TPM failure left it pending). */
  get lastCheckpoint(): CheckpointInfo | undefined {
    return this.last ? checkpointInfo(this.last, !this.pending && this.options.anchor !== undefined) : undefined;
  }

  onAnchored(listener: (info: CheckpointInfo) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Checkpoints every record made durable so far; resolves once it is anchored (undefined: nothing new). */
  checkpoint(): Promise<CheckpointInfo | undefined> {
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

  /** Final checkpoint; stops following the log. */
  async close(): Promise<void> {
    this.unsubscribe();
    if (this.timer) clearTimeout(this.timer);
    await this.checkpoint();
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
    if (this.pending && anchor) {
      this.counter = await reconcileAnchor(this.store, anchor);
      this.pending = false;
    }
    if (this.stale) await this.reload();
    const count = this.leaves.length;
    if (count === 0) return undefined;
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
      time: (this.options.clock ?? Date.now)(),
      keyId: key.keyId,
    };
    const signed = await signCheckpoint(body, key);
    await this.store.put('audit', checkpointKey(body.index), packCheckpoint(signed), { sync: true });
    this.last = signed;
    this.leaves.splice(0, count);
    this.leavesFrom = body.to + 1;
    if (anchor) await this.anchor(anchor, signed);
    const info = checkpointInfo(signed, anchor !== undefined);
    for (const listener of this.listeners) {
      try {
        listener(info);
      } catch {
        // A listener's bug does not make an anchored checkpoint fail.
      }
    }
    return info;
  }

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
    this.pending = false;
  }
}
