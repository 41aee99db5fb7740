#!/bin/bash
# Stage "rootfs": a minimal Debian bookworm root filesystem from Debian's packages only.
#   rootfs.sh ARCH OUTDIR MIRROR PACKAGES...
# Runs mmdebstrap in root mode (arm64 code runs under qemu-user through binfmt_misc).
# The initramfs is set to MODULES=list *before* the kernel is installed: with the default
# MODULES=most, two initramfs builds under qemu-user take ~28 min (FACTS.md).
set -euo pipefail
arch=$1 out=$2 mirror=$3
shift 3
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
pkgs=$(IFS=,; echo "$*")
rm -rf "$out" && mkdir -p "$out"
# No docs, man pages or locales (copyright files stay: they are the licences).
nodocs=(
  --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*'
  --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/locale/locale.alias'
  --dpkgopt='path-exclude=/usr/share/lintian/*' --dpkgopt='path-exclude=/usr/share/bug/*'
)
mmdebstrap --mode=root --variant=apt --arch="$arch" --format=directory \
  --aptopt='Acquire::Retries "3"' "${nodocs[@]}" \
  --setup-hook="mkdir -p \"\$1/etc/initramfs-tools/conf.d\" \"\$1/etc/initramfs-tools/hooks\" \"\$1/etc/initramfs-tools/scripts/local-top\"" \
  --setup-hook="cp '$here/initramfs/modules.conf' \"\$1/etc/initramfs-tools/conf.d/elastos\"" \
  --setup-hook="install -m 0755 '$here/initramfs/hook-$arch' \"\$1/etc/initramfs-tools/hooks/elastos-modules\"" \
  --setup-hook="install -m 0755 '$here/initramfs/verity-hook' \"\$1/etc/initramfs-tools/hooks/elastos-verity\"" \
  --setup-hook="install -m 0755 '$here/initramfs/verity-local-top' \"\$1/etc/initramfs-tools/scripts/local-top/elastos-verity\"" \
  --include="$pkgs" \
  --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*.log "$1"/var/log/apt/*' \
  bookworm "$out" "$mirror"
