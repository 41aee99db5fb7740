export { AuditFault } from './audit-fault.js';
export { AuditLog, type AuditLogOptions, type ChainHead, type CommittedRecord, readHead } from './audit-log.js';
export type { AuditEvent, AuditReceipt, AuditSink } from './audit-sink.js';
export { type WalkedRecord, walkChain } from './chain-walk.js';
export { type AuditRecord, decodeRecord, encodeRecord } from './record.js';
