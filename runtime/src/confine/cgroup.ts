import { readdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { ElastosError } from '../errors/index.js';
import { readText } from './cgroup-fs.js';
import type { CapsuleLimits, CapsuleUsage, LimitEvents } from './types.js';

/** One capsule's cgroup (v1: one directory per controller hierarchy; v2: one directory). */
export interface CapsuleCgroup {
  /** Directories the launcher joins (`--cgroup`), in order. */
  readonly dirs: string[];
  usage(): CapsuleUsage;
  events(): LimitEvents;
  /** SIGKILL every process left in the cgroup; resolves when it is empty. */
  killAll(): Promise<void>;
  /** Removes the directories (the cgroup must be empty). */
  remove(): Promise<void>;
}

/** Creates capsule cgroups on one cgroup version. */
export interface CgroupDriver {
  readonly version: 1 | 2;
  /** Controllers this driver can limit with: a subset of memory, pids, cpu. */
  readonly controllers: string[];
  create(name: string, limits: CapsuleLimits): CapsuleCgroup;
  /** Removes the shared parent cgroup(s) if no capsule cgroup is left in them (best effort). */
  removeParent(): void;
  /** Capsule cgroups under the parent that hold processes (at start: another instance's). */
  occupied(): string[];
}

export const WANTED_CONTROLLERS = ['memory', 'pids', 'cpu'] as const;

/** cpu.cfs_period_us / cpu.max period. */
export const CPU_PERIOD_USEC = 100_000;

/**
 * The capsule's weight under contention, proportional to its grant: 100% (one core) weighs as much
 * as one ordinary process (v1 cpu.shares 1024, v2 cpu.weight 100), 200% as two.
 */
export function cpuWeight(cpuPercent: number, version: 1 | 2): number {
  const [unit, min, max] = version === 1 ? [1024, 2, 262_144] : [100, 1, 10_000];
  return Math.min(max, Math.max(min, Math.round((unit * cpuPercent) / 100)));
}

export function cpuQuotaUsec(cpuPercent: number): number {
  return Math.max(1000, Math.round((cpuPercent / 100) * CPU_PERIOD_USEC));
}

/** Polls `isEmpty` until true, SIGKILLing the listed pids each round (new ones may appear mid-kill). */
export async function killUntilEmpty(listPids: () => number[], what: string): Promise<void> {
  for (let round = 0; round < 200; round++) {
    const pids = listPids();
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new ElastosError('E_TIMEOUT', `cgroup ${what} does not empty`);
}

export function parsePids(text: string): number[] {
  return text
    .split('\n')
    .filter((l) => /^\d+$/.test(l))
    .map(Number);
}

/** Child cgroups of `parent` with processes in them (none when `parent` does not exist). */
export function busyChildren(parent: string): string[] {
  let names: string[];
  try {
    names = readdirSync(parent, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
  } catch {
    return [];
  }
  return names.map((n) => join(parent, n)).filter((d) => parsePids(readText(join(d, 'cgroup.procs'))).length > 0);
}

/**
 * A capsule cgroup that already holds processes belongs to someone else (another runtime using
 * the same parent): joining it would let this runtime's stop kill that one's capsule.
 */
export function refuseOccupied(dirs: string[]): void {
  for (const d of dirs)
    if (parsePids(readText(join(d, 'cgroup.procs'))).length > 0)
      throw new ElastosError('E_CONFINE_INSTANCE', `cgroup ${d} already holds processes of another runtime`);
}

/** rmdir that leaves a busy or non-empty directory alone. */
export function rmdirIfEmpty(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    // still in use, or already gone
  }
}

/** rmdir of a cgroup can fail with EBUSY for a moment after its last process exits. */
export async function rmdirRetry(rmdir: () => void): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      rmdir();
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || i >= 100) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
