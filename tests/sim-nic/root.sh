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

# A build kept in the cache by a key over all its inputs, for a script that
# has set C (the cache) and sourced CACHE/current.env:
#   build_begin NAME KEY   when CACHE/NAME-KEY holds a finished build, print
#                          it and exit 0; else make it afresh, empty, in OUT
#                          (log: $OUT/build.log)
#   build_logged CMD...    run CMD with its output in the log; when it fails,
#                          the log's tail on stderr and exit 1 (set -e does
#                          not stop CMD: its steps are chained with &&)
#   build_done NAME        mark OUT finished, remove CACHE/NAME-* of other
#                          keys (older inputs) and print OUT
build_begin() {
	OUT=$C/$1-$2
	if [ -e "$OUT/.ok" ]; then
		echo "$OUT"
		exit 0
	fi
	rm -rf "$OUT"
	mkdir -p "$OUT"
	log=$OUT/build.log
}

build_logged() {
	"$@" > "$log" 2>&1 || { tail -30 "$log" >&2; echo "build: see $log" >&2; exit 1; }
}

build_done() {
	local d
	touch "$OUT/.ok"
	for d in "$C/$1"-*; do
		[ "$d" = "$OUT" ] || rm -rf "$d"
	done
	echo "$OUT"
}
