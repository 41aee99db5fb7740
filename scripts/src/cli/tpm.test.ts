import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ELASTOS, ELASTOSD, execRun as exec, makeTempDir, Swtpm, swtpmDevConfig } from '@elastos/testkit';
import { type BootEvent, replay } from '@elastos/verifier';

describe('elastos provision / attest / tpm status with elastosd on swtpm', function () {
  this.timeout(60_000);
  const dir = makeTempDir('cli-tpm-');
  const swtpm = new Swtpm(join(dir.path, 'swtpm'));
  const configPath = join(dir.path, 'config.json');
  const sock = join(dir.path, 'run', 'admin.sock');
  let daemon: ChildProcess | undefined;
  const elastos = (...args: string[]) => exec(process.execPath, [ELASTOS, '--config', configPath, ...args]);
  const json = async (...args: string[]) => {
    const r = await elastos('--json', ...args);
    assert.equal(r.code, 0, r.stderr);
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };
  const writeConfig = (extra: Record<string, unknown> = {}) =>
    writeFileSync(configPath, JSON.stringify(swtpmDevConfig(swtpm.tcti, extra)));

  /** Starts elastosd; resolves when its admin socket is up, or with its exit status and stderr. */
  async function startDaemon(): Promise<{ exit?: number; stderr: string }> {
    const child = spawn(process.execPath, [ELASTOSD, '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    daemon = child;
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const exited = new Promise<number>((r) => child.once('exit', (code) => r(code ?? -1)));
    while (!existsSync(sock)) {
      const done = await Promise.race([exited, new Promise((r) => setTimeout(r, 20))]);
      if (typeof done === 'number') return { exit: done, stderr };
    }
    return { stderr };
  }
  async function stopDaemon(): Promise<void> {
    const d = daemon;
    if (!d || d.exitCode !== null || d.signalCode !== null) return;
    const gone = new Promise((r) => d.once('exit', r));
    d.kill('SIGTERM');
    assert.equal(await gone, 0);
  }

  before(async () => {
    await swtpm.start();
    writeConfig();
  });
  afterEach(async () => {
    await stopDaemon();
    await swtpm.assertNoLeaks();
  });
  after(async () => {
    await swtpm.stop();
    dir.remove();
  });

  it('refuses to start unprovisioned, provisions, then boots and attests', async () => {
    const first = await startDaemon();
    assert.equal(first.exit, 78);
    assert.match(first.stderr, /^error E_TPM_NOT_PROVISIONED: /m);
    const offline = await json('tpm', 'status');
    assert.equal(offline.reachable, true);
    assert.equal(offline.provisioned, false);
    const p = await json('provision');
    assert.equal(p.action, 'provisioned');
    const again = await elastos('provision');
    assert.equal(again.code, 73);
    assert.match(again.stderr, /^error E_TPM_PROVISIONED: /);

    assert.equal((await startDaemon()).exit, undefined);
    const status = await json('tpm', 'status');
    assert.equal(status.manufacturer, 'IBM');
    assert.equal(status.keyId, p.keyId);
    assert.equal(status.pcrValue, status.sealedTo);

    const out = join(dir.path, 'att');
    await json('attest', '--nonce', 'a1b2c3d4', '--out', out);
    const v = await json('attest', 'verify', out, '--nonce', 'a1b2c3d4');
    assert.equal(v.verified, true);
    const stale = await elastos('attest', 'verify', out, '--nonce', 'a1b2c3d5');
    assert.equal(stale.code, 65);
    assert.match(stale.stderr, /^error E_ATTEST_NONCE: /);
    const args = ['-u', 'ak.pem', '-m', 'quote.msg', '-s', 'quote.sig', '-f', 'pcrs.values', '-l', 'sha256:11,23'];
    assert.equal((await exec('tpm2_checkquote', [...args, '-g', 'sha256', '-q', 'a1b2c3d4'], { cwd: out })).code, 0);
    assert.notEqual((await exec('tpm2_checkquote', [...args, '-g', 'sha256', '-q', 'a1b2c3d5'], { cwd: out })).code, 0);
    const bad = await elastos('attest', '--nonce', 'xyz', '--out', out);
    assert.equal(bad.code, 64);
  });

  it('attest verify --expect names the root slot whose PCR 11 booted, refuses another release, says when unchecked', async () => {
    assert.equal((await startDaemon()).exit, undefined);
    const out = join(dir.path, 'att-release');
    await json('attest', '--nonce', 'a1b2c3d4', '--out', out);
    const v = (await json('attest', 'verify', out)) as { pcr: number; pcr11: string; events: BootEvent[] };
    assert.match(v.pcr11, /^[0-9a-f]{64}$/);
    const release = (pcr11?: string) => {
      const file = join(dir.path, `manifest-${pcr11 ?? 'dev'}.json`);
      const runtime = v.events.slice(0, 4).map(({ type, name, digest }) => ({ type, name, digest }));
      const boot = { version: '7', slots: [{ slot: 'b', pcr11 }] };
      const measuredBoot = { spec: 'x', pcr: v.pcr, runtime, pcrAfterRuntime: replay(v.events.slice(0, 4), v.pcr) };
      const m = { format: 'elastos-release/1', ...(pcr11 ? { boot } : {}), measuredBoot, capsules: [] };
      writeFileSync(file, JSON.stringify(m));
      return file;
    };
    const ok = await json('attest', 'verify', out, '--expect', release(v.pcr11));
    assert.deepEqual((ok.release as { boot: unknown }).boot, {
      checked: true,
      slot: 'b',
      version: '7',
      pcr11: v.pcr11,
    });
    const human = await elastos('attest', 'verify', out, '--expect', release(v.pcr11));
    assert.match(human.stdout, /^bootChain\s+root slot b of release 7 \(PCR 11 [0-9a-f]{16}…\)$/m);
    const other = await elastos('attest', 'verify', out, '--expect', release('ab'.repeat(32)));
    assert.equal(other.code, 65);
    assert.match(
      other.stderr,
      /^error E_ATTEST_RELEASE: the box's PCR 11 [0-9a-f]{16}… is none of the release's \(slot b abababab/,
    );
    const dev = await elastos('attest', 'verify', out, '--expect', release());
    assert.equal(dev.code, 0, dev.stderr);
    assert.match(dev.stdout, /^bootChain\s+the release manifest has no boot chain \(boot.slots\): not checked$/m);
  });

  it('unseals the same key on a second boot', async () => {
    const before = await json('tpm', 'status');
    assert.equal((await startDaemon()).exit, undefined);
    assert.equal((await json('tpm', 'status')).keyId, before.keyId);
  });

  it('refuses a changed config with E_TPM_PCR_MISMATCH until an authorised reseal', async () => {
    writeConfig({ logLevel: 'error' });
    const r = await startDaemon();
    assert.equal(r.exit, 77);
    assert.match(r.stderr, /^error E_TPM_PCR_MISMATCH: .*refusing to start/m);
    const reseal = await json('provision', '--reseal');
    assert.equal(reseal.action, 'resealed');
    assert.equal((await startDaemon()).exit, undefined);
    const running = await elastos('provision', '--reseal');
    assert.equal(running.code, 74); // the store belongs to the running runtime
    assert.match(running.stderr, /^error E_STORE_OPEN: /);
  });

  it('refuses a wrong TCTI in one line; runs without a TPM only with --insecure-no-tpm', async () => {
    writeConfig({ tpm: { tcti: `swtpm:path=${join(dir.path, 'nope')}` } });
    const r = await startDaemon();
    assert.equal(r.exit, 69);
    assert.match(r.stderr, /^error E_TPM_UNAVAILABLE: no TPM at swtpm:path=.*--insecure-no-tpm\)$/m);
    const status = await json('tpm', 'status');
    assert.equal(status.reachable, false);
    writeConfig({ tpm: { tcti: swtpm.tcti, insecureNoTpm: true } });
    assert.equal((await startDaemon()).exit, undefined);
    writeConfig({ profile: 'production', tpm: { tcti: swtpm.tcti, insecureNoTpm: true } });
  });

  it('the production profile never starts without a TPM', async () => {
    const r = await startDaemon();
    assert.equal(r.exit, 78);
    assert.match(r.stderr, /^error E_TPM_INSECURE: /m);
    writeConfig();
  });
});
