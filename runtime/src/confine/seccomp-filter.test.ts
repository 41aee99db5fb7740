import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { BUNDLED_LAUNCHER } from './confine-context.js';
import {
  allowedSyscalls,
  FILTERED_SYSCALLS,
  loadAllowTable,
  type SeccompArch,
  seccompRules,
} from './seccomp-policy.js';

/**
 * The compiled filter (libseccomp, through `elastos-launch --seccomp-export ARCH`) against the data
 * file, for both architectures that ship: aarch64 is compiled and compared here on x86_64.
 */
interface Compiled {
  /** `# rule NAME NR ACTION ERRNO` lines: what the launcher added, with this arch's numbers. */
  rules: { name: string; nr: number; action: string }[];
  /** Syscall number -> the actions the pseudo filter code gives it. */
  actions: Map<number, string[]>;
  defaultAction: string;
  badArch: string;
}

function exportFilter(arch: SeccompArch, args: string[]) {
  return spawnSync(BUNDLED_LAUNCHER, [...args, '--seccomp-export', arch], { encoding: 'utf8', env: {} });
}

function compile(arch: SeccompArch, args: string[]): Compiled {
  const out = exportFilter(arch, args);
  assert.equal(out.status, 0, out.stderr);
  const compiled: Compiled = { rules: [], actions: new Map(), defaultAction: '', badArch: '' };
  let current: number | null = null;
  let last = '';
  for (const line of out.stdout.split('\n')) {
    const rule = /^# rule (\S+) (\d+) (allow|errno)/.exec(line);
    if (rule) compiled.rules.push({ name: rule[1] ?? '', nr: Number(rule[2]), action: rule[3] ?? '' });
    const sys = /# filter for syscall "[^"]*" \((\d+)\)/.exec(line);
    if (sys) current = Number(sys[1]);
    if (/# default action/.test(line)) current = null;
    const action = /action (\S+);/.exec(line)?.[1];
    if (action && current !== null) compiled.actions.set(current, [...(compiled.actions.get(current) ?? []), action]);
    if (action && current === null && last.includes('# default action')) compiled.defaultAction = action;
    if (action && last.includes('# invalid architecture action')) compiled.badArch = action;
    last = line;
  }
  return compiled;
}

describe('seccomp allow list: compiled filter vs data file', () => {
  for (const arch of ['x86_64', 'aarch64'] as const) {
    it(`${arch}: default ENOSYS, every listed syscall allowed, nothing else`, () => {
      const table = loadAllowTable(arch);
      const listed = allowedSyscalls(table);
      const args = seccompRules({ network: false, arch });
      const c = compile(arch, [...args, '--seccomp-exec-once']);
      assert.equal(c.defaultAction, 'ERRNO(38)');
      assert.equal(c.badArch, 'KILL_PROCESS');
      const allowRules = c.rules.filter((r) => r.action === 'allow');
      // execve: once, for the launcher's own pointer (a conditional allow), unless child_process is granted.
      assert.deepEqual(
        allowRules.map((r) => r.name).sort(),
        [...listed.filter((n) => n !== 'execve'), 'execve-once'].sort(),
      );
      const allowedNrs = [...c.actions].filter(([, acts]) => acts.includes('ALLOW')).map(([nr]) => nr);
      assert.deepEqual(
        allowedNrs.sort((a, b) => a - b),
        allowRules.map((r) => r.nr).sort((a, b) => a - b),
      );
      process.stdout.write(`      ${arch}: ${listed.length} syscalls allowed (snapd's default template: 359)\n`);
      assert.ok(listed.length < 300, 'fewer than snapd (359) and Docker (~350) allow');
    });

    it(`${arch}: the argument filters compile (clone, ioctl, socket, socketpair)`, () => {
      const c = compile(arch, seccompRules({ network: true, arch, exec: true }));
      for (const name of FILTERED_SYSCALLS) {
        const nr = c.rules.find((r) => r.name === name)?.nr;
        assert.ok(nr !== undefined, name);
        const acts = c.actions.get(nr) ?? [];
        assert.ok(acts.includes('ALLOW') && acts.some((a) => a.startsWith('ERRNO(')), `${name}: ${acts}`);
      }
      assert.ok(
        c.rules.some((r) => r.name === 'execve' && r.action === 'allow'),
        'child_process grant: execve',
      );
    });
  }

  it('a name the architecture lacks, or that libseccomp does not know, stops the launch', () => {
    const legacy = exportFilter('aarch64', ['--seccomp-allow', 'read', '--seccomp-allow', 'open']);
    assert.equal(legacy.status, 125);
    assert.match(legacy.stderr, /unknown syscall for this architecture: open/);
    const unknown = exportFilter('x86_64', ['--seccomp-allow', 'read', '--seccomp-allow', 'listmount']);
    assert.equal(unknown.status, 125);
    assert.match(unknown.stderr, /unknown syscall for this architecture: listmount/);
  });

  it('without an allow list there is no filter, so nothing starts', () => {
    const none = exportFilter('x86_64', ['--seccomp', '1:ioctl:1:0xffffffff:0x5412']);
    assert.equal(none.status, 125);
    assert.match(none.stderr, /no allow list/);
  });

  it('every group says why; both tables group the same way', () => {
    const x86 = loadAllowTable('x86_64');
    const arm = loadAllowTable('aarch64');
    assert.deepEqual(
      x86.groups.map((g) => g.name),
      arm.groups.map((g) => g.name),
    );
    for (const g of [...x86.groups, ...arm.groups]) assert.ok(g.reason.length > 20, g.name);
    // aarch64 has no legacy entry points: its list is the x86_64 one without them.
    const armNames = new Set(allowedSyscalls(arm));
    assert.ok(allowedSyscalls(arm).every((n) => allowedSyscalls(x86).includes(n)));
    for (const legacy of ['open', 'stat', 'fork', 'poll', 'epoll_wait']) assert.ok(!armNames.has(legacy), legacy);
  });
});
