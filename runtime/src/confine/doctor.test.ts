import assert from 'node:assert/strict';
import { join } from 'node:path';
import { type AuditRecord, GENESIS_HASH } from '@elastos/protocol/audit/record';
import { makeTempDir, requireFeature } from '@elastos/testkit';
import { pino } from 'pino';
import { AuditLog, walkChain } from '../audit/index.js';
import { createLogger } from '../log/index.js';
import { Store } from '../store/index.js';
import { BUNDLED_LAUNCHER, prepareConfinement } from './confine-context.js';
import { type KernelLayers, layerReport, missingLayers, probeKernel } from './doctor.js';

const log = createLogger({ name: 'doctor-test', level: 'fatal' });

const FULL: KernelLayers = {
  launcher: true,
  root: true,
  noNewPrivs: true,
  seccompFilter: true,
  namespaces: true,
  userNamespace: true,
  landlockAbi: 7,
  memfdNoexec: true,
  privateNetwork: true,
  diskQuota: true,
  cgroup: { v1: [], v2: ['memory', 'pids', 'cpu'], version: 2, controllers: ['memory', 'pids', 'cpu'] },
};

const NO_CPU = { v1: [], v2: ['memory', 'pids'], version: 2 as const, controllers: ['memory', 'pids'] };

describe('confinement doctor', () => {
  it('finds every required layer on this kernel (CI fails when one is missing)', function () {
    const report = layerReport(probeKernel(BUNDLED_LAUNCHER));
    const missing = report.filter((r) => r.required && !r.available).map((r) => r.layer);
    requireFeature(this, missing.length === 0, `missing layers: ${missing.join(', ')}`);
    assert.deepEqual(missingLayers(report, 'production'), []);
  });

  it('production refuses a missing required layer with E_CONFINE_UNAVAILABLE naming it', () => {
    const report = layerReport({ ...FULL, seccompFilter: false });
    assert.throws(() => missingLayers(report, 'production'), {
      code: 'E_CONFINE_UNAVAILABLE',
      message: /seccomp/,
    });
  });

  it('production tolerates missing optional layers (user namespace, Landlock)', () => {
    const report = layerReport({ ...FULL, userNamespace: false, landlockAbi: 0 });
    assert.deepEqual(missingLayers(report, 'production'), []);
  });

  it('dev goes on without a degradable layer, but never without namespaces or seccomp', () => {
    const cg = { v1: ['memory'], v2: [], version: 1 as const, controllers: ['memory'] };
    const degraded = missingLayers(layerReport({ ...FULL, cgroup: cg }), 'dev').map((r) => r.layer);
    assert.deepEqual(degraded, ['cgroup.pids', 'cgroup.cpu']);
    assert.throws(() => missingLayers(layerReport({ ...FULL, namespaces: false }), 'dev'), {
      code: 'E_CONFINE_UNAVAILABLE',
    });
    assert.throws(() => missingLayers(layerReport({ ...FULL, seccompFilter: false }), 'dev'), {
      code: 'E_CONFINE_UNAVAILABLE',
      message: /seccomp/,
    });
  });

  // Optional layers whose absence refuses only the capsules that need them; production still runs.
  const optional: Array<[layer: string, key: 'privateNetwork' | 'diskQuota', detail: RegExp]> = [
    ['network.private', 'privateNetwork', /own netns, veth \(made by the launcher\) \+ NAT, nftables egress policy/],
    ['disk.quota', 'diskQuota', /own preallocated ext4 volume/],
  ];
  it('reports the private network and the disk quota; without either production still runs (capsules that need it are refused)', () => {
    for (const [layer, key, detail] of optional) {
      const row = (k: KernelLayers) => layerReport(k).find((r) => r.layer === layer);
      assert.equal(row(FULL)?.available, true, layer);
      assert.match(row(FULL)?.detail ?? '', detail);
      const without = layerReport({ ...FULL, [key]: false });
      assert.equal(without.find((r) => r.layer === layer)?.available, false, layer);
      assert.deepEqual(missingLayers(without, 'production'), [], layer);
    }
  });

  it('finds nftables on this machine (CI fails without: scripts/setup installs it)', function () {
    requireFeature(this, probeKernel(BUNDLED_LAUNCHER).privateNetwork, 'nft (nftables)');
  });

  it('finds loop devices, ext4 and e2fsprogs on this machine (CI fails without)', function () {
    requireFeature(this, probeKernel(BUNDLED_LAUNCHER).diskQuota, 'loop devices, ext4, mke2fs, fallocate');
  });

  it('each row says what its absence means', () => {
    for (const row of layerReport(FULL)) assert.ok(row.meaning.length > 20, row.layer);
  });

  it('dev with a missing layer warns loudly and writes an audit entry naming it', async () => {
    const tmp = makeTempDir('elastos-doctor-');
    const store = await Store.open(join(tmp.path, 'store'));
    const audit = await AuditLog.open(store);
    const lines: string[] = [];
    const loud = pino({ level: 'warn' }, { write: (line: string) => lines.push(line) });
    const ctx = await prepareConfinement({
      profile: 'dev',
      cgroupParent: 'elastos-doctor-test',
      log: loud,
      audit,
      layers: { ...probeKernel(BUNDLED_LAUNCHER), cgroup: NO_CPU },
    });
    assert.deepEqual(
      ctx.degraded.map((l) => l.layer),
      ['cgroup.cpu'],
    );
    await audit.close();
    const records: AuditRecord[] = [];
    for await (const r of walkChain(store, { seq: 0, prev: GENESIS_HASH })) records.push(r.record);
    await store.close();
    tmp.remove();
    assert.deepEqual(
      records.map((e) => [e.type, e.resource, e.code]),
      [['confine.degraded', 'layer:cgroup.cpu', 'E_CONFINE_UNAVAILABLE']],
    );
    assert.match(lines[0] ?? '', /"level":40.*CONFINEMENT DEGRADED: cgroup.cpu is missing/);
    await assert.rejects(
      prepareConfinement({
        profile: 'production',
        cgroupParent: 'x',
        log,
        layers: { ...FULL, seccompFilter: false },
      }),
      { code: 'E_CONFINE_UNAVAILABLE' },
    );
  });
});
