import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger, loadConfig, Runtime, Store } from '@elastos/runtime';
import { ELASTOS, runElastos as elastos, makeTempDir, Swtpm, swtpmDevConfig } from '@elastos/testkit';

describe('elastos audit (runtime with a real swtpm)', function () {
  this.timeout(60_000);
  let dir: ReturnType<typeof makeTempDir>;
  let swtpm: Swtpm;
  let config: string;
  let pub: string;

  before(async () => {
    dir = makeTempDir();
    swtpm = new Swtpm(join(dir.path, 'tpm'));
    await swtpm.start();
    config = join(dir.path, 'config.json');
    writeFileSync(
      config,
      JSON.stringify(swtpmDevConfig(swtpm.tcti, { audit: { checkpointEntries: 40, checkpointMs: 200 } })),
    );
    // The runtime key sealed in the swtpm: the daemon unseals it at boot and signs checkpoints with it.
    const p = await elastos(['--config', config, '--json', 'provision']);
    assert.equal(p.code, 0, p.stderr);
    pub = (JSON.parse(p.stdout) as { publicKey: string }).publicKey;
  });
  after(async () => {
    await swtpm.stop();
    dir.remove();
  });

  it('verifies, tails, exports and proves through the admin socket, then offline after stop', async () => {
    let base = 0;
    const runtime = new Runtime(loadConfig(config), createLogger({ name: 'test', level: 'warn' }));
    await runtime.start();
    assert.equal(Buffer.from(runtime.key?.publicKey ?? []).toString('hex'), pub);
    try {
      const audit = runtime.audit;
      assert.ok(audit);
      base = audit.head.next; // boot's own records come first
      await Promise.all(
        Array.from({ length: 100 }, (_, i) =>
          audit.append({ actor: i % 2 ? 'capsule:photos' : 'runtime', type: 'invoke', details: { i } }),
        ),
      );
      const cp = await elastos(['--config', config, '--json', 'audit', 'checkpoint']);
      assert.equal(cp.code, 0, cp.stderr);
      const v = await elastos(['--config', config, '--json', 'audit', 'verify']);
      assert.equal(v.code, 0, v.stderr);
      const report = JSON.parse(v.stdout) as { records: number; anchor: string; unchecked: number };
      assert.equal(report.records, base + 100);
      assert.equal(report.anchor, 'anchored');

      const t = await elastos(['--config', config, '--json', 'audit', 'tail', '-n', '3', '--capsule', 'photos']);
      assert.equal(t.code, 0, t.stderr);
      const tailed = t.stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { seq: number; actor: string });
      assert.deepEqual(
        tailed.map((r) => r.seq),
        [base + 95, base + 97, base + 99],
      );

      const p = await elastos(['--config', config, '--json', 'audit', 'proof', String(base + 42)]);
      assert.equal(p.code, 0, p.stderr);
      assert.equal((JSON.parse(p.stdout) as { record: { seq: number } }).record.seq, base + 42);

      const e = await elastos([
        '--config',
        config,
        'audit',
        'export',
        '--from',
        String(base + 10),
        '--to',
        String(base + 60),
      ]);
      assert.equal(e.code, 0, e.stderr);
      const file = join(dir.path, 'export.jsonl');
      writeFileSync(file, e.stdout);
      const c = await elastos(['--json', 'audit', 'check', file, '--public-key', pub]);
      assert.equal(c.code, 0, c.stderr);
      assert.equal((JSON.parse(c.stdout) as { records: number }).records, 51);
      // An outsider notices a record changed in the export.
      writeFileSync(file, e.stdout.replace('"i":20}', '"i":21}'));
      const bad = await elastos(['audit', 'check', file, '--public-key', pub]);
      assert.equal(bad.code, 65);
      assert.match(bad.stderr, new RegExp(`^error E_AUDIT_CHAIN: seq ${base + 20}: `));
      // tail -f prints records appended after it started.
      const follow = spawn(process.execPath, [ELASTOS, '--config', config, '--json', 'audit', 'tail', '-f', '-n', '1']);
      try {
        let out = '';
        follow.stdout.on('data', (d: Buffer) => {
          out += d.toString();
        });
        const deadline = Date.now() + 15_000;
        while (!out.includes(`"seq":${base + 99}`) && Date.now() < deadline)
          await new Promise((r) => setTimeout(r, 50));
        await audit.append({ actor: 'runtime', type: 'last' });
        while (!out.includes('"type":"last"') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
        assert.match(out, new RegExp(`"seq":${base + 100},.*"type":"last"`));
      } finally {
        follow.kill('SIGTERM');
      }
    } finally {
      await runtime.stop();
    }

    // Offline: the final checkpoint at stop covers the last record.
    const store = join(dir.path, 'state', 'store');
    const ok = await elastos(['--config', config, '--json', 'audit', 'verify', '--store', store, '--public-key', pub]);
    assert.equal(ok.code, 0, ok.stderr);
    const report = JSON.parse(ok.stdout) as { records: number; unchecked: number; anchor: string };
    assert.deepEqual([report.records, report.unchecked, report.anchor], [base + 101, 0, 'anchored']);

    // Without a key to trust, the TPM anchor vouches for the runtime key the log introduced.
    const anchored = await elastos(['--config', config, '--json', 'audit', 'verify', '--store', store]);
    assert.equal(anchored.code, 0, anchored.stderr);
    const noTpm = await elastos(['--config', config, 'audit', 'verify', '--store', store, '--no-tpm']);
    assert.equal(noTpm.code, 65);
    assert.match(noTpm.stderr, /^error E_AUDIT_CHECKPOINT: seq 0: .*only the TPM anchor could vouch for/);

    const badPrune = await elastos(['audit', 'prune', '--store', store, '--below', '5']);
    assert.equal(badPrune.code, 65);
    assert.match(badPrune.stderr, /^error E_AUDIT_PRUNE: /);

    const s = await Store.open(store);
    await s.ns('audit').del(`r/${String(base + 33).padStart(16, '0')}`);
    await s.close();
    const broken = await elastos(['--config', config, 'audit', 'verify', '--store', store, '--public-key', pub]);
    assert.equal(broken.code, 65);
    assert.match(broken.stderr, new RegExp(`^error E_AUDIT_CHAIN: seq ${base + 33}: record missing`));
  });
});
