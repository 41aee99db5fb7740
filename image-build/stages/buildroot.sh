#!/bin/bash
# Stage "buildroot": the image's rootfs plus a compiler and the -dev headers, to build the
# runtime's native parts for the target arch (under qemu-user for arm64). Never shipped.
#   buildroot.sh ROOTFS_TREE OUT_TREE PACKAGES...
set -euo pipefail
src=$1 out=$2
shift 2
rm -rf "$out"
cp -a --reflink=auto "$src" "$out"
cleanup() { umount -l "$out/proc" 2>/dev/null || true; umount -l "$out/dev" 2>/dev/null || true; }
trap cleanup EXIT
mount -t proc proc "$out/proc"
mount --bind /dev "$out/dev"
cp /etc/resolv.conf "$out/etc/resolv.conf"
printf '#!/bin/sh\nexit 101\n' > "$out/usr/sbin/policy-rc.d" && chmod +x "$out/usr/sbin/policy-rc.d"
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
chroot "$out" apt-get update -qq
chroot "$out" apt-get install -y -qq --no-install-recommends "$@" >/dev/null
chroot "$out" apt-get clean
