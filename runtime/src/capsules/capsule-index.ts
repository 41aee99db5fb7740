/**
 * The installed index (runtime/spec/capsule-package.md §7.2): store namespace `capsules`,
 * key = capsule name, value = UTF-8 JSON of an IndexRecord.
 */
import { ElastosError } from '../errors/index.js';
import type { BatchOp, Store } from '../store/index.js';

export interface IndexedVersion {
  id: string;
  version: string;
  publisher: string;
  installedAt: string;
}

export interface IndexRecord {
  name: string;
  current: IndexedVersion;
  /** The version `rollback` returns to; null when there is none. */
  previous: IndexedVersion | null;
  /**
   * 32 hex, random at the first install of the name, kept by its upgrades and rollbacks: with
   * the publisher, the capsule's identity in tokens (token.md §2.1). Absent in older records.
   */
  installId?: string;
}

function decodeRecord(name: string, bytes: Uint8Array): IndexRecord {
  try {
    const record = JSON.parse(new TextDecoder().decode(bytes)) as IndexRecord;
    if (record.name !== name || typeof record.current?.id !== 'string') throw new Error('bad shape');
    return record;
  } catch (cause) {
    throw new ElastosError('E_STORE_CORRUPT', `capsule index record ${name} does not decode`, { cause });
  }
}

export async function getRecord(store: Store, name: string): Promise<IndexRecord | undefined> {
  const bytes = await store.get('capsules', name);
  return bytes ? decodeRecord(name, bytes) : undefined;
}

export async function allRecords(store: Store): Promise<IndexRecord[]> {
  const out: IndexRecord[] = [];
  for await (const [name, bytes] of store.ns('capsules').iterator()) out.push(decodeRecord(name, bytes));
  return out;
}

export function putOp(store: Store, record: IndexRecord): BatchOp {
  const value = new TextEncoder().encode(JSON.stringify(record));
  return { type: 'put', sublevel: store.ns('capsules'), key: record.name, value } as BatchOp;
}

export function delOp(store: Store, name: string): BatchOp {
  return { type: 'del', sublevel: store.ns('capsules'), key: name } as BatchOp;
}
