/**
 * Signing checkpoints (runtime/spec/audit.md §6) with the runtime key, and folding them into the
 * TPM anchor (§7). Their format and signature check are the verifier's
 * (`@elastos/verifier/audit/checkpoint`).
 */
import {
  CHECKPOINT_DOMAIN,
  type CheckpointBody,
  concat,
  encodeBody,
  type SignedCheckpoint,
  sha256,
} from '@elastos/verifier/audit/checkpoint';
import type { RuntimeKey } from '../keys/runtime-key.js';

/** Signs a body with the runtime key (§6). */
export async function signCheckpoint(body: CheckpointBody, key: RuntimeKey): Promise<SignedCheckpoint> {
  const bodyBytes = encodeBody(body);
  const sig = await key.sign(concat(CHECKPOINT_DOMAIN, bodyBytes));
  return { body, bodyBytes, sig, hash: sha256(bodyBytes) };
}

/** The anchored value after one more checkpoint: A(k+1) = SHA-256(A(k) ‖ checkpointHash) (§7). */
export const foldAnchor = (anchor: Uint8Array, checkpointHash: Uint8Array): Uint8Array =>
  sha256(anchor, checkpointHash);
