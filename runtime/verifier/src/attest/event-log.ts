import { createHash } from 'node:crypto';
import { ElastosError } from '@elastos/protocol/errors';

/** One measurement (runtime/spec/boot.md §Event log): what was measured and the digest extended. */
export interface BootEvent {
  seq: number;
  pcr: number;
  /** `runtime.code`, `runtime.exec`, `runtime.config`, `trust.store`, `capsule`. */
  type: string;
  name: string;
  /** Hex SHA-256 that was extended into the PCR. */
  digest: string;
}

export interface EventLogFile {
  version: 1;
  pcr: number;
  events: BootEvent[];
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The PCR value the events produce from a reset PCR: v = SHA-256(v || digest), in order. */
export function replay(events: readonly BootEvent[], pcr: number): string {
  let v = Buffer.alloc(32);
  for (const e of events) {
    if (e.pcr !== pcr) continue;
    v = createHash('sha256').update(v).update(Buffer.from(e.digest, 'hex')).digest();
  }
  return v.toString('hex');
}

function isEvent(e: unknown, i: number): e is BootEvent {
  const x = e as Partial<BootEvent> | null;
  return (
    typeof x === 'object' &&
    x !== null &&
    x.seq === i &&
    Number.isInteger(x.pcr) &&
    typeof x.type === 'string' &&
    typeof x.name === 'string' &&
    typeof x.digest === 'string' &&
    HEX64.test(x.digest)
  );
}

/** Parses an event log from untrusted bytes; anything malformed is E_ATTEST_INVALID. */
export function parseEventLog(bytes: Uint8Array): EventLogFile {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw new ElastosError('E_ATTEST_INVALID', 'the event log is not JSON');
  }
  const f = raw as Partial<EventLogFile> | null;
  if (typeof f !== 'object' || f === null || f.version !== 1 || !Number.isInteger(f.pcr) || !Array.isArray(f.events)) {
    throw new ElastosError('E_ATTEST_INVALID', 'the event log has a bad structure');
  }
  const bad = f.events.findIndex((e, i) => !isEvent(e, i));
  if (bad >= 0) throw new ElastosError('E_ATTEST_INVALID', `event ${bad} of the event log is malformed`);
  return f as EventLogFile;
}
