import type { AuditEvent, AuditReceipt } from '@elastos/protocol/audit/event';
import { ElastosError } from '@elastos/protocol/errors';
import type { BoardAuditSink } from '../board/board.js';

/**
 * An AuditSink that keeps events in memory, for tests of what the bridge audits. Named as the
 * stand-in it is: the durable audit log is another room's; the bridge only sees the interface.
 */
export class RecordingAuditSink implements BoardAuditSink {
  readonly events: AuditEvent[] = [];
  /** The next this-many appends fail with E_AUDIT_WRITE, as a full disk would make them. */
  failures = 0;
  /** When set, only appends of this type fail (and count down `failures`). */
  failOnly: string | undefined;

  async append(event: AuditEvent): Promise<AuditReceipt> {
    if (this.failures > 0 && (this.failOnly === undefined || this.failOnly === event.type)) {
      this.failures--;
      throw new ElastosError('E_AUDIT_WRITE', 'disk full (test)');
    }
    this.events.push(event);
    return { seq: this.events.length, hash: '' };
  }

  ofType(type: string): AuditEvent[] {
    return this.events.filter((e) => e.type === type);
  }

  /** Resolves with the first event of `type` matching `pred`, waiting up to `ms`. */
  async waitFor(type: string, pred: (e: AuditEvent) => boolean = () => true, ms = 5000): Promise<AuditEvent> {
    const deadline = Date.now() + ms;
    for (;;) {
      const hit = this.events.find((e) => e.type === type && pred(e));
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no audit event ${type} within ${ms} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
