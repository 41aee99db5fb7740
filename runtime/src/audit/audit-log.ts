/**
 * The append side of the audit trail (runtime/spec/audit.md §5): group commit of concurrent
 * appends into one synced store batch, failing closed with E_AUDIT_WRITE.
 */

import {
  chainHash,
  checkEvent,
  decodeRecord,
  encodeRecord,
  fromHex,
  GENESIS_HASH,
  HASH_BYTES,
  RECORD_VERSION,
  toHex,
} from '@elastos/protocol/audit/record';
import { unpackCheckpoint } from '@elastos/verifier/audit/checkpoint';
import { ElastosError } from '../errors/index.js';
import type { BatchOp, Store } from '../store/index.js';
import type { AuditEvent, AuditReceipt, AuditSink } from './audit-sink.js';
import { Checkpointer, type CheckpointOptions } from './checkpointer.js';
import { keyEvent } from './keyring.js';
import { checkpointKey, lastEntry, packRecord, RECORD_PREFIX, recordKey, unpackRecord } from './layout.js';
import { readPrune } from './prune.js';
import { packFlatRecord } from './record-encode.js';

/** The chain's head: the next sequence number and the hash of the record before it. */
export interface ChainHead {
  next: number;
  hash: Uint8Array;
}

/** A record made durable, as listeners (checkpoints, `tail -f`) see it. */
export interface CommittedRecord {
  seq: number;
  hash: Uint8Array;
  bytes: Uint8Array;
}

export interface AuditLogOptions {
  /** Milliseconds since the epoch; the runtime's clock. */
  clock?: () => number;
  /** Most records in one synced batch. */
  maxBatch?: number;
  /** Signed, TPM-anchored checkpoints (spec §6-§7); without them the log is a bare chain. */
  checkpoints?: CheckpointOptions;
}

interface Pending {
  event: AuditEvent;
  ops: BatchOp[];
  time: number;
  resolve: (receipt: AuditReceipt) => void;
  reject: (err: Error) => void;
}

/** A batch handed to the store; `write` resolves with the failure, or undefined once durable. */
interface InFlight {
  done: Pending[];
  records: CommittedRecord[];
  write: Promise<unknown>;
}

/** The stored value of one record (spec §4); throws a TypeError for an event the verifier would reject. */
function pack(event: AuditEvent, seq: number, time: number, prev: Uint8Array) {
  checkEvent(event); // never write what the verifier's decodeRecord would reject
  const flat = event.details === undefined ? packFlatRecord(event, RECORD_VERSION, seq, time, prev) : undefined;
  if (flat) return flat;
  const bytes = encodeRecord({ ...event, v: RECORD_VERSION, seq, time });
  const hash = chainHash(prev, bytes);
  const value = packRecord(hash, bytes);
  return { value, bytes: value.subarray(HASH_BYTES), hash };
}

/**
 * Within one atomic batch only the last write to a key is ever visible, so earlier writes to
 * the same key (a token's use count, once per use) are dropped; the batch means the same.
 */
export function lastWriteWins(ops: BatchOp[]): BatchOp[] {
  const seen = new Map<unknown, Set<string>>();
  const kept: BatchOp[] = [];
  for (let i = ops.length - 1; i >= 0; i--) {
    const op = ops[i] as BatchOp;
    let keys = seen.get(op.sublevel);
    if (!keys) {
      keys = new Set();
      seen.set(op.sublevel, keys);
    }
    if (keys.has(op.key)) continue;
    keys.add(op.key);
    kept.push(op);
  }
  return kept.length === ops.length ? ops : kept.reverse();
}

/** Reads the head of the chain from the store: after the last stored record, else genesis. */
export async function readHead(store: Store): Promise<ChainHead> {
  const last = await lastEntry(store, RECORD_PREFIX);
  if (!last) {
    const prune = await readPrune(store);
    if (!prune) return { next: 0, hash: GENESIS_HASH };
    // Everything was pruned: the chain goes on from the head of the checkpoint kept (spec §8).
    const c = await store.get('audit', checkpointKey(prune.checkpoint));
    if (!c)
      throw new ElastosError(
        'E_AUDIT_TRUNCATED',
        `pruned below ${prune.from} but checkpoint ${prune.checkpoint} is gone`,
      );
    return { next: prune.from, hash: unpackCheckpoint(c).body.head };
  }
  const { hash, bytes } = unpackRecord(last.value, last.n);
  const record = decodeRecord(bytes);
  if (record.seq !== last.n) throw new ElastosError('E_AUDIT_CHAIN', `record ${last.n} carries seq ${record.seq}`);
  return { next: last.n + 1, hash };
}

/**
 * The runtime's AuditSink. Appends made while a synced batch is in flight wait and go together
 * in the next one (group commit). A failed batch rejects every waiter with E_AUDIT_WRITE and
 * the head is re-read from the store before the next batch, so there is no gap or fork.
 */
export class AuditLog implements AuditSink {
  private queue: Pending[] = [];
  private draining: Promise<void> | undefined;
  private scheduled = false;
  private stale = false;
  private closed = false;
  private readonly listeners = new Set<(records: CommittedRecord[]) => void>();
  private readonly clock: () => number;
  private readonly maxBatch: number;
  /** Present when the log was opened with `checkpoints`. */
  checkpoints: Checkpointer | undefined;

  private constructor(
    readonly store: Store,
    private headState: ChainHead,
    options: AuditLogOptions,
  ) {
    this.clock = options.clock ?? Date.now;
    this.maxBatch = options.maxBatch ?? 4096;
  }

