import assert from 'node:assert/strict';
import { launchPlan, nodeFlags, type PlanContext } from './launch-plan.js';
import { allowedSyscalls, loadAllowTable, seccompRules } from './seccomp-policy.js';
import type { CapsuleSpec } from './types.js';

const spec: CapsuleSpec = {
  name: 'demo',
  id: 'sha256-x',
  codeDir: '/var/lib/elastos/capsules/demo/code',
  entry: 'main.mjs',
  dataDir: '/var/lib/elastos/capsules/demo/data',
  limits: { memoryBytes: 64 << 20, pids: 32, cpuPercent: 25 },
  network: false,
  env: { LANG: 'C' },
};
const ctx: PlanContext = {
  launcher: '/usr/lib/elastos/elastos-launch',
  nodePath: '/usr/bin/node',
  nodeBinds: ['/usr/bin/node:/usr/bin/node'],
  cgroupDirs: ['/sys/fs/cgroup/elastos/demo'],
  uid: 200_000,
  tmpBytes: 1 << 20,
};

const valuesOf = (args: string[], flag: string) => args.flatMap((a, i) => (args[i - 1] === flag ? [a] : []));

describe('launch plan and seccomp policy', () => {
  it('binds code read-only, data read-write, Node, devices and a private /tmp; nothing else', () => {
    const { args, env } = launchPlan(spec, ctx);
    assert.deepEqual(valuesOf(args, '--rw'), [`${spec.dataDir}:/capsule/data`]);
    assert.deepEqual(valuesOf(args, '--ro'), [`${spec.codeDir}:/capsule/code`, '/usr/bin/node:/usr/bin/node']);
    assert.deepEqual(valuesOf(args, '--tmpfs'), ['/tmp:1048576']);
    assert.deepEqual(env, { LANG: 'C' }, 'only the spec environment');
    assert.equal(valuesOf(args, '--unshare')[0], 'mnt,pid,ipc,uts,cgroup,user?,net');
    assert.deepEqual(args.slice(args.indexOf('--') + 1, args.indexOf('--') + 3), [
      '/usr/bin/node',
      '--experimental-permission',
    ]);
    assert.equal(args.at(-1), '/capsule/code/main.mjs');
  });

  it('with a grant: its own network namespace with a veth pair the launcher makes (--veth), and name resolution files', () => {
    const inside = { ...ctx, veth: 'elc300001', netnsIpv4: '10.231.0.6/30,10.231.0.5' };
    const { args } = launchPlan({ ...spec, network: true }, inside);
    assert.ok(valuesOf(args, '--unshare')[0]?.endsWith(',net'), 'a new network namespace, never the host’s');
    assert.deepEqual(valuesOf(args, '--veth'), ['elc300001']);
    assert.deepEqual(valuesOf(args, '--netns-ipv4'), ['10.231.0.6/30,10.231.0.5']);
    assert.deepEqual(valuesOf(launchPlan(spec, inside).args, '--veth'), [], 'no grant, no link');
    assert.ok(valuesOf(launchPlan({ ...spec, network: true }, ctx).args, '--unshare')[0]?.endsWith(',net'));
    const bad = { ...inside, netnsIpv4: '10.0.0.1/30 --rw /:/x' };
    assert.throws(() => launchPlan({ ...spec, network: true }, bad), { code: 'E_CONFINE_LAUNCH' });
    const badName = { ...inside, veth: 'eth0 --rw' };
    assert.throws(() => launchPlan({ ...spec, network: true }, badName), { code: 'E_CONFINE_LAUNCH' });
    assert.ok(valuesOf(args, '--seccomp').every((r) => r !== '97:socket:0:0xffffffff:2'));
  });

  it('with a disk quota: its volume at /capsule/data instead of its data dir', () => {
    const { args } = launchPlan(spec, { ...ctx, volume: `${spec.dataDir}.ext4` });
    assert.deepEqual(valuesOf(args, '--volume'), [`${spec.dataDir}.ext4:/capsule/data`]);
    assert.deepEqual(valuesOf(args, '--rw'), []);
    assert.throws(() => launchPlan(spec, { ...ctx, volume: '/a:/b.ext4' }), { code: 'E_CONFINE_LAUNCH' });
  });

  it("binds the admin's config files read-only under /capsule/config, and nowhere else", () => {
    const files = [{ host: `${spec.dataDir}/rules.json`, view: '/capsule/config/rules.json' }];
    const plan = launchPlan({ ...spec, configFiles: files }, ctx);
    assert.ok(valuesOf(plan.args, '--ro').includes(`${spec.dataDir}/rules.json:/capsule/config/rules.json`));
    assert.ok(plan.args.includes('--allow-fs-read=/capsule/config/rules.json'));
    const outside = [{ host: '/etc/shadow', view: '/capsule/code/x' }];
    assert.throws(() => launchPlan({ ...spec, configFiles: outside }, ctx), { code: 'E_CONFINE_LAUNCH' });
  });

  it('refuses an entry outside the code dir and paths the launcher would misparse', () => {
    assert.throws(() => launchPlan({ ...spec, entry: '../../etc/passwd' }, ctx), { code: 'E_CONFINE_LAUNCH' });
    assert.throws(() => launchPlan({ ...spec, dataDir: '/a:/b' }, ctx), { code: 'E_CONFINE_LAUNCH' });
    assert.throws(() => launchPlan({ ...spec, codeDir: 'relative' }, ctx), { code: 'E_CONFINE_LAUNCH' });
  });

  it('allows workers and child processes only when declared', () => {
    assert.ok(!nodeFlags(spec).some((f) => f === '--allow-worker' || f === '--allow-child-process'));
    assert.ok(nodeFlags({ ...spec, workers: true, childProcess: true }).includes('--allow-worker'));
  });

  it('allows none of what Docker and @system-service leave out, and no socket family but AF_UNIX', () => {
    for (const arch of ['x86_64', 'aarch64'] as const) {
      const allowed = allowedSyscalls(loadAllowTable(arch));
      for (const name of ['mount', 'ptrace', 'kexec_load', 'bpf', 'init_module', 'keyctl', 'perf_event_open']) {
        assert.ok(!allowed.includes(name), name);
      }
      for (const name of ['userfaultfd', 'unshare', 'setns', 'io_uring_setup', 'open_by_handle_at', 'clone3']) {
        assert.ok(!allowed.includes(name), name);
      }
      for (const name of ['memfd_create', 'execveat', 'process_vm_readv', 'add_key', 'personality', 'mknodat']) {
        assert.ok(!allowed.includes(name), name);
      }
    }
    const rules = valuesOf(seccompRules({ network: false }), '--seccomp');
    assert.ok(rules.includes('97:socket:0:0xffffffff:2'), 'AF_INET');
    assert.ok(rules.includes('97:socket:0:0xffffffff:16'), 'AF_NETLINK');
    assert.ok(!rules.includes('97:socket:0:0xffffffff:1'), 'AF_UNIX stays');
    assert.ok(rules.includes('1:ioctl:1:0xffffffff:0x5412'), 'TIOCSTI');
    assert.ok(rules.includes('1:clone:0:0x10000000:0x10000000'), 'clone(CLONE_NEWUSER)');
    assert.ok(rules.includes('97:socketpair:0:0xffffffff:2'), 'socketpair(AF_INET)');
    assert.ok(rules.includes('1:socket:1:0xf:10'), 'SOCK_PACKET');
    assert.ok(rules.length <= 512, 'within the launcher’s MAX_RULES (launch.h)');
    assert.ok(
      rules.every((r) => /^\d+:[a-z0-9_]+(:\d:0x[0-9a-f]+:(0x[0-9a-f]+|\d+))?$/.test(r)),
      'launcher grammar',
    );
  });
});
