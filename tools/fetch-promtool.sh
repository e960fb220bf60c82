#!/bin/sh
# Print the path of a promtool, Prometheus' own checker for the text
# exposition format, for test-metrics.  Uses one on PATH, else takes it out
# of Debian's prometheus package (apt-get download, not installed: the
# package would bring a daemon) into build/tools/, once.  Prints nothing and
# exits 1 when neither works.
set -u
cd "$(dirname "$0")/.." || exit 1
if command -v promtool >/dev/null 2>&1; then
	command -v promtool
	exit 0
fi
out=$PWD/build/tools/promtool
if [ ! -x "$out" ]; then
	tmp=$(mktemp -d /tmp/zxc-promtool-XXXXXX) || exit 1
	trap 'rm -rf "$tmp"' EXIT
	( cd "$tmp" && apt-get -o DPkg::Lock::Timeout=300 download -qq prometheus >/dev/null 2>&1 ) || exit 1
	deb=$(ls "$tmp"/prometheus_*.deb 2>/dev/null | head -1)
	[ -n "$deb" ] || exit 1
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" ./usr/bin/promtool || exit 1
	mkdir -p "$(dirname "$out")"
	mv "$tmp/usr/bin/promtool" "$out" || exit 1
fi
"$out" --version >/dev/null 2>&1 || exit 1
echo "$out"
