#!/bin/sh
# SPDX-License-Identifier: MIT
# boots: stock zx
#
# Leases for host zero-copy consumers (issue 12) with real consumers on the
# real kernel core (simulated driver): zcrxctl lease prepares a queue
# (header split on with hds-thresh 0, the queue out of the default RSS
# table, a TCP_V4 rule), zxsim registers an io_uring zcrx ifq or binds a
# udmabuf (NETDEV_CMD_BIND_RX) on it, and zcrxd follows the consumer through
# netdev queue-get and the page-pool notifications: waiting -> bound ->
# unbound -> released, the NIC restored exactly.  Frames of the flow from
# the peer land on the leased queue, others do not; a queue something else
# bound is never leased, to a lease or a VM; zcrxd killed while a lease is
# bound adopts it and leaves the consumer alone; "zcrxctl lease -- CMD"
# with CMD killed releases.  On stock netdevsim (no n-tuple rules) a lease
# gets a named refusal.
. /payload/guest/lib.sh
NIC=zxn0
PEER=zxp0
DST=198.18.0.2
run sim_pair 8 || exit 1
run ethtool -G $NIC tcp-data-split off hds-thresh 256
CONF="[daemon]
ReconcileIntervalSec=0
[nic $NIC]
ReserveQueues=3"
zcrxd_fresh
check "zcrxd starts" zcrxd_start "$CONF" || { show_log; exit 1; }
dump $NIC /tmp/l-before

# lease_vars NAME — the lease in LQ (queues), LS (state), LP (providers),
# LR (rules), LW (reason codes); one jq run.
lease_vars() {
	LQ= LS= LP= LR= LW=
	ctl --json=short leases > /tmp/leases.json 2>&1 || return 1
	eval "$(jq -r --arg n "$1" '.leases[] | select(.name == $n) | @sh "LQ=\(.queues |
		map(tostring) | join(" ")) LS=\(.state) LP=\(.providers) LR=\(.rules |
		map(tostring) | join(" ")) LW=\([.reasons[].code] | join(","))"' /tmp/leases.json)"
}
state_is() { lease_vars "$1" && [ "$LS" = "$2" ]; }
gone() { lease_vars "$1" && [ -z "$LS" ]; }
qline() { zxsim queues $NIC | grep "^rx $1 " || zxsim queues $NIC | grep "^rx $1\$"; }

if [ "$ZXS_NSIM" = stock ]; then
	check_fails "stock netdevsim: a lease is refused by name (no n-tuple rules)" \
		'NicUnsupported \((rules|header-split)\)' ctl lease $NIC --flow tcp:dport=9000,dst=$DST
	dump $NIC /tmp/l-after
	dump_same "stock: the refused lease changed nothing" /tmp/l-before /tmp/l-after
	check "zcrxd stops cleanly" zcrxd_stop
	show_log
	sim_unpair
	finish
	exit
fi

# monitor FILE — zcrxctl monitor --json into FILE, in MON once zcrxd counts
# its connection (the status call's own is the other)
conns() { [ "$(ctl --json=short status | jq .connections)" -ge 2 ]; }
monitor() {
	zcrxctl --socket $D/run/io.zcrx.Manager monitor --json=short > "$1" 2> "$1.err" &
	MON=$!
	check "zcrxctl monitor is connected" poll 20 conns
}
monitor /tmp/l-monitor1.json

say "a named lease: prepared, waiting for its consumer"
check_out "zcrxctl lease $NIC --flow tcp:dport=9000,dst=$DST" '"state":"waiting"' \
	ctl --json=short lease $NIC --flow tcp:dport=9000,dst=$DST --name srv
lease_vars srv
Q=$LQ
is "one queue, one TCP_V4 rule" "$(echo "$Q" | wc -w) $(echo "$LR" | wc -w)" "1 1"
check_out "header split on, hds-thresh 0" 'TCP data split:[[:space:]]+on' \
	sh -c "ethtool -g $NIC | sed -n '/^Current/,\$p'"
check_out "hds-thresh 0" 'HDS thresh:[[:space:]]+0$' sh -c "ethtool -g $NIC | sed -n '/^Current/,\$p'"
check_out "the rule: TCP over IPv4, dst $DST port 9000 -> queue $Q" \
	"Action: Direct to queue $Q" sh -c "ethtool -n $NIC rule $LR"
