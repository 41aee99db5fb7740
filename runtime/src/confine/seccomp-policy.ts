/**
 * The seccomp policy of every capsule as launcher arguments (runtime/launcher/README.md): default
 * deny (ENOSYS), the allow list of runtime/launcher/seccomp/ARCH.json, and failure rules for the
 * arguments of a few allowed syscalls. Errno numbers are the asm-generic ones (x86_64 and arm64).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ElastosError } from '../errors/index.js';

const EPERM = 1;
const EAFNOSUPPORT = 97;

export type SeccompArch = 'x86_64' | 'aarch64';

/** One group of the allow list: the syscalls and why a capsule needs them. */
export interface AllowGroup {
  name: string;
  reason: string;
  syscalls: string[];
}

export interface AllowTable {
  arch: SeccompArch;
  about: string;
  groups: AllowGroup[];
}

const TABLES = fileURLToPath(new URL('../../launcher/seccomp/', import.meta.url));

/** The architecture the tables name for this Node (x64 -> x86_64, arm64 -> aarch64). */
export function hostArch(): SeccompArch {
  if (process.arch === 'x64') return 'x86_64';
  if (process.arch === 'arm64') return 'aarch64';
  throw new ElastosError('E_CONFINE_UNAVAILABLE', `no seccomp allow list for ${process.arch}`);
}

const NAME = /^[a-z0-9_]+$/;

/** Reads and checks the allow list of one architecture; a malformed table stops every launch. */
export function loadAllowTable(arch: SeccompArch = hostArch(), dir = TABLES): AllowTable {
  const table = JSON.parse(readFileSync(`${dir}${arch}.json`, 'utf8')) as AllowTable;
  const bad = (why: string) => new ElastosError('E_CONFINE_LAUNCH', `seccomp table ${arch}: ${why}`);
  if (table.arch !== arch || !Array.isArray(table.groups)) throw bad('not a table for this architecture');
  const seen = new Set<string>();
  for (const g of table.groups) {
    if (typeof g.reason !== 'string' || g.reason.length === 0) throw bad(`group ${g.name} has no reason`);
    for (const s of g.syscalls) {
      if (!NAME.test(s) || seen.has(s)) throw bad(`bad or repeated name ${s}`);
      seen.add(s);
    }
  }
  return table;
}

export function allowedSyscalls(table: AllowTable): string[] {
  return table.groups.flatMap((g) => g.syscalls);
}

const CLONE_NEW_FLAGS = {
  CLONE_NEWTIME: 0x80,
  CLONE_NEWNS: 0x20000,
  CLONE_NEWCGROUP: 0x2000000,
  CLONE_NEWUTS: 0x4000000,
  CLONE_NEWIPC: 0x8000000,
  CLONE_NEWUSER: 0x10000000,
  CLONE_NEWPID: 0x20000000,
  CLONE_NEWNET: 0x40000000,
};

/** ioctls that push input into, or control, a terminal another process reads. */
const DENIED_IOCTLS = { TIOCSTI: 0x5412, TIOCLINUX: 0x541c };

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
/** Highest address family number the kernel knows (AF_MAX - 1 in Linux 6.x); larger ones fail anyway. */
const AF_LAST = 45;
/** Socket types refused even with a grant: raw IP, and the legacy SOCK_PACKET that AF_INET turns into a packet socket. */
const SOCK_RAW = 3;
const SOCK_PACKET = 10;
const U32 = 0xffffffff;

/** Syscalls that the allow list names and whose arguments the rules below narrow. */
export const FILTERED_SYSCALLS = ['clone', 'ioctl', 'socket', 'socketpair'] as const;

const hex = (n: number) => `0x${n.toString(16)}`;

/** Failure rules (`ERRNO:NAME:ARG:MASK:VALUE`) for the arguments a capsule may not pass. */
export function argumentRules(network: boolean): string[] {
  const rules: string[] = [];
  // clone(2)'s flags are arg 0 on x86_64 and arm64; clone3 passes them in memory the filter
  // cannot read, so it is not listed (ENOSYS) and glibc falls back to clone (Docker does the same).
  for (const flag of Object.values(CLONE_NEW_FLAGS)) rules.push(`${EPERM}:clone:0:${hex(flag)}:${hex(flag)}`);
  // The kernel reads ioctl's request as 32 bits: compare the low 32 so high bits smuggle nothing in.
  for (const req of Object.values(DENIED_IOCTLS)) rules.push(`${EPERM}:ioctl:1:${hex(U32)}:${hex(req)}`);
  // Address families: AF_UNIX always (the IPC channel), AF_INET/AF_INET6 only with a grant.
  const allowed = network ? [AF_UNIX, AF_INET, AF_INET6] : [AF_UNIX];
  for (const call of ['socket', 'socketpair']) {
    for (let family = 0; family <= AF_LAST; family++) {
      const ok = call === 'socket' ? allowed.includes(family) : family === AF_UNIX;
      if (!ok) rules.push(`${EAFNOSUPPORT}:${call}:0:${hex(U32)}:${family}`);
    }
    // The type's low 4 bits (SOCK_NONBLOCK and SOCK_CLOEXEC sit above).
    for (const type of [SOCK_RAW, SOCK_PACKET]) rules.push(`${EPERM}:${call}:1:0xf:${type}`);
  }
  return rules;
}

export interface SeccompOptions {
  network: boolean;
  /** The capsule may exec (a child_process grant): execve stays allowed, not only once. */
  exec?: boolean;
  arch?: SeccompArch;
}

const loaded = new Map<SeccompArch, string[]>();

/** The launcher's `--seccomp*` arguments for one capsule (the table is read once per runtime). */
export function seccompRules(opts: SeccompOptions): string[] {
  const arch = opts.arch ?? hostArch();
  const names = loaded.get(arch) ?? allowedSyscalls(loadAllowTable(arch));
  loaded.set(arch, names);
  const args: string[] = [];
  // Without a child_process grant the launcher allows execve once, for its own pointer (noexec.c).
  for (const name of names) if (name !== 'execve' || opts.exec === true) args.push('--seccomp-allow', name);
  for (const rule of argumentRules(opts.network)) args.push('--seccomp', rule);
  return args;
}
