#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Test-driver tier through libvirtd: zcrxd follows test+unix:///default
while this process (a second client, as an operator or a cloud controller
would be) defines, starts, stops domains and changes their metadata.  The
driver's state lives in libvirtd, so both processes see the same domains
and zcrxd gets the events.  Also: libvirtd SIGSTOP (zcrxd keeps answering)
and libvirtd restart (reconnect, resync).

Run by tests/libvirt/run.sh, which starts libvirtd and sets $ZXL_STATE.
"""
import os
import subprocess
import time
import unittest

from lvtest import (STATE, TESTDRV, ZCRXCTL, Zcrxd, direct_if, lvctl, metadata, run,
                    test_domain, virsh, wait_for, write)
import zxtest

NIC = "zxlp0"
CONFIG = """[daemon]
AutoAttach=metadata
[nic %s]
ReserveQueues=4
""" % NIC


def dom_xml(name, n, meta=True, queues=2):
    mac = "52:54:00:7b:%02x:01" % n
    return test_domain(name, "5a1b0000-0000-4000-8000-%012x" % (0x7b00 + n),
                       [direct_if(mac, NIC)],
                       metadata([(mac, queues)]) if meta else ""), mac


@unittest.skipUnless(STATE, "run by tests/libvirt/run.sh")
class TestDriver(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Zcrxd(uri=TESTDRV, config=CONFIG)
        cls.d.wait_connected()

    @classmethod
    def tearDownClass(cls):
        for name in ("zxl-t1", "zxl-t2"):
            virsh(TESTDRV, "destroy", name, check=False)
            virsh(TESTDRV, "undefine", name, check=False)
        cls.d.cleanup()

    def define(self, name, n, **kw):
        xml, mac = dom_xml(name, n, **kw)
        path = write(os.path.join(STATE, name + ".xml"), xml)
        virsh(TESTDRV, "define", path)
        return mac

    def test_01_start_destroy(self):
        """A start in another process attaches, its destroy detaches."""
        mac = self.define("zxl-t1", 1)
        virsh(TESTDRV, "start", "zxl-t1")
        a = wait_for(lambda: self.d.attachment(mac), 10, what="attachment of zxl-t1")
        self.assertEqual(a["nic"], NIC)
        self.assertEqual(a["domain"], "zxl-t1")
        self.assertEqual(a["tap"], "testnet0")  # the test driver's tap names
        self.assertEqual(a["queues_requested"], 2)  # from the zcrx metadata
        self.assertIn(a["state"], ("active", "degraded", "pending"), a)
        virsh(TESTDRV, "destroy", "zxl-t1")
        wait_for(lambda: self.d.attachment(mac) is None, 10, what="detach of zxl-t1")

    def test_02_metadata_change(self):
        """METADATA_CHANGE re-plans a running domain."""
        mac = self.define("zxl-t2", 2, meta=False)
        virsh(TESTDRV, "start", "zxl-t2")
        # not opted in: nothing, but the domain is known and running
        wait_for(lambda: any(x["name"] == "zxl-t2" and x["state"] == "running"
                             for x in self.domains()), 10, what="zxl-t2 known")
        self.assertIsNone(self.d.attachment(mac))
        virsh(TESTDRV, "metadata", "zxl-t2", "--live", "--uri", "http://zcrx.dev/xmlns/libvirt/1.0",
              "--key", "zcrx", "--set", "<config><nic mac='%s' queues='1'/></config>" % mac)
        wait_for(lambda: self.d.attachment(mac), 10, what="attach after metadata change")
        virsh(TESTDRV, "metadata", "zxl-t2", "--live", "--uri", "http://zcrx.dev/xmlns/libvirt/1.0",
              "--key", "zcrx", "--set", "<config><nic mac='%s' enable='no'/></config>" % mac)
        wait_for(lambda: self.d.attachment(mac) is None, 10, what="detach after metadata change")
        virsh(TESTDRV, "destroy", "zxl-t2")

    def test_03_operator_cli(self):
        """AutoAttach=none: nothing automatic; zcrxctl attach DOMAIN NIC
        looks the vNICs up by name or UUID (--mac narrows); an unknown
        domain is io.zcrx.Manager.NoSuchDomain (exit 1)."""
        type(self).d.cleanup()
        type(self).d = Zcrxd(uri=TESTDRV, config=CONFIG.replace("metadata", "none"))
        try:
            self.operator_cli(self.d)
        finally:
            virsh(TESTDRV, "destroy", "zxl-t3", check=False)
            virsh(TESTDRV, "undefine", "zxl-t3", check=False)
            type(self).d.cleanup()
            type(self).d = Zcrxd(uri=TESTDRV, config=CONFIG)
            self.d.wait_connected()

    def operator_cli(self, d):
        d.wait_connected()
        xml, mac = dom_xml("zxl-t3", 3, meta=False)
        virsh(TESTDRV, "define", write(os.path.join(STATE, "zxl-t3.xml"), xml))
        virsh(TESTDRV, "start", "zxl-t3")
        wait_for(lambda: any(x["name"] == "zxl-t3" and x["state"] == "running"
                             for x in self.domains()), 10, what="zxl-t3 known")
        self.assertIsNone(d.attachment(mac))
        p = d.ctl("attach", "zxl-t3", NIC)
        self.assertEqual(p.returncode, 0, p.stderr)
        a = d.attachment(mac)
        self.assertIsNotNone(a)
        self.assertEqual((a["domain"], a["nic"], a["queues_requested"]), ("zxl-t3", NIC, 1))
        # by UUID, one vNIC, more queues
        uuid = "5a1b0000-0000-4000-8000-%012x" % (0x7b00 + 3)
        p = d.ctl("attach", uuid, NIC, "--mac", mac, "--queues", "2")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(d.attachment(mac)["queues_requested"], 2)
        p = d.ctl("--json", "list")
        self.assertIn('"domain_state": "running"', p.stdout.replace(" ", "").replace(
            '":"', '": "'))
        # no such domain, no vNIC on that NIC
        p = d.ctl("attach", "zxl-nosuch", NIC)
        self.assertEqual(p.returncode, 1)
        self.assertIn("no domain 'zxl-nosuch'", p.stderr)
        with self.assertRaises(zxtest.VarlinkError) as e:
            d.call("io.zcrx.Manager.Attach", {"domain": "zxl-nosuch", "nic": NIC})
        self.assertEqual(e.exception.error, "io.zcrx.Manager.NoSuchDomain")
        p = d.ctl("attach", "zxl-t3", "zxlp1")
        self.assertEqual(p.returncode, 1)
        p = d.ctl("detach", "zxl-t3")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIsNone(d.attachment(mac))

    def domains(self):
        return self.d.call("io.zcrx.Manager.ListDomains")["domains"]

    def test_08_sigstop(self):
        """A hung libvirtd never stops zcrxd from answering."""
        lvctl("pause")
        try:
            worst = 0.0
            deadline = time.monotonic() + 12  # beyond the keepalive timeout (~8 s)
            states = set()
            while time.monotonic() < deadline:
                t0 = time.monotonic()
                st = self.d.status()
                worst = max(worst, time.monotonic() - t0)
                states.add(st["libvirt"]["state"])
                time.sleep(0.2)
            p = run([ZCRXCTL, "--socket", self.d.socket, "--timeout", "2", "status"])
            self.assertEqual(p.returncode, 0, p.stderr)
        finally:
            lvctl("resume")
        self.assertLess(worst, 0.5, "GetStatus took %.3f s while libvirtd was stopped" % worst)
        # keepalive noticed the hang
        self.assertTrue(states & {"disconnected", "connecting"}, states)
        self.d.wait_connected(connects=2)

    def test_09_restart(self):
        """libvirtd SIGTERM + start: close callback, reconnect, full resync.
        The test driver's domains live in libvirtd's memory, so after the
        restart the running domain is gone: the resync (no events are
        replayed) must notice and detach it."""
        mac = self.define("zxl-t1", 1)
        virsh(TESTDRV, "start", "zxl-t1")
        wait_for(lambda: self.d.attachment(mac), 10, what="attachment of zxl-t1")
        before = self.d.libvirt()["connects"]
        lvctl("restart")
        self.d.wait_connected(connects=before + 1)
        self.assertIn("connection closed: end of file", self.d.log())
        wait_for(lambda: self.d.attachment(mac) is None, 10, what="detach by the resync")
        self.assertIn("not running at resync", self.d.log())


if __name__ == "__main__":
    zxtest.main()
