#!/bin/sh
# Install what zcrx needs to build, test and demo on Debian 12.
# Idempotent: does nothing (not even apt-get update) when all are present.
# Also fetches promtool for test-metrics (tools/fetch-promtool.sh).
set -eu

# build
PKGS="make gcc clang pkg-config libsystemd-dev libjson-c-dev libmnl-dev libvirt-dev
libxml2-dev libinih-dev"
# unit tests, fuzzing (libFuzzer ships with clang's runtime), lints
PKGS="$PKGS libcmocka-dev libclang-rt-14-dev mandoc shellcheck systemd python3 iproute2 ethtool procps
util-linux"
# libvirt tier and demo: libvirtd + QEMU (TCG) without pulling in systemd as init;
# the system bus and polkitd let a client that is not root (zcrxd as its unit
# runs it) open libvirtd's read-only socket
PKGS="$PKGS libvirt-daemon-system libvirt-daemon-system-sysv libvirt-clients qemu-system-x86
tini dbus-daemon dbus-bin polkitd"
# driver-VM tier: guest kernel is downloaded with apt-get download by the tier itself
PKGS="$PKGS busybox-static kmod xz-utils cpio jq"
# sim-nic tier: the same, plus the kernel's checkpatch.pl (perl) and gojq (the
# guest's jq: it starts in a fraction of jq 1.6's time under TCG); the guest
# kernel, its build root and netdevsim's source are downloaded by the tier
PKGS="$PKGS perl gojq"
# the ASan build links libtirpc at start (Makefile: libvirt is dlopen()ed)
PKGS="$PKGS libtirpc-dev"
# lint: the reference Varlink IDL parser (varlink-go-interface-generator)
PKGS="$PKGS varlink-go"

missing=
for p in $PKGS; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "deps: missing packages:$missing (run 'make deps' as root)" >&2
		exit 1
	fi
	echo "deps: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=300 update -qq
	# shellcheck disable=SC2086
	apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends $missing >/dev/null
fi

# test-metrics checks the format with Prometheus' promtool, taken out of
# Debian's prometheus package into build/tools/ (not installed: it would
# bring a daemon).  A fresh machine may need its package lists first.
cd "$(dirname "$0")/.."
if ! tools/fetch-promtool.sh >/dev/null; then
	if [ "$(id -u)" = 0 ]; then
		apt-get -o DPkg::Lock::Timeout=300 update -qq
	fi
	tools/fetch-promtool.sh >/dev/null ||
		echo "deps: cannot fetch promtool: test-metrics will report its check as skipped" >&2
fi
