#!/bin/sh
# Static tier: man page lint, unit file verification, the shipped example
# config (as shipped and with every commented example enabled), shell lint.
# Exit 0 pass, 1 fail.
set -u
cd "$(dirname "$0")/.." || exit 1
B=${ZCRX_BUILD:-build}
rc=0
tmp=$(mktemp -d /tmp/zxc-lint-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
ok() { echo "ok - $*"; }
bad() { echo "not ok - $*"; rc=1; }

for m in "$B"/man/*.[58]; do
	if out=$(mandoc -Tlint -W warning "$m" 2>&1) && [ -z "$out" ]; then
		ok "mandoc -Tlint $(basename "$m")"
	else
		bad "mandoc -Tlint $(basename "$m")"; echo "$out"
	fi
done

mkdir -p "$tmp/man/man5" "$tmp/man/man8"
cp "$B"/man/*.5 "$tmp/man/man5/"; cp "$B"/man/*.8 "$tmp/man/man8/"
sed -e "s|@SBINDIR@|$(pwd)/$B|g" systemd/zcrxd.service.in > "$tmp/zcrxd.service"
if out=$(MANPATH="$tmp/man" systemd-analyze verify "$tmp/zcrxd.service" 2>&1) && [ -z "$out" ]; then
	ok "systemd-analyze verify zcrxd.service"
else
	bad "systemd-analyze verify zcrxd.service"; echo "$out"
fi

# The unit's hardening: exposure at most 2.0 (--threshold counts tenths).
if out=$(systemd-analyze security --offline=true --threshold=20 "$tmp/zcrxd.service" 2>&1); then
	ok "systemd-analyze security zcrxd.service: $(echo "$out" | grep -o 'level for zcrxd.service: [0-9.]*')"
else
	bad "systemd-analyze security zcrxd.service: exposure over 2.0"; echo "$out" | grep -E '✗|Overall'
fi

if out=$("$B"/zcrxd --check-config --config conf/zcrxd.conf 2>&1); then
	ok "zcrxd --check-config conf/zcrxd.conf"
else
	bad "zcrxd --check-config conf/zcrxd.conf"; echo "$out"
fi
# every commented-out example must be valid too
sed -e 's/^#\(\[nic\)/\1/' -e 's/^#\([A-Z][A-Za-z]*=\)/\1/' conf/zcrxd.conf > "$tmp/all.conf"
if out=$("$B"/zcrxd --check-config --config "$tmp/all.conf" 2>&1); then
	ok "zcrxd --check-config (examples enabled)"
else
	bad "zcrxd --check-config (examples enabled)"; echo "$out"
fi

# make install into a scratch root: every file there, every @PATH@ filled in
inst="$tmp/root"
if make --no-print-directory install DESTDIR="$inst" PREFIX=/usr B="$B" >"$tmp/install.log" 2>&1; then
	missing=
	for f in usr/sbin/zcrxd usr/bin/zcrxctl usr/share/man/man8/zcrxd.8 \
		usr/share/man/man8/zcrxctl.8 usr/share/man/man5/zcrxd.conf.5 \
		lib/systemd/system/zcrxd.service etc/zcrx/zcrxd.conf etc/libvirt/hooks/qemu.d/zcrx; do
		[ -e "$inst/$f" ] || missing="$missing $f"
	done
	left=$(grep -rlIE '@[A-Z]+@' "$inst" 2>/dev/null || true) # -I: text files (a binary may hold any bytes)
	if [ -z "$missing" ] && [ -z "$left" ] && [ -x "$inst/etc/libvirt/hooks/qemu.d/zcrx" ]; then
		ok "make install DESTDIR=... PREFIX=/usr"
	else
		bad "make install: missing:${missing:- none}; unsubstituted: ${left:-none}"
	fi
else
	bad "make install"; cat "$tmp/install.log"
fi

# The Varlink interface description: the suite's strict parser, then the
# reference one Debian 12 packages (varlink-go 0.4.0's generator).  That
# version predates upper-case letters in interface names, which the
# Varlink grammar allows, so it reads a copy named io.zcrx.manager.
if out=$(python3 tests/integration/varlinkidl.py lib/io.zcrx.Manager.varlink 2>&1); then
	ok "varlinkidl.py lib/io.zcrx.Manager.varlink"
else
	bad "varlinkidl.py lib/io.zcrx.Manager.varlink"; echo "$out"
fi
if command -v varlink-go-interface-generator >/dev/null; then
	mkdir -p "$tmp/idl"
	sed 's/^interface io\.zcrx\.Manager$/interface io.zcrx.manager/' lib/io.zcrx.Manager.varlink \
		> "$tmp/idl/io.zcrx.manager.varlink"
	if out=$(cd "$tmp/idl" && varlink-go-interface-generator io.zcrx.manager.varlink 2>&1) &&
		[ -s "$tmp/idl/iozcrxmanager.go" ]; then
		ok "varlink-go-interface-generator lib/io.zcrx.Manager.varlink"
	else
		bad "varlink-go-interface-generator lib/io.zcrx.Manager.varlink"; echo "$out"
	fi
else
	bad "varlink-go-interface-generator is not installed (make deps: package varlink-go)"
fi

# docs/demo.txt (make demo-transcript): what its part two claims holds in
# its own histograms and lines; the sim-nic tier checks a fresh run's
if out=$(python3 tests/sim-nic/check-demo.py docs/demo.txt 2>&1); then
	ok "docs/demo.txt: $(echo "$out" | tail -1)"
else
	bad "docs/demo.txt: the transcript's claims"; echo "$out" | grep -v '^ok '
fi
# ...and each of those claims fails on a transcript doctored to break it
if out=$(python3 tests/sim-nic/check-demo-mutants.py docs/demo.txt 2>&1); then
	ok "check-demo.py: $(echo "$out" | tail -1)"
else
	bad "check-demo.py: a doctored docs/demo.txt it does not catch"; echo "$out" | grep -v '^ok '
fi

# no source file over 1,000 lines (STYLE: one concept per file)
long=$(find lib zcrxd zcrxctl tests tools bench -type f \( -name '*.c' -o -name '*.h' \
	-o -name '*.py' -o -name '*.sh' \) -exec wc -l {} + | awk '$2 != "total" && $1 > 1000')
n=$(find lib zcrxd zcrxctl tests tools bench -type f \( -name '*.c' -o -name '*.h' \
	-o -name '*.py' -o -name '*.sh' \) | wc -l)
if [ -z "$long" ] && [ "$n" -gt 100 ]; then
	ok "no source file over 1,000 lines ($n files)"
else
	bad "source files over 1,000 lines (or too few found: $n)"; echo "$long"
fi

for s in conf/libvirt/qemu.d/zcrx tools/*.sh tests/check.sh tests/lint.sh tests/lib/tier.sh \
	tests/kernel/run.sh tests/attach/run.sh; do
	[ -f "$s" ] || continue
	if out=$(shellcheck -S warning "$s" 2>&1); then
		ok "shellcheck $s"
	else
		bad "shellcheck $s"; echo "$out"
	fi
done
exit $rc
