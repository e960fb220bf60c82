#!/bin/bash
# make demo: zcrxd on a veth "NIC" in a private network namespace, asked by
# zcrxctl what it manages, then stopped; everything it made is removed.
set -euo pipefail
cd "$(dirname "$0")/.."
B=${ZCRX_BUILD:-build}
NS=zxcdemo$$
TMP=$(mktemp -d /tmp/zxc-demo-XXXXXX)
PID=
say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || { echo "demo: needs root (network namespaces)" >&2; exit 1; }
say "ip netns add $NS; ip -n $NS link add zxc0 numrxqueues 8 type veth peer zxc1 numrxqueues 8"
ip netns add "$NS"
ip -n "$NS" link add zxc0 numrxqueues 8 numtxqueues 8 type veth peer name zxc1 \
	numrxqueues 8 numtxqueues 8
ip -n "$NS" link set zxc0 up
ip -n "$NS" link set zxc1 up

SOCK=$TMP/run/io.zcrx.Manager
cat > "$TMP/zcrxd.conf" <<CONF
[daemon]
LibvirtURI=none
AutoAttach=none
CONF
say "zcrxd --libvirt-uri none --runtime-dir $TMP/run --state-dir $TMP/state &"
ip netns exec "$NS" "$B/zcrxd" --libvirt-uri none --config "$TMP/zcrxd.conf" \
	--runtime-dir "$TMP/run" --state-dir "$TMP/state" 2>"$TMP/zcrxd.log" &
PID=$!
for _ in $(seq 200); do [ -S "$SOCK" ] && break; sleep 0.05; done
[ -S "$SOCK" ] || { cat "$TMP/zcrxd.log"; exit 1; }

say "zcrxctl status"
"$B/zcrxctl" --socket "$SOCK" status
say "zcrxctl status --json"
"$B/zcrxctl" --socket "$SOCK" status --json

say "kill -TERM zcrxd"
kill -TERM "$PID"
wait "$PID" && echo "zcrxd exited cleanly"
PID=
[ ! -e "$SOCK" ] && echo "control socket removed"
say "zcrxd's log"
cat "$TMP/zcrxd.log"
