import type { AuditEvent, AuditReceipt } from '@elastos/protocol/audit/event';
import type { BatchOp } from '../store/index.js';

export type { AuditEvent, AuditReceipt };

/**
 * Where subsystems write audit events. `append` resolves only once the record is durable
 * (synced); `ops` are committed in the same atomic batch (e.g. a token's use counter).
 * A write that cannot be made durable rejects with E_AUDIT_WRITE: the caller refuses the action.
 */
export interface AuditSink {
  append(event: AuditEvent, ops?: BatchOp[]): Promise<AuditReceipt>;
}
