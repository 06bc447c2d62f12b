#!/usr/bin/env bash
# Sets everything up, then runs every check: typecheck, lint, and all vitest tests (unit,
# integration with real QEMU VMs and a real registry, end to end). Ends with one line
# "N passed, N failed" and exits non-zero when anything failed.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

if ! bash scripts/setup.sh; then
  echo "setup failed"
  echo "0 passed, 1 failed"
  exit 1
fi

passed=0
failed=0
check() {
  local name=$1; shift
  echo "== $name"
  if "$@"; then passed=$((passed + 1)); else echo "FAILED: $name"; failed=$((failed + 1)); fi
}
check typecheck pnpm -s typecheck
check lint pnpm exec biome check .
check "import cycles" pnpm -s check:cycles

echo "== vitest"
rm -f test-results.json
pnpm exec vitest run --reporter=default --reporter=json --outputFile=test-results.json
vitest_rc=$?
if [[ -f test-results.json ]]; then
  read -r vp vf < <(node -e '
    const r = require("./test-results.json");
    // A file that fails to load has no test results of its own; count it as one failure.
    const brokenFiles = r.testResults.filter((f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed")).length;
    console.log(r.numPassedTests, r.numFailedTests + brokenFiles);
  ')
  passed=$((passed + vp))
  failed=$((failed + vf))
  if [[ $vitest_rc -ne 0 && $vf -eq 0 ]]; then failed=$((failed + 1)); fi
else
  failed=$((failed + 1))
fi

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
