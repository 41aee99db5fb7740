import { existsSync, mkdirSync, readdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  busyChildren,
  type CapsuleCgroup,
  type CgroupDriver,
  CPU_PERIOD_USEC,
  cpuQuotaUsec,
  cpuWeight,
  killUntilEmpty,
  parsePids,
  refuseOccupied,
  rmdirIfEmpty,
  rmdirRetry,
  WANTED_CONTROLLERS,
} from './cgroup.js';
import { readKey, readNumber, readText } from './cgroup-fs.js';
import type { CapsuleLimits, CapsuleUsage, LimitEvents } from './types.js';

/**
 * cgroup v2 (Documentation/admin-guide/cgroup-v2.rst): one directory `own/parent/name`.
 * The "no internal processes" rule (§2.4.3) forbids enabling controllers for children of a
 * cgroup that holds processes, so when the runtime sits in a non-root cgroup (a systemd
 * service with Delegate=yes) its processes move to the leaf `own/runtime` first.
 */
export class CgroupV2Driver implements CgroupDriver {
  readonly version = 2 as const;
  readonly controllers: string[];
  private prepared = false;

  /** `mount` is the cgroup2 mount point, `own` this process's path in it, `offered` the root's controllers. */
  constructor(
    private readonly mount: string,
    private readonly own: string,
    offered: string[],
    private readonly parent: string,
  ) {
    this.controllers = WANTED_CONTROLLERS.filter((c) => offered.includes(c));
  }

  private enable(dir: string): void {
    writeFileSync(join(dir, 'cgroup.subtree_control'), this.controllers.map((c) => `+${c}`).join(' '));
  }

  /** Delegation: own (emptied into a leaf if needed) and parent pass the controllers down. */
  private prepare(): string {
    const ownDir = join(this.mount, this.own);
    const parentDir = join(ownDir, this.parent);
    if (this.prepared) return parentDir;
    if (this.own !== '/' && parsePids(readText(join(ownDir, 'cgroup.procs'))).length > 0) {
      const leaf = join(ownDir, 'runtime');
      mkdirSync(leaf, { recursive: true });
      for (const pid of parsePids(readText(join(ownDir, 'cgroup.procs'))))
        writeFileSync(join(leaf, 'cgroup.procs'), String(pid));
    }
    this.enable(ownDir);
    mkdirSync(parentDir, { recursive: true });
    this.enable(parentDir);
    this.prepared = true;
    return parentDir;
  }

  removeParent(): void {
    rmdirIfEmpty(join(this.mount, this.own, this.parent));
    this.prepared = false;
  }

  occupied(): string[] {
    return busyChildren(join(this.mount, this.own, this.parent));
  }

  create(name: string, limits: CapsuleLimits): CapsuleCgroup {
    const dir = join(this.prepare(), name);
    refuseOccupied([dir]);
    mkdirSync(dir, { recursive: true });
    const has = (c: string) => this.controllers.includes(c);
    if (has('memory')) {
      writeFileSync(join(dir, 'memory.max'), String(limits.memoryBytes));
      if (existsSync(join(dir, 'memory.swap.max'))) writeFileSync(join(dir, 'memory.swap.max'), '0');
      // An OOM kill takes the whole capsule, not one of its processes (cgroup-v2.rst, memory.oom.group).
      if (existsSync(join(dir, 'memory.oom.group'))) writeFileSync(join(dir, 'memory.oom.group'), '1');
    }
    if (has('pids')) writeFileSync(join(dir, 'pids.max'), String(limits.pids));
    if (has('cpu')) {
      writeFileSync(join(dir, 'cpu.max'), `${cpuQuotaUsec(limits.cpuPercent)} ${CPU_PERIOD_USEC}`);
      writeFileSync(join(dir, 'cpu.weight'), String(cpuWeight(limits.cpuPercent, 2)));
    }
    return new CgroupV2(dir);
  }
}

class CgroupV2 implements CapsuleCgroup {
  readonly dirs: string[];
  constructor(private readonly dir: string) {
    this.dirs = [dir];
  }

  usage(): CapsuleUsage {
    return {
      memoryBytes: readNumber(join(this.dir, 'memory.current')) ?? 0,
      memoryPeakBytes: readNumber(join(this.dir, 'memory.peak')),
      cpuUsec: readKey(join(this.dir, 'cpu.stat'), 'usage_usec'),
      pids: readNumber(join(this.dir, 'pids.current')) ?? 0,
    };
  }

  events(): LimitEvents {
    return {
      oomKills: readKey(join(this.dir, 'memory.events'), 'oom_kill'),
      pidsMax: readKey(join(this.dir, 'pids.events'), 'max'),
    };
  }

  killAll(): Promise<void> {
    // cgroup.kill (Linux 5.14) kills the whole subtree atomically, fork races included.
    const kill = join(this.dir, 'cgroup.kill');
    if (existsSync(kill)) writeFileSync(kill, '1');
    return killUntilEmpty(() => parsePids(readText(join(this.dir, 'cgroup.procs'))), this.dir);
  }

  async remove(): Promise<void> {
    // Nested cgroups a capsule could not create (no write access), but remove leaves first anyway.
    const children = existsSync(this.dir) ? readdirSync(this.dir, { withFileTypes: true }) : [];
    for (const c of children) if (c.isDirectory()) await rmdirRetry(() => rmdirSync(join(this.dir, c.name)));
    await rmdirRetry(() => rmdirSync(this.dir));
  }
}
