/*
 * The capsule's filesystem view: a fresh tmpfs root holding only the binds the policy names,
 * then pivot_root into it. Runs in the child, inside its own mount and pid namespaces, as root
 * (the privileges are dropped right after). Every path created here lives in the new tmpfs,
 * which nobody else can reach, so mkdir/creat cannot be redirected by a planted symlink.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launch.h"

#define NEWROOT "/tmp" /* exists on every system; the tmpfs mounted on it is private to this namespace */

static const unsigned long SAFE = MS_NOSUID | MS_NODEV;

static void mkdir_p(const char *path) {
  char buf[PATH_MAX];
  if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf) dief("path too long", path);
  for (char *p = buf + 1; *p != '\0'; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(buf, 0755) != 0 && errno != EEXIST) die(buf);
    *p = '/';
  }
  if (mkdir(buf, 0755) != 0 && errno != EEXIST) die(buf);
}

/* Makes the mount point NEWROOT/dst: a directory, or an empty file when the source is not a directory. */
static void make_target(int src_fd, const char *target) {
  struct stat st;
  if (fstat(src_fd, &st) != 0) die(target);
  if (S_ISDIR(st.st_mode)) {
    mkdir_p(target);
    return;
  }
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", target);
  char *slash = strrchr(parent, '/');
  if (slash != NULL && slash != parent) {
    *slash = '\0';
    mkdir_p(parent);
  }
  int fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
  if (fd < 0) die(target);
  close(fd);
}

/* A bind mount, then a remount that applies the flags (a plain MS_BIND ignores them). */
static void bind(int src_fd, const char *target, unsigned long flags) {
  char src[64];
  snprintf(src, sizeof src, "/proc/self/fd/%d", src_fd);
  make_target(src_fd, target);
  if (mount(src, target, NULL, MS_BIND | MS_REC, NULL) != 0) die(target);
  if (mount(NULL, target, NULL, MS_REMOUNT | MS_BIND | flags, NULL) != 0) die(target);
}

static void mount_one(const struct policy *p, const struct mount_item *m, int src_fd) {
  char target[PATH_MAX];
  if (snprintf(target, sizeof target, "%s%s", NEWROOT, m->dst) >= (int)sizeof target) dief("path too long", m->dst);
  char data[64];
  switch (m->kind) {
  case M_RO: bind(src_fd, target, SAFE | MS_RDONLY); break;
  case M_RW: bind(src_fd, target, SAFE | MS_NOEXEC); break; /* writable is never executable */
  case M_DEV: bind(src_fd, target, MS_NOSUID | MS_NOEXEC | MS_RDONLY); break; /* device nodes: no MS_NODEV */
  case M_TMPFS:
    mkdir_p(target);
    snprintf(data, sizeof data, "size=%s,mode=1777", m->opt);
    if (mount("tmpfs", target, "tmpfs", SAFE | MS_NOEXEC, data) != 0) die(target);
    break;
  case M_VOLUME:
    mkdir_p(target);
    mount_volume(src_fd, target, p->uid, p->gid);
    break;
  }
}

void build_view(const struct policy *p) {
  /* Nothing mounted below may propagate back to the host's namespace. */
  if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0) die("make / private");
  /* Sources are opened before the tmpfs hides NEWROOT (they may live below it) and bound through
     their fd, so a path swapped after this point changes nothing. */
  int fds[MAX_ITEMS];
  for (size_t i = 0; i < p->n_mounts; i++) {
    fds[i] = -1;
    if (p->mounts[i].kind == M_TMPFS) continue;
    fds[i] = p->mounts[i].kind == M_VOLUME ? open_volume(p->mounts[i].src) : open(p->mounts[i].src, O_PATH | O_CLOEXEC);
    if (fds[i] < 0) die(p->mounts[i].src);
  }
  if (mount("tmpfs", NEWROOT, "tmpfs", SAFE, "size=1m,mode=0755") != 0) die("tmpfs root");
  for (size_t i = 0; i < p->n_mounts; i++) {
    mount_one(p, &p->mounts[i], fds[i]);
    if (fds[i] >= 0) close(fds[i]);
  }
  if (p->proc) {
    mkdir_p(NEWROOT "/proc");
    /* Only the capsule's own processes (subset=pid: no /proc/sys, /proc/kcore, /proc/keys...);
       hidepid=invisible hides any process of another uid that might share the namespace. */
    if (mount("proc", NEWROOT "/proc", "proc", SAFE | MS_NOEXEC, "hidepid=invisible,subset=pid") != 0) die("mount proc");
  }
  /* The root itself is read-only: a capsule writes only to its data dir and private /tmp. */
  if (mount(NULL, NEWROOT, NULL, MS_REMOUNT | MS_RDONLY | SAFE, "size=1m,mode=0755") != 0) die("read-only root");
  if (chdir(NEWROOT) != 0) die("chdir new root");
  /* pivot_root(".", ".") stacks the old root under the new one; the detach then drops it. */
  if (syscall(SYS_pivot_root, ".", ".") != 0) die("pivot_root");
  if (umount2(".", MNT_DETACH) != 0) die("detach old root");
  if (chdir("/") != 0) die("chdir /");
}