case " $(spread "$(table $NIC)") " in
*" $Q "*) nok "queue $Q is out of the default RSS table" "table: $(spread "$(table $NIC)")" ;;
*) ok "queue $Q is out of the default RSS table: $(spread "$(table $NIC)")" ;;
esac
say "queue-get, waiting: $(qline "$Q")"

say "steering: frames from $PEER"
frames "$(mac_of $NIC)" 32 tcp $DST 9000 30000
landed "$Q" "frames of the flow land on the leased queue"
frames "$(mac_of $NIC)" 64 tcp $DST 9001 31000
case " $(queues_of "$GOT") " in
*" $Q "*) nok "frames of other flows stay off the leased queue" "got $GOT" ;;
*) ok "frames of other flows stay off the leased queue: $GOT" ;;
esac

say "io_uring zcrx on the leased queue"
cat > /tmp/l-hold.sh <<EOF
#!/bin/sh
# holds the consumer until /tmp/l-\$1 exists, saying the queue-get line first
zxsim queues $NIC | grep "^rx \$2 " > /tmp/l-\$1.qline
touch /tmp/l-\$1.ready
while [ ! -e /tmp/l-\$1 ]; do sleep 0.05; done
EOF
chmod +x /tmp/l-hold.sh
rm -f /tmp/l-u /tmp/l-u.ready
zxsim zcrx $NIC "$Q" /tmp/l-hold.sh u "$Q" > /tmp/l-zcrx.out 2>&1 &
ZC=$!
check "the ifq is registered on queue $Q" poll 20 test -e /tmp/l-u.ready
say "queue-get, io_uring bound: $(cat /tmp/l-u.qline)"
check "the lease goes bound" poll 20 state_is srv bound
is "its provider is io-uring" "$LP" "io-uring"
touch /tmp/l-u
wait $ZC
check "the ring closed: the lease goes unbound" poll 20 state_is srv unbound
say "queue-get, unbound: $(qline "$Q")"

say "devmem TCP on the leased queue"
rm -f /tmp/l-d /tmp/l-d.ready
zxsim devmem $NIC "$Q" /tmp/l-hold.sh d "$Q" > /tmp/l-devmem.out 2>&1 &
DM=$!
check "the udmabuf is bound on queue $Q" poll 20 test -e /tmp/l-d.ready
say "queue-get, devmem bound: $(cat /tmp/l-d.qline)"
check "the lease goes bound (dmabuf)" poll 20 state_is srv bound
is "its provider is dmabuf" "$LP" "dmabuf"

say "refusals while something else holds queues"
check_fails "an overlapping flow is refused" 'FlowInUse' \
	ctl lease $NIC --flow tcp:dport=9000
# the pool's other two queues: one bound by io_uring, one by devmem, neither zcrxd's
ctl --json=short list > /tmp/l-list.json
FREE=$(jq -r '.nics[0].pool | map(tostring) | join(" ")' /tmp/l-list.json)
set -- $(for q in $FREE; do [ "$q" = "$Q" ] || echo "$q"; done)
F1=$1 F2=$2
rm -f /tmp/l-f1 /tmp/l-f1.ready /tmp/l-f2 /tmp/l-f2.ready
zxsim zcrx $NIC "$F1" /tmp/l-hold.sh f1 "$F1" > /tmp/l-f1.out 2>&1 &
F1P=$!
zxsim devmem $NIC "$F2" /tmp/l-hold.sh f2 "$F2" > /tmp/l-f2.out 2>&1 &
F2P=$!
check "queues $F1 (io_uring) and $F2 (devmem) bound outside zcrxd" \
	poll 20 sh -c "test -e /tmp/l-f1.ready && test -e /tmp/l-f2.ready"
run ctl reconcile
check_fails "a second lease cannot take a queue something else bound" 'QueueInUse' \
	ctl lease $NIC --flow tcp:dport=9100,dst=$DST
vm_xml vm90 90 52:54:00:90:00:01,zxmv90,1
run macvtap zxmv90 52:54:00:90:00:01
run attach vm90
is "nor can a VM attachment: vm90 gets no queue" "$(att vm90 '.queues | length')" "0"
run ctl detach vm90
$IP link del zxmv90
touch /tmp/l-f1 /tmp/l-f2
wait $F1P $F2P

