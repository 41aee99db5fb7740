/*
 * A capsule executes one program, its Node: nothing it writes becomes a program later
 * (README.md "No exec after start"). Three layers, each where the kernel has it:
 *   - seccomp (every kernel with filters): execve is allowed only with the one filename pointer the
 *     launcher itself passes, at a random address that the program never learns (its address space
 *     is replaced by the exec); execveat and memfd_create are not on the allow list at all.
 *   - vm.memfd_noexec = 2 in the capsule's own pid namespace (Linux 6.3+): no executable memfd.
 *   - Landlock (5.13+): the execute right only beneath the paths the runtime names (Node, its
 *     loader); ABI 6+ also scopes abstract unix sockets and signals to the capsule's own domain.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/landlock.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launch.h"

/* Bookworm's headers predate Landlock ABI 6 (scopes); the layout is the kernel's (uapi landlock.h). */
struct ruleset_attr_v6 {
  uint64_t handled_access_fs;
  uint64_t handled_access_net;
  uint64_t scoped;
};
#define SCOPE_ABSTRACT_UNIX_SOCKET (1ULL << 0)
#define SCOPE_SIGNAL (1ULL << 1)

/* Root, in the capsule's new pid namespace (the sysctl is per pid namespace and inherited). */
void set_memfd_noexec(const struct policy *p) {
  if (!p->memfd_noexec) return;
  int fd = open("/proc/sys/vm/memfd_noexec", O_WRONLY | O_CLOEXEC);
  if (fd < 0) die("vm.memfd_noexec");
  if (write(fd, "2", 1) != 1) die("vm.memfd_noexec");
  close(fd);
}

static void allow_beneath(int ruleset, const char *path, uint64_t access) {
  struct landlock_path_beneath_attr rule = {.allowed_access = access};
  rule.parent_fd = open(path, O_PATH | O_CLOEXEC);
  if (rule.parent_fd < 0) die(path);
  if (syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) die("landlock_add_rule");
  close(rule.parent_fd);
}

/* After the uid drop (no_new_privs is set), before the seccomp filter (which does not list these). */
void apply_landlock(const struct policy *p) {
  if (p->n_exec_paths == 0 && !p->landlock_scope) return;
  long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi < 1) die("landlock");
  if (p->landlock_scope && abi < 6) dief("landlock", "scopes need ABI 6");
  struct ruleset_attr_v6 attr = {0};
  /* A ruleset that handles any fs right also denies reparenting a file (rename or link into
     another folder: EXDEV) unless REFER (ABI 2+) is handled and granted: grant it on the whole view
     (its mounts and uid decide what is writable; Landlock still refuses a move that would gain
     the execute right). Without it a capsule cannot rename a staged file into place. */
  uint64_t refer = abi >= 2 ? LANDLOCK_ACCESS_FS_REFER : 0;
  if (p->n_exec_paths > 0) attr.handled_access_fs = LANDLOCK_ACCESS_FS_EXECUTE | refer;
  if (p->landlock_scope) attr.scoped = SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL;
  size_t size = p->landlock_scope ? sizeof attr : sizeof attr.handled_access_fs;
  int ruleset = (int)syscall(SYS_landlock_create_ruleset, &attr, size, 0);
  if (ruleset < 0) die("landlock_create_ruleset");
  for (size_t i = 0; i < p->n_exec_paths; i++) allow_beneath(ruleset, p->exec_paths[i], LANDLOCK_ACCESS_FS_EXECUTE);
  if (p->n_exec_paths > 0 && refer != 0) allow_beneath(ruleset, "/", refer);
  if (syscall(SYS_landlock_restrict_self, ruleset, 0) != 0) die("landlock_restrict_self");
  close(ruleset);
}

/* The program's path copied to a random address; the filter allows execve with that pointer only. */
const char *exec_once_path(const struct policy *p) {
  size_t len = strlen(p->argv[0]) + 1;
  if (len > 2048) dief("exec", "program path too long");
  for (int tries = 0; tries < 16; tries++) {
    uint64_t r = 0;
    if (getrandom(&r, sizeof r, 0) != sizeof r) die("getrandom");
    /* Somewhere in the lower 46 bits of the address space, at any byte of its first half page. */
    uintptr_t page = (uintptr_t)((r >> 12) % ((1ULL << 46) >> 12)) << 12;
    if (page < (1UL << 32)) continue;
    void *at = mmap((void *)page, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (at == MAP_FAILED) continue;
    char *path = (char *)at + (r & 2047);
    memcpy(path, p->argv[0], len);
    return path;
  }
  dief("exec", "no free address for the program path");
  return NULL;
}
