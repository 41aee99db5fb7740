/**
 * Verification of capsule content against the trust store (runtime/spec/capsule-package.md §5).
 * Used at install (from package bytes) and at boot (from the unpacked files on disk), so what
 * runs is checked with exactly the rules that admitted it.
 */

import { type CapsuleManifest, parseManifest } from '@elastos/protocol/capsules/manifest';
import {
  type CapsulePackage,
  capsuleId,
  contentDigest,
  decodePackage,
  type PackageContent,
  signingMessage,
} from '@elastos/protocol/capsules/package-codec';
import { verifyAsync } from '@noble/ed25519';
import { ElastosError } from '../errors/index.js';
import type { TrustedKey, TrustStore } from './trust-store.js';

export interface VerifiedContent extends PackageContent {
  id: string;
  manifest: Uint8Array;
  parsed: CapsuleManifest;
  signature: Uint8Array;
  publisher: TrustedKey;
}

/** Ed25519 (RFC 8032 §5.1.7) that answers false, never throws, on malformed input. */
async function signatureValid(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
  try {
    return await verifyAsync(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/**
 * §5 steps 3-6: manifest schema, content hash against `expectedId`, signature present, publisher
 * trusted, signature valid. `hashCode` is E_CAPSULE_HASH for both install and boot.
 */
export async function verifyContent(
  content: PackageContent,
  expectedId: string,
  signature: Uint8Array | undefined,
  trust: TrustStore,
): Promise<VerifiedContent> {
  const parsed = parseManifest(content.manifest);
  if (!content.files.has(parsed.entry)) {
    throw new ElastosError('E_CAPSULE_INVALID', `entry ${parsed.entry} is not among the package files`);
  }
  const digest = contentDigest(content);
  const id = capsuleId(digest);
  if (id !== expectedId) throw new ElastosError('E_CAPSULE_HASH', `content hashes to ${id}, not ${expectedId}`);
  if (!signature) throw new ElastosError('E_CAPSULE_SIGNATURE', `${parsed.name} ${parsed.version} is unsigned`);
  const publisher = trust.keys.get(parsed.publisher);
  if (!publisher) {
    throw new ElastosError('E_CAPSULE_UNTRUSTED', `publisher key ${parsed.publisher} is not in the trust store`);
  }
  if (!(await signatureValid(signature, signingMessage(digest), publisher.publicKey))) {
    throw new ElastosError(
      'E_CAPSULE_SIGNATURE',
      `signature of ${parsed.name} does not verify with key ${publisher.keyId}`,
    );
  }
  return { ...content, id, parsed, signature, publisher };
}

/** Decodes and verifies untrusted package bytes; rejects with an E_CAPSULE_* code, never anything else. */
export async function verifyPackage(bytes: Uint8Array, trust: TrustStore): Promise<VerifiedContent> {
  const pkg: CapsulePackage = decodePackage(bytes);
  return verifyContent(pkg, pkg.id, pkg.signature, trust);
}
