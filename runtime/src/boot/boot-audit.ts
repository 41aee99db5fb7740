import type { AuditEvent, AuditSink } from '../audit/audit-sink.js';

/**
 * Boot's audit events. The audit trail signs its checkpoints with the runtime key, so it may
 * open only after boot unsealed that key: until a sink is attached, events wait here in order
 * and are appended, first, when it is (`attach`). Given a sink at once, they go straight to it.
 */
export class BootAuditTrail {
  private readonly pending: AuditEvent[] = [];

  constructor(private sink?: AuditSink) {}

  async record(event: AuditEvent): Promise<void> {
    if (this.sink) await this.sink.append(event);
    else this.pending.push(event);
  }

  /** Appends what waited, in order, then sends every later event straight to `sink`. */
  async attach(sink: AuditSink): Promise<void> {
    while (this.pending.length > 0) {
      const event = this.pending[0] as AuditEvent;
      await sink.append(event);
      this.pending.shift();
    }
    this.sink = sink;
  }

  /** Events not yet in an audit trail (types only; for status and tests). */
  get waiting(): string[] {
    return this.pending.map((e) => e.type);
  }
}
