#!/bin/bash
# Kernel tier: the NIC layer against the real kernel (veth, macvtap) in
# private network namespaces named zxn*.  Needs root; exits 77 otherwise.
# Binaries from $ZCRX_BUILD (default build/), so the sanitizer pass reuses it.
# Exit 0 pass, 77 skip (reason on the last "SKIP:" line), 1 fail; the parts
# add up as tests/lib/tier.sh says (a partly skipped tier is not a pass).
set -u
cd "$(dirname "$0")/../.." || exit 1
export PYTHONDONTWRITEBYTECODE=1
. tests/lib/tier.sh
B=${ZCRX_BUILD:-build}
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: the kernel tier needs root (private network namespaces)"
	tier_ci_verdict 77 "the kernel tier needs root"
	exit
fi
tier_need_built "$B/zcrxd" "$B/zcrxctl" "$B/tests/nictool" || exit 1
for t in ethtool ip; do
	if ! command -v "$t" >/dev/null; then
		echo "SKIP: $t not installed (make deps)"
		tier_ci_verdict 77 "$t not installed"
		exit
	fi
done
tier_begin kernel
for f in tests/kernel/test_*.py; do
	[ -e "$f" ] || continue
	echo "--- $f"
	tier_part "$f" python3 "$f"
done
tier_end
