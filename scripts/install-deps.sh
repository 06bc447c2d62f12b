#!/usr/bin/env bash
# Installs every system package and tool HYPR needs on Debian/Ubuntu (run as root).
# Idempotent: re-running installs only what is missing.
set -euo pipefail

PACKAGES=(
  qemu-system-x86 qemu-utils
  linux-source-6.1 build-essential patch flex bison bc libelf-dev libssl-dev xz-utils
  musl-tools
  e2fsprogs erofs-utils
  busybox-static cpio
  docker-registry skopeo umoci apache2-utils
  iproute2 nftables
  systemd
  podman conmon containerd containernetworking-plugins iptables
  git ca-certificates curl
  # arm64 guests: cross compiler and musl for the kernel and Kestrel, QEMU to emulate them
  gcc-aarch64-linux-gnu musl-dev:arm64 qemu-system-arm
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: missing packages ${missing[*]}; run as root" >&2
    exit 1
  fi
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # musl-dev:arm64 (and busybox-static:arm64 for the tests) come from Debian's arm64 archive.
  dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# docker-registry starts a system service on install; tests run their own on other ports.
if command -v systemctl >/dev/null 2>&1; then
  systemctl disable --now docker-registry >/dev/null 2>&1 || true
fi

if ! command -v pnpm >/dev/null 2>&1; then
  echo "install-deps: installing pnpm"
  npm install -g pnpm@9.15.9 >/dev/null
fi
