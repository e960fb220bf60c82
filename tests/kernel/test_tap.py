# SPDX-License-Identifier: MIT
"""An attachment's tap is only ever the vNIC's own macvtap (issue 10
item 9): on real macvtaps in a private network namespace, an admin attach
with --tap is refused (io.zcrx.Manager.TapMismatch, nothing recorded)
unless the tap is a macvtap on that NIC carrying that MAC."""
import json
import os
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from zxtest import Daemon, Netns, VarlinkError, main, require_root, run, wait_for  # noqa: E402

MAC_A = "52:54:00:0f:00:01"  # zxtmvt0 on zxt0
MAC_B = "52:54:00:0f:00:02"  # zxtmvt1 on zxt1


def ifindex(ns, dev):
    return json.loads(ns.ip("-j", "link", "show", dev).stdout)[0]["ifindex"]


@require_root
class Tap(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ns = Netns("zxt").__enter__()
        cls.ns.add_veth("zxt0", "zxt1", queues=4)
        cls.ns.add_macvtap("zxt0", "zxtmvt0", MAC_A)
        cls.ns.add_macvtap("zxt1", "zxtmvt1", MAC_B)
        cls.d = Daemon(netns=cls.ns,
                       config_text="[daemon]\nReconcileIntervalSec=0\n[nic zxt0]\n[nic zxt1]\n")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        cls.ns.delete()

    def attach(self, mac, tap, nic="zxt0", domain="vm"):
        return self.d.call("io.zcrx.Manager.Attach",
                           {"domain": domain, "nic": nic, "mac": mac, "tap": tap})

    def refused(self, mac, tap, why, nic="zxt0"):
        before = self.d.call("io.zcrx.Manager.ListAttachments")["attachments"]
        with self.assertRaises(VarlinkError, msg=(mac, tap)) as e:
            self.attach(mac, tap, nic=nic, domain="intruder")
        self.assertEqual(e.exception.error, "io.zcrx.Manager.TapMismatch", (mac, tap))
        self.assertEqual(e.exception.parameters["tap"], tap)
        self.assertIn(why, e.exception.parameters["message"])
        self.assertEqual(self.d.call("io.zcrx.Manager.ListAttachments")["attachments"], before)
        # the CLI says it and exits 1
        p = self.d.ctl("attach", "intruder", nic, "--mac", mac, "--tap", tap)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn(why, p.stderr)

    def test_only_the_vnics_own_macvtap(self):
        self.refused("52:54:00:0f:00:99", "zxtmvt0",
                     "macvtap zxtmvt0 carries %s, not the vNIC's 52:54:00:0f:00:99" % MAC_A)
        self.refused(MAC_B, "zxtmvt1", "macvtap zxtmvt1 is not on zxt0")
        self.refused(MAC_A, "zxt1", "zxt1 is not a macvtap (it is a veth)")
        self.refused(MAC_A, "zxtnothere", "no device 'zxtnothere'")
        # the real one is taken, with its ifindex
        a = self.attach(MAC_A, "zxtmvt0")["attachments"][0]
        self.assertEqual((a["tap"], a["tap_ifindex"]), ("zxtmvt0", ifindex(self.ns, "zxtmvt0")))
        self.d.call("io.zcrx.Manager.Detach", {"domain": "vm"})

    def test_macvtap_made_a_moment_ago(self):
        """A macvtap created just before the attach, before zcrxd read its
        notification, is found and checked all the same."""
        self.ns.add_macvtap("zxt0", "zxtmvt2", "52:54:00:0f:00:03")
        try:
            a = self.attach("52:54:00:0f:00:03", "zxtmvt2", domain="fresh")["attachments"][0]
            self.assertEqual(a["tap_ifindex"], ifindex(self.ns, "zxtmvt2"))
        finally:
            self.d.call("io.zcrx.Manager.Detach", {"domain": "fresh"})
            self.ns.ip("link", "del", "zxtmvt2")

    def test_tap_named_by_domain_xml(self):
        """A tap the domain XML names but that does not exist yet gives no
        tap; a device of that name is adopted later only when it is the
        vNIC's own macvtap."""
        mac = "52:54:00:0f:00:04"
        xml = ("<domain type='kvm' id='3'><name>xmlvm</name>"
               "<uuid>5a1b0000-0000-4000-8000-00000000f004</uuid>"
               "<memory unit='KiB'>65536</memory><os><type>hvm</type></os><devices>"
               "<interface type='direct'><mac address='%s'/>"
               "<source dev='zxt0' mode='bridge'/><target dev='zxtmvt9'/></interface>"
               "</devices></domain>" % mac)

        def tap_ifindex():
            self.d.call("io.zcrx.Manager.Reconcile", {})
            a = [x for x in self.d.call("io.zcrx.Manager.ListAttachments")["attachments"]
                 if x["domain"] == "xmlvm"][0]
            return a.get("tap_ifindex")
        try:
            self.d.call("io.zcrx.Manager.Attach", {"domain": "xmlvm", "nic": "zxt0",
                                                   "domain_xml": xml})
            self.assertIn(tap_ifindex(), (None, 0))
            # a device of that name that is not the vNIC's macvtap: not taken
            self.ns.add_macvtap("zxt0", "zxtmvt9", "52:54:00:0f:00:77")
            self.assertIn(tap_ifindex(), (None, 0))
            self.ns.ip("link", "del", "zxtmvt9")
            self.ns.add_macvtap("zxt1", "zxtmvt9", mac)
            self.assertIn(tap_ifindex(), (None, 0))
            self.ns.ip("link", "del", "zxtmvt9")
            # the vNIC's own: taken
            self.ns.add_macvtap("zxt0", "zxtmvt9", mac)
            self.assertEqual(tap_ifindex(), ifindex(self.ns, "zxtmvt9"))
            # gone again, its notification not read yet: no tap at once
            self.ns.ip("link", "del", "zxtmvt9")
            self.assertIn(tap_ifindex(), (None, 0))
        finally:
            self.d.call("io.zcrx.Manager.Detach", {"domain": "xmlvm"})
            self.ns.ip("link", "del", "zxtmvt9", check=False)

    def test_tap_made_before_a_nic_change(self):
        """A run that a change of the NIC causes (no request: the loop's
        own deferred run, whose catch-up reads the link notifications only
        when the loop saw some) finds the vNIC's macvtap made before that
        change.  Nothing else looks for it: no interval, no request."""
        mac = "52:54:00:0f:00:05"
        xml = ("<domain type='kvm' id='4'><name>nicvm</name>"
               "<uuid>5a1b0000-0000-4000-8000-00000000f005</uuid>"
               "<memory unit='KiB'>65536</memory><os><type>hvm</type></os><devices>"
               "<interface type='direct'><mac address='%s'/>"
               "<source dev='zxt0' mode='bridge'/><target dev='zxtmvt5'/></interface>"
               "</devices></domain>" % mac)

        def tap_ifindex():
            a = [x for x in self.d.call("io.zcrx.Manager.ListAttachments")["attachments"]
                 if x["domain"] == "nicvm"][0]
            return a.get("tap_ifindex")
        try:
            self.d.call("io.zcrx.Manager.Attach", {"domain": "nicvm", "nic": "zxt0",
                                                   "domain_xml": xml})
            self.assertIn(tap_ifindex(), (None, 0))
            self.ns.add_macvtap("zxt0", "zxtmvt5", mac)
            want = ifindex(self.ns, "zxtmvt5")
            self.ns.ip("link", "set", "zxt0", "mtu", "1400")
            wait_for(lambda: tap_ifindex() == want, what="zxtmvt5 as the vNIC's tap")
        finally:
            self.d.call("io.zcrx.Manager.Detach", {"domain": "nicvm"})
            self.ns.ip("link", "del", "zxtmvt5", check=False)
            self.ns.ip("link", "set", "zxt0", "mtu", "1500", check=False)


if __name__ == "__main__":
    main()
