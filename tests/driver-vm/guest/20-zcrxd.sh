#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Issue 4 on a real driver: zcrxd with "[nic eth0] ReserveQueues=2" on
# virtio_net with RSS (4 channels) writes a context-0 table without the two
# pool queues (2, 3); frames injected on the tap land only on the shared
# queues (0, 1); `zcrxctl release eth0` restores the original table and frames
# spread over all four queues again.  The table is read with ethtool and the
# queue of every frame predicted from it (rsspkt), so the check does not trust
# the project's own read-back.
. /payload/guest/lib.sh
V=eth0
X=eth1
D=/tmp/zcrxd
KEY=3c:1f:5e:8a:91:02:b4:47:c6:d9:0e:73:25:a8:f1:6b:94:38:ed:52:07:ca:61:b9:4d:80:1e:f7:36:9a:c2:5d:78:e4:0b:a3:5f:16:d2:89
ctl() { zcrxctl --socket $D/run/io.zcrx.Manager "$@"; }

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

mkdir -p $D/run $D/state
printf '[nic %s]\nReserveQueues=2\n' $V > $D/zcrxd.conf
zcrxd --config $D/zcrxd.conf --libvirt-uri none --runtime-dir $D/run --state-dir $D/state \
	> $D/zcrxd.log 2>&1 &
pid=$!
check "zcrxd answers on its socket" poll 20 ctl -q status

if ctl --help 2>&1 | grep -qw nics; then
	# The daemon's own NIC layer on real drivers, through Varlink.
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
		 and .ntuple.state == "no" and (.rules | unsup) and (.header_split | unsup)'
	# A change made behind the daemon's back reaches its model through the
	# ethtool monitor group (eth1 is not managed: no planner reaction).
	rings_rx() { ctl --json=short nics $X | grep -q '"rings":{"rx":'"$1"','; }
	check "zcrxd sees eth1's rx ring 1024" rings_rx 1024
	run ethtool -G $X rx 512
	check "zcrxd sees eth1's rx ring change to 512 (monitor notification)" poll 10 rings_rx 512
	run ethtool -G $X rx 1024
else
	say "zcrxctl has no 'nics' verb yet: daemon NIC checks not run"
fi

if ctl --help 2>&1 | grep -qw release; then
	shared_only() { [ "$(queues_in "$(indir $V)")" = "0 1" ]; }
	check "zcrxd carved the pool: context 0 spreads over queues 0 1 only" poll 20 shared_only
	run ctl --json=short list $V && cp "$OUT" /tmp/list.json
	jchecks /tmp/list.json "zcrxctl list: pool 2 3, shared 0 1, nothing leased" \
		'.nics == [{"nic": "eth0", "released": false, "channels": 4, "pool": [2, 3],
		  "shared": [0, 1], "leased": 0, "notes": []}] and .attachments == []'
	run ctl --json=short queues $V && cp "$OUT" /tmp/queues.json
	jchecks /tmp/queues.json "zcrxctl queues: 0 1 in the default RSS table, pool 2 3 out" \
		'.queues | map(.in_default_rss) == [true, true, false, false]'
	run ctl --json=short plan $V && cp "$OUT" /tmp/plan.json
	jchecks /tmp/plan.json "zcrxctl plan after the carve is empty (idempotent on a real driver)" \
		'.plans | length == 1 and .[0].ops == []'
	steer $V $KEY sdfn 128 40000
	steered "with the pool carved, frames land on shared queues only"
	case " $(nz "$GOT") " in
	*" q2="* | *" q3="*) nok "no frame on pool queues 2 3" "$GOT" ;;
	*) ok "no frame on pool queues 2 3" ;;
	esac
	run ctl --json=short release $V --dry-run && cp "$OUT" /tmp/dry.json
	jchecks /tmp/dry.json "release --dry-run plans one context-0 table write, with its ethtool line" \
		'[.plans[0].ops[] | select(.kind == "set-rss-table" and .context == 0
		  and (.ethtool | startswith("ethtool -X eth0")))] | length == 1'
	is "release --dry-run changed nothing" "$(queues_in "$(indir $V)")" "0 1"
	check "zcrxctl release $V" ctl release $V
	is "release restored the original table" "$(indir $V)" "$orig"
	steer $V $KEY sdfn 128 50000
	steered "after release, frames land as the original table says"
	is "after release, frames reach all 4 queues" \
		"$(nz "$GOT" | sed 's/=[0-9]*//g')" "q0 q1 q2 q3"
	run ctl --json=short list $V && cp "$OUT" /tmp/list.json
	jchecks /tmp/list.json "zcrxctl list after release: released, no pool, shared 0-3" \
		'.nics[0] | .released and .pool == [] and .shared == [0, 1, 2, 3]'
	run ctl --json=short plan $V && cp "$OUT" /tmp/plan.json
	jchecks /tmp/plan.json "zcrxctl plan after release is empty (zcrxd leaves eth0 alone)" \
		'.plans | all(.ops == [])'
	run zcrxd --dump-state --state-dir $D/state && cp "$OUT" /tmp/state.json
	jchecks /tmp/state.json "the state (zcrxd --dump-state): eth0 released, nothing owned" \
		'.nics | map(select(.name == "eth0")) | length == 1 and (.[0] | .released
		 and .leases == [] and .rules == [] and .contexts == [])'
	# Before zcrxd the table was the driver's default (ethtool -X default):
	# the kernel re-spreads such a table when channels shrink.  A real
	# restore gives that back; a user table written in its place refuses.
	check "after release, eth0 shrinks to 2 channels as before zcrxd" nictool set-channels $V 2
	run ethtool -X $V default
	run nictool set-channels $V 4
else
	say "zcrxd has no planner yet (zcrxctl has no 'release' verb): pool checks not run"
fi

kill -TERM $pid
wait $pid
is "zcrxd exits 0 on SIGTERM" "$?" 0
if [ "$FAIL" -gt 0 ]; then
	echo "--- zcrxd log"
	cat $D/zcrxd.log
fi
run ethtool -X $V default
finish
