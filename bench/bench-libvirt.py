#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench-libvirt: zcrxd following libvirt's test driver through a libvirtd
(test+unix:///default) while a second process, build/bench/virt-driver,
defines 1000 domains (a type='direct' vNIC on zxlb0 and zcrx metadata each)
and starts and destroys 200 of them as fast as libvirtd takes them.

Figures:
  events/s       libvirt events zcrxd handled per second, from the driver's
                 first start to zcrxd having handled the last stop (each
                 handled event includes the worker's GetState + GetXMLDesc
                 where needed and the attach/detach through the manager)
  latency        libvirt event -> attachment made, p50/p99/max, measured by
                 zcrxd itself (loop receives the event .. attachment done)
  RSS            zcrxd's resident memory with 1000 defined domains, and with
                 all 1000 running and attached
Goals (ZCRX_BENCH_GOAL_*): >= 1000 events/s, p99 <= 5 ms, <= 32 MiB RSS;
exit 1 when one is missed.  Needs root (libvirtd, a netns); exit 77 else.
Writes $ZCRX_BUILD/bench/libvirt.json.
"""
import json
import os
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
from zxtest import BUILD, Daemon, Netns, run, wait_for  # noqa: E402

DEFINED = int(os.environ.get("ZCRX_BENCH_DOMAINS", "1000"))
CYCLES = int(os.environ.get("ZCRX_BENCH_CYCLES", "200"))
GOAL_EPS = float(os.environ.get("ZCRX_BENCH_GOAL_EPS", "1000"))
GOAL_P99_MS = float(os.environ.get("ZCRX_BENCH_GOAL_P99_MS", "5"))
GOAL_RSS_MIB = float(os.environ.get("ZCRX_BENCH_GOAL_RSS_MIB", "32"))
URI = "test+unix:///default"
DRIVER = os.path.join(BUILD, "bench", "virt-driver")
LVCTL = os.path.join(TOP, "tests", "libvirt", "lvctl.sh")
PREFIX = "zxlb-"


def driver(op, n):
    p = run([DRIVER, URI, op, str(n), PREFIX, "zxlb0"])
    return json.loads(p.stdout)


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (libvirtd, a network namespace)")
        return 77
    if not os.access(DRIVER, os.X_OK):
        print("SKIP: %s not built (make tests)" % DRIVER)
        return 77
    state = tempfile.mkdtemp(prefix="zxl-bench-")
    env = dict(os.environ, ZXL_STATE=state)
    p = subprocess.run([LVCTL, "init"], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    if p.returncode != 0:
        print(p.stdout.strip())
        return 77 if p.returncode == 77 else 1
    os.environ["ZXL_STATE"] = state
    d = None
    try:
        run([LVCTL, "start"])
        with Netns(prefix="zxlb") as ns:
            ns.add_veth("zxlb0", "zxlb1", queues=8)
            d = Daemon(netns=ns, libvirt_uri=URI,
                       config_text="[daemon]\nAutoAttach=metadata\n[nic zxlb0]\nReserveQueues=4\n")
            lv = lambda: d.status()["libvirt"]  # noqa: E731
            wait_for(lambda: lv()["state"] == "connected", 30, what="libvirt connected")
            pid = d.proc.pid
            rss0 = rss_mib(pid)

            base = lv()["handled"]
            dfn = driver("define", DEFINED)
            wait_for(lambda: lv()["handled"] >= base + DEFINED, 60, what="define events")
            rss_defined = rss_mib(pid)

            # start CYCLES domains, each attached while it runs; then destroy them
            base = lv()["handled"]
            lat0 = lv()["attach_latency"]["samples"]
            t0 = time.monotonic()
            st = driver("start", CYCLES)
            wait_for(lambda: lv()["attach_latency"]["samples"] >= lat0 + CYCLES, 120,
                     interval=0.005, what="%d attachments" % CYCLES)
            t_att = time.monotonic()
            ds = driver("destroy", CYCLES)
            wait_for(lambda: lv()["handled"] >= base + 2 * CYCLES and lv()["queued"] == 0, 120,
                     interval=0.005, what="%d events handled" % (2 * CYCLES))
            t1 = time.monotonic()
            lat = lv()["attach_latency"]
            left = [a for a in d.call("io.zcrx.Manager.ListAttachments")["attachments"]
                    if a.get("domain", "").startswith(PREFIX)]
            eps = 2 * CYCLES / (t1 - t0)

            # memory with every domain running and attached
            lat1 = lv()["attach_latency"]["samples"]
            driver("start", DEFINED)
            wait_for(lambda: lv()["attach_latency"]["samples"] >= lat1 + DEFINED, 300,
                     what="%d attachments" % DEFINED)
            rss_running = rss_mib(pid)
            n_att = len(d.call("io.zcrx.Manager.ListAttachments")["attachments"])
            driver("destroy", DEFINED)
            driver("undefine", DEFINED)
    finally:
        if d:
            d.cleanup()
        subprocess.run([LVCTL, "cleanup"], env=env)
        subprocess.run(["rm", "-rf", state])

    res = {
        "domains_defined": DEFINED, "cycles": CYCLES,
        "driver_define_per_sec": dfn["ops_per_sec"],
        "driver_start_per_sec": st["ops_per_sec"], "driver_destroy_per_sec": ds["ops_per_sec"],
        "events_per_sec": round(eps, 1),
        "seconds_to_all_attached": round(t_att - t0, 4),
        "latency_p50_ms": lat["p50_usec"] / 1000.0, "latency_p99_ms": lat["p99_usec"] / 1000.0,
        "latency_max_ms": lat["max_usec"] / 1000.0, "latency_samples": lat["samples"],
        "attachments_left_after_destroy": len(left),
        "rss_idle_mib": round(rss0, 1), "rss_1000_defined_mib": round(rss_defined, 1),
        "rss_1000_running_mib": round(rss_running, 1),
        "attachments_with_1000_running": n_att,
    }
    print("zcrxd following %s; driver: define %.0f/s, start %.0f/s, destroy %.0f/s"
          % (URI, dfn["ops_per_sec"], st["ops_per_sec"], ds["ops_per_sec"]))
    print("  events handled:          %8.0f /s   (goal >= %.0f)" % (eps, GOAL_EPS))
    print("  event -> attachment p50: %8.3f ms" % res["latency_p50_ms"])
    print("  event -> attachment p99: %8.3f ms   (goal <= %.1f)" % (res["latency_p99_ms"],
                                                                  GOAL_P99_MS))
    print("  event -> attachment max: %8.3f ms   (%d samples)" % (res["latency_max_ms"],
                                                                 lat["samples"]))
    print("  RSS idle / %d defined / %d running: %.1f / %.1f / %.1f MiB   (goal <= %.0f)"
          % (DEFINED, DEFINED, rss0, rss_defined, rss_running, GOAL_RSS_MIB))
    print("  attachments left after the destroys: %d; with %d running: %d"
          % (len(left), DEFINED, n_att))
    os.makedirs(os.path.join(BUILD, "bench"), exist_ok=True)
    with open(os.path.join(BUILD, "bench", "libvirt.json"), "w") as f:
        json.dump(res, f, indent=2)
    ok = (eps >= GOAL_EPS and res["latency_p99_ms"] <= GOAL_P99_MS
          and max(rss_defined, rss_running) <= GOAL_RSS_MIB and not left
          and n_att >= DEFINED)
    if not ok:
        print("bench-libvirt: a goal was missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
