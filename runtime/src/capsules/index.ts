export * from '@elastos/protocol/capsules/manifest';
export * from '@elastos/protocol/capsules/package-codec';
export { registerCapsuleAdmin, registerCapsuleHostAdmin } from './capsule-admin.js';
export * from './capsule-host.js';
export { CapsuleIdentities, identityOf } from './capsule-identity.js';
export type { IndexedVersion } from './capsule-index.js';
export { CapsuleLogs, type LogChunk } from './capsule-logs.js';
export {
  CapsuleManager,
  type CapsuleManagerOptions,
  type CapsuleSummary,
  type CapsuleTokens,
  type InstalledCapsule,
} from './capsule-manager.js';
export { type VerifiedContent, verifyContent, verifyPackage } from './package-verify.js';
export * from './trust-change.js';
export * from './trust-store.js';
