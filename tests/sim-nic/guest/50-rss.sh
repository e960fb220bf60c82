#!/bin/sh
# SPDX-License-Identifier: MIT
# boots: zx
#
# Check 3, RSS contexts on the real ethtool core, three ways:
#   netlink  zcrxd on 7.x: RSS_SET (the carve), RSS_CREATE_ACT and
#            RSS_DELETE_ACT (a 2-queue vNIC's context)
#   ioctl    tests/zcrxd-seams --no-rss-netlink: the same through
#            ETHTOOL_SRSSH, as on kernels before 6.17
#   no dump  --no-rss-dump as well: zcrxd can read context 0 only, as before
#            6.12 (issue 9's first bug: a context it made and recorded is
#            never taken for one deleted outside, nothing leaks)
# and a context-in-use refusal: a rule that is not zcrxd's points at the
# context of a vNIC being detached; the core says EBUSY; zcrxd reports it,
# keeps the context, does not loop, and deletes it once the rule is gone.
#
# Each way starts with an admin's symmetric hashing on context 0 (ethtool -X
# xfrm symmetric-xor); zcrxd's RSS writes (the carve, the context, the
# release) must leave it on: issue 9, bug 3 (an SRSSH with input_xfrm 0
# means "no transform" to the kernel and clears it).
. /payload/guest/lib.sh
NIC=zxn0
PEER=zxp0
M=52:54:00:50:00:01
CONF="[daemon]
ReconcileIntervalSec=0
[nic $NIC]
ReserveQueues=4"

# xfrm IFNAME — context 0's symmetric-xor as ethtool -x shows it (on/off)
xfrm() { ethtool -x "$1" | sed -n 's/^ *symmetric-xor: *//p'; }

# one_way LABEL ZCRXD-ARGS... — a 2-queue vNIC attached, steered and
# detached, with zcrxd (or zcrxd-seams) started with those arguments
one_way() {
	local label=$1 q c n t0
	shift
	run sim_pair 8 || return 1
	run macvtap zxmv1 $M
	run ethtool -X $NIC xfrm symmetric-xor
	is "$label: the admin's symmetric-xor is on" "$(xfrm $NIC)" on
	t0=$(table $NIC)
	dump $NIC /tmp/before
	zcrxd_fresh
	check "$label: zcrxd starts" zcrxd_start "$CONF" --debug=nic "$@"
	check_out "$label: zcrxd says which RSS writes this kernel has" \
		"ethtool RSS netlink $WANT_NL" cat $D/zcrxd.log
	vm_xml vm51 51 $M,zxmv1,2
	# Which way the create went, as the kernel shows it: a refusal by the
	# driver carries its text (extack) over netlink only.
	run zx_knob $NIC max_contexts 0
	attach vm51 > /tmp/refused.out 2>&1
	ctl --json=short list --domain vm51 >> /tmp/refused.out 2>&1
	if [ "$WANT_NL" = yes ]; then
		check_out "$label: the driver's refusal of a context comes with its text (netlink)" \
			'RSS contexts are in use' cat /tmp/refused.out
	else
		check_out "$label: the driver's refusal of a context comes without its text (ioctl)" \
			'No space left on device' cat /tmp/refused.out
		is "$label: (no extack on the ioctl path)" "$(grep -c 'RSS contexts are in use' /tmp/refused.out)" 0
	fi
	ctl detach vm51 > /dev/null 2>&1
	run zx_knob $NIC max_contexts 15
	run attach vm51
	att_vars vm51
	q=$AQ
	c=$AC
	is "$label: the kernel holds the vNIC's context $c, over its queues $q" \
		"$(contexts $NIC):$(spread "$(table $NIC "$c")")" "$c:$q"
	is "$label: attached: context 0's table rewritten, symmetric-xor still on" \
		"$([ "$(table $NIC)" != "$t0" ] && echo rewritten):$(xfrm $NIC)" rewritten:on
	frames $M 64 udp 198.18.0.2 9 50000
	landed "$q" "$label: frames for the vNIC spread over its two queues only"
	ctl reconcile $NIC > /dev/null 2>&1
	ctl reconcile $NIC > /dev/null 2>&1
	is "$label: after two reconciles, still that one context, the vNIC's" \
		"$(contexts $NIC):$(att vm51 '.rss_context // "none"')" "$c:$c"
	n=$(grep -c 'forget context\|deleted outside' $D/zcrxd.log)
	is "$label: zcrxd never took its context for one deleted outside" "$n" 0
	run ctl detach vm51
	is "$label: detached: no context left" "$(contexts $NIC)" ""
	is "$label: detached: symmetric-xor still on" "$(xfrm $NIC)" on
	ctl release $NIC > /dev/null 2>&1
	is "$label: released (context 0's table put back): symmetric-xor still on" \
		"$(xfrm $NIC)" on
	dump $NIC /tmp/after
	dump_same "$label: release restored the NIC" /tmp/before /tmp/after
	check "$label: zcrxd stops cleanly" zcrxd_stop
	show_log
	sim_unpair
}

