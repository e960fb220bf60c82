# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# How a test tier adds up its parts: sourced (bash) by tests/check.sh and by
# the tiers' run.sh.  A part is a command that exits 0 (pass), 77 (skip, the
# reason on its last "SKIP:" line) or anything else (fail).  The total does
# not depend on the order of the parts:
#
#   fail  when any part failed;
#   pass  only when every part passed;
#   skip  otherwise (some or all parts skipped), with each skipped part's
#         reason: a tier of which part was skipped did not pass.
#
# Under CI (ZCRX_CI=1, set by .ci/run) the machine can run every tier, so a
# skip is a failure, printed with its reason.
#
#   tier_begin NAME                 start counting
#   tier_part LABEL CMD [ARG...]    run one part, show its output, count it
#   tier_note_skip LABEL REASON     count a part that cannot run, and why
#   tier_end                        print the total; returns 0, 77 or 1
#   tier_need_built FILE...         a missing build output is a failure
#   tier_ci_verdict RC REASON       RC as CI sees it (77 -> 1 under ZCRX_CI=1)

tier_begin() {
	TIER_NAME=$1
	TIER_PASSED=0
	TIER_FAILED=0
	TIER_SKIPPED=0
	TIER_FAILS=()
	TIER_SKIPS=()
}

tier_note_skip() {
	TIER_SKIPPED=$((TIER_SKIPPED + 1))
	TIER_SKIPS+=("$1: $2")
}

tier_part() {
	local label=$1 out rc reason
	shift
	out=$(mktemp /tmp/zxc-tier-XXXXXX) || return 1
	# a pipeline runs the part in a subshell: it may be a function that
	# counts a tier of its own
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	case $rc in
	0) TIER_PASSED=$((TIER_PASSED + 1)) ;;
	77)
		reason=$(grep -h '^SKIP:' "$out" | tail -1 | sed 's/^SKIP: *//')
		tier_note_skip "$label" "${reason:-no reason given}"
		;;
	*)
		TIER_FAILED=$((TIER_FAILED + 1))
		TIER_FAILS+=("$label (exit $rc)")
		;;
	esac
	rm -f "$out"
	return 0
}

# Returns what the tier's result is under CI: under ZCRX_CI=1 a skip (77)
# is a failure, and the reason is printed as such.
tier_ci_verdict() {
	local rc=$1 reason=$2
	if [ "$rc" -eq 77 ] && [ "${ZCRX_CI:-0}" = 1 ]; then
		echo "FAIL: skipped under CI (ZCRX_CI=1), where every tier must run: $reason"
		return 1
	fi
	return "$rc"
}

tier_end() {
	local total=$((TIER_PASSED + TIER_FAILED + TIER_SKIPPED)) s
	echo "$TIER_NAME: $TIER_PASSED passed, $TIER_FAILED failed, $TIER_SKIPPED skipped (of $total)"
	for s in "${TIER_FAILS[@]}"; do
		echo "  failed: $s"
	done
	for s in "${TIER_SKIPS[@]}"; do
		echo "  skipped: $s"
	done
	if [ "$TIER_FAILED" -gt 0 ]; then
		return 1
	fi
	if [ "$total" -eq 0 ]; then
		echo "SKIP: $TIER_NAME: nothing to run"
		tier_ci_verdict 77 "$TIER_NAME: nothing to run"
		return
	fi
	if [ "$TIER_SKIPPED" -gt 0 ]; then
		local why
		why=$(printf '%s; ' "${TIER_SKIPS[@]}")
		why=${why%; }
		echo "SKIP: $TIER_NAME: $TIER_SKIPPED of $total part(s) skipped: $why"
		tier_ci_verdict 77 "$TIER_NAME: $why"
		return
	fi
	return 0
}

# Missing build outputs mean the build is broken or was not run: that is a
# failure of the tier, never a reason to skip it.
tier_need_built() {
	local f missing=
	for f in "$@"; do
		[ -x "$f" ] || missing="$missing $f"
	done
	if [ -n "$missing" ]; then
		echo "FAIL: not built:$missing (run 'make all tests')"
		return 1
	fi
	return 0
}
