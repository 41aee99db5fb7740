/* elastos-launch: shared declarations. See README.md for the argument grammar. */
#ifndef ELASTOS_LAUNCH_H
#define ELASTOS_LAUNCH_H

#include <stddef.h>
#include <sys/types.h>

#define MAX_ITEMS 128
#define MAX_RULES 512 /* seccomp rules: the runtime sends ~150 */
#define EXIT_SETUP 125 /* the launcher failed before exec: the supervisor reports E_CONFINE_LAUNCH */

enum mount_kind { M_RO, M_RW, M_DEV, M_TMPFS };

struct mount_item {
  enum mount_kind kind;
  const char *src; /* host path (M_RO, M_RW, M_DEV) */
  const char *dst; /* path inside the view */
  const char *opt; /* tmpfs size */
};

struct rule_item {
  int err;          /* errno returned */
  const char *name; /* syscall name, resolved by libseccomp */
  int has_arg;
  unsigned idx;
  unsigned long long mask, value;
};

struct rlimit_item {
  int resource;
  unsigned long long soft, hard;
};

struct policy {
  const char *cgroups[MAX_ITEMS];
  size_t n_cgroups;
  int ns_flags;  /* CLONE_NEW* except user */
  int userns;    /* 0 off, 1 where available, 2 required */
  struct mount_item mounts[MAX_ITEMS];
  size_t n_mounts;
  int proc;
  const char *hostname;
  const char *chdir;
  uid_t uid;
  gid_t gid;
  struct rlimit_item rlimits[16];
  size_t n_rlimits;
  struct rule_item rules[MAX_RULES];
  size_t n_rules;
  int keep_fd; /* highest inherited fd kept open (3: the IPC channel) */
  char **argv; /* program and its arguments */
};

/* Prints "elastos-launch: STEP: strerror(errno)" and exits EXIT_SETUP. */
void die(const char *step);
void dief(const char *step, const char *detail);

int parse_policy(int argc, char **argv, struct policy *p);
void build_view(const struct policy *p);
void install_seccomp(const struct policy *p);
int probe(void);

#endif
