#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Capture the domain XML fixtures of tests/fixtures/libvirt/ from a real
# libvirtd + QEMU (TCG) on this machine: live XML, the XML each hook operation
# gets on stdin (prepare/start/started/stopped/release/migrate/restore/
# reconnect), stop-time XML, a network interface rewritten to bridge, a
# passthrough macvtap, a multi-queue vNIC, metadata present/absent/invalid.
#
# Usage (root): tests/libvirt/capture-fixtures.sh [OUTDIR]
# Default OUTDIR is tests/fixtures/libvirt.  Takes ~15 s.  Cleans up after
# itself (domains, daemons, links, hooks) even on failure.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/libvirt/lib.sh

OUT=$(realpath -m "${1:-tests/fixtures/libvirt}")
ZXL_STATE_OWNED=1
lv_init
trap lv_cleanup EXIT
trap 'exit 1' INT TERM
mkdir -p "$OUT"

# A recording hook: one file per call, named NNN-DOMAIN-OP-SUBOP.xml.
HOOKS_A=$ZXL_STATE/hooks-a
HOOKS_B=$ZXL_STATE/hooks-b
mkdir -p "$HOOKS_A" "$HOOKS_B"
cat >"$ZXL_STATE/rec-hook" <<'EOF'
#!/bin/sh
d=@DIR@
n=$(ls "$d" | wc -l)
cat >"$d/$(printf %03d "$n")-$1-$2-$3.xml"
exit 0
EOF
lv_install_hook "$ZXL_STATE/rec-hook" /etc/libvirt/hooks/qemu.d/zxl-rec -e "s|@DIR@|$HOOKS_A|"

lv_veth zxlp0 zxlp1 || lv_die "veth"
lv_veth zxlp2 zxlp3 || lv_die "veth"
ip link add zxlbr0 type bridge && ip link set zxlbr0 up || lv_die "bridge"
sysctl -qw net.ipv6.conf.zxlbr0.disable_ipv6=1

lv_log "starting libvirtd"
lv_start
lv_b_prepare
lv_install_hook "$ZXL_STATE/rec-hook" "$LV_B/etc/hooks/qemu.d/zxl-rec" -e "s|@DIR@|$HOOKS_B|"
lv_b_start
B=$(lv_b_uri)

net_xml="<network><name>zxl-net</name><forward mode='bridge'/><bridge name='zxlbr0'/></network>"
echo "$net_xml" >"$ZXL_STATE/net.xml"
lv_virsh net-create "$ZXL_STATE/net.xml" >/dev/null || lv_die "net-create"
virsh -q -c "$B" net-create "$ZXL_STATE/net.xml" >/dev/null || lv_die "net-create B"

META0="    <zcrx:config xmlns:zcrx=\"http://zcrx.dev/xmlns/libvirt/1.0\">
      <zcrx:nic mac=\"52:54:00:7a:10:01\" queues=\"2\"/>
      <zcrx:nic mac=\"52:54:00:7a:10:04\" queues=\"4\" enable=\"yes\"/>
      <zcrx:nic mac=\"52:54:00:7a:10:02\" enable=\"no\"/>
    </zcrx:config>"

# zxl-vm0: direct (bridge mode), bridge, network, multi-queue direct; metadata.
LV_DOM_UUID=5a1b0000-0000-4000-8000-0000000010a0 LV_DOM_META=$META0 LV_DOM_VCPUS=2 \
LV_DOM_EXTRA="  <cputune><vcpupin vcpu='0' cpuset='0'/><vcpupin vcpu='1' cpuset='1'/></cputune>" \
	lv_domain_xml zxl-vm0 \
	"$(lv_direct_if 52:54:00:7a:10:01 zxlp0 bridge)" \
	"<interface type='bridge'><mac address='52:54:00:7a:10:02'/><source bridge='zxlbr0'/><model type='virtio'/><rom enabled='no'/></interface>" \
	"<interface type='network'><mac address='52:54:00:7a:10:03'/><source network='zxl-net'/><model type='virtio'/><rom enabled='no'/></interface>" \
	"$(lv_direct_if 52:54:00:7a:10:04 zxlp0 bridge 4)" >"$ZXL_STATE/vm0.xml"

# zxl-vm1: passthrough macvtap, no metadata, numatune.
LV_DOM_UUID=5a1b0000-0000-4000-8000-0000000010a1 \
LV_DOM_EXTRA="  <numatune><memory mode='preferred' nodeset='0'/></numatune>" \
	lv_domain_xml zxl-vm1 "$(lv_direct_if 52:54:00:7a:11:01 zxlp2 passthrough)" >"$ZXL_STATE/vm1.xml"

# zxl-vm2: invalid zcrx metadata (libvirt keeps foreign metadata verbatim).
LV_DOM_UUID=5a1b0000-0000-4000-8000-0000000010a2 \
LV_DOM_META="    <zcrx:config xmlns:zcrx=\"http://zcrx.dev/xmlns/libvirt/1.0\">
      <zcrx:nic mac=\"52:54:00:zz:12:01\" queues=\"many\"/>
    </zcrx:config>" \
	lv_domain_xml zxl-vm2 "$(lv_direct_if 52:54:00:7a:12:01 zxlp3 vepa)" >"$ZXL_STATE/vm2.xml"

