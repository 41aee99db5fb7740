import { fileURLToPath } from 'node:url';
import type { AuditSink } from '../audit/audit-sink.js';
import type { Logger } from '../log/index.js';
import { CapsuleNetwork, netTools } from './capsule-net.js';
import type { CgroupDriver } from './cgroup.js';
import { detectCgroupDriver } from './cgroup-detect.js';
import { DataVolumes, volumeTools } from './data-volume.js';
import { type KernelLayers, type LayerStatus, layerReport, missingLayers, probeKernel } from './doctor.js';
import { nodeBinds } from './node-files.js';

/** The launcher as this package builds it (runtime/launcher/build); config may name another. */
export const BUNDLED_LAUNCHER = fileURLToPath(new URL('../../launcher/build/elastos-launch', import.meta.url));

export interface ConfineOptions {
  profile: 'production' | 'dev';
  /** Empty: the bundled launcher. */
  launcher?: string;
  /** Empty: the Node running the runtime. */
  nodePath?: string;
  /** Capsule cgroups live under `<own cgroup>/<cgroupParent>/<capsule name>`. */
  cgroupParent: string;
  log: Logger;
  audit?: AuditSink;
  /** The kernel's layers as already probed (e.g. by `elastos doctor`); probed here when absent. */
  layers?: KernelLayers;
}

/** Everything decided once per runtime about how capsules are confined on this machine. */
export interface ConfineContext {
  launcher: string;
  nodePath: string;
  nodeBinds: string[];
  cgroups: CgroupDriver;
  /** Landlock ABI of this kernel (0: none): exec limited to Node (1+), scopes (6+). */
  landlockAbi: number;
  /** vm.memfd_noexec exists: the launcher sets it to 2 in each capsule's pid namespace. */
  memfdNoexec: boolean;
  /** Layers missing and tolerated (dev only): already warned about and audited. */
  degraded: LayerStatus[];
  /** Private networks for network-granted capsules; absent: such a capsule is refused. */
  network?: CapsuleNetwork;
  /** Data volumes (disk quotas); absent: a capsule with a quota is refused. */
  volumes?: DataVolumes;
}

/** Recording the allow list (runtime/launcher/seccomp/README.md): every launch runs under strace. */
const TRACED_LAUNCHER = fileURLToPath(new URL('../../launcher/seccomp/traced-launch', import.meta.url));

/**
 * Probes the kernel and applies the profile: production refuses a missing required layer
 * (E_CONFINE_UNAVAILABLE); dev goes on without a degradable one after a loud warning and an
 * audit entry naming it.
 */
export async function prepareConfinement(opts: ConfineOptions): Promise<ConfineContext> {
  const recording = process.env.ELASTOS_SECCOMP_RECORD === '1';
  if (recording) opts.log.warn('!!! SECCOMP RECORDING: every capsule runs under strace, for the allow list only');
  const launcher = recording ? TRACED_LAUNCHER : opts.launcher || BUNDLED_LAUNCHER;
  const nodePath = opts.nodePath || process.execPath;
  const layers = opts.layers ?? probeKernel(launcher);
  const report = layerReport(layers);
  const degraded = missingLayers(report, opts.profile);
  for (const layer of degraded) {
    opts.log.warn(
      { layer: layer.layer, meaning: layer.meaning },
      `!!! CONFINEMENT DEGRADED: ${layer.layer} is missing; capsules run without it (dev profile only)`,
    );
    await opts.audit?.append({
      actor: 'runtime',
      type: 'confine.degraded',
      resource: `layer:${layer.layer}`,
      code: 'E_CONFINE_UNAVAILABLE',
      details: { meaning: layer.meaning, profile: opts.profile },
    });
  }
  return {
    launcher,
    nodePath,
    nodeBinds: nodeBinds(nodePath),
    cgroups: detectCgroupDriver(opts.cgroupParent),
    landlockAbi: layers.landlockAbi,
    memfdNoexec: layers.memfdNoexec,
    degraded,
    network: privateNetwork(layers),
    volumes: dataVolumes(layers),
  };
}

function dataVolumes(layers: KernelLayers): DataVolumes | undefined {
  const tools = layers.diskQuota ? volumeTools() : undefined;
  return tools ? new DataVolumes(tools) : undefined;
}

function privateNetwork(layers: KernelLayers): CapsuleNetwork | undefined {
  const tools = layers.privateNetwork ? netTools() : undefined;
  return tools ? new CapsuleNetwork(tools) : undefined;
}
