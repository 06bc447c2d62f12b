#!/usr/bin/env bash
# Builds hypr and hyprd as Node single executable applications for this platform (linux-x64 here):
# each is the node binary with one esbuild bundle and its files (migrations, guest kernel, Kestrel,
# the SQLite addon) injected as SEA assets; the binary extracts them once to ~/.cache/hypr/sea/
# (HYPR_CACHE), checked by sha256. Needs the workspace built (pnpm build) and guest/out.
# Usage: scripts/build-sea.sh [OUTDIR]   (default dist/sea, ignored by git; writes OUTDIR/hypr and OUTDIR/hyprd)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
out=$(mkdir -p "${1:-$root/dist/sea}" && cd "${1:-$root/dist/sea}" && pwd)
node=$(command -v node)
node -e 'const [a,b]=process.versions.node.split(".").map(Number); if (a<20||(a===20&&b<12)) { console.error(`build-sea: Node ${process.version} has no SEA assets (needs 20.12+)`); process.exit(1); }'
for f in vmlinux kestrel; do
  [[ -s "$root/guest/out/$f" ]] || { echo "build-sea: guest/out/$f is missing; run scripts/setup.sh" >&2; exit 1; }
done
node "$root/scripts/sea/bundle.mjs" "$out/stage"
for bin in hyprd hypr; do
  (cd "$out/stage/$bin" && node --experimental-sea-config sea-config.json >/dev/null)
  rm -f "$out/$bin.tmp"
  cp "$node" "$out/$bin.tmp"
  chmod u+w "$out/$bin.tmp"
  "$root/node_modules/.bin/postject" "$out/$bin.tmp" NODE_SEA_BLOB "$out/stage/$bin/sea-prep.blob" \
    --sentinel-fuse NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2 2>&1 >/dev/null | { grep -v "Can't find string offset" || true; } >&2
  mv "$out/$bin.tmp" "$out/$bin"
  echo "build-sea: $out/$bin ($(du -m "$out/$bin" | cut -f1) MiB; node alone $(du -m "$node" | cut -f1) MiB)"
done
