import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
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
import { type CgroupLayout, readKey, readNumber, readText } from './cgroup-fs.js';
import type { CapsuleLimits, CapsuleUsage, LimitEvents } from './types.js';

/**
 * cgroup v1: one directory per hierarchy (memory, pids, cpu and cpuacct for readings), nested
 * under this process's own cgroup in each, then `parent/name`. Files: Documentation/admin-guide/
 * cgroup-v1/{memory,pids}.rst and scheduler/sched-bwc.rst.
 */
export class CgroupV1Driver implements CgroupDriver {
  readonly version = 1 as const;
  readonly controllers: string[];

  constructor(
    private readonly layout: CgroupLayout,
    private readonly parent: string,
  ) {
    this.controllers = WANTED_CONTROLLERS.filter((c) => layout.v1.has(c));
  }

  private dirFor(controller: string, name: string): string | null {
    const mount = this.layout.v1.get(controller);
    if (mount === undefined) return null;
    return join(mount, this.layout.v1Own.get(controller) ?? '/', this.parent, name);
  }

  removeParent(): void {
    for (const c of ['memory', 'pids', 'cpu', 'cpuacct']) {
      const dir = this.dirFor(c, '');
      if (dir) rmdirIfEmpty(dir);
    }
  }

  occupied(): string[] {
    const parents = ['memory', 'pids', 'cpu', 'cpuacct'].map((c) => this.dirFor(c, ''));
    return [...new Set(parents.filter((d) => d !== null).flatMap(busyChildren))];
  }

  create(name: string, limits: CapsuleLimits): CapsuleCgroup {
    const dir = (c: string) => this.dirFor(c, name);
    const dirs = [...new Set(['memory', 'pids', 'cpu', 'cpuacct'].map(dir).filter((d) => d !== null))];
    refuseOccupied(dirs);
    for (const d of dirs) mkdirSync(d, { recursive: true });
    const memory = dir('memory');
    if (memory) {
      writeFileSync(join(memory, 'memory.limit_in_bytes'), String(limits.memoryBytes));
      // With swap accounting, memsw caps memory+swap at the same figure: no escape into swap.
      const memsw = join(memory, 'memory.memsw.limit_in_bytes');
      if (existsSync(memsw)) writeFileSync(memsw, String(limits.memoryBytes));
    }
    const pids = dir('pids');
    if (pids) writeFileSync(join(pids, 'pids.max'), String(limits.pids));
    const cpu = dir('cpu');
    if (cpu) {
      writeFileSync(join(cpu, 'cpu.cfs_period_us'), String(CPU_PERIOD_USEC));
      writeFileSync(join(cpu, 'cpu.cfs_quota_us'), String(cpuQuotaUsec(limits.cpuPercent)));
      writeFileSync(join(cpu, 'cpu.shares'), String(cpuWeight(limits.cpuPercent, 1)));
    }
    return new CgroupV1(dirs, memory, pids, dir('cpuacct'));
  }
}

class CgroupV1 implements CapsuleCgroup {
  constructor(
    readonly dirs: string[],
    private readonly memory: string | null,
    private readonly pids: string | null,
    private readonly cpuacct: string | null,
  ) {}

  usage(): CapsuleUsage {
    const m = this.memory;
    return {
      memoryBytes: m ? (readNumber(join(m, 'memory.usage_in_bytes')) ?? 0) : 0,
      memoryPeakBytes: m ? readNumber(join(m, 'memory.max_usage_in_bytes')) : null,
      cpuUsec: this.cpuacct ? Math.round((readNumber(join(this.cpuacct, 'cpuacct.usage')) ?? 0) / 1000) : 0,
      pids: this.pids ? (readNumber(join(this.pids, 'pids.current')) ?? 0) : 0,
    };
  }

  events(): LimitEvents {
    return {
      oomKills: this.memory ? readKey(join(this.memory, 'memory.oom_control'), 'oom_kill') : 0,
      pidsMax: this.pids ? readKey(join(this.pids, 'pids.events'), 'max') : 0,
    };
  }

  private members(): number[] {
    const all = new Set<number>();
    for (const d of this.dirs) for (const pid of parsePids(readText(join(d, 'cgroup.procs')))) all.add(pid);
    return [...all];
  }

  killAll(): Promise<void> {
    return killUntilEmpty(() => this.members(), this.dirs[0] ?? '');
  }

  async remove(): Promise<void> {
    for (const d of this.dirs) await rmdirRetry(() => rmdirSync(d));
  }
}
