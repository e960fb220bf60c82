#!/bin/sh
# SPDX-License-Identifier: MIT
#
# transcript.sh [FILE...] — the demo's part two as people read it, out of
# sim-nic result lines (a guest's results.txt, or `make demo`'s part-two
# log, as it grows: every line is flushed):
#   "| TEXT"        guest/90-demo.sh's transcript     -> TEXT
#   "ok - DESC"     a check of what the transcript says -> "  [ok] DESC"
#   "not ok - DESC"                                   -> "  [NOT OK] DESC"
#   "BOOTED ..."    /init's first line                -> "# guest booted ..."
#   "# TEXT"        progress lines (prepare.sh, fetch.sh, tools/demo.sh)
# Everything else (the results header, the guest scripts' markers, the
# summary lines "S ...", which tools/demo.sh prints at the end) is left out,
# and so is every line of another guest script (a sim-nic tier boot runs
# several: only 90-demo.sh's lines are the demo's).
# mawk (Debian's awk) reads a pipe in blocks unless told otherwise: the
# demo's lines would come in bursts, seconds late
IA=
case $(awk -W version 2>&1 | head -1) in mawk*) IA="-W interactive" ;; esac
# shellcheck disable=SC2086
exec awk $IA '
/^SCRIPT / { other = ($2 != "90-demo.sh"); next }
/^SCRIPT-END / { other = 0; next }
other { next }
/^\| / || $0 == "|" { print substr($0, 3); fflush(); next }
/^ok - / { print "  [ok] " substr($0, 6); fflush(); next }
/^not ok - / { print "  [NOT OK] " substr($0, 10); fflush(); next }
/^BOOTED / {
	k = $0; sub(/.*kernel=/, "", k); sub(/ .*/, "", k)
	u = $0; sub(/.*uptime=/, "", u); sub(/ .*/, "", u)
	printf "# guest booted: Linux %s, /init reached after %ss of guest time\n", k, u
	fflush(); next
}
/^# sim-nic, netdevsim / || /^# \[/ { next }
/^# / { print; fflush(); next }
' "$@"
