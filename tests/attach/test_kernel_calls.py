#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Kernel calls are bounded (kcall.h, zcrxd(8) "KERNEL CALLS"): a call that
hangs holds the loop for at most the bound, is reported as stuck, refuses
what would need the kernel meanwhile, and leaves nothing half-made or
unowned once it returns.

The hang is zcrxd-fake's (TEST ONLY) "hang OP NIC" outside change: the next
such call blocks before it reaches the fake kernel, as a driver sleeping in
its ethtool handler would, until "release".  The bound is shortened with
--kernel-call-bound-ms (a zcrxd-fake option) so that the watchdog check
fits in seconds: WATCHDOG_USEC is six bounds, as the unit's WatchdogSec=30s
is six of zcrxd's 5 s.
"""
import os
import shutil
import tempfile
import threading
import time
import unittest

from attachlib import FakeDaemon, FakeDaemonCase, mac, orphans, plan_ops, state_json, zxtest

CONF = """
[daemon]
ReconcileIntervalSec=0

[nic eth0]
ReserveQueues=4
"""

BOUND_MS = 1000
WATCHDOG_USEC = 6 * BOUND_MS * 1000
ETIMEDOUT, EAGAIN = 110, 11


@zxtest.require_root
class KernelCalls(FakeDaemonCase):
    CONF = CONF
    NETNS = "zxk"
    WORK = "zxk-calls-"
    DAEMON_KW = dict(env={"WATCHDOG_USEC": str(WATCHDOG_USEC)},
                     extra_args=["--kernel-call-bound-ms", str(BOUND_MS)])


    def nic_calls(self):
        calls = self.d.call("io.zcrx.Manager.GetStatus")["kernel_calls"]
        return [c for c in calls if c["backend"] == "nic"][0]

    def attach(self, dom, m):
        return self.d.call("io.zcrx.Manager.Attach", {"domain": dom, "nic": "eth0", "mac": m})

    def test_hung_call(self):
        first = self.attach("kc0", mac(0x10))
        self.assertEqual(first["attachments"][0]["state"] in ("active", "degraded"), True)
        calls = self.nic_calls()
        self.assertEqual(calls["bound_ms"], BOUND_MS)
        self.assertGreater(calls["calls"], 0)
        self.assertEqual(calls["overruns"], 0)
        self.assertNotIn("stuck", calls)

        def pings():  # WATCHDOG=1 datagrams, when each arrived
            return self.d.notify.lines_at("WATCHDOG=1")
        self.d.outside("hang rule-insert eth0")
        hung_at = time.monotonic()
        answer = {}

        def attach_hung():
            try:
                answer["ok"] = self.attach("kc1", mac(0x11))
            except zxtest.VarlinkError as e:
                answer["error"] = e

        t = threading.Thread(target=attach_hung, daemon=True)
        t.start()

        # the loop answers while the call still hangs (it never returns
        # before "release"): GetStatus names it
        def stuck():
            c = self.nic_calls()
            return c if "stuck" in c else None
        c = zxtest.wait_for(stuck, 20, what="GetStatus to show the stuck call")
        self.assertEqual(c["stuck"]["op"], "insert rule")
        self.assertEqual(c["stuck"]["object"], "eth0")
        self.assertEqual(c["overruns"], 1)
        t.join(20)
        self.assertFalse(t.is_alive())
        self.assertNotIn("ok", answer)
        e = answer["error"]
        self.assertEqual(e.error, "io.zcrx.Manager.KernelError", e.parameters)
        self.assertEqual(e.parameters["errno"], ETIMEDOUT, e.parameters)
        self.assertIn("did not return within %d ms" % BOUND_MS, e.parameters["message"])
        # kc1 did not happen: not listed
        listed = self.d.call("io.zcrx.Manager.ListAttachments")["attachments"]
        self.assertEqual([a["domain"] for a in listed], ["kc0"])
        # what the hung call may still make is owned, pending
        j = [n for n in state_json(self.d.state)["nics"] if n["name"] == "eth0"][0]
        self.assertIn((mac(0x11), True), [(r["owner"], r["pending"]) for r in j["rules"]])

        # meanwhile nothing is tried, and the refusal says why
        with self.assertRaises(zxtest.VarlinkError) as e2:
            self.attach("kc2", mac(0x12))
        self.assertEqual(e2.exception.parameters["errno"], EAGAIN, e2.exception.parameters)
        self.assertIn("not tried: zcrxd's NIC calls are stuck: insert rule on eth0 has not "
                      "returned for", e2.exception.parameters["message"])
        self.assertGreaterEqual(self.nic_calls()["refused"], 1)
        # a dry run cannot read the NIC either: no plan from an old reading
        with self.assertRaises(zxtest.VarlinkError) as e3:
            self.d.call("io.zcrx.Manager.Plan", {"nic": "eth0"})
        self.assertEqual(e3.exception.parameters["errno"], EAGAIN, e3.exception.parameters)
        self.assertIn("not tried: zcrxd's NIC calls are stuck: insert rule on eth0",
                      e3.exception.parameters["message"])
        nics = self.d.call("io.zcrx.Manager.ListNics")
        self.assertIn("insert rule", nics["stuck"])
        eth0 = [n for n in nics["nics"] if n["name"] == "eth0"][0]
        self.assertIn("has not returned", eth0["stuck"])
        p = self.d.ctl("nics")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"(?m)^eth0 .* stuck ")
        self.assertIn("insert rule on eth0 has not returned for", p.stdout)
        p = self.d.ctl("status")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("STUCK: insert rule on eth0", p.stdout)

        # the watchdog keeps being fed while the call hangs: two pings
        # after the hang began, none further apart than WATCHDOG_USEC
        zxtest.wait_for(lambda: len([x for x in pings() if x > hung_at]) >= 2, 30,
                        what="two watchdog pings during the hang")
        self.assertTrue(self.nic_calls().get("stuck"), "the call returned early")
        seen = [hung_at] + [x for x in pings() if x > hung_at]
        gaps = [b - a for a, b in zip(seen, seen[1:])]
        self.assertLess(max(gaps), WATCHDOG_USEC / 1e6, gaps)

        # it returns: the rule it made is adopted, then removed (kc1 is
        # not attached), and nothing is left unowned
        self.d.outside("release")
        zxtest.wait_for(lambda: "stuck" not in self.nic_calls(), 20,
                        what="the stuck call to be collected")
        zxtest.wait_for(lambda: mac(0x11) not in
                        [r["mac"] for n in self.d.fake()["nics"] for r in n["rules"]], 20,
                        what="the rule the hung call made to be removed")
        log = self.d.log()
        self.assertIn("insert rule returned after", log)
        self.assertIn("adopted 1 object(s) made by a call that overran its bound", log)
        self.assertEqual(orphans(self.d.fake(), state_json(self.d.state)), [])
        self.assertEqual(plan_ops(self.d, "eth0"), [])
        # and the NIC takes changes again
        self.attach("kc2", mac(0x12))
        self.assertEqual(orphans(self.d.fake(), state_json(self.d.state)), [])
        self.assertEqual(sorted(a["domain"] for a in
                                self.d.call("io.zcrx.Manager.ListAttachments")["attachments"]),
                         ["kc0", "kc2"])
        self.assertNotIn("stuck", self.nic_calls())
        self.d.call("io.zcrx.Manager.Detach", {"domain": "kc0"})
        self.d.call("io.zcrx.Manager.Detach", {"domain": "kc2"})
        self.assertEqual(orphans(self.d.fake(), state_json(self.d.state)), [])


@zxtest.require_root
class DefaultBound(unittest.TestCase):
    def test_default_bound_is_documented(self):
        """Without the test option the bound is zcrxd's own, 5 s, as
        zcrxd(8) says."""
        with zxtest.Netns("zxk") as ns:
            work = tempfile.mkdtemp(prefix="zxk-bound-")
            d = FakeDaemon(ns, CONF, work, nics=("eth0:capable",))
            try:
                calls = d.call("io.zcrx.Manager.GetStatus")["kernel_calls"]
                self.assertEqual([(c["backend"], c["bound_ms"]) for c in calls],
                                 [("nic", 5000)])
                self.assertEqual(d.call("io.zcrx.Manager.GetStatus")["state_calls"]["bound_ms"],
                                 5000)
                with open(os.path.join(zxtest.TOP, "man", "zcrxd.8.in")) as f:
                    man = f.read()
                self.assertIn("at most\n.Sy 5 seconds", man)
            finally:
                d.cleanup()
                shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    zxtest.main()
