#!/bin/sh
# SPDX-License-Identifier: MIT
# boots: zx
#
# Check 2: attach, detach, rebalance and release with the real zcrxd and
# zcrxctl on netdevsim-zx (8 queues, ReserveQueues=4: pool 4-7, shared
# 0-3), for a 1-queue and a 2-queue vNIC on macvtaps over the port.  Frames
# the peer sends to a vNIC's MAC land only on its leased queue(s) (the
# driver's per-queue counters); frames for nobody in particular (default
# RSS) never land on a pool queue; release puts the NIC back exactly as it
# was (ethtool -l/-g/-k/-n and every RSS table, compared as dumps).
. /payload/guest/lib.sh
NIC=zxn0
PEER=zxp0
M1=52:54:00:30:00:01
M2=52:54:00:30:00:02
run sim_pair 8 || exit 1
run macvtap zxmv1 $M1
run macvtap zxmv2 $M2
dump $NIC /tmp/before
zcrxd_fresh
check "zcrxd starts with [nic $NIC] ReserveQueues=4" zcrxd_start "[daemon]
ReconcileIntervalSec=0
[nic $NIC]
ReserveQueues=4"
shared_only() { [ "$(spread "$(table $NIC)")" = "0 1 2 3" ]; }
check "zcrxd carves the pool: context 0 spreads over 0-3 only" poll 20 shared_only
frames "$(mac_of $NIC)" 64 udp 198.18.0.2 9 30000
within "default RSS: no frame on a pool queue" "0 1 2 3"

say "a 1-queue vNIC"
vm_xml vm31 31 $M1,zxmv1,1
run attach vm31
att_vars vm31
q1=$AQ
r1=$AR
is "vm31 leases one pool queue" "$(echo "$q1" | grep -cE '^[4-7]$')" 1
is "vm31 is steered by MAC, its only reason: no zero-copy module" "$AM $AS $AW" \
	"mac degraded no-zero-copy"
check_out "ethtool -n shows vm31's rule at location ${r1:-?} -> queue ${q1:-?}" \
	"Action: Direct to queue ${q1:-x}\$" ethtool -n $NIC rule "${r1:-0}"
frames $M1 64 udp 198.18.0.2 9 31000
landed "$q1" "frames for vm31's MAC land on its queue only"

say "a 2-queue vNIC"
vm_xml vm32 32 $M2,zxmv2,2
run attach vm32
att_vars vm32
q2=$AQ
c2=$AC
is "vm32 leases two pool queues, apart from vm31's" \
	"$(for q in $q2; do [ "$q" -ge 4 ] && [ "$q" != "$q1" ] && echo y; done | wc -l)" 2
is "the kernel holds vm32's RSS context $c2" "$(contexts $NIC)" "$c2"
is "context $c2's table spreads over vm32's queues" "$(spread "$(table $NIC "$c2")")" "$q2"
frames $M2 64 udp 198.18.0.2 9 32000
landed "$q2" "frames for vm32's MAC spread over its two queues only"
frames "$(mac_of $NIC)" 64 udp 198.18.0.2 9 33000
within "default RSS with both attached: no frame on a pool queue" "0 1 2 3"
frames $M1 32 udp 198.18.0.2 9 34000
landed "$q1" "vm31 still gets its frames on its queue"

say "detach, rebalance"
run ctl detach vm31
is "vm31's rule is gone" "$(rules $NIC | tr ' ' '\n' | grep -cx "${r1:-x}")" 0
frames $M1 32 udp 198.18.0.2 9 35000
within "frames for the detached vm31 fall back to default RSS" "0 1 2 3"
run ctl --json=short rebalance $NIC
att_vars vm32
q2b=$AQ
c2b=$AC
say "rebalance: vm32 $q2 -> $q2b (context $c2 -> $c2b)"
is "after rebalance the kernel holds only vm32's context" "$(contexts $NIC)" "$c2b"
frames $M2 64 udp 198.18.0.2 9 36000
landed "$q2b" "after rebalance, vm32's frames land on its queues only"
run ctl --json=short plan $NIC && cp "$OUT" /tmp/plan.json
jchecks /tmp/plan.json "after rebalance zcrxd has nothing more to do" '.plans | all(.ops == [])'

say "release"
check "zcrxctl release $NIC" ctl release $NIC
dump $NIC /tmp/after
dump_same "release restored channels, rings, ntuple, rules and every RSS table" /tmp/before /tmp/after
frames "$(mac_of $NIC)" 128 udp 198.18.0.2 9 37000
landed "0 1 2 3 4 5 6 7" "after release, default RSS reaches all 8 queues again"
check "zcrxd stops cleanly" zcrxd_stop
show_log
sim_unpair
finish
