#!/bin/bash
# SPDX-License-Identifier: MIT
#
# host-checks.sh SRC HEADERS — what the sim-nic tier checks about the
# vhost_zcrx reference module on the host, against the kernel it is built
# for (one "ok - ..." / "not ok - ..." line each; exit 1 when one failed):
#   - tests/kmod/vhost_zcrx/*.[ch] are clean for the kernel's own
#     scripts/checkpatch.pl --strict (SRC: the extracted linux-source);
#   - the kernel exports nothing a module could install a page-pool memory
#     provider with (README.md, "Why there is no provider"): each function is
#     declared in HEADERS' include/net/page_pool/memory_provider.h and absent
#     from HEADERS/Module.symvers, the export list modpost links a module
#     against; netdev_rx_queue_restart, which is exported, shows that the
#     list is being read.  The day a kernel exports them, this fails and says
#     to bind a real provider.
# HEADERS: the build root's /usr/src/linux-headers-<abi> (its include/ is in
# the -common directory beside it, found through its Makefile's include).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ $# = 2 ] || { echo "usage: $0 SRC HEADERS" >&2; exit 2; }
SRC=$1
H=$2
rc=0

if out=$(cd "$HERE/vhost_zcrx" && perl "$SRC/scripts/checkpatch.pl" --strict --no-tree -q -f \
	./*.[ch] 2>&1) && [ -z "$out" ]; then
	echo "ok - vhost_zcrx reference module (tests/kmod/vhost_zcrx) is checkpatch.pl --strict clean"
else
	echo "not ok - vhost_zcrx reference module: checkpatch.pl --strict"
	echo "$out" | sed 's/^/# /'
	rc=1
fi

MP_SYMS="netif_mp_open_rxq netif_mp_close_rxq net_mp_niov_set_page_pool net_mp_niov_clear_page_pool
net_mp_niov_set_dma_addr"
syms=$H/Module.symvers
decl=$(ls "$H"/../linux-headers-*-common/include/net/page_pool/memory_provider.h \
	"$H"/include/net/page_pool/memory_provider.h 2> /dev/null | head -1)
exported() { awk -v s="$1" '$2 == s { f = 1 } END { exit !f }' "$syms"; }
why=
if [ ! -s "$syms" ] || [ -z "$decl" ]; then
	why="no $syms or memory_provider.h under $H"
elif ! exported netdev_rx_queue_restart; then
	why="netdev_rx_queue_restart is not in $syms: the list cannot be read"
else
	for s in $MP_SYMS; do
		grep -Eq "\\b$s\\(" "$decl" || { why="$s is not declared in $decl"; break; }
		! exported "$s" || { why="$s is exported now: bind a real provider (README)"; break; }
	done
fi
if [ -z "$why" ]; then
	echo "ok - the kernel exports none of $(echo $MP_SYMS | tr ' ' ','): no module-owned memory provider (Module.symvers)"
else
	echo "not ok - the missing exports of tests/kmod/vhost_zcrx/README.md: $why"
	rc=1
fi
exit $rc
