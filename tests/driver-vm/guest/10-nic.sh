#!/bin/sh
# SPDX-License-Identifier: MIT
#
# Issue 3 on real drivers: the project's NIC layer (build/tests/nictool, the
# same code zcrxd links) against virtio_net with RSS (eth0, 4-queue tap) and
# vmxnet3 (eth1).  What nictool writes is read back with the guest's ethtool
# (an independent oracle), and the RSS tables it writes are checked with real
# frames: the host injects UDP flows on the tap and the per-queue counters
# nictool reads must match, frame for frame, where the Toeplitz hash over the
# written key and table sends them (rsspkt predict).
. /payload/guest/lib.sh
V=eth0
X=eth1
ip link set $V up
ip link set $X up
is "eth0 is virtio_net, eth1 vmxnet3" "$(driver $V) $(driver $X)" "virtio_net vmxnet3"

# ethtool as the oracle
eth_key() { ethtool -x "$1" | awk '/^RSS hash key:/ { getline; gsub(":", ""); print }'; }
eth_combined() { ethtool -l "$1" | awk '/^Combined:/ { v = $2 } END { print v }'; }
eth_ring_rx() { ethtool -g "$1" | awk '/^RX:/ { v = $2 } END { print v }'; }
eth_udp4() { ethtool -n "$1" rx-flow-hash udp4 | grep -c -E '^(IP SA|IP DA|L4 bytes)'; }
# nictool's view in the same shapes (sed, not jq: these run often and jq's
# start-up is slow under TCG; nictool prints json-c's plain format)
nt_table() { nictool rss-get "$1" | sed -n 's/.*"table":\[\([0-9,]*\)\].*/\1/p'; }
nt_qstats() {
	nictool qstats "$1" | tr '}' '\n' |
		sed -n 's/.*"index":\([0-9]*\),"rx_packets":\([0-9]*\).*/q\1=\2/p' | tr '\n' ' ' |
		sed 's/ $//'
}
QSTATS=nt_qstats

# refusals NAME IFNAME — what neither driver has, each refused by the kernel
# with its own text, as the NIC layer reports it.
refusals() {
	check_fails "$1 ntuple on: the kernel acks but does not apply it" \
		"^Error: $2: set feature rx-ntuple-filter: the kernel acknowledged but did not apply it \(EOPNOTSUPP\)\$" \
		nictool ntuple $2 on
	check_fails "$1 has no rule table" \
		"^Error: $2: get rules: Operation not supported \(EOPNOTSUPP\)\$" nictool rules $2
	check_fails "$1 refuses a dst-MAC rule" \
		"^Error: $2: insert rule: Operation not supported \(EOPNOTSUPP\)\$" \
		nictool rule-add $2 ether 02:11:22:33:44:55 queue 1
	check_fails "$1 refuses a dst-IPv4 rule" \
		"^Error: $2: insert rule: Operation not supported \(EOPNOTSUPP\)\$" \
		nictool rule-add $2 ip4 198.18.0.2 queue 1
	check_fails "$1 refuses an RSS context" \
		"^Error: $2: create rss context: Operation not supported \(EOPNOTSUPP\)\$" \
		nictool rss-create $2 0 1
}

KEY=6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa
KEY2=3c1f5e8a9102b447c6d90e7325a8f16b9438ed5207ca61b94d801ef7369ac25d78e40ba35f16d289

say "virtio_net: capability matrix"
S=/tmp/show-$V.json
run nictool show $V && cp "$OUT" $S
jchecks $S \
	"virtio show: driver virtio_net, up, bus info" \
	'.driver == "virtio_net" and .up and (.bus_info | test("^0000:"))' \
	"virtio show: 2 of 4 combined channels (= vCPUs)" \
	'.channels.combined == 2 and .channels.combined_max == 4 and .rx_queues == 2' \
	"virtio show: RSS table 128 entries, 40-byte key, toeplitz" \
	'.rss.table_size == 128 and (.rss.table | length) == 128 and .rss.key_size == 40
	 and .rss.hfunc == "toeplitz"' \
	"virtio has: channels (settable), rings, RSS table, queue info, qstats" \
	'.capabilities | [.channels, .channels_set, .rings, .rss, .queue_info, .qstats] | all(has)' \
	"virtio lacks RSS contexts (kernel: Operation not supported)" \
	'.capabilities.rss_contexts | unsup and (.message | test("not supported"))' \
	"virtio lacks ntuple: rx-ntuple-filter off and fixed" \
	'.ntuple.active == false and .ntuple.changeable == false and .capabilities.ntuple.state == "no"' \
	"virtio lacks flow rules (kernel: Operation not supported, EOPNOTSUPP)" \
	'.capabilities | (.rules | unsup and (.message | test("not supported")))
	 and .l2_rules.state == "no" and .ip_rules.state == "no"' \
	"virtio lacks header split (kernel: setting TCP data split is not supported)" \
	'.capabilities.header_split | unsup and (.message | test("setting TCP data split is not supported"))' \
	"virtio: no RSS context in use" \
	'.rss.contexts_in_use == 0'
