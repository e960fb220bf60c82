#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The libvirt tier: zcrxd against a real libvirtd 9.0 + QEMU (TCG) that this
# script starts (virtlogd, then libvirtd under tini -s; /dev/kvm kvm 0660),
# with the zcrx hook installed before libvirtd starts.  Runs, in order:
#   test_testdriver.py  test+unix:///default through that libvirtd: a second
#                       process drives domains, events and metadata changes
#                       drive attach/detach; reconnect, SIGSTOP
#   test_qemu.py        qemu:///system with real macvtaps: start/destroy, the
#                       hook (stdin XML, no deadlock), zcrxd down during a
#                       start, libvirtd restart and SIGSTOP, HookStrict
#   test_migration.py   live migration to a second libvirtd in its own mount
#                       namespace
#   test_unprivileged.py zcrxd as its unit runs it (uid 65534, CAP_NET_ADMIN
#                       and CAP_CHOWN only, libvirt read-only): events,
#                       a libvirtd restart, the hook through SocketGroup=
# Exit 0 pass, 77 skip (reason on the SKIP: line), 1 fail; the parts add
# up as tests/lib/tier.sh says (a partly skipped tier is not a pass).  Removes every
# domain, daemon, link and hook it made, also on failure.
# ZXL_TESTS="test_qemu ..." runs a subset; ZXL_KEEP=1 keeps $ZXL_STATE.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/libvirt/lib.sh
. tests/lib/tier.sh

B=${ZCRX_BUILD:-build}
tier_need_built "$B/zcrxd" "$B/zcrxctl" || exit 1
ZXL_STATE=$(mktemp -d /tmp/zxl.XXXXXX)
ZXL_STATE_OWNED=1
export ZXL_STATE ZCRX_BUILD=$B
lv_init
trap lv_cleanup EXIT
trap 'exit 1' INT TERM

# The hook as installed by `make install`, with this run's paths: zcrxctl
# and zcrxd from the build, the config and socket of the tests' zcrxd ("zcrx-a").
lv_install_hook conf/libvirt/qemu.d/zcrx /etc/libvirt/hooks/qemu.d/zcrx \
	-e "s|@BINDIR@|$PWD/$B|g" -e "s|@SBINDIR@|$PWD/$B|g" \
	-e "s|@SYSCONFDIR@|$ZXL_STATE/zcrx-a/etc|g" \
	-e "s|@RUNDIR@|$ZXL_STATE/zcrx-a/run|g"
# a veth pair as the "NIC" (each end can carry macvtaps), 8 queues
LV_VETH_OPTS="numrxqueues 8 numtxqueues 8" lv_veth zxlp0 zxlp1 || lv_die "veth"
lv_log "starting the system bus and polkitd (libvirtd's socket authentication)"
lv_polkit_start
lv_log "starting libvirtd"
lv_start

tier_begin libvirt
for t in ${ZXL_TESTS:-test_testdriver test_qemu test_migration test_unprivileged}; do
	echo "--- tests/libvirt/$t.py"
	tier_part "tests/libvirt/$t.py" python3 "tests/libvirt/$t.py"
done
tier_end
