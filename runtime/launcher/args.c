/* The launcher's policy comes only from its arguments (README.md "Arguments"); nothing is invented here. */
#define _GNU_SOURCE
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "launch.h"

static unsigned long long num(const char *s, const char *what) {
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 0);
  if (errno != 0 || end == s || *end != '\0') dief("bad number", what);
  return v;
}

static char *split(char *s, char sep) {
  char *at = strchr(s, sep);
  if (at == NULL) return NULL;
  *at = '\0';
  return at + 1;
}

static const struct { const char *name; int flag; } NS[] = {
    {"mnt", CLONE_NEWNS}, {"pid", CLONE_NEWPID}, {"ipc", CLONE_NEWIPC},
    {"uts", CLONE_NEWUTS}, {"net", CLONE_NEWNET}, {"cgroup", CLONE_NEWCGROUP},
};

static void parse_ns(char *list, struct policy *p) {
  for (char *tok = strtok(list, ","); tok != NULL; tok = strtok(NULL, ",")) {
    if (strcmp(tok, "user") == 0) { p->userns = 2; continue; }
    if (strcmp(tok, "user?") == 0) { p->userns = 1; continue; }
    size_t i = 0;
    for (; i < sizeof NS / sizeof NS[0]; i++)
      if (strcmp(tok, NS[i].name) == 0) break;
    if (i == sizeof NS / sizeof NS[0]) dief("unknown namespace", tok);
    p->ns_flags |= NS[i].flag;
  }
}

static const struct { const char *name; int res; } RL[] = {
    {"as", RLIMIT_AS}, {"core", RLIMIT_CORE}, {"cpu", RLIMIT_CPU}, {"data", RLIMIT_DATA},
    {"fsize", RLIMIT_FSIZE}, {"memlock", RLIMIT_MEMLOCK}, {"msgqueue", RLIMIT_MSGQUEUE},
    {"nofile", RLIMIT_NOFILE}, {"nproc", RLIMIT_NPROC}, {"stack", RLIMIT_STACK},
};

/* NAME:SOFT:HARD, e.g. nofile:256:256 */
static void parse_rlimit(char *s, struct policy *p) {
  char *soft = split(s, ':');
  char *hard = soft ? split(soft, ':') : NULL;
  if (hard == NULL) dief("bad --rlimit", s);
  size_t i = 0;
  for (; i < sizeof RL / sizeof RL[0]; i++)
    if (strcmp(s, RL[i].name) == 0) break;
  if (i == sizeof RL / sizeof RL[0]) dief("unknown rlimit", s);
  if (p->n_rlimits >= sizeof p->rlimits / sizeof p->rlimits[0]) dief("too many", "--rlimit");
  p->rlimits[p->n_rlimits++] = (struct rlimit_item){RL[i].res, num(soft, "rlimit"), num(hard, "rlimit")};
}

/* ERRNO:SYSCALL[:ARGINDEX:MASK:VALUE] -> the syscall fails with ERRNO when (arg & MASK) == VALUE;
   with allow, SYSCALL[:ARGINDEX:MASK:VALUE] -> the syscall is allowed (when (arg & MASK) == VALUE). */
static void parse_rule(char *s, struct policy *p, int allow) {
  char *name = s;
  if (!allow) {
    name = split(s, ':');
    if (name == NULL) dief("bad --seccomp", s);
  }
  struct rule_item r = {.allow = allow, .err = allow ? 0 : (int)num(s, "errno"), .name = name};
  char *idx = split(name, ':');
  if (idx != NULL) {
    char *mask = split(idx, ':');
    char *value = mask ? split(mask, ':') : NULL;
    if (value == NULL) dief("bad --seccomp argument filter", name);
    r.has_arg = 1;
    r.idx = (unsigned)num(idx, "arg index");
    r.mask = num(mask, "mask");
    r.value = num(value, "value");
    if (r.idx > 5) dief("bad --seccomp argument index", idx);
  }
  if (p->n_rules >= MAX_RULES) dief("too many", "--seccomp");
  p->rules[p->n_rules++] = r;
}

