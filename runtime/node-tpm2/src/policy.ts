import { createHash } from 'node:crypto';

const TPM_CC_POLICY_PCR = 0x0000017f;
const TPM_CC_POLICY_AUTHORIZE = 0x0000016a;
const TPM_ALG_SHA256 = 0x000b;

const sha256 = (...parts: Uint8Array[]): Uint8Array => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
};

/** Marshalled TPML_PCR_SELECTION of one SHA-256 PCR (TPM 2.0 Part 2 §10.9.7). */
export function pcrSelection(pcr: number): Uint8Array {
  if (!Number.isInteger(pcr) || pcr < 0 || pcr > 23) throw new RangeError(`PCR must be 0..23, got ${pcr}`);
  const b = Buffer.alloc(10);
  b.writeUInt32BE(1, 0);
  b.writeUInt16BE(TPM_ALG_SHA256, 4);
  b.writeUInt8(3, 6);
  b[7 + (pcr >> 3)] = 1 << (pcr & 7);
  return new Uint8Array(b);
}

/**
 * The policy digest of a trial TPM2_PolicyPCR on one SHA-256 PCR holding `pcrValue`
 * (Part 3 §23.7): H(0^32 || TPM_CC_PolicyPCR || pcrs || H(pcrValue)).
 */
export function pcrPolicyDigest(pcr: number, pcrValue: Uint8Array): Uint8Array {
  if (pcrValue.length !== 32) throw new RangeError('PCR value must be 32 bytes');
  const cc = Buffer.alloc(4);
  cc.writeUInt32BE(TPM_CC_POLICY_PCR, 0);
  const digestTpm = createHash('sha256').update(pcrValue).digest();
  const h = createHash('sha256').update(Buffer.alloc(32)).update(cc).update(pcrSelection(pcr)).update(digestTpm);
  return new Uint8Array(h.digest());
}

/** The PCR indices of a selection mask (bit n = PCR n), ascending. */
export function pcrsOfMask(mask: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < 24; i++) if (mask & (1 << i)) out.push(i);
  return out;
}

/** The selection mask of SHA-256 PCRs 0..23 (each at most once). */
export function pcrMask(pcrs: readonly number[]): number {
  let mask = 0;
  for (const p of pcrs) {
    if (!Number.isInteger(p) || p < 0 || p > 23) throw new RangeError(`PCR must be 0..23, got ${p}`);
    if (mask & (1 << p)) throw new RangeError(`PCR ${p} named twice`);
    mask |= 1 << p;
  }
  return mask;
}

/** Marshalled TPML_PCR_SELECTION of SHA-256 PCRs, one bitmap of 3 bytes (Part 2 §10.9.7). */
export function pcrsSelection(pcrs: readonly number[]): Uint8Array {
  const mask = pcrMask(pcrs);
  const b = Buffer.alloc(10);
  b.writeUInt32BE(1, 0);
  b.writeUInt16BE(TPM_ALG_SHA256, 4);
  b.writeUInt8(3, 6);
  b.writeUInt8(mask & 0xff, 7);
  b.writeUInt8((mask >> 8) & 0xff, 8);
  b.writeUInt8((mask >> 16) & 0xff, 9);
  return new Uint8Array(b);
}

/**
 * TPM2_PolicyPCR over several SHA-256 PCRs (Part 3 §23.7): the TPM hashes the selected values
 * in ascending PCR order, whatever order they are given in here.
 */
export function pcrsPolicyDigest(values: ReadonlyArray<{ pcr: number; value: Uint8Array }>): Uint8Array {
  const sorted = [...values].sort((a, b) => a.pcr - b.pcr);
  for (const v of sorted) if (v.value.length !== 32) throw new RangeError('PCR value must be 32 bytes');
  const sel = pcrsSelection(sorted.map((v) => v.pcr));
  return sha256(new Uint8Array(32), u32(TPM_CC_POLICY_PCR), sel, sha256(...sorted.map((v) => v.value)));
}

/**
 * The policy an object sealed "to whatever this key signs" carries (Part 3 §23.16):
 * H(H(0^32 || TPM_CC_PolicyAuthorize || keyName) || policyRef).
 */
export function authorizePolicyDigest(signerName: Uint8Array, policyRef: Uint8Array): Uint8Array {
  if (policyRef.length > 32) throw new RangeError('policyRef: at most 32 bytes');
  return sha256(sha256(new Uint8Array(32), u32(TPM_CC_POLICY_AUTHORIZE), signerName), policyRef);
}

/** What the vendor signs for TPM2_VerifySignature and PolicyAuthorize: aHash = H(approvedPolicy || policyRef). */
export function authorizeHash(approvedPolicy: Uint8Array, policyRef: Uint8Array): Uint8Array {
  return sha256(approvedPolicy, policyRef);
}
