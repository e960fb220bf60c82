#!/bin/sh
# SPDX-License-Identifier: MIT
# boots: zx
#
# The demo's part two (`make demo`, docs/demo.txt), and the checks that what
# it shows is true: zcrxd and zcrxctl doing the whole job on netdevsim-zx.
# Lines "| TEXT" are the transcript (tests/sim-nic/transcript.sh renders
# them), "S TEXT" its closing summary; every claim the transcript makes is
# an "ok"/"not ok" check on the same data, so the sim-nic tier checks the
# demo on every run.
#   1. the capability matrix (zcrxctl nics)
#   2. a vNIC's frames before its attach (default RSS over the shared
#      queues) and after (its leased queue only): per-queue histograms of
#      the driver's counters
#   3. a 2-queue vNIC behind an RSS context: its frames over its 2 queues
#   4. zcrxctl attach --dry-run, reconcile (a rule deleted by hand put back)
#      and plan, with the ethtool lines
#   5. a host lease bound by an io_uring zcrx registration
#   6. zcrxctl release: ethtool -x / -n before and after, the NIC as it was
. /payload/guest/lib.sh
NIC=zxn0
PEER=zxp0
M1=52:54:00:de:00:01
M2=52:54:00:de:00:02
M3=52:54:00:de:00:03
export ZCRX_SOCKET=$D/run/io.zcrx.Manager
POOL="4 5 6 7"
SHARED="0 1 2 3"

# tx LINE... — transcript lines; txf FILE — a file's lines, indented.
tx() { for l in "$@"; do printf '| %s\n' "$l" >&3; done; }
txf() { sed 's/^/|   /' "$1" >&3; }
# summary LINE — a line of the closing "what you just saw".
summary() { printf 'S %s\n' "$1" >&3; }
# section N TITLE
section() { tx "" "--- $1. $2"; }
# show CMD... — "$ CMD" and its output in the transcript; CMD's exit status.
# show_as TEXT CMD... — the same, the command shown as TEXT (a redirection,
# or iproute2's ip by its usual name).
show() { show_as "$*" "$@"; }
show_as() {
	local rc text=$1
	shift
	tx "\$ $text"
	"$@" > /tmp/show.out 2>&1
	rc=$?
	txf /tmp/show.out
	[ $rc = 0 ] || tx "  (exit $rc)"
	return $rc
}

# show_x [CONTEXT] — ethtool -x $NIC [context CONTEXT], its table cut to
# the first two rows and the queues it spreads over.
show_x() {
	local t
	tx "\$ ethtool -x $NIC${1:+ context $1}"
	ethtool -x $NIC ${1:+context $1} > /tmp/x.out 2>&1
	t=$(table $NIC "$@")
	awk '/indirection table/ { print "|   " $0 } /^ *[0-9]+:/ && n++ < 2 { print "|   " $0 }' \
		/tmp/x.out >&3
	tx "      ...   ($(echo "$t" | tr ',' '\n' | wc -l) entries over queues $(spread "$t"))"
}

# vnic TAP MAC — the macvtap libvirt makes for a type='direct' vNIC.
vnic() {
	show_as "ip link add link $NIC name $1 address $2 type macvtap mode bridge" macvtap "$1" "$2"
}

# label Q — what queue Q is for, as zcrxd's listing says: the attachment
# that leases it, else pool or shared; "" before zcrxd carved the NIC.
LEASED=
label() {
	local l
	for l in $LEASED; do
		[ "${l%%:*}" = "$1" ] && { echo "${l#*:}"; return; }
	done
	case " $CARVED " in
	" yes ") case " $POOL " in *" $1 "*) echo pool ;; *) echo shared ;; esac ;;
	*) echo "" ;;
	esac
}
CARVED=no

# hist DELTA — the per-queue histogram of "q0=N ... drop=N": one bar per
# RX queue (40 columns for the busiest), its label and count.
hist() {
	local q n w lab
	w=$(echo "$1" | tr ' ' '\n' | awk -F= '$2 > m { m = $2 } END { print m + 0 }')
	for kv in $1; do
		q=${kv%%=*}
		n=${kv#*=}
		[ "$q" = drop ] && [ "$n" = 0 ] && continue
		lab=$(label "${q#q}")
		printf '|   %-4s %-11s %s %5d\n' "$q" "$lab" \
			"$(awk -v n="$n" -v m="$w" 'BEGIN { b = m ? int(n * 40 / m + 0.5) : 0
				if (n && !b) b = 1; s = ""; for (i = 0; i < 40; i++) s = s (i < b ? "#" : ".")
				print s }')" "$n" >&3
	done
}