say "netlink (RSS_SET, RSS_CREATE_ACT, RSS_DELETE_ACT)"
WANT_NL=yes ZCRXD=zcrxd one_way netlink
say "ioctl (ETHTOOL_SRSSH), the netlink RSS writes hidden"
WANT_NL=no ZCRXD=zcrxd-seams one_way ioctl --no-rss-netlink
say "ioctl and no RSS dump: only context 0 can be read"
WANT_NL=no ZCRXD=zcrxd-seams one_way "no dump" --no-rss-netlink --no-rss-dump

say "a context in use by a rule that is not zcrxd's"
run sim_pair 8 || exit 1
run macvtap zxmv1 $M
zcrxd_fresh
check "zcrxd starts" zcrxd_start "$CONF"
vm_xml vm52 52 $M,zxmv1,2
run attach vm52
c=$(att vm52 '.rss_context // "none"')
run ethtool -N $NIC flow-type udp4 dst-port 5252 context "$c" action 0 loc 1
e0=$(metric zcrx_kernel_errors_total)
ctl detach vm52 > /tmp/detach.out 2>&1
say "detach: $(cat /tmp/detach.out | tr '\n' ' ' | cut -c1-200)"
is "detach: the context stays, the outside rule still uses it" "$(contexts $NIC)" "$c"
e1=$(metric zcrx_kernel_errors_total)
ctl status > /dev/null
ctl --json=short list > /dev/null
is "nothing tries again on its own: the kernel error count stays at $e1" \
	"$(metric zcrx_kernel_errors_total)" "$e1"
check "the core's refusal (EBUSY) is logged with its text" \
	grep -q 'Device or resource busy' $D/zcrxd.log
check_fails "zcrxctl reconcile reports the core's refusal" 'Device or resource busy \(EBUSY\)' \
	ctl reconcile $NIC
check_fails "zcrxctl reconcile, again: the same refusal, the same way" \
	'Device or resource busy \(EBUSY\)' ctl reconcile $NIC
e2=$(metric zcrx_kernel_errors_total)
say "kernel errors: $e0 before the detach, $e1 after, $e2 after two reconciles"
is "no retry loop: the detach (and the reconcile it starts) tried twice at most, each reconcile once" \
	"$((e1 - e0 <= 2 && e2 - e1 == 2))" 1
run ctl --json=short list $NIC && cp "$OUT" /tmp/list.json
jchecks /tmp/list.json "zcrxctl list tells why context $c is still there" \
	'[.nics[0].notes[] | select(.errno_name == "EBUSY" or (.message | test("busy|in use")))] | length >= 1'
run ethtool -N $NIC delete 1
run ctl reconcile $NIC
is "the outside rule gone, zcrxd deletes its context" "$(contexts $NIC)" ""
check "zcrxd stops cleanly" zcrxd_stop
show_log
sim_unpair
finish
