#!/bin/sh
# SPDX-License-Identifier: MIT
# boots: zx2
#
# Check 7, crash safety on real kernel objects: zcrxd is killed with
# SIGKILL at a random moment after an attach or detach of a 1-queue or a
# 2-queue vNIC was sent, $RUNS times (at least 50), and started again on its
# journal.  The moment is drawn from 0 to 1.25 times the longest of the four
# requests as they take on this guest without a kill (measured first, at
# least 50 ms): many kills land inside a request, the others after it; the
# output says how many requests finished before their kill, and at least a
# tenth of the kills must have cut a request short (17 and 22 of 50 did in
# two runs with a window of 1.5 times the longest, 15 with a floor of
# 100 ms; the narrower window is for more).  After each restart the
# kernel's rules (ethtool -n, with their actions) and RSS
# contexts, zcrxd's own account (zcrxctl list) and its journal (state.json
# with state.log, as zcrxd --dump-state reads them), all read before the
# next run, must be the same three times over: no rule or context the
# kernel holds that zcrxd does not know (orphaned), none zcrxd knows that
# the kernel lacks (lost), no change left half-made.  At the end release
# gives the NIC back exactly as it was before zcrxd.
. /payload/guest/lib.sh
NIC=zxn0
PEER=zxp0
M1=52:54:00:80:00:01
M2=52:54:00:80:00:02
RUNS=${ZXS_CRASH_RUNS:-50}
CONF="[daemon]
ReconcileIntervalSec=0
[nic $NIC]
ReserveQueues=4"
run sim_pair 8 || exit 1
run macvtap zxmv1 $M1
run macvtap zxmv2 $M2
dump $NIC /tmp/before
zcrxd_fresh
check "zcrxd starts" zcrxd_start "$CONF"
vm_xml vm81 81 $M1,zxmv1,1
vm_xml vm82 82 $M2,zxmv2,2

# each request once without a kill: how long it takes here (ms)
ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
longest=0
for op in "attach vm81" "attach vm82" "detach vm81" "detach vm82"; do
	set -- $op
	t0=$(ms)
	if [ "$1" = attach ]; then
		check "$op without a kill" ctl --json=short attach "$2" "$NIC" --domain-xml "/tmp/$2.xml"
	else
		check "$op without a kill" ctl detach "$2"
	fi
	t=$(($(ms) - t0))
	[ $t -gt $longest ] && longest=$t
done
MAXD=$((longest * 5 / 4))
[ $MAXD -ge 50 ] || MAXD=50
say "the longest request took $longest ms: kills at 0-$MAXD ms"

