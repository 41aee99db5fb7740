/** Publisher secret key files (runtime/spec/capsule-package.md §6.2): made by `elastos capsule keygen`. */
import { readFileSync, writeFileSync } from 'node:fs';
import { ElastosError, encodeKeyFile, keyIdOf, publicKeyEntry, type TrustedKey } from '@elastos/runtime';
import { getPublicKeyAsync, utils } from '@noble/ed25519';

export const SECRET_KEY_FORMAT = 'elastos-publisher-secret/1';

export interface PublisherKey extends TrustedKey {
  secretKey: Uint8Array;
}

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** Makes a key, writes the secret file (0600) and its public half beside it as `FILE.pub`. */
export async function generateKey(name: string, out: string): Promise<PublisherKey> {
  const secretKey = utils.randomSecretKey();
  const key: PublisherKey = { ...publicKeyEntry(name, hex(await getPublicKeyAsync(secretKey))), secretKey };
  const body = {
    format: SECRET_KEY_FORMAT,
    name,
    keyId: key.keyId,
    publicKey: hex(key.publicKey),
    secretKey: hex(secretKey),
  };
  try {
    writeFileSync(out, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw new ElastosError('E_USAGE', `cannot create ${out}: ${(err as Error).message}`);
  }
  writeFileSync(`${out}.pub`, encodeKeyFile(key), { mode: 0o644 });
  return key;
}

/** Reads a secret key file and checks that its public key matches its secret key. */
export async function readSecretKey(path: string): Promise<PublisherKey> {
  let body: { format?: unknown; name?: unknown; publicKey?: unknown; secretKey?: unknown };
  try {
    body = JSON.parse(readFileSync(path, 'utf8')) as typeof body;
  } catch (err) {
    throw new ElastosError('E_TRUST_KEY_INVALID', `cannot read key ${path}: ${(err as Error).message}`);
  }
  if (
    body.format !== SECRET_KEY_FORMAT ||
    typeof body.secretKey !== 'string' ||
    !/^[0-9a-f]{64}$/.test(body.secretKey)
  ) {
    throw new ElastosError('E_TRUST_KEY_INVALID', `${path} is not a publisher secret key (${SECRET_KEY_FORMAT})`);
  }
  const secretKey = new Uint8Array(Buffer.from(body.secretKey, 'hex'));
  const publicKey = await getPublicKeyAsync(secretKey);
  if (body.publicKey !== hex(publicKey))
    throw new ElastosError('E_TRUST_KEY_INVALID', `${path}: publicKey does not match secretKey`);
  return { keyId: keyIdOf(publicKey), name: typeof body.name === 'string' ? body.name : '', publicKey, secretKey };
}
