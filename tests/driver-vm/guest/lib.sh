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
say() { echo "# $*" >&3; }

# ok DESC / nok DESC [REASON]
ok() { PASS=$((PASS + 1)); echo "ok - $1" >&3; }
nok() {
	FAIL=$((FAIL + 1))
	echo "not ok - $1${2:+ ($2)}" >&3
	echo "--- not ok - $1${2:+ ($2)}"
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

# finish — the script's exit status.
finish() { [ "$FAIL" -eq 0 ]; }
