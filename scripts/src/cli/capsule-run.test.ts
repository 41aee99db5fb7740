import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import { REPO_ROOT } from '../workspaces.js';

const ELASTOS = join(REPO_ROOT, 'scripts', 'bin', 'elastos');
const ELASTOSD = join(REPO_ROOT, 'runtime', 'bin', 'elastosd');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('elastos capsule start|stop|restart|logs and status (real daemon, launcher, cgroups)', function () {
  this.timeout(90_000);
  const dir = makeTempDir('capsule-run-');
  let daemon: ChildProcess | undefined;

  const run = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const env = { ...process.env, ELASTOS_CONFIG: join(dir.path, 'config.json') };
      execFile(process.execPath, [ELASTOS, ...args], { encoding: 'utf8', cwd: dir.path, env }, (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      );
    });
  const ok = async (args: string[]) => {
    const r = await run(args);
    assert.equal(r.code, 0, `elastos ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const json = async <T>(args: string[]) => JSON.parse(await ok(['--json', ...args])) as T;
  const startDaemon = async () => {
    daemon = spawn(process.execPath, [ELASTOSD, '--config', join(dir.path, 'config.json')], { stdio: 'ignore' });
    for (let i = 0; i < 500; i++) {
      if ((await run(['version'])).stdout.includes('runtime') && existsSync(join(dir.path, 'run', 'admin.sock')))
        return;
      await sleep(50);
    }
  };
  const stopDaemon = async () => {
    if (daemon && daemon.exitCode === null) {
      const gone = new Promise((r) => daemon?.once('exit', r));
      daemon.kill('SIGTERM');
      await gone;
    }
  };
  const state = async () =>
    (await json<{ capsules: Array<{ name: string; state: string; pid: number | null }> }>(['status'])).capsules.find(
      (c) => c.name === 'hello',
    );

  before(async () => {
    writeFileSync(
      join(dir.path, 'config.json'),
      // No TPM here (the story test runs on swtpm): dev's explicit insecure mode.
      JSON.stringify({
        profile: 'dev',
        runDir: 'run',
        stateDir: 'state',
        logLevel: 'warn',
        tpm: { insecureNoTpm: true },
      }),
    );
    await ok(['capsule', 'keygen', '--out', 'me.key', '--name', 'Me']);
    await ok(['trust', 'add', 'me.key.pub']);
    await ok(['capsule', 'new', 'hello']);
    await ok(['capsule', 'pack', 'hello']);
    await ok(['capsule', 'sign', 'hello-0.1.0.capsule', '--key', 'me.key']);
    await startDaemon();
    await ok(['capsule', 'install', 'hello-0.1.0.capsule']);
  });
  after(async () => {
    await stopDaemon();
    dir.remove();
  });

  it('starts an installed capsule confined, keeps its output, stops and restarts it', async () => {
    assert.equal((await state())?.state, 'not started');
    const started = await json<{ state: string; pid: number }>(['capsule', 'start', 'hello']);
    assert.equal(started.state, 'running');
    let lines: string[] = [];
    for (let i = 0; i < 100 && !lines.some((l) => l.endsWith('OUT capsule hello started')); i++) {
      await sleep(100);
      lines = (await json<{ lines: string[] }>(['capsule', 'logs', 'hello'])).lines;
    }
    assert.ok(
      lines.some((l) => l.endsWith('OUT capsule hello started')),
      lines.join('\n'),
    );
    assert.match(await ok(['status']), /^hello\s+0\.1\.0\s+app\s+running\s+\d+\s+0/m);
    const again = await run(['capsule', 'start', 'hello']);
    assert.equal(again.code, 73);
    assert.match(again.stderr, /^error E_CAPSULE_EXISTS: /);
    assert.equal((await json<{ state: string }>(['capsule', 'stop', 'hello'])).state, 'stopped');
    const twice = await run(['capsule', 'stop', 'hello']);
    assert.equal(twice.code, 69);
    assert.match(twice.stderr, /^error E_CAPSULE_NOT_RUNNING: /);
    const restarted = await json<{ state: string; pid: number }>(['capsule', 'restart', 'hello']);
    assert.equal(restarted.state, 'running');
    assert.notEqual(restarted.pid, started.pid);
  });

  it('starts installed capsules at boot, and names what does not exist', async () => {
    await stopDaemon();
    await startDaemon();
    assert.equal((await state())?.state, 'running');
    const missing = await run(['capsule', 'logs', 'nobody']);
    assert.equal(missing.code, 66);
    assert.match(missing.stderr, /^error E_NOT_FOUND: /);
    assert.equal((await run(['capsule', 'start', 'nobody'])).code, 66);
  });
});
