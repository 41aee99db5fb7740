import { createHash, randomBytes } from 'node:crypto';
import { pcrPolicyDigest, rcBase, TPM_RC, type Tpm, type TpmError } from '@elastos/node-tpm2';
import { ElastosError } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { SeedKey } from './seed-key.js';

/** The store record of the sealed runtime key, in `meta` (runtime/spec/boot.md §4): sealed to the runtime's PCR, or to a signed policy. */
export type SealedKeyRecord = PcrKeyRecord | AuthorizedKeyRecord;

/** Sealed to the runtime's own PCR value (the PCR 23 fallback, §4). */
export interface PcrKeyRecord {
  version: 1;
  pcr: number;
  /** Hex PCR value the seed is sealed to, and the PolicyPCR digest it gives. */
  pcrValue: string;
  policy: string;
  /** Base64 TPM2B_PRIVATE / TPM2B_PUBLIC of the sealed data object: useless without this TPM. */
  private: string;
  public: string;
  publicKey: string;
  keyId: string;
  createdAt: string;
  /** The key this one replaced (`provision --reseal`). */
  previousKeyId?: string;
}

/** Sealed to whatever the vendor's PCR-signing key approves (TPM2_PolicyAuthorize, §4.1). */
export interface AuthorizedKeyRecord {
  version: 2;
  /** SHA-256 (hex) of the signer's SubjectPublicKeyInfo DER, and that SPKI (base64). */
  signer: string;
  signerKey: string;
  /** The sealed object's policy: PolicyAuthorize(signer's name, policyRef) (hex). */
  policy: string;
  private: string;
  public: string;
  publicKey: string;
  keyId: string;
  createdAt: string;
  previousKeyId?: string;
}

export const SEALED_KEY = 'runtime-key/sealed';

function checkShape(r: SealedKeyRecord): void {
  if (typeof r.private !== 'string' || typeof r.public !== 'string' || typeof r.publicKey !== 'string') {
    throw new Error('shape');
  }
  if (r.version === 1 && Number.isInteger(r.pcr)) return;
  if (r.version === 2 && typeof r.signer === 'string' && typeof r.signerKey === 'string') return;
  throw new Error('shape');
}

export async function readSealedRecord(store: Store): Promise<SealedKeyRecord | undefined> {
  const bytes = await store.get('meta', SEALED_KEY);
  if (!bytes) return undefined;
  try {
    const r = JSON.parse(Buffer.from(bytes).toString('utf8')) as SealedKeyRecord;
    checkShape(r);
    return r;
  } catch (cause) {
    throw new ElastosError('E_TPM_SEALED_CORRUPT', 'the sealed runtime key record does not decode', { cause });
  }
}

/**
 * Makes a new runtime key and seals its seed to `pcrValue`; only the sealed blobs and the public
 * key reach the store. The seed mixes TPM randomness with the OS's.
 */
export async function sealNewKey(tpm: Tpm, store: Store, pcr: number, pcrValue: string): Promise<PcrKeyRecord> {
  const previous = await readSealedRecord(store).catch(() => undefined);
  const seed = await newSeed(tpm);
  try {
    const key = await SeedKey.fromSeed(seed);
    const policy = pcrPolicyDigest(pcr, Buffer.from(pcrValue, 'hex'));
    const blob = await tpm.seal(seed, policy);
    const record: PcrKeyRecord = {
      version: 1,
      pcr,
      pcrValue,
      policy: Buffer.from(policy).toString('hex'),
      private: Buffer.from(blob.private).toString('base64'),
      public: Buffer.from(blob.public).toString('base64'),
      publicKey: Buffer.from(key.publicKey).toString('hex'),
      keyId: key.keyId,
      createdAt: new Date().toISOString(),
      ...(previous ? { previousKeyId: previous.keyId } : {}),
    };
    await store.put('meta', SEALED_KEY, Buffer.from(JSON.stringify(record)), { sync: true });
    return record;
  } finally {
    seed.fill(0);
  }
}

/** 32 bytes: SHA-256 of the TPM's randomness and the OS's. The caller zeroes it. */
export async function newSeed(tpm: Tpm): Promise<Buffer> {
  return createHash('sha256')
    .update(await tpm.getRandom(32))
    .update(randomBytes(32))
    .digest();
}

/** The key of an unsealed seed, checked against the recorded public key; zeroes the seed. */
export async function keyOfSeed(seed: Uint8Array, record: SealedKeyRecord): Promise<SeedKey> {
  try {
    const key = await SeedKey.fromSeed(seed);
    if (Buffer.from(key.publicKey).toString('hex') !== record.publicKey) {
      throw new ElastosError('E_TPM_SEALED_CORRUPT', 'the unsealed key does not match the recorded public key');
    }
    return key;
  } finally {
    seed.fill(0);
  }
}

/** Unseals a key sealed to the runtime's PCR; a PCR that differs from the sealed policy is E_TPM_PCR_MISMATCH. */
export async function unsealPcrKey(tpm: Tpm, record: PcrKeyRecord, pcr: number): Promise<SeedKey> {
  if (record.pcr !== pcr) {
    throw new ElastosError('E_TPM_PCR_MISMATCH', `the key is sealed to PCR ${record.pcr}, the config says ${pcr}`);
  }
  let seed: Uint8Array;
  try {
    seed = await tpm.unseal(
      { private: Buffer.from(record.private, 'base64'), public: Buffer.from(record.public, 'base64') },
      pcr,
    );
  } catch (err) {
    throw unsealError(err as TpmError, pcr);
  }
  return keyOfSeed(seed, record);
}

function unsealError(err: TpmError, pcr: number): Error {
  if (err.code === 'E_TPM_COMMAND' && rcBase(err.rc) === TPM_RC.POLICY_FAIL) {
    return new ElastosError(
      'E_TPM_PCR_MISMATCH',
      `runtime code, config or trust store differ from what the key was sealed to (PCR ${pcr}): refusing to start; after an authorised update run \`elastos provision --reseal\``,
      { cause: err },
    );
  }
  if (err.code === 'E_TPM_COMMAND' && (err.op === 'Esys_Load' || err.op.startsWith('unmarshal'))) {
    return new ElastosError('E_TPM_SEALED_CORRUPT', `the sealed runtime key does not load: ${err.message}`, {
      cause: err,
    });
  }
  return err;
}
