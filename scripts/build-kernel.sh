#!/usr/bin/env bash
# Builds the HYPR guest kernel (uncompressed vmlinux, PVH-bootable) from Debian's linux-source-6.1
# with guest/kernel/hypr.config applied on top of allnoconfig. The result is cached by the hash of
# the fragment and the source tarball under ${HYPR_CACHE:-~/.cache/hypr}/kernel/<hash>/vmlinux, so a
# second run is instant; guest/out/vmlinux points at it. Safe to re-run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
fragment="$root/guest/kernel/hypr.config"
tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
if [[ -z "$tarball" ]]; then
  echo "build-kernel: /usr/src/linux-source-6.1.tar.xz is missing; run scripts/install-deps.sh (package linux-source-6.1)" >&2
  exit 1
fi

cache="${HYPR_CACHE:-$HOME/.cache/hypr}/kernel"
hash=$( (sha256sum "$fragment" | cut -d' ' -f1; stat -c '%s %Y' "$tarball") | sha256sum | cut -c1-16)
out="$cache/$hash"
mkdir -p "$root/guest/out"

if [[ ! -f "$out/vmlinux" ]]; then
  work="$cache/build-$hash"
  rm -rf "$work"
  mkdir -p "$work"
  echo "build-kernel: unpacking $(basename "$tarball")"
  tar -xJf "$tarball" -C "$work" --strip-components=1
  echo "build-kernel: configuring (allnoconfig + $(basename "$fragment"))"
  make -C "$work" -s ARCH=x86_64 KCONFIG_ALLCONFIG="$fragment" allnoconfig
  # Every line of the fragment must survive Kconfig's dependency resolution.
  missing=0
  while IFS= read -r line; do
    [[ "$line" =~ ^CONFIG_ ]] || continue
    key=${line%%=*}; val=${line#*=}
    if [[ "$val" == n ]]; then
      grep -q "^$key=" "$work/.config" && { echo "build-kernel: $key should be off" >&2; missing=1; }
    elif ! grep -qx "$key=$val" "$work/.config"; then
      echo "build-kernel: $key=$val did not take (dependency missing?)" >&2; missing=1
    fi
  done <"$fragment"
  ((missing == 0)) || exit 1
  echo "build-kernel: compiling vmlinux with $(nproc) jobs"
  make -C "$work" -s ARCH=x86_64 -j"$(nproc)" vmlinux
  mkdir -p "$out.tmp"
  cp "$work/vmlinux" "$out.tmp/vmlinux"
  cp "$work/.config" "$out.tmp/config"
  strip --strip-debug "$out.tmp/vmlinux" 2>/dev/null || true
  rm -rf "$out"
  mv "$out.tmp" "$out"
  rm -rf "$work"
fi

ln -sfn "$out/vmlinux" "$root/guest/out/vmlinux"
echo "build-kernel: $root/guest/out/vmlinux -> $out/vmlinux ($(stat -Lc %s "$root/guest/out/vmlinux") bytes)"
