# SPDX-License-Identifier: MIT
"""Kernel tier for the zero-copy binder, in private network namespaces named
zxb* with a veth pair (the "NIC") and a macvtap on it.

Absent: on this kernel the vhost_zcrx family does not exist.  zcrxd must say
so everywhere an operator looks (GetStatus, the capability matrix of `zcrxctl
nics`, `zcrxctl metrics`) with the named reason, and run on.

Fake module: tests/tools/fake-vhost-zcrx runs inside the namespace (it checks
ifindexes there and sees RTM_DELLINK) and the test daemon build/tests/zcrxd-fake
(zcrxd's code over the kernel's NICs, --kernel-nics, or the fake NIC) talks to
it through the production backend (--fake-binder: the same messages over a
unix socket); zcrxd itself cannot be pointed at it.  The module appearing and going
away, bindings surviving a zcrxd restart, STATE_NTF and a teardown when the
macvtap goes away reach GetStatus, the capability matrix and `zcrxctl
monitor`.  Every wait polls with a deadline."""
import json
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from zxtest import BUILD, ZCRXCTL, Daemon, Netns, main, require_root, run, wait_for  # noqa: E402

FAKE = os.path.join(BUILD, "tests", "fake-vhost-zcrx")
ABSENT = "kernel module vhost_zcrx not available"
MVT_MAC = "52:54:00:00:b1:01"
VM0_MAC = "52:54:00:00:b2:01"  # BinderDaemon's vNICs
VM1_MAC = "52:54:00:00:b2:02"


def make_ns(prefix):
    ns = Netns(prefix).__enter__()
    ns.add_veth("zxb0", "zxb1", queues=4)
    # the vNIC's macvtap sits on the NIC it is attached to (zcrxd takes no
    # other device as an attachment's tap)
    ns.add_macvtap("zxb0", "zxbmvt0", MVT_MAC)
    return ns


def ifindex(ns, dev):
    out = ns.ip("-j", "link", "show", dev).stdout
    return json.loads(out)[0]["ifindex"]


def cap_line(text, cap):
    m = re.search(r"^%s\s+(\S+)\s+(.*)$" % re.escape(cap), text, re.M)
    return (m.group(1), m.group(2).strip()) if m else None


def promtool():
    p = os.environ.get("ZCRX_PROMTOOL") or shutil.which("promtool")
    return p if p and os.access(p, os.X_OK) else None


class FakeModule:
    """tests/tools/fake-vhost-zcrx in the namespace; stopped by its PID."""

    def __init__(self, ns, *args):
        self.dir = tempfile.mkdtemp(prefix="zxb-fake-")
        self.sock = os.path.join(self.dir, "vhost_zcrx.sock")
        self.out = open(os.path.join(self.dir, "out"), "w+")
        self.proc = subprocess.Popen(ns.exec_cmd([FAKE, "--socket", self.sock] + list(args)),
                                     stdout=self.out, stderr=subprocess.STDOUT)

        def ready():
            self.out.seek(0)
            return "ready" in self.out.read()
        wait_for(ready, 10, what="fake-vhost-zcrx ready")

    def ctl(self, line):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(10)
        s.connect(self.sock + ".ctl")
        f = s.makefile("rw")
        f.write(line + "\n")
        f.flush()
        lines = []
        while True:
            ln = f.readline()
            if not ln:
                break
            lines.append(ln.rstrip("\n"))
            if ln.startswith("ok") or ln.startswith("error"):
                break
        s.close()
        if not lines or lines[-1] != "ok":
            raise AssertionError("fake %r: %r" % (line, lines))
        return lines[:-1]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Monitor:
    """`zcrxctl monitor --json` in the background, read line by line."""

    def __init__(self, daemon):
        self.proc = subprocess.Popen([ZCRXCTL, "--socket", daemon.socket, "--json", "monitor"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0)
        # subscribed once the daemon counts it
        wait_for(lambda: daemon.status()["monitors"] >= 1, 10, what="monitor subscribed")
        self.events = []
        self.buf = b""

    def wait(self, pred, what, timeout=10):
        """The first event (in order) that pred accepts; raw reads, so
        nothing hides in a file object's buffer while select() waits."""
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        while True:
            for ev in self.events:
                if pred(ev):
                    self.events.remove(ev)
                    return ev
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("no %s event in %r" % (what, self.events))
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            data = os.read(fd, 65536)
            if not data:
                raise AssertionError("monitor ended: %s" % self.proc.stderr.read())
            self.buf += data
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                self.events.append(json.loads(line))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)
        self.proc.stdout.close()
        self.proc.stderr.close()


