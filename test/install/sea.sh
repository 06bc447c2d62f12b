#!/usr/bin/env bash
# The single executables (scripts/build-sea.sh) run HYPR alone: builds hypr and hyprd, copies the two
# files to a scratch directory, then, in a private mount namespace with an empty tmpfs over the
# checkout, /usr/bin/node made unusable, a fresh HOME and no HYPR_* variables, starts that hyprd
# in a network namespace of its own and runs `hypr load` and `hypr run --rm` with that hypr.
# Prints "ok: …" lines; any failure prints "FAIL: …" and exits 1. Usage (as root): test/install/sea.sh
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=$(mktemp -d /tmp/hypr-sea.XXXXXX)
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

bash "$root/scripts/build-sea.sh" "$T/out" >"$T/build.log" 2>&1 || fail "build-sea.sh: $(tail -5 "$T/build.log")"
mkdir -p "$T/bin" && cp "$T/out/hypr" "$T/out/hyprd" "$T/bin/" && rm -rf "$T/out"
echo "ok: built hypr ($(du -m "$T/bin/hypr" | cut -f1) MiB) and hyprd ($(du -m "$T/bin/hyprd" | cut -f1) MiB)"

bash "$root/scripts/make-busybox-rootfs.sh" "$T/rootfs" >/dev/null 2>&1 || fail "busybox rootfs"
( cd "$T" && umoci init --layout oci && umoci new --image oci:img && umoci unpack --image oci:img b >/dev/null \
  && rm -rf b/rootfs && cp -a rootfs b/rootfs && umoci repack --image oci:img b \
  && umoci config --image oci:img --config.cmd /bin/sh && skopeo copy -q oci:oci:img docker-archive:"$T/bb.tar":sea/bb:1 ) \
  >"$T/img.log" 2>&1 || fail "test image: $(tail -3 "$T/img.log")"

NS="hyprsea$$"
ip netns add "$NS" || fail "cannot create a network namespace"
ip netns exec "$NS" ip link set lo up
cat >"$T/hidden.sh" <<SH
set -uo pipefail
mount -t tmpfs tmpfs "$root" || { echo "FAIL: cannot hide the checkout"; exit 1; }
node=\$(command -v node); [ -n "\$node" ] && mount --bind /dev/null "\$node"
cd /; export HOME="$T/home"; mkdir -p "\$HOME"
unset HYPR_GUEST_DIR HYPR_KERNEL HYPR_KESTREL HYPR_HOME HYPR_HOST HYPR_CACHE XDG_CACHE_HOME NODE_PATH
node --version >/dev/null 2>&1 && { echo "FAIL: node still runs"; exit 1; }
unit=\$("$T/bin/hyprd" --print-service systemd --data-root /srv/hypr)
echo "\$unit" | grep -qx "ExecStart=$T/bin/hyprd --data-root /srv/hypr -H unix:///run/hypr/hyprd.sock" \
  || { echo "FAIL: the unit does not start the single executable: \$(echo "\$unit" | grep ExecStart)"; exit 1; }
echo "ok: hyprd --print-service systemd starts the single executable itself"
sock="$T/hyprd.sock"
ip netns exec $NS "$T/bin/hyprd" -H "unix://\$sock" --data-root "$T/state" >"$T/hyprd.log" 2>&1 & d=\$!
for i in \$(seq 300); do [ -S "\$sock" ] && break; sleep 0.2; done
[ -S "\$sock" ] || { echo "FAIL: hyprd did not listen: \$(tail -3 "$T/hyprd.log")"; exit 1; }
h() { timeout 300 ip netns exec $NS "$T/bin/hypr" -H "unix://\$sock" "\$@"; }
h load -i "$T/bb.tar" >/dev/null 2>"$T/cli.err" || { echo "FAIL: hypr load: \$(tail -3 "$T/cli.err")"; exit 1; }
got=\$(h run --rm sea/bb:1 sh -c 'echo from-single-executable; exit 0' 2>"$T/cli.err")
[ "\$got" = from-single-executable ] || { echo "FAIL: hypr run: '\$got' \$(tail -3 "$T/cli.err") \$(tail -3 "$T/hyprd.log")"; exit 1; }
echo "ok: the single-executable hyprd + hypr run a container with no node and no checkout"
h run --rm sea/bb:1 sh -c 'exit 3' 2>/dev/null; rc=\$?
[ "\$rc" = 3 ] || { echo "FAIL: the exit status came back as \$rc, not 3"; exit 1; }
echo "ok: the exit status comes back"
ls -d "$T"/home/.cache/hypr/sea/hyprd-* >/dev/null 2>&1 || { echo "FAIL: nothing extracted under ~/.cache/hypr/sea"; exit 1; }
[ -x "\$(ls -d "$T"/home/.cache/hypr/sea/hyprd-*/tree/guest/hypr-shim | head -1)" ] \
  || { echo "FAIL: the single-executable hyprd carries no hypr-shim"; exit 1; }
echo "ok: the container ran under the hypr-shim the single executable carries"
kill \$d; wait \$d 2>/dev/null
SH
unshare -m --propagation private bash "$T/hidden.sh" || exit 1
echo "ok: single executables ran with the checkout hidden"
