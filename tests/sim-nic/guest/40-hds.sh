#!/bin/sh
# SPDX-License-Identifier: MIT
# boots: zx2
#
# Check 4, header split: when the zero-copy binder needs it (its PROBE
# says NEEDS_HDS), zcrxd turns tcp-data-split on and hds-thresh to 0 for an
# attachment before it binds, and puts the values it found back once
# nothing needs them, on the real ethtool core (netdevsim's rings:
# tcp-data-split, hds-thresh up to 1024).  The binder is the project's
# vhost_zcrx reference module (tests/kmod; it refuses a BIND without header
# split, and binds with no data path: every binding is degraded), installed
# from the payload for this script only.
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

KVER=$(uname -r)
if [ -d /payload/kmod/root ]; then
	# as a distribution installs it: resolving the family autoloads it
	cp -a /payload/kmod/root/. /
	uninstall() {
		rmmod vhost_zcrx 2> /dev/null
		rm -rf "/lib/modules/$KVER" /sbin/modprobe
	}
	trap uninstall EXIT
	MODTODO=
else
	say "no vhost_zcrx module in this payload (tests/kmod/payload.sh): the binder checks cannot run"
	MODTODO="the reference vhost_zcrx module in the sim-nic payload (helper kmod, issue 13)"
fi
zcrxd_fresh
check "zcrxd starts" zcrxd_start "[daemon]
ReconcileIntervalSec=0
[nic $NIC]
ReserveQueues=2"
todo "$MODTODO"
check "zcrxd resolving the family loaded the module" grep -q '^vhost_zcrx ' /proc/modules
todo ""
is "no attachment yet: header split left alone" "$(rings)" "off 256"
vm_xml vm41 41 $M1,zxmv1,1
run attach vm41
todo "$MODTODO"
is "an attachment needing header split: tcp-data-split on, hds-thresh 0" "$(rings)" "on 0"
q1=$(att vm41 '.queues | join(" ")')
is "vm41 has its binding, degraded as the module says (no data path)" \
	"$(att vm41 '[.state, (.bindings | length | tostring),
		(.reasons | map(.message) | join(" ") | test("no data path") | tostring)] | join(" ")')" \
	"degraded 1 true"
todo ""
frames $M1 32 udp 198.18.0.2 9 41000
landed "$q1" "vm41's frames land on its queue"
run ctl detach vm41
unsplit() { [ "$(rings)" = "off 256" ]; }
check "detached: zcrxd puts tcp-data-split off and hds-thresh 256 back" poll 10 unsplit
run attach vm41
todo "$MODTODO"
is "attached again: on, 0" "$(rings)" "on 0"
todo ""
check "zcrxctl release $NIC" ctl release $NIC
dump $NIC /tmp/after
dump_same "release restored header split, hds-thresh and everything else" /tmp/before /tmp/after
check "zcrxd stops cleanly" zcrxd_stop
show_log
sim_unpair
finish
