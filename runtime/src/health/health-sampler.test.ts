import assert from 'node:assert/strict';
import { cpus, totalmem } from 'node:os';
import { createLogger } from '../log/index.js';
import { capsuleHealthOf, HealthSampler } from './health-sampler.js';

const log = createLogger({ name: 'test', level: 'silent', pretty: false });

describe('health sampler (systeminformation, sampled on a timer)', function () {
  this.timeout(15_000);
  let sampler: HealthSampler | undefined;
  afterEach(async () => {
    await sampler?.stop();
    sampler = undefined;
  });

  it('measures this machine: memory, cores, load, disks (temperature or null where there is no sensor)', async () => {
    sampler = new HealthSampler(60_000, log);
    sampler.start();
    const r = await sampler.latest();
    assert.equal(r.memory.totalBytes, totalmem());
    assert.ok(r.memory.usedBytes > 0 && r.memory.usedBytes < r.memory.totalBytes);
    assert.equal(r.cpu.cores, cpus().length);
    assert.ok(r.cpu.loadPercent >= 0 && r.cpu.loadPercent <= 100);
    assert.ok(r.cpu.temperatureC === null || (r.cpu.temperatureC > -40 && r.cpu.temperatureC < 150));
    assert.ok(r.disks.some((d) => d.mount === '/' && d.sizeBytes > d.usedBytes));
    assert.deepEqual(r.capsules, []);
  });

  it('serves the last reading without measuring again', async () => {
    sampler = new HealthSampler(60_000, log);
    sampler.start();
    const first = await sampler.latest();
    const again = await sampler.latest();
    assert.equal(again, first, 'the very same reading object: nothing was measured');
  });

  it('resamples on its timer, with the capsules the supervisor reports', async () => {
    sampler = new HealthSampler(500, log);
    sampler.start();
    const first = await sampler.latest();
    sampler.setCapsuleSource(() => [{ id: 'c1', name: 'photos', memoryBytes: 1 << 20, pids: 3 }]);
    const deadline = Date.now() + 5000;
    let next = first;
    while (next === first && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      next = await sampler.latest();
    }
    assert.notEqual(next, first);
    assert.deepEqual(next.capsules, [{ id: 'c1', name: 'photos', memoryBytes: 1 << 20, pids: 3 }]);
    await sampler.stop();
    const stopped = await sampler.latest();
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(await sampler.latest(), stopped, 'no sample after stop');
  });

  it('turns the supervisor list into health rows: running capsules with their cgroup readings only', () => {
    const usage = { memoryBytes: 5 << 20, memoryPeakBytes: null, cpuUsec: 1500, pids: 4 };
    const rows = capsuleHealthOf([
      { name: 'photos', id: 'cap1abc', usage },
      { name: 'stopped', id: 'cap1def', usage: null },
    ]);
    assert.deepEqual(rows, [{ id: 'cap1abc', name: 'photos', memoryBytes: 5 << 20, pids: 4, cpuUsageUsec: 1500 }]);
  });
});
