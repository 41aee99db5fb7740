/** Offline verification; each module also has its own subpath (`@elastos/verifier/attest/release`). */
export {
  ATTESTATION_FILES,
  type AttestationFiles,
  akPem,
  BOOT_PCR,
  type VerifiedAttestation,
  verifyAttestation,
} from './attest/attestation.js';
export { type BootEvent, type EventLogFile, parseEventLog, replay } from './attest/event-log.js';
export {
  type AttestedState,
  type BootVerdict,
  checkRelease,
  type ExpectedEvent,
  type ExpectedSlot,
  parseReleaseManifest,
  type ReleaseManifest,
  type ReleaseVerdict,
  readReleaseManifest,
} from './attest/release.js';
export { AuditFault } from './audit/audit-fault.js';
export { type CheckpointBody, decodeBody, type SignedCheckpoint, unpackCheckpoint } from './audit/checkpoint.js';
export { type CheckpointLine, type ExportLine, type RecordLine, verifyExport } from './audit/export.js';
export { AuditKeyring, KEY_EVENT } from './audit/keyring.js';
