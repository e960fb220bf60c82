#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Issue 4 and issue 9 on a real driver: zcrxd with "[nic eth0]
# ReserveQueues=1,2" on virtio_net with RSS (4 channels) writes a context-0
# table without the two pool queues (1, 2): the shared queues 0 and 3 are not
# consecutive, so the table is ethtool's weight form, and the line zcrxd
# prints for it writes that very table (issue 9, bug 5); frames injected on
# the tap land only on the shared queues; a 2-queue vNIC degrades honestly
# on a driver with RSS but no contexts and no n-tuple rules, without a loop
# or a leak (bug 1); `zcrxctl release eth0` restores the original table and
# frames spread over all four queues again.  The same once more with
# zcrxd-seams hiding the RSS dump and the RSS netlink writes (kernels before
# 6.12: contexts cannot be listed, writes through the ioctl).  The table is
# read with ethtool and the queue of every frame predicted from it
# (rsspkt), so the checks do not trust the project's own read-back.  The
# state is read as zcrxd reads it (zcrxd --dump-state: state.json and its
# log).
#
# Every zcrxctl verb these checks use must exist: a missing one fails the
# tier (bug 7: a removed verb used to skip its block quietly).
. /payload/guest/lib.sh
. /payload/guest/printed-script.sh
V=eth0
X=eth1
D=/tmp/zcrxd
KEY=3c:1f:5e:8a:91:02:b4:47:c6:d9:0e:73:25:a8:f1:6b:94:38:ed:52:07:ca:61:b9:4d:80:1e:f7:36:9a:c2:5d:78:e4:0b:a3:5f:16:d2:89
VM1=52:54:00:9a:00:01
VM2=52:54:00:9a:00:02
ctl() { zcrxctl --socket $D/run/io.zcrx.Manager "$@"; }
verb() { zcrxctl --help 2>&1 | grep -Eq "^  $1( |\$)"; }

ip link set $V up
ip link set $X up
# A known starting point: 4 channels, the driver's default table, our key,
# UDP hashed over addresses and ports.
run ethtool -L $V combined 4
run ethtool -X $V default
run ethtool -X $V hkey $KEY
run ethtool -K $V rxhash on
run ethtool -N $V rx-flow-hash udp4 sdfn
orig=$(indir $V)
is "eth0 starts with a table over all 4 queues" "$(queues_in "$orig")" "0 1 2 3"

for v in status nics list queues plan attach detach release; do
	check "zcrxctl has the '$v' verb these checks use" verb $v
done

# start PROG ARGS... — PROG (zcrxd, zcrxd-seams) with a fresh state and the
# pool config, answering on its socket.
start() {
	rm -rf $D
	mkdir -p $D/run $D/state
	printf '[daemon]\nReconcileIntervalSec=0\n[nic %s]\nReserveQueues=1,2\n' $V > $D/zcrxd.conf
	"$@" --config $D/zcrxd.conf --libvirt-uri none --runtime-dir $D/run --state-dir $D/state \
		> $D/zcrxd.log 2>&1 &
	pid=$!
	poll 20 ctl -q status
}

# stop LABEL — SIGTERM, exit 0; the log goes to the console when a check
# failed.
stop() {
	kill -TERM $pid
	wait $pid
	is "$1: zcrxd exits 0 on SIGTERM" "$?" 0
	if [ "$FAIL" -gt 0 ]; then
		echo "--- $1: zcrxd log"
		cat $D/zcrxd.log
	fi
}

