#!/usr/bin/env bash
# Builds Kestrel, static with musl. Safe to re-run: make rebuilds only when a source changed.
#   build-kestrel.sh [x64]  guest/out/kestrel with musl-gcc (musl-tools)
#   build-kestrel.sh arm64  guest/out/arm64/kestrel, cross-built with gcc-aarch64-linux-gnu and the
#                           musl of musl-dev:arm64 (Debian multiarch: dpkg --add-architecture arm64)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case "${1:-x64}" in
  x64 | x86_64)
    command -v musl-gcc >/dev/null || {
      echo "build-kestrel: musl-gcc is missing; run scripts/install-deps.sh (package musl-tools)" >&2
      exit 1
    }
    out=out/kestrel arch=x64 ;;
  arm64 | aarch64)
    command -v aarch64-linux-gnu-gcc >/dev/null && [[ -f /usr/lib/aarch64-linux-musl/musl-gcc.specs ]] || {
      echo "build-kestrel: the arm64 cross toolchain is missing; run scripts/install-deps.sh (gcc-aarch64-linux-gnu, musl-dev:arm64)" >&2
      exit 1
    }
    out=out/arm64/kestrel arch=arm64 ;;
  *) echo "build-kestrel: unknown architecture '$1' (give x64 or arm64)" >&2; exit 1 ;;
esac
make -s -C "$root/guest" ARCH=$arch "$out"
echo "build-kestrel: $root/guest/$out ($(stat -c %s "$root/guest/$out") bytes)"
