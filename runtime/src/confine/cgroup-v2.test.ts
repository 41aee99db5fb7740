import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '@elastos/testkit';
import { CgroupV2Driver } from './cgroup-v2.js';

/**
 * This machine's cgroup v2 offers only hugetlb (FACTS.md), so the v2 driver's file protocol is
 * checked against an emulated cgroupfs in a temp dir (named so); on a v2 kernel the hostile and
 * supervisor suites exercise it for real, since detectCgroupDriver then picks it.
 */
describe('cgroup v2 driver (emulated cgroupfs: this kernel offers no v2 controllers)', () => {
  let tmp: ReturnType<typeof makeTempDir>;
  beforeEach(() => {
    tmp = makeTempDir('elastos-cg2-');
  });
  afterEach(() => tmp.remove());

  it('moves the runtime into a leaf, delegates controllers, writes limits and reads usage', () => {
    const own = join(tmp.path, 'system.slice', 'elastos.service');
    mkdirSync(own, { recursive: true });
    writeFileSync(join(own, 'cgroup.procs'), '1234\n');
    const driver = new CgroupV2Driver(
      tmp.path,
      '/system.slice/elastos.service',
      ['cpu', 'memory', 'pids', 'io'],
      'capsules',
    );
    assert.deepEqual(driver.controllers, ['memory', 'pids', 'cpu']);
    const cg = driver.create('demo', { memoryBytes: 64 << 20, pids: 32, cpuPercent: 25 });
    const dir = join(own, 'capsules', 'demo');
    assert.deepEqual(cg.dirs, [dir]);
    assert.equal(readFileSync(join(own, 'runtime', 'cgroup.procs'), 'utf8'), '1234', 'runtime moved to a leaf');
    assert.equal(readFileSync(join(own, 'cgroup.subtree_control'), 'utf8'), '+memory +pids +cpu');
    assert.equal(readFileSync(join(dir, 'memory.max'), 'utf8'), String(64 << 20));
    assert.equal(readFileSync(join(dir, 'pids.max'), 'utf8'), '32');
    assert.equal(readFileSync(join(dir, 'cpu.max'), 'utf8'), '25000 100000');
    assert.equal(readFileSync(join(dir, 'cpu.weight'), 'utf8'), '25');
    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n');
    writeFileSync(join(dir, 'pids.events'), 'max 2\n');
    writeFileSync(join(dir, 'cpu.stat'), 'usage_usec 4200\nuser_usec 4000\n');
    writeFileSync(join(dir, 'memory.current'), '1048576\n');
    assert.deepEqual(cg.events(), { oomKills: 1, pidsMax: 2 });
    assert.equal(cg.usage().cpuUsec, 4200);
    assert.equal(cg.usage().memoryBytes, 1048576);
  });
});
