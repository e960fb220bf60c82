#!/bin/sh
# SPDX-License-Identifier: MIT
# boots: zx2
#
# The vhost_zcrx reference module (tests/kmod/vhost_zcrx) in the real
# kernel, spoken to by vzclient (zcrxd's own backend, raw generic netlink
# for the policy and malformed requests) and by the real zcrxd, on
# netdevsim-zx (4 queues; io_uring zcrx works there, so a foreign memory
# provider is a real one):
#   1. the module is installed for modprobe (depmod) and resolving the
#      family autoloads it; the kernel's policy dump is lib/vhost_zcrx.h's
#      (that the kernel exports nothing a module could install a memory
#      provider with is checked on the host: tests/kmod/host-checks.sh);
#   2. PROBE, BIND and its refusals with extack, GET with the queue's own
#      counters, UNBIND, ENOSPC, every malformed request the header implies;
#   3. STATE_NTF: tap deleted, RX queue count lowered, an io_uring zcrx
#      consumer taking the queue;
#   4. zcrxd: its family lookup autoloads the module; attach binds through
#      the family (degraded: no data path, never zero-copy), the STATS nest
#      in its metrics, queue-get shows no provider (the module can bind
#      none), detach unbinds before the rule goes; a queue bound by someone
#      else (EEXIST, the module's words), bound after zcrxctl reconcile;
#      rmmod (zcrxd says so, steering
#      stays), insmod (zcrxd binds again), kill -9 and restart (the dump is
#      adopted), the macvtap deleted, an io_uring zcrx consumer on the queue
#      (EBUSY, named) and gone (bound again, no manual step);
#   5. the NIC unregistered under a binding, and unloading with bindings.
# The guest kernel has no lockdep (CONFIG_PROVE_LOCKING is off in the cloud
# flavour); boot.py fails the run on any WARN, BUG or Oops in its log.
. /payload/guest/lib.sh
NIC=zxn0
PEER=zxp0
M1=52:54:00:90:00:01
KVER=$(uname -r)
KO=/lib/modules/$KVER/extra/vhost_zcrx.ko
NO_DATA_PATH="reference module: no data path"
# install the module as a distribution would (depmod'ed on the host, kmod's
# modprobe), for this script only: no other script's zcrxd may autoload it
cp -a /payload/kmod/root/. / || exit 1
uninstall() {
	rmmod vhost_zcrx 2>/dev/null
	rm -rf "/lib/modules/$KVER" /sbin/modprobe
}
trap uninstall EXIT
run sim_pair 4 || exit 1
run macvtap zxmv1 $M1

# ntf_wait ID STATE|gone — a STATE_NTF listener in the background (output in
# /tmp/ntf.out); returns once it has joined the events group.
ntf_wait() {
	rm -f /tmp/ntf.out
	vzclient wait "$1" "$2" 60 > /tmp/ntf.out 2>&1 &
	NPID=$!
	poll 20 grep -q '^waiting' /tmp/ntf.out
}
# ntf_got DESC PATTERN — the listener saw it (exit 0) and said PATTERN.
ntf_got() {
	wait "$NPID"
	local rc=$?
	if [ $rc -eq 0 ] && grep -Eq -- "$2" /tmp/ntf.out; then
		ok "$1: $(grep -Em1 -- "$2" /tmp/ntf.out)"
	else
		nok "$1" "exit $rc, wanted /$2/"
		cat /tmp/ntf.out
	fi
}
loaded() { test -d /sys/module/vhost_zcrx; }
# bound_id QUEUE — the id of the binding on QUEUE of $NIC ("" when none)
bound_id() { vzclient dump | sed -n "s/^id=\([0-9]*\) nic=$NIC queue=$1 .*/\1/p"; }

say "1. installed, autoloaded, the header's policy"
if [ -e /proc/lockdep ]; then say "the guest kernel has lockdep"; else
	say "the guest kernel has no lockdep (CONFIG_PROVE_LOCKING off): WARN/BUG/Oops are checked"; fi
check "vhost_zcrx is not loaded before anyone asked for the family" test ! -d /sys/module/vhost_zcrx
check "depmod put the family's alias in modules.alias" \
	grep -q "^alias net-pf-16-proto-16-family-vhost_zcrx vhost_zcrx$" /lib/modules/$KVER/modules.alias
