/*
 * elastos-launch: starts one capsule confined, in this order (runtime/launcher/README.md):
 *   1. no_new_privs              5. drop privileges: groups, gid, uid, every capability
 *   2. join the capsule's cgroups 6. user namespace where asked (uid mapped to itself), caps dropped again
 *   3. join/unshare namespaces        7. rlimits, parent-death signal, close stray fds
 *   4. build the filesystem view  8. seccomp filter, then fork+exec the program (fd 3, the IPC channel, kept)
 * The parent stays outside the pid namespace as a small monitor: it drops to the capsule's uid,
 * forwards termination signals and exits with the capsule's status (128+N when killed by signal N).
 * It is mechanism only: every path, limit and rule comes from the arguments.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"

void die(const char *step) { dief(step, strerror(errno)); }

void dief(const char *step, const char *detail) {
  fprintf(stderr, "elastos-launch: %s: %s\n", step, detail);
  _exit(EXIT_SETUP);
}

static void write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) die(path);
  ssize_t n = write(fd, text, strlen(text));
  if (n != (ssize_t)strlen(text)) die(path);
  close(fd);
}

/*
 * v1: write "0" (this thread) to `tasks`: the launcher is single-threaded, so that moves the whole
 * process, and moving only `current` skips the global cgroup_threadgroup_rwsem, whose write side
 * waits an RCU grace period (~13 ms here, most of the launcher's cost; kernel/cgroup/cgroup.c,
 * cgroup_procs_write_start). v2 has no `tasks`: cgroup.procs.
 */
static void join_cgroups(const struct policy *p) {
  char path[4096], pid[32];
  snprintf(pid, sizeof pid, "%d", getpid());
  for (size_t i = 0; i < p->n_cgroups; i++) {
    snprintf(path, sizeof path, "%s/tasks", p->cgroups[i]);
    if (access(path, W_OK) == 0) {
      write_file(path, "0");
      continue;
    }
    snprintf(path, sizeof path, "%s/cgroup.procs", p->cgroups[i]);
    write_file(path, pid);
  }
}

/* Empties the bounding set (needs CAP_SETPCAP: call before giving up root) and the ambient set. */
static void drop_bounding(void) {
  for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) die("drop bounding capability");
  if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL) die("clear ambient caps");
}

/* Empties the permitted, effective and inheritable sets. */
static void clear_caps(void) {
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  memset(data, 0, sizeof data);
  if (syscall(SYS_capset, &hdr, data) != 0) die("capset");
}

static void become_user(const struct policy *p) {
  if (setgroups(0, NULL) != 0) die("setgroups");
  if (setresgid(p->gid, p->gid, p->gid) != 0) die("setresgid");
  if (setresuid(p->uid, p->uid, p->uid) != 0) die("setresuid");
}

/* Maps the capsule's uid/gid to themselves in a new user namespace; its fresh caps are dropped. */
static void enter_userns(const struct policy *p) {
  if (p->userns == 0) return;
  /* /proc/self belongs to root after setuid unless the process is dumpable. */
  if (prctl(PR_SET_DUMPABLE, 1, 0, 0, 0) != 0) die("dumpable");
  if (unshare(CLONE_NEWUSER) != 0) {
    if (p->userns == 2) die("user namespace");
    fprintf(stderr, "elastos-launch: warning: no user namespace (%s)\n", strerror(errno));
    return;
  }
  char map[64];
  snprintf(map, sizeof map, "%u %u 1\n", p->uid, p->uid);
  write_file("/proc/self/uid_map", map);
  write_file("/proc/self/setgroups", "deny");
  snprintf(map, sizeof map, "%u %u 1\n", p->gid, p->gid);
  write_file("/proc/self/gid_map", map);
  drop_bounding();
  clear_caps();
}

static void set_rlimits(const struct policy *p) {
  for (size_t i = 0; i < p->n_rlimits; i++) {
    struct rlimit rl = {(rlim_t)p->rlimits[i].soft, (rlim_t)p->rlimits[i].hard};
    if (setrlimit(p->rlimits[i].resource, &rl) != 0) die("setrlimit");
  }
}

static volatile pid_t relay_to = 0;

static void forward(int sig) {
  if (relay_to > 0) kill(relay_to, sig);
}

