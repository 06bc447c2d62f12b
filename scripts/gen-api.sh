#!/usr/bin/env bash
# Regenerates packages/api/src/gen from proto/hypr/v1 with buf and the local protoc-gen-es.
# Offline: both come from node_modules. Safe to re-run; the output is committed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root/proto"
buf="$root/packages/api/node_modules/.bin/buf"
"$buf" lint
"$buf" generate
