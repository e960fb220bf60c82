#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""bench-libvirt: zcrxd following libvirt's test driver through a libvirtd
(test+unix:///default) while other processes (build/bench/virt-driver)
define 1000 domains (a type='direct' vNIC on zxlb0 and zcrx metadata each)
and start and destroy them.

Figures:
  latency        libvirt event -> attachment made, p50/p99/max, measured by
                 zcrxd itself (its loop receives the event .. the attachment
                 is in place): 200 starts at a steady 500/s from one driver
  capacity       how fast zcrxd handles events when it has a backlog (the
                 backlog phase): zcrxd is stopped (SIGSTOP by its pid)
                 while four drivers side by side start 200 domains and
                 then destroy 200 others that run and are attached, as
                 fast as libvirtd takes them; libvirtd keeps the events
                 for the stopped client.  Then SIGCONT:
                   offered: the events over the span of offering, from the
                   first driver call to the last driver call returned (all
                   drivers; their CLOCK_MONOTONIC stamps);
                   capacity: the events over the span from the SIGCONT to
                   zcrxd's own stamp of the last one handled
                   (libvirt.last_handled_usec, CLOCK_MONOTONIC);
                 the ratio capacity/offered is the goal's figure.  Every
                 event offered must reach zcrxd and be handled, none more
                 (libvirt.events and .handled), on the same connection,
                 leaving the 200 started attached and no other: the phase
                 fails otherwise.  The stop stays under zcrxd's libvirt
                 keepalive interval (2 s), or the phase is void.  zcrxd's
                 CPU per event there is reported only: a backlog is taken
                 in batches, which costs less per event than events as
                 they come
  alongside      the throughput phase: 200 starts then 200 destroys of
  the drivers    other domains from four drivers side by side while zcrxd
                 runs, in ZCRX_BENCH_ROUNDS rounds (5).  Each phase counts
                 its own spans: offered as above;
                 handled: the events zcrxd handled over the span of
                 handling, from the first event it handled to the last
                 (the first is the first status poll that sees one
                 handled, and only the events after it are counted);
                 the sum of counts over the sum of spans of both phases.
                 zcrxd keeps up with the drivers, so handled/offered there
                 is 1.0 +- jitter: reported, not judged.  zcrxd's CPU time
                 per event (the goal's figure: over all rounds, each
                 round's printed beside it) is measured here, split by
                 thread (run time from schedstat, minor page faults), with
                 the p99 under that burst (each event includes the
                 worker's GetXMLDesc or GetState and the attach/detach
                 through the manager)
  after drivers  how long after the last driver call of each throughput
                 phase returned the last event was handled (zcrxd's stamp:
                 no polling in it)
  plain client   what one virDomainGetXMLDesc costs a plain libvirt client
                 on this machine (build/bench/virt-call-cost: zcrxd's shape,
                 a read-only connection with libvirt's event loop on its own
                 thread), paced like the latency phase and back to back,
                 beside zcrxd's workers' CPU per read: reported, so that the
                 share of CPU per event that is libvirt's own client shows
  follower       the floor under zcrxd's CPU per event: a client that does
                 nothing but follow (build/bench/virt-follow-cost, libvirt's
                 own event loop on a thread) takes the throughput phase's
                 mix while zcrxd is stopped, once receiving the events only
                 and once also reading each started domain's XML on a
                 worker thread as zcrxd does; its CPU per event is printed
                 beside zcrxd's (reported, not judged)
  RSS            zcrxd's resident memory with 1000 defined domains, and with
                 all 1000 running and attached
ZCRX_BENCH_PROFILE="perf record -g -o /tmp/x.data -p {pid}" runs that
command (split like a shell would, {pid} replaced by zcrxd's pid) over the
throughput phase only, and stops it with SIGINT when the phase ends: a
profile or syscall count (perf trace -s, strace -c -f) of exactly the events
counted.  ZCRX_BENCH_DOMAINS must be at least four times ZCRX_BENCH_CYCLES
(the latency and throughput phases start domains of their own, the backlog
phase two sets: those running before the stop and those started in it).
Goals (ZCRX_BENCH_GOAL_*): a capacity of >= 1000 events/s (EPS) and >= the
rate the drivers offered in the same run (RATIO, capacity/offered >= 1.0),
<= 150 us zcrxd CPU per event alongside the drivers (CPU_US), p99 <= 5 ms
at 500 starts/s (P99_MS), <= 32 MiB RSS (RSS_MIB);
exit 1 when one is missed.  Needs root (libvirtd, a netns); exit 77 else.
Writes $ZCRX_BUILD/bench/libvirt.json.
"""
import json
import math
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
# a benchmark measures the daemon, not the tiers' IDL check of every
# reply (set before zxtest is imported: it reads it then)
os.environ.setdefault("ZCRX_IDL_CHECK", "0")
from zxtest import BUILD, Daemon, Netns, run, wait_for  # noqa: E402
import procstat  # noqa: E402

DEFINED = int(os.environ.get("ZCRX_BENCH_DOMAINS", "1000"))
CYCLES = int(os.environ.get("ZCRX_BENCH_CYCLES", "200"))
PARALLEL = int(os.environ.get("ZCRX_BENCH_DRIVERS", "4"))  # driver processes side by side
PACE_US = int(os.environ.get("ZCRX_BENCH_PACE_US", "2000"))  # latency phase: 500 starts/s
# rounds of the throughput phase: one round's CPU per event moves by tens
# of us from round to round on a shared machine; the goal judges them all
ROUNDS = max(1, int(os.environ.get("ZCRX_BENCH_ROUNDS", "5")))
GOAL_EPS = float(os.environ.get("ZCRX_BENCH_GOAL_EPS", "1000"))
# issue 11: zcrxd's capacity (a backlog handled from the SIGCONT on) at
# least the rate libvirt's test driver offers the events in the same run,
# at no more than this much zcrxd CPU per event (alongside the drivers)
GOAL_RATIO = float(os.environ.get("ZCRX_BENCH_GOAL_RATIO", "1.0"))
GOAL_CPU_US = float(os.environ.get("ZCRX_BENCH_GOAL_CPU_US", "150"))
GOAL_P99_MS = float(os.environ.get("ZCRX_BENCH_GOAL_P99_MS", "5"))
GOAL_RSS_MIB = float(os.environ.get("ZCRX_BENCH_GOAL_RSS_MIB", "32"))
URI = "test+unix:///default"
DRIVER = os.path.join(BUILD, "bench", "virt-driver")
SYSCOST = os.path.join(BUILD, "bench", "sys-cost")
CALLCOST = os.path.join(BUILD, "bench", "virt-call-cost")
CALLCOST_CALLS = 300
FOLLOWCOST = os.path.join(BUILD, "bench", "virt-follow-cost")
POLL_COST_CALLS = 200
# status polls in the measured phases (see burst_phase)
FIRST_POLL_S = 0.005
DONE_POLL_S = 0.05
LVCTL = os.path.join(TOP, "tests", "libvirt", "lvctl.sh")
PREFIX = "zxlb-"
# zcrxd's keepalive on its libvirt connection (zcrxd/virt.c: a ping after
# 2 s without a message from libvirtd, the connection closed after 3 more
# unanswered; libvirtd's own towards zcrxd: 5 s, 5).  A stopped zcrxd
# answers nothing: the backlog phase's stop must stay short against the
# 2 s, so that when zcrxd resumes its keepalive timer has not come due and
# libvirtd has not yet asked; a longer stop voids the phase.
KEEPALIVE_INTERVAL_S = 2.0


def driver_launch(op, n, parallel=1, first=0, pace_us=0):
    """Start the driver; with parallel > 1, that many side by side, each on
    its share of the domains; pace_us between operations."""
    share = n // parallel
    env = dict(os.environ, ZXL_PACE_US=str(pace_us))
    procs = [subprocess.Popen([DRIVER, URI, op, str(share), PREFIX, "zxlb0",
                               str(first + k * share)],
                              stdout=subprocess.PIPE, universal_newlines=True, env=env)
             for k in range(parallel)]
    return op, share * parallel, time.monotonic(), procs


def driver_wait(launched):
    """Wait for the drivers: the combined ops/s over this script's wall
    time, and the span of offering: the first call of any driver to the
    last call returned of any (CLOCK_MONOTONIC seconds)."""
    op, n, t0, procs = launched
    first, last = [], []
    for p in procs:
        out, _ = p.communicate()
        if p.returncode != 0:
            raise AssertionError("virt-driver %s failed" % op)
        r = json.loads(out)
        first.append(r["first"])
        last.append(r["last"])
    dt = time.monotonic() - t0
    return {"op": op, "n": n, "seconds": dt, "ops_per_sec": n / dt,
            "first": min(first), "last": max(last)}


def driver(op, n, parallel=1, first=0, pace_us=0):
    return driver_wait(driver_launch(op, n, parallel, first, pace_us))


class StatusPoller:
    """zcrxd's libvirt status on one connection kept open (a connection
    per poll would cost zcrxd an accept and a close each, counted in its
    CPU per event); opened again when zcrxd closed it."""

    def __init__(self, d):
        self.d = d
        self.c = None
        self.calls = 0

    def __call__(self):
        self.calls += 1
        for attempt in (0, 1):
            try:
                if self.c is None:
                    self.c = self.d.client()
                return self.c.call("io.zcrx.Manager.GetStatus")["libvirt"]
            except (OSError, ConnectionError):
                self.c = None
                if attempt:
                    raise
        return None


def attached(d):
    return [a for a in d.call("io.zcrx.Manager.ListAttachments")["attachments"]
            if a.get("domain", "").startswith(PREFIX)]


def threads_delta(a, b, events):
    """Per event, by thread name: {name: {"cpu_us", "minflt", "wakeups"}}."""
    z = [0.0, 0, 0]
    return {k: {"cpu_us": round((b[k][0] - a.get(k, z)[0]) * 1e6 / events, 1),
                "minflt": round((b[k][1] - a.get(k, z)[1]) / events, 2),
                "wakeups": round((b[k][2] - a.get(k, z)[2]) / events, 2)}
            for k in sorted(b)}


def burst_phase(lv, op, first, done):
    """One phase of the burst: PARALLEL drivers do op on CYCLES domains
    from first on, as fast as libvirtd takes them.  Returns the drivers'
    result, the events handled after the first seen handled and the span
    they took (zcrxd's stamps), and how long after the last driver call
    returned the last event was handled."""
    h0 = lv()["handled"]
    launched = driver_launch(op, CYCLES, PARALLEL, first)
    # the first event handled: polled every FIRST_POLL_S until one is.
    # Every poll costs zcrxd CPU that its CPU per event counts (the drivers
    # take tens of ms to start), and the figures come from zcrxd's own
    # stamps, not from when a poll looked: so few polls, not close ones
    deadline = time.monotonic() + 60
    while True:
        s = lv()
        if s["handled"] > h0:
            break
        if time.monotonic() > deadline:
            raise AssertionError("no %s event handled in 60 s" % op)
        time.sleep(FIRST_POLL_S)
    k_handled, k_usec = s["handled"], s["last_handled_usec"]
    res = driver_wait(launched)
    wait_for(lambda: done(h0, lv()), 120, interval=DONE_POLL_S,
             what="%d %s events handled" % (CYCLES, op))
    s = lv()
    n = s["handled"] - k_handled
    span = (s["last_handled_usec"] - k_usec) / 1e6
    if n <= 0 or span <= 0:
        # every event handled by the first look (the bench's process ran
        # late): no span of handling to count; the same-span figure is only
        # reported, so it says so instead of failing the bench
        n, span = 0, 0.0
    return res, n, span, s["last_handled_usec"] / 1e6 - res["last"]


def task_states(pid):
    """The scheduler state letter of each of pid's threads ('T': stopped)."""
    out = []
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                out.append(f.read().rsplit(")", 1)[1].split()[0])
        except OSError:
            continue  # a thread that ended meanwhile
    return out


def all_stopped(pid):
    return all(st == "T" for st in task_states(pid))


def while_stopped(pid, what, body):
    """body() run while zcrxd is stopped (SIGSTOP): stopped before it
    starts (its threads say so; the signal is delivered asynchronously, a
    few ms at most), still stopped when it ends, and for a short time
    against its libvirt keepalive, or the phase is void.  SIGCONT after,
    whatever happened.  Returns body's result and the CLOCK_MONOTONIC
    moments of the stop and of the SIGCONT."""
    stopped = False
    try:
        os.kill(pid, signal.SIGSTOP)
        stopped = True
        wait_for(lambda: all_stopped(pid), 5, interval=0.001, what="zcrxd stopped")
        t_stop = time.clock_gettime(time.CLOCK_MONOTONIC)
        r = body()
        if not all_stopped(pid):
            raise AssertionError("%s: zcrxd ran while stopped (%s)"
                                 % (what, "".join(task_states(pid))))
        t_cont = time.clock_gettime(time.CLOCK_MONOTONIC)
        if t_cont - t_stop >= KEEPALIVE_INTERVAL_S:
            raise AssertionError("%s: zcrxd stopped %.2f s, not short against its libvirt "
                                 "keepalive (%.0f s): the phase is void"
                                 % (what, t_cont - t_stop, KEEPALIVE_INTERVAL_S))
    finally:
        if stopped:
            os.kill(pid, signal.SIGCONT)
    return r, t_stop, t_cont


def throughput_round(lv, pid):
    """2. one round of the throughput phase: PARALLEL drivers start
    CYCLES domains (from CYCLES on) and then destroy them, as fast as
    libvirtd takes them, while zcrxd runs.  zcrxd's CPU per event over the
    round (by thread), the spans of offering and handling, libvirt calls
    and status polls counted in it."""
    events = 2 * CYCLES
    lat1 = lv()["attach_latency"]["samples"]
    polls0 = lv.calls
    s0 = lv()
    cpu0 = procstat.threads(pid)
    # one status call per poll: zcrxd's CPU for answering them is
    # counted in its CPU per event
    st, n_st, span_st, tail_start = burst_phase(
        lv, "start", CYCLES,
        lambda h0, s: (s["handled"] >= h0 + CYCLES and s["queued"] == 0
                       and s["attach_latency"]["samples"] >= lat1 + CYCLES))
    ds, n_ds, span_ds, tail_destroy = burst_phase(
        lv, "destroy", CYCLES,
        lambda h0, s: s["handled"] >= h0 + CYCLES and s["queued"] == 0)
    cpu1 = procstat.threads(pid)
    s1 = lv()
    return {
        "st": st, "ds": ds, "n_st": n_st, "n_ds": n_ds, "span_st": span_st,
        "span_ds": span_ds, "tail_start": tail_start, "tail_destroy": tail_destroy,
        "cpu0": cpu0, "cpu1": cpu1,
        "cpu_per_event": sum(t["cpu_us"] for t in threads_delta(cpu0, cpu1, events).values())
        / 1e6,
        # libvirt calls made for the events, and the events passed on with
        # nothing to read (zcrxd's counters)
        "reads": s1.get("reads", 0) - s0.get("reads", 0),
        "direct": s1.get("direct", 0) - s0.get("direct", 0),
        "polls": lv.calls - polls0,
    }


def backlog_phase(d, lv, pid):
    """3. capacity: zcrxd stopped (SIGSTOP) while PARALLEL drivers start
    CYCLES domains (from 3 * CYCLES) and then destroy CYCLES others (from
    2 * CYCLES, started and attached beforehand), as fast as libvirtd takes
    them: a start+stop mix as in the throughput phase, each event acted on
    (an attach, a detach).  libvirtd keeps the events for the stopped
    client.  Then SIGCONT: zcrxd takes the backlog as fast as it can.
    Returns the drivers' results, the moment of the SIGCONT, zcrxd's status
    before the stop and after the last event, and its CPU time by thread
    over the phase."""
    run_first, new_first = 2 * CYCLES, 3 * CYCLES
    # the domains to destroy, running and attached, and zcrxd idle
    lat0 = lv()["attach_latency"]["samples"]
    driver("start", CYCLES, PARALLEL, run_first)
    wait_for(lambda: (lambda s: s["queued"] == 0 and s["handled"] == s["events"] and
                      s["attach_latency"]["samples"] >= lat0 + CYCLES)(lv()),
             120, interval=0.01, what="%d attachments before the backlog" % CYCLES)
    before = sorted(a["domain"] for a in attached(d))
    want = sorted("%s%d" % (PREFIX, i) for i in range(run_first, run_first + CYCLES))
    if before != want:
        raise AssertionError("backlog: before the stop %d attached, not the %d domains started"
                             % (len(before), CYCLES))
    with open("/proc/%d/comm" % pid) as f:
        if f.read().strip() != "zcrxd":
            raise AssertionError("backlog: pid %d is not zcrxd" % pid)
    s0 = lv()
    polls0 = lv.calls
    cpu0 = procstat.threads(pid)
    (st, ds), t_stop, t_cont = while_stopped(
        pid, "backlog", lambda: (driver("start", CYCLES, PARALLEL, new_first),
                                 driver("destroy", CYCLES, PARALLEL, run_first)))
    events = 2 * CYCLES
    wait_for(lambda: (lambda s: s["handled"] >= s0["handled"] + events and s["queued"] == 0 and
                      s["attach_latency"]["samples"] >= s0["attach_latency"]["samples"] + CYCLES)
             (lv()), 120, interval=DONE_POLL_S, what="the backlog of %d events handled" % events)
    cpu1 = procstat.threads(pid)
    polls = lv.calls - polls0
    s1 = lv()
    # every event offered reached zcrxd and was handled, none more: libvirtd
    # kept them all for the stopped client (none dropped), on the same
    # connection (no reconnect, whose resync would stand in for events)
    got = {k: s1[k] - s0[k] for k in ("events", "handled", "connects", "failures")}
    if (got["events"] != events or got["handled"] != events or got["connects"]
            or got["failures"] or s1["state"] != "connected"):
        raise AssertionError("backlog: %d events offered; zcrxd got %s, libvirt %s"
                             % (events, got, s1["state"]))
    after = sorted(a["domain"] for a in attached(d))
    want = sorted("%s%d" % (PREFIX, i) for i in range(new_first, new_first + CYCLES))
    if after != want:
        raise AssertionError("backlog: after it %d attached, not the %d domains started "
                             "(%d of them)" % (len(after), CYCLES, len(set(after) & set(want))))
    # the domains started in the stop destroyed again, for the memory phase
    driver("destroy", CYCLES, PARALLEL, new_first)
    wait_for(lambda: lv()["queued"] == 0 and not attached(d), 120, what="detaches")
    return {"start": st, "destroy": ds, "t_stop": t_stop, "t_cont": t_cont, "s0": s0,
            "s1": s1, "cpu0": cpu0, "cpu1": cpu1, "polls": polls}


def follower_phase(d, lv, pid, mode):
    """4. the floor: a client that does nothing but follow libvirt
    (virt-follow-cost MODE: receive the events, and with "read" read each
    started domain's XML on a worker thread, zcrxd's shape) takes the
    throughput phase's mix: PARALLEL drivers start the latency phase's
    CYCLES domains (shut off again) and destroy them, as fast as libvirtd
    takes them.  zcrxd is stopped (SIGSTOP) meanwhile, so that nothing of
    its runs beside the follower; after the SIGCONT it takes the backlog
    (each start's read finds the domain shut off: nothing attached).
    Returns the follower's result with the drivers' rates."""
    events = 2 * CYCLES
    p = subprocess.Popen([FOLLOWCOST, URI, PREFIX, str(CYCLES), mode],
                         stdout=subprocess.PIPE, universal_newlines=True)
    try:
        if p.stdout.readline().strip() != "ready":
            raise AssertionError("virt-follow-cost %s did not subscribe" % mode)
        s0 = lv()
        (st, ds, out), _, _ = while_stopped(
            pid, "follower", lambda: (driver("start", CYCLES, PARALLEL, 0),
                                      driver("destroy", CYCLES, PARALLEL, 0),
                                      p.communicate(timeout=120)[0]))
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    if p.returncode != 0:
        raise AssertionError("virt-follow-cost %s failed (%d)" % (mode, p.returncode))
    r = json.loads(out)
    if r["events"] != events or (mode == "read" and r["reads"] != CYCLES):
        raise AssertionError("follower: %d events offered, it counted %s" % (events, r))
    wait_for(lambda: (lambda s: s["handled"] >= s0["handled"] + events and s["queued"] == 0)
             (lv()), 120, interval=DONE_POLL_S, what="zcrxd's backlog after the follower")
    wait_for(lambda: not attached(d), 60, what="nothing attached after the follower")
    r.update(start_per_sec=st["ops_per_sec"], destroy_per_sec=ds["ops_per_sec"])
    return r


def profiler_start(pid):
    """The command of ZCRX_BENCH_PROFILE on zcrxd's pid, or None."""
    cmd = os.environ.get("ZCRX_BENCH_PROFILE")
    if not cmd:
        return None
    argv = [a.replace("{pid}", str(pid)) for a in shlex.split(cmd)]
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    time.sleep(1.0)  # perf and strace attach asynchronously; nothing to wait on
    if p.poll() is not None:
        raise AssertionError("ZCRX_BENCH_PROFILE: %s exited with %d" % (argv[0], p.returncode))
    print("  profiling the throughput phase: %s" % " ".join(argv))
    return p


def profiler_stop(p):
    if p and p.poll() is None:
        p.send_signal(signal.SIGINT)
        p.wait()


def rss_mib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def switches_by_thread(pid):
    """Context switches so far of each thread of pid, by its name."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                name = f.read().strip()
            n = 0
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches",
                                        "nonvoluntary_ctxt_switches")):
                        n += int(line.split()[1])
        except OSError:
            continue
        out[name] = out.get(name, 0) + n
    return out


def idle_wakeups(pid, secs=6.0):
    """Wake-ups per second of each zcrxd thread while nothing happens:
    libvirt's keepalive (its timer and socket are on zcrxd's own loop,
    virt.c registers libvirt's event callbacks there) is the
    one expected."""
    time.sleep(1.0)  # the last reply's own wake-ups
    a = switches_by_thread(pid)
    time.sleep(secs)
    b = switches_by_thread(pid)
    return {k: round((b.get(k, 0) - a.get(k, 0)) / secs, 2) for k in b}


def main():
    if os.geteuid() != 0:
        print("SKIP: needs root (libvirtd, a network namespace)")
        return 77
    if DEFINED < 4 * CYCLES:
        print("bench-libvirt: ZCRX_BENCH_DOMAINS (%d) must be at least four times "
              "ZCRX_BENCH_CYCLES (%d): the latency, throughput and backlog phases "
              "start domains of their own (the backlog phase two sets)" % (DEFINED, CYCLES))
        return 2
    for prog in (DRIVER, SYSCOST, CALLCOST, FOLLOWCOST):
        if not os.access(prog, os.X_OK):
            print("SKIP: %s not built (make tests)" % prog)
            return 77
    # what this machine charges for a system call and a thread wake-up,
    # the stuff CPU per event is made of (before anything else runs)
    cost = json.loads(subprocess.run([SYSCOST], check=True, stdout=subprocess.PIPE,
                                     universal_newlines=True).stdout)
    state = tempfile.mkdtemp(prefix="zxl-bench-")
    env = dict(os.environ, ZXL_STATE=state)
    p = subprocess.run([LVCTL, "init"], env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, universal_newlines=True)
    if p.returncode != 0:
        print(p.stdout.strip())
        return 77 if p.returncode == 77 else 1
    os.environ["ZXL_STATE"] = state
    d = prof = None
    try:
        run([LVCTL, "start"])
        with Netns(prefix="zxlb") as ns:
            ns.add_veth("zxlb0", "zxlb1", queues=8)
            d = Daemon(netns=ns, libvirt_uri=URI,
                       config_text="[daemon]\nAutoAttach=metadata\n[nic zxlb0]\nReserveQueues=4\n")
            lv = StatusPoller(d)
            wait_for(lambda: lv()["state"] == "connected", 30, what="libvirt connected")
            pid = d.proc.pid
            rss0 = rss_mib(pid)

            base = lv()["handled"]
            dfn = driver("define", DEFINED)
            wait_for(lambda: lv()["handled"] >= base + DEFINED, 60, what="define events")
            rss_defined = rss_mib(pid)
            idle = idle_wakeups(pid)
            # what one GetXMLDesc costs a plain libvirt client here, paced
            # like zcrxd's reads (one per start, 2 ms apart at 500/s) and
            # back to back; zcrxd idles meanwhile (nothing happens to domains)
            call_cost = {}
            for pace in (PACE_US, 0):
                call_cost[pace] = json.loads(subprocess.run(
                    [CALLCOST, URI, "%s%d" % (PREFIX, DEFINED - 1), str(CALLCOST_CALLS),
                     str(pace)], check=True, stdout=subprocess.PIPE,
                    universal_newlines=True).stdout)

            # 1. latency: CYCLES starts at a steady PACE_US apart (no backlog),
            #    each attached while it runs; then the destroys
            lat0 = lv()["attach_latency"]["samples"]
            driver("start", CYCLES, 1, 0, PACE_US)
            wait_for(lambda: lv()["attach_latency"]["samples"] >= lat0 + CYCLES, 120,
                     interval=DONE_POLL_S, what="%d attachments" % CYCLES)
            lat = lv()["attach_latency"]
            driver("destroy", CYCLES, 1, 0, PACE_US)
            wait_for(lambda: lv()["queued"] == 0 and not attached(d), 120, what="detaches")

            # 2. throughput: CYCLES starts and CYCLES destroys of other
            #    domains from PARALLEL drivers as fast as libvirtd takes them
            # what one of this bench's status polls costs zcrxd, to say
            # how much of the CPU per event below is the bench's own
            c0 = procstat.threads(pid)
            for _ in range(POLL_COST_CALLS):
                lv()
            c1 = procstat.threads(pid)
            poll_cpu_us = sum(c1[k][0] - c0.get(k, [0.0])[0] for k in c1) * 1e6 / POLL_COST_CALLS
            prof = profiler_start(pid)
            rounds = [throughput_round(lv, pid) for _ in range(ROUNDS)]
            profiler_stop(prof)
            events = 2 * CYCLES
            # the goal's figure: over all rounds (what comes now and then,
            # a compaction of the state log, counted where it falls)
            by_thread = threads_delta(rounds[0]["cpu0"], rounds[-1]["cpu1"], events * ROUNDS)
            cpu_per_event = sum(t["cpu_us"] for t in by_thread.values()) / 1e6
            wcpu_per_event = sum(t["cpu_us"] for k, t in by_thread.items()
                                 if k.startswith("zcrxd-libvirt")) / 1e6
            faults_per_event = sum(t["minflt"] for t in by_thread.values())
            reads = sum(r["reads"] for r in rounds) / ROUNDS
            direct = sum(r["direct"] for r in rounds) / ROUNDS
            polls = sum(r["polls"] for r in rounds) / ROUNDS
            burst_lat = lv()["attach_latency"]
            left = attached(d)
            # handled: events over the spans of handling; offered: events
            # over the spans of offering (first call .. last call returned),
            # all rounds
            n_st = sum(r["n_st"] for r in rounds)
            n_ds = sum(r["n_ds"] for r in rounds)
            span_st = sum(r["span_st"] for r in rounds)
            span_ds = sum(r["span_ds"] for r in rounds)
            off_st = sum(r["st"]["last"] - r["st"]["first"] for r in rounds)
            off_ds = sum(r["ds"]["last"] - r["ds"]["first"] for r in rounds)
            offered = events * ROUNDS / (off_st + off_ds)
            # the drivers' rates: all rounds' operations over their wall time
            st_rate = CYCLES * ROUNDS / sum(r["st"]["seconds"] for r in rounds)
            ds_rate = CYCLES * ROUNDS / sum(r["ds"]["seconds"] for r in rounds)
            tail_start = max(r["tail_start"] for r in rounds)
            tail_destroy = max(r["tail_destroy"] for r in rounds)
            if span_st + span_ds > 0:
                eps = (n_st + n_ds) / (span_st + span_ds)
                ratio = eps / offered
            else:  # every event handled at the first look in both phases
                eps = ratio = float("nan")

            # 3. capacity: the same mix offered while zcrxd is stopped,
            #    then handled from the backlog as fast as zcrxd can
            bl = backlog_phase(d, lv, pid)
            b_st, b_ds = bl["start"], bl["destroy"]
            b_offered = events / ((b_st["last"] - b_st["first"]) + (b_ds["last"] - b_ds["first"]))
            b_drain = bl["s1"]["last_handled_usec"] / 1e6 - bl["t_cont"]
            capacity = events / b_drain
            b_ratio = capacity / b_offered
            b_by_thread = threads_delta(bl["cpu0"], bl["cpu1"], events)
            b_cpu_per_event = sum(t["cpu_us"] for t in b_by_thread.values()) / 1e6
            b_reads = bl["s1"]["reads"] - bl["s0"]["reads"]
            b_direct = bl["s1"]["direct"] - bl["s0"]["direct"]

            # 4. the floor: what following the same mix costs a client that
            #    does nothing else, receiving only and reading on a worker
            floor = {mode: follower_phase(d, lv, pid, mode) for mode in ("events", "read")}

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
        profiler_stop(prof)
        if d:
            d.cleanup()
        subprocess.run([LVCTL, "cleanup"], env=env)
        subprocess.run(["rm", "-rf", state])

    res = {
        "domains_defined": DEFINED, "cycles": CYCLES, "drivers": PARALLEL,
        "driver_define_per_sec": dfn["ops_per_sec"],
        "driver_start_per_sec": st_rate, "driver_destroy_per_sec": ds_rate,
        # capacity (judged): the backlog offered while zcrxd was stopped,
        # handled from the SIGCONT to zcrxd's stamp of the last event
        "capacity_events_per_sec": round(capacity, 1),
        "backlog_offered_events_per_sec": round(b_offered, 1),
        "capacity_to_offered_ratio": round(b_ratio, 3),
        "backlog_offered_spans_s": [round(b_st["last"] - b_st["first"], 4),
                                    round(b_ds["last"] - b_ds["first"], 4)],
        "backlog_driver_start_per_sec": b_st["ops_per_sec"],
        "backlog_driver_destroy_per_sec": b_ds["ops_per_sec"],
        "backlog_stopped_s": round(bl["t_cont"] - bl["t_stop"], 4),
        "backlog_drain_s": round(b_drain, 4),
        "backlog_events_handled": bl["s1"]["handled"] - bl["s0"]["handled"],
        "backlog_cpu_us_per_event": round(b_cpu_per_event * 1e6, 1),
        "backlog_domain_reads_per_event": round(b_reads / events, 3),
        "backlog_passed_without_worker_per_event": round(b_direct / events, 3),
        "backlog_status_polls_counted": bl["polls"],
        "backlog_per_event_by_thread": b_by_thread,
        # alongside the drivers (reported): the throughput phase's same-span
        # figures; zcrxd keeps up there, so the ratio is 1.0 +- jitter
        "alongside_handled_events_per_sec": None if math.isnan(eps) else round(eps, 1),
        "alongside_offered_events_per_sec": round(offered, 1),
        "alongside_handled_to_offered_ratio": None if math.isnan(ratio) else round(ratio, 3),
        "alongside_offered_spans_s": [round(off_st, 4), round(off_ds, 4)],
        "alongside_handled_spans_s": [round(span_st, 4), round(span_ds, 4)],
        "alongside_handled_counted": [n_st, n_ds],
        "after_drivers_ms": [round(tail_start * 1000, 1), round(tail_destroy * 1000, 1)],
        # CPU per event (judged) on the throughput phase, alongside the drivers
        "zcrxd_cpu_us_per_event": round(cpu_per_event * 1e6, 1),
        "zcrxd_cpu_us_per_event_rounds": [round(r["cpu_per_event"] * 1e6, 1) for r in rounds],
        "worker_cpu_us_per_event": round(wcpu_per_event * 1e6, 1),
        "minflt_per_event": round(faults_per_event, 2),
        "domain_reads_per_event": round(reads / events, 3),
        "passed_without_worker_per_event": round(direct / events, 3),
        "status_polls_counted": polls, "status_poll_cpu_us": round(poll_cpu_us, 1),
        "machine": cost,
        "plain_client_getxmldesc_cpu_us": {"paced_%d_us" % PACE_US:
                                           call_cost[PACE_US]["cpu_us_per_call"],
                                           "back_to_back": call_cost[0]["cpu_us_per_call"]},
        "minimal_follower": floor,
        "per_event_by_thread": by_thread,
        "burst_latency_p99_ms": burst_lat["p99_usec"] / 1000.0,
        "latency_p50_ms": lat["p50_usec"] / 1000.0, "latency_p99_ms": lat["p99_usec"] / 1000.0,
        "latency_max_ms": lat["max_usec"] / 1000.0, "latency_samples": lat["samples"],
        "attachments_left_after_destroy": len(left),
        "rss_idle_mib": round(rss0, 1), "rss_1000_defined_mib": round(rss_defined, 1),
        "rss_1000_running_mib": round(rss_running, 1),
        "attachments_with_1000_running": n_att,
        "idle_wakeups_per_s_by_thread": idle, "load1": round(os.getloadavg()[0], 2),
    }
    def met(ok):
        return "met" if ok else "MISSED"

    print("zcrxd following %s; %d drivers offered: start %.0f/s, destroy %.0f/s "
          "(define %.0f/s)" % (URI, PARALLEL, st_rate, ds_rate,
                               dfn["ops_per_sec"]))
    print("  handling capacity:       %8.0f /s   (goal >= %.0f: %s; %d events (%d starts, %d "
          "destroys) offered while zcrxd was stopped %.0f ms, all handled %.1f ms after the "
          "SIGCONT (zcrxd's stamp of the last))"
          % (capacity, GOAL_EPS, met(capacity >= GOAL_EPS), events, CYCLES, CYCLES,
             (bl["t_cont"] - bl["t_stop"]) * 1000, b_drain * 1000))
    print("  capacity / offered:      %8.3f      (goal >= %.1f: %s; offered %.0f events/s with "
          "zcrxd stopped: count / span of offering, first driver call .. last returned, start "
          "%.0f + destroy %.0f ms)"
          % (b_ratio, GOAL_RATIO, met(b_ratio >= GOAL_RATIO), b_offered,
             (b_st["last"] - b_st["first"]) * 1000, (b_ds["last"] - b_ds["first"]) * 1000))
    print("  backlog, reported:       %8.0f us   zcrxd CPU per event (batched: not the goal's "
          "figure); %.2f libvirt calls per event, %.2f passed on with nothing to read; %d "
          "status polls; by thread: %s"
          % (b_cpu_per_event * 1e6, b_reads / events, b_direct / events, bl["polls"],
             ", ".join("%s %.0f us" % (k, t["cpu_us"]) for k, t in b_by_thread.items())))
    print("  alongside the drivers:   %8.3f      (reported, not judged: handled %.0f events/s "
          "over the span of handling, first event handled .. last, against offered %.0f over "
          "the span of offering; zcrxd keeps up, so this is 1.0 +- jitter; p99 under that "
          "burst %.1f ms)"
          % (ratio, eps, offered, burst_lat["p99_usec"] / 1000.0))
    print("  spans offered / handled: start %.0f / %.0f ms (%d counted), destroy %.0f / %.0f ms "
          "(%d counted), all rounds" % (off_st * 1000, span_st * 1000, n_st,
                                        off_ds * 1000, span_ds * 1000, n_ds))
    print("  after the drivers:       %8.1f ms   (start phase %.1f + destroy phase %.1f, the longest "
          "of the rounds: the last event handled this long after the last driver call returned)"
          % ((tail_start + tail_destroy) * 1000, tail_start * 1000, tail_destroy * 1000))
    print("  zcrxd CPU per event:     %8.0f us   (goal <= %.0f: %s; alongside the drivers, over "
          "%d rounds of %d events, by round %s us; %.0f of them libvirt worker; %.1f minor "
          "faults/event; includes answering this bench's %.0f status polls a round, %.0f us "
          "each alone: about %.0f us per event)"
          % (cpu_per_event * 1e6, GOAL_CPU_US, met(cpu_per_event * 1e6 <= GOAL_CPU_US),
             ROUNDS, events, ", ".join("%.0f" % (r["cpu_per_event"] * 1e6) for r in rounds),
             wcpu_per_event * 1e6, faults_per_event, polls, poll_cpu_us, polls * poll_cpu_us / events))
    print("  libvirt calls per event: %8.2f      (GetXMLDesc or GetState by the workers; %.2f of "
          "the events passed on with nothing to read)"
          % (reads / events, direct / events))
    print("  this machine:            a system call %.2f us, a wake-up round trip between two "
          "threads %.1f us (%.1f us CPU) (build/bench/sys-cost)"
          % (cost["syscall_us"], cost["round_trip_us"], cost["round_trip_cpu_us"]))
    print("  a plain libvirt client:  GetXMLDesc %.0f us CPU per call %.0f us apart, %.0f us back "
          "to back (its event loop thread included; build/bench/virt-call-cost, %d calls "
          "each): zcrxd's workers make one per start, %.0f us per read here"
          % (call_cost[PACE_US]["cpu_us_per_call"], PACE_US, call_cost[0]["cpu_us_per_call"],
             CALLCOST_CALLS, wcpu_per_event * 1e6 * events / reads if reads else float("nan")))
    print("  a minimal follower:      %8.0f us   CPU per event, reading each started domain's "
          "XML on a worker thread as zcrxd does and doing nothing else (receiving the events "
          "alone: %.0f us); the same mix from %d drivers, zcrxd stopped meanwhile "
          "(build/bench/virt-follow-cost): zcrxd's own work is the other %.0f us"
          % (floor["read"]["cpu_us_per_event"], floor["events"]["cpu_us_per_event"], PARALLEL,
             cpu_per_event * 1e6 - floor["read"]["cpu_us_per_event"]))
    print("  by thread, per event:    %s" % ", ".join(
        "%s %.0f us %.1f faults %.1f wake-ups" % (k, t["cpu_us"], t["minflt"], t["wakeups"])
        for k, t in by_thread.items()))
    print("  at a steady %.0f starts/s:" % (1e6 / PACE_US if PACE_US else 0))
    print("  event -> attachment p50: %8.3f ms" % res["latency_p50_ms"])
    print("  event -> attachment p99: %8.3f ms   (goal <= %.1f: %s)"
          % (res["latency_p99_ms"], GOAL_P99_MS, met(res["latency_p99_ms"] <= GOAL_P99_MS)))
    print("  event -> attachment max: %8.3f ms   (%d samples)" % (res["latency_max_ms"],
                                                                 lat["samples"]))
    print("  RSS idle / %d defined / %d running: %.1f / %.1f / %.1f MiB   (goal <= %.0f: %s)"
          % (DEFINED, DEFINED, rss0, rss_defined, rss_running, GOAL_RSS_MIB,
             met(max(rss_defined, rss_running) <= GOAL_RSS_MIB)))
    print("  attachments left after the destroys: %d; with %d running: %d"
          % (len(left), DEFINED, n_att))
    print("  idle wake-ups per second by thread (reported; libvirt's keepalive runs on "
          "zcrxd's loop): %s"
          % ", ".join("%s %.2f" % kv for kv in sorted(idle.items())))
    print("  load average at the end: %.2f" % os.getloadavg()[0])
    os.makedirs(os.path.join(BUILD, "bench"), exist_ok=True)
    with open(os.path.join(BUILD, "bench", "libvirt.json"), "w") as f:
        json.dump(res, f, indent=2)
    ok = (capacity >= GOAL_EPS and b_ratio >= GOAL_RATIO and cpu_per_event * 1e6 <= GOAL_CPU_US
          and res["latency_p99_ms"] <= GOAL_P99_MS
          and max(rss_defined, rss_running) <= GOAL_RSS_MIB and not left
          and n_att >= DEFINED)
    if not ok:
        print("bench-libvirt: a goal was missed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
