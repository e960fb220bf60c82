#!/bin/bash
# SPDX-License-Identifier: MIT
#
# prepare.sh TARGET... — everything a sim-nic boot needs, made or found in
# the cache (build/sim-nic), for the sim-nic tier (run.sh) and `make demo`
# (tools/demo-sim.sh) alike:
#   - the host's tools (QEMU, busybox-static, jq, gojq, ...; installed when
#     missing) and a QEMU that starts with TCG
#   - the project's TARGETs (make; ZCRX_BUILD picks the flavour,
#     ZXV_NO_MAKE=1 uses what is built) and the static guest helper zxsim
#   - fetch.sh (kernel, build root, netdevsim source, ethtool), build.sh
#     (netdevsim.ko, netdevsim-zx.ko), tests/kmod/build.sh (vhost_zcrx.ko),
#     mkinitrd.sh (the base image)
# and writes build/sim-nic/ready<flavour>.env for boot.sh: fetch.sh's
# current.env plus QEMU, ZXSIM, MODS, KMOD, BASE and VMLINUZ.
#
# The caller holds build/sim-nic/.lock (flock), from before this script to
# after its boots: the cache is shared by every build flavour, and a new
# kernel upload replaces what an earlier run would still boot.
#
# Output: "# ..." progress lines with each step's elapsed time; on failure
# the last line says why.  Exit status: 0 ready, 77 this machine cannot run
# the guest ("SKIP: sim-nic: REASON": not root, no network namespace, QEMU
# cannot start, the Debian archive unreachable), 1 a failure ("not ok -
# sim-nic setup: REASON", with the failing step's output before it).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/../.." || exit 1
B=${ZCRX_BUILD:-build}
CACHE=build/sim-nic
FLAVOR=$(echo "${B#build}" | tr / -)

skip() { echo "SKIP: sim-nic: $*"; exit 77; }
fail() { echo "not ok - sim-nic setup: $*"; exit 1; }
elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
step() { echo "# $1 ($(elapsed "$2")s)"; }

# --- can this machine run the guest? ------------------------------------------
[ "$(id -u)" = 0 ] || skip "needs root (chroot for the module build, network namespaces)"
unshare -n true 2>/dev/null || skip "cannot create a network namespace (unshare -n)"
need=
for p in qemu-system-x86_64:qemu-system-x86 busybox:busybox-static depmod:kmod cpio:cpio \
	xz:xz-utils jq:jq gojq:gojq ip:iproute2 python3:python3 dpkg-deb:dpkg apt-get:apt perl:perl; do
	command -v "${p%%:*}" > /dev/null || need="$need ${p#*:}"
done
{ [ -x /bin/busybox ] && ! ldd /bin/busybox > /dev/null 2>&1; } || need="$need busybox-static"
if [ -n "$need" ]; then
	echo "# installing$need"
	# shellcheck disable=SC2086
	{ apt-get -o DPkg::Lock::Timeout=300 update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
			--no-install-recommends $need; } > /dev/null 2>&1 ||
		skip "cannot install$need (apt-get failed)"
fi
QEMU=${ZXS_QEMU:-qemu-system-x86_64}
qerr=$(echo quit | timeout 20 "$QEMU" -M none -accel tcg -display none -nodefaults \
	-monitor stdio 2>&1 > /dev/null) || skip "QEMU does not start with TCG: ${qerr:-exit $?}"
mkdir -p "$CACHE"

# --- project binaries -----------------------------------------------------------
t=$(date +%s.%N)
if [ "${ZXV_NO_MAKE:-0}" != 1 ] && [ $# -gt 0 ]; then
	mk=(make -s --no-print-directory -j2)
	case $B in
	build) ;;
	build/asan) mk+=(SANITIZE=1) ;;
	build/clang) mk+=(CC=clang B=build/clang) ;;
	*) mk+=("B=$B") ;;
	esac
	"${mk[@]}" "$@" > "$CACHE/make$FLAVOR.log" 2>&1 ||
		{ cat "$CACHE/make$FLAVOR.log"; fail "make $*"; }
fi
for x in "$@"; do [ -x "$x" ] || fail "$x not built"; done
# the guest helper: static, so it needs nothing in the guest; its MACs are
# read by the project's one hex reader (lib/hex.c)
zkey=$(cat tests/sim-nic/tools/* zcrxd/nic-uapi.h lib/hex.[ch] | sha256sum | cut -c1-16)
ZXSIM=$CACHE/zxsim-$zkey
if [ ! -x "$ZXSIM" ]; then
	rm -f "$CACHE"/zxsim-*
	${CC:-cc} -std=gnu11 -O2 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
		-Wmissing-prototypes -Wformat=2 -Wvla -D_GNU_SOURCE -Izcrxd -Ilib -static \
		-o "$ZXSIM.tmp" tests/sim-nic/tools/*.c lib/hex.c || fail "cannot build the guest helper zxsim"
	mv "$ZXSIM.tmp" "$ZXSIM"
fi
step "binaries: $*${*:+, }zxsim" "$t"

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
t=$(date +%s.%N)
KMOD=$(tests/kmod/build.sh "$CACHE") || fail "tests/kmod/build.sh (vhost_zcrx)"
step "the vhost_zcrx reference module built ($(basename "$KMOD"))" "$t"

t=$(date +%s.%N)
key=$( { echo "$KDIR $MODS"; cat tests/sim-nic/mkinitrd.sh tests/sim-nic/guest/init \
	tests/driver-vm/lib.sh; ls -l /bin/busybox "$ETHTOOL" "$(command -v ip)" \
	"$(command -v gojq)"; } | sha256sum | cut -c1-16)
BASE=$CACHE/base-$key.cpio
if [ ! -e "$BASE" ]; then
	rm -f "$CACHE"/base-*.cpio
	tests/sim-nic/mkinitrd.sh "$CACHE" "$MODS" "$BASE" 2> "$CACHE/mkinitrd.err" ||
		{ cat "$CACHE/mkinitrd.err"; fail "mkinitrd.sh"; }
fi
step "base image $(basename "$BASE")" "$t"

{
	cat "$CACHE/current.env"
	echo "QEMU='$QEMU'"
	echo "ZXSIM='$ZXSIM'"
	echo "MODS='$MODS'"
	echo "KMOD='$KMOD'"
	echo "BASE='$BASE'"
	echo "VMLINUZ='$KDIR/usr/lib/modules/$KABI/vmlinuz'"
} > "$CACHE/ready$FLAVOR.env"
