#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Driver-VM tier: the project's NIC-layer code against real Linux NIC drivers
# (virtio_net with RSS on a multi-queue tap, vmxnet3) in a QEMU/TCG guest
# running Debian 12's 6.12 cloud kernel.
#
#   tests/driver-vm/run.sh [SCRIPT...]     (root; default: every guest/[0-9]*.sh)
#
# Exit status: 0 pass, 1 fail, 77 skip (the reason is printed: not root, no
# /dev/net/tun, QEMU cannot be installed or does not start, kernel package
# unavailable).  Output: one "ok - ..." / "not ok - ..." line per check, "#"
# comments, and a closing "driver-vm: N passed, N failed" line.  A "not ok
# ... # TODO reason" line is a known failure (a bug reported to its owner):
# shown, not counted as failed.
#
# How it works (files beside this one):
#   kernel.sh     resolves linux-image-6.12-cloud-amd64 to today's ABI package,
#                 apt-get downloads and unpacks it, depmod -b; cached in
#                 build/driver-vm/kernel/<package>_<version>/ (an ABI rotation
#                 in the security archive is picked up by the next run).
#   mkinitrd.sh   base initramfs (busybox, NIC modules, /init, ethtool, jq),
#                 cached as build/driver-vm/base-<hash>.cpio, keyed by the
#                 kernel and the builder's inputs.
#   mkpayload.sh  per-run cpio appended to it: the project's binaries from
#                 $ZCRX_BUILD with their ldd libraries, and the guest scripts
#                 (build/driver-vm/run*/, with the logs of the last run).
#   vm.py         boots QEMU (-accel tcg, under timeout -k) in a private
#                 network namespace (unshare -n: the taps vanish with it),
#                 serves the guest's frame-injection requests on the taps with
#                 build/tests/rsspkt, collects results over the second serial
#                 port (the launcher itself: tests/lib/qemuguest.py, which
#                 sim-nic's boot.py uses too).
#   guest/        /init, lib.sh, and the guest scripts (one VM boot runs them
#                 all, in order, each leaving the NICs as it found them).
#
# Guest scripts (guest/NN-name.sh, busybox sh) source guest/lib.sh and write
# "ok - ..." / "not ok - ..." lines to fd 3; `inject MAC COUNT SPORT` asks
# the host for frames and returns once they are on the tap; `steer` and
# `steered` compare per-queue counters with the Toeplitz prediction.  Each
# script starts from and leaves the NICs in a known state, so one boot runs
# them all.  A verb or feature a script uses that is missing fails its
# checks: nothing is skipped quietly (20-zcrxd.sh checks zcrxctl's verbs).
#
# Debugging: run one script (tests/driver-vm/run.sh 10-nic.sh); the last
# run's console (command output of failed checks), results and QEMU log are
# in build/driver-vm/run/ (run-asan/ for ZCRX_BUILD=build/asan).
#
# Topology: eth0 = virtio-net-pci mq=on,rss=on,hash=on on a 4-queue tap
# (zxv0), eth1 = vmxnet3 on a 4-queue tap (zxv1); 2 vCPUs, so virtio starts
# with 2 of 4 channels.  Steering is checked on virtio only: QEMU 7.2's vmxnet3
# model delivers every frame on RX queue 0 whatever the guest's table says (and
# vmxnet3 has no per-queue qstats in 6.12).
#
# Environment: ZCRX_BUILD (build dir, default build; ZCRX_BUILD=build/asan runs
# the sanitized binaries in the guest), ZXV_TIMEOUT (QEMU limit, default 120 s),
# ZXV_KERNEL_META (kernel metapackage, default linux-image-6.12-cloud-amd64),
# ZXV_NO_MAKE=1 (use what is built, do not call make), ZXV_QEMU (QEMU binary).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
cd "$TOP"
B=${ZCRX_BUILD:-build}
CACHE=build/driver-vm           # shared by every build flavour
RUN=$CACHE/run$(echo "${B#build}" | tr / -)  # this run's payload and logs
T0=$(date +%s.%N)

