#!/usr/bin/env bash
# Makes a tiny root filesystem directory from Debian's busybox-static: DIR/bin/busybox, its applets,
# /etc/passwd and /etc/group. Usage: make-busybox-rootfs.sh DIR
set -euo pipefail
dir=${1:?usage: make-busybox-rootfs.sh DIR}
mkdir -p "$dir/bin" "$dir/etc" "$dir/tmp" "$dir/root"
cp /bin/busybox "$dir/bin/busybox"
for applet in $(/bin/busybox --list); do
  [[ "$applet" == busybox ]] || ln -sf busybox "$dir/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/etc/passwd"
printf 'root:x:0:\n' >"$dir/etc/group"
