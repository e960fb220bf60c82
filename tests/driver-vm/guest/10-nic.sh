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
# nictool's view in the same shapes
nt_table() { nictool rss-get "$1" | jq -r '.table | map(tostring) | join(",")'; }
nt_qstats() { nictool qstats "$1" | jq -r 'map("q\(.index)=\(.rx_packets)") | join(" ")'; }
QSTATS=nt_qstats

KEY=6d5a56da255b0ec24167253d43a38fb0d0ca2bcbae7b30b477cb2da38030f20c6a42b73bbeac01fa
KEY2=3c1f5e8a9102b447c6d90e7325a8f16b9438ed5207ca61b94d801ef7369ac25d78e40ba35f16d289
# jq helpers: a capability the driver lacks, with the kernel's EOPNOTSUPP
U='def unsup: .state == "no" and .errno == 95;'

say "virtio_net: capability matrix"
jcheck "virtio show: driver, 2 of 4 combined channels (= vCPUs), 128-entry table, 40-byte key, toeplitz" \
	'.driver == "virtio_net" and .channels.combined == 2 and .channels.combined_max == 4
	 and .rss.table_size == 128 and .rss.key_size == 40 and .rss.hfunc == "toeplitz"' \
	nictool show $V
cp "$OUT" /tmp/show-virtio.json
jcheck "virtio has: channels (settable), rings, RSS table, queue info, qstats" \
	'.capabilities | [.channels, .channels_set, .rings, .rss, .queue_info, .qstats]
	 | all(.state == "yes")' cat /tmp/show-virtio.json
jcheck "virtio lacks RSS contexts (kernel: Operation not supported)" \
	"$U .capabilities.rss_contexts | unsup and (.message | test(\"not supported\"))" \
	cat /tmp/show-virtio.json
