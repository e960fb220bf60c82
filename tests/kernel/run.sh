#!/bin/sh
# Kernel tier: the NIC layer against the real kernel (veth, macvtap) in
# private network namespaces named zxn*.  Needs root; exits 77 otherwise.
# Binaries from $ZCRX_BUILD (default build/), so the sanitizer pass reuses it.
set -u
cd "$(dirname "$0")/../.." || exit 1
B=${ZCRX_BUILD:-build}
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the kernel tier needs root (private network namespaces)"
	exit 77
fi
for f in "$B/zcrxd" "$B/zcrxctl" "$B/tests/nictool"; do
	[ -x "$f" ] || { echo "kernel: $f missing (make tests)"; exit 1; }
done
for t in ethtool ip; do
	command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
done
rc=0 any=0 skipped=1
for f in tests/kernel/test_*.py; do
	[ -e "$f" ] || continue
	any=1
	echo "--- $f"
	python3 "$f"; r=$?
	if [ $r -ne 77 ]; then skipped=0; fi
	if [ $r -ne 0 ] && [ $r -ne 77 ]; then rc=1; fi
done
[ $any = 1 ] || { echo "SKIP: no tests in tests/kernel"; exit 77; }
[ $rc = 0 ] && [ $skipped = 1 ] && exit 77
exit $rc
