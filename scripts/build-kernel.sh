#!/usr/bin/env bash
# Builds the HYPR guest kernel from Debian's linux-source-6.1 with a config fragment applied on top
# of allnoconfig:
#   build-kernel.sh [x64]  guest/kernel/hypr.config: uncompressed vmlinux, PVH-bootable -> guest/out/vmlinux
#   build-kernel.sh arm64  guest/kernel/hypr-arm64.config, cross-built with gcc-aarch64-linux-gnu: the
#                          uncompressed arm64 Image (what QEMU virt, cloud-hypervisor and vfkit load)
#                          -> guest/out/arm64/vmlinux (named like the x64 one so both guests look alike)
# Patches in guest/kernel/patches/<arch>-*.patch are applied to the source first (patch -p1).
# The result is cached by the hash of the fragment, the patches and the source tarball under
# ${HYPR_CACHE:-~/.cache/hypr}/kernel/<hash>/vmlinux, so a second run is instant; guest/out points at it.
# Safe to re-run.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
arch=${1:-x64}
case "$arch" in
  x64 | x86_64) arch=x64 karch=x86_64 target=vmlinux image=vmlinux cross= fragment="$root/guest/kernel/hypr.config" dest="$root/guest/out" ;;
  arm64 | aarch64)
    arch=arm64 karch=arm64 target=Image image=arch/arm64/boot/Image cross=aarch64-linux-gnu-
    fragment="$root/guest/kernel/hypr-arm64.config" dest="$root/guest/out/arm64"
    command -v ${cross}gcc >/dev/null || {
      echo "build-kernel: ${cross}gcc is missing; run scripts/install-deps.sh (package gcc-aarch64-linux-gnu)" >&2
      exit 1
    }
    ;;
  *) echo "build-kernel: unknown architecture '$arch' (give x64 or arm64)" >&2; exit 1 ;;
esac
tarball=$(ls /usr/src/linux-source-6.1.tar.xz 2>/dev/null || true)
if [[ -z "$tarball" ]]; then
  echo "build-kernel: /usr/src/linux-source-6.1.tar.xz is missing; run scripts/install-deps.sh (package linux-source-6.1)" >&2
  exit 1
fi

cache="${HYPR_CACHE:-$HOME/.cache/hypr}/kernel"
patches=$(ls "$root"/guest/kernel/patches/"$arch"-*.patch 2>/dev/null || true)
hash=$( (sha256sum "$fragment" $patches | cut -d' ' -f1; stat -c '%s %Y' "$tarball") | sha256sum | cut -c1-16)
out="$cache/$hash"
mkdir -p "$dest"

if [[ ! -f "$out/vmlinux" ]]; then
  work="$cache/build-$hash"
  rm -rf "$work"
  mkdir -p "$work"
  echo "build-kernel: unpacking $(basename "$tarball")"
  tar -xJf "$tarball" -C "$work" --strip-components=1
  for p in $patches; do
    echo "build-kernel: applying $(basename "$p")"
    patch -d "$work" -p1 --forward --quiet <"$p"
  done
  echo "build-kernel: configuring (allnoconfig + $(basename "$fragment"))"
  make -C "$work" -s ARCH=$karch CROSS_COMPILE=$cross KCONFIG_ALLCONFIG="$fragment" allnoconfig
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
  echo "build-kernel: compiling $target ($arch) with $(nproc) jobs"
  make -C "$work" -s ARCH=$karch CROSS_COMPILE=$cross -j"$(nproc)" $target
  mkdir -p "$out.tmp"
  cp "$work/$image" "$out.tmp/vmlinux"
  cp "$work/.config" "$out.tmp/config"
  # Symbols too: QEMU copies an ELF kernel's symbol table into its own memory (1.1 MiB per VM, measured),
  # and nothing reads it. The PVH entry note is an allocated section: strip keeps it.
  [[ $arch != x64 ]] || strip --strip-all "$out.tmp/vmlinux" 2>/dev/null || true
  rm -rf "$out"
  mv "$out.tmp" "$out"
  rm -rf "$work"
fi

ln -sfn "$out/vmlinux" "$dest/vmlinux"
echo "build-kernel: $dest/vmlinux -> $out/vmlinux ($(stat -Lc %s "$dest/vmlinux") bytes)"
