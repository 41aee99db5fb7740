import { createHash } from 'node:crypto';

/**
 * The `keyId` of an Ed25519 public key (runtime or publisher): hex of the first 8 bytes of its
 * SHA-256 (token.md §2 `iss`, capsule-package.md §3 `publisher`, audit.md checkpoints).
 */
export function keyIdOf(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex').slice(0, 16);
}
