# SPDX-License-Identifier: MIT
# guest/lib.sh — helpers for the sim-nic guest scripts (busybox ash, sourced).
#
# fd 3 is the result channel to the host (ttyS1, opened by /init): "ok - ..."
# and "not ok - ..." lines, "# ..." comments.  stdout and stderr go to the
# console (kept in console.log on the host): the output of a failed check is
# shown there.  $ZXS_NSIM says which netdevsim is loaded: stock or zx.
#
# busybox ash runs its own applets before anything on PATH, so `ip` is
# busybox's; /usr/sbin/ip is iproute2's (macvtap needs it).

PASS=0
FAIL=0
OUT=/tmp/check.out
IP=/usr/sbin/ip

# say TEXT — a comment line in the host's output.
say() { echo "# [$(cut -d" " -f1 /proc/uptime)s] $*" >&3; }

# ok DESC / nok DESC [REASON]
ok() { PASS=$((PASS + 1)); echo "ok - $1${TODO:+ # TODO $TODO}" >&3; }
nok() {
	FAIL=$((FAIL + 1))
	echo "not ok - $1${2:+ ($2)}${TODO:+ # TODO $TODO}" | tr -s '\n\t ' '   ' | sed 's/ $//' >&3
	echo >&3
	echo "--- not ok - $1${2:+ ($2)}"
}

# todo REASON ... todo "" — the checks in between fail for a bug filed
# elsewhere (REASON names it): a failure shows as "not ok ... # TODO" and
# does not fail the tier; a pass says the marker can go.
TODO=
todo() { TODO=$1; }

# check DESC CMD... — ok when CMD exits 0; else its output goes to the console.
check() {
	local desc=$1
	shift
	if "$@" > "$OUT" 2>&1; then
		ok "$desc"
	else
		nok "$desc" "exit $?"
		echo "--- \$ $*"
		cat "$OUT"
	fi
}

# check_out DESC PATTERN CMD... — CMD exits 0 and its output matches the
# extended regex PATTERN.
check_out() {
	local desc=$1 pat=$2 rc
	shift 2
	"$@" > "$OUT" 2>&1
	rc=$?
	if [ $rc -eq 0 ] && grep -Eq -- "$pat" "$OUT"; then
		ok "$desc"
	else
		nok "$desc" "exit $rc, wanted output matching /$pat/"
		echo "--- \$ $*"
		cat "$OUT"
	fi
}

# check_fails DESC PATTERN CMD... — CMD fails and its output matches PATTERN:
# a refusal, with its text, is what is being checked (the text is shown).
check_fails() {
	local desc=$1 pat=$2 rc
	shift 2
	"$@" > "$OUT" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -Eq -- "$pat" "$OUT"; then
		ok "$desc: $(grep -Em1 -- "$pat" "$OUT" | cut -c1-140)"
	else
		nok "$desc" "exit $rc, wanted a failure matching /$pat/"
		echo "--- \$ $*"
		cat "$OUT"
	fi
}

# is DESC GOT WANT — string equality, both shown on failure.
is() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		nok "$1" "got '$2', want '$3'"
	fi
}

