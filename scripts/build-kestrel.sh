#!/usr/bin/env bash
# Builds guest/out/kestrel (static, musl). Safe to re-run: make rebuilds only when a source changed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if ! command -v musl-gcc >/dev/null; then
  echo "build-kestrel: musl-gcc is missing; run scripts/install-deps.sh (package musl-tools)" >&2
  exit 1
fi
make -s -C "$root/guest" out/kestrel
echo "build-kestrel: $root/guest/out/kestrel ($(stat -c %s "$root/guest/out/kestrel") bytes)"
