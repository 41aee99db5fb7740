/*
 * A capsule's data volume (`--volume IMG:DST`, runtime/launcher/README.md "Disk quota"): the
 * capsule's own ext4 filesystem in a preallocated image file, attached to a free loop device and
 * mounted in the capsule's mount namespace only. Its size is the capsule's disk quota (a full
 * volume answers ENOSPC); it is unmounted, and the loop device detached (autoclear), when the
 * namespace dies with the capsule's last process, killed or not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launch.h"

/* Opens the image for the loop device, locked: the lock lives on the open file the loop device
   keeps, so it holds exactly as long as the volume is attached; a second mount of it (two
   instances, or a capsule restarted before its old namespace died) is refused, never done. */
int open_volume(const char *image) {
  int fd = open(image, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) die(image);
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) dief("volume is not a regular file", image);
  /* A restart may come while the kernel still detaches the last run's loop device: wait up to 2 s. */
  for (int waited = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; waited += 10) {
    if (errno != EWOULDBLOCK || waited >= 2000) dief("volume in use", image);
    usleep(10 * 1000);
  }
  return fd;
}

/* Binds the image to a free loop device (retrying when another launcher took the same one). */
static int attach_loop(int image_fd, char *dev, size_t size) {
  int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
  if (ctl < 0) die("/dev/loop-control");
  struct loop_config cfg = {.fd = (unsigned)image_fd, .info = {.lo_flags = LO_FLAGS_AUTOCLEAR}};
  for (int tries = 0; tries < 16; tries++) {
    int n = ioctl(ctl, LOOP_CTL_GET_FREE);
    if (n < 0) die("loop: no free device");
    snprintf(dev, size, "/dev/loop%d", n);
    int fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0) die(dev);
    if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
      close(ctl);
      return fd;
    }
    if (errno != EBUSY) die("loop configure");
    close(fd);
  }
  dief("loop", "every free device was taken meanwhile");
  return -1;
}

void mount_volume(int image_fd, const char *target, uid_t uid, gid_t gid) {
  char dev[32];
  int loop_fd = attach_loop(image_fd, dev, sizeof dev);
  if (mkdir(target, 0700) != 0 && errno != EEXIST) die(target);
  /* Writable is never executable; errors=remount-ro: a damaged volume stops taking writes. */
  if (mount(dev, target, "ext4", MS_NOSUID | MS_NODEV | MS_NOEXEC, "errors=remount-ro") != 0) die("mount volume");
  close(loop_fd); /* the mount holds the device now; autoclear detaches it at the unmount */
  /* Its root belongs to the capsule's uid (a uid assigned anew after a reinstall takes it over). */
  if (chown(target, uid, gid) != 0 || chmod(target, 0700) != 0) die("volume root");
}