check_out "resolving the family by name works" "^family vhost_zcrx id=[0-9]+" vzclient family
check "...because the kernel autoloaded the module (request_module -> modprobe)" loaded
vzclient policy > /tmp/policy.got 2>&1
if cmp -s /payload/kmod/policy.expected /tmp/policy.got; then
	ok "the kernel's policy dump is lib/vhost_zcrx.h's tables ($(wc -l < /tmp/policy.got) lines)"
else
	nok "the kernel's policy dump differs from lib/vhost_zcrx.h's tables"
	diff /payload/kmod/policy.expected /tmp/policy.got
fi

say "2. requests"
check_out "PROBE $NIC: NEEDS_HDS, COPY_FALLBACK, MAX_BINDINGS 16" \
	"^features=needs-hds,copy-fallback max_bindings=16$" vzclient probe $NIC
check_fails "PROBE lo: EOPNOTSUPP, with the reason" "^error EOPNOTSUPP: lo: .*queue management" \
	vzclient probe lo
check_fails "PROBE of no device: ENODEV" "^error ENODEV: no such device" vzclient probe 99999
check_fails "BIND before header split: EINVAL naming NEEDS_HDS" \
	"^error EINVAL: $NIC: tcp-data-split is not enabled \(NEEDS_HDS\)" vzclient bind $NIC 1 zxmv1
run ethtool -G $NIC tcp-data-split on hds-thresh 0
check_fails "BIND queue 9 of 4: ERANGE" "^error ERANGE: $NIC has 4 RX queues, there is no queue 9" \
	vzclient bind $NIC 9 zxmv1
check_fails "BIND to a tap that is no macvtap: EINVAL" "^error EINVAL: $PEER is not a macvtap" \
	vzclient bind $NIC 1 $PEER
run $IP link add link $PEER name zxmvp address 52:54:00:90:00:09 type macvtap mode bridge
check_fails "BIND to a macvtap on another NIC: EINVAL" \
	"^error EINVAL: the lower device of zxmvp is not $NIC" vzclient bind $NIC 1 zxmvp
run $IP link del zxmvp
check_fails "BIND to no tap: ENODEV" "^error ENODEV: no such tap device" vzclient bind $NIC 1 99999
check_out "BIND queue 1 to zxmv1" "^id=[0-9]+$" vzclient bind $NIC 1 zxmv1
id=$(sed -n 's/^id=//p' "$OUT")
check_out "GET: degraded, EOPNOTSUPP, '$NO_DATA_PATH'" \
	"^id=$id nic=$NIC queue=1 tap=zxmv1 fallback=drop state=degraded reason=EOPNOTSUPP .*msg='$NO_DATA_PATH'$" \
	vzclient get "$id"
check_fails "BIND queue 1 again: EEXIST" "^error EEXIST: queue 1 of $NIC is already bound \(binding $id\)" \
	vzclient bind $NIC 1 zxmv1
# STATS: RX_PACKETS are the queue's own counters since the bind
run ethtool -K $NIC ntuple on
run ethtool -N $NIC flow-type ether dst $M1 action 1 loc 3
frames $M1 32 udp 198.18.0.2 9 40000
landed "1" "frames for zxmv1's MAC land on queue 1 (a rule)"
check_out "GET: RX_PACKETS counts the 32 frames the queue received since BIND" \
	"^id=$id .* rx_packets=32 rx_bytes=[1-9][0-9]* zc_packets=0 copy_packets=0 " vzclient get "$id"
run ethtool -N $NIC delete 3
echo 1 > /sys/module/vhost_zcrx/parameters/max_bindings
check_fails "a second BIND with max_bindings=1: ENOSPC" "^error ENOSPC: $NIC has 1 bindings" \
	vzclient bind $NIC 2 zxmv1
