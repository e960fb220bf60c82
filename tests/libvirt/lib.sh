# SPDX-License-Identifier: MIT
# shellcheck shell=bash
#
# tests/libvirt/lib.sh — bring a real libvirtd + virtlogd (QEMU/TCG) up and
# down for the libvirt tiers, the fixture capture and the demo.
#
# Everything made here is named zxl* (links, domains, networks) and removed by
# lv_cleanup, which callers run from an EXIT trap.  Daemons are started with
# pid files and stopped by those PIDs, never by name.  PID 1 on the test
# machines reaps orphans slowly, so libvirtd runs under `tini -s` (a
# subreaper); /dev/kvm gets group kvm mode 0660 while the daemons run so
# libvirt's capability cache stays valid (research/libvirt.md §2.3).
#
# Source it from bash; set ZXL_STATE to a private directory first (or let
# lv_init make one).

LV_URI=qemu:///system
ZXL_KEEP=${ZXL_KEEP:-0}

lv_log() { printf '  [%s] %s\n' "$(date +%T.%3N)" "$*" >&2; }
lv_die() { printf 'FAIL: %s\n' "$*" >&2; exit 1; }
lv_skip() { printf 'SKIP: %s\n' "$*" >&2; exit 77; }

# lv_init: check the prerequisites (skip with the reason when one is
# missing) and make the state directory.
lv_init()
{
	[ "$(id -u)" = 0 ] || lv_skip "needs root (libvirtd qemu:///system, veth, macvtap)"
	local t
	for t in libvirtd virtlogd virsh tini qemu-system-x86_64 ip unshare; do
		command -v "$t" >/dev/null 2>&1 || lv_skip "'$t' not installed (make deps)"
	done
	if [ -e /run/libvirt/libvirt-sock ] && virsh -q -c "$LV_URI" uri >/dev/null 2>&1; then
		lv_skip "a libvirtd that is not ours already answers on $LV_URI"
	fi
	if [ -z "${ZXL_STATE:-}" ]; then
		ZXL_STATE=$(mktemp -d /tmp/zxl.XXXXXX)
	fi
	mkdir -p "$ZXL_STATE"
	chmod 0755 "$ZXL_STATE"
	LV_A=$ZXL_STATE/a
	mkdir -p "$LV_A"
}

# Poll a command until it succeeds or `secs` pass.  No fixed sleeps as sync.
lv_wait()
{
	local secs=$1 end
	shift
	end=$(($(date +%s%N) / 1000000 + secs * 1000))
	until "$@" >/dev/null 2>&1; do
		[ $(($(date +%s%N) / 1000000)) -lt "$end" ] || return 1
		sleep 0.05
	done
}

lv_kvm_prepare()
{
	[ -c /dev/kvm ] || return 0
	if [ ! -e "$ZXL_STATE/kvm.saved" ]; then
		stat -c '%g %a' /dev/kvm >"$ZXL_STATE/kvm.saved"
	fi
	chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
}

lv_kvm_restore()
{
	[ -s "$ZXL_STATE/kvm.saved" ] || return 0
	local g m
	read -r g m <"$ZXL_STATE/kvm.saved"
	chgrp "$g" /dev/kvm 2>/dev/null
	chmod "$m" /dev/kvm 2>/dev/null
	rm -f "$ZXL_STATE/kvm.saved"
}

# lv_pid_alive FILE: the PID in FILE runs.
lv_pid_alive()
{
	local p
	[ -s "$1" ] || return 1
	p=$(cat "$1")
	[ -n "$p" ] && kill -0 "$p" 2>/dev/null
}

