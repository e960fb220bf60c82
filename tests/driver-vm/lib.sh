# SPDX-License-Identifier: MIT
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
