import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, loadConfig, Runtime, Store } from '@elastos/runtime';
import { runElastos as elastos, makeTempDir, Swtpm, swtpmDevConfig } from '@elastos/testkit';

/**
 * Root with the disk against the token state (issue 19 item 3, runtime/spec/token.md §8.1, §8.3):
 * the daemon's epoch stands on a TPM NV counter, and `elastos audit verify` replays the anchored
 * records against the store's revocations, epoch and counters.
 */
describe('token state against root with the disk (runtime with a real swtpm)', function () {
  this.timeout(90_000);
  let dir: ReturnType<typeof makeTempDir>;
  let swtpm: Swtpm;
  let config: string;
  let pub: string;
  const cli = (...args: string[]) => elastos(['--config', config, ...args]);
  const run = async (fn: (r: Runtime) => Promise<void>) => {
    const runtime = new Runtime(loadConfig(config), createLogger({ name: 'test', level: 'warn' }));
    await runtime.start();
    try {
      await fn(runtime);
    } finally {
      await runtime.stop();
    }
  };
  const edit = async (fn: (s: Store) => Promise<void>) => {
    const s = await Store.open(join(dir.path, 'state', 'store'));
    try {
      await fn(s);
    } finally {
      await s.close();
    }
  };
  const verifyOffline = () =>
    cli('--json', 'audit', 'verify', '--store', join(dir.path, 'state', 'store'), '--public-key', pub);

  before(async () => {
    dir = makeTempDir();
    swtpm = new Swtpm(join(dir.path, 'tpm'));
    await swtpm.start();
    config = join(dir.path, 'config.json');
    writeFileSync(config, JSON.stringify(swtpmDevConfig(swtpm.tcti)));
    const p = await cli('--json', 'provision');
    assert.equal(p.code, 0, p.stderr);
    pub = (JSON.parse(p.stdout) as { publicKey: string }).publicKey;
  });
  after(async () => {
    await swtpm.stop();
    dir.remove();
  });

  it('keeps the epoch on the TPM and catches a deleted revocation or a lowered epoch in audit verify', async () => {
    let revoked = '';
    let epoch = 0;
    await run(async (runtime) => {
      const tokens = runtime.broker?.tokens;
      assert.ok(tokens);
      const grant = { holder: 'x', audience: 'y', resource: 'storage://a/', action: 'read', ttlMs: 60_000 };
      revoked = (await tokens.issue({ ...grant, maxUses: 0 })).claims.id;
      const r = await cli('token', 'revoke', revoked);
      assert.equal(r.code, 0, r.stderr);
      const bump = await cli('--json', 'epoch', 'bump');
      assert.equal(bump.code, 0, bump.stderr);
      epoch = (JSON.parse(bump.stdout) as { epoch: number }).epoch;
      const v = await cli('--json', 'audit', 'verify');
      assert.equal(v.code, 0, v.stderr);
      assert.deepEqual((JSON.parse(v.stdout) as { state: unknown[] }).state, [
        { revocations: 1, countedTokens: 0, epoch },
      ]);
    });
    assert.equal((await verifyOffline()).code, 0);

    await edit((s) => s.del('tokens', `r/${revoked}`, { sync: true }));
    const gone = await verifyOffline();
    assert.equal(gone.code, 65);
    assert.match(gone.stderr, /^error E_AUDIT_ROLLBACK: seq \d+: token [0-9a-f]{32} was revoked/);
    await edit((s) => s.put('tokens', `r/${revoked}`, new Uint8Array(0), { sync: true }));

    await edit((s) => s.put('meta', 'tokens.epoch', new TextEncoder().encode(String(epoch - 1)), { sync: true }));
    const lowered = await verifyOffline();
    assert.equal(lowered.code, 65);
    assert.match(lowered.stderr, /^error E_AUDIT_ROLLBACK: .*the stored epoch/);
    // The runtime itself stands on the TPM counter: the lowered epoch does not come back.
    await run(async (runtime) => {
      assert.equal(runtime.broker?.tokens.epoch, epoch);
    });
  });
});
