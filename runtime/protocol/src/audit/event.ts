/**
 * One thing that happened, as a subsystem (the runtime, the bridge) reports it to the audit
 * trail (runtime/spec/audit.md §2). The record format built from it is `record.ts`.
 */
import type { ErrorCode } from '../errors/index.js';

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

/** Where a durable record landed. */
export interface AuditReceipt {
  seq: number;
  /** Hex SHA-256 chain hash of the record. */
  hash: string;
}
