/**
 * The first-party capsules for the image, signed with the build's publisher key: by default
 * `.run/image/keys/publisher.key`, made on first use and never committed; a vendor passes its
 * own (`--publisher-key FILE`, made with `elastos capsule keygen`). Its public half is the
 * image's trust store, so the box runs capsules of this publisher and no other.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { decodePackage } from '@elastos/runtime';
import { capsuleDigestHex } from '@elastos/runtime/boot/capsule-digest';
import { buildFirstParty } from '@elastos/scripts/dist/capsule/build-first-party.js';
import { generateKey, type PublisherKey, readSecretKey } from '@elastos/scripts/dist/capsule/publisher-key.js';

export interface ImageCapsule {
  name: string;
  version: string;
  file: string;
  id: string;
  /** The content digest the runtime extends before spawning it (runtime/spec/boot.md §6). */
  digest: string;
}

export async function publisherKey(file: string, vendorKey?: string): Promise<PublisherKey> {
  if (vendorKey) return readSecretKey(vendorKey);
  if (existsSync(file)) return readSecretKey(file);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  return generateKey('elastos-image', file);
}

export async function buildImageCapsules(outDir: string, keyFile: string): Promise<ImageCapsule[]> {
  const built = await buildFirstParty(outDir, keyFile);
  return built.map((b) => {
    const pkg = decodePackage(new Uint8Array(readFileSync(b.file)));
    return { name: b.name, version: b.version, file: b.file, id: pkg.id, digest: capsuleDigestHex(pkg.id) };
  });
}