# lv_kill_pidfile FILE [SIG]: signal the PID in FILE and wait (≤10 s) for it.
lv_kill_pidfile()
{
	local f=$1 sig=${2:-TERM} p i=0
	[ -s "$f" ] || return 0
	p=$(cat "$f")
	[ -n "$p" ] || return 0
	kill -"$sig" "$p" 2>/dev/null || { rm -f "$f"; return 0; }
	while kill -0 "$p" 2>/dev/null && [ $i -lt 200 ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if kill -0 "$p" 2>/dev/null; then
		kill -KILL "$p" 2>/dev/null
	fi
	rm -f "$f"
}

# lv_start: virtlogd, then libvirtd under tini -s.  Install hooks before.
lv_start()
{
	lv_kvm_prepare
	if ! lv_pid_alive "$LV_A/virtlogd.pid"; then
		LIBVIRT_LOG_OUTPUTS="3:file:$LV_A/virtlogd.log" virtlogd -d -p "$LV_A/virtlogd.pid" ||
			lv_die "virtlogd did not start"
	fi
	LIBVIRT_LOG_OUTPUTS="${LV_LOG_OUTPUTS:-3:file:$LV_A/libvirtd.log}" \
		setsid tini -s -- libvirtd -p "$LV_A/libvirtd.pid" \
		>>"$LV_A/libvirtd.out" 2>&1 </dev/null &
	echo $! >"$LV_A/tini.pid"
	if ! lv_wait 60 virsh -q -c "$LV_URI" uri; then
		cat "$LV_A/libvirtd.out" >&2
		lv_die "libvirtd did not answer within 60 s"
	fi
	lv_wait 10 test -s "$LV_A/libvirtd.pid" || lv_die "libvirtd wrote no pid file"
}

# lv_polkit_start: the system bus and polkitd, as on a Debian host with
# libvirt-daemon-system (polkitd is one of its dependencies, D-Bus starts
# it).  libvirtd's sockets authenticate with polkit by default (auth_unix_ro
# and auth_unix_rw = "polkit"): root is let in without asking, any other
# client, such as zcrxd under its unit's DynamicUser=, only when polkit says
# yes (org.libvirt.unix.monitor: any user, read-only).  Without polkitd a
# non-root client cannot open even the read-only socket.  Start before
# libvirtd; only when no system bus runs yet (then the host's is used);
# lv_cleanup stops what was started here, by pid file.
lv_polkit_start()
{
	local pk=/usr/lib/polkit-1/polkitd
	if [ -S /run/dbus/system_bus_socket ] && lv_polkit_owned; then
		return 0
	fi
	if ! command -v dbus-daemon >/dev/null || ! command -v dbus-send >/dev/null; then
		lv_skip "dbus-daemon or dbus-send not installed (make deps)"
	fi
	[ -x "$pk" ] || lv_skip "polkitd not installed (make deps)"
	if [ ! -S /run/dbus/system_bus_socket ]; then
		mkdir -p /run/dbus
		dbus-daemon --system --fork --nopidfile --print-pid >"$LV_A/dbus.pid" ||
			lv_die "the system bus (dbus-daemon --system) did not start"
		echo /run/dbus/system_bus_socket >"$LV_A/dbus.socket"
	fi
	setsid "$pk" --no-debug >>"$LV_A/polkitd.out" 2>&1 </dev/null &
	echo $! >"$LV_A/polkitd.pid"
	if ! lv_wait 30 lv_polkit_owned; then
		cat "$LV_A/polkitd.out" >&2
		lv_die "polkitd did not take org.freedesktop.PolicyKit1 within 30 s"
	fi
}

lv_polkit_owned()
{
	dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
		org.freedesktop.DBus.NameHasOwner string:org.freedesktop.PolicyKit1 2>/dev/null |
		grep -q 'boolean true'
}

lv_polkit_stop()
{
	lv_kill_pidfile "$LV_A/polkitd.pid" TERM
	lv_kill_pidfile "$LV_A/dbus.pid" TERM
	if [ -s "$LV_A/dbus.socket" ]; then
		rm -f "$(cat "$LV_A/dbus.socket")" "$LV_A/dbus.socket"
	fi
}

# lv_stop: SIGTERM libvirtd (by pid file) and wait for it and its tini.
lv_stop()
{
	lv_kill_pidfile "$LV_A/libvirtd.pid" TERM
	lv_kill_pidfile "$LV_A/tini.pid" TERM
}

lv_libvirtd_pid() { cat "$LV_A/libvirtd.pid"; }

# --- the second daemon ("host B") in its own mount namespace --------------
# Private copies of /etc/libvirt (with its own host_uuid and socket dir),
# /run/libvirt, /var/lib/libvirt, /var/cache/libvirt, /var/log/libvirt.
# Extra bind mounts: LV_B_BINDS="src:dst ..." (e.g. a private /run/zcrx).

lv_b_uri() { echo "qemu+unix:///system?socket=$LV_B/sock/libvirt-sock"; }

lv_b_prepare()
{
	LV_B=$ZXL_STATE/b
	mkdir -p "$LV_B"/{run,varlib,cache,log,sock}
	if [ ! -d "$LV_B/etc" ]; then
		cp -a /etc/libvirt "$LV_B/etc"
		rm -rf "$LV_B/etc/hooks"/* "$LV_B/etc/qemu"/*.xml
		mkdir -p "$LV_B/etc/hooks"
		printf '\nhost_uuid = "%s"\nunix_sock_dir = "%s"\n' \
			"$(cat /proc/sys/kernel/random/uuid)" "$LV_B/sock" >>"$LV_B/etc/libvirtd.conf"
	fi
	mkdir -p "$LV_B"/varlib/{qemu,images} "$LV_B"/cache/qemu "$LV_B"/log/qemu
	# The QEMU process (uid libvirt-qemu) needs to reach its state dirs.
	chmod 0755 "$LV_B" "$LV_B"/{run,varlib,cache,log,sock}
	cat >"$LV_B/start.sh" <<-EOF
	#!/bin/sh
	set -e
	mount --make-rprivate /
	mount --bind "$LV_B/etc" /etc/libvirt
	mkdir -p /run/libvirt
	mount --bind "$LV_B/run" /run/libvirt
	mount --bind "$LV_B/varlib" /var/lib/libvirt
	mount --bind "$LV_B/cache" /var/cache/libvirt
	mount --bind "$LV_B/log" /var/log/libvirt
	for b in ${LV_B_BINDS:-}; do mkdir -p "\${b#*:}"; mount --bind "\${b%%:*}" "\${b#*:}"; done
	LIBVIRT_LOG_OUTPUTS="3:file:$LV_B/virtlogd.log" virtlogd -d -p "$LV_B/virtlogd.pid"
	LIBVIRT_LOG_OUTPUTS="3:file:$LV_B/libvirtd.log" exec libvirtd -p "$LV_B/libvirtd.pid"
	EOF
	chmod 0755 "$LV_B/start.sh"
}

lv_b_start()
{
	[ -n "${LV_B:-}" ] || lv_b_prepare
	setsid tini -s -- unshare -m --propagation private "$LV_B/start.sh" \
		>>"$LV_B/libvirtd.out" 2>&1 </dev/null &
	echo $! >"$LV_B/tini.pid"
	if ! lv_wait 60 virsh -q -c "$(lv_b_uri)" uri; then
		cat "$LV_B/libvirtd.out" >&2
		lv_die "second libvirtd did not answer within 60 s"
	fi
}

lv_b_stop()
{
	[ -n "${LV_B:-}" ] || return 0
	local d
	if lv_pid_alive "$LV_B/libvirtd.pid"; then
		for d in $(virsh -q -c "$(lv_b_uri)" list --all --name 2>/dev/null | grep '^zxl'); do
			virsh -q -c "$(lv_b_uri)" destroy "$d" >/dev/null 2>&1
			virsh -q -c "$(lv_b_uri)" undefine "$d" >/dev/null 2>&1
		done
	fi
	lv_kill_pidfile "$LV_B/libvirtd.pid" TERM
	lv_kill_pidfile "$LV_B/virtlogd.pid" TERM
	lv_kill_pidfile "$LV_B/tini.pid" TERM
	lv_kill_qemu "$LV_B/run/qemu"
}

# QEMU processes of zxl domains whose libvirtd is gone (pid files).
lv_kill_qemu()
{
	local dir=$1 f
	for f in "$dir"/zxl*.pid; do
		[ -e "$f" ] || continue
		lv_kill_pidfile "$f" KILL
	done
}

# --- domains and links -----------------------------------------------------

lv_virsh() { virsh -q -c "$LV_URI" "$@"; }

# lv_domain_xml NAME [interface XML...]: a disk-less TCG domain, 64 MiB,
# UUID from the name.  $LV_DOM_EXTRA is inserted after <vcpu>, $LV_DOM_META
# inside <metadata>.
lv_domain_xml()
{
	local name=$1
	shift
	printf "<domain type='qemu'>\n  <name>%s</name>\n" "$name"
	[ -n "${LV_DOM_UUID:-}" ] && printf '  <uuid>%s</uuid>\n' "$LV_DOM_UUID"
	[ -n "${LV_DOM_META:-}" ] && printf '  <metadata>\n%s\n  </metadata>\n' "$LV_DOM_META"
	cat <<-EOF
	  <memory unit='MiB'>64</memory>
	  <vcpu placement='static'>${LV_DOM_VCPUS:-1}</vcpu>
	${LV_DOM_EXTRA:-}
	  <os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>
	  <on_poweroff>destroy</on_poweroff>
	  <devices>
	    <emulator>/usr/bin/qemu-system-x86_64</emulator>
	EOF
	local i
	for i in "$@"; do printf '    %s\n' "$i"; done
	cat <<-EOF
	    <serial type='pty'/>
	    <video><model type='none'/></video>
	    <memballoon model='none'/>
	  </devices>
	</domain>
	EOF
}

# lv_direct_if MAC DEV [MODE] [QUEUES]
lv_direct_if()
{
	local q=
	[ -n "${4:-}" ] && q="<driver name='vhost' queues='$4'/>"
	printf "<interface type='direct'><mac address='%s'/><source dev='%s' mode='%s'/>" \
		"$1" "$2" "${3:-bridge}"
	printf "<model type='virtio'/>%s<rom enabled='no'/></interface>" "$q"
}

# lv_veth A B: a veth pair, up, no IPv6 chatter.  Removed by lv_cleanup.
lv_veth()
{
	# shellcheck disable=SC2086 # LV_VETH_OPTS: several words on purpose
	ip link add "$1" ${LV_VETH_OPTS:-} type veth peer name "$2" ${LV_VETH_OPTS:-} || return 1
	sysctl -qw "net.ipv6.conf.$1.disable_ipv6=1" "net.ipv6.conf.$2.disable_ipv6=1" 2>/dev/null
	ip link set "$1" up && ip link set "$2" up
}

# Wait until a domain is in state (virsh domstate text, e.g. "running").
lv_wait_state()
{
	local uri=$1 dom=$2 want=$3
	# shellcheck disable=SC2317
	_lv_state_is() { [ "$(virsh -q -c "$uri" domstate "$dom" 2>/dev/null)" = "$want" ]; }
	lv_wait "${4:-30}" _lv_state_is
}

lv_cleanup_links()
{
	local l
	for l in $(ip -o link show 2>/dev/null | awk -F': ' '{print $2}' | sed 's/@.*//' | grep '^zxl'); do
		ip link del "$l" 2>/dev/null
	done
}

lv_cleanup_domains()
{
	local d n
	if lv_pid_alive "$LV_A/libvirtd.pid"; then
		for d in $(lv_virsh list --all --name 2>/dev/null | grep '^zxl'); do
			lv_virsh destroy "$d" >/dev/null 2>&1
			lv_virsh undefine --managed-save "$d" >/dev/null 2>&1
		done
		for n in $(lv_virsh net-list --all --name 2>/dev/null | grep '^zxl'); do
			lv_virsh net-destroy "$n" >/dev/null 2>&1
			lv_virsh net-undefine "$n" >/dev/null 2>&1
		done
	fi
}

# lv_cleanup: domains, daemons, links, hooks, files.  Safe to call twice.
lv_cleanup()
{
	local rc=$?
	[ -n "${ZXL_STATE:-}" ] || return $rc
	if [ "$ZXL_KEEP" = 1 ]; then
		echo "ZXL_KEEP=1: state left in $ZXL_STATE" >&2
	fi
	[ -d "$ZXL_STATE/b" ] && LV_B=$ZXL_STATE/b
	lv_b_stop
	lv_cleanup_domains
	lv_stop
	lv_kill_pidfile "$LV_A/virtlogd.pid" TERM
	lv_polkit_stop
	rm -f /etc/polkit-1/rules.d/*zxl*.rules
	lv_kill_qemu /run/libvirt/qemu
	rm -f /etc/libvirt/qemu/zxl*.xml /run/libvirt/qemu/zxl*.xml /run/libvirt/network/zxl*.xml \
		/etc/libvirt/qemu/networks/zxl*.xml /var/log/libvirt/qemu/zxl*.log \
		/var/lib/libvirt/qemu/save/zxl*.save
	rm -rf /var/lib/libvirt/qemu/domain-*-zxl* /var/lib/libvirt/qemu/channel/target/domain-*-zxl*
	local h
	if [ -s "$ZXL_STATE/hooks.list" ]; then
		while read -r h; do rm -f "$h"; done <"$ZXL_STATE/hooks.list"
		rm -f "$ZXL_STATE/hooks.list"
	fi
	rmdir /etc/libvirt/hooks/qemu.d 2>/dev/null
	lv_cleanup_links
	lv_kvm_restore
	if [ "$ZXL_KEEP" != 1 ] && [ -n "${ZXL_STATE_OWNED:-}" ]; then
		rm -rf "$ZXL_STATE"
	fi
	return $rc
}

# lv_install_hook SRC DST [sed expressions...]: copy a hook script into place
# (before libvirtd starts: libvirtd scans hooks only at start or SIGHUP).
lv_install_hook()
{
	local src=$1 dst=$2
	shift 2
	mkdir -p "$(dirname "$dst")"
	if [ $# -gt 0 ]; then
		sed "$@" "$src" >"$dst"
	else
		cp "$src" "$dst"
	fi
	chmod 0755 "$dst"
	echo "$dst" >>"$ZXL_STATE/hooks.list"
}
