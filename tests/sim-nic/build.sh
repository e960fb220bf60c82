#!/bin/bash
# SPDX-License-Identifier: MIT
#
# build.sh CACHE — build netdevsim out of tree for the kernel fetch.sh
# resolved (CACHE/current.env), in its build root (the kernel's own gcc,
# Debian's linux-headers and linux-kbuild), twice:
#   netdevsim.ko      netdevsim exactly as in linux-source-X.Y (Debian does
#                     not ship it: CONFIG_NETDEVSIM is off in every flavour)
#   netdevsim-zx.ko   the same with the project's extension (nsim-zx/)
# into CACHE/modules-<key>/, where the key covers the kernel, the compiler
# and every input in nsim-zx/ and this script: a cached build is used as is.
# Prints that directory on stdout.
#
# The zx build starts from a copy of the stock build's tree (same path, so
# kbuild's recorded commands match) and patch.py writes only the files it
# changes: make recompiles those and zx.c.  The stock tree is kept per
# kernel in the build root (/zx-build/stock-KABI).
#
# Needs root (chroot; unshare -m to give objtool a /proc).  Log:
# CACHE/modules-<key>/build.log.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# = 1 ] || { echo "usage: $0 CACHE" >&2; exit 2; }
C=$(cd "$1" && pwd)
# shellcheck source=/dev/null
. "$C/current.env"

# shellcheck source=root.sh
. "$HERE/root.sh"

key=$( { echo "$KABI $KPKGVER $ROOT"; cat "$HERE/build.sh" "$HERE/root.sh" "$HERE"/nsim-zx/*; } |
	sha256sum | cut -c1-16)
build_begin modules "$key"
W=/zx-build                 # inside the root
STOCK=$W/stock-$KABI
rm -rf "${ROOT:?}$W/nsim"
mkdir -p "$ROOT$W"

nsim_make() { # build $W/nsim, strip it into $W/NAME
	kmake $W/nsim CONFIG_NETDEVSIM=m modules &&
		inroot "x86_64-linux-gnu-strip --strip-debug -o $W/$1 $W/nsim/netdevsim.ko"
}

build() {
	if [ ! -e "$ROOT$STOCK/.ok" ]; then
		rm -rf "${ROOT:?}$W"/stock-*
		cp -r "$SRC/drivers/net/netdevsim" "$ROOT$W/nsim" &&
			nsim_make netdevsim.ko &&
			cp -a "$ROOT$W/nsim" "$ROOT$STOCK" &&
			cp "$ROOT$W/netdevsim.ko" "$ROOT$STOCK/netdevsim-stripped.ko" &&
			touch "$ROOT$STOCK/.ok" || return
	else
		echo "stock netdevsim: built before ($STOCK)"
	fi
	cp -a "$ROOT$STOCK" "$ROOT$W/nsim" &&
		python3 "$HERE/nsim-zx/patch.py" "$SRC/drivers/net/netdevsim" "$ROOT$W/nsim" &&
		nsim_make netdevsim-zx.ko
}
build_logged build

cp "$ROOT$STOCK/netdevsim-stripped.ko" "$OUT/netdevsim.ko"
cp "$ROOT$W/netdevsim-zx.ko" "$OUT/netdevsim-zx.ko"
build_done modules
