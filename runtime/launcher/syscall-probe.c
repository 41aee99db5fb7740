/*
 * Test tool (not installed): a hostile native "capsule" for the confinement tests. Run through the
 * real launcher, it attempts the syscalls the seccomp policy denies and prints one JSON object
 * `{"name": errno, ...}` (0 means the call succeeded: an escape). `forkbomb` forks until refused.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

extern char **environ;
static int first = 1;
static void report(const char *name, long rc) {
  printf("%s\"%s\":%d", first ? "{" : ",", name, rc < 0 ? errno : 0);
  first = 0;
}

static long try_socket(int family, int type) {
  int fd = socket(family, type, 0);
  if (fd >= 0) close(fd);
  return fd;
}

static long try_clone_ns(int flag) {
  pid_t pid = (pid_t)syscall(SYS_clone, flag | SIGCHLD, 0, 0, 0, 0);
  if (pid == 0) _exit(0);
  if (pid > 0) waitpid(pid, NULL, 0);
  return pid;
}

/* Tries one way to run a new program in a child; the program (this probe, "exec-ok") exits 42.
   Returns 0 when it ran (an escape), else -1 with errno set to the child's failure. */
static long try_exec(const char *how) {
  pid_t pid = fork();
  if (pid == 0) {
    char *argv[] = {"/probe", "exec-ok", NULL};
    int fd = -1;
    if (strcmp(how, "memfd") == 0) {
      fd = (int)syscall(SYS_memfd_create, "x", 0);
      int src = open("/probe", O_RDONLY | O_CLOEXEC);
      char buf[65536];
      ssize_t n;
      while (fd >= 0 && src >= 0 && (n = read(src, buf, sizeof buf)) > 0) write(fd, buf, (size_t)n);
    } else if (strcmp(how, "execveat") == 0) {
      fd = open("/probe", O_RDONLY | O_CLOEXEC);
    }
    if (fd >= 0 || strcmp(how, "execve") != 0) {
      if (fd < 0) _exit(errno);
      syscall(SYS_execveat, fd, "", argv, environ, AT_EMPTY_PATH);
    } else {
      execv("/probe", argv);
    }
    _exit(errno);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 42) return 0;
  errno = WIFEXITED(status) ? WEXITSTATUS(status) : 255;
  return -1;
}

static int forkbomb(void) {
  int n = 0;
  for (;;) {
    pid_t pid = fork();
    if (pid == 0) { pause(); _exit(0); }
    if (pid < 0) break;
    n++;
  }
  printf("{\"forked\":%d,\"errno\":%d}\n", n, errno);
  fflush(stdout);
  return 1;
}

/* `abstract NAME`: connects to the abstract unix socket @NAME (Landlock's scope refuses one made
   outside the capsule's domain with EPERM). The address is the whole zero-padded sun_path, as
   Node 20 binds `\0NAME`. */