skip() { echo "SKIP: driver-vm: $*"; exit 77; }
fail() { echo "not ok - driver-vm setup: $*"; echo "driver-vm: 0 passed, 1 failed"; exit 1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
step() { echo "# $1 ($(elapsed "$2")s)"; }

# --- can this machine run the tier? -----------------------------------------
[ "$(id -u)" = 0 ] || skip "needs root (network namespace and taps for QEMU)"
[ -c /dev/net/tun ] || skip "no /dev/net/tun (QEMU needs taps for multi-queue NICs)"
unshare -n true 2>/dev/null || skip "cannot create a network namespace (unshare -n)"
need=
for p in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static depmod:kmod cpio:cpio \
	xz:xz-utils jq:jq ethtool:ethtool ip:iproute2 python3:python3 dpkg-deb:dpkg; do
	command -v "${p%%:*}" > /dev/null || need="$need ${p#*:}"
done
# The guest needs the static busybox (package busybox-static), not the dynamic one.
{ [ -x /bin/busybox ] && ! ldd /bin/busybox > /dev/null 2>&1; } || need="$need busybox-static"
if [ -n "$need" ]; then
	command -v apt-get > /dev/null || skip "missing$need and no apt-get to install them"
	echo "# installing$need"
	{ apt-get -o DPkg::Lock::Timeout=300 update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
			--no-install-recommends $need; } > /dev/null 2>&1 ||
		skip "cannot install$need (apt-get failed)"
fi
QEMU=${ZXV_QEMU:-qemu-system-x86_64}
qerr=$(echo quit | timeout 20 "$QEMU" -M none -accel tcg -display none -nodefaults \
	-monitor stdio 2>&1 > /dev/null) || skip "QEMU does not start with TCG: ${qerr:-exit $?}"

mkdir -p "$CACHE"
exec 9> "$CACHE/.lock"
flock 9 # one run at a time (shared cache)
run=$RUN
rm -rf "$run"
mkdir -p "$run"

# --- project binaries ---------------------------------------------------------
t=$(date +%s.%N)
targets="$B/tests/rsspkt"
[ -e tests/tools/nictool.c ] && targets="$targets $B/tests/nictool"
[ -e zcrxd/main.c ] && targets="$targets $B/zcrxd $B/zcrxctl $B/tests/zcrxd-seams"
if [ "${ZXV_NO_MAKE:-0}" != 1 ]; then
	mk=(make -s --no-print-directory)
	case $B in
	build) ;;
	build/asan) mk+=(SANITIZE=1) ;;
	build/clang) mk+=(CC=clang B=build/clang) ;;
	*) mk+=("B=$B") ;;
	esac
	"${mk[@]}" $targets > "$run/make.log" 2>&1 || { cat "$run/make.log"; fail "make $targets"; }
fi
for x in $targets; do [ -x "$x" ] || fail "$x not built"; done
step "binaries: $targets" "$t"

# --- kernel and base image (cached) -------------------------------------------
t=$(date +%s.%N)
kdir=$("$HERE/kernel.sh" "$CACHE" 2> "$run/kernel.err")
rc=$?
[ $rc = 77 ] && skip "no guest kernel: $(tail -1 "$run/kernel.err")"
[ $rc = 0 ] || { cat "$run/kernel.err"; fail "kernel.sh exit $rc"; }
kver=$(cat "$kdir/kver")
key=$( { echo "$kdir"; cat "$HERE/mkinitrd.sh" "$HERE/lib.sh" "$HERE/guest/init";
	ls -l /bin/busybox "$(command -v ethtool)" "$(command -v jq)"; } | sha256sum | cut -c1-16)
base=$CACHE/base-$key.cpio
if [ ! -e "$base" ]; then
	rm -f "$CACHE"/base-*.cpio
	"$HERE/mkinitrd.sh" "$kdir" "$base" || fail "mkinitrd.sh"
fi
step "kernel $kver, base image $(basename "$base")" "$t"

# --- payload -------------------------------------------------------------------
if [ $# -gt 0 ]; then
	scripts=("$@")
else
	scripts=()
	for s in "$HERE"/guest/[0-9]*.sh; do scripts+=("$(basename "$s")"); done
fi
"$HERE/mkpayload.sh" "$B" "$run/payload.cpio" "${scripts[@]}" || fail "mkpayload.sh"

# --- boot ----------------------------------------------------------------------
t=$(date +%s.%N)
echo "# booting: ${scripts[*]}"
python3 "$HERE/vm.py" --kernel "$kdir/boot/vmlinuz-$kver" --initrd "$base" \
	--payload "$run/payload.cpio" --out "$run" --rsspkt "$B/tests/rsspkt" --qemu "$QEMU" \
	--timeout "${ZXV_TIMEOUT:-120}" --smp 2 --mem 768 \
	--tap zxv0=52:54:00:78:76:01 --tap zxv1=52:54:00:78:76:02 -- \
	-netdev tap,id=n0,ifname=zxv0,script=no,downscript=no,queues=4,vhost=off \
	-device virtio-net-pci,netdev=n0,mq=on,vectors=10,rss=on,hash=on,romfile=,mac=52:54:00:78:76:01 \
	-netdev tap,id=n1,ifname=zxv1,script=no,downscript=no,queues=4,vhost=off \
	-device vmxnet3,netdev=n1,romfile=,mac=52:54:00:78:76:02
vmrc=$?
step "vm done, logs in $run/" "$t"

passed=$(grep -c '^ok ' "$run/results.txt")
failed=$(grep '^not ok' "$run/results.txt" | grep -vc '# TODO')
todo=$(grep '^not ok' "$run/results.txt" | grep -c '# TODO')
[ "$todo" = 0 ] || echo "# $todo known failure(s) marked TODO (bugs reported elsewhere), not counted"
grep -q '^ok .*# TODO' "$run/results.txt" &&
	echo "# a check marked TODO passes now: remove its marker in the guest script"
if [ $vmrc != 0 ] && [ "$failed" = 0 ]; then
	echo "not ok - guest run (see above and $run/console.log)"
	failed=1
fi
echo "# total $(elapsed "$T0")s"
echo "driver-vm: $passed passed, $failed failed"
[ "$failed" = 0 ]
