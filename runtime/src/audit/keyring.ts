/**
 * Runtime keys and the audit trail (runtime/spec/audit.md §6.1). `provision --reseal` makes a new
 * runtime key and the old one can never sign again, so the log records each key it starts using
 * (`audit.key`), and the verifier accepts a checkpoint signed by such an introduced key only
 * when the TPM anchor vouches for the checkpoint chain, or when the caller trusts that key.
 */
import type { AuditRecord } from '@elastos/protocol/audit/record';
import { keyIdOf } from '@elastos/protocol/keys/key-id';
import type { RuntimeKey } from '../keys/runtime-key.js';
import type { AuditEvent } from './audit-sink.js';
import { checkpointSignatureOk, type SignedCheckpoint } from './checkpoint.js';

export const KEY_EVENT = 'audit.key';

/** Hex of the first 8 bytes of SHA-256(publicKey), as RuntimeKey.keyId (keys/runtime-key.ts). */
export { keyIdOf };

/** The record that introduces `key` to the log, before the first checkpoint it signs. */
export function keyEvent(key: RuntimeKey, previousKeyId: string | undefined): AuditEvent {
  const publicKey = Buffer.from(key.publicKey).toString('hex');
  return {
    actor: 'runtime',
    type: KEY_EVENT,
    details: { keyId: key.keyId, publicKey, ...(previousKeyId ? { previousKeyId } : {}) },
  };
}

export class AuditKeyring {
  private readonly trusted = new Map<string, Uint8Array>();
  private readonly introduced = new Map<string, { publicKey: Uint8Array; seq: number }>();

  constructor(keys: readonly Uint8Array[]) {
    for (const k of keys) this.trusted.set(keyIdOf(k), k);
  }

  isTrusted(keyId: string): boolean {
    return this.trusted.has(keyId);
  }

  /** Learns the key an `audit.key` record introduces (ignored when malformed: then it vouches for nothing). */
  learn(record: AuditRecord): void {
    const d = record.details;
    if (record.type !== KEY_EVENT || typeof d?.publicKey !== 'string' || !/^[0-9a-f]{64}$/.test(d.publicKey)) return;
    const publicKey = new Uint8Array(Buffer.from(d.publicKey, 'hex'));
    const keyId = keyIdOf(publicKey);
    if (d.keyId === keyId && !this.introduced.has(keyId)) this.introduced.set(keyId, { publicKey, seq: record.seq });
  }

  /** Checks a checkpoint's signature: undefined when it verifies, else why not. */
  async check(c: SignedCheckpoint): Promise<string | undefined> {
    const key = this.trusted.get(c.body.keyId) ?? this.introduced.get(c.body.keyId)?.publicKey;
    if (!key)
      return `signed by key ${c.body.keyId}, which is neither trusted nor introduced by an audit.key record before it`;
    if (!(await checkpointSignatureOk(c, key))) return `signature does not verify under key ${c.body.keyId}`;
    return undefined;
  }
}