# jchecks FILE DESC FILTER [DESC FILTER...] — jq assertions on one JSON
# document in a single jq run (jq's start-up is slow under TCG).
JQDEFS='def has: .state == "yes"; def unsup: .state == "no" and .errno == 95;'
jchecks() {
	local file=$1 prog= n=0 i=0 res r d bad=0
	shift
	while [ $# -ge 2 ]; do
		n=$((n + 1))
		eval "JD_$n=\$1"
		prog="$prog${prog:+, }(try ($2) catch false)"
		shift 2
	done
	res=$(jq -r "$JQDEFS [$prog] | map(if . == true then \"1\" else \"0\" end) | join(\" \")" \
		"$file" 2>&1)
	if ! echo "$res" | grep -Eqx '[01]( [01])*' || [ "$(echo "$res" | wc -w)" -ne $n ]; then
		echo "--- jq on $file: $res"
		res=$(seq $n | sed 's/.*/0/')
	fi
	for r in $res; do
		i=$((i + 1))
		eval "d=\$JD_$i"
		if [ "$r" = 1 ]; then
			ok "$d"
		else
			nok "$d" "false on $file"
			bad=1
		fi
	done
	if [ $bad = 1 ]; then
		echo "--- $file"
		cut -c1-4000 "$file"
	fi
}

# jq1 FILE FILTER — one value out of a JSON file (empty on error).
jq1() { jq -r "$2" "$1" 2>/dev/null; }

# run CMD... — a step later checks depend on; its failure is a failed check.
run() {
	"$@" > "$OUT" 2>&1 && return 0
	nok "step: $*" "exit $?"
	cat "$OUT"
	return 1
}

# poll SECONDS CMD... — run CMD until it succeeds (0) or SECONDS pass (1).
# The short pause is between tries of a condition, never a wait in place of
# one.
poll() {
	local n=$(($1 * 20))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.05
		n=$((n - 1))
	done
	return 1
}

# finish — the script's exit status.
finish() { [ "$FAIL" -eq 0 ]; }

# ---- netdevsim ---------------------------------------------------------------

SIM_ID=${SIM_ID:-10}

# The RSS key every netdevsim-zx port gets from sim_pair.  The driver starts
# with a random key, and a check that frames spread over a vNIC's queues
# must not depend on the boot's dice: the frames of one check differ only
# in the low bits of their source port, so one bit of the Toeplitz hash
# picks the queue of a 2-queue table, and about 1 random key in 100 sends
# all of them to one queue (seen: "got 'q2=64'").  With this key each
# check's spread is the same on every run (rsspkt predict shows it).
ZX_KEY=6d:5a:56:da:25:5b:0e:c2:41:67:25:3d:43:a3:8f:b0:d0:ca:2b:cb:ae:7b:30:b4:77:cb:2d:a3:80:30:f2:0c:6a:42:b7:3b:be:ac:01:fa

# sim_pair QUEUES — two new netdevsim devices of one port and QUEUES queues
# each, linked (frames one sends, the other receives), up, named by the
# caller's $NIC (the device zcrxd manages) and $PEER (the sender); on
# netdevsim-zx, $NIC's RSS key is $ZX_KEY.
sim_pair() {
	local q=$1 a b d
	a=$SIM_ID
	b=$((SIM_ID + 1))
	SIM_ID=$((SIM_ID + 2))
	echo "$a 1 $q" > /sys/bus/netdevsim/new_device || return 1
	echo "$b 1 $q" > /sys/bus/netdevsim/new_device || return 1
	for d in $a $b; do
		poll 5 test -n "$(ls /sys/bus/netdevsim/devices/netdevsim$d/net/ 2>/dev/null)" || return 1
	done
	$IP link set "$(ls /sys/bus/netdevsim/devices/netdevsim$a/net/)" name "$NIC" || return 1
	$IP link set "$(ls /sys/bus/netdevsim/devices/netdevsim$b/net/)" name "$PEER" || return 1
	exec 5< /proc/self/ns/net
	echo "5:$(cat /sys/class/net/$NIC/ifindex) 5:$(cat /sys/class/net/$PEER/ifindex)" \
		> /sys/bus/netdevsim/link_device || return 1
	exec 5<&-
	$IP link set "$NIC" up && $IP link set "$PEER" up || return 1
	SIM_DEVS="$SIM_DEVS $a $b"
	if zx_knob "$NIC" rule_capacity > /dev/null 2>&1; then
		ethtool -X "$NIC" hkey "$ZX_KEY" || return 1
		[ "$(hkey "$NIC")" = "$ZX_KEY" ] || { echo "sim_pair: $NIC's RSS key is not ZX_KEY"; return 1; }
	fi
}

# sim_unpair — remove the devices sim_pair made.
sim_unpair() {
	local d
	for d in $SIM_DEVS; do
		echo "$d" > /sys/bus/netdevsim/del_device
	done
	SIM_DEVS=
}

# zx_knob IFNAME NAME [VALUE] — read or set netdevsim-zx's debugfs knob
# (rule_capacity, max_contexts, loc_special).
zx_knob() {
	local d p f
	d=$(basename "$(readlink "/sys/class/net/$1/device")")
	# phys_port_name "pN" is devlink's port number, the port index + 1
	p=$(($(sed 's/^p//' "/sys/class/net/$1/phys_port_name") - 1))
	f=/sys/kernel/debug/netdevsim/$d/ports/$p/zx/$2
	if [ $# -ge 3 ]; then echo "$3" > "$f"; else cat "$f"; fi
}

# ---- frames and counters ----------------------------------------------------

# mac_of IFNAME
mac_of() { cat "/sys/class/net/$1/address"; }

# qsub "q0=A q1=B" "q0=C q1=D" — per-key difference "q0=A-C q1=B-D".
qsub() {
	echo "$1" "|" "$2" | awk '{
		for (i = 1; i <= NF && $i != "|"; i++) { split($i, kv, "="); a[kv[1]] = kv[2]; o[++n] = kv[1] }
		for (i++; i <= NF; i++) { split($i, kv, "="); b[kv[1]] = kv[2] }
		for (i = 1; i <= n; i++) printf "%s%s=%d", (i > 1 ? " " : ""), o[i], a[o[i]] - b[o[i]]
		print "" }'
}

# qsum "q0=1 q1=2 drop=3" — the sum of every value (frames accounted for).
qsum() { echo "$1" | tr ' ' '\n' | awk -F= '{ s += $2 } END { print s + 0 }'; }

# nz "q0=1 q1=0 drop=0" — only the non-zero entries ("q0=1").
nz() { echo "$1" | tr ' ' '\n' | grep -v '=0$' | tr '\n' ' ' | sed 's/ $//'; }

# queues_of "q0=1 q2=3" — the queue numbers ("0 2"), drops left out.
queues_of() { echo "$1" | tr ' ' '\n' | sed -n 's/^q\([0-9]*\)=.*/\1/p' | tr '\n' ' ' | sed 's/ $//'; }

# frames DSTMAC COUNT [udp|tcp|raw [DSTIP [DPORT [SPORT]]]] — $PEER sends COUNT
# frames to DSTMAC; returns once $NIC's counters account for all of them.
# Sets GOT to the non-zero per-queue deltas ("q1=64" or "q2=30 q3=34",
# "drop=N" for a drop rule).  Returns 1 when they do not all arrive.
frames() {
	local before after d n=$2
	GOT=
	before=$(zxsim counters "$NIC") || return 1
	zxsim send "$PEER" "$@" || return 1
	if ! poll 20 frames_counted "$before" "$n"; then
		echo "frames: $NIC counted $(qsum "$(qsub "$(zxsim counters "$NIC")" "$before")") of $n"
		return 1
	fi
	after=$(zxsim counters "$NIC")
	d=$(qsub "$after" "$before")
	GOT=$(nz "$d")
}
frames_counted() { [ "$(qsum "$(qsub "$(zxsim counters "$NIC")" "$1")")" -ge "$2" ]; }

# landed DESC WANT_QUEUES — after frames: ok when the frames landed on
# exactly the queues WANT_QUEUES ("3" or "2 3"), each of them getting some.
landed() {
	if [ -n "$GOT" ] && [ "$(queues_of "$GOT")" = "$1" ] && ! echo "$GOT" | grep -q drop=; then
		ok "$2: $GOT"
	else
		nok "$2" "got '$GOT', want frames on queue(s) $1 only"
	fi
}

# within DESC QUEUES — after frames: ok when every frame landed on one of
# QUEUES ("0 1 2 3"), none dropped.
within() {
	local q bad=
	for q in $(queues_of "$GOT"); do
		case " $2 " in *" $q "*) ;; *) bad="$bad $q" ;; esac
	done
	if [ -n "$GOT" ] && [ -z "$bad" ] && ! echo "$GOT" | grep -q drop=; then
		ok "$1: $GOT"
	else
		nok "$1" "got '$GOT', want frames on queues $2 only"
	fi
}

