#!/bin/sh
# SPDX-License-Identifier: MIT
# boots: stock zx2
#
# Check 1, the capability matrix: `zcrxctl nics` (table and --json) says
# "yes" for everything the simulated driver has once zcrxd has used it (a
# carve, a 1-queue and a 2-queue attachment), and on stock netdevsim names
# each missing feature with the kernel's own refusal.
. /payload/guest/lib.sh
NIC=zxn0
PEER=zxp0
run sim_pair 8 || exit 1
run macvtap zxmv1 52:54:00:20:00:01
run macvtap zxmv2 52:54:00:20:00:02
zcrxd_fresh
check "zcrxd starts and answers" zcrxd_start "[daemon]
ReconcileIntervalSec=0
[nic $NIC]
ReserveQueues=3"
vm_xml vm20 20 52:54:00:20:00:01,zxmv1,1 52:54:00:20:00:02,zxmv2,2
run attach vm20
run ctl --json=short nics $NIC && cp "$OUT" /tmp/nic.json
run ctl nics $NIC && cp "$OUT" /tmp/nic.txt
if [ "$ZXS_NSIM" = zx ]; then
	jchecks /tmp/nic.json \
		"zx: netdevsim, 8 of 8 channels, settable" \
		'.nic | .driver == "netdevsim" and .channels.combined == 8 and .channels.combined_max == 8
		 and (.capabilities.channels | has) and (.capabilities.channels_set | has)' \
		"zx: RSS: a 128-entry Toeplitz table, 40-byte key, writable" \
		'.nic | .rss.table_size == 128 and .rss.key_size == 40 and .rss.hfunc == "toeplitz"
		 and (.capabilities.rss | has) and (.capabilities.rss_set | has)' \
		"zx: RSS contexts: yes, one in use (the 2-queue vNIC's)" \
		'.nic | (.capabilities.rss_contexts | has) and .rss.contexts_in_use == 1' \
		"zx: n-tuple: rx-ntuple-filter on, rules and MAC rules: yes" \
		'.nic.capabilities | (.ntuple | has) and (.rules | has) and (.l2_rules | has)' \
		"zx: the driver picks rule slots, a 64-rule table" \
		'.nic | .rules.capacity == 64 and .rules.driver_picks_location == true' \
		"zx: MAC rules to a queue and to a context both learned yes" \
		'.nic.capabilities.rule_kinds | (.["ether-queue"] | has) and (.["ether-context"] | has)' \
		"zx: rings, header split, hds-thresh, queue info, qstats: yes" \
		'.nic.capabilities | [.rings, .header_split, .hds_thresh, .queue_info, .qstats] | all(has)' \
		"zx: no zero-copy module in this guest: the binder says so" \
		'.nic.capabilities.binder.state == "no"'
	check_out "zx: the table view says yes for RSS contexts and rules" \
		'contexts.*yes' cat /tmp/nic.txt
else
	jchecks /tmp/nic.json \
		"stock: netdevsim, 8 channels, settable, rings, header split, queue info, qstats" \
		'.nic | .driver == "netdevsim" and .channels.combined == 8
		 and (.capabilities | [.channels_set, .rings, .header_split, .queue_info, .qstats] | all(has))' \
		"stock: no RSS: the kernel's EOPNOTSUPP, with its text" \
		'.nic.capabilities.rss | unsup and (.message | test("not supported"))' \
		"stock: no RSS contexts: EOPNOTSUPP" \
		'.nic.capabilities.rss_contexts | unsup' \
		"stock: rx-ntuple-filter cannot be switched on (fixed off)" \
		'.nic.capabilities.ntuple.state == "no" and .nic.ntuple.changeable == false' \
		"stock: no rule table: the kernel's EOPNOTSUPP, with its text" \
		'.nic.capabilities.rules | unsup and (.message | test("not supported"))'
	# each refusal as zcrxd reports it, for the record
	jq -r '.nic.capabilities | to_entries[] | select(.value.state? == "no")
		| "\(.key): \(.value.error) \(.value.message)"' /tmp/nic.json |
		while read -r line; do say "stock refuses $line"; done
	jchecks "$(ctl --json=short list --domain vm20 > /tmp/l.json; echo /tmp/l.json)" \
		"stock: both vNICs attached degraded, each with an unsteered reason naming the kernel's refusal" \
		'.attachments | length == 2 and all(.state == "degraded" and
		 any(.reasons[]; .code == "unsteered" and .errno_name == "EOPNOTSUPP"))'
fi
run ctl detach vm20
check "zcrxd stops cleanly" zcrxd_stop
show_log
sim_unpair
finish
