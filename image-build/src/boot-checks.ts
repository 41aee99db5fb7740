/**
 * The boot test's checks against a running box (image-build/README.md, "Boot test"): each one
 * talks to the real guest over SSH or reads its console, and each can fail.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pollFor } from '@elastos/testkit';
import type { QemuBox } from './qemu-box.js';
import type { SshClient } from './ssh-client.js';
import { REPO_ROOT } from './workspace-tree.js';

const run = promisify(execFile);

export interface StatusRow {
  name: string;
  state: string;
}

/** Polls `elastos --json status` over SSH until every capsule in `names` runs; returns the rows. */
export async function waitForCapsules(
  ssh: SshClient,
  box: QemuBox,
  names: string[],
  ms: number,
  onFirstAnswer: () => void = () => {},
): Promise<StatusRow[]> {
  let last = '';
  let answered = false;
  try {
    return await pollFor(
      'the demo capsules to run',
      async () => {
        if (box.qemu?.exitCode !== null) throw new Error('QEMU exited');
        const r = await ssh.run(['elastos', '--json', 'status'], 60_000);
        last = r.code === 0 ? r.stdout.trim().slice(0, 400) : r.stderr.trim().slice(0, 200);
        if (r.code !== 0) return undefined;
        if (!answered) onFirstAnswer();
        answered = true;
        const rows = (JSON.parse(r.stdout) as { capsules: StatusRow[] }).capsules;
        return names.every((n) => rows.some((row) => row.name === n && row.state === 'running')) ? rows : undefined;
      },
      ms,
      3000,
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last answer: ${last}\nconsole:\n${box.consoleTail(30)}`);
  }
}

/** `elastos attest --nonce N --out -` over SSH, its files written to `dir`. */
export async function attestOverSsh(ssh: SshClient, dir: string): Promise<string> {
  const nonce = randomBytes(16).toString('hex');
  const r = await ssh.elastosJson<{ files: Record<string, string> }>(['attest', '--nonce', nonce, '--out', '-']);
  mkdirSync(dir, { recursive: true });
  for (const [name, b64] of Object.entries(r.files)) writeFileSync(join(dir, name), Buffer.from(b64, 'base64'));
  return nonce;
}

/** Debian's tpm2_checkquote on the attestation: one quote over PCR 11 and PCR 23 (runtime/spec/boot.md §5). */
export async function checkquote(dir: string, nonce: string): Promise<{ ok: boolean; out: string }> {
  const args = ['-u', join(dir, 'ak.pem'), '-m', join(dir, 'quote.msg'), '-s', join(dir, 'quote.sig')];
  args.push('-f', join(dir, 'pcrs.values'), '-l', 'sha256:11,23', '-g', 'sha256', '-q', nonce);
  try {
    const r = await run('tpm2_checkquote', args);
    return { ok: true, out: `${r.stdout}${r.stderr}`.trim() };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    return { ok: false, out: `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() };
  }
}

/** The host's `elastos attest verify` (no TPM needed); resolves to its exit code and output. */
export async function hostVerify(dir: string, nonce: string, manifest: string): Promise<{ code: number; out: string }> {
  const cli = join(REPO_ROOT, 'scripts', 'bin', 'elastos');
  const args = [cli, 'attest', 'verify', dir, '--nonce', nonce, '--expect', manifest];
  try {
    const r = await run(process.execPath, args);
    return { code: 0, out: `${r.stdout}${r.stderr}`.trim() };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, out: `${e.stdout ?? ''}${e.stderr ?? ''}`.trim() };
  }
}

/** A copy of the release manifest whose runtime.code digest is another release's. */
export function otherReleaseManifest(manifest: string, out: string): string {
  const m = JSON.parse(readFileSync(manifest, 'utf8')) as { measuredBoot: { runtime: Array<{ digest: string }> } };
  const first = m.measuredBoot.runtime[0];
  if (first) first.digest = 'ab'.repeat(32);
  writeFileSync(out, JSON.stringify(m));
  return out;
}

export interface AuditVerified {
  ok: boolean;
  records: number;
  checkpoints: number;
  last: number;
}

export const auditVerify = (ssh: SshClient) => ssh.elastosJson<AuditVerified>(['audit', 'verify'], 300_000);
export const tpmStatus = (ssh: SshClient) =>
  ssh.elastosJson<{ keyId?: string; provisioned: boolean }>(['tpm', 'status']);

/** What must be equal in two builds from the same inputs; returns the differing keys. */
export function manifestDifferences(a: string, b: string): string[] {
  type M = Record<string, unknown> & { files: Record<string, string> };
  const [x, y] = [a, b].map((f) => JSON.parse(readFileSync(f, 'utf8')) as M) as [M, M];
  const diffs: string[] = [];
  for (const k of ['measuredBoot', 'capsules', 'node', 'debian', 'workspaces', 'kernel'] as const) {
    if (JSON.stringify(x[k]) !== JSON.stringify(y[k])) diffs.push(k);
  }
  const names = new Set([...Object.keys(x.files), ...Object.keys(y.files)]);
  for (const n of names) if (x.files[n] !== y.files[n]) diffs.push(`files ${n}`);
  return diffs;
}