/* SRC:DST for binds, DST:SIZE for tmpfs */
static void add_mount(struct policy *p, enum mount_kind kind, char *arg) {
  char *second = split(arg, ':');
  if (second == NULL || arg[0] != '/') dief("bad mount argument", arg);
  if (p->n_mounts >= MAX_ITEMS) dief("too many", "mounts");
  struct mount_item *m = &p->mounts[p->n_mounts++];
  m->kind = kind;
  if (kind == M_TMPFS) {
    m->dst = arg;
    m->opt = second;
  } else {
    m->src = arg;
    m->dst = second;
    if (second[0] != '/') dief("bad mount destination", second);
  }
}

static int opt_is(const char *a, const char *name) { return strcmp(a, name) == 0; }

int parse_policy(int argc, char **argv, struct policy *p) {
  memset(p, 0, sizeof *p);
  p->uid = (uid_t)-1;
  p->gid = (gid_t)-1;
  p->keep_fd = 2;
  int i = 1;
  for (; i < argc; i++) {
    char *a = argv[i];
    if (opt_is(a, "--")) { i++; break; }
    if (opt_is(a, "--proc")) { p->proc = 1; continue; }
    if (opt_is(a, "--seccomp-exec-once")) { p->exec_once = 1; continue; }
    if (opt_is(a, "--memfd-noexec")) { p->memfd_noexec = 1; continue; }
    if (opt_is(a, "--landlock-scope")) { p->landlock_scope = 1; continue; }
    if (i + 1 >= argc) dief("missing value for", a);
    char *v = argv[++i];
    if (opt_is(a, "--cgroup")) {
      if (p->n_cgroups >= MAX_ITEMS) dief("too many", a);
      p->cgroups[p->n_cgroups++] = v;
    } else if (opt_is(a, "--unshare")) parse_ns(v, p);
    else if (opt_is(a, "--ro")) add_mount(p, M_RO, v);
    else if (opt_is(a, "--rw")) add_mount(p, M_RW, v);
    else if (opt_is(a, "--dev")) add_mount(p, M_DEV, v);
    else if (opt_is(a, "--tmpfs")) add_mount(p, M_TMPFS, v);
    else if (opt_is(a, "--volume")) add_mount(p, M_VOLUME, v);
    else if (opt_is(a, "--hostname")) p->hostname = v;
    else if (opt_is(a, "--chdir")) p->chdir = v;
    else if (opt_is(a, "--netns")) p->netns = v;
    else if (opt_is(a, "--netns-ipv4")) p->netns_ipv4 = v;
    else if (opt_is(a, "--veth")) p->veth = v;
    else if (opt_is(a, "--uid")) p->uid = (uid_t)num(v, a);
    else if (opt_is(a, "--gid")) p->gid = (gid_t)num(v, a);
    else if (opt_is(a, "--rlimit")) parse_rlimit(v, p);
    else if (opt_is(a, "--seccomp")) parse_rule(v, p, 0);
    else if (opt_is(a, "--seccomp-allow")) parse_rule(v, p, 1);
    else if (opt_is(a, "--seccomp-export")) p->seccomp_export = v;
    else if (opt_is(a, "--landlock-exec")) {
      if (p->n_exec_paths >= sizeof p->exec_paths / sizeof p->exec_paths[0]) dief("too many", a);
      p->exec_paths[p->n_exec_paths++] = v;
    } else if (opt_is(a, "--keep-fd")) p->keep_fd = (int)num(v, a);
    else dief("unknown option", a);
  }
  if (p->seccomp_export != NULL) return 0; /* only the filter is wanted */
  if (i >= argc) dief("usage", "elastos-launch [options] -- PROGRAM [ARGS...]");
  if (p->uid == 0 || p->uid == (uid_t)-1 || p->gid == 0 || p->gid == (gid_t)-1)
    dief("usage", "--uid and --gid must name an unprivileged user");
  if (p->netns != NULL && (p->ns_flags & CLONE_NEWNET)) dief("usage", "--netns joins a network namespace: do not --unshare net");
  if (p->veth != NULL) {
    size_t n = strlen(p->veth);
    if (n == 0 || n >= IFNAMSIZ || strspn(p->veth, "abcdefghijklmnopqrstuvwxyz0123456789") != n)
      dief("usage", "--veth NAME: 1-15 of [a-z0-9]");
    if (!(p->ns_flags & CLONE_NEWNET) || p->netns != NULL || p->netns_ipv4 == NULL)
      dief("usage", "--veth needs --unshare net and --netns-ipv4, not --netns");
  }
  p->argv = &argv[i];
  return 0;
}
