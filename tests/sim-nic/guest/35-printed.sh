#!/bin/sh
# SPDX-License-Identifier: MIT
# boots: zx
#
# Issue 9, bug 5 on the real ethtool core: the ethtool lines zcrxd prints
# are a promise.  With a pool that is not the top queues (ReserveQueues=2,5
# on 8 queues: the default table skips 2 and 5, a 2-queue vNIC's context
# spreads over 2 and 5), zcrxd's own tables and rules (A) are compared with
# what its printed lines make when run by hand on the NIC as zcrxd found it
# (B): context 0's table, each context's table, each rule with its location
# and the context it points at (tests/lib/printed-script.sh).  Twice: with
# netdevsim-zx picking rule slots itself (RX_CLS_LOC_SPECIAL: zcrxd asks for
# the last slot, which ethtool -N cannot; the printed rule line must say so,
# and all but the location must match) and with the slot chosen by zcrxd
# (loc_special off: everything must match, the location included).
. /payload/guest/lib.sh
. /payload/guest/printed-script.sh
NIC=zxn0
PEER=zxp0
M1=52:54:00:35:00:01
NOTE='# not exact: zcrxd asks the driver for its last slot'

# round LABEL LOC_SPECIAL
round() {
	local l=$1
	run sim_pair 8 || return 1
	run zx_knob $NIC loc_special "$2"
	run macvtap zxmv1 $M1
	dump $NIC /tmp/before
	zcrxd_fresh
	check "$l: zcrxd starts with ReserveQueues=2,5" zcrxd_start "[daemon]
ReconcileIntervalSec=0
[nic $NIC]
ReserveQueues=2,5"
	carved() { [ "$(spread "$(table $NIC)")" = "0 1 3 4 6 7" ]; }
	check "$l: zcrxd carves queues 2 and 5 out of the default table" poll 20 carved
	vm_xml vm35 35 $M1,zxmv1,2
	run attach vm35
	printed_dump $NIC > /tmp/printed.a
	check_out "$l: zcrxd made a context and a rule to it" \
		'Direct to RSS Context #1' cat /tmp/printed.a
	is "$l: the context's table spreads over queues 2 and 5" \
		"$(sed -n '/^context #1:/{n;p}' /tmp/printed.a | tr ' ' '\n' | sed '/^$/d' |
			sort -u | tr '\n' ' ')" "2 5 "
	run ctl detach vm35
	check "$l: zcrxctl release $NIC" ctl release $NIC
	dump $NIC /tmp/after
	dump_same "$l: released: the NIC as zcrxd found it" /tmp/before /tmp/after
	# the lines of the same attach, printed (a dry run: nothing changes)
	run ctl --json=short attach vm35 "$NIC" --domain-xml /tmp/vm35.xml --dry-run &&
		cp "$OUT" /tmp/dry.json
	printed_lines /tmp/dry.json > /tmp/lines.sh
	check_out "$l: the printed carve is ethtool's weight form (2 and 5 left out)" \
		"^ethtool -X $NIC weight [0-9]+ [0-9]+ 0 [0-9]+ [0-9]+ 0 [0-9]+ [0-9]+\$" cat /tmp/lines.sh
	check_out "$l: the printed context line gives its table by weights too" \
		"^CTX[0-9]+=.*ethtool -X $NIC context new weight 0 0 [0-9]+ 0 0 [0-9]+" cat /tmp/lines.sh
	check "$l: zcrxd stops" zcrxd_stop
	check "$l: the printed lines run on the NIC as zcrxd found it" printed_run /tmp/lines.sh
	printed_dump $NIC > /tmp/printed.b
	if [ "$2" = 1 ]; then
		check_out "$l: the printed rule line says its slot is not exact (the driver picks)" \
			"^ethtool -N $NIC .* context \\\$CTX[0-9]+  $NOTE" cat /tmp/lines.sh
		sed '/^Filter: /d' /tmp/printed.a > /tmp/printed.a.noloc
		sed '/^Filter: /d' /tmp/printed.b > /tmp/printed.b.noloc
		check "$l: the printed lines make zcrxd's tables, and its rule to the same context" \
			printed_same /tmp/printed.a.noloc /tmp/printed.b.noloc
	else
		check_out "$l: the printed rule line has its location, and no note" \
			"^ethtool -N $NIC .* context \\\$CTX[0-9]+ loc [0-9]+\$" cat /tmp/lines.sh
		check "$l: the printed lines make zcrxd's tables and rules, locations included" \
			printed_same /tmp/printed.a /tmp/printed.b
	fi
	show_log
	sim_unpair
}
say "the driver picks rule slots"
round "driver's slot" 1
say "zcrxd picks rule slots"
round "zcrxd's slot" 0
finish
