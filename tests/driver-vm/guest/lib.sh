# SPDX-License-Identifier: MIT
# guest/lib.sh — helpers for the guest scripts (busybox ash, sourced).
#
# fd 3 is the result channel to the host (ttyS1, opened by /init).  stdout and
# stderr go to the console (ttyS0, kept in console.log on the host): that is
# where command output of a failed check is shown.
#
# Note: busybox ash runs its own applets before anything on PATH, so `ip` is
# busybox's; use full paths for programs that shadow an applet.

PASS=0
FAIL=0
OUT=/tmp/check.out

# say TEXT — a comment line in the host's output (results.txt + stdout).
say() { echo "# [$(cut -d" " -f1 /proc/uptime)s] $*" >&3; }

# ok DESC / nok DESC [REASON]
ok() { PASS=$((PASS + 1)); echo "ok - $1${TODO:+ # TODO $TODO}" >&3; }
nok() {
	FAIL=$((FAIL + 1))
	echo "not ok - $1${2:+ ($2)}${TODO:+ # TODO $TODO}" | tr -s '\n\t ' '   ' | sed 's/ $//' >&3
	echo >&3
	echo "--- not ok - $1${2:+ ($2)}"
}

# todo REASON ... todo "" — checks in between are known to fail for REASON
# (a bug filed elsewhere): a failure is reported as "not ok ... # TODO" and
# does not fail the tier; a pass says the marker can go.
TODO=
todo() {
	TODO=$1
}

# check DESC CMD... — ok when CMD exits 0; otherwise not ok, and CMD's output
# goes to the console.
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

# check_out DESC PATTERN CMD... — ok when CMD exits 0 and its output matches
# the extended regex PATTERN.
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

# check_fails DESC PATTERN CMD... — ok when CMD fails and its output (stdout
# and stderr) matches the extended regex PATTERN: the kernel's refusal, with
# its message, is what is being checked.
check_fails() {
	local desc=$1 pat=$2 rc
	shift 2
	"$@" > "$OUT" 2>&1
	rc=$?
	if [ $rc -ne 0 ] && grep -Eq -- "$pat" "$OUT"; then
		ok "$desc: $(grep -Em1 -- "$pat" "$OUT" | cut -c1-120)"
	else
		nok "$desc" "exit $rc, wanted failure matching /$pat/"
		echo "--- \$ $*"
		cat "$OUT"
	fi
}

# jcheck DESC FILTER CMD... — ok when CMD exits 0 and the jq expression
# FILTER is true of its JSON output (kept in $OUT for further checks).
jcheck() {
	local desc=$1 filter=$2 rc
	shift 2
	"$@" > "$OUT" 2> "$OUT.err"
	rc=$?
	if [ $rc -eq 0 ] && jq -e "$JQDEFS $filter" "$OUT" > /dev/null 2>&1; then
		ok "$desc"
	else
		nok "$desc" "exit $rc, wanted $filter"
		echo "--- \$ $*"
		cut -c1-2000 "$OUT" "$OUT.err"
	fi
}

# jchecks FILE DESC FILTER [DESC FILTER...] — several jq assertions on one
# JSON document in a single jq run (jq's start-up costs ~0.3 s under TCG).
# JQDEFS is prepended to the program.
JQDEFS='def unsup: .state == "no" and .errno == 95; def has: .state == "yes";'
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
		# jq itself failed: every check on this document fails with its message.
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
		cut -c1-3000 "$file"
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

# run CMD... — a step that must work for later checks to mean anything; its
# failure is a failed check of its own.
run() {
	if ! "$@" > "$OUT" 2>&1; then
		nok "step: $*" "exit $?"
		cat "$OUT"
		return 1
	fi
}

# inject MAC COUNT SPORT — ask the host to write COUNT UDP frames (source ports
# SPORT..) into the tap of the NIC with MAC; returns when they are written.
inject() {
	local ans
	echo "INJECT $1 $2 $3" >&3
	read -r ans <&3
	case $ans in
	"DONE rc=0"*) return 0 ;;
	*) echo "inject $*: host said: $ans"; return 1 ;;
	esac
}

