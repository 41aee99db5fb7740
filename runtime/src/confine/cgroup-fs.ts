import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Where the cgroup hierarchies of this machine are mounted, and where this process sits in them. */
export interface CgroupLayout {
  /** v1 controller name -> mount point (a mount may carry several, e.g. `cpu,cpuacct`). */
  v1: Map<string, string>;
  /** v1 controller name -> this process's cgroup path in that hierarchy. */
  v1Own: Map<string, string>;
  /** The cgroup2 mount point, if any. */
  v2: string | null;
  /** This process's cgroup path in the v2 hierarchy. */
  v2Own: string;
  /** Controllers the v2 root offers (`cgroup.controllers`). */
  v2Controllers: string[];
}

/** mountinfo(5): field 5 is the mount point; after ` - ` come fstype, source, super options. */
function parseMounts(mountinfo: string): { v1: Map<string, string>; v2: string | null } {
  const v1 = new Map<string, string>();
  let v2: string | null = null;
  for (const line of mountinfo.split('\n')) {
    const [left, right] = line.split(' - ');
    if (!left || !right) continue;
    const mountPoint = left.split(' ')[4] ?? '';
    const [fstype, , superOpts = ''] = right.split(' ');
    if (fstype === 'cgroup2' && v2 === null) v2 = mountPoint;
    if (fstype !== 'cgroup') continue;
    for (const opt of superOpts.split(',')) if (isController(opt) && !v1.has(opt)) v1.set(opt, mountPoint);
  }
  return { v1, v2 };
}

const CONTROLLERS = new Set(['memory', 'pids', 'cpu', 'cpuacct', 'cpuset', 'freezer', 'devices', 'blkio', 'hugetlb']);
function isController(opt: string): boolean {
  return CONTROLLERS.has(opt);
}

/** /proc/self/cgroup: `id:controllers:path`; the v2 line is `0::path`. */
function parseOwn(procCgroup: string): { v1Own: Map<string, string>; v2Own: string } {
  const v1Own = new Map<string, string>();
  let v2Own = '/';
  for (const line of procCgroup.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const [, id, controllers = '', path = '/'] = m;
    if (id === '0' && controllers === '') v2Own = path;
    else for (const c of controllers.split(',')) v1Own.set(c, path);
  }
  return { v1Own, v2Own };
}

export function readCgroupLayout(): CgroupLayout {
  const { v1, v2 } = parseMounts(readFileSync('/proc/self/mountinfo', 'utf8'));
  const { v1Own, v2Own } = parseOwn(readFileSync('/proc/self/cgroup', 'utf8'));
  const v2Controllers = v2 === null ? [] : readText(join(v2, 'cgroup.controllers')).trim().split(/\s+/).filter(Boolean);
  return { v1, v1Own, v2, v2Own, v2Controllers };
}

export function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

/** The number after `key ` in a flat-keyed cgroup file (`oom_kill 1`, `max 3`, `usage_usec 42`). */
export function readKey(path: string, key: string): number {
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(readText(path));
  return m ? Number(m[1]) : 0;
}

export function readNumber(path: string): number | null {
  const text = readText(path).trim();
  return /^\d+$/.test(text) ? Number(text) : null;
}
