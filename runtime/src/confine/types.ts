/**
 * What the supervisor needs to start one capsule. Independent of the package format: the capsule
 * room maps a verified manifest onto this (runtime/src/confine/README in runtime/launcher/README.md).
 */
export interface CapsuleLimits {
  /** Hard memory limit of the capsule's cgroup (no swap beyond it). */
  memoryBytes: number;
  /** Processes and threads in the cgroup (Node itself uses about 11). */
  pids: number;
  /** CPU share as a percentage of one core (100 = one full core). */
  cpuPercent: number;
  /** Disk quota: the size of the capsule's own data volume (data-volume.ts); absent: none. */
  diskBytes?: number;
}

export interface CapsuleSpec {
  /** Unique among running capsules; names its cgroup. `[a-z0-9][a-z0-9._-]*`. */
  name: string;
  /** Content id of the verified package (for audit records). */
  id: string;
  /** Host directory of the capsule's code; mounted read-only at /capsule/code. */
  codeDir: string;
  /** Entry file, relative to codeDir. */
  entry: string;
  /** Host directory of the capsule's private data; mounted read-write at /capsule/data. */
  dataDir: string;
  limits: CapsuleLimits;
  /** Granted network access: without it only AF_UNIX sockets exist and there is no network namespace link. */
  network: boolean;
  /**
   * LAN ranges policy granted (IPv4 CIDRs inside 10/8, 172.16/12, 192.168/16, 169.254/16, at most
   * 8; only with `network`): opened in its egress policy for this run. Every other LAN stays closed.
   */
  lan?: string[];
  /** The capsule's whole environment (nothing is inherited from the runtime). */
  env: Record<string, string>;
  /** Declared in the manifest: allow worker_threads (Node's permission model denies them otherwise). */
  workers?: boolean;
  /** Declared in the manifest: allow child_process (still confined to the same view, cgroup and filter). */
  childProcess?: boolean;
  /**
   * Host files the admin keeps for the capsule (the shell's rules.json), bound read-only at `view`
   * (under /capsule/config): they stay editable on the host when its data is on its own volume.
   */
  configFiles?: Array<{ host: string; view: string }>;
  /** Unprivileged uid/gid to run as; the supervisor assigns one from its range when absent. */
  uid?: number;
}

/** Where the capsule sees its directories (the view the launcher builds). */
export const VIEW = {
  code: '/capsule/code',
  data: '/capsule/data',
  config: '/capsule/config',
  tmp: '/tmp',
} as const;

/** A cgroup reading of one capsule. */
export interface CapsuleUsage {
  memoryBytes: number;
  /** Peak memory, when the kernel keeps it. */
  memoryPeakBytes: number | null;
  /** CPU time used since the cgroup was created. */
  cpuUsec: number;
  pids: number;
}

/** Counters of limit hits, read from the cgroup (memory.events / memory.oom_control, pids.events). */
export interface LimitEvents {
  oomKills: number;
  pidsMax: number;
}
