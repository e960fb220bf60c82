#!/bin/bash
# SPDX-License-Identifier: MIT
#
# make demo: zcrx doing its job, in one transcript of two parts
# (docs/demo.txt is one; `make demo-transcript` writes it anew).
#
#   Part one (tools/demo-libvirt.sh): a real libvirtd and QEMU domain whose
#     macvtap vNIC sits on a veth; the libvirt hook attaches it, destroy
#     detaches it.  A veth has no rules, RSS or zero-copy: every "no" says so.
#   Part two (tests/sim-nic/guest/90-demo.sh, in the sim-nic guest): the
#     same zcrxd and zcrxctl on netdevsim-zx under Debian's 7.x kernel in
#     QEMU/TCG: the capability matrix, a vNIC's frames before and after
#     its attach (per-queue histograms of the driver's counters), a 2-queue
#     vNIC behind an RSS context, --dry-run and plan with their ethtool
#     lines, a host lease bound by io_uring zero-copy receive, and release
#     putting the NIC back as it was.  Every claim it prints is also a
#     check in the guest ("[ok]"), and the sim-nic tier runs it too.
#
# Part two's preparation (tests/sim-nic/prepare.sh: the Debian packages,
# the build root, netdevsim's build, the base image, all cached in
# build/sim-nic) and its guest run go on in the background while the
# project builds (make -j2 all) and part one runs; their progress lines,
# with elapsed times, follow part one, then the guest's transcript as it
# comes.  When part two cannot run here (no
# download, no QEMU, not root), the demo says why and still shows part one.
#
# Exit status: 0 when part one ran and part two ran with every check
# passing or could not run here (said why); 1 otherwise.  Run as root.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
B=${ZCRX_BUILD:-build}
W=build/demo
T0=$(date +%s.%N)
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }'; }
if [ -t 1 ]; then
	title() { printf '\n\033[1m=== %s ===\033[0m\n' "$*"; }
else
	title() { printf '\n=== %s ===\n' "$*"; }
fi

mkdir -p build/sim-nic "$W"
rm -rf "$W/run" "$W/part2.log" "$W/part1.summary"

# --- part two, in the background, in its own process group ---------------------
# Its guest (downloads, build root, netdevsim, base image) is prepared while
# the project builds (below) and part one runs; its boot waits for the
# build: this shell holds make.lock until make is done.
exec 8> "$W/make.lock"
flock 8
set -m
(
	exec 8>&-
	exec 9> build/sim-nic/.lock
	flock 9 # the sim-nic tier's cache: one user at a time
	tests/sim-nic/prepare.sh 2>&1
	rc=$?
	echo "PREPARE-RC $rc"
	[ $rc = 0 ] || exit 0
	echo "# guest prepared, $(elapsed "$T0")s after the demo started"
	flock "$W/make.lock" true
	for x in "$B/zcrxd" "$B/zcrxctl" "$B/tests/vzclient"; do
		[ -x "$x" ] || { echo "not ok - $x not built"; echo "BOOT-RC 1"; exit 0; }
	done
	t=$(date +%s.%N)
	echo "# booting: QEMU/TCG, 2 CPUs, netdevsim-zx, the demo script"
	ZXS_SMP=2 tests/sim-nic/boot.sh zx "$W/run" 90-demo.sh > "$W/boot.log" 2>&1 &
	bp=$!
	tail -n +1 -F --pid=$bp "$W/run/results.txt" 2> /dev/null
	wait $bp
	rc=$?
	echo "# guest run: $(elapsed "$t")s from boot to power-off (QEMU/TCG), exit $rc"
	echo "BOOT-RC $rc"
) > "$W/part2.log" 2>&1 &
BG=$!
set +m
stop_bg() { kill -TERM -- "-$BG" 2> /dev/null; }
trap 'stop_bg; exit 1' INT TERM

