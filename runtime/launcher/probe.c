/*
 * `elastos-launch --probe`: which kernel layers work here, as one JSON line (the runtime's doctor
 * reads it; runtime/src/confine/doctor.ts). Each probe really tries the feature in a throwaway
 * child, as the launcher would use it, instead of trusting config files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/landlock.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launch.h"

/* Runs fn in a forked child; true when it exits 0. */
static int in_child(int (*fn)(void)) {
  pid_t pid = fork();
  if (pid < 0) return 0;
  if (pid == 0) _exit(fn() == 0 ? 0 : 1);
  int status = 0;
  if (waitpid(pid, &status, 0) != pid) return 0;
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

static int try_namespaces(void) {
  return unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET);
}

/* As the launcher does it: an unprivileged uid with no_new_privs asks for a user namespace. */
static int try_userns(void) {
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  if (geteuid() == 0 && (setresgid(65534, 65534, 65534) != 0 || setresuid(65534, 65534, 65534) != 0)) return -1;
  return unshare(CLONE_NEWUSER);
}

static int seccomp_filter(void) {
  unsigned action = SECCOMP_RET_ERRNO;
  return syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &action) == 0;
}

static long landlock_abi(void) {
  long v = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  return v < 0 ? 0 : v;
}

int probe(void) {
  int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) >= 0;
  /* vm.memfd_noexec (Linux 6.3+), set per pid namespace by the launcher (noexec.c). */
  int memfd_noexec = access("/proc/sys/vm/memfd_noexec", F_OK) == 0;
  printf("{\"noNewPrivs\":%s,\"seccompFilter\":%s,\"namespaces\":%s,\"userNamespace\":%s,\"landlockAbi\":%ld,"
         "\"memfdNoexec\":%s,\"root\":%s}\n",
         nnp ? "true" : "false", seccomp_filter() ? "true" : "false", in_child(try_namespaces) ? "true" : "false",
         in_child(try_userns) ? "true" : "false", landlock_abi(), memfd_noexec ? "true" : "false", geteuid() == 0 ? "true" : "false");
  return 0;
}
