#!/bin/bash
# SPDX-License-Identifier: MIT
#
# boot.sh BOOT RUN_DIR SCRIPT... — one sim-nic guest boot with what
# prepare.sh made (build/sim-nic/ready<flavour>.env).  BOOT is stock, zx or
# zxN (netdevsim-zx; the name tells boots apart in the output).  The
# per-run payload (mkpayload.sh: the project's binaries of ZCRX_BUILD,
# zxsim, the guest SCRIPTs; tests/kmod/payload.sh: the vhost_zcrx module
# installed for modprobe, vzclient) is appended to the base image and booted by
# boot.py; its logs and results.txt go to RUN_DIR (made anew).  Stdout:
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
tests/sim-nic/mkpayload.sh "$B" "$ZXSIM" "$run/payload.cpio" "$@" ||
	{ echo "not ok - [$bt] mkpayload.sh"; exit 1; }
# the vhost_zcrx reference module installed for modprobe, vzclient, the ABI
if [ -n "${KMOD:-}" ]; then
	{ tests/kmod/payload.sh build/sim-nic "$KMOD" "$B" "$run/kmod.cpio" &&
		cat "$run/kmod.cpio" >> "$run/payload.cpio"; } ||
		{ echo "not ok - [$bt] tests/kmod/payload.sh"; exit 1; }
fi
exec python3 tests/sim-nic/boot.py --kernel "$VMLINUZ" --initrd "$BASE" \
	--payload "$run/payload.cpio" --out "$run" --variant "${bt%%[0-9]*}" --name "$bt" \
	--qemu "$QEMU" --timeout "${ZXS_TIMEOUT:-480}" --smp "${ZXS_SMP:-1}" --mem 1024
