#!/bin/bash
# make bench: run every bench/bench-* program or script (each prints its own
# figures and ratios, measured side by side in the same run) and summarise.
# ZCRX_BENCH="name ..." runs a subset.
set -u
cd "$(dirname "$0")/.." || exit 1
export ZCRX_BUILD=${ZCRX_BUILD:-build}
rc=0
for b in bench/bench-*; do
	[ -x "$b" ] || continue
	name=$(basename "$b")
	name=${name%.*}
	if [ -n "${ZCRX_BENCH:-}" ] && ! [[ " $ZCRX_BENCH " == *" ${name#bench-} "* ]]; then
		continue
	fi
	printf '\n=== %s\n' "$name"
	if ! "$b"; then
		echo "=== $name: FAILED"
		rc=1
	fi
done
exit $rc
