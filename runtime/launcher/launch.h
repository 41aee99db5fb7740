/* elastos-launch: shared declarations. See README.md for the argument grammar. */
#ifndef ELASTOS_LAUNCH_H
#define ELASTOS_LAUNCH_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_ITEMS 128
#define MAX_RULES 512 /* seccomp rules: the runtime sends ~200 (allow list + argument filters) */
#define EXIT_SETUP 125 /* the launcher failed before exec: the supervisor reports E_CONFINE_LAUNCH */

enum mount_kind { M_RO, M_RW, M_DEV, M_TMPFS, M_VOLUME };

struct mount_item {
  enum mount_kind kind;
  const char *src; /* host path (M_RO, M_RW, M_DEV; M_VOLUME: the image file) */
  const char *dst; /* path inside the view */
  const char *opt; /* tmpfs size */
};

struct rule_item {
  int allow;        /* 1: an allow-list entry; 0: the syscall fails with err */
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
  const char *netns; /* --netns PATH: join this network namespace (the runtime's, with its veth) */
  const char *netns_ipv4; /* --netns-ipv4 ADDR/PREFIX,GW: configure its inside (netns.c) */
  const char *veth; /* --veth NAME: with --unshare net, a veth pair to the host, NAME its host end (veth.c) */
  uid_t uid;
  gid_t gid;
  struct rlimit_item rlimits[16];
  size_t n_rlimits;
  struct rule_item rules[MAX_RULES];
  size_t n_rules;
  const char *seccomp_export; /* --seccomp-export ARCH: print the filter as PFC and exit */
  int keep_fd; /* highest inherited fd kept open (3: the IPC channel) */
  int exec_once;               /* --seccomp-exec-once: execve only of the launcher's own pointer (noexec.c) */
  int memfd_noexec;            /* --memfd-noexec: vm.memfd_noexec=2 in the capsule's pid namespace */
  const char *exec_paths[MAX_ITEMS]; /* --landlock-exec PATH: the only executable paths */
  size_t n_exec_paths;
  int landlock_scope;          /* --landlock-scope: abstract unix sockets and signals stay in the capsule */
  char **argv; /* program and its arguments */
};

/* Prints "elastos-launch: STEP: strerror(errno)" and exits EXIT_SETUP. */
void die(const char *step);
void dief(const char *step, const char *detail);

int parse_policy(int argc, char **argv, struct policy *p);
void build_view(const struct policy *p);
int open_volume(const char *image);
void join_netns(const struct policy *p);

struct ipv4_spec {
  uint32_t addr, gw; /* network byte order */
  int prefix;
};
void parse_ipv4(const char *spec, struct ipv4_spec *out);
void address_link(int inet_socket, const char *name, uint32_t addr, int prefix);
void configure_inside(const char *spec);

/* The host's side of a veth pair made by the launcher: sockets opened in the host's namespace. */
struct host_link {
  int rtnl; /* NETLINK_ROUTE */
  int inet; /* AF_INET, for the address ioctls */
};
void veth_prepare(const struct policy *p, struct host_link *h);
void veth_make(const struct policy *p, struct host_link *h);
void mount_volume(int image_fd, const char *target, uid_t uid, gid_t gid);
void install_seccomp(const struct policy *p, const char *exec_path);
int export_seccomp(const struct policy *p);
int probe(void);
void set_memfd_noexec(const struct policy *p);
void apply_landlock(const struct policy *p);
const char *exec_once_path(const struct policy *p);

#endif
