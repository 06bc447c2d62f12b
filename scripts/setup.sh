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
bash scripts/build-shim.sh
bash scripts/build-kernel.sh
bash scripts/pack-guest.sh
# The arm64 guest (hypr-vm --platform linux/arm64): cross-built, the kernel cached like the x64 one.
# A failure here leaves the x64 guest, which everything else uses, working: say so and go on.
if ! { bash scripts/build-kestrel.sh arm64 && bash scripts/build-shim.sh arm64 && nice bash scripts/build-kernel.sh arm64 && bash scripts/pack-guest.sh arm64; }; then
  echo "setup: WARNING: the arm64 guest was not built (hypr-vm --platform linux/arm64 will say so)" >&2
fi
echo "setup: building packages"
pnpm -s build
echo "setup: done"
