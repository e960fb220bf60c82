#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""[nic *] claims nothing (issue 10 item 7, DESIGN.md §14), on NICs with
RSS, which no kernel here offers: zcrxd-fake (TEST ONLY: the daemon's own
code over the fake NIC backend, whose NICs stand in for hardware, without a
link kind).  At start and on reload zcrxd leaves a NIC that only [nic *]
covers exactly as it was (RSS table, channels, rules); the first attachment
on it applies the defaults, and when the last one goes the NIC is as it was
before.  tests/kernel/test_ownership.py checks the same on real veths."""
import shutil
import signal
import tempfile
import unittest

from attachlib import FakeDaemon, mac, plan_ops, zxtest

CONF = """
[daemon]
ReconcileIntervalSec=0

[nic *]
ReserveQueues=2
Channels=12
"""


def nic_of(fake, name):
    return [n for n in fake["nics"] if n["name"] == name][0]


@zxtest.require_root
class DefaultSection(unittest.TestCase):
    def setUp(self):
        self.ns = zxtest.Netns("zxp").__enter__()
        self.work = tempfile.mkdtemp(prefix="zxp-default-")
        self.d = FakeDaemon(self.ns, CONF, self.work, nics=("eth0:capable", "eth1:capable"))

    def tearDown(self):
        self.d.cleanup()
        self.ns.delete()
        shutil.rmtree(self.work, ignore_errors=True)

    def test_no_change_until_an_attachment_lives_there(self):
        # zcrxd-fake started with the NICs as the fake made them: nothing
        # of [nic *] applied at start
        pristine = self.d.fake()
        self.assertEqual(nic_of(pristine, "eth0")["combined"], 8)
        self.assertEqual(plan_ops(self.d), [])
        self.d.call("io.zcrx.Manager.Reconcile", {})
        n = self.d.status()["reloads"]
        self.d.kill(signal.SIGHUP)
        zxtest.wait_for(lambda: self.d.status()["reloads"] == n + 1, what="reload")
        self.assertEqual(self.d.fake(), pristine)
        pools = {p["nic"]: p for p in
                 self.d.call("io.zcrx.Manager.ListAttachments")["nics"]}
        self.assertEqual(pools.get("eth0", {}).get("pool", []), [])
        # the first attachment brings [nic *]'s policy to eth0 only
        self.d.call("io.zcrx.Manager.Attach", {"domain": "vm", "nic": "eth0", "mac": mac(1)})
        now = self.d.fake()
        self.assertEqual(nic_of(now, "eth0")["combined"], 12)
        self.assertNotEqual(nic_of(now, "eth0"), nic_of(pristine, "eth0"))
        self.assertEqual(nic_of(now, "eth1"), nic_of(pristine, "eth1"))
        # the last one goes: eth0 is as it was, and stays so
        self.d.call("io.zcrx.Manager.Detach", {"domain": "vm"})
        self.assertEqual(self.d.fake(), pristine)
        self.assertEqual(plan_ops(self.d), [])


if __name__ == "__main__":
    zxtest.main()
