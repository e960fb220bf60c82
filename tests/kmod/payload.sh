#!/bin/bash
# SPDX-License-Identifier: MIT
#
# payload.sh CACHE KMOD_DIR BUILD_DIR OUT.cpio — what the sim-nic guest
# needs to test the vhost_zcrx reference module, as a cpio appended to the
# run's payload:
#   /payload/kmod/root/: what installing the module puts in place, copied
#       into / by the guest script that tests it (and removed again, so that
#       no other script's zcrxd autoloads it):
#       lib/modules/<kver>/extra/vhost_zcrx.ko and depmod's files for it, so
#       that the kernel's request_module() finds it by the family's alias;
#       sbin/modprobe (kmod, as a distribution has it; what request_module()
#       runs)
#   kmod's ldd libraries, at their own paths
#   /payload/bin/vzclient (BUILD_DIR/tests/vzclient) with its libraries
#   /payload/kmod/policy.expected and cases: lib/vhost_zcrx.h's request
#       policy and the malformed requests it implies (abi-policy.py)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
# shellcheck source=../driver-vm/lib.sh
. "$TOP/tests/driver-vm/lib.sh"
[ $# = 4 ] || { echo "usage: $0 CACHE KMOD_DIR BUILD_DIR OUT.cpio" >&2; exit 2; }
C=$(cd "$1" && pwd)
KMOD=$2
B=$3
OUT=$4
# shellcheck source=/dev/null
. "$C/current.env"
MODDIR=$KDIR/usr/lib/modules/$KABI
R=$(mktemp -d "${TMPDIR:-/tmp}/zxs-kmod.XXXXXX")
trap 'rm -rf "$R"' EXIT

I=$R/payload/kmod/root
M=$I/lib/modules/$KABI
mkdir -p "$M/extra" "$I/sbin"
cp "$KMOD/vhost_zcrx.ko" "$M/extra/"
# depmod needs to know what is built in; only our module is installed
for f in modules.builtin modules.builtin.modinfo modules.order; do
	[ -e "$MODDIR/$f" ] && cp "$MODDIR/$f" "$M/"
done
depmod -b "$I" "$KABI"
grep -q "net-pf-16-proto-16-family-vhost_zcrx vhost_zcrx" "$M/modules.alias" ||
	{ echo "payload: depmod wrote no alias for the family" >&2; exit 1; }
kmod=$(readlink -f "$(command -v modprobe)")
copy_bin "$R" "$kmod" /payload/kmod/modprobe
mv "$R/payload/kmod/modprobe" "$I/sbin/modprobe"
copy_bin "$R" "$B/tests/vzclient" /payload/bin/vzclient
python3 "$HERE/abi-policy.py" "$TOP/lib/vhost_zcrx.h" policy > "$R/payload/kmod/policy.expected"
python3 "$HERE/abi-policy.py" "$TOP/lib/vhost_zcrx.h" cases > "$R/payload/kmod/cases"
mkcpio "$R" "$OUT"
