/**
 * Changes to the trust store, audited: through the running runtime (`trust.add|remove|list` on
 * the admin socket) or, with the runtime stopped, by the CLI on the store's chain (an offline
 * record, checkpointed at the next start). The trust store is measured at boot, so each change
 * says what happens next: the sealed key no longer unseals until `provision --reseal`.
 */
import type { AdminServer } from '../admin/index.js';
import type { AuditSink } from '../audit/audit-sink.js';
import { ElastosError } from '../errors/index.js';
import { addTrustedKey, loadTrustStore, publicKeyEntry, removeTrustedKey, type TrustedKey } from './trust-store.js';

export const RESEAL_NEXT =
  'the trust store is measured at boot: the next start of the runtime refuses with E_TPM_PCR_MISMATCH until `elastos provision --reseal` (runtime stopped)';

export interface TrustChange {
  keyId: string;
  name?: string;
  file?: string;
  /** What the admin must do before the next start. */
  next: string;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Audits, then writes `<keyId>.pub` (a change that cannot be audited does not happen). */
export async function trustKey(dir: string, key: TrustedKey, audit: AuditSink, actor: string): Promise<TrustChange> {
  const details = { name: key.name, publicKey: hex(key.publicKey), trustDir: dir };
  await audit.append({ actor, type: 'trust.add', resource: `key:${key.keyId}`, details });
  return { keyId: key.keyId, name: key.name, file: addTrustedKey(dir, key), next: RESEAL_NEXT };
}

export async function untrustKey(dir: string, keyId: string, audit: AuditSink, actor: string): Promise<TrustChange> {
  if (!loadTrustStore(dir).keys.has(keyId)) throw new ElastosError('E_NOT_FOUND', `no trusted key ${keyId} in ${dir}`);
  await audit.append({ actor, type: 'trust.remove', resource: `key:${keyId}`, details: { trustDir: dir } });
  removeTrustedKey(dir, keyId);
  return { keyId, next: RESEAL_NEXT };
}

/** The trusted keys as the admin sees them. */
export function listTrust(dir: string) {
  const store = loadTrustStore(dir);
  const keys = [...store.keys.values()].map((k) => ({ keyId: k.keyId, name: k.name, publicKey: hex(k.publicKey) }));
  return { trustDir: dir, keys, rejected: store.rejected };
}

const str = (args: Record<string, unknown>, name: string): string => {
  const v = args[name];
  if (typeof v !== 'string') throw new ElastosError('E_USAGE', `missing argument ${name}`);
  return v;
};

export function registerTrustAdmin(admin: AdminServer, trustDir: string, audit: AuditSink): void {
  admin.register('trust.list', () => listTrust(trustDir), { audit: false });
  admin.register('trust.add', (args, peer) =>
    trustKey(trustDir, publicKeyEntry(str(args, 'name'), str(args, 'publicKey')), audit, `admin:${peer.uid}`),
  );
  admin.register('trust.remove', (args, peer) => untrustKey(trustDir, str(args, 'keyId'), audit, `admin:${peer.uid}`));
}
