/*
 * The seccomp filter: default allow, and each --seccomp rule makes one syscall fail with the
 * given errno (optionally only when (arg & mask) == value). The rule list is the runtime's
 * policy (runtime/src/confine/seccomp-policy.ts); this file only compiles it with libseccomp.
 * Syscalls of a foreign architecture (i386 via int 0x80, x32) hit the bad-arch action: kill.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>

#include "launch.h"

static void add_rule(scmp_filter_ctx ctx, const struct rule_item *r) {
  int nr = seccomp_syscall_resolve_name(r->name);
  /* A name this architecture lacks (vm86 on x86_64, an old syscall on arm64: libseccomp gives
     an error or a negative pseudo number) needs no rule: the kernel has no such entry point. */
  if (nr == __NR_SCMP_ERROR || nr < 0) return;
  int rc;
  if (r->has_arg) {
    struct scmp_arg_cmp cmp = SCMP_CMP(r->idx, SCMP_CMP_MASKED_EQ, r->mask, r->value);
    rc = seccomp_rule_add_exact(ctx, SCMP_ACT_ERRNO((unsigned)r->err), nr, 1, cmp);
  } else {
    rc = seccomp_rule_add_exact(ctx, SCMP_ACT_ERRNO((unsigned)r->err), nr, 0);
  }
  if (rc != 0) {
    errno = -rc;
    die(r->name);
  }
}

void install_seccomp(const struct policy *p) {
  if (p->n_rules == 0) return;
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  if (ctx == NULL) dief("seccomp_init", "failed");
  if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0) dief("seccomp", "bad-arch action");
  for (size_t i = 0; i < p->n_rules; i++) add_rule(ctx, &p->rules[i]);
  int rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0) {
    errno = -rc;
    die("seccomp_load");
  }
}