@require_root
class BinderAbsent(unittest.TestCase):
    """The real kernel: no vhost_zcrx family."""

    @classmethod
    def setUpClass(cls):
        cls.ns = make_ns("zxba")
        cls.d = Daemon(netns=cls.ns, config_text="[nic zxb0]\nReserveQueues=2\n",
                       extra_args=("--debug=binder",))

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        cls.ns.delete()

    def test_status_names_the_reason(self):
        b = self.d.status()["binder"]
        self.assertEqual(b["module"], "vhost_zcrx")
        self.assertEqual(b["backend"], "netlink")
        self.assertFalse(b["available"])
        self.assertEqual(b["errno"], 2)  # ENOENT from CTRL_CMD_GETFAMILY
        self.assertEqual(b["message"], ABSENT)
        self.assertEqual(b["bindings"], 0)
        self.assertEqual(b["kernel_errors"], 0)  # absent is not an error
        self.assertIn("no zero-copy: " + ABSENT + " (ENOENT)", self.d.log())
        # it listens for the family to appear later (nlctrl "notify" joined)
        self.assertNotIn("cannot follow family registrations", self.d.log())

    def test_capability_matrix(self):
        p = self.d.ctl("nics", "zxb0")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(cap_line(p.stdout, "binder"), ("no", ABSENT))
        nic = json.loads(self.d.ctl("--json", "nics", "zxb0").stdout)["nic"]
        cap = nic["capabilities"]["binder"]
        self.assertEqual(cap["state"], "no")
        self.assertEqual(cap["errno"], 2)
        # a macvtap is no NIC to bind
        mvt = json.loads(self.d.ctl("--json", "nics", "zxbmvt0").stdout)["nic"]
        self.assertEqual(mvt["capabilities"]["binder"]["state"], "no")
        self.assertIn("not a NIC", mvt["capabilities"]["binder"]["message"])

    def test_steering_side_unchanged(self):
        # the NIC layer reports the veth as it would without a binder
        nic = json.loads(self.d.ctl("--json", "nics", "zxb0").stdout)["nic"]
        self.assertEqual(nic["capabilities"]["channels"]["state"], "yes")
        self.assertEqual(nic["rx_queues"], 4)

    def test_attachment_degraded_with_the_named_reason(self):
        r = self.d.call("io.zcrx.Manager.Attach", {"domain": "vm0", "nic": "zxb0",
                                                   "mac": MVT_MAC, "tap": "zxbmvt0"})
        try:
            a = r["attachments"][0]
            self.assertEqual(a["state"], "degraded")
            zc = [x for x in a["reasons"] if x["code"] == "no-zero-copy"]
            self.assertEqual(len(zc), 1, a["reasons"])
            self.assertEqual(zc[0]["message"],
                             "no zero-copy (kernel module vhost_zcrx not available)")
            self.assertEqual(zc[0]["errno_name"], "ENOENT")
            self.assertEqual(a["bindings"], [])
            # the queue is carved all the same (veth cannot steer: its own reason)
            self.assertEqual(len(a["queues"]), 1)
            self.assertIn("unsteered", [x["code"] for x in a["reasons"]])
            pool = [n for n in self.d.call("io.zcrx.Manager.ListAttachments")["nics"]
                    if n["nic"] == "zxb0"][0]
            self.assertEqual(pool["pool"], [2, 3])
            self.assertEqual(pool["leased"], 1)
            p = self.d.ctl("list")
            self.assertIn("no-zero-copy: bind: no zero-copy (kernel module vhost_zcrx not "
                          "available)", p.stdout)
            row = [ln for ln in p.stdout.splitlines() if ln.startswith("vm0 ")][0]
            self.assertEqual(row.split()[-1], "no")
        finally:
            self.d.call("io.zcrx.Manager.Detach", {"domain": "vm0"})

    def test_metrics(self):
        p = self.d.ctl("metrics")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("\nzcrx_binder_available 0\n", p.stdout)
        self.assertIn('zcrx_nic_binder_supported{nic="zxb0"} 0\n', p.stdout)
        self.assertIn('zcrx_nic_channels{nic="zxb0"} 4\n', p.stdout)
        self.assertNotIn("zxbmvt0", p.stdout)
        j = json.loads(self.d.ctl("--json", "metrics").stdout)
        self.assertEqual(j["format"], "prometheus-text-0.0.4")
        def no_uptime(t):
            return re.sub(r"(?m)^zcrx_uptime_seconds .*$", "", t)
        self.assertEqual(no_uptime(j["text"]), no_uptime(p.stdout))
        tool = promtool()
        if tool:
            r = subprocess.run([tool, "check", "metrics"], input=p.stdout,
                               universal_newlines=True, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
            self.assertEqual(r.returncode, 0, r.stdout)


# zxb0 is zcrxd's (named, with the defaults: nothing to change): only the
# NICs zcrxd looks after get the binder's verdict (DESIGN.md §14)
BINDER_CONF = "[nic zxb0]\n"


@require_root
class NoTestHookInZcrxd(unittest.TestCase):
    """zcrxd talks to the kernel's module only: a fake module listening
    where the old test variable ZCRXD_FAKE_VHOST_ZCRX points is not taken
    for it (before, whoever answered there decided what zcrxd reported as
    zero-copy)."""

    def test_environment_does_not_replace_the_module(self):
        ns = make_ns("zxbe")
        fake = FakeModule(ns)
        d = None
        try:
            d = Daemon(netns=ns, config_text="", env={"ZCRXD_FAKE_VHOST_ZCRX": fake.sock})
            b = d.status()["binder"]
            self.assertEqual(b["backend"], "netlink")
            self.assertFalse(b["available"], b)
            self.assertEqual(b["message"], ABSENT)
            self.assertNotIn("FAKE", d.log())
            self.assertEqual(fake.ctl("log"), [])
        finally:
            if d:
                d.cleanup()
            fake.stop()
            ns.delete()


@require_root
class BinderFake(unittest.TestCase):
    """The production backend against the fake module in the namespace, in
    the test daemon over the kernel's NICs."""

    def setUp(self):
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "attach"))
        from attachlib import FakeDaemon
        self.FakeDaemon = FakeDaemon
        self.ns = make_ns("zxbf")
        self.fake = FakeModule(self.ns, "--check-links", "--watch-links")
        self.work = tempfile.mkdtemp(prefix="zxb-work-")
        self.d = self.start()
        self.mon = None

    def start(self):
        return self.FakeDaemon(self.ns, BINDER_CONF, self.work, kernel_nics=True,
                               binder=self.fake.sock)

    def tearDown(self):
        if self.mon:
            self.mon.stop()
        self.d.cleanup()
        self.fake.stop()
        self.ns.delete()
        shutil.rmtree(self.work, ignore_errors=True)

    def test_available_and_capability(self):
        b = self.d.status()["binder"]
        self.assertTrue(b["available"], b)
        self.assertEqual(b["backend"], "unix:" + self.fake.sock)
        self.assertNotIn("message", b)
        self.assertIn("FAKE vhost_zcrx", self.d.log())
        p = self.d.ctl("nics", "zxb0")
        self.assertEqual(cap_line(p.stdout, "binder"),
                         ("yes", "vhost_zcrx: needs-hds,copy-fallback, up to 64 bindings"))
        self.assertIn("\nzcrx_binder_available 1\n", self.d.ctl("metrics").stdout)
        self.assertIn("PROBE %d -> ok" % ifindex(self.ns, "zxb0"), self.fake.ctl("log"))

    def test_module_goes_and_comes(self):
        self.mon = Monitor(self.d)
        self.fake.ctl("present 0")
        ev = self.mon.wait(lambda e: e["type"] == "binder-unavailable", "binder-unavailable")
        self.assertEqual(ev["message"], ABSENT)
        wait_for(lambda: cap_line(self.d.ctl("nics", "zxb0").stdout, "binder") == ("no", ABSENT),
                 what="capability back to no")
        self.assertFalse(self.d.status()["binder"]["available"])
        self.fake.ctl("present 1")
        self.mon.wait(lambda e: e["type"] == "binder-available", "binder-available")
        wait_for(lambda: cap_line(self.d.ctl("nics", "zxb0").stdout, "binder")[0] == "yes",
                 what="capability yes again")

    def test_bindings_survive_restart_and_macvtap_teardown(self):
        nic, tap = ifindex(self.ns, "zxb0"), ifindex(self.ns, "zxbmvt0")
        bid = int(self.fake.ctl("bind %d 3 %d copy" % (nic, tap))[0])
        # a restart finds the binding with a dump
        self.d.cleanup()
        self.d = self.start()
        b = self.d.status()["binder"]
        self.assertTrue(b["available"])
        self.assertEqual(b["bindings"], 1)
        self.assertEqual(self.fake.ctl("list"),
                         ["id=%d ifindex=%d queue=3 tap=%d fallback=copy state=pending reason=0"
                          % (bid, nic, tap)])
        # state notifications reach the monitor, as lines too
        self.mon = Monitor(self.d)
        self.fake.ctl("state %d degraded ENOBUFS" % bid)
        ev = self.mon.wait(lambda e: e["type"] == "binding-state", "binding-state")
        self.assertEqual((ev["binding_id"], ev["state"], ev["reason"], ev["nic"], ev["queue"],
                          ev["tap"], ev["fallback"]),
                         (bid, "degraded", "ENOBUFS", "zxb0", 3, "zxbmvt0", "copy"))
        # the macvtap goes away: the module tears the binding down
        self.ns.ip("link", "del", "zxbmvt0")
        ev = self.mon.wait(lambda e: e["type"] == "binding-gone", "binding-gone")
        self.assertEqual(ev["binding_id"], bid)
        # how it ended, as the module said it: not the last state it had
        self.assertEqual((ev["state"], ev["reason"]), ("broken", "ENODEV"))
        wait_for(lambda: self.d.status()["binder"]["bindings"] == 0, what="binding dropped")
        self.assertEqual(self.fake.ctl("list"), [])
        self.assertIn("TEARDOWN %d (ifindex %d gone)" % (bid, tap), self.fake.ctl("log"))

    def test_monitor_lines(self):
        nic, tap = ifindex(self.ns, "zxb0"), ifindex(self.ns, "zxbmvt0")
        bid = int(self.fake.ctl("bind %d 2 %d drop" % (nic, tap))[0])
        p = subprocess.Popen([ZCRXCTL, "--socket", self.d.socket, "monitor", "--count", "1"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
        try:
            wait_for(lambda: self.d.status()["monitors"] >= 1, what="monitor subscribed")
            self.fake.ctl("state %d active" % bid)
            out, err = p.communicate(timeout=10)
        finally:
            if p.poll() is None:
                p.kill()
        self.assertEqual(p.returncode, 0, err)
        self.assertRegex(out, r"^\d\d:\d\d:\d\d\.\d{3} binding-state binding %d on zxb0 queue 2 "
                              r"\(zxbmvt0\): active\n$" % bid)


FAKE_CONF = """
[daemon]
ReconcileIntervalSec=0

[nic eth0]
ReserveQueues=2
"""


def metric(text, name, **labels):
    """The value of one sample in Prometheus text, None if absent."""
    want = ",".join('%s="%s"' % kv for kv in labels.items())
    for line in text.splitlines():
        if line.startswith(name + ("{" if labels else " ")):
            got = line[len(name):].rsplit(" ", 1)
            lab = got[0].strip("{}")
            if all(('%s="%s"' % kv) in lab.split(",") for kv in labels.items()) or \
                    (not labels and not lab):
                return float(got[1])
    return None


@require_root
class BinderDaemon(unittest.TestCase):
    """zcrxd's manager over the test-only fake NIC (it can steer, veth
    cannot: tests/tools/zcrxd-fake) and the fake module, with a real
    macvtap in the namespace: attach, bind, state changes in `zcrxctl
    list`/monitor/metrics, restart and adoption, detach unbinding first, the
    module going away."""

    def setUp(self):
        sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "attach"))
        from attachlib import FakeDaemon
        self.FakeDaemon = FakeDaemon
        self.ns = make_ns("zxbd")
        self.ns.add_macvtap("zxb0", "zxbmvt1", VM1_MAC)
        # zcrxd-fake sees the fake NIC eth0 and, on it, a fake macvtap for
        # each real one: same name and ifindex (what the fake module binds
        # to and watches), the vNIC's MAC
        self.nics = ("eth0:capable",) + tuple(
            "%s:macvtap,lower=eth0,mac=%s,ifindex=%d" % (tap, mac, ifindex(self.ns, tap))
            for tap, mac in (("zxbmvt0", VM0_MAC), ("zxbmvt1", VM1_MAC)))
        self.fake = FakeModule(self.ns, "--watch-links")
        self.work = tempfile.mkdtemp(prefix="zxb-work-")
        self.d = self.start()
        self.mon = None

    def start(self):
        return self.FakeDaemon(self.ns, FAKE_CONF, self.work, nics=self.nics,
                               binder=self.fake.sock)

    def tearDown(self):
        if self.mon:
            self.mon.stop()
        self.d.cleanup()
        self.fake.stop()
        self.ns.delete()
        shutil.rmtree(self.work, ignore_errors=True)

    def attach(self, mac="52:54:00:00:b2:01", tap="zxbmvt0"):
        return self.d.call("io.zcrx.Manager.Attach", {"domain": "vm0", "nic": "eth0", "mac": mac,
                                                      "tap": tap})["attachments"][0]

    def listed(self):
        return self.d.call("io.zcrx.Manager.ListAttachments")["attachments"]

    def zc_column(self):
        p = self.d.ctl("list")
        self.assertEqual(p.returncode, 0, p.stderr)
        row = [ln for ln in p.stdout.splitlines() if ln.startswith("vm0 ")][0]
        return row.split()[-1]

    def test_attach_bind_state_restart_detach(self):
        tap = ifindex(self.ns, "zxbmvt0")
        a = self.attach()
        q = a["queues"][0]
        self.assertEqual(a["steering"], "mac")
        self.assertEqual(len(a["rules"]), 1)
        self.assertEqual(a["bindings"], [{"queue": q, "id": 1, "state": "pending"}])
        self.assertEqual(a["state"], "pending")
        log = self.fake.ctl("log")
        binds = [ln for ln in log if ln.startswith("BIND ")]
        self.assertEqual(len(binds), 1, log)
        self.assertRegex(binds[0], r"^BIND ifindex=\d+ queue=%d tap=%d fallback=copy -> 1$"
                         % (q, tap))
        self.assertEqual(self.zc_column(), "pending")

        # the guest posts buffers: list, monitor and metrics follow
        self.mon = Monitor(self.d)
        self.fake.ctl("stats 1 100 150000 90 10 3 512")
        self.fake.ctl("state 1 active")
        ev = self.mon.wait(lambda e: e["type"] == "binding-state", "binding-state")
        self.assertEqual((ev["binding_id"], ev["state"], ev["tap"]), (1, "active", "zxbmvt0"))
        wait_for(lambda: self.listed()[0]["state"] == "active", what="attachment active")
        self.assertEqual(self.zc_column(), "active")
        m = self.d.ctl("metrics").stdout
        lab = dict(domain="vm0", mac="52:54:00:00:b2:01", nic="eth0")
        self.assertEqual(metric(m, "zcrx_attachment_zero_copy", **lab), 1)
        self.assertEqual(metric(m, "zcrx_attachment_state", state="active", **lab), 1)
        self.assertEqual(metric(m, "zcrx_binding_state", queue=str(q), state="active", **lab), 1)
        self.assertEqual(metric(m, "zcrx_binding_zc_packets_total", queue=str(q), **lab), 90)
        self.assertEqual(metric(m, "zcrx_nic_pool_queues", nic="eth0"), 2)
        self.assertEqual(metric(m, "zcrx_nic_pool_used_queues", nic="eth0"), 1)
        self.assertEqual(metric(m, "zcrx_binder_available"), 1)
        tool = promtool()
        if tool:
            r = subprocess.run([tool, "check", "metrics"], input=m, universal_newlines=True,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            self.assertEqual(r.returncode, 0, r.stdout)

        # copy fallback in use: degraded with the module's errno
        self.fake.ctl("state 1 degraded ENOBUFS")
        wait_for(lambda: self.listed()[0]["state"] == "degraded", what="attachment degraded")
        b = self.listed()[0]["bindings"][0]
        self.assertEqual((b["state"], b["errno_name"]), ("degraded", "ENOBUFS"))
        self.assertIn("binding", [r["code"] for r in self.listed()[0]["reasons"]])
        self.fake.ctl("state 1 active")
        wait_for(lambda: self.listed()[0]["state"] == "active", what="active again")

        # a restart adopts the binding: no new BIND, still active
        self.mon.stop()
        self.mon = None
        n_before = len(self.fake.ctl("log"))
        self.d.cleanup()
        self.d = self.start()
        self.assertEqual(self.listed()[0]["bindings"], [{"queue": q, "id": 1, "state": "active"}])
        after = self.fake.ctl("log")[n_before:]
        self.assertFalse([ln for ln in after if ln.startswith(("BIND", "UNBIND"))], after)

        # detach: UNBIND is the first change
        self.d.call("io.zcrx.Manager.Detach", {"domain": "vm0"})
        after = self.fake.ctl("log")[n_before:]
        self.assertIn("UNBIND 1 -> ok", after)
        self.assertEqual(self.fake.ctl("list"), [])
        self.assertEqual(self.d.fake()["nics"][0]["rules"], [])

    def test_module_absent_steering_stays(self):
        self.fake.ctl("present 0")
        wait_for(lambda: not self.d.status()["binder"]["available"], what="binder gone")
        a = self.attach()
        self.assertEqual(a["state"], "degraded")
        self.assertEqual(len(a["rules"]), 1)  # steered all the same
        zc = [r for r in a["reasons"] if r["code"] == "no-zero-copy"]
        self.assertEqual(len(zc), 1, a["reasons"])
        self.assertEqual(zc[0]["message"], "no zero-copy (kernel module vhost_zcrx not available)")
        self.assertEqual(zc[0]["errno_name"], "ENOENT")
        p = self.d.ctl("list")
        self.assertIn("no-zero-copy: bind: no zero-copy (kernel module vhost_zcrx not available)",
                      p.stdout)
        self.assertEqual(self.zc_column(), "no")
        # loaded: bound without touching the rule
        rules = self.d.fake()["nics"][0]["rules"]
        self.fake.ctl("present 1")
        wait_for(lambda: self.listed()[0]["bindings"], what="bound once the module is back")
        self.assertEqual(self.d.fake()["nics"][0]["rules"], rules)
        self.assertNotIn("no-zero-copy", [r["code"] for r in self.listed()[0]["reasons"]])

    def binds(self):
        return [ln for ln in self.fake.ctl("log") if ln.startswith("BIND ")]

    def second_tap(self):
        return ifindex(self.ns, "zxbmvt1")

    def refused_reason(self, a):
        zc = [r for r in a["reasons"] if r["code"] == "no-zero-copy"]
        self.assertEqual(len(zc), 1, a["reasons"])
        return zc[0]

    def test_bind_refused_keeps_steering_and_nic(self):
        """EBUSY for one queue: that attachment stays steered, degraded with
        the module's errno and text; the NIC keeps zero-copy for the others;
        state changes do not ask again, a binding gone does."""
        self.fake.ctl("refuse-next EBUSY queue has another memory provider")
        a = self.attach()
        self.assertEqual(a["state"], "degraded")
        self.assertEqual(len(a["rules"]), 1)
        self.assertEqual(a["bindings"], [])
        why = self.refused_reason(a)
        self.assertEqual(why["errno_name"], "EBUSY")
        self.assertEqual(why["message"], "no zero-copy: vhost_zcrx refused to bind queue %d: "
                         "queue has another memory provider" % a["queues"][0])
        self.assertEqual([b.rsplit(" ", 1)[1] for b in self.binds()], ["EBUSY"])
        rules = self.d.fake()["nics"][0]["rules"]
        self.assertEqual(len(rules), 1)
        log = self.d.log()
        self.assertNotIn("rolled back", log)  # the steering was never undone
        self.assertIn("steered without zero-copy until the bind is tried again", log)
        self.assertIn("no-zero-copy: bind: no zero-copy: vhost_zcrx refused to bind queue",
                      self.d.ctl("list").stdout)
        self.assertEqual(self.zc_column(), "no")
        # the NIC is still bindable: the next vNIC gets zero-copy
        self.assertEqual(cap_line(self.d.ctl("nics", "eth0").stdout, "binder")[0], "yes")
        tap1 = self.second_tap()
        b = self.d.call("io.zcrx.Manager.Attach", {"domain": "vm1", "nic": "eth0",
                                                   "mac": "52:54:00:00:b2:02",
                                                   "tap": "zxbmvt1"})["attachments"][0]
        self.assertEqual(len(b["bindings"]), 1, b)
        self.assertEqual(b["state"], "pending")
        self.assertRegex(self.binds()[-1], r"tap=%d fallback=copy -> \d+$" % tap1)
        self.assertIn(rules[0], self.d.fake()["nics"][0]["rules"])
        # a state change replans, but does not ask the module again
        self.mon = Monitor(self.d)
        self.fake.ctl("state %d active" % b["bindings"][0]["id"])
        self.mon.wait(lambda e: e["type"] == "binding-state", "binding-state")
        wait_for(lambda: [x for x in self.listed() if x["domain"] == "vm1"][0]["state"] ==
                 "active", what="vm1 active")
        self.assertEqual(len(self.binds()), 2)
        vm0 = [x for x in self.listed() if x["domain"] == "vm0"][0]
        self.assertEqual(vm0["state"], "degraded")
        # vm1's macvtap goes away: its binding is gone, the queue and tap
        # are free again, vm0's refused bind is asked once more (and the
        # one-shot refusal is over)
        self.ns.ip("link", "del", "zxbmvt1")
        self.mon.wait(lambda e: e["type"] == "binding-gone", "binding-gone")
        wait_for(lambda: [x for x in self.listed() if x["domain"] == "vm0"][0]["bindings"],
                 what="vm0 bound after the retry")
        vm0 = [x for x in self.listed() if x["domain"] == "vm0"][0]
        self.assertNotIn("no-zero-copy", [r["code"] for r in vm0["reasons"]])
        self.assertEqual(vm0["rules"], a["rules"])
        self.assertEqual(len(self.binds()), 3)

    def test_bind_refused_retried_by_reconcile(self):
        """A refusal is asked again on an explicit `zcrxctl reconcile`, not
        by the drift of later requests."""
        self.fake.ctl("refuse-next EEXIST tap already bound (binding 9)")
        a = self.attach()
        self.assertEqual(self.refused_reason(a)["errno_name"], "EEXIST")
        # other requests do not ask again (a plan, a rebalance's dry run)
        self.d.call("io.zcrx.Manager.Plan", {})
        self.d.call("io.zcrx.Manager.Rebalance", {"dry_run": True})
        self.assertEqual(len(self.binds()), 1)
        p = self.d.ctl("reconcile")
        self.assertEqual(p.returncode, 0, p.stderr)
        a = self.listed()[0]
        self.assertEqual(len(a["bindings"]), 1, a)
        self.assertEqual(a["state"], "pending")
        self.assertEqual(len(self.binds()), 2)

    def test_broken_binding_bound_again_once(self):
        """A binding the module says is BROKEN (not ENODEV: it still exists)
        is unbound and bound again, once; broken again, it stays broken and
        says so until a trigger (here `zcrxctl reconcile`) asks once more."""
        q = self.attach()["queues"][0]
        self.fake.ctl("state 1 broken EIO")
        wait_for(lambda: "UNBIND 1 -> ok" in self.fake.ctl("log"), what="broken binding unbound")
        wait_for(lambda: [b["id"] for b in self.listed()[0]["bindings"]] == [2],
                 what="bound again as binding 2")
        self.assertEqual(len(self.binds()), 2)
        self.assertEqual(self.fake.ctl("list")[0].split()[0], "id=2")

        self.fake.ctl("state 2 broken EIO")

        def says_broken():
            a = self.listed()[0]
            return any(r["code"] == "binding" and "binding 2 on queue %d is broken" % q
                       in r["message"] for r in a["reasons"])
        wait_for(says_broken, what="binding 2 shown broken")
        self.assertEqual(len(self.binds()), 2, self.fake.ctl("log"))
        self.assertNotIn("UNBIND 2 -> ok", self.fake.ctl("log"))
        self.assertEqual(self.listed()[0]["state"], "degraded")

        p = self.d.ctl("reconcile")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("UNBIND 2 -> ok", self.fake.ctl("log"))
        self.assertEqual(len(self.binds()), 3)
        self.assertEqual([b["id"] for b in self.listed()[0]["bindings"]], [3])

    def test_metrics_read_stats_afresh(self):
        """STATS move without notifications: a scrape reads them now, not
        as the last reconcile saw them (ReconcileIntervalSec=0 here)."""
        a = self.attach()
        bid, q = a["bindings"][0]["id"], a["queues"][0]
        lab = dict(domain="vm0", mac="52:54:00:00:b2:01", nic="eth0", queue=str(q))
        self.fake.ctl("stats %d 10 15000 9 1 0 64" % bid)
        m = self.d.ctl("metrics").stdout
        self.assertEqual(metric(m, "zcrx_binding_zc_packets_total", **lab), 9)
        self.fake.ctl("stats %d 20 30000 18 2 0 64" % bid)
        m = self.d.ctl("metrics").stdout
        self.assertEqual(metric(m, "zcrx_binding_zc_packets_total", **lab), 18)
        self.assertEqual(metric(m, "zcrx_binding_rx_bytes_total", **lab), 30000)

    def test_multi_queue_binds_every_queue(self):
        """A two-queue vNIC: both NIC queues are bound to its one macvtap
        (one binding per tap queue), so the attachment is wholly zero-copy."""
        a = self.d.call("io.zcrx.Manager.Attach", {"domain": "vm0", "nic": "eth0",
                                                   "mac": VM1_MAC, "tap": "zxbmvt1",
                                                   "queues": 2})["attachments"][0]
        self.assertEqual(len(a["queues"]), 2, a)
        self.assertEqual(sorted(b["queue"] for b in a["bindings"]), sorted(a["queues"]))
        self.assertEqual(self.zc_column(), "pending")  # every queue bound: no ",no"
        self.assertNotIn("no-zero-copy", [r["code"] for r in a.get("reasons", [])])

    def test_one_queue_refused(self):
        """Two queues, the first one's BIND refused: the other is bound,
        the attachment is degraded naming the refused queue, and `list`
        says it is partly zero-copy."""
        self.fake.ctl("refuse-next EBUSY queue has another memory provider")
        a = self.d.call("io.zcrx.Manager.Attach", {"domain": "vm0", "nic": "eth0",
                                                   "mac": "52:54:00:00:b2:01", "tap": "zxbmvt0",
                                                   "queues": 2})["attachments"][0]
        self.assertEqual(len(a["queues"]), 2, a)
        self.assertIn("rss_context", a)
        self.assertEqual(a["state"], "degraded")
        self.assertEqual([b["queue"] for b in a["bindings"]], [a["queues"][1]])
        why = self.refused_reason(a)
        self.assertEqual(why["errno_name"], "EBUSY")
        self.assertIn("refused to bind queue %d:" % a["queues"][0], why["message"])
        self.assertEqual(self.zc_column(), "pending,no")
        self.assertNotIn("rolled back", self.d.log())

    def test_attachment_changed_follows_zero_copy(self):
        """Monitor's attachment-changed follows what the attachment shows,
        its bindings and reasons too, not only its state."""
        a = self.attach()
        bid = a["bindings"][0]["id"]
        self.mon = Monitor(self.d)
        self.fake.ctl("state %d degraded ENOBUFS" % bid)
        ev = self.mon.wait(lambda e: e["type"] == "attachment-changed", "attachment-changed")
        self.assertEqual((ev["state"], ev["bindings"][0]["state"]), ("degraded", "degraded"))
        # broken: zcrxd binds it again once (a new binding) ...
        self.fake.ctl("state %d broken EIO" % bid)
        ev = self.mon.wait(lambda e: e["type"] == "attachment-changed" and e["bindings"] and
                           e["bindings"][0]["id"] != bid, "attachment-changed, bound again")
        bid = ev["bindings"][0]["id"]
        self.fake.ctl("state %d degraded ENOBUFS" % bid)
        ev = self.mon.wait(lambda e: e["type"] == "attachment-changed" and e["bindings"] and
                           e["bindings"][0]["state"] == "degraded", "attachment-changed")
        # ... still degraded, but now broken for good: the operator must see it
        self.fake.ctl("state %d broken EIO" % bid)
        ev = self.mon.wait(lambda e: e["type"] == "attachment-changed" and e["bindings"],
                           "attachment-changed")
        self.assertEqual((ev["state"], ev["bindings"][0]["state"]), ("degraded", "broken"))
        self.assertIn("binding %d on queue %d is broken" % (bid, a["queues"][0]),
                      [r["message"] for r in ev["reasons"]])

    def test_bind_refused_for_the_nic(self):
        """EOPNOTSUPP speaks for the NIC: its capability says so, the
        attachment keeps its steering, and nothing is rolled back."""
        self.fake.ctl("refuse-next EOPNOTSUPP driver has no queue management ops")
        a = self.attach()
        self.assertEqual(a["state"], "degraded")
        self.assertEqual(len(a["rules"]), 1)
        self.assertEqual(self.refused_reason(a)["errno_name"], "EOPNOTSUPP")
        self.assertEqual(cap_line(self.d.ctl("nics", "eth0").stdout, "binder"),
                         ("no", "vhost_zcrx: driver has no queue management ops"))
        self.assertNotIn("rolled back", self.d.log())
        # the verdict stands through re-reads of the NIC (its binder
        # capability changing is no new device) and later requests
        self.assertEqual(self.d.ctl("reconcile").returncode, 0)
        self.second_tap()
        b = self.d.call("io.zcrx.Manager.Attach", {"domain": "vm1", "nic": "eth0",
                                                   "mac": "52:54:00:00:b2:02",
                                                   "tap": "zxbmvt1"})["attachments"][0]
        self.assertEqual((b["state"], len(b["rules"]), b["bindings"]), ("degraded", 1, []))
        self.assertEqual(self.refused_reason(b)["errno_name"], "EOPNOTSUPP")
        self.assertEqual(len(self.binds()), 1)
        self.assertEqual(self.d.ctl("nics", "eth0").returncode, 0)
        self.assertEqual(cap_line(self.d.ctl("nics", "eth0").stdout, "binder")[0], "no")


    def test_macvtap_goes_away(self):
        self.attach()
        self.assertEqual(len(self.fake.ctl("list")), 1)
        self.ns.ip("link", "del", "zxbmvt0")
        self.d.outside("del zxbmvt0")
        # the module tears the binding down; zcrxd forgets it, keeps steering
        wait_for(lambda: not self.listed()[0]["bindings"], what="binding forgotten")
        self.assertEqual(self.fake.ctl("list"), [])
        a = self.listed()[0]
        self.assertEqual(len(a["rules"]), 1)
        self.assertIn("no zero-copy: the vNIC's macvtap is not known",
                      [r["message"] for r in a["reasons"]])
        self.assertFalse([ln for ln in self.fake.ctl("log") if ln.endswith("-> 2")])
        # the VM comes back with a new macvtap of the same name: bound again
        self.ns.add_macvtap("zxb0", "zxbmvt0", VM0_MAC, up=False)
        self.d.outside("add zxbmvt0:macvtap,lower=eth0,mac=%s,ifindex=%d"
                     % (VM0_MAC, ifindex(self.ns, "zxbmvt0")))
        self.d.call("io.zcrx.Manager.Reconcile")
        wait_for(lambda: self.listed()[0]["bindings"], what="bound to the new macvtap")
        self.assertEqual(self.fake.ctl("list")[0].split()[3],
                         "tap=%d" % ifindex(self.ns, "zxbmvt0"))


if __name__ == "__main__":
    if not os.path.exists(FAKE):
        print("kernel: %s missing (make tests)" % FAKE)
        sys.exit(1)
    main()
