import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import { REPO_ROOT } from '../workspaces.js';

const ELASTOS = join(REPO_ROOT, 'scripts', 'bin', 'elastos');
const ELASTOSD = join(REPO_ROOT, 'runtime', 'bin', 'elastosd');

function elastos(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [ELASTOS, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('elastos token / epoch / requests against a running elastosd', () => {
  let dir: ReturnType<typeof makeTempDir>;
  let config: string;
  let daemon: ChildProcess | undefined;
  const start = async () => {
    daemon = spawn(process.execPath, [ELASTOSD, '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
    await waitFor(() => existsSync(join(dir.path, 'run', 'admin.sock')));
  };
  const stop = async () => {
    if (daemon && daemon.exitCode === null) {
      daemon.kill('SIGTERM');
      await new Promise((r) => daemon?.once('exit', r));
    }
  };
  const cli = (...args: string[]) => elastos(['--config', config, ...args]);

  beforeEach(() => {
    dir = makeTempDir();
    config = join(dir.path, 'config.json');
    // No TPM here (tpm.test.ts runs the runtime on swtpm): the dev profile's explicit insecure mode.
    const settings = {
      profile: 'dev',
      runDir: 'run',
      stateDir: 'state',
      logLevel: 'warn',
      tpm: { insecureNoTpm: true },
    };
    writeFileSync(config, JSON.stringify(settings));
  });
  afterEach(async () => {
    await stop();
    dir.remove();
  });

  it('lists no tokens, bumps the epoch persistently, and answers unknown ids and a missing shell with codes', async () => {
    await start();
    const list = await cli('--json', 'token', 'list');
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(JSON.parse(list.stdout), []);
    assert.equal((await cli('token', 'list')).stdout.trim(), 'no live tokens');
    const bump = await cli('--json', 'epoch', 'bump');
    assert.deepEqual(JSON.parse(bump.stdout), { epoch: 1 });
    const revoke = await cli('token', 'revoke', 'ab'.repeat(16));
    assert.equal(revoke.code, 66);
    assert.match(revoke.stderr, /^error E_NOT_FOUND: no token/);
    const requests = await cli('requests');
    assert.equal(requests.code, 69);
    assert.match(requests.stderr, /^error E_BROKER_NO_PROVIDER: the shell capsule is not running/);
    await stop();
    await start();
    assert.deepEqual(JSON.parse((await cli('--json', 'epoch', 'bump')).stdout), { epoch: 2 });
  });

  it('documents its commands in --help', async () => {
    const help = await elastos(['--help']);
    for (const word of ['token', 'epoch', 'requests', 'approve', 'deny']) assert.match(help.stdout, new RegExp(word));
    assert.match((await elastos(['token', 'revoke', '--help'])).stdout, /revoke one token/);
  });
});
