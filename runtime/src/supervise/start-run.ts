import type { CapsuleCgroup } from '../confine/cgroup.js';
import type { ConfineContext } from '../confine/confine-context.js';
import { type LaunchPlan, launchPlan } from '../confine/launch-plan.js';
import type { CapsuleSpec } from '../confine/types.js';
import { ElastosError } from '../errors/index.js';
import { CapsuleRun } from './capsule-run.js';
import { prepareDataDir } from './uid-pool.js';

/** Data dir owned by the capsule, its cgroup with the spec's limits, the launcher spawned. */
export function startRun(
  spec: CapsuleSpec,
  uid: number,
  ctx: ConfineContext,
  tmpBytes: number,
  onOutput: (stream: 'stdout' | 'stderr', line: string) => void,
): CapsuleRun {
  prepareDataDir(spec.dataDir, uid);
  let cgroup: CapsuleCgroup;
  try {
    cgroup = ctx.cgroups.create(spec.name, spec.limits);
  } catch (cause) {
    if (cause instanceof ElastosError) throw cause;
    // Typically a cgroup v2 hierarchy not delegated to the runtime (systemd: Delegate=yes).
    const why = cause instanceof Error ? cause.message : String(cause);
    throw new ElastosError('E_CONFINE_UNAVAILABLE', `cannot create the capsule's cgroup: ${why}`, { cause });
  }
  let plan: LaunchPlan;
  try {
    plan = launchPlan(spec, { ...ctx, cgroupDirs: cgroup.dirs, uid, tmpBytes });
  } catch (err) {
    void cgroup.remove().catch(() => undefined);
    throw err;
  }
  return new CapsuleRun(plan, cgroup, onOutput);
}
