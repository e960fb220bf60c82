#!/bin/bash
# SPDX-License-Identifier: MIT
# lvctl.sh CMD — control the libvirt tier's daemons from a test (state in
# $ZXL_STATE): init | start | stop | restart | pause | resume | pid |
# b-prepare | b-start | b-stop | b-pid | cleanup.  init checks the prerequisites (exit 77
# with the reason) and makes $ZXL_STATE; cleanup removes everything zxl*.
# Daemons are addressed by their pid files.
set -u
cd "$(dirname "$0")/../.." || exit 1
. tests/libvirt/lib.sh
: "${ZXL_STATE:?ZXL_STATE is not set}"
LV_A=$ZXL_STATE/a
LV_B=$ZXL_STATE/b
case ${1:-} in
init) lv_init ;;
cleanup) lv_cleanup ;;
start) lv_start ;;
stop) lv_stop ;;
restart) lv_stop; lv_start ;;
pause) kill -STOP "$(cat "$LV_A/libvirtd.pid")" ;;
resume) kill -CONT "$(cat "$LV_A/libvirtd.pid")" ;;
pid) cat "$LV_A/libvirtd.pid" ;;
b-prepare) lv_b_prepare ;;
b-start) [ -x "$LV_B/start.sh" ] || lv_b_prepare; lv_b_start ;;
b-stop) lv_b_stop ;;
b-pid) cat "$LV_B/libvirtd.pid" ;;
*) echo "usage: lvctl.sh init|cleanup|start|stop|restart|pause|resume|pid|b-prepare|b-start|b-stop|b-pid" >&2; exit 2 ;;
esac
