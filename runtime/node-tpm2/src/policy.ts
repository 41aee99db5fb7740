import { createHash } from 'node:crypto';

const TPM_CC_POLICY_PCR = 0x0000017f;
const TPM_ALG_SHA256 = 0x000b;

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