# poll SECONDS CMD... — run CMD every 0.1 s until it succeeds or SECONDS pass.
poll() {
	local n=$(($1 * 10))
	shift
	while [ $n -gt 0 ]; do
		"$@" && return 0
		sleep 0.1
		n=$((n - 1))
	done
	return 1
}

# rx_total IFNAME — the interface's rx_packets counter.
rx_total() { cat "/sys/class/net/$1/statistics/rx_packets"; }

# mac IFNAME
mac() { cat "/sys/class/net/$1/address"; }

# driver IFNAME
driver() { basename "$(readlink "/sys/class/net/$1/device/driver")"; }

# qsub "q0=A q1=B" "q0=C q1=D" — per-queue difference "q0=A-C q1=B-D".
qsub() {
	echo "$1" "|" "$2" | awk '{
		for (i = 1; i <= NF && $i != "|"; i++) { split($i, kv, "="); a[kv[1]] = kv[2]; o[++n] = kv[1] }
		for (i++; i <= NF; i++) { split($i, kv, "="); b[kv[1]] = kv[2] }
		for (i = 1; i <= n; i++) printf "%s%s=%d", (i > 1 ? " " : ""), o[i], a[o[i]] - b[o[i]]
		print "" }'
}

# indir IFNAME — context 0's indirection table as ethtool reads it, as a
# comma-separated queue list (an oracle independent of the project's code).
indir() {
	ethtool -x "$1" | awk '/^ *[0-9]+:/ { for (i = 2; i <= NF; i++) printf "%s%s", (n++ ? "," : ""), $i }
		END { print "" }'
}

# queues_in LIST — the distinct queues of a comma-separated table, sorted.
queues_in() { echo "$1" | tr ',' '\n' | sort -un | tr '\n' ' ' | sed 's/ $//'; }

# steer IFNAME KEY FIELDS COUNT SPORT — inject COUNT frames into IFNAME from
# the host and wait until they are all received.  Sets GOT (per-queue
# rx-packets deltas, from $QSTATS, default "rsspkt qstats") and WANT (where the
# Toeplitz hash with KEY over FIELDS and IFNAME's current table says they must
# land).  Returns 1 when the frames could not be injected or did not arrive.
QSTATS=${QSTATS:-rsspkt qstats}
steer() {
	local before after t0 tab
	GOT=
	WANT=
	tab=$(indir "$1")
	WANT=$(rsspkt predict "$2" "$3" "$tab" "$4" "$5") || return 1
	before=$($QSTATS "$1") || return 1
	t0=$(rx_total "$1")
	inject "$(mac "$1")" "$4" "$5" || return 1
	if ! poll 30 rx_reached "$1" $((t0 + $4)); then
		echo "steer: $1 received $(($(rx_total "$1") - t0)) of $4 frames"
		return 1
	fi
	after=$($QSTATS "$1") || return 1
	GOT=$(qsub "$after" "$before")
}
rx_reached() { [ "$(rx_total "$1")" -ge "$2" ]; }

# nz "q0=1 q1=0 q2=3" — drop the zero entries ("q0=1 q2=3"), so per-queue
# counts compare equal however many idle queues each side lists.
nz() { echo "$1" | tr ' ' '\n' | grep -v '=0$' | tr '\n' ' ' | sed 's/ $//'; }

# steered DESC — after steer: ok when the frames landed exactly as predicted.
steered() {
	if [ -n "$GOT" ] && [ "$(nz "$GOT")" = "$(nz "$WANT")" ]; then
		ok "$1: $GOT"
	else
		nok "$1" "got '$GOT', want '$WANT'"
	fi
}

# finish — the script's exit status.
finish() { [ "$FAIL" -eq 0 ]; }
