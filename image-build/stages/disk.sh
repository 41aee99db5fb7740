#!/bin/bash
# Stage "disk": the GPT disk image from the root slot's image and two trees (FACTS.md: mkfs -d, no
# loop mount).
#   disk.sh OUT ROOT_IMAGE DATA_TREE BOOT_TREE ROOT_MIB DATA_MIB BOOT_MIB ROOT_TYPE
# ROOT_IMAGE is the root slot as verity.ts made it (ext4, then its dm-verity hash tree); it stays
# beside the disk as rootfs.ext4 (an update bundle carries it).
# Layout (A/B ready, image-build/README.md): 1 boot (vfat), 2 rootA (ext4, read-only at run
# time), 3 rootB (same size, empty: an update writes it whole), 4 data (ext4, persistent).
# UUIDs are fixed so two builds of the same inputs agree and the kernel's root= never changes.
set -euo pipefail
out=$1 root_image=$2 data=$3 boot=$4 root_mib=$5 data_mib=$6 boot_mib=$7 root_type=$8
: "${SOURCE_DATE_EPOCH:?}"
work=$out/parts
mkdir -p "$work"
export E2FSPROGS_FAKE_TIME=$SOURCE_DATE_EPOCH
[ "$(stat -c %s "$root_image")" -le $((root_mib * 1048576)) ] || { echo "disk.sh: $root_image is larger than ${root_mib} MiB" >&2; exit 1; }
mkfs.ext4 -q -F -L data -U 6c1d1f0e-6f3a-4c63-9d2a-0000000000d1 -E root_owner=0:0,hash_seed=6c1d1f0e-6f3a-4c63-9d2a-0000000000d1 \
  -d "$data" "$work/data.ext4" "${data_mib}M"
rm -f "$work/boot.vfat"
mkfs.vfat -C -n BOOT -i 0e1a5b00 "$work/boot.vfat" $((boot_mib * 1024)) >/dev/null
mcopy -s -m -i "$work/boot.vfat" "$boot"/* ::/
img=$out/disk.img
rm -f "$img"
total=$((1 + boot_mib + 2 * root_mib + data_mib + 1))
truncate -s "${total}M" "$img"
sfdisk -q "$img" <<SFDISK
label: gpt
label-id: 6C1D1F0E-6F3A-4C63-9D2A-000000000000
first-lba: 2048
start=1MiB, size=${boot_mib}MiB, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, uuid=6C1D1F0E-6F3A-4C63-9D2A-0000000000B0, name=boot
size=${root_mib}MiB, type=$root_type, uuid=6C1D1F0E-6F3A-4C63-9D2A-0000000000A1, name=rootA
size=${root_mib}MiB, type=$root_type, uuid=6C1D1F0E-6F3A-4C63-9D2A-0000000000A2, name=rootB
size=${data_mib}MiB, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=6C1D1F0E-6F3A-4C63-9D2A-0000000000D1, name=data
SFDISK
dd if="$work/boot.vfat" of="$img" bs=1M seek=1 conv=notrunc,sparse status=none
dd if="$root_image" of="$img" bs=1M seek=$((1 + boot_mib)) conv=notrunc,sparse status=none
dd if="$work/data.ext4" of="$img" bs=1M seek=$((1 + boot_mib + 2 * root_mib)) conv=notrunc,sparse status=none
rm -rf "$work"
bmaptool -q create -o "$out/disk.img.bmap" "$img"
zstd -q -f -T0 -9 "$img" -o "$out/disk.img.zst"