  static async open(store: Store, options: AuditLogOptions = {}): Promise<AuditLog> {
    const log = new AuditLog(store, await readHead(store), options);
    if (options.checkpoints) {
      const cp = await Checkpointer.open(store, log, options.checkpoints);
      log.checkpoints = cp;
      // A new runtime key (first start, or after `provision --reseal`) is introduced before it signs (§6.1).
      const last = cp.lastCheckpoint;
      const key = options.checkpoints.key;
      if (last?.keyId !== key.keyId)
        await log.append(await keyEvent(key, last?.keyId, last ? fromHex(last.hash) : GENESIS_HASH));
    }
    return log;
  }

  get head(): ChainHead {
    return { next: this.headState.next, hash: this.headState.hash };
  }

  /** Runs `fn` while no checkpoint is being made (verification, pruning). */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.checkpoints ? this.checkpoints.exclusive(fn) : fn();
  }

  /** Called after each durable batch, in log order. */
  onCommit(listener: (records: CommittedRecord[]) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  append(event: AuditEvent, ops: BatchOp[] = []): Promise<AuditReceipt> {
    if (this.closed) return Promise.reject(new ElastosError('E_AUDIT_WRITE', 'the audit log is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ event, ops, time: this.clock(), resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once everything appended so far has been written (or refused). */
  async flush(): Promise<void> {
    while (this.queue.length > 0 || this.draining || this.scheduled) {
      if (this.draining) await this.draining;
      else await new Promise((r) => setImmediate(r));
    }
  }

  /**
   * Refuses new appends, waits for the ones already made, then makes the final checkpoint.
   * The store stays open (its owner closes it).
   */
  async close(): Promise<void> {
    this.closed = true;
    await this.flush();
    await this.checkpoints?.close();
  }

  private schedule(): void {
    if (this.scheduled || this.draining) return;
    this.scheduled = true;
    // A microtask gathers every append made in the same tick into the first batch.
    queueMicrotask(() => {
      this.scheduled = false;
      if (this.draining) return;
      this.draining = this.drain().finally(() => {
        this.draining = undefined;
        // An append made between the loop's last check and here must not be stranded.
        if (this.queue.length > 0) this.schedule();
      });
    });
  }

  /**
   * One synced batch in flight at a time (spec §5), so batches reach the disk in log order.
   * When batch N is durable, batch N+1 is handed to the store before N's waiters are answered:
   * the disk syncs N+1 while the answers of N go out, and no answer precedes its own sync.
   */
  private async drain(): Promise<void> {
    let current = await this.start();
    while (current) {
      const failed = await current.write;
      if (failed) {
        // The batch may or may not be on disk: trust only what the store says next time.
        this.stale = true;
        this.refuse(current.done, failed);
      } else {
        const last = current.records[current.records.length - 1] as CommittedRecord;
        this.headState = { next: last.seq + 1, hash: last.hash };
      }
      const next = await this.start();
      if (!failed) this.settle(current);
      current = next;
    }
  }

  /** Takes the next batch off the queue and starts its synced write; undefined once the queue is empty. */
  private async start(): Promise<InFlight | undefined> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      try {
        if (this.stale) {
          this.headState = await readHead(this.store);
          this.stale = false;
        }
      } catch (cause) {
        this.refuse(batch, cause);
        continue;
      }
      const { ops, done, records } = this.build(batch);
      if (done.length === 0) continue;
      const write = this.store.batch(ops, { sync: true }).then(
        () => undefined,
        (cause: unknown) => cause ?? new Error('store write failed'),
      );
      return { done, records, write };
    }
    return undefined;
  }

  /** Answers the waiters of a durable batch, then tells the listeners, in log order. */
  private settle({ done, records }: InFlight): void {
    done.forEach((p, i) => {
      const r = records[i] as CommittedRecord;
      p.resolve({ seq: r.seq, hash: toHex(r.hash) });
    });
    for (const listener of this.listeners) {
      try {
        listener(records);
      } catch {
        // A listener's bug must not undo what is durable; the checkpointer re-reads the store if it missed it.
      }
    }
  }

  /** Chains the batch onto the head; an event that does not encode is refused alone. */
  private build(batch: Pending[]): { ops: BatchOp[]; done: Pending[]; records: CommittedRecord[] } {
    const sub = this.store.ns('audit');
    const ops: BatchOp[] = [];
    const done: Pending[] = [];
    const records: CommittedRecord[] = [];
    let { next, hash } = this.headState;
    let extra = 0;
    for (const p of batch) {
      let packed: { value: Uint8Array; bytes: Uint8Array; hash: Uint8Array };
      try {
        packed = pack(p.event, next, p.time, hash);
      } catch (cause) {
        p.reject(
          new ElastosError('E_AUDIT_WRITE', `audit event does not encode: ${(cause as Error).message}`, { cause }),
        );
        continue;
      }
      hash = packed.hash;
      ops.push({ type: 'put', sublevel: sub, key: recordKey(next), value: packed.value });
      for (const op of p.ops) ops.push(op);
      extra += p.ops.length;
      records.push({ seq: next, hash, bytes: packed.bytes });
      done.push(p);
      next++;
    }
    // Dropping an earlier write never changes what the batch leaves; with one caller op there is none to drop.
    return { ops: extra > 1 ? lastWriteWins(ops) : ops, done, records };
  }

  private refuse(batch: Pending[], cause: unknown): void {
    const why = cause instanceof Error ? cause.message : String(cause);
    for (const p of batch) p.reject(new ElastosError('E_AUDIT_WRITE', `audit record not durable: ${why}`, { cause }));
  }
}
