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
#   fetch.sh      private APT configuration, downloads, build root, unpacking
#   build.sh      netdevsim.ko and netdevsim-zx.ko in the build root
#   nsim-zx/      the extension (zx.c, zx.h) and the anchored patch (patch.py)
#   tools/        zxsim, the guest's static helper (frames, counters,
#                 queue-get, qstats, RSS dump, io_uring zcrx, devmem)
#   mkinitrd.sh   the cached base image; mkpayload.sh the per-run binaries
#   boot.py       one QEMU/TCG boot in a private network namespace, results
#                 over the second serial port, the kernel log checked
#   guest/        /init, lib.sh and the scripts NN-name.sh
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

skip() { echo "SKIP: sim-nic: $*"; exit 77; }
fail() { echo "not ok - sim-nic setup: $*"; echo "sim-nic: 0 passed, 1 failed"; exit 1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
step() { echo "# $1 ($(elapsed "$2")s)"; }

BOOTS=
while [ $# -gt 0 ]; do
	case $1 in stock | zx | zx2) BOOTS="$BOOTS $1"; shift ;; *) break ;; esac
done
BOOTS=${BOOTS:-stock zx zx2}

echo "# sim-nic: netdevsim on Debian's newest cloud kernel under QEMU/TCG -" \
	"simulated driver, real kernel core"

# --- can this machine run the tier? -----------------------------------------
[ "$(id -u)" = 0 ] || skip "needs root (chroot for the module build, network namespaces)"
unshare -n true 2>/dev/null || skip "cannot create a network namespace (unshare -n)"
need=
for p in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static depmod:kmod cpio:cpio \
	xz:xz-utils jq:jq ip:iproute2 python3:python3 dpkg-deb:dpkg apt-get:apt perl:perl; do
	command -v "${p%%:*}" > /dev/null || need="$need ${p#*:}"
done
{ [ -x /bin/busybox ] && ! ldd /bin/busybox > /dev/null 2>&1; } || need="$need busybox-static"
if [ -n "$need" ]; then
	echo "# installing$need"
	{ apt-get -o DPkg::Lock::Timeout=300 update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
			--no-install-recommends $need; } > /dev/null 2>&1 ||
		skip "cannot install$need (apt-get failed)"
fi
QEMU=${ZXS_QEMU:-qemu-system-x86_64}
qerr=$(echo quit | timeout 20 "$QEMU" -M none -accel tcg -display none -nodefaults \
	-monitor stdio 2>&1 > /dev/null) || skip "QEMU does not start with TCG: ${qerr:-exit $?}"

mkdir -p "$CACHE"
exec 9> "$CACHE/.lock"
flock 9 # one run at a time: the cache is shared by every build flavour

# --- project binaries -----------------------------------------------------------
t=$(date +%s.%N)
targets="$B/zcrxd $B/zcrxctl $B/tests/fake-vhost-zcrx $B/tests/rsspkt"
[ -e tests/tools/zcrxd-seams.c ] && targets="$targets $B/tests/zcrxd-seams"
if [ "${ZXV_NO_MAKE:-0}" != 1 ]; then
	mk=(make -s --no-print-directory)
	case $B in
	build) ;;
	build/asan) mk+=(SANITIZE=1) ;;
	build/clang) mk+=(CC=clang B=build/clang) ;;
	*) mk+=("B=$B") ;;
	esac
	"${mk[@]}" $targets > "$CACHE/make$FLAVOR.log" 2>&1 ||
		{ cat "$CACHE/make$FLAVOR.log"; fail "make $targets"; }
