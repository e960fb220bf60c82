#!/bin/bash
# SPDX-License-Identifier: MIT
#
# sim-nic tier: every NIC feature zcrx uses, on the real kernel core, in a
# QEMU/TCG guest running Debian's newest cloud kernel (trixie-backports,
# resolved at run time) with netdevsim built out of tree from Debian's
# linux-source, twice: as the kernel has it (stock: the baseline, where each
# missing feature must come back with the kernel's own refusal) and with the
# project's extension (netdevsim-zx: n-tuple rules, RSS table, key and
# contexts, steering of the frames its link partner sends, per-queue
# counters, page pools that take a memory provider).  The driver is
# simulated, the kernel core (ethtool, netdev, io_uring, devmem) is real:
# every result is labelled so.
#
#   tests/sim-nic/run.sh [BOOT...] [SCRIPT...]   (root; default: every boot,
#                                                 every guest script)
#
# Boots (QEMU guests, all at once): stock (netdevsim as the kernel has it),
# zx and zx2 (netdevsim-zx; two guests so that the long scripts share the
# host's CPUs).  A guest script's "# boots:" line names the boots that run
# it.
#
# Exit status: 0 pass, 1 fail, 77 skip (the reason printed: not root, no
# network namespace, QEMU cannot start, the Debian archive unreachable).
# Output: "# ..." progress lines with the elapsed time of each long step,
# one "ok - ..." / "not ok - ..." line per check ([stock] or [zx]), and
# "sim-nic: N passed, N failed".  A "not ok ... # TODO reason" line is a
# known failure reported to its owner: shown, not counted.
#
# Files beside this one:
#   prepare.sh    tools, binaries, fetch, build and base image, cached (the
#                 demo's part two uses it too); boot.sh one boot with them
#   fetch.sh      private APT configuration, downloads, build root, unpacking
#   build.sh      netdevsim.ko and netdevsim-zx.ko in the build root
#   nsim-zx/      the extension (zx.c, zx.h) and the anchored patch (patch.py)
#   tools/        zxsim, the guest's static helper (frames, counters,
#                 queue-get, qstats, RSS dump, io_uring zcrx, devmem)
#   mkinitrd.sh   the cached base image; mkpayload.sh the binaries (kept
#                 while they do not change) and the scripts of a boot
#   boot.py       one QEMU/TCG boot in a private network namespace, results
#                 over the second serial port, the kernel log checked (the
#                 launcher itself: tests/lib/qemuguest.py, as driver-vm's)
#   guest/        /init, lib.sh and the scripts NN-name.sh
#   ../kmod/      the vhost_zcrx reference module: build.sh (prepare.sh, same
#                 build root), payload.sh (boot.sh: installed for modprobe,
#                 with vzclient), host-checks.sh here (checkpatch.pl --strict,
#                 the kernel's missing exports), in the guest by
#                 guest/95-vhost-zcrx.sh
#
# Everything downloaded or built is cached in build/sim-nic/, keyed by what
# it was made from (a new kernel upload is picked up by the next run).  The
# last run's logs: build/sim-nic/run-<boot>[-<build>]/ (results.txt,
# console.log, dmesg.txt, qemu.log).
#
# Environment: ZCRX_BUILD (default build; build/asan runs the sanitized
# binaries in the guest), ZXS_TIMEOUT (QEMU limit per boot, default 480 s),
# ZXV_NO_MAKE=1 (use what is built), ZXS_QEMU (QEMU binary); fetch.sh's
# ZX_SIMNIC_* variables.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
cd "$TOP" || exit 1
B=${ZCRX_BUILD:-build}
CACHE=build/sim-nic
FLAVOR=$(echo "${B#build}" | tr / -)
T0=$(date +%s.%N)

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
step() { echo "# $1 ($(elapsed "$2")s)"; }

BOOTS=
while [ $# -gt 0 ]; do
	case $1 in stock | zx | zx2) BOOTS="$BOOTS $1"; shift ;; *) break ;; esac
done
BOOTS=${BOOTS:-stock zx zx2}

echo "# sim-nic: netdevsim on Debian's newest cloud kernel under QEMU/TCG -" \
	"simulated driver, real kernel core"

mkdir -p "$CACHE"
exec 9> "$CACHE/.lock"
flock 9 # one run at a time: the cache is shared by every build flavour

# --- tools, binaries, downloads, module builds, base image (prepare.sh) ----------
targets="$B/zcrxd $B/zcrxctl $B/tests/fake-vhost-zcrx $B/tests/rsspkt $B/tests/vzclient"
[ -e tests/tools/zcrxd-seams.c ] && targets="$targets $B/tests/zcrxd-seams"
# shellcheck disable=SC2086
tests/sim-nic/prepare.sh $targets
rc=$?
[ $rc = 77 ] && exit 77
[ $rc = 0 ] || { echo "sim-nic: 0 passed, 1 failed"; exit 1; }
# shellcheck source=/dev/null
. "$CACHE/ready$FLAVOR.env"

