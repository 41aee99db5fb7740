import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliIn, ELASTOSD, makeTempDir, noTpmDevConfig, stopChild, waitFor } from '@elastos/testkit';
import { buildProgram } from './program.js';
import { findCommand, SHOWN_BY } from './shown-by.js';

type Rec = { seq: number; actor: string; type: string; resource?: string; details?: Record<string, unknown> };

describe('the admin gaps: epoch show, audited trust changes and offline work, verify offline hint', function () {
  this.timeout(60_000);
  let dir: ReturnType<typeof makeTempDir>;
  let daemon: ChildProcess | undefined;
  const { run, ok, json } = cliIn(() => dir.path);
  const start = async () => {
    daemon = spawn(process.execPath, [ELASTOSD, '--config', join(dir.path, 'config.json')], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    await waitFor(() => existsSync(join(dir.path, 'run', 'admin.sock')));
  };
  const trail = async (offline: boolean): Promise<Rec[]> => {
    const store = offline ? ['--store', join(dir.path, 'state', 'store')] : [];
    const out = await ok(['--json', 'audit', 'tail', '-n', '200', ...store]);
    return out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Rec);
  };

  beforeEach(() => {
    dir = makeTempDir();
    writeFileSync(join(dir.path, 'config.json'), JSON.stringify(noTpmDevConfig({ trustDir: 'trust' })));
  });
  afterEach(async () => {
    await stopChild(daemon);
    daemon = undefined;
    dir.remove();
  });

  it('audits trust changes and installs made with the runtime stopped (offline records)', async () => {
    const key = await json<{ keyId: string }>(['capsule', 'keygen', '--out', 'me.key', '--name', 'Me']);
    const added = await json<{ keyId: string; via: string; next: string }>(['trust', 'add', 'me.key.pub']);
    assert.deepEqual([added.keyId, added.via], [key.keyId, 'offline']);
    assert.match(added.next, /E_TPM_PCR_MISMATCH.*provision --reseal/);
    await ok(['capsule', 'new', 'hello']);
    await ok(['capsule', 'pack', 'hello']);
    await ok(['capsule', 'sign', 'hello-0.1.0.capsule', '--key', 'me.key']);
    assert.equal((await json<{ via: string }>(['capsule', 'install', 'hello-0.1.0.capsule'])).via, 'offline');
    const records = await trail(true);
    const trust = records.find((r) => r.type === 'trust.add');
    assert.equal(trust?.resource, `key:${key.keyId}`);
    assert.equal(trust?.details?.offline, true);
    assert.equal(records.find((r) => r.type === 'capsule.install')?.details?.offline, true);
    // The runtime starts on that chain, and its trail shows them.
    await start();
    assert.ok((await trail(false)).some((r) => r.type === 'trust.add' && r.details?.offline === true));
  });

  it('adds trust through the running runtime (audited under the admin, says to reseal), shows the epoch', async () => {
    await start();
    await ok(['capsule', 'keygen', '--out', 'me.key', '--name', 'Me']);
    const added = await json<{ keyId: string; via: string; next: string }>(['trust', 'add', 'me.key.pub']);
    assert.equal(added.via, 'online');
    assert.match(added.next, /provision --reseal/);
    const text = await ok(['trust', 'add', 'me.key.pub']);
    assert.match(text, /E_TPM_PCR_MISMATCH/);
    const rec = (await trail(false)).find((r) => r.type === 'trust.add');
    assert.deepEqual([rec?.actor, rec?.resource, rec?.details?.offline], ['admin:0', `key:${added.keyId}`, undefined]);
    assert.deepEqual(
      (await json<{ keys: Array<{ keyId: string }> }>(['trust', 'list'])).keys.map((k) => k.keyId),
      [added.keyId],
    );
    assert.deepEqual(await json(['epoch', 'show']), { epoch: 0 });
    await ok(['epoch', 'bump']);
    assert.deepEqual(await json(['epoch', 'show']), { epoch: 1 });
    const removed = await json<{ via: string }>(['trust', 'remove', added.keyId]);
    assert.equal(removed.via, 'online');
    assert.ok((await trail(false)).some((r) => r.type === 'trust.remove' && r.actor === 'admin:0'));
  });

  it('audit verify with the runtime down says how to verify the store offline', async () => {
    const r = await run(['audit', 'verify']);
    assert.equal(r.code, 69);
    const store = join(dir.path, 'state', 'store');
    assert.ok(r.stderr.startsWith('error E_DAEMON_UNREACHABLE: '), r.stderr);
    assert.ok(r.stderr.includes(`elastos audit verify --store ${store}`), r.stderr);
  });

  it('names, for every command that changes the box, the command that shows it', () => {
    const program = buildProgram();
    for (const [change, show] of Object.entries(SHOWN_BY)) {
      const cmd = findCommand(program, change);
      assert.ok(cmd, `${change} is a command`);
      assert.ok(findCommand(program, show), `${show} is a command`);
      assert.ok(cmd.description().endsWith(`(shows: elastos ${show})`), change);
    }
  });
});
