#!/bin/bash
# SPDX-License-Identifier: MIT
#
# mkinitrd.sh KDIR OUT — build the base initramfs of the driver-VM guest from an
# unpacked kernel (kernel.sh) into the cpio OUT.  It holds:
#   /bin/busybox (busybox-static) and its applet links,
#   /init (guest/init),
#   the NIC modules ($ZXV_MODULES, default "virtio_net vmxnet3") and every
#     module they depend on (modules.dep), decompressed, in load order,
#   ethtool (cross-checks, and the guest's view before project code existed)
#     and jq (JSON assertions), each with its ldd libraries.
# Per-run files (project binaries, guest scripts) are not here: they go in a
# second cpio appended at boot (mkpayload.sh), so this image is built once per
# kernel and cached by run.sh.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib.sh"
KDIR=$(readlink -f "$1")
OUT=$2
KVER=$(cat "$KDIR/kver")
MODDIR=$KDIR/lib/modules/$KVER
R=$(mktemp -d "${TMPDIR:-/tmp}/zxv-initrd.XXXXXX")
trap 'rm -rf "$R"' EXIT

mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,lib/modules}
cp /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$R/bin/$a"
done
install -m 0755 "$HERE/guest/init" "$R/init"
copy_bin "$R" "$(command -v ethtool)" /usr/sbin/ethtool
copy_bin "$R" "$(command -v jq)" /usr/bin/jq

declare -A seen=()
order=()
add_module() {
	local name=$1 line deps dep path
	[ -n "${seen[$name]:-}" ] && return 0
	seen[$name]=1
	grep -qE "(^|/)$name\.ko$" "$MODDIR/modules.builtin" && return 0
	line=$(grep -E "(^|/)$name\.ko(\.xz|\.zst)?:" "$MODDIR/modules.dep" | head -1) ||
		{ echo "mkinitrd: no module $name in $KVER" >&2; return 1; }
	path=${line%%:*}
	deps=${line#*:}
	for dep in $deps; do
		dep=$(basename "$dep")
		add_module "${dep%%.ko*}"
	done
	case $path in
	*.xz) xz -dc "$MODDIR/$path" ;;
	*.zst) zstd -qdc "$MODDIR/$path" ;;
	*) cat "$MODDIR/$path" ;;
	esac > "$R/lib/modules/$name.ko"
	order+=("$name")
}
for m in ${ZXV_MODULES:-virtio_net vmxnet3}; do
	add_module "$m"
done
printf '%s\n' "${order[@]}" > "$R/lib/modules/load.list"
echo "$KVER" > "$R/kver"
mkcpio "$R" "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "mkinitrd: $OUT ($(du -h "$OUT" | cut -f1)) kernel $KVER, modules: ${order[*]}" >&2