jcheck "virtio lacks ntuple (rx-ntuple-filter fixed off) and rules (EOPNOTSUPP)" \
	"$U .ntuple.active == false and .ntuple.changeable == false and
	 (.capabilities | (.ntuple.state == \"no\") and (.rules | unsup)
	  and (.l2_rules.state == \"no\") and (.ip_rules.state == \"no\"))" cat /tmp/show-virtio.json
jcheck "virtio lacks header split (kernel: setting TCP data split is not supported)" \
	"$U .capabilities.header_split | unsup
	 and (.message | test(\"setting TCP data split is not supported\"))" cat /tmp/show-virtio.json
is "virtio show: table as ethtool -x reads it" \
	"$(jq -r '.rss.table | map(tostring) | join(",")' /tmp/show-virtio.json)" "$(indir $V)"
is "virtio show: key as ethtool -x reads it" "$(jq -r .rss.key /tmp/show-virtio.json)" "$(eth_key $V)"
jcheck "virtio queues: rx 0 1, both in the default RSS table" \
	'map(.index) == [0, 1] and all(.in_default_rss)' nictool queues $V

say "virtio_net: channels"
jcheck "virtio set-channels 4" '.combined == 4 and .combined_max == 4' nictool set-channels $V 4
is "virtio: ethtool -l agrees: 4 combined" "$(eth_combined $V)" 4
jcheck "virtio queues: rx 0..3 after set-channels 4" 'map(.index) == [0, 1, 2, 3]' nictool queues $V
check_fails "virtio refuses 5 channels" \
	'^Error: eth0: set channels: requested channel count exceeds maximum \(EINVAL\)$' \
	nictool set-channels $V 5

say "virtio_net: RSS key, hash fields, rings"
jcheck "virtio rss-key" ".key == \"$KEY2\"" nictool rss-key $V $KEY2
is "virtio: ethtool -x shows the new key" "$(eth_key $V)" "$KEY2"
jcheck "virtio rss-key again" ".key == \"$KEY\"" nictool rss-key $V $KEY
# virtio_net hands hash-field changes to the device only while rx-hashing is
# on; with it off they are accepted and read back but not applied.
run ethtool -K $V rxhash on
jcheck "virtio flow-hash udp4 reads sdfn" '.flow == "udp4" and .fields == "sdfn"' \
	nictool flow-hash $V udp4
jcheck "virtio flow-hash udp4 sd" '.fields == "sd"' nictool flow-hash $V udp4 sd
is "virtio: ethtool -n udp4 shows 2 hash fields" "$(eth_udp4 $V)" 2
jcheck "virtio flow-hash udp4 sdfn" '.fields == "sdfn"' nictool flow-hash $V udp4 sdfn
is "virtio: ethtool -n udp4 shows 4 hash fields" "$(eth_udp4 $V)" 4
jcheck "virtio rings: rx 256/256, tx 256/256, no header split" \
	'.rx == 256 and .rx_max == 256 and .tx_max == 256 and .header_split.state == "no"' \
	nictool rings $V
is "virtio: ethtool -g agrees on rx ring" "$(eth_ring_rx $V)" 256

say "virtio_net: RSS tables written by nictool, checked with injected frames"
jcheck "virtio rss-set 0 3 (every bucket -> queue 3)" '.table_size == 128 and (.table | unique) == [3]' \
	nictool rss-set $V 0 3
is "virtio: ethtool -x reads the written table" "$(indir $V)" "$(nt_table $V)"
steer $V $KEY sdfn 128 10000
steered "virtio steering, table all->3"
jcheck "virtio rss-set 0 0 1 1 3 (queue 2 unused)" \
	'(.table | unique) == [0, 1, 3] and .table[0:4] == [0, 1, 1, 3]' nictool rss-set $V 0 0 1 1 3
is "virtio: ethtool -x reads the written table" "$(indir $V)" "$(nt_table $V)"
steer $V $KEY sdfn 128 20000
steered "virtio steering, table 0 1 1 3, UDP hashed on addresses+ports"
is "virtio: nictool qstats and an independent qstats reader agree" \
	"$(nt_qstats $V)" "$(rsspkt qstats $V)"
jcheck "virtio queues: weights follow the table (0:32 1:64 2:0 3:32)" \
	'map(.rss_weight) == [32, 64, 0, 32] and (map(.in_default_rss) == [true, true, false, true])' \
	nictool queues $V
check_fails "virtio refuses shrinking below the table (kernel's message)" \
	'^Error: eth0: set channels: requested channel counts are too low for existing indirection table.* \(EINVAL\)$' \
	nictool set-channels $V 2
is "virtio: still 4 channels after the refusal" "$(eth_combined $V)" 4
jcheck "virtio flow-hash udp4 sd (addresses only)" '.fields == "sd"' nictool flow-hash $V udp4 sd
steer $V $KEY sd 128 30000
steered "virtio steering, UDP hashed on addresses only (one flow -> one queue)"
run nictool flow-hash $V udp4 sdfn
jcheck "virtio rss-set 0 default" '.table == ([range(32)] | map(0, 1, 2, 3))' nictool rss-set $V 0 default
steer $V $KEY sdfn 128 40000
steered "virtio steering, default table over 4 queues"
jcheck "virtio set-channels 2 once the table is the default again" '.combined == 2' \
	nictool set-channels $V 2
jcheck "virtio table follows: default over queues 0 1" '.table == ([range(64)] | map(0, 1))' \
	nictool rss-get $V
run nictool set-channels $V 4

say "vmxnet3: capability matrix and what it refuses"
jcheck "vmxnet3 show: driver, 2 combined channels, 128-entry table, no key" \
	'.driver == "vmxnet3" and .channels.combined == 2 and .rss.table_size == 128
	 and .rss.key_size == 0' nictool show $X
cp "$OUT" /tmp/show-vmxnet3.json
jcheck "vmxnet3 has: channels (read), rings, RSS table, queue info" \
	'.capabilities | [.channels, .rings, .rss, .queue_info] | all(.state == "yes")' \
	cat /tmp/show-vmxnet3.json
jcheck "vmxnet3 lacks: RSS contexts, ntuple, rules, header split, qstats" \
	"$U .capabilities | (.rss_contexts.state == \"no\") and (.ntuple.state == \"no\")
	 and (.rules | unsup) and (.header_split | unsup)
	 and (.qstats.state == \"no\")" cat /tmp/show-vmxnet3.json
check_fails "vmxnet3 refuses set-channels" \
	'^Error: eth1: set channels: Operation not supported \(EOPNOTSUPP\)$' nictool set-channels $X 1
check_fails "vmxnet3 refuses qstats" '^Error: eth1: .*qstats.*\(EOPNOTSUPP\)$' nictool qstats $X
check_fails "vmxnet3 refuses flow-hash" \
	'^Error: eth1: get flow hash: Operation not supported \(EOPNOTSUPP\)$' nictool flow-hash $X udp4
check_fails "vmxnet3 refuses rss-key" '^Error: eth1: set rss key: .*\((EINVAL|EOPNOTSUPP)\)$' \
	nictool rss-key $X $KEY
jcheck "vmxnet3 rss-set 0 1 (every bucket -> queue 1)" '(.table | unique) == [1]' \
	nictool rss-set $X 0 1
is "vmxnet3: ethtool -x reads the written table" "$(indir $X)" "$(nt_table $X)"
jcheck "vmxnet3 rss-set 0 default" '.table == ([range(64)] | map(0, 1))' nictool rss-set $X 0 default
jcheck "vmxnet3 rings: rx 1024/4096, no header split" \
	'.rx == 1024 and .rx_max == 4096 and .header_split.state == "no"' nictool rings $X
run ethtool -G $X rx 256
jcheck "vmxnet3 rings: a change made with ethtool -G shows" '.rx == 256' nictool rings $X
finish