# burst DESC MAC COUNT PROTO DPORT SPORT — the peer sends COUNT frames (udp
# or tcp, to 198.18.0.2 port DPORT, one flow each: source ports SPORT...)
# to MAC; the transcript shows the command and the histogram.  Sets DELTA
# (every queue) and GOT (the non-zero ones).
burst() {
	local before
	tx "\$ zxsim send $PEER $2 $3 $4 198.18.0.2 $5 $6    # $1"
	before=$(zxsim counters $NIC) || return 1
	frames "$2" "$3" "$4" 198.18.0.2 "$5" "$6" || { tx "  (not every frame arrived)"; return 1; }
	DELTA=$(qsub "$(zxsim counters $NIC)" "$before")
	tx "  frames per RX queue of $NIC (netdevsim-zx's counters in debugfs):"
	hist "$DELTA"
}

# queues_owned DOMAIN — "Q:DOMAIN" for each queue the domain leases.
queues_owned() {
	local q
	for q in $(att "$1" '.queues | join(" ")'); do printf '%s:%s ' "$q" "$1"; done
}

run sim_pair 8 || exit 1
dump $NIC /tmp/pristine
tx "The guest: Linux $(uname -r), under QEMU/TCG. netdevsim-zx: the kernel's netdevsim" \
	"built from linux-source with the project's extension (n-tuple rules, RSS tables" \
	"and contexts, per-queue counters, memory-provider page pools). The driver is" \
	"simulated; ethtool, RSS contexts, n-tuple rules, netdev and io_uring are the" \
	"kernel's own code." \
	"" \
	"\$ echo '10 1 8' > /sys/bus/netdevsim/new_device    # $NIC: the NIC zcrxd manages, 8 queues" \
	"\$ echo '11 1 8' > /sys/bus/netdevsim/new_device    # $PEER: the other end of the wire" \
	"\$ echo '...' > /sys/bus/netdevsim/link_device       # what $PEER sends, $NIC receives"

section 1 "What the NIC can do: zcrxctl nics"
tx "The NIC before zcrxd starts (section 6 compares these dumps with the ones after release):"
show_x
show ethtool -n $NIC
# the vhost_zcrx reference module (tests/kmod), installed for this script
# only: the tier's other scripts in this boot must not autoload it
KVER=$(uname -r)
BINDER=
# kmod_gone — the module unloaded and uninstalled again
kmod_gone() {
	{ [ ! -d /sys/module/vhost_zcrx ] || rmmod vhost_zcrx; } &&
		rm -rf "/lib/modules/$KVER" /sbin/modprobe
}
if [ -d /payload/kmod/root ]; then
	cp -a /payload/kmod/root/. / || exit 1
	trap 'kmod_gone' EXIT
	BINDER=yes
	tx "" "The project's reference vhost_zcrx module, installed as a package would:" \
		"\$ cp vhost_zcrx.ko /lib/modules/$KVER/extra/ && depmod    # zcrxd's binder autoloads it" \
		"(it binds queues through the real generic netlink family, but it has no data path:" \
		"every binding is reported degraded, never zero-copy)"
fi
tx ""
zcrxd_fresh
CONF="[daemon]
ReconcileIntervalSec=0
AutoAttach=direct
[nic $NIC]
ReserveQueues=4"
tx "zcrxd's configuration: $NIC is its NIC, 4 of its 8 queues the pool it leases from;" \
	"no libvirt in this guest: the hook's call is made by hand below (AutoAttach=direct: every" \
	"macvtap vNIC of the domain it names), no reconcile timer" \
	"\$ cat $D/zcrxd.conf"
