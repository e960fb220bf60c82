#!/bin/sh
# Fuzz tier: build every tests/fuzz/fuzz-*.c with clang + libFuzzer + ASan/UBSan
# and run each for a bounded time from its seed corpus (tests/fuzz/corpus/NAME/).
# FUZZ_SECONDS (default 20) per target.  Exit 0 pass, 77 skip, 1 a crash.
set -eu
cd "$(dirname "$0")/../.."
secs=${FUZZ_SECONDS:-20}
if ! command -v clang >/dev/null 2>&1; then
	echo "SKIP: clang is not installed (make deps installs it)"
	exit 77
fi
make --no-print-directory FUZZ=1 CC=clang fuzzers >/dev/null
work=$(mktemp -d /tmp/zxc-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
rc=0
for src in tests/fuzz/fuzz-*.c; do
	name=$(basename "$src" .c)
	bin=build/fuzz/fuzz/$name
	seeds=tests/fuzz/corpus/$name
	[ -d "$seeds" ] || seeds=tests/fuzz/corpus/${name#fuzz-}
	[ -d "$seeds" ] || seeds=
	dict=
	[ -f "tests/fuzz/$name.dict" ] && dict=-dict=tests/fuzz/$name.dict
	mkdir -p "$work/$name"
	printf '%s: %ss ... ' "$name" "$secs"
	if "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$work/" $dict "$work/$name" $seeds >"$work/$name.log" 2>&1; then
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
		echo "ok ($runs runs)"
	else
		echo "FAILED"
		tail -40 "$work/$name.log"
		for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
			[ -e "$a" ] && { mkdir -p build/fuzz/artifacts; cp "$a" build/fuzz/artifacts/; \
				echo "reproducer saved: build/fuzz/artifacts/$(basename "$a")"; }
		done
		rc=1
	fi
done
exit $rc
