#!/usr/bin/env bash
# Builds the amd64 image with the store's sync turned off, for the power-cut demonstration
# (hil-tests/README.md): `bash hil-tests/scripts/nosync-image.sh [OUT]` (default .run/image-nosync),
# then `npm run hil -- --rig qemu --image OUT/amd64 --cuts 1 --grep 'power cut' --junit ...`.
# Never part of CI's run. The source is changed only while the image builds, and put back (and
# rebuilt) whatever happens; a store.ts with local changes is refused rather than touched.
set -euo pipefail
cd "$(dirname "$0")/../.."
out="${1:-.run/image-nosync}"
store=runtime/src/store/store.ts
synced='{ sync: options.sync === true }'
grep -qF "$synced" "$store" || { echo "error E_SETUP_REQUIRED: $store no longer has '$synced'" >&2; exit 78; }
git diff --quiet -- "$store" || { echo "error E_SETUP_REQUIRED: $store has local changes" >&2; exit 78; }
backup="$(mktemp)"
cp "$store" "$backup"
restore() { cp "$backup" "$store" && rm -f "$backup" && node_modules/.bin/tsc -b; }
trap restore EXIT
sed -i "s/$synced/{ sync: false }/" "$store"
grep -qF '{ sync: false }' "$store"
node_modules/.bin/tsc -b
mkdir -p "$out"
# The stages (Debian, Node, native parts) and the publisher key are the normal image's.
[ -e "$out/cache" ] || ln -s "$(realpath .run/image/cache)" "$out/cache"
[ -e "$out/keys" ] || ln -s "$(realpath .run/image/keys)" "$out/keys"
npm run image -- --arch amd64 --out "$out"