echo "$CONF" | sed 's/^/|   /' >&3
tx "\$ zcrxd --config $D/zcrxd.conf --libvirt-uri none &"
check "zcrxd starts with [nic $NIC] ReserveQueues=4" zcrxd_start "$CONF"
carved() { [ "$(spread "$(table $NIC)")" = "$SHARED" ]; }
check "zcrxd carves the pool: context 0 spreads over $SHARED only" poll 20 carved
CARVED=yes
show zcrxctl nics $NIC
run zcrxctl --json=short nics $NIC && cp "$OUT" /tmp/nic.json
jchecks /tmp/nic.json \
	"the matrix: channels, rings, header split, RSS, RSS contexts, n-tuple, rules, queue info, qstats: yes" \
	'.nic.capabilities | [.channels, .channels_set, .rings, .header_split, .hds_thresh, .rss,
	 .rss_set, .rss_contexts, .ntuple, .rules, .queue_info, .qstats] | all(has)'
[ -n "$BINDER" ] && jchecks /tmp/nic.json \
	"the matrix: binder yes (vhost_zcrx, autoloaded by zcrxd)" '.nic.capabilities.binder | has'
tx "(rows \"unknown\" are learned from the first rule of their kind: see section 6)"
summary "1. zcrxctl nics: $(jq -r '[.nic.capabilities | to_entries[] |
	select(.value.state? == "yes") | .key] | length' /tmp/nic.json) capabilities yes on netdevsim-zx$(
	jq -r '[.nic.capabilities | to_entries[] | select(.value.state? == "no") | .key] |
	if length > 0 then "; no: " + join(", ") else "" end' /tmp/nic.json)"

section 2 "A vNIC's frames, before and after its attach"
tx "A VM with one virtio vNIC ($M1), a macvtap on $NIC as libvirt makes it:"
vnic zxmv1 $M1
vm_xml demo-vm1 91 $M1,zxmv1,1
tx "its domain XML, what libvirt hands the hook:" \
	"  $(grep -o "<interface.*</interface>" /tmp/demo-vm1.xml)"
tx "" "Before the attach: default RSS spreads the vNIC's flows over the shared queues."
burst "128 frames (128 flows) to the vNIC" $M1 128 udp 9 40000
within "before the attach, the vNIC's frames spread over the shared queues $SHARED" "$SHARED"
nb=$(echo "$(queues_of "$GOT")" | wc -w)
check "before the attach they land on more than one shared queue ($GOT)" [ "$nb" -gt 1 ]
before1=$GOT
tx "" "The attach, as the libvirt hook runs it when the VM starts:"
show_as "zcrxctl attach --domain-xml - -- demo-vm1 < demo-vm1.xml" \
	sh -c "zcrxctl attach --domain-xml - -- demo-vm1 < /tmp/demo-vm1.xml" &&
	ok "zcrxctl attach demo-vm1" || nok "zcrxctl attach demo-vm1"
q1=$(att demo-vm1 '.queues | join(" ")')
r1=$(att demo-vm1 '.rules | join(" ")')
LEASED=$(queues_owned demo-vm1)
show zcrxctl list
show ethtool -n $NIC
burst "the same 128 frames again" $M1 128 udp 9 40000
landed "$q1" "after the attach, every frame for demo-vm1 lands on its leased queue $q1"
summary "2. demo-vm1's 128 flows: before the attach over shared queues ($before1); after it all on leased queue $q1 ($GOT), by n-tuple rule $r1"

section 3 "A 2-queue vNIC behind an RSS context"
vnic zxmv2 $M2
vm_xml demo-vm2 92 $M2,zxmv2,2
tx "(its domain XML says <driver queues='2'/>)"
show_as "zcrxctl attach --domain-xml - -- demo-vm2 < demo-vm2.xml" \
	sh -c "zcrxctl attach --domain-xml - -- demo-vm2 < /tmp/demo-vm2.xml" &&
	ok "zcrxctl attach demo-vm2" || nok "zcrxctl attach demo-vm2"
q2=$(att demo-vm2 '.queues | join(" ")')
c2=$(att demo-vm2 '.rss_context')
LEASED="$LEASED$(queues_owned demo-vm2)"
show_x "$c2"
is "the kernel holds demo-vm2's RSS context $c2, over its queues $q2" \
	"$(spread "$(table $NIC "$c2")")" "$q2"
burst "128 flows to the 2-queue vNIC" $M2 128 udp 9 41000
landed "$q2" "demo-vm2's frames split over its two queues $q2 only"
summary "3. demo-vm2 (2 queues): RSS context $c2 over queues $q2; its 128 flows split $GOT"

