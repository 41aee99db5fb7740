import assert from 'node:assert/strict';
import { CapsuleHost, type CapsuleRunner, type RunSpec } from './capsule-host.js';
import type { CapsuleLogs } from './capsule-logs.js';
import type { CapsuleManager, InstalledCapsule } from './capsule-manager.js';

const installed = (over: Partial<InstalledCapsule>): InstalledCapsule =>
  ({
    name: 'printer',
    id: 'cap1x',
    version: '1.0.0',
    publisher: '0123456789abcdef',
    codeDir: '/nonexistent/code',
    entry: 'main.js',
    dataDir: '/nonexistent/data',
    limits: { memoryMiB: 64, pids: 16, cpuPercent: 50 },
    network: true,
    lan: ['192.168.7.0/24', '10.1.0.0/16'],
    manifest: { type: 'app' },
    ...over,
  }) as InstalledCapsule;

/** A host over a stub manager (named so: loadInstalled and list only) and a runner that records its specs. */
function host(capsule: InstalledCapsule, grantLan?: (c: string, r: string[]) => Promise<string[]>) {
  const started: RunSpec[] = [];
  const runner: CapsuleRunner = {
    start: async (spec) => started.push(spec),
    stop: async () => undefined,
    list: () => [],
  };
  const manager = {
    loadInstalled: async () => capsule,
    list: async () => [{ name: capsule.name, version: capsule.version, id: capsule.id }],
  } as unknown as CapsuleManager;
  const logs = {} as CapsuleLogs;
  return { started, host: new CapsuleHost({ manager, runner, logs, ...(grantLan ? { grantLan } : {}) }) };
}

describe('capsule host: LAN ranges a manifest names are opened only as policy grants them', () => {
  it('asks policy about the named ranges and starts the capsule with the granted subset', async () => {
    const asked: Array<[string, string[]]> = [];
    const { host: h, started } = host(installed({}), async (c, ranges) => {
      asked.push([c, ranges]);
      return ['10.1.0.0/16'];
    });
    await h.start('printer');
    assert.deepEqual(asked, [['printer', ['192.168.7.0/24', '10.1.0.0/16']]]);
    assert.deepEqual(started[0]?.lan, ['10.1.0.0/16']);
    assert.equal(started[0]?.network, true);
  });

  it('without a policy step, or with none granted, no range is opened; nothing is asked without ranges', async () => {
    const unwired = host(installed({}));
    await unwired.host.start('printer');
    assert.equal(unwired.started[0]?.lan, undefined);
    const none = host(installed({}), async () => []);
    await none.host.start('printer');
    assert.equal(none.started[0]?.lan, undefined);
    let asked = 0;
    const count = async () => {
      asked++;
      return [];
    };
    await host(installed({ lan: [] }), count).host.start('printer');
    await host(installed({ network: false, lan: [] }), count).host.start('printer');
    assert.equal(asked, 0);
  });
});