is "virtio show: table as ethtool -x reads it" \
	"$(sed -n 's/.*"table":\[\([0-9,]*\)\].*/\1/p' $S)" "$(indir $V)"
is "virtio show: key as ethtool -x reads it" \
	"$(sed -n 's/.*"key":"\([0-9a-f]*\)".*/\1/p' $S)" "$(eth_key $V)"
run nictool queues $V && cp "$OUT" /tmp/q.json
jchecks /tmp/q.json "virtio queues: rx 0 1, both in the default RSS table, 64 buckets each" \
	'map(.index) == [0, 1] and all(.in_default_rss) and map(.rss_weight) == [64, 64]'

refusals virtio $V

say "virtio_net: channels"
jcheck "virtio set-channels 4" '.combined == 4 and .combined_max == 4' nictool set-channels $V 4
is "virtio: ethtool -l agrees: 4 combined" "$(eth_combined $V)" 4
is "virtio queues: rx 0..3 after set-channels 4" "$(nt_qstats $V | sed 's/=[0-9]*//g')" \
	"q0 q1 q2 q3"
check_fails "virtio refuses 5 channels" \
	'^Error: eth0: set channels: requested channel count exceeds maximum \(EINVAL\)$' \
	nictool set-channels $V 5

say "virtio_net: RSS key, hash fields, rings"
run nictool rss-key $V $KEY2
is "virtio rss-key: nictool reads back the new key" "$(sed -n 's/.*"key":"\([0-9a-f]*\)".*/\1/p' $OUT)" "$KEY2"
is "virtio rss-key: ethtool -x shows the new key" "$(eth_key $V)" "$KEY2"
run nictool rss-key $V $KEY
is "virtio rss-key again: ethtool -x shows it" "$(eth_key $V)" "$KEY"
# virtio_net hands hash-field changes to the device only while rx-hashing is
# on; with it off they are accepted and read back but not applied.
run ethtool -K $V rxhash on
check_out "virtio flow-hash udp4 reads sdfn" '"flow":"udp4","fields":"sdfn"' nictool flow-hash $V udp4
check_out "virtio flow-hash udp4 sd" '"fields":"sd",' nictool flow-hash $V udp4 sd
is "virtio: ethtool -n udp4 shows 2 hash fields" "$(eth_udp4 $V)" 2
check_out "virtio flow-hash udp4 sdfn" '"fields":"sdfn",' nictool flow-hash $V udp4 sdfn
is "virtio: ethtool -n udp4 shows 4 hash fields" "$(eth_udp4 $V)" 4
jcheck "virtio rings: rx 256/256, tx 256/256, no header split" \
	'.rx == 256 and .rx_max == 256 and .tx_max == 256 and (.header_split | unsup)' \
	nictool rings $V
is "virtio: ethtool -g agrees on rx ring" "$(eth_ring_rx $V)" 256

say "virtio_net: RSS tables written by nictool, checked with injected frames"
run nictool rss-set $V 0 3
is "virtio rss-set 0 3: every bucket -> queue 3" "$(queues_in "$(nt_table $V)")" 3
is "virtio: ethtool -x reads the written table" "$(indir $V)" "$(nt_table $V)"
steer $V $KEY sdfn 128 10000
steered "virtio steering, table all->3"
run nictool rss-set $V 0 0 1 1 3
is "virtio rss-set 0 0 1 1 3: queue 2 unused" "$(queues_in "$(nt_table $V)")" "0 1 3"
is "virtio: ethtool -x reads the written table" "$(indir $V)" "$(nt_table $V)"
steer $V $KEY sdfn 128 20000
steered "virtio steering, table 0 1 1 3, UDP hashed on addresses+ports"
is "virtio: nictool qstats and an independent qstats reader agree" \
	"$(nt_qstats $V)" "$(rsspkt qstats $V)"