# ---- ethtool dumps ------------------------------------------------------------

# table IFNAME [CONTEXT] — an RSS table as ethtool -x reads it: "0,1,2,3,0,..."
table() {
	ethtool -x "$1" ${2:+context $2} |
		awk '/^ *[0-9]+:/ { for (i = 2; i <= NF; i++) printf "%s%s", (n++ ? "," : ""), $i }
			END { print "" }'
}

# hkey IFNAME [CONTEXT] — an RSS key as ethtool -x reads it ("6d:5a:...").
hkey() {
	ethtool -x "$1" ${2:+context $2} | awk '/^RSS hash key:/ { getline; print; exit }'
}

# spread TABLE — the distinct queues of a table, sorted ("0 1 2 3").
spread() { echo "$1" | tr ',' '\n' | sort -un | tr '\n' ' ' | sed 's/ $//'; }

# rules IFNAME — the rule locations, lowest first ("5 7"), as ethtool -n lists them.
rules() { ethtool -n "$1" | sed -n 's/^Filter: \([0-9]*\)$/\1/p' | sort -n | tr '\n' ' ' | sed 's/ $//'; }

# contexts IFNAME — the RSS context ids the kernel holds ("1 2"), context 0 left out;
# ctx_ids the same out of `zxsim rss` output on stdin.
contexts() { zxsim rss "$1" | ctx_ids; }
ctx_ids() { awk '$2 != 0 { print $2 }' | tr '\n' ' ' | sed 's/ $//'; }

