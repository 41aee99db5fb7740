export { rcBase, TPM_RC, TpmError, type TpmErrorCode } from './errors.js';
export type { NvKind, PrimaryKey, PrimaryKind, Quote, SealedBlob, TpmProperties } from './ops.js';
export { TpmOps } from './ops.js';
export { pcrPolicyDigest, pcrSelection } from './policy.js';
export { checkTcti, Tpm } from './tpm.js';
