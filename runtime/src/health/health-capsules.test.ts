import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCapsuleDirs, makeTempDir, requireFeature, testInstance } from '@elastos/testkit';
import { AdminClient } from '../admin/index.js';
import { loadConfig } from '../config/index.js';
import { Runtime } from '../daemon/runtime.js';
import { ElastosError } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import type { HealthReading } from './health-sampler.js';

describe('admin health with a running capsule (real launcher and cgroups)', function () {
  this.timeout(30_000);
  let dir: ReturnType<typeof makeTempDir>;
  let runtime: Runtime;

  before(async () => {
    dir = makeTempDir();
    const config = {
      profile: 'dev',
      runDir: 'run',
      stateDir: 'state',
      logLevel: 'fatal',
      tpm: { insecureNoTpm: true }, // no TPM in this test: the dev profile's explicit insecure mode
      health: { intervalMs: 500 },
      confine: testInstance(),
    };
    writeFileSync(join(dir.path, 'config.json'), JSON.stringify(config));
    runtime = new Runtime(loadConfig(join(dir.path, 'config.json')), createLogger({ name: 't', level: 'silent' }));
    await runtime.start();
  });
  after(async () => {
    await runtime?.stop();
    dir?.remove();
  });

  it("shows the capsule's cgroup memory, pids and CPU time in the health reading", async function () {
    const supervisor = runtime.supervisor;
    if (!supervisor) throw new Error('the runtime has no supervisor');
    const limits = { memoryBytes: 128 * 2 ** 20, pids: 32, cpuPercent: 50 };
    const dirs = makeCapsuleDirs(dir.path, 'idle');
    // A quiet capsule: it holds some memory and says nothing on its channel (the broker's fd 3).
    writeFileSync(
      join(dirs.codeDir, dirs.entry),
      'globalThis.keep = Buffer.alloc(4 << 20, 1); setInterval(() => {}, 60_000);\n',
    );
    const spec = { name: 'idle', id: 'test-idle', ...dirs, limits, network: false, env: {} };
    try {
      await supervisor.start(spec);
    } catch (err) {
      if (!(err instanceof ElastosError) || err.code !== 'E_CONFINE_UNAVAILABLE') throw err;
      requireFeature(this, false, err.message);
    }
    const client = await AdminClient.connect(join(dir.path, 'run', 'admin.sock'));
    try {
      let reading = (await client.call('health')) as HealthReading;
      const deadline = Date.now() + 10_000;
      while (reading.capsules.length === 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        reading = (await client.call('health')) as HealthReading;
      }
      const [row] = reading.capsules;
      assert.equal(row?.name, 'idle');
      assert.equal(row?.id, 'test-idle');
      assert.ok((row?.memoryBytes ?? 0) > 1 << 20, `memory ${row?.memoryBytes}`);
      assert.ok((row?.pids ?? 0) >= 1, `pids ${row?.pids}`);
      assert.ok((row?.cpuUsageUsec ?? 0) > 0, `cpu ${row?.cpuUsageUsec}`);
    } finally {
      client.close();
    }
  });
});
