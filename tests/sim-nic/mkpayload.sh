#!/bin/bash
# SPDX-License-Identifier: MIT
#
# mkpayload.sh bin BUILD_DIR ZXSIM OUT.cpio
# mkpayload.sh scripts OUT.cpio SCRIPT...
#
# The per-run parts of the sim-nic guest's initramfs, appended to the cached
# base image at boot (boot.sh; concatenated cpio archives unpack as one):
#   bin:      /payload/bin/: the project's binaries from BUILD_DIR (zcrxd,
#             zcrxctl, tests/zcrxd-seams, tests/fake-vhost-zcrx,
#             tests/rsspkt) with their ldd libraries at their host paths,
#             and the static guest helper ZXSIM.  The same for every boot
#             of a run: boot.sh keeps it, keyed by what went in.
#   scripts:  /payload/guest/: guest/lib.sh, tests/lib/printed-script.sh
#             and the guest SCRIPTs; /payload/scripts: the scripts /init
#             runs, in order.  One per boot (small).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=../driver-vm/lib.sh
. "$HERE/../driver-vm/lib.sh"
R=$(mktemp -d "${TMPDIR:-/tmp}/zxs-payload.XXXXXX")
trap 'rm -rf "$R"' EXIT

case ${1:-} in
bin)
	[ $# = 4 ] || { echo "usage: $0 bin BUILD_DIR ZXSIM OUT.cpio" >&2; exit 2; }
	B=$2
	payload_bins "$R" "$B/zcrxd" "$B/zcrxctl" "$B/tests/zcrxd-seams" "$B/tests/fake-vhost-zcrx" \
		"$B/tests/rsspkt"
	install -m 0755 "$3" "$R/payload/bin/zxsim"
	mkcpio "$R" "$4"
	;;
scripts)
	[ $# -ge 3 ] || { echo "usage: $0 scripts OUT.cpio SCRIPT..." >&2; exit 2; }
	OUT=$2
	shift 2
	payload_scripts "$R" "$HERE/guest" "$@"
	mkcpio "$R" "$OUT"
	;;
*)
	echo "usage: $0 bin|scripts ..." >&2
	exit 2
	;;
esac
