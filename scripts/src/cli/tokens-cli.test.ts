import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ELASTOSD, runElastos as elastos, makeTempDir, noTpmDevConfig, stopChild, waitFor } from '@elastos/testkit';

describe('elastos token / epoch / requests against a running elastosd', function () {
  // Two daemon starts and seven CLI processes: well past mocha's 20 s on a loaded 2-core machine.
  this.timeout(90_000);
  let dir: ReturnType<typeof makeTempDir>;
  let config: string;
  let daemon: ChildProcess | undefined;
  const start = async () => {
    daemon = spawn(process.execPath, [ELASTOSD, '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
    await waitFor(() => existsSync(join(dir.path, 'run', 'admin.sock')));
  };
  const stop = () => stopChild(daemon);
  const cli = (...args: string[]) => elastos(['--config', config, ...args]);

  beforeEach(() => {
    dir = makeTempDir();
    config = join(dir.path, 'config.json');
    writeFileSync(config, JSON.stringify(noTpmDevConfig()));
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
