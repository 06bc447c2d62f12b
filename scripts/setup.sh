#!/usr/bin/env bash
# Sets up everything HYPR needs on a fresh Debian/Ubuntu machine (as root): system packages,
# pnpm, the npm dependencies, kestrel, the guest kernel and the TypeScript build. Safe to re-run;
# every step skips work already done.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

bash scripts/install-deps.sh
echo "setup: installing npm dependencies"
pnpm install --frozen-lockfile --reporter=silent
bash scripts/build-kestrel.sh
bash scripts/build-kernel.sh
# The arm64 guest (hypr-vm --platform linux/arm64): cross-built, cached like the x64 kernel.
bash scripts/build-kestrel.sh arm64
nice bash scripts/build-kernel.sh arm64
bash scripts/pack-guest.sh
bash scripts/pack-guest.sh arm64
echo "setup: building packages"
pnpm -s build
echo "setup: done"