section 4 "zcrxd's ops as ethtool lines: attach --dry-run, reconcile, plan"
vnic zxmv3 $M3
dump $NIC /tmp/before-dry
vm_xml demo-vm3 93 $M3,zxmv3,1
tx "A third VM's vNIC ($M3): what would its attach do? (--dry-run changes nothing)"
show_as "zcrxctl attach --dry-run --domain-xml - -- demo-vm3 < demo-vm3.xml" \
	sh -c "zcrxctl attach --dry-run --domain-xml - -- demo-vm3 < /tmp/demo-vm3.xml"
nd=$(grep -c '^ *\$ ethtool' /tmp/show.out)
dump $NIC /tmp/after-dry
dump_same "attach --dry-run changed nothing on the NIC" /tmp/before-dry /tmp/after-dry
# (netdevsim-zx picks rule slots: the line says its slot is not exact)
check_out "the dry run names the ethtool command for the MAC rule" \
	"\\\$ ethtool -N $NIC flow-type ether dst $M3 action [0-9]+(  # not exact: zcrxd asks the driver for its last slot .*)?\$" \
	cat /tmp/show.out
tx "" "Someone deletes demo-vm1's rule by hand. A rule change raises no kernel notification and" \
	"this zcrxd has no reconcile timer: zcrxctl reconcile reads the NIC now, finds the rule gone" \
	"and puts it back, printing the op with its ethtool line:"
show ethtool -N $NIC delete $r1
show zcrxctl reconcile $NIC
check_out "zcrxctl reconcile: demo-vm1's rule put back, with its ethtool line (queue $q1)" \
	"\\\$ ethtool -N $NIC flow-type ether dst $M1 action $q1(  # not exact: zcrxd asks the driver for its last slot .*)?\$" \
	cat /tmp/show.out
rule_back() { ethtool -n $NIC | grep -A4 -i "Dest MAC addr: $M1" | grep -q "Direct to queue $q1\$"; }
check "the kernel has demo-vm1's rule again, to queue $q1" rule_back
show zcrxctl plan $NIC
check_out "zcrxctl plan: nothing left to do" 'nothing to do' cat /tmp/show.out
summary "4. attach --dry-run printed $nd ethtool line(s) and changed nothing; demo-vm1's rule, deleted by hand, put back by zcrxctl reconcile; then plan: nothing to do"

section 5 "A host lease, bound by io_uring zero-copy receive"
zcrxctl monitor > /tmp/events.txt 2>&1 &
MON=$!
monitoring() { [ "$(zcrxctl --json=short status | jq '.monitors')" -ge 1 ] 2> /dev/null; }
check "zcrxctl monitor is subscribed (zcrxctl status counts its stream)" poll 20 monitoring
tx "A server on this host wants TCP port 9000 on a queue of its own, zero-copy." \
	"(zcrxctl monitor runs meanwhile: its events are shown at the end of this section)"
show zcrxctl lease $NIC --flow tcp:dport=9000 --name web &&
	ok "zcrxctl lease $NIC --flow tcp:dport=9000" || nok "zcrxctl lease $NIC"
