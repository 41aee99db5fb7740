#!/bin/sh
# Runs inside the buildroot (chroot; qemu-user for arm64): builds the runtime's native parts
# for the target from /build (sources copied in by native.ts) into /build/out.
# The flags are node-gyp's defaults for these bindings (binding.gyp): C++17, no RTTI or
# exceptions (NAPI_DISABLE_CPP_EXCEPTIONS), position-independent shared objects.
set -eu
cd /build
mkdir -p out
napi="-O2 -fPIC -shared -std=gnu++17 -fno-rtti -fno-exceptions -ffile-prefix-map=/build=. \
  -DNAPI_VERSION=8 -DNAPI_DISABLE_CPP_EXCEPTIONS -DBUILDING_NODE_EXTENSION \
  -I/build/node/include/node -I/build/node-addon-api"
echo "[native] tpm2.node"
g++ $napi -DNODE_ADDON_API_DISABLE_DEPRECATED -Wall -Wno-unused-parameter -o out/tpm2.node tpm2/*.cc \
  -ltss2-esys -ltss2-tctildr -ltss2-mu -ltss2-rc
echo "[native] peercred.node"
g++ $napi -Wall -o out/peercred.node peercred/peercred.cc
echo "[native] harden.node"
g++ $napi -Wall -Wextra -o out/harden.node harden/harden.cc
echo "[native] elastos-launch"
make -s -C launcher build/elastos-launch CFLAGS="-O2 -Wall -Wextra -Werror -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE -ffile-prefix-map=/build=."
cp launcher/build/elastos-launch out/
