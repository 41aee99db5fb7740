import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeCapsuleDirs, makeTempDir, noTpmDevConfig, testInstance } from '@elastos/testkit';
import { loadConfig } from '../config/index.js';
import type { ElastosError } from '../errors/index.js';
import { createLogger } from '../log/index.js';
import { Runtime } from './runtime.js';

const log = createLogger({ name: 'instances', level: 'silent' });
const limits = { memoryBytes: 128 * 2 ** 20, pids: 32, cpuPercent: 50 };

/** A runtime in its own temp dir (no TPM: dev's explicit insecure mode) with the given confine settings. */
async function startRuntime(dir: string, confine: Record<string, unknown>): Promise<Runtime> {
  const path = join(dir, 'config.json');
  writeFileSync(path, JSON.stringify(noTpmDevConfig({ logLevel: 'fatal', confine })));
  const runtime = new Runtime(loadConfig(path), log);
  try {
    await runtime.start();
  } catch (err) {
    await runtime.stop();
    throw err;
  }
  return runtime;
}

/** A quiet capsule named `sysinfo` (as both runtimes of the issue ran) started by `runtime`. */
async function startSysinfo(runtime: Runtime, dir: string): Promise<number> {
  const dirs = makeCapsuleDirs(dir, 'sysinfo');
  writeFileSync(join(dirs.codeDir, dirs.entry), 'setInterval(() => {}, 60_000);\n');
  const status = await runtime.supervisor?.start({
    name: 'sysinfo',
    id: 't',
    ...dirs,
    limits,
    network: false,
    env: {},
  });
  assert.ok(status?.pid, 'sysinfo runs');
  return status.pid;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('two runtime instances on one host (real launcher and cgroups)', function () {
  this.timeout(60_000);
  const dirs = [makeTempDir(), makeTempDir()];
  const runtimes: Runtime[] = [];
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.stop();
  });
  after(() => {
    for (const d of dirs) d.remove();
  });

  it("stopping a capsule in one runtime leaves the other's capsule of the same name running", async () => {
    const [a, b] = [dirs[0]?.path ?? '', dirs[1]?.path ?? ''];
    runtimes.push(await startRuntime(a, testInstance()), await startRuntime(b, testInstance()));
    const [ra, rb] = runtimes as [Runtime, Runtime];
    const pidA = await startSysinfo(ra, a);
    const pidB = await startSysinfo(rb, b);
    assert.notDeepEqual(ra.supervisor?.status('sysinfo').cgroup, rb.supervisor?.status('sysinfo').cgroup);
    assert.notEqual(ra.supervisor?.status('sysinfo').uid, rb.supervisor?.status('sysinfo').uid);
    await rb.supervisor?.stop('sysinfo');
    assert.equal(alive(pidB), false);
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(alive(pidA), true, "the first runtime's sysinfo survives");
    assert.equal(ra.supervisor?.status('sysinfo').state, 'running');
  });

  it('refuses to start a second runtime with the same cgroup parent and uid range (E_CONFINE_INSTANCE)', async () => {
    const [a, b] = [dirs[0]?.path ?? '', dirs[1]?.path ?? ''];
    const same = testInstance();
    runtimes.push(await startRuntime(a, same));
    await startSysinfo(runtimes[0] as Runtime, a);
    await assert.rejects(startRuntime(b, same), (err: ElastosError) => err.code === 'E_CONFINE_INSTANCE');
    await assert.rejects(
      startRuntime(b, { ...testInstance(), uidBase: same.uidBase + 1 }),
      (err: ElastosError) => err.code === 'E_CONFINE_INSTANCE',
    );
    assert.equal(runtimes[0]?.supervisor?.status('sysinfo').state, 'running');
  });
});