echo 16 > /sys/module/vhost_zcrx/parameters/max_bindings
check_out "UNBIND" "^unbound$" vzclient unbind "$id"
check_fails "UNBIND again: ENOENT" "^error ENOENT: no such binding" vzclient unbind "$id"
check_fails "GET of no binding: ENOENT" "^error ENOENT: no such binding" vzclient get "$id"
vzclient malformed $NIC zxmv1 < /payload/kmod/cases > /tmp/malformed.out 2>&1
rc=$?
n=$(grep -c . /payload/kmod/cases)
if [ $rc -eq 0 ] && grep -q "^malformed: $n cases, $n refused as expected$" /tmp/malformed.out; then
	ok "$n malformed requests from the header's tables: EINVAL (ERANGE out of range), extack, the attribute named"
else
	nok "malformed requests" "exit $rc"
	grep -v '^ok' /tmp/malformed.out
fi
check_out "no binding left" "^bindings=0$" vzclient dump

say "3. STATE_NTF"
run macvtap zxmv2 52:54:00:90:00:02
check_out "BIND queue 2 to zxmv2" "^id=[0-9]+$" vzclient bind $NIC 2 zxmv2
id=$(sed -n 's/^id=//p' "$OUT")
run ntf_wait "$id" gone
run $IP link del zxmv2
ntf_got "the tap deleted: STATE_NTF BROKEN ENODEV, the binding gone" \
	"^event gone id=$id state=broken reason=ENODEV msg='tap zxmv2 went away'$"
check_fails "...and GET says so" "^error ENOENT" vzclient get "$id"

check_out "BIND queue 3 to zxmv1" "^id=[0-9]+$" vzclient bind $NIC 3 zxmv1
id=$(sed -n 's/^id=//p' "$OUT")
run ntf_wait "$id" broken
run ethtool -L $NIC combined 2
ntf_got "RX queues 4 -> 2: STATE_NTF BROKEN ERANGE" \
	"^event state id=$id state=broken reason=ERANGE msg='queue 3 is gone: $NIC has 2 RX queues now'$"
check_out "...the binding stays, broken, until UNBIND" "^id=$id .*state=broken reason=ERANGE" \
	vzclient get "$id"
run vzclient unbind "$id"
run ethtool -L $NIC combined 4

check_out "BIND queue 3 to zxmv1" "^id=[0-9]+$" vzclient bind $NIC 3 zxmv1
id=$(sed -n 's/^id=//p' "$OUT")
run ntf_wait "$id" broken
mkfifo /tmp/zc.fifo
zxsim zcrx $NIC 3 sh -c 'echo held; read -r x < /tmp/zc.fifo' > /tmp/zc.out 2>&1 &
ZCPID=$!
check "an io_uring zcrx consumer registers on queue 3" poll 30 grep -q '^held' /tmp/zc.out
ntf_got "a foreign provider on the bound queue: STATE_NTF BROKEN EBUSY" \
	"^event state id=$id state=broken reason=EBUSY msg='queue 3 of $NIC was taken by a memory provider"
run vzclient unbind "$id"
check_fails "BIND while the consumer holds the queue: EBUSY, named" \
	"^error EBUSY: queue 3 of $NIC already has a memory provider" vzclient bind $NIC 3 zxmv1
echo go > /tmp/zc.fifo
wait $ZCPID
check_out "the consumer gone, BIND queue 3 works again" "^id=[0-9]+$" vzclient bind $NIC 3 zxmv1
run vzclient unbind "$(sed -n 's/^id=//p' "$OUT")"

say "4. zcrxd with the module"
check "vhost_zcrx unloaded (no binding left)" rmmod vhost_zcrx
zcrxd_fresh
check "zcrxd starts with [nic $NIC] ReserveQueues=2" zcrxd_start "[daemon]
ReconcileIntervalSec=0
[nic $NIC]
ReserveQueues=2"
check_out "zcrxd resolved the family" '"available":true' ctl --json=short status
check "...and its lookup autoloaded vhost_zcrx (request_module -> modprobe)" loaded
vm_xml vm90 90 $M1,zxmv1,1
run attach vm90
att_vars vm90
q=$AQ
is "vm90 leases one pool queue" "$(echo "$q" | grep -cE '^[23]$')" 1
r=$AR
check_out "zcrxd's BIND went through the family: the module holds queue $q to zxmv1" \
	"^id=[0-9]+ nic=$NIC queue=$q tap=zxmv1 .*state=degraded" vzclient dump