fi
for x in $targets; do [ -x "$x" ] || fail "$x not built"; done
# the guest helper: static, so it needs nothing in the guest
zkey=$(cat tests/sim-nic/tools/* zcrxd/nic-uapi.h | sha256sum | cut -c1-16)
ZXSIM=$CACHE/zxsim-$zkey
if [ ! -x "$ZXSIM" ]; then
	rm -f "$CACHE"/zxsim-*
	${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
		-Wmissing-prototypes -Wformat=2 -Wvla -D_GNU_SOURCE -Izcrxd -static \
		-o "$ZXSIM.tmp" tests/sim-nic/tools/*.c || fail "cannot build the guest helper zxsim"
	mv "$ZXSIM.tmp" "$ZXSIM"
fi
step "binaries: $targets, zxsim" "$t"

# --- downloads, module builds, base image (cached) --------------------------------
t=$(date +%s.%N)
tests/sim-nic/fetch.sh "$CACHE" 2> "$CACHE/fetch.err"
rc=$?
[ $rc = 77 ] && skip "cannot fetch the guest kernel: $(tail -1 "$CACHE/fetch.err")"
[ $rc = 0 ] || { cat "$CACHE/fetch.err"; fail "fetch.sh exit $rc"; }
# shellcheck source=/dev/null
. "$CACHE/current.env"
step "fetch: kernel $KABI, $(awk -v b="$FETCHED" 'BEGIN { printf "%.1f MB", b / 1e6 }') downloaded" "$t"

t=$(date +%s.%N)
MODS=$(tests/sim-nic/build.sh "$CACHE") || fail "build.sh (netdevsim)"
step "netdevsim and netdevsim-zx built for $KABI with $KGCC ($(basename "$MODS"))" "$t"

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

t=$(date +%s.%N)
key=$( { echo "$KDIR $MODS"; cat tests/sim-nic/mkinitrd.sh tests/sim-nic/guest/init \
	tests/driver-vm/lib.sh; ls -l /bin/busybox "$ETHTOOL" "$(command -v ip)" \
	"$(command -v jq)"; } | sha256sum | cut -c1-16)
base=$CACHE/base-$key.cpio
if [ ! -e "$base" ]; then
	rm -f "$CACHE"/base-*.cpio
	tests/sim-nic/mkinitrd.sh "$CACHE" "$MODS" "$base" 2> "$CACHE/mkinitrd.err" ||
		{ cat "$CACHE/mkinitrd.err"; fail "mkinitrd.sh"; }
fi
step "base image $(basename "$base")" "$t"

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
	rm -rf "$run"
	mkdir -p "$run"
	scripts=()
	for s in "${all[@]}"; do
		want=$(sed -n 's/^# boots: *//p' "tests/sim-nic/guest/$s" | head -1)
		case " $want " in *" $bt "*) scripts+=("$s") ;; esac
	done
	[ ${#scripts[@]} -gt 0 ] || continue
	tests/sim-nic/mkpayload.sh "$B" "$ZXSIM" "$run/payload.cpio" "${scripts[@]}" ||
		fail "mkpayload.sh"
	python3 tests/sim-nic/boot.py --kernel "$KDIR/usr/lib/modules/$KABI/vmlinuz" \
		--initrd "$base" --payload "$run/payload.cpio" --out "$run" --variant "$v" \
		--name "$bt" --qemu "$QEMU" --timeout "${ZXS_TIMEOUT:-480}" --smp 1 --mem 1024 &
	pids+=($!)
	echo "# booting $bt (netdevsim $([ "$v" = zx ] && echo "-zx" || echo "stock")): ${scripts[*]}"
done
bootrc=0
for p in "${pids[@]}"; do wait "$p" || bootrc=1; done
step "boots done, logs in $CACHE/run-*$FLAVOR/" "$t"

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
[ "$todo" = 0 ] || echo "# $todo known failure(s) marked TODO (bugs reported elsewhere), not counted"
if [ $bootrc != 0 ] && [ "$failed" = 0 ]; then
	echo "not ok - a guest run failed (see above and $CACHE/run-*$FLAVOR/console.log)"
	failed=1
fi
echo "# total $(elapsed "$T0")s"
echo "sim-nic: $passed passed, $failed failed (simulated driver, real kernel core)"
[ "$failed" = 0 ]
