#!/bin/bash
# SPDX-License-Identifier: MIT
#
# kbuild.sh CACHE MODDIR OUTDIR — build an out-of-tree kernel module of the
# project (MODDIR holds its sources and a Kbuild or Makefile) for the guest
# kernel of the sim-nic tier: in the build root fetch.sh made, with the
# kernel's own compiler, against Debian's linux-headers of CACHE/current.env.
# The .ko files (debug info stripped) go to OUTDIR.  Then the sources are
# checked with that kernel's own checkpatch.pl --strict (from linux-source):
# exit 1 when the build fails or checkpatch finds anything (its report on
# stderr).
#
# For the sim-nic tier's netdevsim builds see build.sh; this is the same
# machinery for any other module (run tests/sim-nic/fetch.sh CACHE first).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# = 3 ] || { echo "usage: $0 CACHE MODDIR OUTDIR" >&2; exit 2; }
C=$(cd "$1" && pwd)
MOD=$(cd "$2" && pwd)
OUT=$3
# shellcheck source=/dev/null
. "$C/current.env"
# shellcheck source=root.sh
. "$HERE/root.sh"
name=$(basename "$MOD")
W=/zx-build/kbuild-$name
rm -rf "${ROOT:?}$W"
mkdir -p "$ROOT$W" "$OUT"
cp -r "$MOD/." "$ROOT$W/"
kmake "$W" modules >&2
for ko in "$ROOT$W"/*.ko; do
	inroot "x86_64-linux-gnu-strip --strip-debug -o $W/$(basename "$ko").stripped $W/$(basename "$ko")"
	mv "$ko.stripped" "$OUT/$(basename "$ko")"
done
srcs=$(cd "$MOD" && ls ./*.c ./*.h 2>/dev/null || true)
if [ -n "$srcs" ]; then
	# shellcheck disable=SC2086
	(cd "$MOD" && perl "$SRC/scripts/checkpatch.pl" --strict --no-tree -q -f $srcs) >&2
fi
ls "$OUT"/*.ko
