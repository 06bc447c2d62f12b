#!/usr/bin/env bash
# The main job, end to end on a fresh machine: set everything up, then boot a real microVM with
# kestrel as PID 1 and print what a program inside it printed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/setup.sh >&2
rootfs=$(mktemp -d /tmp/hypr-demo-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
bash scripts/make-busybox-rootfs.sh "$rootfs"
pnpm exec hypr-vm --rootfs "$rootfs" -e GREETING="Hello from a HYPR microVM" -- \
  sh -c 'echo "$GREETING"; echo "kernel: $(uname -r), pid of this shell: $$, cpus: $(nproc)"'
