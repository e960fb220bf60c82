#!/bin/bash
# SPDX-License-Identifier: MIT
#
# kernel.sh CACHE_DIR — make sure an unpacked, depmod'ed Debian 12 kernel of the
# 6.12 cloud flavour sits in CACHE_DIR/kernel/<package>_<version>/ and print
# that directory on stdout.
#
# The ABI is resolved at run time from the metapackage (nothing is pinned: the
# security archive rotates 6.12 ABIs), so a new upload is picked up by the next
# run and older unpacked kernels are pruned.  The .deb is fetched with
# `apt-get download` and only unpacked (dpkg-deb -x), never installed.
#
# Exit status: 0 ok, 77 when the kernel cannot be resolved or downloaded (the
# reason goes to stderr), 1 on anything else.
set -euo pipefail

mkdir -p "$1"
CACHE=$(cd "$1" && pwd)
META=${ZXV_KERNEL_META:-linux-image-6.12-cloud-amd64}
APT=(apt-get -o DPkg::Lock::Timeout=300 -o APT::Sandbox::User=root)

resolve() {
	{ apt-cache depends "$META" 2>/dev/null || true; } |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-6/ { print $2; exit }'
}

pkg=$(resolve)
if [ -z "$pkg" ]; then
	# No or stale package lists: refresh once.
	"${APT[@]}" update -qq >/dev/null 2>&1 || true
	pkg=$(resolve)
fi
if [ -z "$pkg" ]; then
	echo "cannot resolve $META to a kernel package (apt-cache depends found nothing)" >&2
	exit 77
fi
ver=$(apt-cache policy "$pkg" 2>/dev/null | awk '$1 == "Candidate:" { print $2; exit }')
[ -n "$ver" ] && [ "$ver" != "(none)" ] || { echo "no candidate version for $pkg" >&2; exit 77; }

key=${pkg}_${ver//[^A-Za-z0-9.+-]/_}
dir=$CACHE/kernel/$key
if [ -e "$dir/.ok" ]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$CACHE/kernel"
tmp=$(mktemp -d "$CACHE/kernel/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
if ! (cd "$tmp" && "${APT[@]}" download -qq "$pkg=$ver" >/dev/null 2>"$tmp/apt.err"); then
	echo "apt-get download $pkg=$ver failed: $(tail -1 "$tmp/apt.err")" >&2
	exit 77
fi
mkdir "$tmp/root"
dpkg-deb -x "$tmp"/*.deb "$tmp/root"
rm -f "$tmp"/*.deb
kver=$(ls "$tmp/root/lib/modules")
[ -n "$kver" ] && [ -e "$tmp/root/boot/vmlinuz-$kver" ] || { echo "$pkg: no kernel image inside" >&2; exit 1; }
# Debian's packages carry no modules.dep: it is made at install time.
depmod -b "$tmp/root" "$kver"
echo "$kver" > "$tmp/root/kver"
touch "$tmp/root/.ok"

# Replace older ABIs (and any half-made copy of this one) by the new one.
for old in "$CACHE"/kernel/*/; do
	[ "${old%/}" = "$dir" ] || rm -rf "$old"
done
rm -rf "$dir"
mv "$tmp/root" "$dir"
echo "$dir"
