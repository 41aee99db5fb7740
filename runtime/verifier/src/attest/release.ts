/**
 * Checks a verified attestation's event log against a release manifest (image-build's
 * `manifest.json`, runtime/spec/boot.md §5.1): the runtime's four measurements must be the
 * release's, and every capsule measured must be one the release ships. The manifest is parsed
 * as untrusted input; a malformed one is E_ATTEST_INVALID, a box that runs anything else
 * E_ATTEST_RELEASE.
 */
import { readFileSync } from 'node:fs';
import { ElastosError } from '@elastos/protocol/errors';
import type { BootEvent } from './event-log.js';
import { replay } from './event-log.js';

export interface ExpectedEvent {
  type: string;
  name: string;
  digest: string;
}

/** The part of a release manifest the check reads (the image build writes more). */
export interface ReleaseManifest {
  format: 'elastos-release/1';
  measuredBoot: { spec: string; pcr: number; runtime: ExpectedEvent[]; pcrAfterRuntime: string };
  capsules: Array<{ name: string; version: string; id: string; digest: string }>;
  [more: string]: unknown;
}

export interface ReleaseVerdict {
  runtimeEvents: number;
  capsules: string[];
  pcrAfterRuntime: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const RUNTIME_TYPES = ['runtime.code', 'runtime.exec', 'runtime.config', 'trust.store'];

const bad = (msg: string): never => {
  throw new ElastosError('E_ATTEST_INVALID', `release manifest: ${msg}`);
};

function isExpected(e: unknown): e is ExpectedEvent {
  const x = e as Partial<ExpectedEvent> | null;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.type === 'string' &&
    typeof x.name === 'string' &&
    typeof x.digest === 'string' &&
    HEX64.test(x.digest)
  );
}

/** Parses untrusted manifest bytes (only what the check needs). */
export function parseReleaseManifest(bytes: Uint8Array): ReleaseManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return bad('not JSON');
  }
  const m = raw as Partial<ReleaseManifest> | null;
  if (typeof m !== 'object' || m === null || m.format !== 'elastos-release/1')
    return bad('format must be elastos-release/1');
  const mb = m.measuredBoot;
  if (typeof mb !== 'object' || mb === null || !Number.isInteger(mb.pcr) || !Array.isArray(mb.runtime)) {
    return bad('measuredBoot is missing or malformed');
  }
  if (
    mb.runtime.length !== RUNTIME_TYPES.length ||
    !mb.runtime.every((e, i) => isExpected(e) && e.type === RUNTIME_TYPES[i])
  ) {
    return bad(`measuredBoot.runtime must be the ${RUNTIME_TYPES.length} runtime events in order`);
  }
  if (typeof mb.pcrAfterRuntime !== 'string' || !HEX64.test(mb.pcrAfterRuntime))
    return bad('measuredBoot.pcrAfterRuntime must be 64 hex');
  if (!Array.isArray(m.capsules) || !m.capsules.every((c) => isExpected({ ...c, type: 'capsule' }))) {
    return bad('capsules must list {name, digest}');
  }
  return m as ReleaseManifest;
}

export function readReleaseManifest(path: string): ReleaseManifest {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch {
    return bad(`cannot read ${path}`);
  }
  return parseReleaseManifest(bytes);
}

const mismatch = (msg: string): never => {
  throw new ElastosError('E_ATTEST_RELEASE', msg);
};

/**
 * The events (already replayed to the quoted PCR by verifyAttestation) against the release:
 * same PCR, the runtime's events equal to the release's in order, then only capsules the
 * release ships (by name and digest).
 */
export function checkRelease(pcr: number, events: readonly BootEvent[], m: ReleaseManifest): ReleaseVerdict {
  if (pcr !== m.measuredBoot.pcr)
    mismatch(`the quote covers PCR ${pcr}, the release measures into PCR ${m.measuredBoot.pcr}`);
  const expected = m.measuredBoot.runtime;
  for (const [i, want] of expected.entries()) {
    const got = events[i];
    if (!got) return mismatch(`the event log ends before the release's ${want.type} measurement`);
    if (got.type !== want.type || got.name !== want.name || got.digest !== want.digest) {
      mismatch(
        `${want.type} differs from the release: box ${got.type} ${got.name} ${got.digest.slice(0, 16)}…, release ${want.digest.slice(0, 16)}…`,
      );
    }
  }
  const shipped = new Map(m.capsules.map((c) => [`${c.name}\n${c.digest}`, c.name]));
  const capsules = events.slice(expected.length).map((e) => {
    if (e.type !== 'capsule') return mismatch(`unexpected ${e.type} event after the runtime's measurements`);
    if (!shipped.has(`${e.name}\n${e.digest}`))
      return mismatch(`capsule ${e.name} (${e.digest.slice(0, 16)}…) is not one the release ships`);
    return e.name;
  });
  const pcrAfterRuntime = replay(events.slice(0, expected.length), pcr);
  if (pcrAfterRuntime !== m.measuredBoot.pcrAfterRuntime)
    mismatch('the runtime measurements do not replay to the release value');
  return { runtimeEvents: expected.length, capsules, pcrAfterRuntime };
}
