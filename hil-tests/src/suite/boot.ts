import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execRun, runElastos } from '@elastos/testkit';
import { json, type SuiteContext } from './helpers.js';

/** Checks an attestation on the rig's side: `elastos attest verify` here and stock tpm2_checkquote. */
async function verifyHere(files: Record<string, string>, nonce: string, pinnedAk: string | undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'hil-attest-'));
  try {
    for (const [name, b64] of Object.entries(files)) writeFileSync(join(dir, name), Buffer.from(b64, 'base64'));
    const v = await runElastos(['--json', 'attest', 'verify', dir, '--nonce', nonce]);
    assert.equal(v.code, 0, `attest verify on the rig: ${v.stderr}`);
    const stale = await runElastos(['attest', 'verify', dir, '--nonce', randomBytes(16).toString('hex')]);
    assert.match(stale.stderr, /^error E_ATTEST_NONCE: /m, 'another nonce must not verify');
    const ak = readFileSync(join(dir, 'ak.pem'), 'utf8');
    if (pinnedAk !== undefined) assert.equal(ak, pinnedAk, 'the AK changed since it was pinned');
    // The PCRs the quote covers, as the verifier read them from it: PCR 11 and the runtime PCR (boot.md §5).
    const pcrs = (JSON.parse(v.stdout) as { pcrs?: number[] }).pcrs ?? [23];
    const list = `sha256:${pcrs.join(',')}`;
    const args = ['-u', 'ak.pem', '-m', 'quote.msg', '-s', 'quote.sig', '-f', 'pcrs.values', '-l', list];
    const check = await execRun('tpm2_checkquote', [...args, '-g', 'sha256', '-q', nonce], { cwd: dir });
    assert.equal(check.code, 0, `tpm2_checkquote: ${check.stderr}`);
    return ak;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function bootTests(ctx: SuiteContext): void {
  let pinnedAk: string | undefined;

  it('boot: the console shows the measurements; status answers; attest verifies rig-side with a fresh nonce', async () => {
    const rig = ctx.rig();
    const line = await rig.get('console').expect(/(?=.*measured)(?=.*runtime\.code)/, 30_000);
    assert.match(line, /[0-9a-f]{64}/, 'a measurement line carries its digest');
    await rig.get('console').expect(/(?=.*measured)(?=.*trust\.store)/, 5_000);
    const status = await json<{ version: string; capsules: unknown[] }>(rig, ['status']);
    assert.match(status.version, /^\d+\.\d+\.\d+/);
    const nonce = randomBytes(20).toString('hex');
    const att = await json<{ nonce: string; files: Record<string, string> }>(rig, [
      'attest',
      '--nonce',
      nonce,
      '--out',
      '-',
    ]);
    assert.equal(att.nonce, nonce);
    pinnedAk = await verifyHere(att.files, nonce, pinnedAk);
  });
}
