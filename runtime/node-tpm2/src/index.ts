export { rcBase, TPM_RC, TpmError, type TpmErrorCode } from './errors.js';
export type { NvKind, PrimaryKey, PrimaryKind, Quote, SealedBlob, SignedPcrPolicy, TpmProperties } from './ops.js';
export { TpmOps } from './ops.js';
export {
  authorizeHash,
  authorizePolicyDigest,
  pcrMask,
  pcrPolicyDigest,
  pcrSelection,
  pcrsOfMask,
  pcrsPolicyDigest,
  pcrsSelection,
} from './policy.js';
export { rsassaSignature, type SignerPublic, signerPublic } from './signer-key.js';
export { checkTcti, Tpm } from './tpm.js';
