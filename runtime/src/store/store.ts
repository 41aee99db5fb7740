import { mkdirSync } from 'node:fs';
import type { AbstractBatchOperation, AbstractLevel, AbstractSublevel } from 'abstract-level';
import { ClassicLevel } from 'classic-level';
import { ElastosError } from '../errors/index.js';

/** The store's namespaces; each is an abstract-level sublevel with binary values. */
export const NAMESPACES = ['capsules', 'tokens', 'counters', 'audit', 'meta'] as const;
export type Namespace = (typeof NAMESPACES)[number];

type Db = AbstractLevel<string | Uint8Array, string, Uint8Array>;
export type Sublevel = AbstractSublevel<Db, string | Uint8Array, string, Uint8Array>;
export type BatchOp = AbstractBatchOperation<Db, string, Uint8Array>;

/** Makes the backing database; classic-level by default, any abstract-level (e.g. rocks-level) fits. */
export type BackendFactory = (location: string) => Db;

const classicBackend: BackendFactory = (location) =>
  new ClassicLevel<string, Uint8Array>(location, { keyEncoding: 'utf8', valueEncoding: 'view' }) as unknown as Db;

/**
 * One store over an abstract-level database, opened once, closed cleanly.
 * Writes that acknowledge something (audit, use counters) pass `sync: true`.
 */
export class Store {
  private readonly subs = new Map<Namespace, Sublevel>();

  private constructor(readonly db: Db) {
    for (const name of NAMESPACES) {
      this.subs.set(name, db.sublevel<string, Uint8Array>(name, { keyEncoding: 'utf8', valueEncoding: 'view' }));
    }
  }

  static async open(location: string, backend: BackendFactory = classicBackend): Promise<Store> {
    mkdirSync(location, { recursive: true, mode: 0o700 });
    const db = backend(location);
    try {
      await db.open();
    } catch (cause) {
      const inner = (cause as { cause?: { code?: string } }).cause?.code;
      const why = inner === 'LEVEL_LOCKED' ? 'it is locked by another process' : (cause as Error).message;
      throw new ElastosError('E_STORE_OPEN', `cannot open store at ${location}: ${why}`, { cause });
    }
    return new Store(db);
  }

  get isOpen(): boolean {
    return this.db.status === 'open';
  }

  ns(name: Namespace): Sublevel {
    const sub = this.subs.get(name);
    if (!sub) throw new RangeError(`unknown namespace ${name}`);
    return sub;
  }

  async get(name: Namespace, key: string): Promise<Uint8Array | undefined> {
    this.assertOpen();
    return this.ns(name).get(key);
  }

  async put(name: Namespace, key: string, value: Uint8Array, options: { sync?: boolean } = {}): Promise<void> {
    await this.batch([{ type: 'put', sublevel: this.ns(name), key, value }], options);
  }

  async del(name: Namespace, key: string, options: { sync?: boolean } = {}): Promise<void> {
    await this.batch([{ type: 'del', sublevel: this.ns(name), key }], options);
  }

  /** Atomic across namespaces; with `sync` the batch is on disk before the promise resolves. */
  async batch(ops: BatchOp[], options: { sync?: boolean } = {}): Promise<void> {
    this.assertOpen();
    try {
      await this.db.batch(ops as never, { sync: options.sync === true } as never);
    } catch (cause) {
      throw new ElastosError('E_STORE_WRITE', `store write failed: ${(cause as Error).message}`, { cause });
    }
  }

  async close(): Promise<void> {
    if (this.db.status === 'open' || this.db.status === 'opening') await this.db.close();
  }

  private assertOpen(): void {
    if (this.db.status !== 'open') throw new ElastosError('E_STORE_CLOSED');
  }
}
