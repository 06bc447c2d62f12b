#!/usr/bin/env bash
# Installs HYPR as a user does and runs it with the checkout out of sight. Packs every workspace
# package, installs the tarballs into scratch npm projects outside the checkout, then, in a private
# mount namespace with an empty tmpfs over the checkout, a fresh HOME and no HYPR_* variables, runs
# the installed hypr-vm, and the installed hyprd + hypr (load, run --rm, build, compose up -d/down)
# inside a network namespace of its own. Prints "ok: …" lines; any failure prints "FAIL: …" and
# exits 1. Usage (as root, from anywhere): test/install/installed.sh
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=$(mktemp -d /tmp/hypr-installed.XXXXXX)
NS=""
cleanup() {
  if [ -n "$NS" ]; then
    for p in $(ip netns pids "$NS" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    ip netns del "$NS" 2>/dev/null
  fi
  rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

# 1. pack (pnpm turns workspace: ranges into versions; the guest package's prepack fills it)
mkdir -p "$T/tgz"
host_guest="guest-linux-$(uname -m | sed 's/x86_64/x64/; s/aarch64/arm64/')"
for p in "$root"/packages/*/; do
  # A user installs the guest of their own platform (npm picks it by os/cpu); other guests may be unbuilt here.
  case "$(basename "$p")" in guest-*) [ "$(basename "$p")" = "$host_guest" ] || continue ;; esac
  (cd "$p" && pnpm pack --pack-destination "$T/tgz" >"$T/pack.log" 2>&1) || fail "pnpm pack in $p: $(tail -3 "$T/pack.log")"
done
for n in api core daemon cli guest-linux-x64; do ls "$T"/tgz/hypr-$n-*.tgz >/dev/null 2>&1 || fail "no tarball for @hypr/$n"; done
echo "ok: packed $(ls "$T/tgz" | wc -l) packages ($(du -ch "$T"/tgz/*.tgz | tail -1 | cut -f1))"
tar -tzf "$T"/tgz/hypr-$host_guest-*.tgz >"$T/guest.files"   # a file: grep -q would end tar early (pipefail)
grep -qx 'package/hypr-shim' "$T/guest.files" || fail "@hypr/$host_guest ships no hypr-shim"
echo "ok: @hypr/$host_guest ships hypr-shim"
protos=$(tar -tzf "$T"/tgz/hypr-api-*.tgz | grep -c '^package/proto/hypr/v1/.*\.proto$')
[ "$protos" = "$(ls "$root"/proto/hypr/v1/*.proto | wc -l)" ] || fail "@hypr/api ships $protos of the .proto files"
echo "ok: @hypr/api ships the $protos .proto files"
tar -tzf "$T"/tgz/hypr-cli-*.tgz >"$T/cli.files"
grep -qx 'package/dist/hypr.mjs' "$T/cli.files" || fail "@hypr/cli ships no dist/hypr.mjs bundle"
echo "ok: @hypr/cli ships its bundle"

# 2. the CLI's closure installs with no native module (what `npm i -g @hypr/cli` fetches)
mkdir -p "$T/cli-only"
(cd "$T/cli-only" && npm init -y >/dev/null && npm i --no-audit --no-fund --ignore-scripts \
  "$T"/tgz/hypr-cli-*.tgz "$T"/tgz/hypr-api-*.tgz "$T"/tgz/hypr-core-*.tgz >"$T/npm-cli.log" 2>&1) \
  || fail "npm i of @hypr/cli: $(tail -5 "$T/npm-cli.log")"
native=$(cd "$T/cli-only/node_modules" && { ls -d better-sqlite3 prebuild-install 2>/dev/null; find . -name binding.gyp 2>/dev/null | head -3; })
[ -z "$native" ] || fail "@hypr/cli pulls native modules: $native"
echo "ok: @hypr/cli installs without a native module"

# 3. everything, as a user installs it (install scripts run: better-sqlite3 builds for the daemon)
mkdir -p "$T/app"
# npm 11 runs a dependency's install script only when the project allows it (allowScripts)
(cd "$T/app" && npm init -y >/dev/null && npm pkg set 'allowScripts.better-sqlite3=true' --json \
  && npm i --no-audit --no-fund "$T"/tgz/*.tgz >"$T/npm.log" 2>&1) \
  || fail "npm i: $(tail -5 "$T/npm.log")"
echo "ok: installed into $T/app"

# 4. a busybox rootfs and the same as an image archive (made before the checkout is hidden)
bash "$root/scripts/make-busybox-rootfs.sh" "$T/rootfs"
( cd "$T" && umoci init --layout oci && umoci new --image oci:img && umoci unpack --image oci:img b >/dev/null \
  && rm -rf b/rootfs && cp -a rootfs b/rootfs && umoci repack --image oci:img b \
  && umoci config --image oci:img --config.cmd /bin/sh && skopeo copy -q oci:oci:img docker-archive:"$T/bb.tar":inst/bb:1 ) \
  >"$T/img.log" 2>&1 || fail "test image: $(tail -3 "$T/img.log")"
mkdir -p "$T/ctx" "$T/proj"
printf 'FROM inst/bb:1\nCOPY msg.txt /msg.txt\nCMD ["cat", "/msg.txt"]\n' >"$T/ctx/Dockerfile"
echo built-by-installed-hypr >"$T/ctx/msg.txt"
printf 'services:\n  app:\n    image: inst/bb:1\n    command: ["sh", "-c", "echo compose-ok; sleep 300"]\n' >"$T/proj/compose.yaml"

# 5. the checkout hidden, a fresh HOME, no HYPR_* variables
NS="hyprinst$$"
ip netns add "$NS" || fail "cannot create a network namespace"
ip netns exec "$NS" ip link set lo up
cat >"$T/hidden.sh" <<SH
set -uo pipefail
mount -t tmpfs tmpfs "$root" || { echo "FAIL: cannot hide the checkout"; exit 1; }
cd /; export HOME="$T/home"; mkdir -p "\$HOME"
unset HYPR_GUEST_DIR HYPR_KERNEL HYPR_KESTREL HYPR_HOME HYPR_HOST
bin="$T/app/node_modules/.bin"
out=\$(timeout 300 "\$bin/hypr-vm" --rootfs "$T/rootfs" -- sh -c 'echo installed-ok; exit 4' 2>"$T/vm.err"); rc=\$?
[ "\$rc" = 4 ] && [ "\$out" = installed-ok ] || { echo "FAIL: hypr-vm: rc=\$rc out='\$out' \$(tail -3 "$T/vm.err")"; exit 1; }
echo "ok: the installed hypr-vm boots a VM (exit code and output came back)"
unit=\$("\$bin/hyprd" --print-service systemd)
want="ExecStart=\$(readlink -f "\$(command -v node)") $T/app/node_modules/@hypr/daemon/bin/hyprd.js --data-root /var/lib/hypr"
echo "\$unit" | grep -q "^\$want " || { echo "FAIL: hyprd --print-service systemd: \$(echo "\$unit" | grep ExecStart), want \$want"; exit 1; }
echo "ok: the installed hyprd prints a systemd unit with its installed paths"
sock="$T/hyprd.sock"
ip netns exec $NS "\$bin/hyprd" -H "unix://\$sock" --data-root "$T/state" >"$T/hyprd.log" 2>&1 & d=\$!
for i in \$(seq 200); do [ -S "\$sock" ] && break; sleep 0.1; done
[ -S "\$sock" ] || { echo "FAIL: the installed hyprd did not listen: \$(tail -3 "$T/hyprd.log")"; exit 1; }
h() { timeout 300 ip netns exec $NS "\$bin/hypr" -H "unix://\$sock" "\$@"; }
h load -i "$T/bb.tar" >/dev/null 2>"$T/cli.err" || { echo "FAIL: hypr load: \$(tail -3 "$T/cli.err")"; exit 1; }
got=\$(h run --rm inst/bb:1 echo from-installed-daemon 2>"$T/cli.err")
[ "\$got" = from-installed-daemon ] || { echo "FAIL: hypr run: '\$got' \$(tail -3 "$T/cli.err")"; exit 1; }
echo "ok: the installed hyprd + hypr run a container"
if h build --help >/dev/null 2>&1; then
  h build -q -t inst/built:1 "$T/ctx" >/dev/null 2>"$T/cli.err" || { echo "FAIL: hypr build: \$(tail -3 "$T/cli.err")"; exit 1; }
  got=\$(h run --rm inst/built:1 2>"$T/cli.err")
  [ "\$got" = built-by-installed-hypr ] || { echo "FAIL: the built image printed '\$got'"; exit 1; }
  echo "ok: the installed hypr builds an image"
fi
h compose -f "$T/proj/compose.yaml" up -d >"$T/compose.log" 2>&1 || { echo "FAIL: compose up: \$(tail -3 "$T/compose.log")"; exit 1; }
h compose -f "$T/proj/compose.yaml" ps 2>&1 | grep -q 'proj-app-1' || { echo "FAIL: compose ps does not list proj-app-1"; exit 1; }
h compose -f "$T/proj/compose.yaml" down >>"$T/compose.log" 2>&1 || { echo "FAIL: compose down: \$(tail -3 "$T/compose.log")"; exit 1; }
[ -z "\$(h ps -aq)" ] || { echo "FAIL: containers left after compose down"; exit 1; }
echo "ok: the installed hypr runs a compose stack up and down"
kill \$d; wait \$d 2>/dev/null
SH
unshare -m --propagation private bash "$T/hidden.sh" || exit 1
echo "ok: installed and ran with the checkout hidden"
