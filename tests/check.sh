#!/bin/bash
# make check: build with gcc and clang, then run every test tier this machine
# can run, then the suite again under ASan+UBSan.  A tier exits 0 (pass),
# 77 (skip, with the reason on its last "SKIP:" line) or anything else (fail).
# ZCRX_TIERS="unit lint ..." runs a subset.
set -u
cd "$(dirname "$0")/.." || exit 1
export PYTHONDONTWRITEBYTECODE=1
TIERS=${ZCRX_TIERS:-"build unit lint integration kernel attach libvirt driver-vm fuzz sanitize"}
JOBS=${JOBS:-2}
LOGDIR=build/check-logs
mkdir -p "$LOGDIR"
declare -A result reason took

py_tier() { # run every tests/$1/test_*.py; 77 if all of them skipped
	local dir=$1 any=0 rc=0 r f
	for f in "tests/$dir"/test_*.py; do
		[ -e "$f" ] || continue
		any=1
		echo "--- $f"
		python3 "$f"; r=$?
		if [ $r -eq 77 ]; then
			[ $rc -eq 0 ] && rc=77
		elif [ $r -ne 0 ]; then
			rc=1
		elif [ $rc -eq 77 ]; then
			rc=0
		fi
	done
	[ $any = 1 ] || { echo "SKIP: no tests in tests/$dir"; return 77; }
	return $rc
}

script_tier() { # a tier's own entry script
	if [ ! -x "$1" ]; then
		echo "SKIP: $1 does not exist yet"
		return 77
	fi
	"$1"
}

unit_tier() {
	local b=${1:-build} rc=0 t
	# test-metrics checks its output with Prometheus' own parser
	if [ -z "${ZCRX_PROMTOOL:-}" ]; then
		ZCRX_PROMTOOL=$(tools/fetch-promtool.sh) && export ZCRX_PROMTOOL ||
			echo "note: no promtool (download failed): test-metrics skips that check"
	fi
	for t in "$b"/tests/test-*; do
		[ -x "$t" ] || continue
		echo "--- $t"
		"$t" || rc=1
	done
	return $rc
}

sanitize_tier() {
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp
	make --no-print-directory -j"$JOBS" SANITIZE=1 all tests || return 1
	local rc=0
	unit_tier build/asan || rc=1
	ZCRX_BUILD=build/asan ZCRX_SANITIZED=1 py_tier integration; r=$?
	[ $r -ne 0 ] && [ $r -ne 77 ] && rc=1
	for t in tests/kernel/run.sh tests/attach/run.sh tests/libvirt/run.sh; do
		[ -x "$t" ] || continue
		echo "--- $t (ASan+UBSan)"
		ZCRX_BUILD=build/asan ZCRX_SANITIZED=1 "$t"; r=$?
		[ $r -ne 0 ] && [ $r -ne 77 ] && rc=1
	done
	return $rc
}

run_tier() {
	local name=$1 log="$LOGDIR/$1.log" t0 rc
	shift
	printf '\n=== tier %s\n' "$name"
	t0=$(date +%s)
	"$@" > >(tee "$log") 2>&1
	rc=$?
	wait
	took[$name]=$(( $(date +%s) - t0 ))
	if [ $rc -eq 0 ]; then
		result[$name]=pass
	elif [ $rc -eq 77 ]; then
		result[$name]=skip
		reason[$name]=$(grep -h '^SKIP:' "$log" | tail -1 | sed 's/^SKIP: *//')
	else
		result[$name]=FAIL
	fi
	printf '=== tier %s: %s (%ss)\n' "$name" "${result[$name]}" "${took[$name]}"
}

for tier in $TIERS; do
	case $tier in
	build) run_tier build bash -c "make --no-print-directory -j$JOBS all tests && \
		make --no-print-directory -j$JOBS CC=clang B=build/clang all tests" ;;
	unit) run_tier unit unit_tier build ;;
	lint) run_tier lint tests/lint.sh ;;
	integration) run_tier integration py_tier integration ;;
	kernel) run_tier kernel script_tier tests/kernel/run.sh ;;
	attach) run_tier attach script_tier tests/attach/run.sh ;;
	libvirt) run_tier libvirt script_tier tests/libvirt/run.sh ;;
	driver-vm) run_tier driver-vm script_tier tests/driver-vm/run.sh ;;
	fuzz) run_tier fuzz tests/fuzz/run.sh ;;
	sanitize) run_tier sanitize sanitize_tier ;;
	*) echo "unknown tier $tier"; exit 2 ;;
	esac
	# nothing builds on a broken build
	[ "$tier" = build ] && [ "${result[build]}" = FAIL ] && break
done

echo
echo "=== summary"
fail=0
for tier in $TIERS; do
	[ -n "${result[$tier]:-}" ] || continue
	case ${result[$tier]} in
	pass) printf '  %-12s pass   %4ss\n' "$tier" "${took[$tier]}" ;;
	skip) printf '  %-12s SKIP   %4ss  %s\n' "$tier" "${took[$tier]}" "${reason[$tier]:-}" ;;
	*) printf '  %-12s FAIL   %4ss  (log: %s/%s.log)\n' "$tier" "${took[$tier]}" "$LOGDIR" "$tier"; fail=1 ;;
	esac
done
exit $fail
