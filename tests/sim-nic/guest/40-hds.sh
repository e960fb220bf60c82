#!/bin/sh
# SPDX-License-Identifier: MIT
# boots: zx2
#
# Check 4, header split: when the zero-copy binder needs it (its PROBE
# says NEEDS_HDS and COPY_FALLBACK), zcrxd turns tcp-data-split on and
# hds-thresh to 0 for an
# attachment, and puts the values it found back once nothing needs them,
# on the real ethtool core (netdevsim's rings: tcp-data-split,
# hds-thresh up to 1024).  The binder here is the project's test double of
# the vhost_zcrx module (tests/tools/fake-vhost-zcrx, a process speaking
# the module's protocol on a socket): no real module exists yet.
. /payload/guest/lib.sh
NIC=zxn0
PEER=zxp0
M1=52:54:00:40:00:01
run sim_pair 8 || exit 1
run macvtap zxmv1 $M1
# the values zcrxd finds: header split off, a threshold of 256
run ethtool -G $NIC tcp-data-split off hds-thresh 256
rings() { ethtool -g $NIC | sed -n '/^Current/,$p' | awk -F: '/TCP data split|HDS thresh/ {
	gsub(/[ \t]/, "", $2); printf "%s%s", (n++ ? " " : ""), $2 }'; }
is "before zcrxd: tcp-data-split off, hds-thresh 256" "$(rings)" "off 256"
dump $NIC /tmp/before

fake-vhost-zcrx --socket /tmp/fvz.sock --features 3 --auto-active --check-links \
	> /tmp/fvz.out 2> /tmp/fvz.err &
FVZ=$!
fvz_ready() { grep -q ready /tmp/fvz.out; }
check "the test binder (NEEDS_HDS, COPY_FALLBACK) is ready" poll 10 fvz_ready
zcrxd_fresh
ZCRXD_FAKE_VHOST_ZCRX=/tmp/fvz.sock
export ZCRXD_FAKE_VHOST_ZCRX
check "zcrxd starts with the binder" zcrxd_start "[daemon]
ReconcileIntervalSec=0
[nic $NIC]
ReserveQueues=2"
is "no attachment yet: header split left alone" "$(rings)" "off 256"
vm_xml vm41 41 $M1,zxmv1,1
run attach vm41
is "an attachment needing header split: tcp-data-split on, hds-thresh 0" "$(rings)" "on 0"
q1=$(att vm41 '.queues | join(" ")')
is "vm41 is active with a binding on its queue" \
	"$(att vm41 '[.state, (.bindings | length | tostring)] | join(" ")')" "active 1"
frames $M1 32 udp 198.18.0.2 9 41000
landed "$q1" "vm41's frames land on its queue"
run ctl detach vm41
unsplit() { [ "$(rings)" = "off 256" ]; }
check "detached: zcrxd puts tcp-data-split off and hds-thresh 256 back" poll 10 unsplit
run attach vm41
is "attached again: on, 0" "$(rings)" "on 0"
check "zcrxctl release $NIC" ctl release $NIC
dump $NIC /tmp/after
dump_same "release restored header split, hds-thresh and everything else" /tmp/before /tmp/after
check "zcrxd stops cleanly" zcrxd_stop
kill -TERM $FVZ
wait $FVZ
unset ZCRXD_FAKE_VHOST_ZCRX
show_log
sim_unpair
finish
