#!/bin/sh
# The bundle's hook (runtime/spec/update.md): after RAUC wrote the root slot, put that slot's UKI
# (signed with the bundle) on the ESP as elastos-SLOT+0.efi: not bootable until RAUC's
# set-primary gives it its tries (rauc-bootloader), so a half-installed slot never boots.
set -eu
esp=${ELASTOS_ESP:-/boot/firmware}
case "$1" in
  slot-post-install)
    [ "$RAUC_SLOT_CLASS" = rootfs ] || exit 0
    slot=$RAUC_SLOT_BOOTNAME
    src=$RAUC_BUNDLE_MOUNT_POINT/elastos-$slot.efi
    [ -f "$src" ] || { echo "hook: the bundle has no $src" >&2; exit 1; }
    rm -f "$esp/EFI/Linux/elastos-$slot.efi" "$esp/EFI/Linux/elastos-$slot+"*.efi
    cp "$src" "$esp/EFI/Linux/elastos-$slot+0.efi.tmp"
    sync -f "$esp/EFI/Linux"
    mv "$esp/EFI/Linux/elastos-$slot+0.efi.tmp" "$esp/EFI/Linux/elastos-$slot+0.efi"
    sync -f "$esp/EFI/Linux"
    ;;
  *) exit 0 ;;
esac
