#!/bin/bash
# SPDX-License-Identifier: MIT
#
# mkpayload.sh BUILD_DIR OUT.cpio SCRIPT... — the per-run part of the guest's
# initramfs, appended to the cached base image at boot:
#   /payload/bin/      the project's binaries from BUILD_DIR that exist
#                      (zcrxd, zcrxctl, tests/nictool, tests/rsspkt,
#                      tests/zcrxd-seams), each with
#                      its ldd libraries at their host paths
#   /payload/guest/    guest/lib.sh, tests/lib/printed-script.sh and the guest
#                      scripts
#   /payload/scripts   the scripts /init runs, in order
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
B=$1
OUT=$2
shift 2
R=$(mktemp -d "${TMPDIR:-/tmp}/zxv-payload.XXXXXX")
trap 'rm -rf "$R"' EXIT

payload_bins "$R" "$B/zcrxd" "$B/zcrxctl" "$B/tests/nictool" "$B/tests/rsspkt" \
	"$B/tests/zcrxd-seams"
payload_scripts "$R" "$HERE/guest" "$@"
mkcpio "$R" "$OUT"
