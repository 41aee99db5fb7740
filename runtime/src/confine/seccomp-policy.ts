/**
 * The seccomp policy of every capsule, as `--seccomp ERRNO:SYSCALL[:ARG:MASK:VALUE]` rules for the
 * launcher (runtime/launcher/README.md). Default allow, then deny what Docker's default profile
 * and systemd's @system-service leave out, plus what a capsule never needs. Errno numbers are the
 * asm-generic ones (same on x86_64 and arm64).
 */
const EPERM = 1;
const ENOSYS = 38;
const EAFNOSUPPORT = 97;

/** Syscalls a capsule never makes; each fails with EPERM. Grouped by why. */
export const DENIED_SYSCALLS: readonly string[] = [
  // mounts and root changes (@mount)
  'mount',
  'umount2',
  'pivot_root',
  'chroot',
  'move_mount',
  'open_tree',
  'fsopen',
  'fsconfig',
  'fsmount',
  'fspick',
  'mount_setattr',
  // namespaces (clone with CLONE_NEW* is filtered below)
  'unshare',
  'setns',
  // debugging other processes (@debug, cross-process memory)
  'ptrace',
  'process_vm_readv',
  'process_vm_writev',
  'pidfd_getfd',
  'process_madvise',
  'kcmp',
  // kernel and boot (@reboot, @module, @swap, @raw-io, @obsolete)
  'kexec_load',
  'kexec_file_load',
  'reboot',
  'init_module',
  'finit_module',
  'delete_module',
  'create_module',
  'swapon',
  'swapoff',
  'iopl',
  'ioperm',
  'syslog',
  'acct',
  'quotactl',
  'quotactl_fd',
  'lookup_dcookie',
  'nfsservctl',
  'uselib',
  'ustat',
  'sysfs',
  '_sysctl',
  'vhangup',
  'vm86',
  'vm86old',
  'get_kernel_syms',
  'query_module',
  'pciconfig_read',
  'pciconfig_write',
  'pciconfig_iobase',
  // clock and identity of the host (@clock)
  'settimeofday',
  'clock_settime',
  'clock_adjtime',
  'adjtimex',
  'stime',
  'sethostname',
  'setdomainname',
  // attack surface with a history of kernel bugs
  'bpf',
  'perf_event_open',
  'userfaultfd',
  'io_uring_setup',
  'io_uring_enter',
  'io_uring_register',
  'keyctl',
  'add_key',
  'request_key',
  'fanotify_init',
  'open_by_handle_at',
  'name_to_handle_at',
  'personality',
  // NUMA placement of other processes' memory (Docker: CAP_SYS_NICE only), x86 LDT (@cpu-emulation)
  'mbind',
  'set_mempolicy',
  'get_mempolicy',
  'migrate_pages',
  'move_pages',
  'modify_ldt',
  // @obsolete entry points the kernel no longer implements: refuse before it is asked
  'afs_syscall',
  'getpmsg',
  'putpmsg',
  'security',
  'tuxcall',
  'vserver',
  'mknod',
  'mknodat',
];

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
const SOCK_RAW = 3;
const U32 = 0xffffffff;

const hex = (n: number) => `0x${n.toString(16)}`;

/** The launcher's `--seccomp` values for a capsule with or without a network grant. */
export function seccompRules(network: boolean): string[] {
  const rules = DENIED_SYSCALLS.map((name) => `${EPERM}:${name}`);
  // clone(2)'s flags are arg 0 on x86_64 and arm64; clone3 passes them in memory the filter
  // cannot read, so it answers ENOSYS and glibc falls back to clone (Docker does the same).
  for (const flag of Object.values(CLONE_NEW_FLAGS)) rules.push(`${EPERM}:clone:0:${hex(flag)}:${hex(flag)}`);
  rules.push(`${ENOSYS}:clone3`);
  for (const req of Object.values(DENIED_IOCTLS)) rules.push(`${EPERM}:ioctl:1:${hex(U32)}:${hex(req)}`);
  // Address families: AF_UNIX always (the IPC channel), AF_INET/AF_INET6 only with a grant.
  // The family is compared on its low 32 bits, as the kernel reads it, so high bits cannot smuggle one in.
  const allowed = network ? [AF_UNIX, AF_INET, AF_INET6] : [AF_UNIX];
  for (let family = 0; family <= AF_LAST; family++)
    if (!allowed.includes(family)) rules.push(`${EAFNOSUPPORT}:socket:0:${hex(U32)}:${family}`);
  // Raw sockets, even with a network grant (the type's low 4 bits; SOCK_NONBLOCK etc. sit above).
  rules.push(`${EPERM}:socket:1:0xf:${SOCK_RAW}`);
  return rules.flatMap((r) => ['--seccomp', r]);
}
