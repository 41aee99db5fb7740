/**
 * Checks a verified attestation against a release manifest (image-build's `manifest.json`,
 * runtime/spec/boot.md §5.1): the quoted PCR 11 must be one of the release's root slots' (its
 * boot chain: kernel, initrd, command line, version), the runtime's four measurements must be
 * the release's, and every capsule measured must be one the release ships. The manifest is
 * parsed as untrusted input; a malformed one is E_ATTEST_INVALID, a box that runs anything else
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

/** One root slot of the release's boot chain: the PCR 11 the box holds once booted from it (stub + pcrphase). */
export interface ExpectedSlot {
  slot: string;
  pcr11: string;
}

/** The part of a release manifest the check reads (the image build writes more). */
export interface ReleaseManifest {
  format: 'elastos-release/1';
  /** The boot chain (image-build/README.md "Boot chain"); absent in a build with none (dev). */
  boot?: { version?: string; slots: ExpectedSlot[] };
  measuredBoot: { spec: string; pcr: number; runtime: ExpectedEvent[]; pcrAfterRuntime: string };
  capsules: Array<{ name: string; version: string; id: string; digest: string }>;
  [more: string]: unknown;
}

/** What the attestation says (a `VerifiedAttestation`, already checked against its quote). */
export interface AttestedState {
  pcr: number;
  events: readonly BootEvent[];
  /** PCR 11 as quoted; absent from a runtime that quoted its own PCR only. */
  pcr11?: string | undefined;
}

/** Which boot chain matched, or why none was checked. */
export type BootVerdict =
  | { checked: true; slot: string; version?: string; pcr11: string }
  | { checked: false; why: string };

export interface ReleaseVerdict {
  boot: BootVerdict;
  runtimeEvents: number;
  capsules: string[];
  pcrAfterRuntime: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const SLOT = /^[0-9A-Za-z._-]{1,32}$/;
const MAX_SLOTS = 16;
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

function isSlot(s: unknown): s is ExpectedSlot {
  const x = s as Partial<ExpectedSlot> | null;
  return (
    typeof x === 'object' &&
    x !== null &&
    typeof x.slot === 'string' &&
    SLOT.test(x.slot) &&
    typeof x.pcr11 === 'string' &&
    HEX64.test(x.pcr11)
  );
}

/** `boot`, when present: 1-16 slots, each a name and a PCR 11 of 64 hex; a version if any is a string. */
function checkBoot(boot: unknown): void {
  if (boot === undefined) return;
  const b = boot as { version?: unknown; slots?: unknown } | null;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) bad('boot must be an object');
  else if (b.version !== undefined && typeof b.version !== 'string') bad('boot.version must be a string');
  else if (!Array.isArray(b.slots) || b.slots.length === 0 || b.slots.length > MAX_SLOTS || !b.slots.every(isSlot)) {
    bad(`boot.slots must list 1-${MAX_SLOTS} {slot, pcr11 (64 hex)}`);
  }
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
  checkBoot(m.boot);
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

const short = (h: string) => `${h.slice(0, 16)}…`;

/**
 * The quoted PCR 11 against the release's root slots: it must be one slot's (that slot booted).
 * A release with no boot chain (a dev build) checks nothing here and says so.
 */
function checkBootChain(pcr11: string | undefined, m: ReleaseManifest): BootVerdict {
  const boot = m.boot;
  if (!boot) return { checked: false, why: 'the release manifest has no boot chain (boot.slots): not checked' };
  const theirs = boot.slots.map((s) => `slot ${s.slot} ${short(s.pcr11)}`).join(', ');
  if (pcr11 === undefined) {
    return mismatch(
      `the attestation does not quote PCR 11 (a runtime that quotes its own PCR only); the release's boot chain: ${theirs}`,
    );
  }
  const slot = boot.slots.find((s) => s.pcr11 === pcr11);
  if (!slot) {
    return mismatch(
      `the box's PCR 11 ${short(pcr11)} is none of the release's (${theirs}): another kernel, initrd, command line or release, or not booted to the ready phase`,
    );
  }
  return { checked: true, slot: slot.slot, ...(boot.version === undefined ? {} : { version: boot.version }), pcr11 };
}

/**
 * An attestation (its events already replayed to the quoted PCR, its PCR 11 already checked
 * against the quote by verifyAttestation) against the release: PCR 11 one of the release's root
 * slots' when the release has a boot chain, the same runtime PCR, the runtime's events equal to
 * the release's in order, then only capsules the release ships (by name and digest).
 */
export function checkRelease(att: AttestedState, m: ReleaseManifest): ReleaseVerdict {
  const { pcr, events } = att;
  const boot = checkBootChain(att.pcr11, m);
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
  return { boot, runtimeEvents: expected.length, capsules, pcrAfterRuntime };
}
