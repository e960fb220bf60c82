#!/bin/bash
# SPDX-License-Identifier: MIT
#
# fetch.sh CACHE — everything the netdevsim guest tier downloads, cached in
# CACHE (build/sim-nic).  Writes CACHE/current.env (sourced by run.sh) with:
#   KABI     the kernel ABI, e.g. 7.3.4+deb13-cloud-amd64 (resolved today)
#   KPKGVER  its Debian version, e.g. 7.3.4-1~bpo13+1
#   KDIR     the unpacked kernel: vmlinuz, lib/modules/KABI (depmod'ed)
#   ROOT     the build root: trixie's gcc (the kernel's own), make, libc6-dev,
#            with the kernel's linux-headers/-common and linux-kbuild inside
#   KGCC     that compiler's name (gcc-14), as the headers package asks
#   SRC      the parts of linux-source-X.Y the project uses:
#            drivers/net/netdevsim and scripts/{checkpatch.pl,spelling.txt,
#            const_structs.checkpatch}
#   ETHTOOL  ethtool 7.x from sid (netlink RSS contexts, hds-thresh)
#   FETCHED  bytes downloaded by this run (0 when all was cached)
#
# Only downloads and unpacks: a private APT configuration in CACHE/apt (its
# own sources, lists, cache and an empty dpkg status; /etc/apt is only read
# for the mirror), `apt-get download` / `apt-get install --download-only`,
# dpkg-deb -x.  Nothing is installed on the host.
#
# The kernel is the newest linux-image-cloud-amd64 in trixie-backports
# ($ZX_SIMNIC_SUITE), resolved on every run; the package lists are refreshed
# when older than $ZX_SIMNIC_LISTS_MAX_AGE seconds (default 6 h), so a new
# upload is picked up and an unchanged archive costs no download.  Every
# cached directory is named after what it holds (ABI and version, compiler
# version), and older ones are removed when a new one is made.
#
# The build root is not debootstrapped: the dependency closure of the
# compiler, make and libc6-dev is downloaded in one apt-get call (parallel,
# pipelined) and unpacked with dpkg-deb -x; no maintainer script runs, so
# the one link a postinst would make (awk -> mawk) is made here.  The
# kbuild tools in linux-kbuild need glibc >= 2.38, hence trixie's.
#
# Progress lines ("# fetch: ... (N.Ns)") go to stdout; errors to stderr.
# Exit status: 0 ok, 77 the archive cannot be reached or has no such kernel
# (reason on stderr), 1 anything else.
set -euo pipefail