passed=0
failed=0
# the extension is kernel code: checkpatch --strict clean, by the kernel's own
# checkpatch.pl from the same linux-source
if out=$(perl "$SRC/scripts/checkpatch.pl" --strict --no-tree -q -f \
	tests/sim-nic/nsim-zx/zx.c tests/sim-nic/nsim-zx/zx.h 2>&1) && [ -z "$out" ]; then
	echo "ok - netdevsim-zx (zx.c, zx.h) is checkpatch.pl --strict clean (linux-source $KPKGVER)"
	passed=$((passed + 1))
else
	echo "not ok - netdevsim-zx: checkpatch.pl --strict"
	echo "$out" | sed 's/^/# /'
	failed=$((failed + 1))
fi
# ...and so is the vhost_zcrx reference module; the kernel still exports
# nothing it could install a memory provider with (tests/kmod/host-checks.sh)
out=$(tests/kmod/host-checks.sh "$SRC" "$ROOT/usr/src/linux-headers-$KABI" 2>&1)
echo "$out"
passed=$((passed + $(echo "$out" | grep -c '^ok ')))
failed=$((failed + $(echo "$out" | grep -c '^not ok')))
[ -n "$out" ] || { echo "not ok - tests/kmod/host-checks.sh said nothing"; failed=$((failed + 1)); }

# --- the boots, all at once ----------------------------------------------------------
if [ $# -gt 0 ]; then
	all=("$@")
else
	all=()
	for s in tests/sim-nic/guest/[0-9]*.sh; do all+=("$(basename "$s")"); done
fi
t=$(date +%s.%N)
pids=()
for bt in $BOOTS; do
	v=${bt%%[0-9]*}
	run=$CACHE/run-$bt$FLAVOR
	rm -rf "$run" # no results of an earlier run counted
	scripts=()
	for s in "${all[@]}"; do
		want=$(sed -n 's/^# boots: *//p' "tests/sim-nic/guest/$s" | head -1)
		case " $want " in *" $bt "*) scripts+=("$s") ;; esac
	done
	[ ${#scripts[@]} -gt 0 ] || continue
	tests/sim-nic/boot.sh "$bt" "$run" "${scripts[@]}" &
	pids+=($!)
	echo "# booting $bt (netdevsim $([ "$v" = zx ] && echo "-zx" || echo "stock")): ${scripts[*]}"
done
bootrc=0
for p in "${pids[@]}"; do wait "$p" || bootrc=1; done
step "boots done, logs in $CACHE/run-*$FLAVOR/" "$t"
# where the time went: each boot's guest time per script, longest first
for bt in $BOOTS; do
	r=$CACHE/run-$bt$FLAVOR/results.txt
	[ -e "$r" ] || continue
	echo "# [$bt] time per script: $(sed -n 's/^SCRIPT-END \([^ ]*\) rc=[0-9]* took=\([0-9.]*\)s$/\2 \1/p' "$r" |
		sort -rn | awk '{ printf "%s%s %ss", (NR > 1 ? ", " : ""), $2, $1 }')"
done

todo=0
for bt in $BOOTS; do
	r=$CACHE/run-$bt$FLAVOR/results.txt
	[ -e "$r" ] || continue
	passed=$((passed + $(grep -c '^ok ' "$r")))
	failed=$((failed + $(grep '^not ok' "$r" | grep -vc '# TODO')))
	todo=$((todo + $(grep '^not ok' "$r" | grep -c '# TODO')))
	grep -q '^ok .*# TODO' "$r" &&
		echo "# [$bt] a check marked TODO passes now: remove its marker in the guest script"
done
# the demo's part two (guest/90-demo.sh) as `make demo` shows it: do the
# claims of that transcript hold? (check-demo.py reads the histograms)
for bt in $BOOTS; do
	r=$CACHE/run-$bt$FLAVOR/results.txt
	grep -q '^SCRIPT 90-demo.sh' "$r" 2> /dev/null || continue
	tests/sim-nic/transcript.sh "$r" > "$CACHE/run-$bt$FLAVOR/demo.txt"
	out=$(python3 tests/sim-nic/check-demo.py "$CACHE/run-$bt$FLAVOR/demo.txt")
	passed=$((passed + $(echo "$out" | grep -c '^ok ')))
	failed=$((failed + $(echo "$out" | grep -c '^not ok')))
	echo "$out" | grep -E '^(ok|not ok) ' | sed "s/^\(not \)\{0,1\}ok - /&[$bt demo transcript] /"
done
[ "$todo" = 0 ] || echo "# $todo known failure(s) marked TODO (bugs reported elsewhere), not counted"
if [ $bootrc != 0 ] && [ "$failed" = 0 ]; then
	echo "not ok - a guest run failed (see above and $CACHE/run-*$FLAVOR/console.log)"
	failed=1
fi
echo "# total $(elapsed "$T0")s"
echo "sim-nic: $passed passed, $failed failed (simulated driver, real kernel core)"
[ "$failed" = 0 ]
