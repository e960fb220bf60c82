#!/bin/bash
# SPDX-License-Identifier: MIT
#
# mkpayload.sh BUILD_DIR ZXSIM OUT.cpio SCRIPT... — the per-run part of the
# sim-nic guest's initramfs, appended to the cached base image at boot:
#   /payload/bin/      the project's binaries from BUILD_DIR (zcrxd, zcrxctl,
#                      tests/zcrxd-seams, tests/fake-vhost-zcrx, tests/rsspkt) with their
#                      ldd libraries at their host paths, and the static
#                      guest helper ZXSIM
#   /payload/guest/    guest/lib.sh and the guest scripts
#   /payload/scripts   the scripts /init runs, in order
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../driver-vm/lib.sh
. "$HERE/../driver-vm/lib.sh"
B=$1
ZXSIM=$2
OUT=$3
shift 3
R=$(mktemp -d "${TMPDIR:-/tmp}/zxs-payload.XXXXXX")
trap 'rm -rf "$R"' EXIT

mkdir -p "$R/payload/bin" "$R/payload/guest"
for bin in "$B/zcrxd" "$B/zcrxctl" "$B/tests/zcrxd-seams" "$B/tests/fake-vhost-zcrx" \
	"$B/tests/rsspkt"; do
	[ -x "$bin" ] && copy_bin "$R" "$bin" "/payload/bin/$(basename "$bin")"
done
install -m 0755 "$ZXSIM" "$R/payload/bin/zxsim"
cp "$HERE/guest/lib.sh" "$R/payload/guest/"
: > "$R/payload/scripts"
for s in "$@"; do
	cp "$HERE/guest/$s" "$R/payload/guest/$s"
	echo "$s" >> "$R/payload/scripts"
done
mkcpio "$R" "$OUT"
