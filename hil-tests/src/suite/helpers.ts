/** What the suite's test bodies share: `elastos` over the rig's shell, waits, the trail. */
import assert from 'node:assert/strict';
import { pollFor } from '@elastos/testkit';
import type { BoxInfo, Rig } from '../rig.js';

/** A record of `elastos --json audit tail` (the fields the suite reads). */
export interface TrailRecord {
  seq: number;
  type: string;
  actor: string;
  resource?: string;
  action?: string;
  decision?: string;
  code?: string;
  details?: Record<string, unknown>;
}

/** The test bodies get the rig through this (opened once per run, in the root describe). */
export interface SuiteContext {
  rig(): Rig;
}

export function box(rig: Rig): BoxInfo {
  if (!rig.box) throw new Error(`rig ${rig.name} did not say where things are on its box`);
  return rig.box;
}

/** A bound written for the local rig, stretched for a rig whose box answers more slowly. */
export function scaled(rig: Rig, ms: number): number {
  return ms * (rig.box?.slowdown ?? 1);
}

/** `elastos ARGS` over SSH; asserts exit 0 and gives stdout. */
export async function ok(rig: Rig, args: string[], timeoutMs?: number): Promise<string> {
  const r = await rig.get('shell').elastos(args, timeoutMs);
  assert.equal(r.code, 0, `elastos ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout;
}

export async function json<T>(rig: Rig, args: string[], timeoutMs?: number): Promise<T> {
  return JSON.parse(await ok(rig, ['--json', ...args], timeoutMs)) as T;
}

/** Waits (bounded by the rig's boot time) until the runtime answers `status` over SSH. */
export async function waitRuntime(rig: Rig): Promise<{ pid: number; stateDir: string }> {
  return pollFor(
    `the runtime on ${rig.name} to answer over SSH`,
    async () => {
      const r = await rig.get('shell').elastos(['--json', 'status']);
      return r.code === 0 ? (JSON.parse(r.stdout) as { pid: number; stateDir: string }) : undefined;
    },
    box(rig).bootMs,
    500,
  );
}

const parseLines = (out: string) =>
  out
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as TrailRecord);

/** The newest `lines` records (one admin reply holds at most 1 MiB: keep it to a thousand or so). */
export async function trail(rig: Rig, lines = 1000): Promise<TrailRecord[]> {
  return parseLines(await ok(rig, ['--json', 'audit', 'tail', '--lines', String(lines)], scaled(rig, 120_000)));
}

/** The newest record's seq: what a test's later records come after. */
export async function headSeq(rig: Rig): Promise<number> {
  return (await trail(rig, 1)).at(-1)?.seq ?? 0;
}

/** Every record after `after` (optionally one capsule's), paged a thousand at a time. */
export async function trailAfter(rig: Rig, after: number, capsule?: string): Promise<TrailRecord[]> {
  const all: TrailRecord[] = [];
  let from = after;
  for (let page = 0; page < 500; page++) {
    const args = ['--json', 'audit', 'tail', '--after', String(from), '--lines', '1000'];
    const more = capsule ? ['--capsule', capsule] : [];
    const records = parseLines(await ok(rig, [...args, ...more], scaled(rig, 120_000)));
    all.push(...records);
    if (records.length < 1000) return all;
    from = records.at(-1)?.seq ?? from;
  }
  throw new Error(`more than 500000 records after ${after}`);
}

/** Polls a capsule's log (over SSH) until a line matches; returns the whole log. */
export function capsuleLog(rig: Rig, name: string, pattern: RegExp, ms = scaled(rig, 60_000)): Promise<string> {
  return pollFor(
    `${name}'s log to show ${pattern}`,
    async () => {
      const r = await rig.get('shell').elastos(['capsule', 'logs', name, '--lines', '2000']);
      return r.code === 0 && pattern.test(r.stdout) ? r.stdout : undefined;
    },
    ms,
    300,
  );
}

/** A pending request the shell asks the admin (or the button) to decide. */
export interface PendingAsk {
  ticket: string;
  request: { capsule: string; resource: string; action: string };
}

export function pendingAsk(rig: Rig, resource: string, ms = scaled(rig, 30_000)): Promise<PendingAsk> {
  return pollFor(
    `a pending request for ${resource}`,
    async () => (await json<PendingAsk[]>(rig, ['requests'])).find((r) => r.request.resource === resource),
    ms,
    250,
  );
}

/** Installs one of the suite's capsules (its package is on the box) unless it is there; starts it. */
export async function runHilCapsule(rig: Rig, name: 'hammer' | 'asker'): Promise<void> {
  const { capsules } = await json<{ capsules: Array<{ name: string }> }>(rig, ['capsule', 'list']);
  if (!capsules.some((c) => c.name === name)) await ok(rig, ['capsule', 'install', box(rig).hilPackages[name]]);
  await ok(rig, ['capsule', 'restart', name]);
}