jcheck "virtio queues: weights follow the table (0:32 1:64 2:0 3:32)" \
	'map(.rss_weight) == [32, 64, 0, 32] and map(.in_default_rss) == [true, true, false, true]' \
	nictool queues $V
check_fails "virtio refuses shrinking below the table (kernel's message)" \
	'^Error: eth0: set channels: requested channel counts are too low for existing indirection table.* \(EINVAL\)$' \
	nictool set-channels $V 2
is "virtio: still 4 channels after the refusal" "$(eth_combined $V)" 4
run nictool flow-hash $V udp4 sd
steer $V $KEY sd 128 30000
steered "virtio steering, UDP hashed on addresses only (one flow -> one queue)"
run nictool flow-hash $V udp4 sdfn
run nictool rss-set $V 0 default
is "virtio rss-set 0 default: the driver's spread over 4 queues" \
	"$(nt_table $V | cut -d, -f1-8)" "0,1,2,3,0,1,2,3"
steer $V $KEY sdfn 128 40000
steered "virtio steering, default table over 4 queues"
jcheck "virtio set-channels 2 once the table is the default again" '.combined == 2' \
	nictool set-channels $V 2
is "virtio table follows: default over queues 0 1" "$(queues_in "$(nt_table $V)")" "0 1"
run nictool set-channels $V 4

say "vmxnet3: capability matrix and what it refuses"
S=/tmp/show-$X.json
run nictool show $X && cp "$OUT" $S
jchecks $S \
	"vmxnet3 show: driver vmxnet3, 2 combined channels (= vCPUs), fixed" \
	'.driver == "vmxnet3" and .channels.combined == 2 and .channels.combined_max == 2' \
	"vmxnet3 show: RSS table 128 entries, toeplitz, no key" \
	'.rss.table_size == 128 and .rss.hfunc == "toeplitz" and .rss.key_size == 0' \
	"vmxnet3 has: channels (read), rings, RSS table, queue info" \
	'.capabilities | [.channels, .rings, .rss, .queue_info] | all(has)' \
	"vmxnet3 lacks: RSS contexts, ntuple, rules, header split, qstats" \
	'.capabilities | (.rss_contexts.state == "no") and (.ntuple.state == "no")
	 and (.rules | unsup) and (.header_split | unsup) and (.qstats | unsup)'
jchecks $S "vmxnet3 show: channels not claimed settable (set-channels is refused)" \
	'.capabilities.channels_set.state == "no"'
refusals vmxnet3 $X
is "vmxnet3 show: table as ethtool -x reads it" \
	"$(sed -n 's/.*"table":\[\([0-9,]*\)\].*/\1/p' $S)" "$(indir $X)"
check_fails "vmxnet3 refuses set-channels" \
	'^Error: eth1: set channels: Operation not supported \(EOPNOTSUPP\)$' nictool set-channels $X 1
check_fails "vmxnet3 refuses qstats" '^Error: eth1: .*qstats.*\(EOPNOTSUPP\)$' nictool qstats $X
check_fails "vmxnet3 refuses flow-hash" \
	'^Error: eth1: get flow hash: Operation not supported \(EOPNOTSUPP\)$' nictool flow-hash $X udp4
check_fails "vmxnet3 refuses rss-key" '^Error: eth1: set rss key: .*\((EINVAL|EOPNOTSUPP)\)$' \
	nictool rss-key $X $KEY
run nictool rss-set $X 0 1
is "vmxnet3 rss-set 0 1: every bucket -> queue 1" "$(queues_in "$(nt_table $X)")" 1
is "vmxnet3: ethtool -x reads the written table" "$(indir $X)" "$(nt_table $X)"
run nictool rss-set $X 0 default
is "vmxnet3 rss-set 0 default: back to 0 1 0 1 ..." "$(nt_table $X | cut -d, -f1-4)" "0,1,0,1"
jcheck "vmxnet3 rings: rx 1024/4096, no header split" \
	'.rx == 1024 and .rx_max == 4096 and (.header_split | unsup)' nictool rings $X
run ethtool -G $X rx 256
jcheck "vmxnet3 rings: a change made with ethtool -G shows" '.rx == 256' nictool rings $X
run ethtool -G $X rx 1024
finish
