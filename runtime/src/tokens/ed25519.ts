/**
 * Ed25519 for tokens through `@noble/ed25519` (audited, dependency-free). Its synchronous API
 * needs a SHA-512; node:crypto's is used. Verification is strict RFC 8032 §5.1.7 (not ZIP 215)
 * so a signature has one valid encoding and can key the verdict cache.
 */
import { createHash } from 'node:crypto';
import * as ed from '@noble/ed25519';

ed.hashes.sha512 = (message: Uint8Array) => new Uint8Array(createHash('sha512').update(message).digest());

/** False on any malformed input, never throws. */
export function verifyEd25519(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}
