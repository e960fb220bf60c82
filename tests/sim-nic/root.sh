# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# root.sh — sourced by the scripts that build kernel code in the build root
# fetch.sh made ($ROOT, from CACHE/current.env).
#
# inroot CMD — run the shell command CMD in the build root, as root, with a
# /proc of its own (objtool reads it) in a private mount namespace that
# goes away with the command.
inroot() {
	unshare -m --propagation private sh -c \
		"mount -t proc proc '$ROOT/proc' && exec chroot '$ROOT' /bin/sh -ec \"\$0\"" "$1"
}

# kmake DIR [TARGET...] — kbuild for the out-of-tree module in DIR (a path
# inside the build root) against the kernel's own headers ($KABI), with the
# kernel's own compiler.
kmake() {
	local dir=$1
	shift
	inroot "make -C /usr/src/linux-headers-$KABI M=$dir -j2 ${*:-modules}"
}