bid=$(bound_id "$q")
check_out "zcrxctl list: degraded, with the module's reason" \
	"is degraded: $NO_DATA_PATH" ctl list --domain vm90
is "...its binding: degraded, EOPNOTSUPP, the module's words" \
	"$(att vm90 '.bindings[0] | "\(.id) \(.state) \(.errno_name) \(.message)"')" \
	"$bid degraded EOPNOTSUPP $NO_DATA_PATH"
is "zcrxd never calls it zero-copy (zcrx_attachment_zero_copy)" \
	"$(ctl metrics | sed -n 's/^zcrx_attachment_zero_copy{domain="vm90".*} //p')" 0
check_out "queue-get shows no provider on queue $q (7.3 lets no module bind one: README)" \
	"^rx $q( napi=[0-9]+)?\$" zxsim queues $NIC
frames $M1 32 udp 198.18.0.2 9 41000
landed "$q" "vm90's frames land on its queue"
# the metrics read the module's bindings now (a GET dump): its STATS nest
stats() {
	ctl metrics | awk -v d="domain=\"vm90\"" '/^zcrx_binding_(rx|zc)_packets_total[{]/ &&
		index($1, d) { split($1, n, "{"); printf "%s=%s ", n[1], $2 }'
}
is "zcrxd's metrics carry the module's STATS: the 32 frames received, none zero-copy" \
	"$(stats)" "zcrx_binding_rx_packets_total=32 zcrx_binding_zc_packets_total=0 "

run ctl --json=short detach vm90
cp "$OUT" /tmp/detach.json
jchecks /tmp/detach.json "detach: UNBIND comes before the rule is deleted" \
	'[.plans[0].ops[].kind] | (index("unbind") < index("delete-rule"))'
check_out "...and the module holds nothing" "^bindings=0$" vzclient dump
is "...and the rule is gone" "$(rules $NIC)" ""

say "4b. a queue bound by someone else; rmmod, insmod, kill -9"
# both pool queues taken through the family by another client: whichever
# zcrxd leases, its BIND is refused EEXIST
run vzclient bind $NIC 2 zxmv1
f2=$(sed -n 's/^id=//p' "$OUT")
run vzclient bind $NIC 3 zxmv1
f3=$(sed -n 's/^id=//p' "$OUT")
run attach vm90
att_vars vm90
q=$AQ
r=$AR
check_out "zcrxd's BIND of queue $q refused EEXIST: zcrxctl list shows the module's words" \
	"^EEXIST no zero-copy: vhost_zcrx refused to bind queue $q: queue $q of $NIC is already bound \(binding ($f2|$f3)\)$" \
	att vm90 '.reasons[] | select(.op == "bind") | "\(.errno_name) \(.message)"'
check "...steered all the same: zcrxd's rule ${r:-(none)} is the NIC's" test -n "$r" -a "$(rules $NIC)" = "$r"
run vzclient unbind "$f2"
run vzclient unbind "$f3"
run ctl reconcile
bid=$(bound_id "$q")
check "the queues free again, zcrxctl reconcile: zcrxd binds queue $q (binding $bid)" test -n "$bid"
check "rmmod vhost_zcrx with a binding (zcrxd running)" rmmod vhost_zcrx
gone() { ctl --json=short status | grep -q '"available":false'; }
check "zcrxd says the module went away" poll 30 gone
check_out "...in its log" "kernel module vhost_zcrx went away" cat $D/zcrxd.log
check_out "...and on the attachment" "kernel module vhost_zcrx not available" ctl list --domain vm90
is "the steering stays: vm90's rule" "$(rules $NIC)" "$r"
frames $M1 32 udp 198.18.0.2 9 42000
landed "$q" "...and vm90's frames still land on its queue"
check "zcrxd did not load the module back (no resolve loop)" test ! -d /sys/module/vhost_zcrx

check "insmod vhost_zcrx" insmod $KO
bound_again() { test -n "$(bound_id "$q")"; }
check "zcrxd follows the family appearing (nlctrl NEWFAMILY) and binds vm90's queue" \
	poll 30 bound_again
bid=$(bound_id "$q")
check_out "...zcrxd's log says so" "kernel module vhost_zcrx is available" cat $D/zcrxd.log
shown() { ctl list --domain vm90 | grep -q "binding $bid on queue $q is degraded: $NO_DATA_PATH"; }
check "...and zcrxctl list shows binding $bid degraded, with the reason" poll 30 shown

