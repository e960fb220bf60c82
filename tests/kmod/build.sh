#!/bin/bash
# SPDX-License-Identifier: MIT
#
# build.sh CACHE — build the vhost_zcrx reference module (tests/kmod/
# vhost_zcrx, with lib/vhost_zcrx.h copied beside it) for the kernel the
# sim-nic tier fetched (CACHE/current.env), in its build root: the kernel's
# own gcc, Debian's linux-headers and linux-kbuild, W=1, warnings fatal.
# Output: CACHE/kmod-<key>/vhost_zcrx.ko (debug info stripped), where the
# key covers the kernel, the build root and every input; a cached build is
# used as is.  Prints that directory on stdout.
#
# Needs root (chroot; unshare -m gives objtool a /proc).  Log:
# CACHE/kmod-<key>/build.log.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
[ $# = 1 ] || { echo "usage: $0 CACHE" >&2; exit 2; }
C=$(cd "$1" && pwd)
# shellcheck source=/dev/null
. "$C/current.env"

key=$( { echo "$KABI $KPKGVER $ROOT"; cat "$HERE/build.sh" "$HERE"/vhost_zcrx/* \
	"$TOP/lib/vhost_zcrx.h"; } | sha256sum | cut -c1-16)
OUT=$C/kmod-$key
if [ -e "$OUT/.ok" ]; then
	echo "$OUT"
	exit 0
fi
rm -rf "$OUT"
mkdir -p "$OUT"
log=$OUT/build.log
W=/zx-build/vhost_zcrx # inside the root
rm -rf "${ROOT:?}$W"
mkdir -p "$ROOT$W"
cp "$HERE"/vhost_zcrx/*.c "$HERE"/vhost_zcrx/*.h "$HERE/vhost_zcrx/Kbuild" "$TOP/lib/vhost_zcrx.h" \
	"$ROOT$W/"

{
	unshare -m --propagation private sh -c \
		"mount -t proc proc '$ROOT/proc' && exec chroot '$ROOT' /bin/sh -ec \"\$0\"" \
		"make -C /usr/src/linux-headers-$KABI M=$W W=1 KCFLAGS=-Werror -j2 modules &&
		 x86_64-linux-gnu-strip --strip-debug -o $W/vhost_zcrx-stripped.ko $W/vhost_zcrx.ko"
} > "$log" 2>&1 || { tail -30 "$log" >&2; echo "build: see $log" >&2; exit 1; }

cp "$ROOT$W/vhost_zcrx-stripped.ko" "$OUT/vhost_zcrx.ko"
touch "$OUT/.ok"
for d in "$C"/kmod-*; do
	[ "$d" = "$OUT" ] || rm -rf "$d"
done
echo "$OUT"
