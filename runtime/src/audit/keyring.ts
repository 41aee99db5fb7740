/**
 * The rotation record (runtime/spec/audit.md §6.1) that the runtime appends when it starts using
 * a key. The keyring that checks such records is the verifier's (`@elastos/verifier/audit/keyring`).
 */
import { toHex } from '@elastos/protocol/audit/record';
import { KEY_EVENT, rotationMessage } from '@elastos/verifier/audit/keyring';
import type { RuntimeKey } from '../keys/runtime-key.js';
import type { AuditEvent } from './audit-sink.js';

/**
 * The rotation record that introduces `key` to the log, right after the checkpoint whose hash is
 * `after` (genesis for a new log) and before the first checkpoint `key` signs; signed by `key`.
 */
export async function keyEvent(
  key: RuntimeKey,
  previousKeyId: string | undefined,
  after: Uint8Array,
): Promise<AuditEvent> {
  const sig = await key.sign(rotationMessage(key.keyId, key.publicKey, previousKeyId, after));
  return {
    actor: 'runtime',
    type: KEY_EVENT,
    details: {
      keyId: key.keyId,
      publicKey: toHex(key.publicKey),
      ...(previousKeyId ? { previousKeyId } : {}),
      after: toHex(after),
      sig: toHex(sig),
    },
  };
}
