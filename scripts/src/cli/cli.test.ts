import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RUNTIME_VERSION } from '@elastos/runtime';
import {
  ELASTOS,
  ELASTOSD,
  runElastos as elastos,
  execRun,
  makeTempDir,
  noTpmDevConfig,
  stopChild,
  waitFor,
} from '@elastos/testkit';

describe('elastos CLI and elastosd', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let configPath: string;
  let daemon: ChildProcess | undefined;

  beforeEach(() => {
    dir = makeTempDir();
    configPath = join(dir.path, 'config.json');
    writeFileSync(configPath, JSON.stringify(noTpmDevConfig()));
  });
  afterEach(async () => {
    await stopChild(daemon, 'SIGKILL');
    dir.remove();
  });

  it('prints its version and a help that lists its commands', async () => {
    const v = await elastos(['--version']);
    assert.equal(v.code, 0);
    assert.equal(v.stdout.trim(), RUNTIME_VERSION);
    const h = await elastos(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /status/);
    assert.match(h.stdout, /--json/);
  });

  it('answers bad usage with error E_USAGE and exit 64', async () => {
    const r = await elastos(['frobnicate']);
    assert.equal(r.code, 64);
    assert.match(r.stderr, /^error E_USAGE: unknown command 'frobnicate'/);
    // A value an option's parser refuses: the same one coded line, no stack trace.
    const v = await elastos(['audit', 'tail', '--lines', 'x']);
    assert.equal(v.code, 64);
    assert.equal(v.stderr, 'error E_USAGE: --lines wants a non-negative integer, not x\n');
  });

  it('says E_DAEMON_UNREACHABLE in one line when no runtime runs', async () => {
    const r = await elastos(['--config', configPath, 'status']);
    assert.equal(r.code, 69);
    assert.match(r.stderr, /^error E_DAEMON_UNREACHABLE: cannot reach the runtime at .*admin\.sock/);
  });

  it('refuses a bad config with the field and reason', async () => {
    writeFileSync(configPath, JSON.stringify({ profile: 'dev', runDir: 'run', stateDir: 'state', logLevel: 'loud' }));
    const r = await elastos(['--config', configPath, 'status']);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /^error E_CONFIG_INVALID: logLevel: must be one of trace, debug/);
  });

  it('reaches a running runtime, which stops cleanly on SIGTERM and leaves nothing behind', async () => {
    daemon = spawn(process.execPath, [ELASTOSD, '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    const sock = join(dir.path, 'run', 'admin.sock');
    await waitFor(() => existsSync(sock));
    const r = await elastos(['--config', configPath, '--json', 'status']);
    assert.equal(r.code, 0, r.stderr);
    const status = JSON.parse(r.stdout) as { version: string; pid: number; profile: string };
    assert.equal(status.version, RUNTIME_VERSION);
    assert.equal(status.pid, daemon.pid);
    assert.equal(status.profile, 'dev');

    // A second runtime on the same run directory is refused.
    const second = spawn(process.execPath, [ELASTOSD, '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    second.stderr?.on('data', (d: Buffer) => {
      err += d.toString();
    });
    const code = await new Promise((r) => second.once('exit', r));
    assert.equal(code, 75);
    assert.match(err, /^error E_DAEMON_RUNNING: runtime pid \d+ already runs/);

    daemon.kill('SIGTERM');
    const exit = await new Promise((r) => daemon?.once('exit', r));
    assert.equal(exit, 0);
    assert.equal(existsSync(sock), false);
    assert.equal(existsSync(join(dir.path, 'run', 'elastosd.pid')), false);
  });

  it('shows health from the runtime: a table that fits 80 columns, or JSON with --json after the command', async () => {
    daemon = spawn(process.execPath, [ELASTOSD, '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitFor(() => existsSync(join(dir.path, 'run', 'admin.sock')));
    const j = await elastos(['--config', configPath, 'health', '--json']);
    assert.equal(j.code, 0, j.stderr);
    const reading = JSON.parse(j.stdout) as { memory: { totalBytes: number }; disks: unknown[]; capsules: unknown[] };
    assert.ok(reading.memory.totalBytes > 0);
    assert.ok(reading.disks.length > 0);
    assert.deepEqual(reading.capsules, []);
    const h = await elastos(['--config', configPath, 'health']);
    assert.equal(h.code, 0, h.stderr);
    assert.match(h.stdout, /^sampled {5}\d{4}-/m);
    assert.match(h.stdout, /^memory {6}.* used of /m);
    assert.match(h.stdout, /│ mount +│ device +│ size +│ used +│ use +│/);
    for (const line of h.stdout.split('\n')) assert.ok(line.length <= 80, line);
    // A reader that goes away early (`| head -1`) ends the CLI quietly, with no EPIPE trace.
    const sh = `"${process.execPath}" "${ELASTOS}" --config "${configPath}" health | head -1`;
    const piped = await execRun('sh', ['-c', sh]);
    assert.match(piped.stdout, /^sampled /);
    assert.equal(piped.stderr, '');
  });

  it('audits every admin command that changes something, before it runs, and only logs the reads', async () => {
    daemon = spawn(process.execPath, [ELASTOSD, '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitFor(() => existsSync(join(dir.path, 'run', 'admin.sock')));
    const reads = [
      ['status'],
      ['version'],
      ['health'],
      ['capsule', 'list'],
      ['capsule', 'status'],
      ['token', 'list'],
      ['requests'], // no shell capsule here: E_BROKER_NO_PROVIDER, still a read
      ['audit', 'tail'],
      ['audit', 'verify'],
    ];
    for (const argv of reads) await elastos(['--config', configPath, ...argv]);
    const bump = await elastos(['--config', configPath, 'epoch', 'bump']);
    assert.equal(bump.code, 0, bump.stderr);
    const tail = await elastos(['--config', configPath, '--json', 'audit', 'tail', '--lines', '1000']);
    assert.equal(tail.code, 0, tail.stderr);
    const commands = tail.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; type: string; actor: string; action?: string })
      .filter((r) => r.type === 'admin.command');
    assert.deepEqual(
      commands.map((r) => [r.actor, r.action]),
      [[`admin:${process.getuid?.()}`, 'epoch.bump']],
    );
  });

  it('gives up on a wedged runtime after --timeout with E_TIMEOUT, and refuses a bad --timeout', async () => {
    daemon = spawn(process.execPath, [ELASTOSD, '--config', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    await waitFor(() => existsSync(join(dir.path, 'run', 'admin.sock')));
    const bad = await elastos(['--config', configPath, '--timeout', 'soon', 'status']);
    assert.equal(bad.code, 64);
    assert.match(bad.stderr, /^error E_USAGE: --timeout: not a number of seconds: soon$/m);
    daemon.kill('SIGSTOP'); // the kernel still accepts connections; nobody answers them
    try {
      const r = await elastos(['--config', configPath, '--timeout', '0.5', 'status']);
      assert.equal(r.code, 75, r.stderr);
      assert.match(r.stderr, /^error E_TIMEOUT: the runtime did not answer status within 0\.5 s$/m);
    } finally {
      daemon.kill('SIGCONT');
    }
    const ok = await elastos(['--config', configPath, '--timeout', '0.5', 'status']);
    assert.equal(ok.code, 0, ok.stderr);
  });
});
