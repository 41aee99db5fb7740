import type { CgroupDriver } from './cgroup.js';
import { type CgroupLayout, readCgroupLayout } from './cgroup-fs.js';
import { CgroupV1Driver } from './cgroup-v1.js';
import { CgroupV2Driver } from './cgroup-v2.js';

/**
 * Picks the cgroup version that offers the most of memory, pids and cpu: v2 when its root offers
 * them (current ARM boards), else the v1 hierarchies (this dev machine: v1 plus a v2 with hugetlb only).
 */
export function detectCgroupDriver(parent: string, layout: CgroupLayout = readCgroupLayout()): CgroupDriver {
  const v2 = layout.v2 === null ? null : new CgroupV2Driver(layout.v2, layout.v2Own, layout.v2Controllers, parent);
  const v1 = new CgroupV1Driver(layout, parent);
  if (v2 !== null && v2.controllers.length >= v1.controllers.length) return v2;
  return v1;
}
