#!/usr/bin/env bash
# Builds hypr-shim, the per-container supervisor (shim/PROTOCOL.md), static with musl. Safe to
# re-run: make rebuilds only when a source changed.
#   build-shim.sh [x64]  shim/out/hypr-shim with musl-gcc (musl-tools)
#   build-shim.sh arm64  shim/out/arm64/hypr-shim, cross-built with gcc-aarch64-linux-gnu and the
#                        musl of musl-dev:arm64 (Debian multiarch: dpkg --add-architecture arm64)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
case "${1:-x64}" in
  x64 | x86_64)
    command -v musl-gcc >/dev/null || {
      echo "build-shim: musl-gcc is missing; run scripts/install-deps.sh (package musl-tools)" >&2
      exit 1
    }
    out=out/hypr-shim arch=x64 ;;
  arm64 | aarch64)
    command -v aarch64-linux-gnu-gcc >/dev/null && [[ -f /usr/lib/aarch64-linux-musl/musl-gcc.specs ]] || {
      echo "build-shim: the arm64 cross toolchain is missing; run scripts/install-deps.sh (gcc-aarch64-linux-gnu, musl-dev:arm64)" >&2
      exit 1
    }
    out=out/arm64/hypr-shim arch=arm64 ;;
  *) echo "build-shim: unknown architecture '$1' (give x64 or arm64)" >&2; exit 1 ;;
esac
make -s -C "$root/shim" ARCH=$arch "$out"
echo "build-shim: $root/shim/$out ($(stat -c %s "$root/shim/$out") bytes)"