# The daemon's own NIC layer on real drivers, through Varlink.
nic_matrix() {
	ctl nics > /tmp/nics.txt 2>&1
	check "zcrxctl nics lists eth0 as virtio_net" grep -E '^eth0 .*virtio_net' /tmp/nics.txt
	check "zcrxctl nics lists eth1 as vmxnet3" grep -E '^eth1 .*vmxnet3' /tmp/nics.txt
	check_fails "zcrxctl nics eth9 is refused" 'eth9' ctl nics eth9
	run ctl --json=short nics $V && cp "$OUT" /tmp/nic.json
	jchecks /tmp/nic.json \
		"zcrxd's matrix for eth0: virtio_net, 4 channels of 4, table over 4 queues" \
		'.nic | .driver == "virtio_net" and .channels.combined == 4 and .channels.combined_max == 4
		 and .rss.table_size == 128' \
		"zcrxd's matrix for eth0: has RSS and qstats; lacks contexts, ntuple, rules, header split" \
		'.nic.capabilities | (.rss | has) and (.qstats | has) and (.rss_contexts | unsup)
		 and .ntuple.state == "no" and (.rules | unsup) and (.header_split | unsup)' \
		"zcrxd's matrix for eth0: every kind of rule refused with the kernel's errno" \
		'[.nic.capabilities.rule_kinds[] | unsup] | all and length >= 9' \
		"zcrxd lists eth0's contexts (6.12 has the RSS dump)" '.nic.rss.contexts_listed'
	# A change made behind the daemon's back reaches its model through the
	# ethtool monitor group (eth1 is not managed: no planner reaction).
	rings_rx() { ctl --json=short nics $X | grep -q '"rings":{"rx":'"$1"','; }
	check "zcrxd sees eth1's rx ring 1024" rings_rx 1024
	run ethtool -G $X rx 512
	check "zcrxd sees eth1's rx ring change to 512 (monitor notification)" poll 10 rings_rx 512
	run ethtool -G $X rx 1024
}

