import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeTempDir } from '@elastos/testkit';
import { REPO_ROOT } from './workspaces.js';

const run = promisify(execFile);
const SCRIPT = join(REPO_ROOT, 'scripts', 'swtpm');

describe('scripts/swtpm start | status | stop', function () {
  this.timeout(20_000);
  const dir = makeTempDir('swtpm-script-');
  after(async () => {
    await run(SCRIPT, ['stop', dir.path]).catch(() => undefined);
    dir.remove();
  });

  it('starts a detached swtpm that tpm2-tools reach, reports no leaked handles, and stops it', async () => {
    const { stdout } = await run(SCRIPT, ['start', dir.path]);
    const tcti = stdout.trim();
    assert.equal(tcti, `swtpm:path=${join(dir.path, 'sock')}`);
    const random = await run('tpm2_getrandom', ['-T', tcti, '--hex', '8']);
    assert.match(random.stdout, /^[0-9a-f]{16}$/);
    const status = await run(SCRIPT, ['status', dir.path]);
    assert.match(status.stdout, /^running swtpm:path=/);
    assert.match(status.stdout, /^handles-transient: $/m);
    await run(SCRIPT, ['stop', dir.path]);
    await assert.rejects(run(SCRIPT, ['status', dir.path]), (err: { code?: number }) => err.code === 69);
    await assert.rejects(run(SCRIPT, ['frob', dir.path]), (err: { code?: number }) => err.code === 64);
  });
});
