export { makeAttestation, writeAttestation } from '../attest/attestation.js';
export { type CodeSet, canonicalJson, installedCodeSets, treeDigest, treeManifest, treeSet } from './measure.js';
export { MeasuredBoot, RESETTABLE_PCRS } from './measured-boot.js';
export { type ProvisionMode, type ProvisionResult, provisionAudited, provisionRuntimeKey } from './provision.js';
export {
  matchPolicy,
  POLICY_FORMAT,
  POLICY_REF,
  type PolicyToSign,
  parseSignedPolicy,
  readSignedPolicy,
  type SignedPolicyEntry,
  type SignedPolicyFile,
  signPcrPolicy,
  verifySignedPolicy,
} from './signed-policy.js';
export { filesToJson, parseNonce, registerTpmCommands } from './tpm-admin.js';
export { BootedRuntime, type BootOptions, bootRuntime, eventLogPath, openTpm } from './tpm-boot.js';
export { type TpmStatus, tpmStatus } from './tpm-status.js';
export { releasePolicy, unsealRuntimeKey } from './unseal.js';
