#!/bin/bash
# make check: build with gcc and clang, then run every test tier this machine
# can run, then the suite again under ASan+UBSan.  A tier exits 0 (pass),
# 77 (skip, with the reason on its last "SKIP:" line) or anything else (fail).
# ZCRX_TIERS="unit lint ..." runs a subset.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
export PYTHONDONTWRITEBYTECODE=1
TIERS=${ZCRX_TIERS:-"build unit lint integration kernel attach libvirt driver-vm sim-nic fuzz sanitize"}
JOBS=${JOBS:-2}
LOGDIR=build/check-logs
mkdir -p "$LOGDIR"
declare -A result reason took

. tests/lib/tier.sh

py_tier() { # every tests/$1/test_*.py, each one part of the tier
	local dir=$1 f
	tier_begin "$dir"
	for f in "tests/$dir"/test_*.py; do
		[ -e "$f" ] || continue
		echo "--- $f"
		tier_part "$f" python3 "$f"
	done
	tier_end
}

script_tier() { # a tier's own entry script
	if [ ! -x "$1" ]; then
		echo "FAIL: $1 is missing or not executable"
		return 1
	fi
	"$1"
}

# One unit test binary; a test it skipped (cmocka's "[  SKIPPED ]") makes
# it a skipped part, with the reason the test printed on a "SKIP:" line.
unit_binary() {
	local out rc why
	out=$(mktemp /tmp/zxc-unit-XXXXXX) || return 1
	"$1" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if [ $rc -eq 0 ] && grep -q '^\[  SKIPPED \]' "$out"; then
		why=$(grep -h '^SKIP:' "$out" | tail -1 | sed 's/^SKIP: *//')
		echo "SKIP: $(basename "$1"): ${why:-a test was skipped}"
		rc=77
	fi
	rm -f "$out"
	return $rc
}

# The planner's property test over more seeds than the unit binary's one
# (ZCRX_PROP_SWEEP, default 100): each seed is 2000 other random shapes, and
# a regression that shows in a few percent of seeds shows here.
prop_sweep() {
	local bin=$1/tests/test-plan-prop n=${ZCRX_PROP_SWEEP:-100} s bad=0 out
	out=$(mktemp /tmp/zxc-prop-XXXXXX) || return 1
	for s in $(seq 1 "$n"); do
		if ! ZCRX_PROP_SEED=$s "$bin" >"$out" 2>&1; then
			grep -E 'property violated|reproduce:' "$out"
			bad=$((bad + 1))
		fi
	done
	rm -f "$out"
	echo "property sweep: seeds 1-$n, $bad failed"
	[ $bad -eq 0 ]
}

unit_tier() {
	local b=${1:-build} t
	# test-metrics checks its output with Prometheus' own parser
	if [ -z "${ZCRX_PROMTOOL:-}" ]; then
		ZCRX_PROMTOOL=$(tools/fetch-promtool.sh) && export ZCRX_PROMTOOL ||
			echo "note: no promtool (download failed): test-metrics skips that check"
	fi
	tier_begin "unit ($b)"
	for t in "$b"/tests/test-*; do
		[ -x "$t" ] || continue
		echo "--- $t"
		tier_part "$t" unit_binary "$t"
	done
	# (not again under the sanitizers: the same code, 60 s more)
	[ "$b" = build ] && tier_part "property sweep" prop_sweep "$b"
	tier_end
}

asan() { # run "$@" against the sanitized build (inside tier_part's subshell)
	export ZCRX_BUILD=build/asan ZCRX_SANITIZED=1
	"$@"
}

sanitize_tier() {
	export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
	export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
	export LSAN_OPTIONS=suppressions=$PWD/tests/lsan.supp
	make --no-print-directory -j"$JOBS" SANITIZE=1 all tests || return 1
	local t
	tier_begin sanitize
	tier_part "unit (ASan+UBSan)" unit_tier build/asan
	tier_part "integration (ASan+UBSan)" asan py_tier integration
	for t in tests/kernel/run.sh tests/attach/run.sh tests/libvirt/run.sh; do
		echo "--- $t (ASan+UBSan)"
		tier_part "$t (ASan+UBSan)" asan "$t"
	done
	tier_end
}

run_tier() {
	local name=$1 log="$LOGDIR/$1.log" t0 rc
	shift
	printf '\n=== tier %s\n' "$name"
	t0=$(date +%s)
	"$@" 2>&1 | tee "$log"
	rc=${PIPESTATUS[0]}
	took[$name]=$(( $(date +%s) - t0 ))
	if [ $rc -eq 77 ]; then
		reason[$name]=$(grep -h '^SKIP:' "$log" | tail -1 | sed 's/^SKIP: *//')
		# under CI a skip is a failure, with its reason
		tier_ci_verdict 77 "${reason[$name]}" | tee -a "$log"
		[ "${ZCRX_CI:-0}" = 1 ] && rc=1
	fi
	if [ $rc -eq 0 ]; then
		result[$name]=pass
	elif [ $rc -eq 77 ]; then
		result[$name]=skip
	else
		result[$name]=FAIL
	fi
	printf '=== tier %s: %s (%ss)\n' "$name" "${result[$name]}" "${took[$name]}"
}

# The summary of the tiers that ran, and the run's exit status: 0 only when
# every tier passed; 1 when one failed; 77 when none failed but some were
# skipped (a tier that did not run is not a pass).
summary() {
	echo
	echo "=== summary"
	local fail=0 skipped=0 tier
	for tier in $TIERS; do
		[ -n "${result[$tier]:-}" ] || continue
		case ${result[$tier]} in
		pass) printf '  %-12s pass   %4ss\n' "$tier" "${took[$tier]}" ;;
		skip) printf '  %-12s SKIP   %4ss  %s\n' "$tier" "${took[$tier]}" "${reason[$tier]:-}"
			skipped=$((skipped + 1)) ;;
		*) printf '  %-12s FAIL   %4ss  %s(log: %s/%s.log)\n' "$tier" "${took[$tier]}" \
			"${reason[$tier]:+skipped under CI: ${reason[$tier]} }" "$LOGDIR" "$tier"; fail=1 ;;
		esac
	done
	# Only a run where every tier passed is a pass; skipped tiers did not run.
	if [ $fail = 1 ]; then
		return 1
	fi
	if [ $skipped -gt 0 ]; then
		echo "not a pass: $skipped tier(s) skipped (see the reasons above)"
		return 77
	fi
	return 0
}

main() {
	local tier
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
		sim-nic) run_tier sim-nic script_tier tests/sim-nic/run.sh ;;
		fuzz) run_tier fuzz tests/fuzz/run.sh ;;
		sanitize) run_tier sanitize sanitize_tier ;;
		*) echo "unknown tier $tier"; exit 2 ;;
		esac
		# nothing builds on a broken build
		[ "$tier" = build ] && [ "${result[build]}" = FAIL ] && break
	done
	summary
}

# Sourced (tests/integration/test_accounting.py): the functions only.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main
	exit $?
fi
