import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  ELASTOSD,
  makeTempDir,
  noTpmDevConfig,
  requireFeature,
  runElastos,
  SocatPtyPair,
  Swtpm,
  waitFor,
} from '@elastos/testkit';

/** The CLI with only PATH in its environment: no ELASTOS_* variable of the caller's shapes its answer. */
const elastos = (args: string[]) => runElastos(args, { env: { PATH: process.env.PATH } });

describe('elastos doctor and ps', () => {
  it('reports every confinement layer as JSON and exits 0 when production can run', async function () {
    const r = await elastos(['doctor', '--json']);
    const report = JSON.parse(r.stdout) as { ok: boolean; layers: { layer: string; available: boolean }[] };
    const names = report.layers.map((l) => l.layer);
    for (const n of [
      'seccomp',
      'namespaces',
      'cgroup.memory',
      'cgroup.pids',
      'cgroup.cpu',
      'user-namespace',
      'exec.seccomp',
      'exec.memfd_noexec',
      'exec.landlock',
      'landlock.scope',
      'network.private',
    ])
      assert.ok(names.includes(n), n);
    // No exec after start: each layer this kernel has (Linux 6.18, Landlock ABI 7 here).
    const available = (n: string) => report.layers.find((l) => l.layer === n)?.available;
    for (const n of ['exec.seccomp', 'exec.memfd_noexec', 'exec.landlock', 'landlock.scope', 'network.private'])
      requireFeature(this, available(n) === true, n);
    requireFeature(this, report.ok, 'a required confinement layer');
    assert.equal(r.code, 0);
  });

  it('ps asks the running runtime for its supervised capsules', async () => {
    const tmp = makeTempDir();
    const config = join(tmp.path, 'config.json');
    writeFileSync(config, JSON.stringify(noTpmDevConfig()));
    const daemon = spawn(process.execPath, [ELASTOSD, '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
    try {
      await waitFor(() => existsSync(join(tmp.path, 'run', 'admin.sock')));
      const json = await elastos(['--config', config, '--json', 'ps']);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(JSON.parse(json.stdout), []);
      const text = await elastos(['--config', config, 'ps']);
      assert.equal(text.stdout, 'no capsules supervised\n');
    } finally {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon.once('exit', r));
      tmp.remove();
    }
  });

  it('names a missing layer and exits 69 (E_CONFINE_UNAVAILABLE)', async () => {
    const tmp = makeTempDir();
    try {
      const config = join(tmp.path, 'config.json');
      const launcher = join(tmp.path, 'no-such-launcher');
      writeFileSync(
        config,
        JSON.stringify({ profile: 'production', runDir: 'run', stateDir: 'state', confine: { launcher } }),
      );
      const r = await elastos(['--config', config, 'doctor']);
      assert.equal(r.code, 69);
      assert.match(r.stdout, /launcher\s+MISSING/);
      assert.match(r.stdout, /without launcher: no capsule can start/);
      assert.match(r.stderr, /^error E_CONFINE_UNAVAILABLE: missing required layer\(s\): launcher/m);
    } finally {
      tmp.remove();
    }
  });

  it('reports the hardware: the configured TPM and the MCU serial port, present or not', async () => {
    const tmp = makeTempDir();
    const swtpm = new Swtpm(join(tmp.path, 'swtpm'));
    const pty = new SocatPtyPair(join(tmp.path, 'serial'));
    type Row = { layer: string; available: boolean; required: boolean; detail: string };
    const hardware = async (config: object) => {
      const path = join(tmp.path, 'config.json');
      writeFileSync(path, JSON.stringify({ profile: 'dev', runDir: 'run', stateDir: 'state', ...config }));
      const r = await elastos(['--config', path, '--json', 'doctor']);
      const rows = (JSON.parse(r.stdout) as { hardware: Row[] }).hardware;
      return Object.fromEntries(rows.map((row) => [row.layer, row]));
    };
    try {
      await swtpm.start();
      await pty.start();
      const present = await hardware({ tpm: { tcti: swtpm.tcti }, serial: { path: pty.host } });
      assert.equal(present.tpm?.available, true, present.tpm?.detail);
      assert.match(present.tpm?.detail ?? '', /socket present/);
      assert.equal(present.serial?.available, true, present.serial?.detail);

      await swtpm.stop();
      const missing = await hardware({ tpm: { tcti: swtpm.tcti }, serial: { path: join(tmp.path, 'ttyNONE') } });
      assert.equal(missing.tpm?.available, false);
      assert.equal(missing.tpm?.required, true);
      assert.match(missing.tpm?.detail ?? '', /does not exist/);
      assert.equal(missing.serial?.available, false);
      assert.match(missing.serial?.detail ?? '', /ttyNONE does not exist/);

      const dev = await hardware({ tpm: { tcti: 'device:/dev/no-tpm', insecureNoTpm: true } });
      assert.equal(dev.tpm?.required, false, 'dev with --insecure-no-tpm does not need one');
      assert.match(dev.serial?.detail ?? '', /not configured/);
    } finally {
      await pty.stop();
      await swtpm.stop();
      tmp.remove();
    }
  });
});
