import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { authorizeHash, pcrsPolicyDigest, signerPublic } from '@elastos/node-tpm2';
import { ElastosError } from '../errors/index.js';

/**
 * The signed PCR policy a release ships (runtime/spec/boot.md §4.1): for each state the box may
 * unseal its key in, the expected SHA-256 PCR values, their TPM2_PolicyPCR digest and the
 * vendor's signature of it. The file comes from the root slot, so it is parsed as untrusted
 * bytes: anything malformed is E_TPM_POLICY_INVALID, an entry without a signature
 * E_TPM_POLICY_SIGNATURE; nothing here trusts a signature (the TPM checks it).
 */
export const POLICY_FORMAT = 'elastos-pcr-policy/1';
/** Signed together with each policy digest, so no other policy signed by the same key (e.g. a disk's) opens the runtime key. */
export const POLICY_REF = new Uint8Array(Buffer.from('elastos runtime key'));
export const MAX_POLICY_FILE_BYTES = 65_536;
const MAX_ENTRIES = 32;
const HEX64 = /^[0-9a-f]{64}$/;
const SIG_B64 = /^[A-Za-z0-9+/]{342}==$/; // an RSA-2048 signature: 256 bytes
const RELEASE = /^[0-9A-Za-z._+-]{1,64}$/;
const PCR_KEY = /^(0|[1-9]|1[0-9]|2[0-3])$/;

export interface SignedPolicyEntry {
  label: string;
  /** PCR index → expected value (hex), ascending. */
  pcrs: Array<{ pcr: number; value: string }>;
  /** The approved TPM2_PolicyPCR digest of `pcrs`. */
  policy: Uint8Array;
  /** RSASSA-PKCS1-v1_5 SHA-256 over policy || POLICY_REF: 256 bytes. */
  signature: Uint8Array;
}

export interface SignedPolicyFile {
  release: string;
  /** SHA-256 (hex) of the signer's SubjectPublicKeyInfo DER. */
  signer: string;
  policies: SignedPolicyEntry[];
}

const invalid = (why: string) => new ElastosError('E_TPM_POLICY_INVALID', `signed PCR policy: ${why}`);

function object(v: unknown, what: string, keys: string[], optional: string[] = []): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw invalid(`${what} is not an object`);
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o))
    if (!keys.includes(k) && !optional.includes(k)) throw invalid(`${what}: unknown field ${JSON.stringify(k)}`);
  for (const k of keys) if (!(k in o)) throw invalid(`${what}: ${k} is missing`);
  return o;
}

function str(v: unknown, what: string, re: RegExp): string {
  if (typeof v !== 'string' || !re.test(v)) throw invalid(`${what} is malformed`);
  return v;
}

function parseEntry(v: unknown, i: number): SignedPolicyEntry {
  const what = `policies[${i}]`;
  const o = object(v, what, ['label', 'bank', 'pcrs', 'policy'], ['signature']);
  const label = str(o.label, `${what}.label`, /^[\x20-\x7e]{0,100}$/);
  if (o.bank !== 'sha256') throw invalid(`${what}.bank must be "sha256"`);
  const p = o.pcrs;
  if (typeof p !== 'object' || p === null || Array.isArray(p)) throw invalid(`${what}.pcrs is not an object`);
  const pcrs = Object.entries(p as Record<string, unknown>).map(([k, value]) => ({
    pcr: Number(str(k, `${what}.pcrs key`, PCR_KEY)),
    value: str(value, `${what}.pcrs["${k}"]`, HEX64),
  }));
  if (pcrs.length === 0) throw invalid(`${what}.pcrs names no PCR`);
  pcrs.sort((a, b) => a.pcr - b.pcr);
  const policy = Buffer.from(str(o.policy, `${what}.policy`, HEX64), 'hex');
  const computed = pcrsPolicyDigest(pcrs.map((x) => ({ pcr: x.pcr, value: Buffer.from(x.value, 'hex') })));
  if (!policy.equals(computed)) throw invalid(`${what}.policy is not the PolicyPCR digest of its pcrs`);
  if (o.signature === undefined)
    throw new ElastosError('E_TPM_POLICY_SIGNATURE', `signed PCR policy: ${what} is unsigned`);
  const signature = Buffer.from(str(o.signature, `${what}.signature`, SIG_B64), 'base64');
  return { label, pcrs, policy: new Uint8Array(policy), signature: new Uint8Array(signature) };
}

