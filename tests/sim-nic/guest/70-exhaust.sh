#!/bin/sh
# SPDX-License-Identifier: MIT
# boots: zx
#
# Check 6, exhaustion, honest: the driver's rule table full (netdevsim-zx
# with a 2-rule table) and its RSS contexts exhausted (1 context): the
# vNIC that does not fit is attached degraded (unsteered; one queue
# instead of a context), with the kernel's refusal (ENOSPC, with the
# driver's text where the netlink path carries one), zcrxd does not try
# again and again, a freed context goes to the vNIC that waited for it,
# and nothing is left behind: detach and release give the NIC back as it
# was.
. /payload/guest/lib.sh
NIC=zxn0
PEER=zxp0
CONF="[daemon]
ReconcileIntervalSec=0
[nic $NIC]
ReserveQueues=6"

say "a rule table of 2 rules, 3 vNICs"
run sim_pair 8 || exit 1
run zx_knob $NIC rule_capacity 2
for i in 1 2 3; do run macvtap zxmv$i 52:54:00:70:00:0$i; done
dump $NIC /tmp/before
zcrxd_fresh
check "zcrxd starts" zcrxd_start "$CONF"
for i in 1 2 3; do
	vm_xml vm7$i 7$i 52:54:00:70:00:0$i,zxmv$i,1
	run attach vm7$i
done
is "two vNICs steered, active as far as this guest goes" \
	"$(att vm71 .steering) $(att vm72 .steering)" "mac mac"
jchecks "$(ctl --json=short list --domain vm73 > /tmp/l3.json; echo /tmp/l3.json)" \
	"the third is degraded, unsteered, with the kernel's ENOSPC" \
	'.attachments[0] | .state == "degraded" and .rules == [] and
	 any(.reasons[]; .code == "unsteered" and .errno_name == "ENOSPC")'
is "the kernel holds exactly the 2 rules zcrxd reports" "$(rules $NIC)" \
	"$(ctl --json=short list | jq -r '[.attachments[].rules[]] | sort | map(tostring) | join(" ")')"
e1=$(metric zcrx_kernel_errors_total)
ctl status > /dev/null
ctl --json=short list > /dev/null
is "nothing tries again on its own (kernel errors stay at $e1)" "$(metric zcrx_kernel_errors_total)" "$e1"
frames 52:54:00:70:00:03 32 udp 198.18.0.2 9 70000
within "the unsteered vNIC's frames go to default RSS, never a pool queue" "0 1"
for i in 1 2 3; do run ctl detach vm7$i; done
is "detached: no rule left" "$(rules $NIC)" ""
check "zcrxctl release" ctl release $NIC
dump $NIC /tmp/after
dump_same "release: the NIC as before" /tmp/before /tmp/after
check "zcrxd stops cleanly" zcrxd_stop
show_log
sim_unpair

say "one RSS context, two 2-queue vNICs"
run sim_pair 8 || exit 1
run zx_knob $NIC max_contexts 1
for i in 1 2; do run macvtap zxmv$i 52:54:00:70:01:0$i; done
dump $NIC /tmp/before
zcrxd_fresh
check "zcrxd starts" zcrxd_start "$CONF"
vm_xml vm74 74 52:54:00:70:01:01,zxmv1,2
vm_xml vm75 75 52:54:00:70:01:02,zxmv2,2
run attach vm74
att_vars vm74
c1=$AC
is "the first 2-queue vNIC has the one context" "$(contexts $NIC)" "$c1"
check "the second 2-queue vNIC is attached all the same" attach vm75
ctl --json=short list --domain vm75 > /tmp/l5.json
jchecks /tmp/l5.json \
	"it is degraded to one queue, with no context of its own" \
	'.attachments[0] | .state == "degraded" and (.queues | length) == 1 and .rss_context == null
	 and .steering == "mac"' \
	"its reason: the driver's refusal, ENOSPC with the driver's own text (netlink extack)" \
	'.attachments[0] | any(.reasons[]; .code == "no-rss-context" and .errno_name == "ENOSPC"
	 and (.message | test("RSS contexts are in use")))'
say "vm75: $(jq -r '.attachments[0] | [.queues, [.reasons[] | .code + ": " + .message]] | tostring' /tmp/l5.json | cut -c1-300)"
att_vars vm75
frames 52:54:00:70:01:02 32 udp 198.18.0.2 9 70100
landed "$AQ" "vm75's frames land on its one queue"
is "nothing leaked: the kernel holds vm74's context only" "$(contexts $NIC)" "$c1"
e1=$(metric zcrx_kernel_errors_total)
ctl status > /dev/null
ctl --json=short list > /dev/null
is "nothing tries again on its own (kernel errors stay at $e1)" "$(metric zcrx_kernel_errors_total)" "$e1"
check_out "the refused context is named in words in zcrxd's warning" \
	"<warning> exec: $NIC: create RSS context: start [0-9]+ equal 2: .*\\(ENOSPC\\)" cat $D/zcrxd.log
is "no \$CTX placeholder and no NIC named twice in zcrxd's log" \
	"$(grep -cE 'CTX[0-9]|$NIC: $NIC:' $D/zcrxd.log)" 0
run ctl detach vm74
att_vars vm75
is "vm74 gone, its context freed: vm75 gets a context and both its queues" \
	"$(echo "$AQ" | wc -w) $AC $(contexts $NIC)" "2 $AC $AC"
# the exact split the kernel's own view of the context predicts (its key
# and table; queues 2 and 4 are not adjacent, so the table is two halves);
# frames sent once the detach has answered: zcrxd applied the upgrade
# (context made with its table, then the rule to it) before it answered
frames 52:54:00:70:01:02 64 udp 198.18.0.2 9 4664
is "vm75's frames land as Toeplitz with context $AC's key and table says" "$GOT" \
	"$(nz "$(rsspkt predict "$(hkey $NIC $AC)" sdfn "$(table $NIC $AC)" 64 4664)")"
landed "$AQ" "vm75's frames spread over its two queues now"
run ctl detach vm75
is "detached: no context, no rule left" "$(contexts $NIC)|$(rules $NIC)" "|"
check "zcrxctl release" ctl release $NIC
dump $NIC /tmp/after
dump_same "release: the NIC as before" /tmp/before /tmp/after
check "zcrxd stops cleanly" zcrxd_stop
show_log
sim_unpair
finish
