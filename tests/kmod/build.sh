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
# Needs root (chroot; unshare -m gives objtool a /proc: ../sim-nic/root.sh).  Log:
# CACHE/kmod-<key>/build.log.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
[ $# = 1 ] || { echo "usage: $0 CACHE" >&2; exit 2; }
C=$(cd "$1" && pwd)
# shellcheck source=/dev/null
. "$C/current.env"

# shellcheck source=../sim-nic/root.sh
. "$TOP/tests/sim-nic/root.sh"

key=$( { echo "$KABI $KPKGVER $ROOT"; cat "$HERE/build.sh" "$TOP/tests/sim-nic/root.sh" \
	"$HERE"/vhost_zcrx/* "$TOP/lib/vhost_zcrx.h"; } | sha256sum | cut -c1-16)
build_begin kmod "$key"
W=/zx-build/vhost_zcrx # inside the root
rm -rf "${ROOT:?}$W"
mkdir -p "$ROOT$W"
cp "$HERE"/vhost_zcrx/*.c "$HERE"/vhost_zcrx/*.h "$HERE/vhost_zcrx/Kbuild" "$TOP/lib/vhost_zcrx.h" \
	"$ROOT$W/"

build() {
	kmake $W W=1 KCFLAGS=-Werror modules &&
		inroot "x86_64-linux-gnu-strip --strip-debug -o $W/vhost_zcrx-stripped.ko $W/vhost_zcrx.ko"
}
build_logged build

cp "$ROOT$W/vhost_zcrx-stripped.ko" "$OUT/vhost_zcrx.ko"
build_done kmod
