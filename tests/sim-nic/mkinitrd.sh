#!/bin/bash
# SPDX-License-Identifier: MIT
#
# mkinitrd.sh CACHE MODULES_DIR OUT — the base initramfs of the sim-nic
# guest, for the kernel in CACHE/current.env, as an uncompressed cpio:
#   /bin/busybox (busybox-static) and its applet links, /init (guest/init)
#   /lib/modules: the modules of $ZXS_MODULES (default: psample, which
#     netdevsim needs, and macvtap) with their dependencies from the
#     kernel's modules.dep, in load order (load.list); netdevsim.ko and
#     netdevsim-zx.ko from MODULES_DIR (build.sh)
#   ethtool 7.x (fetch.sh), iproute2's ip (macvtap) and gojq as jq, each
#     with the libraries ldd resolves for it on this host
# The project's binaries and the guest scripts are not here: mkpayload.sh
# makes them a second cpio, appended at boot.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# = 3 ] || { echo "usage: $0 CACHE MODULES_DIR OUT" >&2; exit 2; }
C=$(cd "$1" && pwd)
MODS=$2
OUT=$3
# shellcheck source=/dev/null
. "$C/current.env"
# copy_bin and mkcpio: the driver-VM tier's, one implementation for both
# shellcheck source=../driver-vm/lib.sh
. "$HERE/../driver-vm/lib.sh"
MODDIR=$KDIR/usr/lib/modules/$KABI
R=$(mktemp -d "${TMPDIR:-/tmp}/zxs-initrd.XXXXXX")
trap 'rm -rf "$R"' EXIT

mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,run,lib/modules}
cp /bin/busybox "$R/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -s busybox "$R/bin/$a"
done
install -m 0755 "$HERE/guest/init" "$R/init"
copy_bin "$R" "$ETHTOOL" /usr/sbin/ethtool
copy_bin "$R" "$(command -v ip)" /usr/sbin/ip
# the guest's jq is gojq (Debian's, static): jq 1.6 compiles its builtins at
# every start, 0.5-0.8 s under TCG; gojq starts in 0.07-0.15 s (measured in
# this guest), and the scripts run jq dozens of times
copy_bin "$R" "$(command -v gojq)" /usr/bin/jq

declare -A seen=()
order=()
add_module() {
	local name=$1 line dep path
	[ -n "${seen[$name]:-}" ] && return 0
	seen[$name]=1
	grep -qE "(^|/)$name\.ko$" "$MODDIR/modules.builtin" && return 0
	line=$(grep -E "(^|/)$name\.ko(\.xz|\.zst)?:" "$MODDIR/modules.dep" | head -1) ||
		{ echo "mkinitrd: no module $name in $KABI" >&2; return 1; }
	path=${line%%:*}
	for dep in ${line#*:}; do
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
for m in ${ZXS_MODULES:-psample macvtap}; do
	add_module "$m"
done
printf '%s\n' "${order[@]}" > "$R/lib/modules/load.list"
cp "$MODS/netdevsim.ko" "$MODS/netdevsim-zx.ko" "$R/lib/modules/"
mkcpio "$R" "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "mkinitrd: $OUT ($(du -h "$OUT" | cut -f1)), $KABI, modules: ${order[*]}" >&2
