import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ElastosError } from '../errors/index.js';
import { netTools } from './capsule-net.js';
import { WANTED_CONTROLLERS } from './cgroup.js';
import { readCgroupLayout } from './cgroup-fs.js';
import { volumeTools } from './data-volume.js';

/** What `elastos-launch --probe` and the cgroup mounts say about this kernel. */
export interface KernelLayers {
  launcher: boolean;
  root: boolean;
  noNewPrivs: boolean;
  seccompFilter: boolean;
  namespaces: boolean;
  userNamespace: boolean;
  landlockAbi: number;
  /** The kernel has vm.memfd_noexec (6.3+), which the launcher sets to 2 in each capsule's pid namespace. */
  memfdNoexec: boolean;
  /** nftables is there: a network-granted capsule gets its own namespace and veth pair (capsule-net.ts, the launcher's veth.c). */
  privateNetwork: boolean;
  /** Loop devices, ext4, mke2fs and fallocate: a capsule's data gets its own size-limited volume. */
  diskQuota: boolean;
  /** v1/v2: the wanted controllers (memory, pids, cpu) each version offers; `all*`: every controller. */
  cgroup: {
    v1: string[];
    v2: string[];
    version: 1 | 2 | null;
    controllers: string[];
    allV1?: string[];
    allV2?: string[];
  };
}

export interface LayerStatus {
  layer: string;
  available: boolean;
  /** Production refuses to start capsules without it. */
  required: boolean;
  /** The dev profile may run without it (with a warning and an audit entry); otherwise nothing runs. */
  degradable: boolean;
  detail: string;
  /** What its absence means for a capsule. */
  meaning: string;
}

interface Probe {
  noNewPrivs: boolean;
  seccompFilter: boolean;
  namespaces: boolean;
  userNamespace: boolean;
  landlockAbi: number;
  memfdNoexec?: boolean;
  root: boolean;
}

function runProbe(launcher: string): Probe | null {
  if (!existsSync(launcher)) return null;
  try {
    return JSON.parse(execFileSync(launcher, ['--probe'], { encoding: 'utf8', env: {} })) as Probe;
  } catch {
    return null;
  }
}

/** Asks the kernel (through the launcher, which really tries each feature) and the cgroup mounts. */
export function probeKernel(launcher: string): KernelLayers {
  const p = runProbe(launcher);
  const layout = readCgroupLayout();
  const v1 = WANTED_CONTROLLERS.filter((c) => layout.v1.has(c));
  const v2 = WANTED_CONTROLLERS.filter((c) => layout.v2Controllers.includes(c));
  const version = v2.length === 0 && v1.length === 0 ? null : v2.length >= v1.length ? 2 : 1;
  return {
    launcher: p !== null,
    root: p?.root ?? false,
    noNewPrivs: p?.noNewPrivs ?? false,
    seccompFilter: p?.seccompFilter ?? false,
    namespaces: p?.namespaces ?? false,
    userNamespace: p?.userNamespace ?? false,
    landlockAbi: p?.landlockAbi ?? 0,
    memfdNoexec: p?.memfdNoexec ?? false,
    privateNetwork: netTools() !== undefined,
    diskQuota: volumeTools() !== undefined,
    cgroup: {
      v1,
      v2,
      version,
      controllers: version === 2 ? v2 : v1,
      allV1: [...layout.v1.keys()].sort(),
      allV2: layout.v2 === null ? [] : layout.v2Controllers,
    },
  };
}

type Row = Omit<LayerStatus, 'available' | 'detail'>;
const ROWS: Record<string, Row> = {
  launcher: {
    layer: 'launcher',
    required: true,
    degradable: false,
    meaning: 'no capsule can start: run `npm run setup` (build:native)',
  },
  root: {
    layer: 'root',
    required: true,
    degradable: false,
    meaning: 'the launcher cannot create namespaces, mounts and cgroups: run the runtime as root',
  },
  noNewPrivs: {
    layer: 'no_new_privs',
    required: true,
    degradable: false,
    meaning: 'setuid binaries could raise privileges and seccomp could not be installed',
  },
  namespaces: {
    layer: 'namespaces',
    required: true,
    degradable: false,
    meaning: 'no private mount/pid/ipc/uts/net view: capsules cannot start',
  },
  seccompFilter: {
    layer: 'seccomp',
    required: true,
    degradable: false,
    meaning: 'no capsule starts: the launcher refuses to run one without its default-deny syscall filter',
  },
  memory: {
    layer: 'cgroup.memory',
    required: true,
    degradable: true,
    meaning: 'a capsule can exhaust the board memory and get the runtime OOM-killed',
  },
  pids: {
    layer: 'cgroup.pids',
    required: true,
    degradable: true,
    meaning: 'a fork or thread bomb can exhaust the process table',
  },
  cpu: {
    layer: 'cgroup.cpu',
    required: true,
    degradable: true,
    meaning: 'a spinning capsule can starve the others and the runtime',
  },
  userNamespace: {
    layer: 'user-namespace',
    required: false,
    degradable: true,
    meaning: 'capsule uids are not isolated in their own user namespace (they still run unprivileged)',
  },
  hierarchies: {
    layer: 'cgroup.hierarchies',
    required: false,
    degradable: true,
    meaning: 'no cgroup hierarchy is mounted: capsules cannot be limited at all',
  },
  execOnce: {
    layer: 'exec.seccomp',
    required: true,
    degradable: false,
    meaning: 'a capsule could run native code it wrote (memfd_create + execveat): the filter allows execve once',
  },
  memfdNoexec: {
    layer: 'exec.memfd_noexec',
    required: false,
    degradable: true,
    meaning: 'memfds may be created executable (seccomp still refuses memfd_create and later execs)',
  },
  landlock: {
    layer: 'exec.landlock',
    required: false,
    degradable: true,
    meaning: 'exec is not limited to Node by path (seccomp still refuses later execs)',
  },
  privateNetwork: {
    layer: 'network.private',
    required: false,
    degradable: true,
    meaning:
      'a capsule with a network grant is refused (E_CONFINE_UNAVAILABLE): it never shares the host network; install nftables',
  },
  diskQuota: {
    layer: 'disk.quota',
    required: false,
    degradable: true,
    meaning:
      "a capsule with a disk quota is refused (E_CONFINE_UNAVAILABLE): its data would share the store's filesystem; needs loop devices, ext4, e2fsprogs",
  },
  landlockScope: {
    layer: 'landlock.scope',
    required: false,
    degradable: true,
    meaning: 'a capsule sharing a network namespace could reach abstract unix sockets and signal processes outside it',
  },
};