/* Forwards termination signals to `child` and returns its status as a shell would (128+N for signal N).
   As pid 1 (`reap_all`) it also reaps orphans until `child` itself is gone. */
static int relay(pid_t child, int reap_all) {
  relay_to = child;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = forward;
  int sigs[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
  int status = 0;
  for (;;) {
    pid_t got = waitpid(reap_all ? -1 : child, &status, 0);
    if (got == child) break;
    if (got < 0 && errno != EINTR) die("waitpid");
  }
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

/* Closes every fd from `from` up, except `except`. */
static void close_from_except(int from, int except) {
  if (except > from && close_range((unsigned)from, (unsigned)except - 1, 0) != 0) die("close_range");
  if (close_range((unsigned)(except >= from ? except + 1 : from), ~0U, 0) != 0) die("close_range");
}

/* The capsule side: pid 1 of the new pid namespace; it sets up, then forks the program. */
static void capsule(const struct policy *p, int alive_fd) {
  /* Everything above the channel goes, except the monitor's liveness pipe (close-on-exec). */
  close_from_except(p->keep_fd + 1, alive_fd);
  set_memfd_noexec(p); /* through the host's /proc: the capsule's own shows no /proc/sys */
  build_view(p);
  if (p->hostname != NULL && sethostname(p->hostname, strlen(p->hostname)) != 0) die("sethostname");
  if (p->chdir != NULL && chdir(p->chdir) != 0) die(p->chdir);
  /* Out of the runtime's session (no controlling terminal, no job control signals from it)... */
  if (setsid() < 0) die("setsid");
  if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) != 0) die("keepcaps");
  drop_bounding();
  become_user(p);
  clear_caps();
  enter_userns(p);
  /* ...and out of its session keyring: a fresh anonymous one, owned by the capsule's uid. */
  if (syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, NULL) < 0) die("session keyring");
  set_rlimits(p);
  /* Set last: credential changes above reset it. SIGKILL is the one signal pid 1 cannot ignore. */
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) die("pdeathsig");
  /* The monitor may have died before that: its end of the pipe is then closed. */
  struct pollfd pfd = {alive_fd, POLLIN, 0};
  if (poll(&pfd, 1, 0) != 0) dief("monitor", "gone before exec");
  if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) die("not dumpable");
  apply_landlock(p);
  const char *program_path = p->exec_once ? exec_once_path(p) : p->argv[0];
  install_seccomp(p, program_path);
  /* A tiny init stays pid 1 so that the program, as pid 2, keeps the default signal actions
     (pid 1 ignores SIGTERM without a handler) and orphans are reaped. */
  pid_t program = fork();
  if (program < 0) die("fork program");
  if (program == 0) {
    execv(program_path, p->argv);
    die(p->argv[0]);
  }
  if (p->keep_fd > 2) close_range(3, ~0U, 0);
  _exit(relay(program, 1));
}

/* The monitor: no privileges, no channel; it only relays signals and the exit status. It dies with
   the runtime (parent-death signal), and the capsule's init dies with it: a runtime killed with
   SIGKILL leaves no capsule running. */
static int monitor(const struct policy *p, pid_t child, pid_t runtime, int alive_fd) {
  close_from_except(3, alive_fd); /* the channel is the capsule's, not the monitor's */
  drop_bounding();
  become_user(p);
  clear_caps();
  if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) die("monitor pdeathsig");
  if (getppid() != runtime) {
    kill(child, SIGKILL);
    return 128 + SIGKILL;
  }
  return relay(child, 0);
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--probe") == 0) return probe();
  pid_t runtime = getppid();
  struct policy p;
  parse_policy(argc, argv, &p);
  if (p.seccomp_export != NULL) return export_seccomp(&p);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("no_new_privs");
  join_cgroups(&p);
  join_netns(&p);
  struct host_link host;
  veth_prepare(&p, &host);
  if (unshare(p.ns_flags) != 0) die("unshare");
  veth_make(&p, &host);
  int alive[2];
  if (pipe2(alive, O_CLOEXEC) != 0) die("pipe");
  pid_t child = fork();
  if (child < 0) die("fork");
  if (child == 0) {
    close(alive[1]);
    capsule(&p, alive[0]);
  }
  close(alive[0]);
  return monitor(&p, child, runtime, alive[1]);
}
