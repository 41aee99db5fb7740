/**
 * Runtime keys and the audit trail (runtime/spec/audit.md §6.1). `provision --reseal` makes a new
 * runtime key and the old one can never sign again, so the log records each key it starts using
 * in a rotation record (`audit.key`) signed by that key, which the runtime holds only by
 * unsealing it from the TPM, and bound to its place after the last checkpoint. The verifier
 * accepts a checkpoint signed by such an introduced key only when the TPM anchor vouches for the
 * checkpoint chain (the runtime never anchors a checkpoint it did not verify under its own
 * sealed key, §7.1), or when the caller trusts that key.
 */
import { type AuditRecord, fromHex, toHex } from '@elastos/protocol/audit/record';
import { keyIdOf } from '@elastos/protocol/keys/key-id';
import { verifyAsync } from '@noble/ed25519';
import { encode, rfc8949EncodeOptions } from 'cborg';
import { checkpointSignatureOk, concat, type SignedCheckpoint } from './checkpoint.js';

export const KEY_EVENT = 'audit.key';
export const KEY_DOMAIN = new TextEncoder().encode('elastos/audit/key/v1\0');

/** What a rotation record's `sig` covers: the domain, then CBOR {keyId, publicKey, previousKeyId?, after}. */
export function rotationMessage(
  keyId: string,
  publicKey: Uint8Array,
  previousKeyId: unknown,
  after: Uint8Array,
): Uint8Array {
  const body = { keyId, publicKey, after, ...(typeof previousKeyId === 'string' ? { previousKeyId } : {}) };
  return concat(KEY_DOMAIN, encode(body, rfc8949EncodeOptions));
}

const HEX32 = /^[0-9a-f]{64}$/;

export class AuditKeyring {
  private readonly trusted = new Map<string, Uint8Array>();
  private readonly introduced = new Map<string, { publicKey: Uint8Array; seq: number }>();

  constructor(keys: readonly Uint8Array[]) {
    for (const k of keys) this.trusted.set(keyIdOf(k), k);
  }

  isTrusted(keyId: string): boolean {
    return this.trusted.has(keyId);
  }

  /**
   * Learns the key a rotation record introduces, when it is signed by that key and bound to
   * `after` (the hash of the last checkpoint before it). Anything else introduces nothing.
   */
  async learn(record: AuditRecord, after: Uint8Array): Promise<void> {
    const d = record.details;
    if (record.type !== KEY_EVENT || !d) return;
    const { publicKey: pk, keyId, after: boundTo, sig } = d;
    if (typeof pk !== 'string' || !HEX32.test(pk) || typeof sig !== 'string' || !/^[0-9a-f]{128}$/.test(sig)) return;
    if (boundTo !== toHex(after)) return;
    const publicKey = fromHex(pk);
    if (keyId !== keyIdOf(publicKey) || this.introduced.has(keyId)) return;
    const message = rotationMessage(keyId, publicKey, d.previousKeyId, after);
    const ok = await verifyAsync(fromHex(sig), message, publicKey).catch(() => false);
    if (ok) this.introduced.set(keyId, { publicKey, seq: record.seq });
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