for d in vm0 vm1 vm2; do
	lv_virsh define "$ZXL_STATE/$d.xml" >/dev/null || lv_die "define $d"
done
lv_virsh dumpxml --inactive zxl-vm0 >"$OUT/vm0-inactive.xml"
lv_virsh dumpxml --inactive zxl-vm1 >"$OUT/vm1-inactive.xml"

lv_log "start/destroy zxl-vm0"
lv_virsh start zxl-vm0 >/dev/null || lv_die "start vm0"
lv_virsh dumpxml zxl-vm0 >"$OUT/vm0-live.xml"
lv_virsh dumpxml --migratable zxl-vm0 >"$ZXL_STATE/vm0-migratable.xml"
lv_virsh destroy zxl-vm0 >/dev/null || lv_die "destroy vm0"
lv_virsh dumpxml zxl-vm0 >"$OUT/vm0-stopped.xml"

lv_log "start zxl-vm1 (passthrough), zxl-vm2 (invalid metadata)"
lv_virsh start zxl-vm1 >/dev/null || lv_die "start vm1"
lv_virsh dumpxml zxl-vm1 >"$OUT/vm1-passthrough-live.xml"
lv_virsh start zxl-vm2 >/dev/null || lv_die "start vm2"
lv_virsh dumpxml zxl-vm2 >"$OUT/vm2-invalid-metadata-live.xml"
lv_virsh destroy zxl-vm2 >/dev/null

lv_log "restart libvirtd with zxl-vm1 running (reconnect hook)"
lv_stop
lv_start
lv_virsh destroy zxl-vm1 >/dev/null || lv_die "destroy vm1"

lv_log "save/restore zxl-vm0"
lv_virsh start zxl-vm0 >/dev/null || lv_die "start vm0"
lv_virsh save zxl-vm0 "$ZXL_STATE/vm0.save" >/dev/null || lv_die "save"
lv_virsh restore "$ZXL_STATE/vm0.save" >/dev/null || lv_die "restore"
lv_virsh dumpxml zxl-vm0 >"$OUT/vm0-restored-live.xml"

lv_log "migrate zxl-vm0 to the second daemon"
# Move the macvtaps to the other end of the veth: two bridge-mode macvtaps
# with one MAC on one lower device clash.
sed -e "s/dev='zxlp0'/dev='zxlp1'/" "$ZXL_STATE/vm0-migratable.xml" >"$ZXL_STATE/vm0-dest.xml"
lv_virsh migrate --live --xml "$ZXL_STATE/vm0-dest.xml" zxl-vm0 "$B" \
	tcp://127.0.0.1:49321 --listen-address 127.0.0.1 || lv_die "migrate"
virsh -q -c "$B" dumpxml zxl-vm0 >"$OUT/vm0-migrated-dest-live.xml"
virsh -q -c "$B" destroy zxl-vm0 >/dev/null

# Test driver XML for comparison (no daemon needed).
virsh -q -c test:///default dumpxml test >"$OUT/testdriver-default.xml"

lv_log "collecting hook stdin"
copy_hook()
{
	local dir=$1 dom=$2 op=$3 sub=$4 name=$5 f
	f=$(ls "$dir"/*-"$dom-$op-$sub".xml 2>/dev/null | head -n "${6:-1}" | tail -n 1)
	[ -n "$f" ] || lv_die "no $op $sub hook call for $dom in $dir"
	cp "$f" "$OUT/$name"
}
copy_hook "$HOOKS_A" zxl-vm0 prepare begin hook-prepare-begin.xml
copy_hook "$HOOKS_A" zxl-vm0 start begin hook-start-begin.xml
copy_hook "$HOOKS_A" zxl-vm0 started begin hook-started-begin.xml
copy_hook "$HOOKS_A" zxl-vm0 stopped end hook-stopped-end.xml
copy_hook "$HOOKS_A" zxl-vm0 release end hook-release-end.xml
copy_hook "$HOOKS_A" zxl-vm0 restore begin hook-restore-begin.xml
copy_hook "$HOOKS_A" zxl-vm0 stopped end hook-save-stopped-end.xml 2
copy_hook "$HOOKS_A" zxl-vm0 stopped end hook-migrate-source-stopped-end.xml 3
copy_hook "$HOOKS_A" zxl-vm1 reconnect begin hook-reconnect-begin.xml
copy_hook "$HOOKS_B" zxl-vm0 migrate begin hook-migrate-begin.xml
copy_hook "$HOOKS_B" zxl-vm0 start begin hook-migrate-dest-start-begin.xml
{ echo "# hook calls on the source daemon (A), in order"; ls "$HOOKS_A"
  echo "# hook calls on the destination daemon (B), in order"; ls "$HOOKS_B"; } >"$OUT/hook-order.txt"
lv_log "fixtures in $OUT"
