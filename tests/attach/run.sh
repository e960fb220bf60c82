#!/bin/bash
# SPDX-License-Identifier: MIT
# Attachment tier (issue 4): API and CLI end to end, authorization and crash
# safety on build/tests/zcrxd-fake (TEST ONLY: the daemon's code over the
# fake NIC backend), and the kernel tier on a veth with the real zcrxd.
# Needs root (private network namespaces zxp*).  Exit 0 pass, 77 skip (the
# reason on the last "SKIP:" line), anything else fail.  $ZCRX_BUILD selects
# the build (default build/; the sanitizer pass uses build/asan).
set -u
cd "$(dirname "$0")/../.." || exit 1
export PYTHONDONTWRITEBYTECODE=1
B=${ZCRX_BUILD:-build}
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (private network namespaces zxp*)"
	exit 77
fi
if [ ! -x "$B/tests/zcrxd-fake" ] || [ ! -x "$B/zcrxd" ]; then
	echo "SKIP: $B/zcrxd or $B/tests/zcrxd-fake not built (make tests)"
	exit 77
fi
rc=0 ran=0 skipped=0
for t in tests/attach/test_*.py; do
	echo "--- $t"
	python3 "$t"
	r=$?
	ran=$((ran + 1))
	if [ $r -eq 77 ]; then
		skipped=$((skipped + 1))
	elif [ $r -ne 0 ]; then
		rc=1
	fi
done
if [ $rc -eq 0 ] && [ $ran -eq $skipped ]; then
	echo "SKIP: every attachment test skipped"
	exit 77
fi
exit $rc