# --- the project's binaries ---------------------------------------------------------------
t=$(date +%s.%N)
echo "# building zcrxd, zcrxctl and the guest's test client (make -j2); meanwhile part two's"
echo "# guest is prepared in the background (its progress follows part one)"
# vzclient: the guest's payload carries the vhost_zcrx reference module with
# its client (tests/kmod/payload.sh)
mk=(make -s --no-print-directory -j2 all "$B/tests/vzclient")
[ "$B" = build ] || mk+=("B=$B")
"${mk[@]}" > "$W/make.log" 2>&1
mrc=$?
flock -u 8
exec 8>&-
if [ $mrc != 0 ]; then
	tail -30 "$W/make.log"
	echo "demo: make all failed (exit $mrc; $W/make.log)" >&2
	stop_bg
	exit 1
fi
echo "# make -j2 all $B/tests/vzclient: $(elapsed "$t")s"

# --- part one ---------------------------------------------------------------------------
title "Part one: a real libvirtd and QEMU domain, the NIC a veth"
t1=$(date +%s.%N)
tools/demo-libvirt.sh --summary "$W/part1.summary"
rc1=$?
echo "# part one: $(elapsed "$t1")s, exit $rc1"

# --- part two ---------------------------------------------------------------------------
title "Part two: the whole job on a simulated NIC, in a QEMU guest"
echo "# prepared in the background since the demo started ($(elapsed "$T0")s ago):"
# a step may be silent for a minute on the first run (the netdevsim build):
# a line every 20 s of silence says the demo is still at work
# (a line cut by the timeout is kept and completed by the next read)
ticking() {
	local l rc part=
	while :; do
		IFS= read -r -t 20 l
		rc=$?
		if [ $rc = 0 ]; then
			printf '%s%s\n' "$part" "$l"
			part=
		elif [ $rc -gt 128 ]; then
			part=$part$l
			echo "# ... still working, $(elapsed "$T0")s since the demo started"
		else
			[ -z "$part$l" ] || printf '%s%s\n' "$part" "$l"
			break
		fi
	done
}
tail -n +1 -F --pid=$BG "$W/part2.log" 2> /dev/null | ticking | tests/sim-nic/transcript.sh
wait $BG
trap - INT TERM
prc=$(sed -n 's/^PREPARE-RC //p' "$W/part2.log")
brc=$(sed -n 's/^BOOT-RC //p' "$W/part2.log")
rc2=0
why2=
if [ "$prc" = 77 ]; then
	why2=$(sed -n 's/^SKIP: sim-nic: //p' "$W/part2.log")
	echo "Part two cannot run on this machine: $why2"
	echo "(it needs root, network namespaces, QEMU and Debian's archive for the guest kernel)"
elif [ "$prc" != 0 ]; then
	echo "Part two failed while preparing the guest (exit ${prc:-?}): see above"
	rc2=1
elif [ "$brc" != 0 ]; then
	echo "Part two: the guest run failed (exit ${brc:-?}); its logs: $W/run/ (console.log, results.txt)"
	grep -E '^(not ok|#)' "$W/boot.log" | tail -20
	rc2=1
fi

# --- what you just saw ------------------------------------------------------------------------
title "What you just saw"
if [ -s "$W/part1.summary" ]; then
	cat "$W/part1.summary"
else
	echo "Part one did not get through (exit $rc1): see above"
fi
if [ "$prc" = 0 ] && [ -s "$W/run/results.txt" ]; then
	echo "Part two: zcrxd and zcrxctl on netdevsim-zx, the kernel's own ethtool, RSS, n-tuple,"
	echo "netdev and io_uring code doing the work (the driver is simulated)"
	sed -n 's/^S /  /p' "$W/run/results.txt"
	echo "  checks of what the transcript claims: $(grep -c '^ok ' "$W/run/results.txt") passed," \
		"$(grep -c '^not ok' "$W/run/results.txt") failed"
elif [ -n "$why2" ]; then
	echo "Part two: not shown, it cannot run on this machine: $why2"
else
	echo "Part two: not shown (see above)"
fi
echo "# make demo: $(elapsed "$T0")s in all${why2:+ (part one only)}"
[ "$rc1" = 0 ] && [ "$rc2" = 0 ]