say "zcrxd killed (SIGKILL) while the lease is bound"
zcrxd_kill
wait $MON 2>/dev/null # its stream ended with zcrxd
check "zcrxd restarts on its journal" zcrxd_start "$CONF"
monitor /tmp/l-monitor2.json
check "the restart adopts the lease, bound" poll 20 state_is srv bound
is "and keeps its queue" "$LQ" "$Q"
check_out "the consumer was not disturbed: still bound on queue $Q (queue-get)" 'dmabuf' qline "$Q"
check_out "nothing to do after the restart" 'nothing to do' ctl plan $NIC
touch /tmp/l-d
wait $DM
check "the netlink socket closed: the lease goes unbound" poll 20 state_is srv unbound

say "release: the NIC as it was"
check "zcrxctl unlease srv" ctl unlease srv
as_before1() { dump $NIC /tmp/l-after && cmp -s /tmp/l-before /tmp/l-after; }
poll 20 as_before1
dump_same "RSS, header split, hds-thresh, rules and ntuple restored exactly" \
	/tmp/l-before /tmp/l-after

say "a process-owned lease with its io_uring consumer: released when it exits"
rm -f /tmp/l-a /tmp/l-a.ready
touch /tmp/l-a # the consumer returns as soon as it saw itself bound
cat > /tmp/l-auto.sh <<EOF
#!/bin/sh
exec zxsim zcrx $NIC "\$ZCRX_QUEUES" /tmp/l-hold.sh a "\$ZCRX_QUEUES"
EOF
chmod +x /tmp/l-auto.sh
check_out "zcrxctl lease ... -- zxsim zcrx: the command ran bound and exited 0" 'registered' \
	ctl lease $NIC --flow udp:dport=4789,dst=$DST --name auto -- /tmp/l-auto.sh
check_out "the consumer saw io-uring on its queue" 'io-uring' cat /tmp/l-a.qline
check "its lease is gone" gone auto
# the ring's teardown is the kernel's, asynchronous: header split stays
# while the provider is still on the queue, and goes with it
as_before() { dump $NIC /tmp/l-after2 && cmp -s /tmp/l-before /tmp/l-after2; }
check "once the provider is gone, the NIC is as it was" poll 20 as_before
dump_same "the NIC after the process-owned lease" /tmp/l-before /tmp/l-after2

say "zcrxctl lease -- CMD with CMD killed"
zcrxctl --socket $D/run/io.zcrx.Manager lease $NIC --flow tcp:dport=9300,dst=$DST --name cmdk \
	-- sleep 600 &
CTL=$!
check "the lease is there while CMD runs" poll 20 state_is cmdk waiting
child=$(cat /proc/$CTL/task/$CTL/children 2>/dev/null)
run kill -KILL $child
wait $CTL
is "zcrxctl exits with 128 + SIGKILL" "$?" "137"
check "the lease is released" gone cmdk
dump $NIC /tmp/l-after3
dump_same "the NIC is as it was" /tmp/l-before /tmp/l-after3

say "a lease with no address: netdevsim-zx takes TCP_V4 rules only"
check_out "the lease is made, IPv4 steered" '"state":"waiting"' \
	ctl --json=short lease $NIC --flow tcp:dport=9400 --name v4
lease_vars v4
is "one rule (IPv4), the IPv6 refusal named" "$(echo "$LR" | wc -w) $LW" "1 flow-family"
run ctl unlease v4

kill $MON
wait $MON 2>/dev/null
cat /tmp/l-monitor1.json /tmp/l-monitor2.json > /tmp/l-monitor.json
say "the lease events (zcrxctl monitor, before and after the restart):"
jq -r 'select(.type | startswith("lease-")) | "\(.type) \(.name) \(.state) \(.providers) queues \(.queues | map(tostring) | join(","))\(if .why then " (" + .why + ")" else "" end)"' \
	/tmp/l-monitor.json | while read -r line; do say "  $line"; done
say "zcrxd's log of the leases:"
grep -E "lease [0-9]+ '" $D/zcrxd.log | while read -r line; do say "  $line"; done
check_out "the events show srv waiting -> bound -> unbound -> released" \
	'srv waiting.*srv bound.*srv unbound.*srv released' \
	sh -c "jq -r 'select(.type | startswith(\"lease-\")) | \"\(.name) \(.state)\"' \
		/tmp/l-monitor.json | tr '\n' ' '"
check "zcrxd stops cleanly" zcrxd_stop
show_log
sim_unpair
finish