lease_state() {
	zcrxctl --json=short leases 2> /dev/null |
		jq -r '.leases[] | select(.name == "web") | .state' 2> /dev/null
}
lease_is() { [ "$(lease_state)" = "$1" ]; }
ql=$(zcrxctl --json=short leases | jq -r '.leases[] | select(.name == "web") |
	.queues | join(" ")')
LEASED="$LEASED$(for q in $ql; do printf '%s:web ' "$q"; done)"
is "the new lease waits for its consumer" "$(lease_state)" waiting
show zcrxctl leases
burst "128 TCP flows to port 9000 on this host ($NIC's MAC)" "$(mac_of $NIC)" 128 tcp 9000 43000
landed "$ql" "the lease's flow lands on its queue $ql only"
lgot=$GOT
tx "" "The consumer registers io_uring zero-copy receive on the lease's queue:"
rm -f /tmp/consumer.fifo
mkfifo /tmp/consumer.fifo
tx "\$ zxsim zcrx $NIC $ql cat < fifo &    # io_uring_setup, IORING_REGISTER_ZCRX_IFQ on queue $ql; held while cat runs"
zxsim zcrx $NIC "$ql" cat < /tmp/consumer.fifo > /tmp/consumer.out 2>&1 &
CONSUMER=$!
exec 6> /tmp/consumer.fifo
poll 20 lease_is bound
txf /tmp/consumer.out
is "zcrxd sees the registration: the lease is bound" "$(lease_state)" bound
show zcrxctl leases
show_as "zxsim queues $NIC | grep io-uring    # netdev queue-get, the kernel's view" \
	sh -c "zxsim queues $NIC | grep io-uring"
tx "" "The consumer exits (its ring closes, the kernel takes the memory provider off queue $ql):"
exec 6>&-
wait $CONSUMER
check "zcrxd sees the consumer gone: the lease is unbound" poll 20 lease_is unbound
show zcrxctl leases
show zcrxctl unlease web && ok "zcrxctl unlease web" || nok "zcrxctl unlease web"
gone() { [ -z "$(lease_state)" ]; }
check "the lease is gone" poll 20 gone
LEASED=$(echo "$LEASED" | tr ' ' '\n' | grep -v ':web$' | tr '\n' ' ')
released() { grep -q "lease-released.*web" /tmp/events.txt; }
check "zcrxctl monitor saw the lease released" poll 20 released
kill $MON
wait $MON 2> /dev/null
tx "What zcrxctl monitor printed meanwhile:"
grep "lease-" /tmp/events.txt > /tmp/lease-events.txt
txf /tmp/lease-events.txt
is "the lease went waiting, bound, unbound, released" \
	"$(sed -n 's/.* on [^:]*: \([a-z]*\).*/\1/p' /tmp/lease-events.txt | tr '\n' ' ')" \
	"waiting bound unbound released "
summary "5. lease 'web' (tcp:dport=9000) on queue $ql: $(sed -n 's/.* on [^:]*: \([a-z]*\).*/\1/p' /tmp/lease-events.txt | tr '\n' ' ' | sed 's/ $//; s/ / -> /g'); its 128 flows: $lgot"

section 6 "zcrxctl release: the NIC as it was"
tx "What the rules zcrxd made taught it (rows that said unknown in section 1):"
show_as "zcrxctl nics $NIC | grep -E '^(CAP|l2_|ip_|flow_|ether-|flow4-|flow6-)'" \
	sh -c "zcrxctl nics $NIC | grep -E '^(CAP|l2_|ip_|flow_|ether-|flow4-|flow6-)'"
run zcrxctl --json=short nics $NIC && cp "$OUT" /tmp/nic2.json
jchecks /tmp/nic2.json \
	"learned from the rules made: MAC rules yes, to a queue and to an RSS context" \
	'.nic.capabilities | (.l2_rules | has) and (.rule_kinds["ether-queue"] | has)
	 and (.rule_kinds["ether-context"] | has)'
jchecks /tmp/nic2.json \
	"learned from the lease's rules: TCP/UDP flow rules to a queue yes (IPv4)" \
	'.nic.capabilities.rule_kinds["flow4-queue"] | has'
tx "Before the release, with demo-vm1 and demo-vm2 attached:"
show_x
show ethtool -n $NIC
dump $NIC /tmp/before-release
rb=$(rules $NIC)
cb=$(contexts $NIC)
show zcrxctl release $NIC
LEASED=
CARVED=no
dump $NIC /tmp/after
tx "After it (section 1 showed them before zcrxd started):"
show_x
show ethtool -n $NIC
dump_same "release restored channels, rings, ntuple, rules and every RSS table" \
	/tmp/pristine /tmp/after
if cmp -s /tmp/pristine /tmp/after; then
	tx "ethtool -l/-g/-k/-n/-x and every RSS context: identical to before zcrxd started"
else
	tx "the NIC differs from before zcrxd started:"
	diff /tmp/pristine /tmp/after > /tmp/diff.out
	txf /tmp/diff.out
fi
burst "128 flows to demo-vm1's MAC, after the release" $M1 128 udp 9 42000
landed "$SHARED $POOL" "after release, default RSS reaches all 8 queues again"
summary "6. zcrxctl release: rule(s) $rb and RSS context(s) $cb gone; ethtool -l/-g/-k/-n/-x as before zcrxd ($(cmp -s /tmp/pristine /tmp/after && echo identical || echo DIFFERENT))"
check "zcrxd stops cleanly" zcrxd_stop
[ -n "$BINDER" ] &&
	check "vhost_zcrx unloaded and uninstalled: no later script's zcrxd autoloads it" kmod_gone
show_log
sim_unpair
finish
