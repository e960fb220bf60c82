#!/bin/bash
# SPDX-License-Identifier: MIT
#
# tools/demo-libvirt.sh [--summary FILE] — part one of `make demo`
# (tools/demo.sh): the attach path for real.  Starts libvirtd + QEMU (TCG) the way the
# libvirt tier does (virtlogd, libvirtd under tini -s, the zcrx hook
# installed first), makes a veth "NIC" with 8 queues, defines a small
# disk-less domain with a type='direct' vNIC on it and zcrx metadata, starts
# zcrxd, starts the domain and shows what zcrxd did (zcrxctl list / nics:
# the attachment, with honest degraded reasons for a veth), destroys the
# domain and shows the detach.  Removes everything it made, also on failure.
# --summary FILE: a few lines of what it showed, for the demo's closing
# "what you just saw" (written when the part got through).
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
B=${ZCRX_BUILD:-build}
. tests/libvirt/lib.sh

NIC=zxld0
DOM=zxl-demo
MAC=52:54:00:de:00:01
ZPID=
SUMMARY=
[ "${1:-}" = --summary ] && SUMMARY=$2

# bold commands and dim notes on a terminal; plain text into a file
if [ -t 1 ]; then
	say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
	note() { printf '\033[2m# %s\033[0m\n' "$*"; }
else
	say() { printf '\n$ %s\n' "$*"; }
	note() { printf '# %s\n' "$*"; }
fi
ctl() { "$B/zcrxctl" --socket "$ZXL_STATE/zcrx/run/io.zcrx.Manager" "$@"; }

cleanup() {
	local rc=$?
	if [ -n "$ZPID" ]; then
		kill -TERM "$ZPID" 2>/dev/null
		wait "$ZPID" 2>/dev/null
	fi
	lv_cleanup
	return $rc
}

[ "$(id -u)" = 0 ] || { echo "demo: needs root (libvirtd, macvtap)" >&2; exit 1; }
for f in "$B/zcrxd" "$B/zcrxctl"; do
	[ -x "$f" ] || { echo "demo: $f not built (make)" >&2; exit 1; }
done
ZXL_STATE=$(mktemp -d /tmp/zxl-demo.XXXXXX)
# shellcheck disable=SC2034 # read by lv_cleanup (tests/libvirt/lib.sh)
ZXL_STATE_OWNED=1
( lv_init ) || { echo "demo: libvirtd/QEMU not available (make deps installs them)" >&2;
	rm -rf "$ZXL_STATE"; exit 1; }
lv_init
trap cleanup EXIT
trap 'exit 1' INT TERM
mkdir -p "$ZXL_STATE/zcrx/etc/zcrx"

say "install -m 0755 conf/libvirt/qemu.d/zcrx /etc/libvirt/hooks/qemu.d/zcrx"
note "before libvirtd starts: it looks for hooks only then (or on SIGHUP)"
lv_install_hook conf/libvirt/qemu.d/zcrx /etc/libvirt/hooks/qemu.d/zcrx \
	-e "s|@BINDIR@|$PWD/$B|g" -e "s|@SBINDIR@|$PWD/$B|g" \
	-e "s|@SYSCONFDIR@|$ZXL_STATE/zcrx/etc|g" -e "s|@RUNDIR@|$ZXL_STATE/zcrx/run|g"

say "ip link add $NIC numrxqueues 8 numtxqueues 8 type veth peer name zxld1 ..."
note "a veth stands in for the physical NIC: 8 queues, channels only"
LV_VETH_OPTS="numrxqueues 8 numtxqueues 8" lv_veth "$NIC" zxld1 || exit 1

say "virtlogd -d; setsid tini -s -- libvirtd &"
lv_start
virsh -q -c qemu:///system version | sed 's/^/  /'

cat >"$ZXL_STATE/zcrx/etc/zcrx/zcrxd.conf" <<EOF
[daemon]
LibvirtURI=qemu:///system
AutoAttach=metadata
[nic $NIC]
ReserveQueues=2
EOF
say "cat zcrxd.conf"
cat "$ZXL_STATE/zcrx/etc/zcrx/zcrxd.conf"

say "zcrxd --config zcrxd.conf &"
"$B/zcrxd" --config "$ZXL_STATE/zcrx/etc/zcrx/zcrxd.conf" --runtime-dir "$ZXL_STATE/zcrx/run" \
	--state-dir "$ZXL_STATE/zcrx/state" >"$ZXL_STATE/zcrxd.log" 2>&1 &
ZPID=$!
# shellcheck disable=SC2317
connected() { ctl --json status 2>/dev/null | grep -q '"state": *"connected"'; }
lv_wait 20 connected || { cat "$ZXL_STATE/zcrxd.log"; echo "demo: zcrxd did not connect"; exit 1; }
ctl status

LV_DOM_UUID=5a1b0000-0000-4000-8000-00000000de01 \
LV_DOM_META="    <zcrx:config xmlns:zcrx=\"http://zcrx.dev/xmlns/libvirt/1.0\">
      <zcrx:nic mac=\"$MAC\" queues=\"1\"/>
    </zcrx:config>" \
	lv_domain_xml "$DOM" "$(lv_direct_if "$MAC" "$NIC" bridge)" >"$ZXL_STATE/$DOM.xml"
say "virsh define $DOM.xml    # type='qemu' (TCG), 64 MiB, no disk, one macvtap vNIC"
grep -E "interface|source|zcrx" "$ZXL_STATE/$DOM.xml" | sed 's/^/  /'
lv_virsh define "$ZXL_STATE/$DOM.xml" >/dev/null || exit 1

say "virsh start $DOM"
lv_virsh start "$DOM" || exit 1
# shellcheck disable=SC2317
attached() { ctl --json list 2>/dev/null | grep -q "$MAC"; }
lv_wait 20 attached || { cat "$ZXL_STATE/zcrxd.log"; echo "demo: no attachment"; exit 1; }
say "ip -d link show type macvtap"
ip -d -br link show type macvtap | sed 's/^/  /'

say "zcrxctl list"
ctl list
att=$(ctl --json=short list 2>/dev/null | jq -r --arg m "$MAC" '.attachments[] |
	select(.mac == $m) | "\(.state) on queue(s) \(.queues | map(tostring) | join(",")),
	reasons: \([.reasons[].code] | join(", "))"' | tr -s '\n\t' '  ' | sed 's/ *$//')
say "zcrxctl nics $NIC"
ctl nics "$NIC"

say "virsh destroy $DOM"
lv_virsh destroy "$DOM" >/dev/null || exit 1
# shellcheck disable=SC2317
detached() { ! attached; }
lv_wait 20 detached || { echo "demo: still attached"; exit 1; }
say "zcrxctl list"
ctl list

say "zcrxd's log (libvirt and attachment lines)"
grep -E "virt|attach|detach" "$ZXL_STATE/zcrxd.log" | sed 's/^/  /'
say "cleanup: undefine, kill zcrxd, libvirtd, virtlogd (by pid), ip link del $NIC, rm hook"
[ -z "$SUMMARY" ] || cat >"$SUMMARY" <<EOF
Part one: a real libvirtd and QEMU domain on a veth (tools/demo-libvirt.sh)
  virsh start $DOM: the hook attached its vNIC $MAC: ${att:-?}
    (a veth has no n-tuple rules, no RSS table and no vhost_zcrx: each "no" names why)
  virsh destroy $DOM: the attachment went away with the domain
EOF
