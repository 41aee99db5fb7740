/**
 * The publisher's side of the format (runtime/spec/capsule-package.md §4): build a package from a
 * manifest and files, and sign it. Used by `elastos capsule pack|sign`, the first-party capsule build and the tests' vectors.
 */

import {
  type CapsuleManifest,
  encodeManifest,
  parseManifest,
  validateManifest,
} from '@elastos/protocol/capsules/manifest';
import {
  type CapsulePackage,
  capsuleId,
  checkPaths,
  contentDigest,
  decodePackage,
  encodePackage,
  signingMessage,
} from '@elastos/protocol/capsules/package-codec';
import { keyIdOf } from '@elastos/protocol/keys/key-id';
import { getPublicKeyAsync, signAsync } from '@noble/ed25519';

/** An unsigned package from a manifest and files; its id is the hash of that content. */
export function buildPackage(manifest: CapsuleManifest, files: Map<string, Uint8Array>): Uint8Array {
  validateManifest(manifest);
  checkPaths(files.keys());
  const content = { manifest: encodeManifest(manifest), files };
  return encodePackage({ ...content, id: capsuleId(contentDigest(content)) });
}

/**
 * Signs a package with a 32-byte Ed25519 secret key. The manifest's `publisher` names the signing
 * key by definition, so it is set to the key's id first (which changes the content and the id).
 */
export async function signPackage(bytes: Uint8Array, secretKey: Uint8Array): Promise<Uint8Array> {
  const pkg = decodePackage(bytes);
  const publisher = keyIdOf(await getPublicKeyAsync(secretKey));
  const manifest = parseManifest(pkg.manifest);
  const content = { manifest: encodeManifest(validateManifest({ ...manifest, publisher })), files: pkg.files };
  const digest = contentDigest(content);
  const signed: CapsulePackage = {
    ...content,
    id: capsuleId(digest),
    signature: await signAsync(signingMessage(digest), secretKey),
  };
  return encodePackage(signed);
}
