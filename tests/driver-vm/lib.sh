# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# lib.sh — host-side helpers shared by the driver-VM scripts (sourced).

# copy_bin ROOT SRC [DST] — copy an executable into ROOT (at DST, default: the
# same path) together with every shared library ldd resolves for it, at the
# library's own path, so the guest's dynamic loader finds them as on the host.
copy_bin() {
	local root=$1 src=$2 dst=${3:-$2} lib
	mkdir -p "$root$(dirname "$dst")"
	cp -L "$src" "$root$dst"
	for lib in $(ldd "$src" 2>/dev/null | grep -o '/[^ ]*'); do
		[ -e "$root$lib" ] && continue
		mkdir -p "$root$(dirname "$lib")"
		cp -L "$lib" "$root$lib"
	done
}

# mkcpio DIR OUT — newc archive of DIR's content, owned by root, uncompressed
# (the kernel unpacks it without a decompressor, which is the cheap way under
# TCG; concatenated archives are fine).
mkcpio() {
	(cd "$1" && find . -mindepth 1 | LC_ALL=C sort | cpio --quiet -o -H newc -R 0:0) > "$2"
}

# payload_bins ROOT FILE... — those FILEs that are executables, into
# ROOT/payload/bin/ (copy_bin: with their libraries).
payload_bins() {
	local root=$1 bin
	shift
	mkdir -p "$root/payload/bin"
	for bin in "$@"; do
		if [ -x "$bin" ]; then
			copy_bin "$root" "$bin" "/payload/bin/$(basename "$bin")"
		fi
	done
}

# payload_scripts ROOT GUEST SCRIPT... — the guest's scripts into
# ROOT/payload/guest/: GUEST/lib.sh, tests/lib/printed-script.sh and each
# GUEST/SCRIPT; their names in ROOT/payload/scripts, in the order /init
# runs them.
payload_scripts() {
	local root=$1 guest=$2 s
	shift 2
	mkdir -p "$root/payload/guest"
	cp "$guest/lib.sh" "$(dirname "${BASH_SOURCE[0]}")/../lib/printed-script.sh" \
		"$root/payload/guest/"
	: > "$root/payload/scripts"
	for s in "$@"; do
		cp "$guest/$s" "$root/payload/guest/$s"
		echo "$s" >> "$root/payload/scripts"
	done
}
