import { createPublicKey } from 'node:crypto';
import {
  authorizePolicyDigest,
  rcBase,
  rsassaSignature,
  signerPublic,
  type Tpm,
  type TpmError,
} from '@elastos/node-tpm2';
import { matchPolicy, POLICY_REF, policyPcrs, type SignedPolicyFile } from '../boot/signed-policy.js';
import { ElastosError } from '../errors/index.js';
import type { Store } from '../store/index.js';
import { type AuthorizedKeyRecord, keyOfSeed, newSeed, readSealedRecord, SEALED_KEY } from './sealed-key.js';
import { SeedKey } from './seed-key.js';

/** TPM_RC_VALUE (Part 2 §6.6.3): PolicyAuthorize's approved policy is not the session's digest. */
const TPM_RC_VALUE = 0x084;
const TPM_RC_POLICY_FAIL = 0x09d;
const short = (hex: string) => `${hex.slice(0, 16)}…`;

/**
 * Makes a new runtime key sealed to TPM2_PolicyAuthorize(the vendor's PCR-signing key,
 * POLICY_REF) (runtime/spec/boot.md §4.1), checks that the running state unseals it with the
 * release's signed policy, and only then stores the record: a box never keeps a key it cannot open.
 */
export async function sealAuthorizedKey(
  tpm: Tpm,
  store: Store,
  signerPem: string,
  file: SignedPolicyFile,
): Promise<AuthorizedKeyRecord> {
  const signer = signerOf(signerPem, 'E_CONFIG_INVALID', 'tpm.pcrSigning.publicKey');
  if (file.signer !== signer.fingerprint) {
    throw new ElastosError(
      'E_TPM_POLICY_SIGNATURE',
      `the signed policy names signer ${short(file.signer)}, the configured key is ${short(signer.fingerprint)}`,
    );
  }
  const previous = await readSealedRecord(store).catch(() => undefined);
  const seed = await newSeed(tpm);
  let record: AuthorizedKeyRecord;
  try {
    const key = await SeedKey.fromSeed(seed);
    const policy = authorizePolicyDigest(signer.name, POLICY_REF);
    const blob = await tpm.seal(seed, policy);
    record = {
      version: 2,
      signer: signer.fingerprint,
      signerKey: createPublicKey(signerPem).export({ format: 'der', type: 'spki' }).toString('base64'),
      policy: Buffer.from(policy).toString('hex'),
      private: Buffer.from(blob.private).toString('base64'),
      public: Buffer.from(blob.public).toString('base64'),
      publicKey: Buffer.from(key.publicKey).toString('hex'),
      keyId: key.keyId,
      createdAt: new Date().toISOString(),
      ...(previous ? { previousKeyId: previous.keyId } : {}),
    };
  } finally {
    seed.fill(0);
  }
  await unsealAuthorizedKey(tpm, record, file);
  await store.put('meta', SEALED_KEY, Buffer.from(JSON.stringify(record)), { sync: true });
  return record;
}

/**
 * Unseals with the signed policy whose PCR values the TPM holds now: PolicyPCR, then
 * PolicyAuthorize with the TPM's ticket for the vendor's signature. PCRs that match no signed
 * policy: E_TPM_PCR_MISMATCH; a policy not signed by the record's signer: E_TPM_POLICY_SIGNATURE.
 */
export async function unsealAuthorizedKey(
  tpm: Tpm,
  record: AuthorizedKeyRecord,
  file: SignedPolicyFile,
): Promise<SeedKey> {
  if (file.signer !== record.signer) {
    throw new ElastosError(
      'E_TPM_POLICY_SIGNATURE',
      `release ${file.release}'s policy is signed by ${short(file.signer)}, the runtime key is sealed for ${short(record.signer)}`,
    );
  }
  const current = new Map<number, string>();
  for (const pcr of policyPcrs(file)) current.set(pcr, Buffer.from(await tpm.pcrRead(pcr)).toString('hex'));
  const entry = matchPolicy(file, current);
  if (!entry) {
    const now = [...current].map(([p, v]) => `PCR ${p} ${short(v)}`).join(', ');
    throw new ElastosError(
      'E_TPM_PCR_MISMATCH',
      `${now}: none of release ${file.release}'s ${file.policies.length} signed policies matches: refusing to start`,
    );
  }
  let seed: Uint8Array;
  try {
    seed = await tpm.unsealAuthorized(
      { private: Buffer.from(record.private, 'base64'), public: Buffer.from(record.public, 'base64') },
      {
        pcrs: entry.pcrs.map((p) => p.pcr),
        approved: entry.policy,
        policyRef: POLICY_REF,
        signerPublic: signerOf(
          Buffer.from(record.signerKey, 'base64'),
          'E_TPM_SEALED_CORRUPT',
          "the sealed key's signerKey",
        ).public,
        signature: rsassaSignature(entry.signature),
      },
    );
  } catch (err) {
    throw authorizedError(err as TpmError, entry.label);
  }
  return keyOfSeed(seed, record);
}

/** The signer's TPM form; a key that is not RSA-2048 (or not a key) is `code`, never a crash. */
function signerOf(key: string | Uint8Array, code: 'E_CONFIG_INVALID' | 'E_TPM_SEALED_CORRUPT', what: string) {
  try {
    return signerPublic(key);
  } catch (cause) {
    throw new ElastosError(code, `${what} is not an RSA-2048 public key`, { cause });
  }
}

function authorizedError(err: TpmError, label: string): Error {
  if (err.code !== 'E_TPM_COMMAND') return err;
  const rc = rcBase(err.rc);
  if (err.op === 'Esys_VerifySignature' || err.op === 'unmarshal signature') {
    return new ElastosError(
      'E_TPM_POLICY_SIGNATURE',
      `the TPM refuses the signature of policy "${label}": ${err.message}`,
      { cause: err },
    );
  }
  if (err.op === 'Esys_PolicyAuthorize' && rc === TPM_RC_VALUE) {
    return new ElastosError(
      'E_TPM_PCR_MISMATCH',
      `the PCRs changed from policy "${label}"'s values: refusing to start`,
      { cause: err },
    );
  }
  if (
    err.op === 'Esys_Load' ||
    err.op.startsWith('unmarshal') ||
    (err.op === 'Esys_Unseal' && rc === TPM_RC_POLICY_FAIL)
  ) {
    return new ElastosError(
      'E_TPM_SEALED_CORRUPT',
      `the sealed runtime key does not open with its signer: ${err.message}`,
      { cause: err },
    );
  }
  return err;
}
