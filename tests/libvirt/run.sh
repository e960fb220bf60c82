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
# Exit 0 pass, 77 skip (reason on the SKIP: line), 1 fail.  Removes every
# domain, daemon, link and hook it made, also on failure.
# ZXL_TESTS="test_qemu ..." runs a subset; ZXL_KEEP=1 keeps $ZXL_STATE.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/libvirt/lib.sh

B=${ZCRX_BUILD:-build}
for f in "$B/zcrxd" "$B/zcrxctl"; do
	[ -x "$f" ] || { echo "SKIP: $f not built (make)"; exit 77; }
done
ZXL_STATE=$(mktemp -d /tmp/zxl.XXXXXX)
ZXL_STATE_OWNED=1
export ZXL_STATE ZCRX_BUILD=$B
lv_init
trap lv_cleanup EXIT
trap 'exit 1' INT TERM

# The hook as installed by `make install`, with this run's paths: zcrxctl
# from the build, the config and socket of the tests' zcrxd ("zcrx-a").
lv_install_hook conf/libvirt/qemu.d/zcrx /etc/libvirt/hooks/qemu.d/zcrx \
	-e "s|@BINDIR@|$PWD/$B|g" -e "s|@SYSCONFDIR@|$ZXL_STATE/zcrx-a/etc|g" \
	-e "s|@RUNDIR@|$ZXL_STATE/zcrx-a/run|g"
# a veth pair as the "NIC" (each end can carry macvtaps), 8 queues
LV_VETH_OPTS="numrxqueues 8 numtxqueues 8" lv_veth zxlp0 zxlp1 || lv_die "veth"
lv_log "starting libvirtd"
lv_start

rc=0
for t in ${ZXL_TESTS:-test_testdriver test_qemu test_migration}; do
	echo "--- tests/libvirt/$t.py"
	python3 "tests/libvirt/$t.py"
	r=$?
	if [ $r -eq 77 ]; then
		[ $rc -eq 0 ] && rc=77
	elif [ $r -ne 0 ]; then
		rc=1
	elif [ $rc -eq 77 ]; then
		rc=0
	fi
done
exit $rc
