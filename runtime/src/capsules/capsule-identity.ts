/**
 * Capsule identities (runtime/spec/token.md §2.1): `<publisher keyId>:<install id>` per installed
 * name, in memory for the broker's synchronous checks and kept in step by the CapsuleManager.
 * A name removed and installed again, by any publisher, gets a new install id: tokens bound to
 * the old identity never match it.
 */
import { randomBytes } from 'node:crypto';
import type { Store } from '../store/index.js';
import { allRecords, type IndexRecord } from './capsule-index.js';

/** The install id of records written before install ids existed. */
const LEGACY_INSTALL = '0'.repeat(32);

export const newInstallId = (): string => randomBytes(16).toString('hex');

export const identityOf = (r: IndexRecord): string => `${r.current.publisher}:${r.installId ?? LEGACY_INSTALL}`;

export class CapsuleIdentities {
  private readonly byName = new Map<string, string>();

  static async load(store: Store): Promise<CapsuleIdentities> {
    const ids = new CapsuleIdentities();
    for (const r of await allRecords(store)) ids.set(r);
    return ids;
  }

  get(name: string): string | undefined {
    return this.byName.get(name);
  }

  set(record: IndexRecord): void {
    this.byName.set(record.name, identityOf(record));
  }

  delete(name: string): void {
    this.byName.delete(name);
  }
}
