import { existsSync } from 'node:fs';
import { join, normalize } from 'node:path';
import { ElastosError } from '../errors/index.js';
import { seccompRules } from './seccomp-policy.js';
import { type CapsuleSpec, VIEW } from './types.js';

/** What the runtime decided about this machine (doctor.ts) and where its parts are. */
export interface PlanContext {
  launcher: string;
  nodePath: string;
  /** `src:dst` binds of Node and its libraries (node-files.ts). */
  nodeBinds: string[];
  /** The capsule's cgroup directories to join. */
  cgroupDirs: string[];
  uid: number;
  /** Landlock ABI (0: none) and vm.memfd_noexec, as the doctor found them. */
  landlockAbi?: number;
  memfdNoexec?: boolean;
  /** Size of the private /tmp (tmpfs, charged to the capsule's memory cgroup). */
  tmpBytes: number;
  /**
   * A network-granted capsule's link to the host (capsule-net.ts): the host end's name of the veth
   * pair the launcher makes between the host and the capsule's new network namespace (`--veth`).
   */
  veth?: string;
  /** Its inside: `ADDR/PREFIX,GATEWAY` (the host end gets GATEWAY/PREFIX), configured by the launcher. */
  netnsIpv4?: string;
  /** The capsule's data volume (data-volume.ts), mounted at /capsule/data instead of its data dir. */
  volume?: string;
}

export interface LaunchPlan {
  command: string;
  args: string[];
  env: Record<string, string>;
}

const DEVICES = ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom'];
/** Name resolution needs these when the capsule has a network grant. */
const NETWORK_FILES = ['/etc/resolv.conf', '/etc/hosts', '/etc/nsswitch.conf'];

/** The launcher splits `SRC:DST` at the first colon; it also refuses relative paths. */
function safePath(path: string, what: string): string {
  if (path.includes(':') || path.includes('\n') || !path.startsWith('/'))
    throw new ElastosError('E_CONFINE_LAUNCH', `${what} must be an absolute path without ':' (${path})`);
  return normalize(path);
}

/** Node's permission model as the inner layer: reads and writes only in the capsule's own dirs. */
export function nodeFlags(spec: CapsuleSpec): string[] {
  const flags = [
    '--experimental-permission',
    `--allow-fs-read=${VIEW.code}/*`,
    `--allow-fs-read=${VIEW.data}/*`,
    `--allow-fs-write=${VIEW.data}/*`,
    `--allow-fs-read=${VIEW.tmp}/*`,
    `--allow-fs-write=${VIEW.tmp}/*`,
    '--disable-warning=ExperimentalWarning',
  ];
  for (const f of spec.configFiles ?? []) flags.push(`--allow-fs-read=${f.view}`);
  if (spec.workers === true) flags.push('--allow-worker');
  if (spec.childProcess === true) flags.push('--allow-child-process');
  return flags;
}

function viewArgs(spec: CapsuleSpec, ctx: PlanContext): string[] {
  const args = ['--ro', `${safePath(spec.codeDir, 'codeDir')}:${VIEW.code}`];
  for (const f of spec.configFiles ?? []) {
    if (!normalize(f.view).startsWith(`${VIEW.config}/`))
      throw new ElastosError('E_CONFINE_LAUNCH', `config file ${f.view} outside ${VIEW.config}`);
    args.push('--ro', `${safePath(f.host, 'config file')}:${safePath(f.view, 'config file')}`);
  }
  if (ctx.volume !== undefined) args.push('--volume', `${safePath(ctx.volume, 'volume')}:${VIEW.data}`);
  else args.push('--rw', `${safePath(spec.dataDir, 'dataDir')}:${VIEW.data}`);
  args.push('--tmpfs', `${VIEW.tmp}:${ctx.tmpBytes}`);
  for (const bind of ctx.nodeBinds) args.push('--ro', bind);
  for (const dev of DEVICES) args.push('--dev', `${dev}:${dev}`);
  if (spec.network) for (const f of NETWORK_FILES) if (existsSync(f)) args.push('--ro', `${f}:${f}`);
  return args;
}

/** No exec after start (runtime/launcher/README.md): each layer this kernel has. */
function noExecArgs(spec: CapsuleSpec, ctx: PlanContext): string[] {
  const args: string[] = [];
  if (ctx.memfdNoexec === true) args.push('--memfd-noexec');
  // Node, its loader and libraries are the only executable files (exec of anything else: EACCES).
  if ((ctx.landlockAbi ?? 0) >= 1) for (const bind of ctx.nodeBinds) args.push('--landlock-exec', bindTarget(bind));
  if ((ctx.landlockAbi ?? 0) >= 6) args.push('--landlock-scope');
  if (spec.childProcess !== true) args.push('--seccomp-exec-once');
  return args;
}

const bindTarget = (bind: string) => bind.slice(bind.indexOf(':') + 1);

/** The launcher's whole command line for one capsule (runtime/launcher/README.md, "Arguments"). */
export function launchPlan(spec: CapsuleSpec, ctx: PlanContext): LaunchPlan {
  const entry = normalize(join(VIEW.code, spec.entry));
  if (!entry.startsWith(`${VIEW.code}/`)) throw new ElastosError('E_CONFINE_LAUNCH', `entry escapes the code dir`);
  // Every capsule gets a network namespace of its own; a granted one also gets a link to the host.
  const namespaces = ['mnt', 'pid', 'ipc', 'uts', 'cgroup', 'user?', 'net'];
  const args = ['--unshare', namespaces.join(','), '--proc', '--hostname', 'capsule', '--chdir', VIEW.code];
  for (const dir of ctx.cgroupDirs) args.push('--cgroup', safePath(dir, 'cgroup'));
  if (spec.network && ctx.veth !== undefined) {
    if (!/^[a-z0-9]{1,15}$/.test(ctx.veth)) throw new ElastosError('E_CONFINE_LAUNCH', `bad veth name ${ctx.veth}`);
    if (!/^\d+\.\d+\.\d+\.\d+\/\d+,\d+\.\d+\.\d+\.\d+$/.test(ctx.netnsIpv4 ?? ''))
      throw new ElastosError('E_CONFINE_LAUNCH', `bad private network address ${ctx.netnsIpv4}`);
    args.push('--veth', ctx.veth, '--netns-ipv4', ctx.netnsIpv4 ?? '');
  }
  args.push(...viewArgs(spec, ctx));
  args.push('--uid', String(ctx.uid), '--gid', String(ctx.uid), '--keep-fd', '3');
  args.push('--rlimit', 'core:0:0', '--rlimit', 'nofile:1024:1024');
  args.push('--rlimit', `nproc:${spec.limits.pids}:${spec.limits.pids}`);
  args.push(...noExecArgs(spec, ctx));
  args.push(...seccompRules({ network: spec.network, exec: spec.childProcess === true }));
  args.push('--', ctx.nodePath, ...nodeFlags(spec), entry);
  return { command: ctx.launcher, args, env: { ...spec.env } };
}
