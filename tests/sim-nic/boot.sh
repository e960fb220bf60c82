#!/bin/bash
# SPDX-License-Identifier: MIT
#
# boot.sh BOOT RUN_DIR SCRIPT... — one sim-nic guest boot with what
# prepare.sh made (build/sim-nic/ready<flavour>.env).  BOOT is stock, zx or
# zxN (netdevsim-zx; the name tells boots apart in the output).  The
# per-run payload (mkpayload.sh bin: the project's binaries of ZCRX_BUILD
# and zxsim; tests/kmod/payload.sh: the vhost_zcrx module installed for
# modprobe, vzclient; both kept in build/sim-nic/ keyed by what went in, so
# the boots of a run and later runs with the same binaries share them;
# mkpayload.sh scripts: the guest SCRIPTs) is appended to the base image and
# booted by boot.py; its logs and results.txt go to RUN_DIR (made anew).  Stdout:
# boot.py's result lines.  Exit status: boot.py's (0 pass, 1 fail).
# ZXS_TIMEOUT: QEMU's limit (default 480 s); ZXS_SMP: guest CPUs (1).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
cd "$HERE/../.." || exit 1
B=${ZCRX_BUILD:-build}
FLAVOR=$(echo "${B#build}" | tr / -)
[ $# -ge 3 ] || { echo "usage: $0 BOOT RUN_DIR SCRIPT..." >&2; exit 2; }
bt=$1
run=$2
shift 2
# shellcheck source=/dev/null
. "build/sim-nic/ready$FLAVOR.env" || exit 1
rm -rf "$run"
mkdir -p "$run"

# cached KIND FILE... -- CMD... : build/sim-nic/KIND-<key>.cpio, the key
# a hash of the named files' and directories' contents (the binaries that go
# in with their libraries, the scripts that make it); made by CMD (with OUT set to where to write) when missing,
# under a lock: the boots of a run start at once and share it.  Prints its
# path.
cached() {
	local kind=$1 key out f files=()
	shift
	while [ "$1" != -- ]; do
		files+=("$1")
		shift
	done
	shift
	key=$( { echo "$kind $B"; for f in "${files[@]}"; do
		if [ -d "$f" ]; then
			find "$f" -type f -print0 | LC_ALL=C sort -z | xargs -0 cat
		else
			cat "$f"
		fi
	done; } | sha256sum | cut -c1-16)
	out=build/sim-nic/$kind$FLAVOR-$key.cpio
	(
		flock 8
		[ -e "$out" ] && exit 0
		rm -f build/sim-nic/"$kind$FLAVOR"-*.cpio
		OUT=$out.tmp "$@" && mv "$out.tmp" "$out"
	) 8> "build/sim-nic/.$kind$FLAVOR.lock" || return 1
	echo "$out"
}
bins=()
for x in zcrxd zcrxctl tests/zcrxd-seams tests/fake-vhost-zcrx tests/rsspkt; do
	[ -x "$B/$x" ] && bins+=("$B/$x")
done
# ... and the libraries copy_bin takes with them (a host upgrade changes them)
libs() { for x in "$@"; do ldd "$x" 2> /dev/null | grep -o '/[^ ]*'; done | LC_ALL=C sort -u; }
mkbin() { tests/sim-nic/mkpayload.sh bin "$B" "$ZXSIM" "$OUT"; }
# shellcheck disable=SC2046
pbin=$(cached payload-bin tests/sim-nic/mkpayload.sh tests/driver-vm/lib.sh "$ZXSIM" \
	"${bins[@]}" $(libs "${bins[@]}") -- mkbin) || { echo "not ok - [$bt] mkpayload.sh bin"; exit 1; }
tests/sim-nic/mkpayload.sh scripts "$run/scripts.cpio" "$@" ||
	{ echo "not ok - [$bt] mkpayload.sh scripts"; exit 1; }
parts=("$pbin" "$run/scripts.cpio")
# the vhost_zcrx reference module installed for modprobe, vzclient, the ABI
if [ -n "${KMOD:-}" ]; then
	mkkmod() { tests/kmod/payload.sh build/sim-nic "$KMOD" "$B" "$OUT"; }
	mp=$(readlink -f "$(command -v modprobe)")
	# shellcheck disable=SC2046
	pkmod=$(cached payload-kmod tests/kmod tests/driver-vm/lib.sh lib/vhost_zcrx.h "$KMOD" \
		"$B/tests/vzclient" "$mp" $(libs "$B/tests/vzclient" "$mp") \
		build/sim-nic/current.env -- mkkmod) ||
		{ echo "not ok - [$bt] tests/kmod/payload.sh"; exit 1; }
	parts+=("$pkmod")
fi
pargs=()
for p in "${parts[@]}"; do pargs+=(--payload "$p"); done
exec python3 tests/sim-nic/boot.py --kernel "$VMLINUZ" --initrd "$BASE" "${pargs[@]}" --out "$run" --variant "${bt%%[0-9]*}" --name "$bt" \
	--qemu "$QEMU" --timeout "${ZXS_TIMEOUT:-480}" --smp "${ZXS_SMP:-1}" --mem 1024
