/**
 * The trust store (runtime/spec/capsule-package.md §6): a plain directory (config `trustDir`)
 * with one file `<keyId>.pub` per trusted publisher key. The TPM room measures the directory at
 * boot (sorted names + contents), so it holds nothing but these files and writes are deterministic.
 */

import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { keyIdOf } from '@elastos/protocol/keys/key-id';
import { ElastosError } from '../errors/index.js';

export const PUBLIC_KEY_FORMAT = 'elastos-publisher-key/1';
const MAX_KEY_FILE_BYTES = 4096;

export interface TrustedKey {
  keyId: string;
  name: string;
  publicKey: Uint8Array;
}

export interface TrustStore {
  keys: Map<string, TrustedKey>;
  /** Files in the directory that are not valid key files (never trusted; shown by `trust list`). */
  rejected: Array<{ file: string; reason: string }>;
}

/** Hex of the first 8 bytes of SHA-256(publicKey), as for the runtime key (keys/runtime-key.ts). */
export { keyIdOf };

function bad(message: string): ElastosError {
  return new ElastosError('E_TRUST_KEY_INVALID', message);
}

/** Parses a public key file (§6.1). A secret key file of `capsule keygen` parses too: only its public half is read. */
export function parseKeyFile(text: string): TrustedKey {
  if (text.length > MAX_KEY_FILE_BYTES) throw bad('key file too large');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw bad('key file is not JSON');
  }
  const v = value as { name?: unknown; publicKey?: unknown } | null;
  if (typeof v !== 'object' || v === null) throw bad('key file is not a JSON object');
  if (typeof v.publicKey !== 'string' || !/^[0-9a-f]{64}$/.test(v.publicKey)) {
    throw bad('publicKey must be 64 lower-case hex digits');
  }
  return publicKeyEntry(typeof v.name === 'string' ? v.name : '', v.publicKey);
}

/** A trust entry from a name and a hex public key. */
export function publicKeyEntry(name: string, publicKeyHex: string): TrustedKey {
  if (!/^[0-9a-f]{64}$/.test(publicKeyHex)) throw bad('publicKey must be 64 lower-case hex digits');
  if (name.length > 100 || !/^[^\p{Cc}]*$/u.test(name)) throw bad('name must be at most 100 printable characters');
  const publicKey = new Uint8Array(Buffer.from(publicKeyHex, 'hex'));
  return { keyId: keyIdOf(publicKey), name, publicKey };
}

/** The exact bytes of a trust file: fixed key order, one trailing newline. */
export function encodeKeyFile(key: TrustedKey): string {
  const hex = Buffer.from(key.publicKey).toString('hex');
  return `${JSON.stringify({ format: PUBLIC_KEY_FORMAT, name: key.name, publicKey: hex })}\n`;
}

function listFiles(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return [];
    throw new ElastosError('E_CONFIG_INVALID', `trustDir ${dir} is unreadable: ${(err as Error).message}`);
  }
}

/** Reads the trust store; a missing directory is an empty store (nothing is trusted). */
export function loadTrustStore(dir: string): TrustStore {
  const store: TrustStore = { keys: new Map(), rejected: [] };
  for (const file of listFiles(dir)) {
    try {
      if (!file.endsWith('.pub')) throw bad('not a .pub file');
      const key = parseKeyFile(readFileSync(join(dir, file), 'utf8'));
      if (file !== `${key.keyId}.pub`) throw bad(`file name must be ${key.keyId}.pub`);
      store.keys.set(key.keyId, key);
    } catch (err) {
      store.rejected.push({ file, reason: (err as Error).message });
    }
  }
  return store;
}

/** Adds (or renames) a trusted key: writes `<keyId>.pub` through a temp file outside the measured names. */
export function addTrustedKey(dir: string, key: TrustedKey): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  const path = join(dir, `${key.keyId}.pub`);
  const tmp = join(dir, `.${key.keyId}.tmp`);
  writeFileSync(tmp, encodeKeyFile(key), { mode: 0o644 });
  renameSync(tmp, path);
  return path;
}

/** Removes a trusted key by id; E_NOT_FOUND if it is not there. */
export function removeTrustedKey(dir: string, keyId: string): void {
  if (!/^[0-9a-f]{16}$/.test(keyId) || !loadTrustStore(dir).keys.has(keyId)) {
    throw new ElastosError('E_NOT_FOUND', `no trusted key ${keyId} in ${dir}`);
  }
  rmSync(join(dir, `${keyId}.pub`));
}