[ $# = 1 ] || { echo "usage: $0 CACHE" >&2; exit 2; }
mkdir -p "$1"
C=$(cd "$1" && pwd)
SUITE=${ZX_SIMNIC_SUITE:-trixie-backports}
MAX_AGE=${ZX_SIMNIC_LISTS_MAX_AGE:-21600}
FETCHED=0

elapsed() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
say() { echo "# fetch: $1 ($(elapsed "$2")s)"; }
die77() { echo "fetch: $*" >&2; exit 77; }
die() { echo "fetch: $*" >&2; exit 1; }
mb() { awk -v b="$1" 'BEGIN { printf "%.1f MB", b / 1e6 }'; }
size_of() { local s=0 f; for f in "$@"; do [ -e "$f" ] && s=$((s + $(stat -c %s "$f"))); done; echo $s; }

# --- private APT configuration ------------------------------------------------
# The mirror this machine's apt already uses (deb822 URIs: or a one-line
# "deb" entry), not a security archive.
mirror() {
	{ sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/*.sources 2>/dev/null
	  sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\) .*/\2/p' /etc/apt/sources.list \
		/etc/apt/sources.list.d/*.list 2>/dev/null; } | tr ' ' '\n' |
		grep -E '^https?://' | grep -v security | head -1 || true
}
MIRROR=${ZX_SIMNIC_MIRROR:-$(mirror)}
[ -n "$MIRROR" ] || die77 "no Debian mirror in /etc/apt (set ZX_SIMNIC_MIRROR)"
A=$C/apt
mkdir -p "$A/lists/partial" "$A/cache/archives/partial" "$A/parts" "$A/prefs" "$A/debs"
[ -e "$A/status" ] || : > "$A/status"
cat > "$A/sources.list.new" <<EOF
deb $MIRROR trixie main
deb $MIRROR $SUITE main
deb $MIRROR sid main
EOF
# Dir::Etc::Parts points at an empty directory of ours: the host's
# apt.conf.d (which may switch the binary cache off) is not read.
cat > "$A/apt.conf" <<EOF
Dir::Etc::SourceList "$A/sources.list";
Dir::Etc::SourceParts "$A/parts";
Dir::Etc::Parts "$A/parts";
Dir::Etc::PreferencesParts "$A/prefs";
Dir::Etc::Preferences "$A/prefs/none";
Dir::State::Lists "$A/lists";
Dir::State::status "$A/status";
Dir::Cache "$A/cache";
Dir::Cache::pkgcache "$A/cache/pkgcache.bin";
Dir::Cache::srcpkgcache "$A/cache/srcpkgcache.bin";
Dir::Cache::archives "$A/cache/archives";
APT::Sandbox::User "root";
APT::Architectures { "amd64"; };
APT::Install-Recommends "false";
APT::Default-Release "trixie";
Acquire::Languages "none";
Acquire::Check-Valid-Until "false";
Acquire::IndexTargets::deb::DEP-11::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled "false";
Acquire::IndexTargets::deb::DEP-11-icons-hidpi::DefaultEnabled "false";
Acquire::IndexTargets::deb::Contents-deb::DefaultEnabled "false";
EOF
export APT_CONFIG=$A/apt.conf
APT_GET=(apt-get -q -o DPkg::Lock::Timeout=300)

stamp=$A/lists/.updated
age=$MAX_AGE
[ -e "$stamp" ] && age=$(($(date +%s) - $(stat -c %Y "$stamp")))
if ! cmp -s "$A/sources.list.new" "$A/sources.list" || [ "$age" -ge "$MAX_AGE" ] ||
	[ "${ZX_SIMNIC_REFRESH:-0}" = 1 ]; then
	t=$(date +%s.%N)
	mv "$A/sources.list.new" "$A/sources.list"
	"${APT_GET[@]}" update > "$A/update.log" 2>&1 ||
		die77 "apt-get update against $MIRROR failed: $(grep -E '^(E|Err):' "$A/update.log" | tail -1)"
	grep -q '^E:' "$A/update.log" && die77 "apt-get update: $(grep '^E:' "$A/update.log" | tail -1)"
	# an index apt could not get is only a warning to apt: the lists would be old or missing
	grep -q '^W: Failed to fetch' "$A/update.log" &&
		die77 "apt-get update: $(grep '^W: Failed to fetch' "$A/update.log" | head -1 | cut -c4-)"
	touch "$stamp"
	# apt's own count of what came over the network ("Fetched 21.2 MB in 8s")
	got=$(awk '$1 == "Fetched" { v = $2; u = $3 } END {
		m = (u == "kB") ? 1e3 : (u == "MB") ? 1e6 : (u == "GB") ? 1e9 : 1; printf "%d", v * m }' \
		"$A/update.log")
	FETCHED=$((FETCHED + got))
	say "package lists of trixie, $SUITE and sid from $MIRROR: $(mb "$got")" "$t"
else
	rm -f "$A/sources.list.new"
fi

# --- resolve ------------------------------------------------------------------
t=$(date +%s.%N)
KPKGVER=$(apt-cache madison linux-image-cloud-amd64 |
	awk -F'|' -v s="$SUITE/" 'index($3, s) { gsub(/ /, "", $2); print $2; exit }')
[ -n "$KPKGVER" ] || die77 "no linux-image-cloud-amd64 in $SUITE"
# (apt-cache show, not depends: the latter takes seconds on these lists)
dep_names() { apt-cache show "$1" | sed -n '1,/^$/s/^Depends: //p' | tr ',' '\n' | awk '{ print $1 }'; }
img=$(dep_names "linux-image-cloud-amd64=$KPKGVER" | grep -E '^linux-image-[0-9]' | head -1)
KABI=${img#linux-image-}          # 7.3.4+deb13-cloud-amd64
KUP=${KABI%-cloud-amd64}          # 7.3.4+deb13
KMAJ=$(echo "$KUP" | cut -d. -f1,2)   # 7.3
[ -n "$KABI" ] && [ "$KUP" != "$KABI" ] || die "cannot read the ABI of linux-image-cloud-amd64=$KPKGVER"
KGCC=$(dep_names "linux-headers-$KABI=$KPKGVER" | grep -o '^gcc-[0-9]*' | head -1)
[ -n "$KGCC" ] || die "linux-headers-$KABI names no gcc"
GCCVER=$(apt-cache madison "$KGCC" | awk -F'|' 'index($3, "trixie/") { gsub(/ /, "", $2); print $2; exit }')
[ -n "$GCCVER" ] || die "no $KGCC in trixie"
ETHVER=$(apt-cache madison ethtool | awk -F'|' 'index($3, "sid/") { gsub(/ /, "", $2); print $2; exit }')
[ -n "$ETHVER" ] || die "no ethtool in sid"
case $ETHVER in *:[0-6].*|[0-6].*) die "sid's ethtool is $ETHVER, older than 7" ;; esac
# prune PREFIX KEEP — remove CACHE/PREFIX* directories other than KEEP (and
# its half-made KEEP.tmp): an older kernel, compiler or ethtool
prune() {
	local d
	for d in "$C/$1"*; do
		[ "$d" = "$2" ] || [ "$d" = "$2.tmp" ] || rm -rf "$d"
	done
}
safe() { echo "$1" | tr -c 'A-Za-z0-9.+\n-' _; }
say "kernel $KABI ($KPKGVER), built with $KGCC $GCCVER; ethtool $ETHVER" "$t"

# --- downloads (in parallel) ---------------------------------------------------
KDIR=$C/kernel-$(safe "${KABI}_$KPKGVER")
SRC=$C/src-$(safe "$KPKGVER")
ETHDIR=$C/ethtool-$(safe "$ETHVER")
ROOT=$C/root-$(safe "${KGCC}_$GCCVER")
D=$A/debs

# download PKG=VER... into $D (apt-get download: the file names carry the
# version, so an upload is a new file)
download() {
	(cd "$D" && "${APT_GET[@]}" download "$@" > "$D/download-$$.log" 2>&1) ||
		{ cat "$D/download-$$.log" >&2; return 1; }
}
deb() { # NAME VERSION — the .deb apt-get download wrote
	local f
	f=$(ls "$D/$1_"*.deb 2>/dev/null | while read -r x; do
		[ "$(dpkg-deb -f "$x" Version)" = "$2" ] && echo "$x"; done | head -1)
	[ -n "$f" ] || return 1
	echo "$f"
}

kernel_pkgs=("linux-binary-$KABI" "linux-modules-$KABI" "linux-base-$KABI")
header_pkgs=("linux-headers-$KABI" "linux-headers-$KUP-common" "linux-kbuild-$KUP")
need=()
if [ ! -e "$KDIR/.ok" ]; then
	for p in "${kernel_pkgs[@]}"; do deb "$p" "$KPKGVER" > /dev/null || need+=("$p=$KPKGVER"); done
fi
if [ ! -e "$ROOT/.headers-$KABI" ]; then
	for p in "${header_pkgs[@]}"; do deb "$p" "$KPKGVER" > /dev/null || need+=("$p=$KPKGVER"); done
fi
[ -e "$SRC/.ok" ] || deb "linux-source-$KMAJ" "$KPKGVER" > /dev/null ||
	need+=("linux-source-$KMAJ=$KPKGVER")
[ -e "$ETHDIR/.ok" ] || deb ethtool "$ETHVER" > /dev/null || need+=("ethtool=$ETHVER")

t=$(date +%s.%N)
pids=()
if [ ${#need[@]} -gt 0 ]; then
	before=$(size_of "$D"/*.deb)
	download "${need[@]}" &
	pids+=($!)
fi
# The build root: the closure of the compiler, make and libc6-dev as an
# empty system would install it (no recommends).
ROOTPKGS="$KGCC make libc6-dev libelf1t64 libssl3t64 zlib1g pahole bash dash coreutils
sed grep mawk findutils diffutils"
RD=$A/rootdebs
if [ ! -e "$ROOT/.ok" ]; then
	rm -rf "$RD"
	mkdir -p "$RD/partial"
	# shellcheck disable=SC2086
	"${APT_GET[@]}" install -d -y -o Dir::Cache::archives="$RD" -t trixie $ROOTPKGS \
		> "$RD/apt.log" 2>&1 &
	pids+=($!)
fi
for p in "${pids[@]}"; do
	wait "$p" || die77 "download failed (see above and $RD/apt.log)"
done
if [ ${#pids[@]} -gt 0 ]; then
	got=0
	[ ${#need[@]} -gt 0 ] && got=$(($(size_of "$D"/*.deb) - before))
	[ -e "$ROOT/.ok" ] || got=$((got + $(size_of "$RD"/*.deb)))
	FETCHED=$((FETCHED + got))
	say "downloaded $(mb "$got"): ${#need[@]} kernel/tool packages$([ -e "$ROOT/.ok" ] ||
		echo ", build root: $(ls "$RD"/*.deb | wc -l) packages")" "$t"
fi

# --- unpack (source extraction in the background: it is xz-bound) ---------------
t=$(date +%s.%N)
src_pid=
if [ ! -e "$SRC/.ok" ]; then
	sdeb=$(deb "linux-source-$KMAJ" "$KPKGVER")
	rm -rf "$SRC" "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	(
		dpkg-deb --fsys-tarfile "$sdeb" | tar -xO "./usr/src/linux-source-$KMAJ.tar.xz" |
			xz -T2 -dc | tar -x -C "$SRC.tmp" --strip-components=1 --wildcards \
				"linux-source-$KMAJ/drivers/net/netdevsim/*" \
				"linux-source-$KMAJ/scripts/checkpatch.pl" \
				"linux-source-$KMAJ/scripts/spelling.txt" \
				"linux-source-$KMAJ/scripts/const_structs.checkpatch"
	) &
	src_pid=$!
fi

if [ ! -e "$ROOT/.ok" ]; then
	rm -rf "$ROOT" "$ROOT.tmp"
	mkdir -p "$ROOT.tmp"
	# base-files makes the merged-/usr links (bin -> usr/bin ...) first
	dpkg-deb -x "$RD"/base-files_*.deb "$ROOT.tmp"
	find "$RD" -maxdepth 1 -name '*.deb' ! -name 'base-files_*' -print0 |
		xargs -0 -n 8 -P 2 sh -c 'for f; do dpkg-deb -x "$f" "$0" || exit 1; done' "$ROOT.tmp"
	# what maintainer scripts would have done: the awk alternative
	[ -e "$ROOT.tmp/usr/bin/awk" ] || ln -s mawk "$ROOT.tmp/usr/bin/awk"
	chroot "$ROOT.tmp" "$KGCC" --version > /dev/null ||
		die "the build root's $KGCC does not run"
	touch "$ROOT.tmp/.ok"
	mv "$ROOT.tmp" "$ROOT"
	prune root- "$ROOT"
	rm -rf "$RD"
fi
if [ ! -e "$ROOT/.headers-$KABI" ]; then
	rm -rf "$ROOT"/usr/src/linux-headers-* "$ROOT"/usr/lib/linux-kbuild-* "$ROOT"/.headers-*
	for p in "${header_pkgs[@]}"; do dpkg-deb -x "$(deb "$p" "$KPKGVER")" "$ROOT"; done
	[ -e "$ROOT/usr/src/linux-headers-$KABI/.config" ] || die "linux-headers-$KABI has no .config"
	touch "$ROOT/.headers-$KABI"
fi

if [ ! -e "$KDIR/.ok" ]; then
	rm -rf "$KDIR" "$KDIR.tmp"
	mkdir -p "$KDIR.tmp"
	for p in "${kernel_pkgs[@]}"; do dpkg-deb -x "$(deb "$p" "$KPKGVER")" "$KDIR.tmp"; done
	m=$KDIR.tmp/usr/lib/modules/$KABI
	[ -e "$m/vmlinuz" ] || die "linux-binary-$KABI has no vmlinuz (layout changed?)"
	# Debian's packages carry no modules.dep: it is made at install time
	depmod -b "$KDIR.tmp/usr" "$KABI"
	touch "$KDIR.tmp/.ok"
	mv "$KDIR.tmp" "$KDIR"
	prune kernel- "$KDIR"
fi

if [ ! -e "$ETHDIR/.ok" ]; then
	rm -rf "$ETHDIR" "$ETHDIR.tmp"
	mkdir -p "$ETHDIR.tmp"
	dpkg-deb -x "$(deb ethtool "$ETHVER")" "$ETHDIR.tmp"
	[ -x "$ETHDIR.tmp/usr/sbin/ethtool" ] || die "the ethtool package has no usr/sbin/ethtool"
	touch "$ETHDIR.tmp/.ok"
	mv "$ETHDIR.tmp" "$ETHDIR"
	prune ethtool- "$ETHDIR"
fi

if [ -n "$src_pid" ]; then
	wait "$src_pid" || die "cannot extract netdevsim and checkpatch from linux-source-$KMAJ"
	[ -e "$SRC.tmp/drivers/net/netdevsim/netdev.c" ] && [ -e "$SRC.tmp/scripts/checkpatch.pl" ] ||
		die "linux-source-$KMAJ lacks drivers/net/netdevsim or scripts/checkpatch.pl"
	touch "$SRC.tmp/.ok"
	mv "$SRC.tmp" "$SRC"
	prune src- "$SRC"
	# 160+ MB, and only these few files are used
	rm -f "$D/linux-source-"*.deb
fi
if [ ${#pids[@]} -gt 0 ]; then
	# keep only the packages of today's versions
	for f in "$D"/*.deb; do
		[ -e "$f" ] || continue
		v=$(dpkg-deb -f "$f" Version)
		[ "$v" = "$KPKGVER" ] || [ "$v" = "$ETHVER" ] || rm -f "$f"
	done
	say "unpacked: kernel, build root, headers, netdevsim source, ethtool" "$t"
fi

cat > "$C/current.env" <<EOF
KABI='$KABI'
KPKGVER='$KPKGVER'
KDIR='$KDIR'
ROOT='$ROOT'
KGCC='$KGCC'
SRC='$SRC'
ETHTOOL='$ETHDIR/usr/sbin/ethtool'
FETCHED=$FETCHED
EOF
