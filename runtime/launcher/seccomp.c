/*
 * The seccomp filter: default deny (ENOSYS, so that a syscall newer than the list falls back the
 * way glibc and libuv expect, as in Docker's and systemd's filters), an allow list, and failure
 * rules that refuse some arguments of allowed syscalls (clone's namespace flags, TIOCSTI, socket
 * families). The lists are the runtime's policy (runtime/launcher/seccomp/ARCH.json, compiled into
 * arguments by runtime/src/confine/seccomp-policy.ts); this file only compiles them with libseccomp.
 * A name this architecture does not know stops the launch: nothing is ever skipped silently.
 * Syscalls of a foreign architecture (i386 via int 0x80, x32) hit the bad-arch action: kill.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "launch.h"

#define ENOSYS_DEFAULT SCMP_ACT_ERRNO(ENOSYS)

static int resolve(uint32_t arch, const char *name) {
  int nr = seccomp_syscall_resolve_name_arch(arch, name);
  /* libseccomp answers __NR_SCMP_ERROR for a name it does not know and a negative pseudo number
     for a syscall this architecture lacks (open on aarch64): both are mistakes in the list. */
  if (nr < 0) dief("seccomp: unknown syscall for this architecture", name);
  return nr;
}

/* The argument index of the first failure rule on this syscall, or -1: an unconditional allow
   would make libseccomp drop those rules, so the allow is written as an always-true comparison. */
static int filtered_arg(const struct policy *p, const char *name) {
  for (size_t i = 0; i < p->n_rules; i++)
    if (!p->rules[i].allow && p->rules[i].has_arg && strcmp(p->rules[i].name, name) == 0) return (int)p->rules[i].idx;
  return -1;
}

/* libseccomp takes native numbers (or its negative pseudo numbers for names the native architecture
   lacks) and translates them for the filter's architecture: `nr` is the target's, `sys` what it takes. */
static void add_rule(scmp_filter_ctx ctx, const struct policy *p, const struct rule_item *r, uint32_t arch) {
  int nr = resolve(arch, r->name);
  int sys = seccomp_syscall_resolve_name(r->name);
  uint32_t action = r->allow ? SCMP_ACT_ALLOW : SCMP_ACT_ERRNO((unsigned)r->err);
  int rc;
  if (r->has_arg) {
    rc = seccomp_rule_add(ctx, action, sys, 1, SCMP_CMP(r->idx, SCMP_CMP_MASKED_EQ, r->mask, r->value));
  } else if (r->allow && filtered_arg(p, r->name) >= 0) {
    rc = seccomp_rule_add(ctx, action, sys, 1, SCMP_CMP((unsigned)filtered_arg(p, r->name), SCMP_CMP_GE, 0));
  } else {
    rc = seccomp_rule_add(ctx, action, sys, 0);
  }
  if (p->seccomp_export != NULL) printf("# rule %s %d %s %d\n", r->name, nr, r->allow ? "allow" : "errno", r->err);
  if (rc != 0) {
    errno = -rc;
    die(r->name);
  }
}

/* execve only with the launcher's own pointer (noexec.c); 0 in an exported filter (no launch). */
static void allow_exec_once(scmp_filter_ctx ctx, const struct policy *p, const char *exec_path) {
  uint64_t at = (uint64_t)(uintptr_t)exec_path;
  int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, seccomp_syscall_resolve_name("execve"), 1, SCMP_CMP(0, SCMP_CMP_EQ, at));
  if (rc != 0) {
    errno = -rc;
    die("execve rule");
  }
  if (p->seccomp_export != NULL) printf("# rule execve-once %d allow 0\n", seccomp_syscall_resolve_name_arch(seccomp_arch_resolve_name(p->seccomp_export), "execve"));
}

static size_t allowed(const struct policy *p) {
  size_t n = 0;
  for (size_t i = 0; i < p->n_rules; i++) n += (size_t)p->rules[i].allow;
  return n;
}

/* The filter for `arch` (native when launching; aarch64 can be compiled and exported on x86_64). */
static scmp_filter_ctx build_filter(const struct policy *p, uint32_t arch, const char *exec_path) {
  if (allowed(p) == 0) dief("seccomp", "no allow list: a capsule never runs unfiltered");
  scmp_filter_ctx ctx = seccomp_init(ENOSYS_DEFAULT);
  if (ctx == NULL) dief("seccomp_init", "failed");
  if (arch != seccomp_arch_native()) {
    if (seccomp_arch_add(ctx, arch) != 0 || seccomp_arch_remove(ctx, SCMP_ARCH_NATIVE) != 0)
      dief("seccomp", "cannot target that architecture");
  }
  if (seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_KILL_PROCESS) != 0) dief("seccomp", "bad-arch action");
  /* Failure rules first, so that the allow rules below find them (filtered_arg). */
  for (size_t i = 0; i < p->n_rules; i++)
    if (!p->rules[i].allow) add_rule(ctx, p, &p->rules[i], arch);
  for (size_t i = 0; i < p->n_rules; i++)
    if (p->rules[i].allow) add_rule(ctx, p, &p->rules[i], arch);
  if (p->exec_once) allow_exec_once(ctx, p, exec_path);
  return ctx;
}

void install_seccomp(const struct policy *p, const char *exec_path) {
  scmp_filter_ctx ctx = build_filter(p, seccomp_arch_native(), exec_path);
  int rc = seccomp_load(ctx);
  seccomp_release(ctx);
  if (rc != 0) {
    errno = -rc;
    die("seccomp_load");
  }
}

/* `--seccomp-export ARCH`: the compiled filter as libseccomp's pseudo filter code, for the test
   that compares it with the data file and for the build's check of both architectures. */
int export_seccomp(const struct policy *p) {
  uint32_t arch = seccomp_arch_resolve_name(p->seccomp_export);
  if (arch == 0) dief("seccomp: unknown architecture", p->seccomp_export);
  scmp_filter_ctx ctx = build_filter(p, arch, NULL); /* prints one "# rule NAME NR ACTION ERRNO" line per rule */
  fflush(stdout);
  int rc = seccomp_export_pfc(ctx, 1);
  seccomp_release(ctx);
  if (rc != 0) dief("seccomp", "export failed");
  return 0;
}
