#!/bin/sh
# The bundle's hook (runtime/spec/update.md): after RAUC wrote the root slot, put that slot's signed
# PCR policy on the ESP (elastos/pcr-policy-SLOT.json: it names the slot's PCR 11, which covers the
# slot's dm-verity root hash, so it cannot be on the slot; none in the bundle: the old one is
# removed), then its UKI (signed with the bundle) as elastos-SLOT+0.efi: not bootable until
# RAUC's set-primary gives it its tries (rauc-bootloader), so a half-installed slot never boots.
set -eu
esp=${ELASTOS_ESP:-/boot/firmware}
case "$1" in
  slot-post-install)
    [ "$RAUC_SLOT_CLASS" = rootfs ] || exit 0
    slot=$RAUC_SLOT_BOOTNAME
    src=$RAUC_BUNDLE_MOUNT_POINT/elastos-$slot.efi
    [ -f "$src" ] || { echo "hook: the bundle has no $src" >&2; exit 1; }
    policy=$RAUC_BUNDLE_MOUNT_POINT/pcr-policy-$slot.json
    mkdir -p "$esp/elastos"
    if [ -f "$policy" ]; then
      cp "$policy" "$esp/elastos/pcr-policy-$slot.json.tmp"
      sync -f "$esp/elastos"
      mv "$esp/elastos/pcr-policy-$slot.json.tmp" "$esp/elastos/pcr-policy-$slot.json"
      sync -f "$esp/elastos"
    else
      rm -f "$esp/elastos/pcr-policy-$slot.json"
    fi
    rm -f "$esp/EFI/Linux/elastos-$slot.efi" "$esp/EFI/Linux/elastos-$slot+"*.efi
    cp "$src" "$esp/EFI/Linux/elastos-$slot+0.efi.tmp"
    sync -f "$esp/EFI/Linux"
    mv "$esp/EFI/Linux/elastos-$slot+0.efi.tmp" "$esp/EFI/Linux/elastos-$slot+0.efi"
    sync -f "$esp/EFI/Linux"
    ;;
  *) exit 0 ;;
esac