# dump IFNAME FILE — everything zcrxd may change on a NIC, as the kernel
# reports it: channels, rings (header split, hds-thresh), rx-ntuple-filter,
# every rule, every RSS table (context 0 and the others).
dump() {
	{
		echo "== channels"
		ethtool -l "$1" | sed -n '/^Current/,$p'
		echo "== rings"
		ethtool -g "$1" | sed -n '/^Current/,$p'
		echo "== features"
		ethtool -k "$1" | grep -E '^ntuple-filters'
		echo "== rules"
		ethtool -n "$1"
		echo "== rss"
		zxsim rss "$1"
	} > "$2" 2>&1
}

# dump_same DESC A B — ok when two dumps are the same; else the diff.
dump_same() {
	if cmp -s "$2" "$3"; then
		ok "$1"
	else
		nok "$1" "the dumps differ"
		echo "--- diff $2 $3"
		diff "$2" "$3"
	fi
}

# ---- zcrxd ---------------------------------------------------------------------

D=/tmp/zcrxd
ZCRXD=${ZCRXD:-zcrxd}

# zcrxd_launch CONFIG_TEXT [extra zcrxd args] — start zcrxd with that
# configuration (state kept in $D/state across restarts: zcrxd_launch again
# after zcrxd_kill restarts on the same journal); returns once its socket
# takes connections (zxsim connect: no process per try), not waiting for
# an answer: a request sent now is answered once its loop runs.
zcrxd_launch() {
	mkdir -p $D/run $D/state
	printf '%s\n' "$1" > $D/zcrxd.conf
	shift
	rm -f $D/run/io.zcrx.Manager # a killed zcrxd's: not an answer
	$ZCRXD --config $D/zcrxd.conf --libvirt-uri none --runtime-dir $D/run --state-dir $D/state \
		"$@" >> $D/zcrxd.log 2>&1 &
	ZPID=$!
	zxsim connect $D/run/io.zcrx.Manager 30 $ZPID
}

# zcrxd_start CONFIG_TEXT [extra zcrxd args] — zcrxd_launch, and return
# once it answers.
zcrxd_start() { zcrxd_launch "$@" && poll 30 ctl -q -t 5 status; }
ctl() { zcrxctl --socket $D/run/io.zcrx.Manager "$@"; }