static int abstract_connect(const char *name) {
  struct sockaddr_un a = {.sun_family = AF_UNIX};
  size_t n = strnlen(name, sizeof a.sun_path - 1);
  memcpy(a.sun_path + 1, name, n);
  int fd = socket(AF_UNIX, SOCK_STREAM, 0);
  report("abstract_connect", fd < 0 ? fd : connect(fd, (struct sockaddr *)&a, sizeof a));
  printf("}\n");
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "forkbomb") == 0) return forkbomb();
  if (argc > 2 && strcmp(argv[1], "abstract") == 0) return abstract_connect(argv[2]);
  if (argc > 1 && strcmp(argv[1], "exec-ok") == 0) return 42;
  char dir[] = "/tmp";
  report("mount", mount("tmpfs", dir, "tmpfs", 0, NULL));
  report("umount", umount2("/proc", MNT_DETACH));
  report("ptrace_attach", ptrace(PTRACE_ATTACH, 1, 0, 0));
  report("ptrace_traceme", ptrace(PTRACE_TRACEME, 0, 0, 0));
  report("unshare_user", unshare(CLONE_NEWUSER));
  report("unshare_net", unshare(CLONE_NEWNET));
  report("clone_newns", try_clone_ns(CLONE_NEWNS));
  report("clone_newuser", try_clone_ns(CLONE_NEWUSER));
  report("setns", setns(0, 0));
  report("chroot", chroot("/tmp"));
  report("kexec_load", syscall(SYS_kexec_load, 0, 0, 0, 0));
  report("init_module", syscall(SYS_init_module, 0, 0, ""));
  report("bpf", syscall(SYS_bpf, BPF_PROG_LOAD, 0, 0));
  report("keyctl", syscall(SYS_keyctl, 0, 0, 0, 0, 0));
  report("add_key", syscall(SYS_add_key, "user", "x", "y", 1, 0));
  struct perf_event_attr attr;
  memset(&attr, 0, sizeof attr);
  attr.size = sizeof attr;
  report("perf_event_open", syscall(SYS_perf_event_open, &attr, 0, -1, -1, 0));
  report("userfaultfd", syscall(SYS_userfaultfd, 0));
  report("io_uring_setup", syscall(SYS_io_uring_setup, 1, NULL));
  report("socket_inet", try_socket(AF_INET, SOCK_STREAM));
  report("socket_inet6", try_socket(AF_INET6, SOCK_DGRAM));
  report("socket_packet", try_socket(AF_PACKET, SOCK_RAW));
  report("socket_netlink", try_socket(AF_NETLINK, SOCK_RAW));
  report("socket_raw", try_socket(AF_INET, SOCK_RAW));
  report("socket_inet_highbits", syscall(SYS_socket, 0x100000000L | AF_INET, SOCK_STREAM, 0));
  char c = 'x';
  report("tiocsti", ioctl(0, TIOCSTI, &c));
  report("setuid_root", setuid(0));
  report("mknod", mknod("/tmp/null", 0020666, 0x0103));
  /* Below Node's permission model, the view alone: no /etc, a read-only root, no shell. */
  report("open_shadow", open("/etc/shadow", O_RDONLY));
  report("create_in_root", open("/pwned", O_CREAT | O_WRONLY, 0644));
  report("create_in_code", open("/capsule/code/pwned", O_CREAT | O_WRONLY, 0644));
  char *sh[] = {"/bin/sh", "-c", "true", NULL};
  report("exec_sh", execv("/bin/sh", sh));
  /* Default deny: syscalls the allow list does not name fail with ENOSYS, known to libseccomp or not. */
  report("memfd_create", syscall(SYS_memfd_create, "x", 0));
  report("mlock", mlock(&c, 1));
  report("listmount", syscall(458, 0, 0, 0, 0)); /* listmount: 458 on x86_64 and arm64; libseccomp 2.5.4 lacks it */
  int pair[2];
  report("socketpair_inet", socketpair(AF_INET, SOCK_STREAM, 0, pair));
  report("socket_sock_packet", try_socket(AF_INET, SOCK_PACKET));
  /* Smaller leaks: the host's sysctls, the runtime's session. */
  report("proc_sys", open("/proc/sys/kernel/hostname", O_RDONLY));
  report("proc_keys", open("/proc/keys", O_RDONLY));
  pid_t sid = getsid(0); /* 0: the session leader lives outside the capsule's pid namespace */
  errno = EPERM;
  report("runtime_session", sid == 0 ? 0 : -1);
  /* No exec after start: its own program again, through an fd, or from writable memory. */
  report("exec_self", try_exec("execve"));
  report("execveat_self", try_exec("execveat"));
  report("exec_memfd", try_exec("memfd"));
  report("socket_unix", try_socket(AF_UNIX, SOCK_STREAM)); /* allowed: the one family a capsule has */
  printf("}\n");
  return 0;
}