zcrxd_kill
run zcrxd_start "[daemon]
ReconcileIntervalSec=0
[nic $NIC]
ReserveQueues=2"
is "kill -9 and restart: zcrxd adopted binding $bid from the dump" \
	"$(att vm90 '.bindings[0].id')" "$bid"
check_out "...and made no other" "^bindings=1$" vzclient dump

say "4c. the macvtap deleted"
ctl monitor --json > /tmp/mon.out 2>&1 &
MPID=$!
# the stream is live once it shows a config-reloaded event: a SIGHUP a second
# until then (the monitor prints nothing before its first event)
HUPS=0
mon_live() {
	grep -q '"config-reloaded"' /tmp/mon.out && return 0
	HUPS=$((HUPS + 1))
	[ $((HUPS % 20)) = 1 ] && kill -HUP "$ZPID"
	return 1
}
run poll 60 mon_live
run $IP link del zxmv1
mon_gone() { grep -q '"binding-gone"' /tmp/mon.out; }
check "the macvtap deleted: zcrxd's Monitor shows the module's STATE_NTF (binding-gone)" \
	poll 30 mon_gone
is "...broken, ENODEV, in the module's words" \
	"$(grep -m1 '"binding-gone"' /tmp/mon.out | jq -r '"\(.state) \(.reason) \(.message)"')" \
	"broken ENODEV tap zxmv1 went away"
kill $MPID
wait $MPID 2>/dev/null
check_out "...and the module holds nothing" "^bindings=0$" vzclient dump
run macvtap zxmv1 $M1
run ctl reconcile
rebound() { test -n "$(bound_id "$q")"; }
check "a new macvtap with vm90's MAC: bound again" poll 30 rebound
bid=$(bound_id "$q")

say "4d. an io_uring zcrx consumer takes vm90's queue"
zxsim zcrx $NIC "$q" sh -c 'echo held; read -r x < /tmp/zc.fifo' > /tmp/zc.out 2>&1 &
ZCPID=$!
check "an io_uring zcrx consumer takes vm90's queue $q" poll 30 grep -q '^held' /tmp/zc.out
named() {
	ctl list --domain vm90 > /tmp/list.out 2>&1
	grep -q "refused to bind queue $q: queue $q of $NIC already has a memory provider" /tmp/list.out
}
check "zcrxd: broken (EBUSY), unbound, BIND refused EBUSY, the holder named" poll 60 named
is "...vm90 keeps its queue and rule" "$(att vm90 '.queues[0]') $(rules $NIC)" "$q $r"
check_out "...the module holds nothing on it" "^bindings=0$" vzclient dump
echo go > /tmp/zc.fifo
wait $ZCPID
back() { test -n "$(bound_id "$q")"; }
check "the consumer gone: zcrxd binds vm90's queue again, no manual step" poll 60 back
check "zcrxd stops cleanly" zcrxd_stop
show_log

say "5. the NIC unregistered under a binding; unloading with bindings"
check_out "BIND queue 1 to zxmv1" "^id=[0-9]+$" vzclient bind $NIC 1 zxmv1
id2=$(sed -n 's/^id=//p' "$OUT")
run ntf_wait "$id2" gone
# moved to another namespace, the NIC is unregistered here while its macvtap
# stays (deleting the NIC would take the macvtap first)
run $IP netns add zxv90
run $IP link set $NIC netns zxv90
ntf_got "the NIC unregistered (moved to another netns): STATE_NTF BROKEN ENODEV" \
	"^event gone id=$id2 state=broken reason=ENODEV msg='NIC $NIC went away'$"
sim_unpair
run $IP netns del zxv90
run sim_pair 4
run macvtap zxmv1 $M1
run ethtool -G $NIC tcp-data-split on hds-thresh 0
run vzclient bind $NIC 1 zxmv1
run vzclient bind $NIC 2 zxmv1
check "rmmod with two bindings" rmmod vhost_zcrx
check "the module is gone" test ! -d /sys/module/vhost_zcrx
check "the NIC and tap go away without waiting for a reference (no leak)" sim_unpair
finish