/** Parses a signed policy file (runtime/spec/boot.md §4.1) strictly; never throws anything but an ElastosError. */
export function parseSignedPolicy(bytes: Uint8Array): SignedPolicyFile {
  if (bytes.length > MAX_POLICY_FILE_BYTES) throw invalid(`larger than ${MAX_POLICY_FILE_BYTES} bytes`);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw invalid('not UTF-8 JSON');
  }
  const o = object(raw, 'the file', ['format', 'release', 'signer', 'policies']);
  if (o.format !== POLICY_FORMAT) throw invalid(`format is not ${POLICY_FORMAT}`);
  const release = str(o.release, 'release', RELEASE);
  const signer = str(o.signer, 'signer', HEX64);
  if (!Array.isArray(o.policies) || o.policies.length < 1 || o.policies.length > MAX_ENTRIES) {
    throw invalid(`policies must be 1..${MAX_ENTRIES} entries`);
  }
  return { release, signer, policies: o.policies.map(parseEntry) };
}

/** Reads and parses the release's policy file; unreadable or larger than the limit is E_TPM_POLICY_INVALID. */
export function readSignedPolicy(path: string): SignedPolicyFile {
  let bytes: Buffer;
  try {
    const fd = openSync(path, 'r');
    try {
      const buf = Buffer.alloc(MAX_POLICY_FILE_BYTES + 1);
      const n = readSync(fd, buf, 0, buf.length, 0);
      bytes = buf.subarray(0, n);
    } finally {
      closeSync(fd);
    }
  } catch (cause) {
    throw new ElastosError('E_TPM_POLICY_INVALID', `signed PCR policy ${path} cannot be read`, { cause });
  }
  return parseSignedPolicy(bytes);
}

/** The first entry whose PCR values all equal `current` (PCR → hex value), or undefined. */
export function matchPolicy(
  file: SignedPolicyFile,
  current: ReadonlyMap<number, string>,
): SignedPolicyEntry | undefined {
  return file.policies.find((e) => e.pcrs.every((p) => current.get(p.pcr) === p.value));
}

/** Every PCR some entry names, ascending: what to read before matching. */
export function policyPcrs(file: SignedPolicyFile): number[] {
  return [...new Set(file.policies.flatMap((e) => e.pcrs.map((p) => p.pcr)))].sort((a, b) => a - b);
}

/** Offline check (no TPM) of every entry's signature against the signer's public key: what a vendor or verifier runs. */
export function verifySignedPolicy(file: SignedPolicyFile, publicKey: string | KeyObject): boolean {
  const s = signerPublic(publicKey);
  if (s.fingerprint !== file.signer) return false;
  return file.policies.every((e) => verify('sha256', Buffer.concat([e.policy, POLICY_REF]), publicKey, e.signature));
}

export interface PolicyToSign {
  label: string;
  /** PCR index → expected value (hex). */
  pcrs: Record<number, string>;
}

/**
 * The vendor's side (the image build): signs each expected PCR state with the PCR-signing key
 * (PEM or KeyObject, RSA-2048) and returns the file's text.
 */
export function signPcrPolicy(release: string, privateKey: string | KeyObject, entries: PolicyToSign[]): string {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const policies = entries.map((e) => {
    const pcrs = Object.entries(e.pcrs).map(([k, v]) => ({ pcr: Number(k), value: Buffer.from(v, 'hex') }));
    const policy = pcrsPolicyDigest(pcrs);
    const signature = sign('sha256', Buffer.concat([policy, POLICY_REF]), key);
    return {
      label: e.label,
      bank: 'sha256',
      pcrs: e.pcrs,
      policy: Buffer.from(policy).toString('hex'),
      signature: signature.toString('base64'),
    };
  });
  const signer = signerPublic(createPublicKey(key)).fingerprint;
  const text = `${JSON.stringify({ format: POLICY_FORMAT, release, signer, policies }, null, 2)}\n`;
  parseSignedPolicy(Buffer.from(text)); // what we write, we can read
  return text;
}

/** H(policy || POLICY_REF): what the TPM's VerifySignature is given (exported for the vectors). */
export const signedHash = (policy: Uint8Array) => authorizeHash(policy, POLICY_REF);
