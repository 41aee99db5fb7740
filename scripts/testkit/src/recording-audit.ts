/**
 * An in-memory audit sink with the runtime's AuditSink shape, for tests of subsystems that report
 * events (the real durable sink belongs to the audit room and is tested there). Named so.
 */
export interface RecordedEvent {
  actor: string;
  type: string;
  resource?: string;
  code?: string;
  details?: Record<string, unknown>;
}

export class RecordingAuditSink {
  readonly events: RecordedEvent[] = [];

  async append(event: RecordedEvent): Promise<{ seq: number; hash: string }> {
    this.events.push(event);
    return { seq: this.events.length, hash: '' };
  }

  ofType(type: string): RecordedEvent[] {
    return this.events.filter((e) => e.type === type);
  }
}
