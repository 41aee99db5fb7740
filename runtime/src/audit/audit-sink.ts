import type { ErrorCode } from '../errors/index.js';
import type { BatchOp } from '../store/index.js';

/** One thing that happened, as a subsystem reports it to the audit trail (runtime/spec/audit.md). */
export interface AuditEvent {
  /** `runtime`, `capsule:<id>`, `admin:<uid>`, `mcu`. */
  actor: string;
  /** Dotted event type, e.g. `token.issue`, `invoke`, `capsule.refused`, `epoch.bump`. */
  type: string;
  resource?: string;
  action?: string;
  decision?: 'allow' | 'deny' | 'ask' | 'allow-log';
  code?: ErrorCode;
  tokenId?: string;
  details?: Record<string, unknown>;
}

export interface AuditReceipt {
  seq: number;
  /** Hex SHA-256 chain hash of the record. */
  hash: string;
}

/**
 * Where subsystems write audit events. `append` resolves only once the record is durable
 * (synced); `ops` are committed in the same atomic batch (e.g. a token's use counter).
 * A write that cannot be made durable rejects with E_AUDIT_WRITE: the caller refuses the action.
 */
export interface AuditSink {
  append(event: AuditEvent, ops?: BatchOp[]): Promise<AuditReceipt>;
}
