import assert from 'node:assert/strict';
import { type ChildProcess, execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI and the daemon as a user runs them (this file is scripts/testkit/dist/cli-kit.js). */
export const ELASTOS = fileURLToPath(new URL('../../bin/elastos', import.meta.url));
export const ELASTOSD = fileURLToPath(new URL('../../../runtime/bin/elastosd', import.meta.url));

/** How a program ended: its exit status (1 when it died without one) and its output. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a program to its end; never rejects, so a test can assert a failing exit status. */
export function execRun(file: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}) {
  return new Promise<Run>((resolve) => {
    execFile(file, args, { encoding: 'utf8', ...options }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** One `elastos` command in a fresh Node (~0.2 s each on this machine). */
export function runElastos(args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Run> {
  return execRun(process.execPath, [ELASTOS, ...args], options);
}

/**
 * `elastos` run in a project dir whose `config.json` it finds through ELASTOS_CONFIG: `run`
 * answers every outcome, `ok` asserts exit 0 and gives stdout, `json` adds `--json` and parses.
 * `dir` is read at each call, so a per-test temp dir works.
 */
export function cliIn(dir: () => string) {
  const run = (args: string[]): Promise<Run> => {
    const env = { ...process.env, ELASTOS_CONFIG: join(dir(), 'config.json') };
    return runElastos(args, { cwd: dir(), env });
  };
  const ok = async (args: string[]): Promise<string> => {
    const r = await run(args);
    assert.equal(r.code, 0, `elastos ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async <T>(args: string[]): Promise<T> => JSON.parse(await ok(['--json', ...args])) as T;
  return { run, ok, json };
}

/** Polls `cond` every 20 ms; throws after `ms`. */
export async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Polls an async `fn` every `everyMs` until it gives a value (not undefined) and returns it;
 * throws `timed out waiting for WHAT` after `ms`. An error from `fn` ends the wait at once.
 */
export async function pollFor<T>(
  what: string,
  fn: () => Promise<T | undefined>,
  ms = 60_000,
  everyMs = 200,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Signals a child that still runs and waits for its exit; returns its exit code (null if signalled). */
export async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM') {
  if (!child || child.exitCode !== null || child.signalCode !== null) return undefined;
  const gone = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  child.kill(signal);
  return gone;
}

const DEV_BASE = { profile: 'dev', runDir: 'run', stateDir: 'state', logLevel: 'warn' };

let instanceSlot = 0;

/**
 * A cgroup parent and capsule uid range of its own for each test runtime, so that tests never
 * share (and kill) the capsules of `npm start` or of another test run on the same host; the
 * runtime still checks the claim against the live ones at start (E_CONFINE_INSTANCE).
 */
export function testInstance(): { cgroupParent: string; uidBase: number; uidCount: number } {
  const n = instanceSlot++ % 16;
  const slot = (process.pid * 16 + n) % 2 ** 22;
  return { cgroupParent: `elastos-test-${process.pid}-${n}`, uidBase: 1_000_000_000 + slot * 64, uidCount: 64 };
}

function withInstance(extra: Record<string, unknown>): Record<string, unknown> {
  return { ...extra, confine: { ...testInstance(), ...(extra.confine as Record<string, unknown> | undefined) } };
}

/**
 * A dev-profile config (run/ and state/ relative to it) for tests that run no TPM: the dev
 * profile's explicit insecure mode. Tests of the TPM paths run elastosd on swtpm instead.
 */
export function noTpmDevConfig(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...DEV_BASE, tpm: { insecureNoTpm: true }, ...withInstance(extra) };
}

/** A dev-profile config whose TPM is the swtpm at `tcti` (testkit `Swtpm.tcti`). */
export function swtpmDevConfig(tcti: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...DEV_BASE, tpm: { tcti }, ...withInstance(extra) };
}
