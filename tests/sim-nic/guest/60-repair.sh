#!/bin/sh
# SPDX-License-Identifier: MIT
# boots: zx2
#
# Check 5: what others change behind zcrxd's back is put back, on the real
# ethtool core: a vNIC's rule deleted (ethtool -N delete), the default table
# rewritten over the pool (ethtool -X), the channel count lowered
# (ethtool -L) and a vNIC's RSS context deleted (ethtool -X context N
# delete, after its rule).  After each repair the frames land where they
# should again, zcrxd's plan is empty and the repair is counted.  A rule
# change raises no kernel notification: zcrxctl reconcile finds it (as the
# periodic reconcile would); the others are notified and repaired unasked.
. /payload/guest/lib.sh
NIC=zxn0
PEER=zxp0
M1=52:54:00:60:00:01
M2=52:54:00:60:00:02
run sim_pair 8 || exit 1
run macvtap zxmv1 $M1
run macvtap zxmv2 $M2
dump $NIC /tmp/before
zcrxd_fresh
check "zcrxd starts with ReserveQueues=4, Channels=8" zcrxd_start "[daemon]
ReconcileIntervalSec=0
[nic $NIC]
Channels=8
ReserveQueues=4"
vm_xml vm61 61 $M1,zxmv1,1
vm_xml vm62 62 $M2,zxmv2,2
run attach vm61
run attach vm62
att_vars vm61
q1=$AQ
r1=$AR
shared_only() { [ "$(spread "$(table $NIC)")" = "0 1 2 3" ]; }
in_sync() { ctl --json=short plan $NIC | jq -e '.plans | all(.ops == [])' > /dev/null; }
rep0=$(metric zcrx_reconcile_repairs_total)

say "a vNIC's rule deleted"
run ethtool -N $NIC delete "$r1"
frames $M1 32 udp 198.18.0.2 9 60000
within "with vm61's rule gone its frames go to default RSS" "0 1 2 3"
plans_rule() { ctl --json=short plan $NIC | jq -e --arg m "$M1" \
	'[.plans[].ops[] | select(.kind == "insert-rule" and .mac == $m and .repair)] | length == 1' > /dev/null; }
check "zcrxctl plan reads the kernel: it plans vm61's rule back" plans_rule
is "and planning repaired nothing" "$(metric zcrx_reconcile_repairs_total)" "$rep0"
run ctl reconcile $NIC
att_vars vm61
is "zcrxctl reconcile puts a rule for vm61 back, and the kernel has it" \
	"$(rules $NIC | tr ' ' '\n' | grep -cx "${AR:-x}")" 1
frames $M1 32 udp 198.18.0.2 9 60100
landed "$q1" "vm61's frames land on its queue again"
check "zcrxd's plan is empty again" in_sync

say "the default table rewritten over the pool"
run ethtool -X $NIC equal 8
check "zcrxd puts the carve back (notified, unasked)" poll 15 shared_only
frames "$(mac_of $NIC)" 64 udp 198.18.0.2 9 60200
within "default RSS keeps off the pool again" "0 1 2 3"

say "the channel count lowered"
run ethtool -L $NIC combined 7
ch8() { ethtool -l $NIC | sed -n '/^Current/,$p' | grep -qE '^Combined:[[:space:]]+8$'; }
check "zcrxd puts Channels=8 back (notified, unasked)" poll 15 ch8
check "and the carve" poll 15 shared_only
check "and its plan is empty" poll 15 in_sync
att_vars vm62
frames $M2 64 udp 198.18.0.2 9 60300
landed "$AQ" "vm62's frames land on its queues"

say "a vNIC's RSS context deleted (its rule first, as the core demands)"
run ethtool -N $NIC delete "$AR"
run ethtool -X $NIC context "$AC" delete
# the deletion is notified: zcrxd may be quicker than this script
ctl reconcile $NIC > /dev/null 2>&1
att_vars vm62
is "zcrxd makes vm62 a context again, and the kernel holds it" "$(contexts $NIC)" "$AC"
frames $M2 64 udp 198.18.0.2 9 60400
landed "$AQ" "vm62's frames spread over its queues again"
check "zcrxd's plan is empty again" in_sync
rep1=$(metric zcrx_reconcile_repairs_total)
is "the repairs are counted (at least one per change)" "$((rep1 - rep0 >= 4))" 1
grep -E 'drift:|repair:' $D/zcrxd.log | head -20 | while read -r l; do say "log: $l"; done
# the repair names the context the kernel gave, and no placeholder
check_out "the log names the context made in the repair by its id" \
	"repair: create RSS context $AC: " cat $D/zcrxd.log
check_out "... and the rule to it" "repair: insert rule .* -> context $AC " cat $D/zcrxd.log
is "no \$CTX placeholder and no NIC named twice in zcrxd's log" \
	"$(grep -cE 'CTX[0-9]|$NIC: $NIC:' $D/zcrxd.log)" 0

run ctl detach vm61
run ctl detach vm62
check "zcrxctl release $NIC" ctl release $NIC
# zcrxd first changed the channel count when it put 8 back over the 7 set
# outside: 7 is the value it recorded before its change, and gives back
check_out "release gives back the channel count zcrxd found when it changed it (7)" \
	'^Combined:[[:space:]]+7$' sh -c "ethtool -l $NIC | sed -n '/^Current/,\$p'"
run ethtool -L $NIC combined 8
dump $NIC /tmp/after
dump_same "release restored rules, contexts, tables, rings and ntuple" /tmp/before /tmp/after
check "zcrxd stops cleanly" zcrxd_stop
show_log
sim_unpair
finish
