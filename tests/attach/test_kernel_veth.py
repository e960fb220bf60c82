#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Kernel tier for attachments: the real zcrxd (real ethtool netlink and
ioctl) on a veth in a private network namespace zxp*.  veth has channels
and nothing else, so:
  - Channels= changes the real RX queue count;
  - attach and detach work, and the attachment says exactly what it could
    not do: degraded, unsteered, with the kernel's reason;
  - a channel count changed from outside is put back;
  - release restores the channel count.
"""
import os
import re
import shutil
import unittest

from attachlib import mac, state_json, zxtest

CONF = """
[daemon]
ReconcileIntervalSec=0

[nic zxpv0]
ReserveQueues=1
Channels=4
"""


def rx_channels(ns, dev):
    out = ns.exec_cmd(["ethtool", "-l", dev])
    p = zxtest.run(out)
    cur = p.stdout.split("Current hardware settings:")[1]
    return int(re.search(r"RX:\s+(\d+)", cur).group(1))


@zxtest.require_root
class KernelVeth(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("ethtool"):
            raise unittest.SkipTest("ethtool not installed")
        cls.ns = zxtest.Netns("zxp").__enter__()
        cls.ns.add_veth("zxpv0", "zxpv1", queues=8)
        cls.before = rx_channels(cls.ns, "zxpv0")
        cls.d = zxtest.Daemon(netns=cls.ns, config_text=CONF)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        cls.ns.delete()

    def test_a_channels_applied(self):
        self.assertEqual(self.before, 8)
        self.assertEqual(rx_channels(self.ns, "zxpv0"), 4)
        nics = self.d.call("io.zcrx.Manager.ListAttachments")["nics"]
        n = [x for x in nics if x["nic"] == "zxpv0"][0]
        self.assertEqual(n["channels"], 4)
        self.assertEqual(n["pool"], [3])
        # the pool cannot be kept out of veth's (absent) RSS table: said so
        self.assertIn("shared-queue", [x["code"] for x in n["notes"]])

    def test_b_attach_detach_degraded_with_kernel_reason(self):
        r = self.d.call("io.zcrx.Manager.Attach",
                        {"domain": "vm0", "nic": "zxpv0", "mac": mac(1)})
        a = r["attachments"][0]
        self.assertEqual(a["state"], "degraded")
        self.assertEqual(a["queues"], [3])
        self.assertEqual(a["rules"], [])
        unsteered = [x for x in a["reasons"] if x["code"] == "unsteered"]
        self.assertEqual(len(unsteered), 1, a)
        self.assertEqual(unsteered[0]["nic"], "zxpv0")
        self.assertEqual(unsteered[0]["errno_name"], "EOPNOTSUPP")
        self.assertTrue(unsteered[0]["message"], unsteered[0])
        # twice is once, and nothing is written to the state again: not
        # the snapshot, not a record in its log
        snap = os.stat(os.path.join(self.d.state, "state.json"))
        log = os.stat(os.path.join(self.d.state, "state.log"))
        r = self.d.call("io.zcrx.Manager.Attach",
                        {"domain": "vm0", "nic": "zxpv0", "mac": mac(1)})
        self.assertEqual(r["plans"], [])
        self.assertEqual(r["attachments"][0]["queues"], [3])
        self.assertEqual(os.stat(os.path.join(self.d.state, "state.json")).st_ino, snap.st_ino)
        self.assertEqual(os.stat(os.path.join(self.d.state, "state.log")).st_size, log.st_size)
        p = self.d.ctl("list")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("unsteered: ", p.stdout)
        p = self.d.ctl("detach", "vm0")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.d.call("io.zcrx.Manager.ListAttachments")["attachments"], [])

    def test_c_channels_changed_outside_are_replanned(self):
        zxtest.run(self.ns.exec_cmd(["ethtool", "-L", "zxpv0", "rx", "2"]))
        # the CHANNELS notification makes zcrxd plan again
        zxtest.wait_for(lambda: rx_channels(self.ns, "zxpv0") == 4, 10,
                        what="zcrxd to put Channels=4 back")
        st = self.d.call("io.zcrx.Manager.Reconcile")
        self.assertEqual(st["plans"], [])
        self.assertGreaterEqual(st["repairs"], 1)

    def test_d_plan_and_release_restore(self):
        p = self.d.ctl("plan")
        self.assertIn("nothing to do", p.stdout)
        p = self.d.ctl("release", "zxpv0", "--dry-run")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("$ ethtool -L zxpv0 rx 8", p.stdout)
        self.assertEqual(rx_channels(self.ns, "zxpv0"), 4)
        p = self.d.ctl("release", "zxpv0")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(rx_channels(self.ns, "zxpv0"), 8)
        j = self.d.call("io.zcrx.Manager.ListAttachments", {"nic": "zxpv0"})
        self.assertTrue(j["nics"][0]["released"])
        state = state_json(self.d.state)
        nic = [n for n in state["nics"] if n["name"] == "zxpv0"][0]
        self.assertNotIn("channels_prior", nic)


@zxtest.require_root
class NoFaultSeam(unittest.TestCase):
    """The crash tests' fault points exist only in the test-only daemon:
    the real zcrxd ignores ZCRX_FAULT and goes on working."""

    def test_real_zcrxd_ignores_zcrx_fault(self):
        if not shutil.which("ethtool"):
            self.skipTest("ethtool not installed")
        with zxtest.Netns("zxp") as ns:
            ns.add_veth("zxpf0", "zxpf1", queues=4)
            conf = "[daemon]\nReconcileIntervalSec=0\n[nic zxpf0]\nReserveQueues=1\n"
            for point in ("saved:1", "intent:1", "after-op:1"):
                d = zxtest.Daemon(netns=ns, config_text=conf, env={"ZCRX_FAULT": point})
                try:
                    d.call("io.zcrx.Manager.Attach",
                           {"domain": "vmf", "nic": "zxpf0", "mac": mac(7)})
                    d.call("io.zcrx.Manager.Detach", {"domain": "vmf"})
                    self.assertIsNone(d.proc.poll(), d.log())
                    self.assertNotIn("fault", d.log().lower())
                finally:
                    d.cleanup()
                self.assertEqual(d.proc.returncode, 0)


if __name__ == "__main__":
    zxtest.main()