# pool LABEL — the carve, steering on the shared queues, a 2-queue vNIC,
# release, and the printed line of the carve run by hand.
pool() {
	local l=$1 carved
	shared_only() { [ "$(queues_in "$(indir $V)")" = "0 3" ]; }
	check "$l: zcrxd carved the pool: context 0 spreads over queues 0 3 only" poll 20 shared_only
	carved=$(indir $V)
	run ctl --json=short list $V && cp "$OUT" /tmp/list.json
	jchecks /tmp/list.json "$l: zcrxctl list: pool 1 2, shared 0 3, nothing leased" \
		'.nics == [{"nic": "eth0", "released": false, "channels": 4, "pool": [1, 2],
		  "shared": [0, 3], "leased": 0, "notes": []}] and .attachments == []'
	run ctl --json=short queues $V && cp "$OUT" /tmp/queues.json
	jchecks /tmp/queues.json "$l: zcrxctl queues: 0 3 in the default RSS table, pool 1 2 out" \
		'.queues | map(.in_default_rss) == [true, false, false, true]'
	run ctl --json=short plan $V && cp "$OUT" /tmp/plan.json
	jchecks /tmp/plan.json "$l: zcrxctl plan after the carve is empty (idempotent on a real driver)" \
		'.plans | length == 1 and .[0].ops == []'
	steer $V $KEY sdfn 128 40000
	steered "$l: with the pool carved, frames land as the table says"
	case " $(nz "$GOT") " in
	*" q1="* | *" q2="*) nok "$l: no frame on pool queues 1 2" "$GOT" ;;
	*) ok "$l: no frame on pool queues 1 2" ;;
	esac

	# Issue 9, bug 1: RSS but no contexts, no n-tuple rules: a 2-queue
	# vNIC gets one queue and says why, nothing is made, nothing loops.
	run ctl --json=short attach vm1 $V --mac $VM1 --queues 2 && cp "$OUT" /tmp/att.json
	jchecks /tmp/att.json \
		"$l: a 2-queue vNIC gets 1 queue: no RSS contexts here, the kernel's errno" \
		'.attachments[0] | (.queues | length == 1) and ([.reasons[] |
		  select(.code == "no-rss-context" and .errno == 95)] | length == 1)' \
		"$l: ... and says it is unsteered (no n-tuple rules) and degraded" \
		'.attachments[0] | .state == "degraded" and ([.reasons[] | select(.code == "unsteered")]
		  | length == 1) and .rules == [] and (has("rss_context") | not)' \
		"$l: ... no context made, no rule tried" \
		'[.plans[].ops[] | select(.kind == "create-context" or .kind == "insert-rule")] == []'
	run ctl --json=short plan $V && cp "$OUT" /tmp/plan.json
	jchecks /tmp/plan.json "$l: zcrxctl plan after the attach is empty: no loop" \
		'.plans | length == 1 and .[0].ops == []'
	run ctl reconcile $V
	is "$l: no context forgotten or made in the log" \
		"$(grep -c 'forget context\|create RSS context\|planning again' $D/zcrxd.log)" 0
	check_fails "$l: eth0 has no RSS context 1" '.' ethtool -x $V context 1
	run ctl detach vm1
	run zcrxd --dump-state --state-dir $D/state && cp "$OUT" /tmp/state.json
	jchecks /tmp/state.json "$l: detached: nothing owned but the carve" \
		'.nics | map(select(.name == "eth0")) | length == 1 and (.[0] | .leases == []
		 and .rules == [] and .contexts == [])'

	run ctl --json=short release $V --dry-run && cp "$OUT" /tmp/dry.json
	jchecks /tmp/dry.json "$l: release --dry-run plans one context-0 table write, with its ethtool line" \
		'[.plans[0].ops[] | select(.kind == "set-rss-table" and .context == 0
		  and (.ethtool | startswith("ethtool -X eth0")))] | length == 1'
	is "$l: release --dry-run changed nothing" "$(queues_in "$(indir $V)")" "0 3"
	check "$l: zcrxctl release $V" ctl release $V
	is "$l: release restored the original table" "$(indir $V)" "$orig"
	steer $V $KEY sdfn 128 50000
	steered "$l: after release, frames land as the original table says"
	is "$l: after release, frames reach all 4 queues" \
		"$(nz "$GOT" | sed 's/=[0-9]*//g')" "q0 q1 q2 q3"
	run ctl --json=short list $V && cp "$OUT" /tmp/list.json
	jchecks /tmp/list.json "$l: zcrxctl list after release: released, no pool, shared 0-3" \
		'.nics[0] | .released and .pool == [] and .shared == [0, 1, 2, 3]'
	run ctl --json=short plan $V && cp "$OUT" /tmp/plan.json
	jchecks /tmp/plan.json "$l: zcrxctl plan after release is empty (zcrxd leaves eth0 alone)" \
		'.plans | all(.ops == [])'
	run zcrxd --dump-state --state-dir $D/state && cp "$OUT" /tmp/state.json
	jchecks /tmp/state.json "$l: the state (zcrxd --dump-state): eth0 released, nothing owned" \
		'.nics | map(select(.name == "eth0")) | length == 1 and (.[0] | .released
		 and .leases == [] and .rules == [] and .contexts == [])'

	# Issue 9, bug 5: the printed line of the carve (a vNIC's attach
	# would make it again), run by hand on the restored NIC, writes the
	# table zcrxd wrote.
	run ctl --json=short attach vm2 $V --mac $VM2 --dry-run && cp "$OUT" /tmp/dry.json
	printed_lines /tmp/dry.json > /tmp/lines.sh
	check_out "$l: the carve's printed line is ethtool's weight form (0 and 3 are not consecutive)" \
		'^ethtool -X eth0 weight 64 0 0 64$' cat /tmp/lines.sh
	is "$l: the dry run changed nothing" "$(indir $V)" "$orig"
	check "$l: the printed lines run" printed_run /tmp/lines.sh
	is "$l: the printed line writes the table zcrxd wrote" "$(indir $V)" "$carved"
	run ethtool -X $V default
}

say "zcrxd"
check "zcrxd answers on its socket" start zcrxd
nic_matrix
pool zcrxd
# Before zcrxd the table was the driver's default (ethtool -X default): the
# kernel re-spreads such a table when channels shrink.  A real restore gives
# that back; a user table written in its place refuses.
check "after release, eth0 shrinks to 2 channels as before zcrxd" nictool set-channels $V 2
run ethtool -X $V default
run nictool set-channels $V 4
stop zcrxd

say "zcrxd-seams: no RSS dump, no RSS netlink writes (a kernel before 6.12)"
check "zcrxd-seams answers on its socket" start zcrxd-seams --no-rss-dump --no-rss-netlink
run ctl --json=short nics $V && cp "$OUT" /tmp/nic.json
jchecks /tmp/nic.json \
	"zcrxd-seams: eth0's contexts cannot be listed, its table is read all the same" \
	'.nic.rss | (.contexts_listed | not) and .table_size == 128 and .contexts == []'
pool zcrxd-seams
stop zcrxd-seams
run ethtool -X $V default
finish