# the kernel's rules in FILE (ethtool -n), "LOC queue Q" or "LOC context C",
# sorted
k_rules() {
	awk '
		function out() { if (l != "") print l, (c != "" ? "context " c : "queue " q) }
		/^Filter:/ { out(); l = $2; c = ""; q = "" }
		/RSS Context ID:/ { c = $NF }
		/Action: Direct to RSS Context/ { c = $NF }
		/Action: Direct to queue/ { q = $NF }
		END { out() }' "$1" | sort
}
# zcrxd's account and its journal (zcrxd --dump-state: state.json and
# state.log as a restart reads them), for every run at once (one jq run over
# what each run saved in /tmp/crash/all.json: jq's start-up costs most of a
# second under TCG): "RUN|Z|ZC|J|JC|P" lines, rules as "LOC queue Q" /
# "LOC context C" like k_rules
views() {
	jq -r '
		def act(r): if r.action == "context" then "context \(r.context)" else "queue \(r.queue)" end;
		.run as $n | if .list == null or .state == null then "\($n)|?|?|?|?|?" else
		(.state.nics[] | select(.name == "'$NIC'")) as $j |
		[$n,
		 ([.list.attachments[] | . as $a | .rules[] |
			"\(.) \(if $a.rss_context != null then "context \($a.rss_context)"
				else "queue \($a.queues[0])" end)"] | sort | join(",")),
		 ([.list.attachments[] | .rss_context | select(. != null) | tostring] | sort | join(" ")),
		 ([$j.rules[] | "\(.location) \(act(.))"] | sort | join(",")),
		 ([$j.contexts[].id | tostring] | sort | join(" ")),
		 ([$j.rules[], $j.contexts[] | select(.pending)] | length)] | map(tostring) | join("|") end
	' /tmp/crash/all.json
}
# the kill delays, 16 random bits each, drawn at once (od runs once)
set -- $(od -An -N$((RUNS * 2)) -tu2 /dev/urandom)
RND="$*"

crash_list() { ctl -t 5 --json=short list $NIC > /tmp/crash/list 2> /dev/null; }
mkdir -p /tmp/crash
completed=0
for i in $(seq 1 "$RUNS"); do
	set -- $RND
	r=$1
	shift
	RND="$*"
	case $((i % 4)) in
	1) op="attach vm81" ;;
	2) op="attach vm82" ;;
	3) op="detach vm81" ;;
	0) op="detach vm82" ;;
	esac
	set -- $op
	if [ "$1" = attach ]; then
		ctl --json=short attach "$2" "$NIC" --domain-xml "/tmp/$2.xml" > /dev/null 2>&1 &
	else
		ctl detach "$2" > /dev/null 2>&1 &
	fi
	cpid=$!
	delay=$((r * MAXD * 1000 / 65536))
	usleep $delay
	zcrxd_kill
	wait $cpid && completed=$((completed + 1))
	echo "$op, killed after $((delay / 1000)) ms" > /tmp/crash/$i.meta
	# back on its journal: zcrxd's account (its first answer, which comes
	# after its start-up repair), then the kernel's view, compared at the
	# end
	if ! zcrxd_launch "$CONF" ||
		! poll 30 crash_list; then
		nok "crash run $i ($(cat /tmp/crash/$i.meta)): zcrxd did not come back"
		break
	fi
	ethtool -n $NIC > /tmp/crash/$i.n 2>&1
	zxsim rss $NIC > /tmp/crash/$i.rss 2>&1
	{
		printf '{"run":%s,"list":' "$i"
		cat /tmp/crash/list
		printf ',"state":'
		# the journal as a restart would read it (snapshot and log)
		zcrxd --dump-state --state-dir $D/state 2> /dev/null || printf null
		printf '}\n'
	} >> /tmp/crash/all.json
done
say "$RUNS crash runs done (the request finished before the kill in $completed); comparing"
check "at least a tenth of the kills cut a request short ($((RUNS - completed)) of $RUNS)" \
	test $((RUNS - completed)) -ge $((RUNS / 10))
bad=0
views | sort -n > /tmp/crash/views.txt
while IFS='|' read -r n z zc j jc p; do
	k=$(k_rules /tmp/crash/$n.n | tr '\n' ',' | sed 's/,$//')
	kc=$(ctx_ids < /tmp/crash/$n.rss)
	read -r meta < /tmp/crash/$n.meta
	if [ "$k" = "$z" ] && [ "$k" = "$j" ] && [ "$kc" = "$zc" ] && [ "$kc" = "$jc" ] && [ "$p" = 0 ]; then
		ok "crash run $n ($meta): kernel, zcrxctl list and journal agree: rules [$k] contexts [$kc]"
	else
		nok "crash run $n ($meta)" \
			"kernel rules [$k] contexts [$kc]; zcrxctl list [$z] [$zc]; journal [$j] [$jc], $p pending"
		bad=$((bad + 1))
	fi
done < /tmp/crash/views.txt
is "all $RUNS crash runs compared" "$(wc -l < /tmp/crash/views.txt)" "$RUNS"
is "every crash run left kernel, zcrxd and journal in agreement" "$bad" 0
ctl detach vm81 > /dev/null 2>&1
ctl detach vm82 > /dev/null 2>&1
check "zcrxctl release $NIC" ctl release $NIC
dump $NIC /tmp/after
dump_same "after $RUNS crashes and release, the NIC is as it was before zcrxd" /tmp/before /tmp/after
check "zcrxd stops cleanly" zcrxd_stop
show_log
sim_unpair
finish