# metric NAME — a counter of zcrxd's metrics (zcrxctl metrics).
metric() { ctl metrics | awk -v n="$1" '$1 == n { print $2 }'; }

# zcrxd_stop — SIGTERM and wait: 0 when it exits 0.
zcrxd_stop() {
	[ -n "${ZPID:-}" ] || return 0
	kill -TERM "$ZPID"
	wait "$ZPID"
	local rc=$?
	ZPID=
	return $rc
}

# zcrxd_kill — SIGKILL and reap.
zcrxd_kill() {
	[ -n "${ZPID:-}" ] || return 0
	kill -KILL "$ZPID"
	wait "$ZPID" 2>/dev/null
	ZPID=
}

# zcrxd_fresh — forget the journal (a new host, as far as zcrxd knows).
zcrxd_fresh() { rm -rf $D/state $D/run $D/zcrxd.log; }

# show_log — zcrxd's log on the console (after a failure).
show_log() { [ "$FAIL" -eq 0 ] || { echo "--- zcrxd log"; cat $D/zcrxd.log; }; }

# ---- vNICs ------------------------------------------------------------------------

# macvtap NAME MAC — a macvtap (bridge mode) over $NIC carrying a vNIC's MAC.
macvtap() {
	$IP link add link "$NIC" name "$1" address "$2" type macvtap mode bridge &&
		$IP link set "$1" up
}

# vm_xml DOMAIN N MAC,TAP,QUEUES... — a libvirt domain XML (what the hook
# hands zcrxd) with one type='direct' interface per argument, over $NIC;
# written to /tmp/DOMAIN.xml.  N makes the UUID.
vm_xml() {
	local name=$1 n=$2 v mac tap q ifs=
	shift 2
	for v in "$@"; do
		mac=${v%%,*}
		tap=${v#*,}
		q=${tap#*,}
		tap=${tap%%,*}
		ifs="$ifs<interface type='direct'><mac address='$mac'/>"
		ifs="$ifs<source dev='$NIC' mode='bridge'/><target dev='$tap'/><model type='virtio'/>"
		ifs="$ifs<driver queues='$q'/></interface>"
	done
	printf "<domain type='kvm' id='%s'><name>%s</name><uuid>8c6a7c2e-2f8e-4d9c-9b55-6b0c1a2f%04d</uuid>
<memory unit='KiB'>1048576</memory><vcpu>2</vcpu><os><type arch='x86_64'>hvm</type></os>
<devices>%s</devices></domain>\n" "$n" "$name" "$n" "$ifs" > "/tmp/$name.xml"
}

# attach DOMAIN — zcrxctl attach with the domain's XML, as the hook does.
attach() { ctl --json=short attach "$1" "$NIC" --domain-xml "/tmp/$1.xml"; }

# att DOMAIN FILTER — one value of the domain's first attachment (jq).
att() {
	ctl --json=short list --domain "$1" > /tmp/att.json 2>&1 || return 1
	jq -r ".attachments[0] | $2" /tmp/att.json
}

# att_vars DOMAIN — the domain's first attachment in shell variables, with
# one jq run (jq's start-up costs most of a second under TCG): AQ queues
# ("4 5"), AC RSS context ("none" without), AR rule locations, AS state,
# AM steering, AW reason codes ("no-zero-copy,unsteered").
att_vars() {
	AQ= AC= AR= AS= AM= AW=
	ctl --json=short list --domain "$1" > /tmp/att.json 2>&1 || return 1
	eval "$(jq -r '.attachments[0] | @sh "AQ=\(.queues | map(tostring) | join(" "))
		AC=\(.rss_context // "none" | tostring) AR=\(.rules | map(tostring) | join(" "))
		AS=\(.state) AM=\(.steering) AW=\([.reasons[].code] | join(","))"' /tmp/att.json)"
}