function row(key: string, available: boolean, detail: string): LayerStatus {
  const r = ROWS[key];
  if (r === undefined) throw new RangeError(`unknown layer ${key}`);
  return { ...r, available, detail };
}

/** One row per layer: available or not, whether required, and what its absence means. */
export function layerReport(k: KernelLayers): LayerStatus[] {
  const cg = (c: string) => {
    const where = k.cgroup.v2.includes(c) ? 'v2' : k.cgroup.v1.includes(c) ? 'v1' : 'missing';
    return row(c, k.cgroup.controllers.includes(c), `cgroup ${where} (driver: v${k.cgroup.version ?? '-'})`);
  };
  return [
    row('launcher', k.launcher, k.launcher ? 'built and runs' : 'not built or does not run'),
    row('root', k.root, k.root ? 'euid 0' : 'not root'),
    row('noNewPrivs', k.noNewPrivs, 'prctl(PR_SET_NO_NEW_PRIVS)'),
    row('namespaces', k.namespaces, 'unshare(mnt|pid|ipc|uts|net)'),
    row('seccompFilter', k.seccompFilter, 'SECCOMP_RET_ERRNO filters'),
    cg('memory'),
    cg('pids'),
    cg('cpu'),
    row('userNamespace', k.userNamespace, 'unshare(CLONE_NEWUSER) as an unprivileged uid'),
    row(
      'hierarchies',
      k.cgroup.version !== null,
      `v1: ${(k.cgroup.allV1 ?? k.cgroup.v1).join(',') || 'none'}; v2: ${(k.cgroup.allV2 ?? k.cgroup.v2).join(',') || 'none'}`,
    ),
    row(
      'execOnce',
      k.seccompFilter,
      'execve allowed once, for the launcher’s own pointer; execveat, memfd_create never',
    ),
    row(
      'memfdNoexec',
      k.memfdNoexec,
      k.memfdNoexec ? 'vm.memfd_noexec=2 per capsule pid namespace' : 'absent (Linux < 6.3)',
    ),
    row('landlock', k.landlockAbi > 0, k.landlockAbi > 0 ? `ABI ${k.landlockAbi}: execute only Node` : 'absent'),
    row(
      'privateNetwork',
      k.privateNetwork,
      k.privateNetwork
        ? 'granted capsules: own netns, veth (made by the launcher) + NAT, nftables egress policy (no host or link-local; a LAN range only if the manifest names it and the shell grants it)'
        : 'nft missing (nftables)',
    ),
    row(
      'diskQuota',
      k.diskQuota,
      k.diskQuota
        ? 'data on its own preallocated ext4 volume (loop), ENOSPC when full'
        : 'loop, ext4 or e2fsprogs missing',
    ),
    row(
      'landlockScope',
      k.landlockAbi >= 6,
      k.landlockAbi >= 6 ? 'abstract unix sockets and signals scoped' : `needs ABI 6 (have ${k.landlockAbi})`,
    ),
  ];
}

/**
 * The layers missing for a profile: production refuses any missing required layer; dev refuses
 * only the ones nothing can run without, and returns the rest for a loud warning and an audit entry.
 */
export function missingLayers(report: LayerStatus[], profile: 'production' | 'dev'): LayerStatus[] {
  const missing = report.filter((r) => !r.available && (r.required || profile === 'dev'));
  const fatal = missing.filter((r) => r.required && (profile === 'production' || !r.degradable));
  if (fatal.length > 0) {
    const names = fatal.map((r) => r.layer).join(', ');
    throw new ElastosError('E_CONFINE_UNAVAILABLE', `missing confinement layer(s): ${names} (${profile} profile)`);
  }
  return missing.filter((r) => r.required);
}

export interface DoctorReport {
  /** True when production may start capsules here. */
  ok: boolean;
  layers: LayerStatus[];
}

/** `elastos doctor` and the `confine.doctor` admin command: every layer, and whether production can run. */
export function doctorReport(launcher: string): DoctorReport {
  const layers = layerReport(probeKernel(launcher));
  return { ok: layers.every((l) => l.available || !l.required), layers };
}
