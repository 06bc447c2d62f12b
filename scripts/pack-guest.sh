#!/usr/bin/env bash
# Fills packages/guest-<os>-<arch>/ with the guest that scripts/build-kernel.sh and
# scripts/build-kestrel.sh made (guest/out), and the host's per-container supervisor that
# scripts/build-shim.sh made (shim/out): vmlinux, kestrel, hypr-shim and manifest.json (sha256 of
# each, kernel version, config-fragment hash). @hypr/core resolves this package at run time, so npm
# users get the guest with `npm i @hypr/core` (an optional dependency, one package per platform).
# Safe to re-run: copies only what changed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# An argument packs another architecture's guest: `pack-guest.sh arm64` (guest/out/arm64).
arch=${1:-$(uname -m)}; case "$arch" in x86_64) arch=x64;; aarch64) arch=arm64;; esac
src="$root/guest/out" config="$root/guest/kernel/hypr.config" shim="$root/shim/out"
[[ $arch == arm64 ]] && src="$root/guest/out/arm64" config="$root/guest/kernel/hypr-arm64.config" shim="$root/shim/out/arm64"
pkg="$root/packages/guest-linux-$arch"
[[ -d "$pkg" ]] || { echo "pack-guest: no package folder $pkg for this platform" >&2; exit 1; }
for f in vmlinux kestrel hypr-shim; do
  from="$src/$f"; [[ $f == hypr-shim ]] && from="$shim/$f"
  [[ -f "$from" ]] || { echo "pack-guest: $from is missing; run scripts/setup.sh" >&2; exit 1; }
  if ! cmp -s "$from" "$pkg/$f"; then
    cp -L "$from" "$pkg/$f.tmp" && mv "$pkg/$f.tmp" "$pkg/$f"
  fi
done
chmod 755 "$pkg/kestrel" "$pkg/hypr-shim"; chmod 644 "$pkg/vmlinux"
fragment=$(sha256sum "$config" | cut -d' ' -f1)
kver=$(grep -aoE 'Linux version [0-9][^ ]*' "$pkg/vmlinux" | head -1 | cut -d' ' -f3 || true)
node -e '
const [pkg, kver, fragment] = process.argv.slice(1);
const { createHash } = require("node:crypto"); const fs = require("node:fs");
const sha = (f) => createHash("sha256").update(fs.readFileSync(`${pkg}/${f}`)).digest("hex");
const files = {};
for (const f of ["vmlinux", "kestrel", "hypr-shim"]) files[f] = { sha256: sha(f), sizeBytes: fs.statSync(`${pkg}/${f}`).size };
const manifest = { schemaVersion: 1, kernelVersion: kver || "unknown", configFragmentSha256: fragment, files };
fs.writeFileSync(`${pkg}/manifest.json`, `${JSON.stringify(manifest, null, 2)}\n`);
' "$pkg" "$kver" "$fragment"
echo "pack-guest: $pkg (kernel ${kver:-unknown}, kestrel $(stat -c %s "$pkg/kestrel") bytes, hypr-shim $(stat -c %s "$pkg/hypr-shim") bytes)"
