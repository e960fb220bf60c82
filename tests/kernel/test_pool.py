# SPDX-License-Identifier: MIT
"""A full pool on a real veth (issue 11), zcrxd against the kernel in a
private network namespace: the vNICs that wait for a queue, which the
planner plans as one (zcrxd/plan-tail.c), get what the whole plan gives
them, queue by queue, first come first served, across a detach and a
restart.  The planner's unit tests hold the shortcut's plan to the whole
plan; this tier checks what zcrxd makes of it, as a listing and its
state show it."""
import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from zxtest import ZCRXD, Daemon, Netns, main, require_root, run  # noqa: E402

CONF = "[daemon]\nReconcileIntervalSec=0\n[nic zxq0]\nReserveQueues=4\n"
WAITING = "pool exhausted: no free queue among 4 reserved; traffic uses the shared queues"
N = 12


def mac(i):
    return "52:54:00:0f:00:%02x" % i


@require_root
class FullPool(unittest.TestCase):
    def setUp(self):
        self.ns = Netns("zxq").__enter__()
        self.ns.add_veth("zxq0", "zxq1", queues=8)
        self.state = tempfile.mkdtemp(prefix="zxq-state-")
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.cleanup()
        self.ns.delete()
        shutil.rmtree(self.state, ignore_errors=True)

    def start(self):
        self.d = Daemon(netns=self.ns, config_text=CONF,
                        extra_args=["--state-dir", self.state])

    def listing(self):
        atts = self.d.call("io.zcrx.Manager.ListAttachments", {})["attachments"]
        return {a["domain"]: a for a in atts}

    def leases(self):
        """Queue -> owner MAC, as zcrxd recorded them."""
        st = json.loads(run([ZCRXD, "--dump-state", "--state-dir", self.state]).stdout)
        nic = [n for n in st["nics"] if n["name"] == "zxq0"][0]
        return {x["queue"]: x["owner"] for x in nic.get("leases", [])}

    def assert_pool(self, holders, waiting):
        """holders hold one queue each, all different and each leased to
        it; waiting hold none, are degraded (their traffic takes the shared
        queues) and say so in the one reason they have."""
        got = self.listing()
        self.assertEqual(sorted(got), sorted(holders + waiting))
        queues = {}
        for name in holders:
            a = got[name]
            self.assertEqual(len(a["queues"]), 1, a)
            queues[a["queues"][0]] = a["mac"]
            self.assertNotIn("pool-exhausted", [r["code"] for r in a["reasons"]], a)
        self.assertEqual(len(queues), len(holders))
        self.assertEqual(self.leases(), queues)
        for name in waiting:
            a = got[name]
            self.assertEqual(a["queues"], [], a)
            self.assertEqual([(r["code"], r["message"]) for r in a["reasons"]],
                             [("pool-exhausted", WAITING)], a)
            self.assertEqual((a["state"], a["steering"]), ("degraded", ""), a)
        return queues

    def test_waiting_vnics_first_come_first_served(self):
        self.start()
        for i in range(1, N + 1):
            self.d.call("io.zcrx.Manager.Attach",
                        {"domain": "vm%d" % i, "nic": "zxq0", "mac": mac(i)})
        names = ["vm%d" % i for i in range(1, N + 1)]
        q = self.assert_pool(names[:4], names[4:])
        # a holder leaves: its queue goes to the first that waits, the
        # others keep waiting
        freed = [k for k, m in q.items() if m == mac(2)][0]
        self.d.call("io.zcrx.Manager.Detach", {"domain": "vm2"})
        holders = ["vm1", "vm3", "vm4", "vm5"]
        q = self.assert_pool(holders, names[5:])
        self.assertEqual(q[freed], mac(5))
        # one more waits behind them
        self.d.call("io.zcrx.Manager.Attach", {"domain": "vm99", "nic": "zxq0", "mac": mac(99)})
        self.assert_pool(holders, names[5:] + ["vm99"])
        # a restart finds the same: leases kept, the same words for those
        # that wait
        self.d.cleanup()
        self.start()
        self.assertEqual(self.assert_pool(holders, names[5:] + ["vm99"]), q)


if __name__ == "__main__":
    main()
