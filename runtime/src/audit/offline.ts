/**
 * Audit records made while the runtime is stopped (the CLI's offline installs, trust changes,
 * `provision`): appended to the same chain in the store, marked `details.offline`; the runtime's
 * next start covers them with its first checkpoint, signed and anchored in the TPM, as it does
 * the tail a crash leaves (runtime/spec/audit.md).
 */
import type { Store } from '../store/index.js';
import { AuditLog } from './audit-log.js';
import type { AuditEvent, AuditReceipt } from './audit-sink.js';

/** Opens the chain of a stopped runtime's store for `fn` (an AuditSink), then closes it. */
export async function withOfflineAudit<T>(store: Store, fn: (audit: OfflineAudit) => Promise<T>): Promise<T> {
  const log = await AuditLog.open(store);
  try {
    return await fn(new OfflineAudit(log));
  } finally {
    await log.close();
  }
}

/** An AuditSink that marks each record as made offline. */
export class OfflineAudit {
  constructor(private readonly log: AuditLog) {}

  append(event: AuditEvent, ops: Parameters<AuditLog['append']>[1] = []): Promise<AuditReceipt> {
    return this.log.append({ ...event, details: { ...event.details, offline: true } }, ops);
  }
}

/** One offline record. */
export function appendOffline(store: Store, event: AuditEvent): Promise<AuditReceipt> {
  return withOfflineAudit(store, (audit) => audit.append(event));
}
