import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { BootEvent, EventLogFile } from '@elastos/verifier/attest/event-log';

/** The boot event log, persisted after every append (atomic rename) so `attest` can ship it. */
export class EventLog {
  readonly events: BootEvent[] = [];

  constructor(
    readonly path: string,
    readonly pcr: number,
  ) {
    this.save();
  }

  append(type: string, name: string, digest: string): BootEvent {
    const event = { seq: this.events.length, pcr: this.pcr, type, name, digest };
    this.events.push(event);
    this.save();
    return event;
  }

  toJSON(): EventLogFile {
    return { version: 1, pcr: this.pcr, events: this.events };
  }

  private save(): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, `${JSON.stringify(this.toJSON(), null, 1)}\n`, { mode: 0o644 });
    renameSync(tmp, this.path);
  }
}
