/**
 * The capsule package container (runtime/spec/capsule-package.md §2): one deterministic CBOR
 * map (RFC 8949 §4.2.1 core deterministic encoding). The decoder takes untrusted bytes and
 * either returns a well-formed package or throws E_CAPSULE_INVALID; it never throws anything else.
 */
import { createHash } from 'node:crypto';
import { type DecodeOptions, decode, encode, rfc8949EncodeOptions } from 'cborg';
import { STRICT_DECODE } from '../cbor/strict-decode.js';
import { ElastosError } from '../errors/index.js';
import { FILE_PATH_PATTERN } from './manifest.js';

export const PACKAGE_FORMAT = 'elastos-capsule/1';
export const MAX_PACKAGE_BYTES = 64 * 1024 * 1024;
export const MAX_FILES = 1024;
export const MAX_PATH_BYTES = 240;
export const SIGNATURE_BYTES = 64;
/** §4: the Ed25519 message is this prefix followed by the 32-byte content digest. */
export const SIGNING_PREFIX = 'elastos-capsule-signature/1\n';

/** The signed content: format, manifest bytes and files (path → bytes). */
export interface PackageContent {
  manifest: Uint8Array;
  files: Map<string, Uint8Array>;
}

export interface CapsulePackage extends PackageContent {
  /** The id recorded in the package (`cap1…`); checked against the content by the verifier. */
  id: string;
  /** Ed25519 signature over SIGNING_PREFIX ‖ digest; absent in an unsigned package. */
  signature?: Uint8Array;
}

const DECODE_OPTIONS: DecodeOptions = { ...STRICT_DECODE, useMaps: true };

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** RFC 4648 §6 base32, lower case, no padding. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

export const CAPSULE_ID_PATTERN = /^cap1[a-z2-7]{52}$/;

/** §4: SHA-256 over the canonical CBOR of `{format, manifest, files}`. */
export function contentDigest(content: PackageContent): Uint8Array {
  const bytes = encode(
    new Map<string, unknown>([
      ['format', PACKAGE_FORMAT],
      ['manifest', content.manifest],
      ['files', content.files],
    ]),
    rfc8949EncodeOptions,
  );
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

/** §4: the printable capsule id of a content digest. */
export function capsuleId(digest: Uint8Array): string {
  return `cap1${base32(digest)}`;
}

/** §4: the exact bytes the publisher signs. */
export function signingMessage(digest: Uint8Array): Uint8Array {
  const prefix = new TextEncoder().encode(SIGNING_PREFIX);
  const message = new Uint8Array(prefix.length + digest.length);
  message.set(prefix);
  message.set(digest, prefix.length);
  return message;
}

/** Encodes a package in its one canonical form. */
export function encodePackage(pkg: CapsulePackage): Uint8Array {
  const map = new Map<string, unknown>([
    ['format', PACKAGE_FORMAT],
    ['id', pkg.id],
    ['manifest', pkg.manifest],
    ['files', pkg.files],
  ]);
  if (pkg.signature) map.set('signature', pkg.signature);
  return encode(map, rfc8949EncodeOptions);
}

function invalid(message: string): ElastosError {
  return new ElastosError('E_CAPSULE_INVALID', message);
}

/** Checks a file path (§2.2): pattern, length, and that no file is also used as a folder. */
export function checkPaths(paths: Iterable<string>): void {
  const pattern = new RegExp(FILE_PATH_PATTERN);
  const all = new Set(paths);
  if (all.size > MAX_FILES) throw invalid(`package has ${all.size} files (cap ${MAX_FILES})`);
  for (const path of all) {
    if (Buffer.byteLength(path) > MAX_PATH_BYTES || !pattern.test(path))
      throw invalid(`bad file path ${JSON.stringify(path.slice(0, 80))}`);
    for (let i = path.indexOf('/'); i > 0; i = path.indexOf('/', i + 1)) {
      if (all.has(path.slice(0, i))) throw invalid(`file ${path.slice(0, i)} is also a folder`);
    }
  }
}

function readFiles(value: unknown): Map<string, Uint8Array> {
  if (!(value instanceof Map)) throw invalid('files must be a map');
  const files = new Map<string, Uint8Array>();
  for (const [path, bytes] of value) {
    if (typeof path !== 'string' || !(bytes instanceof Uint8Array)) throw invalid('files must map paths to bytes');
    files.set(path, bytes);
  }
  checkPaths(files.keys());
  return files;
}

function decodeCbor(bytes: Uint8Array): unknown {
  try {
    return decode(bytes, DECODE_OPTIONS);
  } catch (err) {
    throw invalid(`not a capsule package: ${err instanceof Error ? err.message : 'bad CBOR'}`.slice(0, 200));
  }
}

/** Decodes untrusted package bytes (§2); the content is not yet checked against id or signature. */
export function decodePackage(bytes: Uint8Array): CapsulePackage {
  if (bytes.length > MAX_PACKAGE_BYTES) throw invalid(`package is ${bytes.length} bytes (cap ${MAX_PACKAGE_BYTES})`);
  const value = decodeCbor(bytes);
  if (!(value instanceof Map)) throw invalid('a package is a CBOR map');
  for (const key of value.keys()) {
    if (!['format', 'id', 'manifest', 'files', 'signature'].includes(key as string))
      throw invalid('unknown package field');
  }
  if (value.get('format') !== PACKAGE_FORMAT) throw invalid(`format must be ${PACKAGE_FORMAT}`);
  const id = value.get('id');
  const manifest = value.get('manifest');
  const signature = value.get('signature');
  if (typeof id !== 'string' || !CAPSULE_ID_PATTERN.test(id)) throw invalid('id must be a capsule id (cap1…)');
  if (!(manifest instanceof Uint8Array)) throw invalid('manifest must be bytes');
  if (signature !== undefined && (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_BYTES)) {
    throw invalid(`signature must be ${SIGNATURE_BYTES} bytes`);
  }
  const pkg: CapsulePackage = { id, manifest, files: readFiles(value.get('files')) };
  if (signature) pkg.signature = signature;
  // cborg cannot enforce map order or float forms on decode: re-encode and compare (§2.1).
  if (!Buffer.from(encodePackage(pkg)).equals(bytes)) throw invalid('package is not in canonical CBOR form');
  return pkg;
}
