import { lanRangesProblem } from '@elastos/protocol/capsules/lan-range';
import type { CapsuleNet } from '../confine/capsule-net.js';
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
  /** A network-granted capsule's namespace (privateNetwork); released when the run ends. */
  net?: CapsuleNet,
  /** Its data volume (dataVolume), mounted by the launcher in the capsule's namespace only. */
  volume?: string,
): CapsuleRun {
  if (volume === undefined) prepareDataDir(spec.dataDir, uid);
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
    plan = launchPlan(spec, {
      ...ctx,
      cgroupDirs: cgroup.dirs,
      uid,
      tmpBytes,
      veth: net?.veth,
      netnsIpv4: net?.ipv4,
      volume,
    });
  } catch (err) {
    void cgroup.remove().catch(() => undefined);
    throw err;
  }
  return new CapsuleRun(plan, cgroup, onOutput, net?.release);
}

/** A granted capsule never shares the host's network: without a private one it does not start. */
export function privateNetwork(spec: CapsuleSpec, uid: number, ctx: ConfineContext): Promise<CapsuleNet> {
  if (ctx.network === undefined)
    return Promise.reject(
      new ElastosError(
        'E_CONFINE_UNAVAILABLE',
        `${spec.name} has a network grant, but this host cannot give it a private network (ip and nft: see elastos doctor)`,
      ),
    );
  return ctx.network.create(uid, grantedLan(spec));
}

/**
 * The LAN ranges to open (spec.lan: what policy granted), checked again here: each inside a
 * private or link-local range, at most 8, none overlapping; only with a network grant.
 */
export function grantedLan(spec: CapsuleSpec): string[] {
  const lan = spec.lan ?? [];
  if (lan.length > 0 && !spec.network)
    throw new ElastosError('E_CAPSULE_INVALID', `${spec.name}: LAN ranges without a network grant`);
  const problem = lanRangesProblem(lan, 'lan');
  if (problem) throw new ElastosError('E_CAPSULE_INVALID', `${spec.name}: ${problem}`);
  return lan;
}

/** A capsule with a disk quota keeps its data on its own volume: without volumes it does not start. */
export async function dataVolume(spec: CapsuleSpec, uid: number, bytes: number, ctx: ConfineContext): Promise<string> {
  prepareDataDir(spec.dataDir, uid);
  if (ctx.volumes === undefined)
    throw new ElastosError(
      'E_CONFINE_UNAVAILABLE',
      `${spec.name} has a disk quota, but this host cannot make data volumes (loop, ext4, e2fsprogs: see elastos doctor)`,
    );
  return ctx.volumes.prepare(spec.dataDir, bytes, uid);
}
