#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The drift timer (ReconcileIntervalSec=1) on zcrxd-fake (TEST ONLY: the
daemon's own code over the fake NIC backend, whose rules can be changed
behind zcrxd's back): a rule deleted outside is put back by the timer
alone, no request asking; and an interval in which nothing drifted hands
zcrxd's NIC thread one job (list the links and read the NICs it knows),
not one per NIC.  Waits poll with a deadline.
"""
import re
import unittest

from attachlib import FakeDaemonCase, mac, zxtest

CONF = """
[daemon]
ReconcileIntervalSec=1

[nic eth0]
ReserveQueues=2

[nic eth1]
ReserveQueues=1
"""

# eth2 is neither named nor used: read in full (a physical NIC) but not run
NICS = ("eth0:capable", "eth1:capable", "eth2:capable")
RUN_NICS = 2  # the NICs every interval runs: eth0 and eth1 (named)


@zxtest.require_root
class Interval(FakeDaemonCase):
    CONF = CONF
    NICS = NICS
    NETNS = "zxi"
    WORK = "zxp-interval-"

    def metric(self, name):
        text = self.d.call("io.zcrx.Manager.GetMetrics")["text"]
        return int(re.search(r"^%s (\d+)$" % name, text, re.M).group(1))

    def rules_of(self, nic):
        return self.d.fake_nic(nic)["rules"]


    def runs_and_calls(self):
        """NIC runs and kernel-call hand-overs so far, with no interval
        between the two (an interval is one turn of zcrxd's loop: the runs
        read before and after the calls are the same)."""
        while True:
            r0 = self.metric("zcrx_reconcile_runs_total")
            st = self.d.status()
            r1 = self.metric("zcrx_reconcile_runs_total")
            if r0 == r1:
                return r0, [k for k in st["kernel_calls"] if k["backend"] == "nic"][0]["calls"]

    def test_1_rule_deleted_outside_is_put_back_by_the_timer(self):
        a = self.d.call("io.zcrx.Manager.Attach",
                        {"domain": "tim", "nic": "eth0", "mac": mac(0x910)})["attachments"][0]
        loc = a["rules"][0]
        n0 = self.metric("zcrx_reconcile_repairs_total")
        self.d.outside("rule-delete eth0 %d" % loc)
        self.assertNotIn(mac(0x910), [r["mac"] for r in self.rules_of("eth0")])
        # no request: the timer finds it and puts it back
        zxtest.wait_for(lambda: mac(0x910) in [r["mac"] for r in self.rules_of("eth0")], 10,
                        what="the timer's repair of the deleted rule")
        self.assertEqual(self.metric("zcrx_reconcile_repairs_total"), n0 + 1)
        log = self.d.log()
        self.assertIn("drift: forget rule %d (rule %d was deleted outside zcrxd)" % (loc, loc), log)
        self.assertRegex(log, r"repair: insert rule ether dst %s -> queue \d+ \(repair: steer" %
                         mac(0x910))

    def test_2_an_idle_interval_hands_over_one_job(self):
        # settled: an interval passes without a repair
        r0, _ = self.runs_and_calls()
        zxtest.wait_for(lambda: self.runs_and_calls()[0] >= r0 + RUN_NICS, 10,
                        what="an interval")
        r0, c0 = self.runs_and_calls()
        zxtest.wait_for(lambda: self.runs_and_calls()[0] >= r0 + 3 * RUN_NICS, 20,
                        interval=0.2, what="three intervals")
        r1, c1 = self.runs_and_calls()
        self.assertEqual((r1 - r0) % RUN_NICS, 0, "runs not in whole intervals")
        intervals = (r1 - r0) // RUN_NICS
        self.assertGreaterEqual(intervals, 3)
        # ddb51e4: one hand-over to list the links, one per NIC read (3),
        # one per NIC run (2): 6 an interval; 7c0cfce: 2 (list; read)
        self.assertEqual(c1 - c0, intervals,
                         "%d hand-overs in %d intervals" % (c1 - c0, intervals))


if __name__ == "__main__":
    unittest.main(verbosity=2)
