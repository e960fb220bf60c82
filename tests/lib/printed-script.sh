# SPDX-License-Identifier: MIT
# shellcheck shell=sh
#
# printed-script.sh — TEST-ONLY shell functions (POSIX sh, busybox too) for
# the promise behind zcrxd's printed ethtool lines (zcrxctl plan, attach
# --dry-run, the "ethtool" of each op in a Varlink plan): run in order on a
# NIC as zcrxd found it, they make the same RSS tables and n-tuple rules that
# zcrxd makes.  The guest tiers (tests/driver-vm, tests/sim-nic) source it;
# it needs ethtool and jq.
#
#   printed_lines PLAN.json > LINES      the plan's ethtool lines, in order
#                                        (a Varlink reply with "plans")
#   printed_run LINES                    run them as one sh script (the
#                                        context lines set $CTXn for the
#                                        rules after them); 0 when all ran
#   printed_dump NIC > DUMP              the NIC's tables and rules as text:
#                                        context 0's table, each other
#                                        context's table (numbered by their
#                                        order, not their ids, which the
#                                        kernel picks), each rule with the
#                                        context number it points at
#   printed_same A B                     0 when the dumps are equal; else
#                                        prints the difference
#
# The check (the caller's steps): with zcrxd applying a plan, keep the
# Varlink reply and `printed_dump` (A); restore the NIC to how zcrxd found
# it (zcrxctl release; check it is); run `printed_run` on those lines and
# `printed_dump` again (B); `printed_same A B`.

printed_lines() {
	jq -r '.plans[].ops[] | .ethtool // empty' "$1"
}

printed_run() {
	sh -e "$1"
}

# "ethtool -x" prints the table as rows "  N:  q q q ..."; only the queues,
# one per line, so that any table size and layout compares.
printed_table() {
	ethtool -x "$@" 2>/dev/null |
		sed -n '/^ *[0-9][0-9]*: /{s/^ *[0-9]*://;p}' | tr -s ' \t' '\n' | sed '/^$/d'
}

# The RSS context ids of NIC that rules point at, ascending ("ethtool -n"
# shows "RSS Context ID: N", ethtool 6.x and later "Action: Direct to RSS
# Context N"; every context zcrxd makes has its rule, and ethtool before
# 6.12 cannot list contexts otherwise).
printed_contexts() {
	ethtool -n "$1" 2>/dev/null |
		sed -n 's/.*RSS Context ID: *\([0-9][0-9]*\).*/\1/p
			s/.*Direct to RSS Context *\([0-9][0-9]*\).*/\1/p' | sort -n -u
}

printed_dump() {
	nic=$1
	map=${TMPDIR:-/tmp}/printed-ctx.$$
	: > "$map"
	echo "context 0:"
	printed_table "$nic" | tr '\n' ' '
	echo
	i=0
	for c in $(printed_contexts "$nic"); do
		i=$((i + 1))
		echo "context #$i:"
		printed_table "$nic" context "$c" | tr '\n' ' '
		echo
		# the rules below name this context by its number
		echo "s/RSS Context ID: $c\$/RSS Context #$i/" >> "$map"
		echo "s/Direct to RSS Context $c\$/Direct to RSS Context #$i/" >> "$map"
	done
	echo "rules:"
	ethtool -n "$nic" 2>/dev/null | sed -n '/^Filter: /,$p' | sed -f "$map"
	rm -f "$map"
}

printed_same() {
	if cmp -s "$1" "$2"; then
		return 0
	fi
	diff "$1" "$2" || true
	return 1
}
