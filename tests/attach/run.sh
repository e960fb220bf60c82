#!/bin/bash
# SPDX-License-Identifier: MIT
# Attachment tier (issue 4): API and CLI end to end, authorization and crash
# safety on build/tests/zcrxd-fake (TEST ONLY: the daemon's code over the
# fake NIC backend), and the kernel tier on a veth with the real zcrxd.
# Needs root (private network namespaces zxp*).  Exit 0 pass, 77 skip (the
# reason on the last "SKIP:" line), anything else fail; the parts add up as
# tests/lib/tier.sh says.  $ZCRX_BUILD selects the build (default build/;
# the sanitizer pass uses build/asan).
set -u
cd "$(dirname "$0")/../.." || exit 1
export PYTHONDONTWRITEBYTECODE=1
. tests/lib/tier.sh
B=${ZCRX_BUILD:-build}
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (private network namespaces zxp*)"
	tier_ci_verdict 77 "the attachment tier needs root"
	exit
fi
tier_need_built "$B/zcrxd" "$B/zcrxctl" "$B/tests/zcrxd-fake" || exit 1
tier_begin attach
for t in tests/attach/test_*.py; do
	echo "--- $t"
	tier_part "$t" python3 "$t"
done
tier_end
