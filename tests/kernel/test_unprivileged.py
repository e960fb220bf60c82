# SPDX-License-Identifier: MIT
"""Kernel tier: zcrxd as systemd/zcrxd.service runs it (issue 10, item 19):
not root but a user of its own (uid 65534 here) with CAP_NET_ADMIN and
CAP_CHOWN only, ambient, and nothing else in its bounding set.  On a veth
pair in a private namespace it must do its whole job: start, hand its
socket to SocketGroup=, change the channel count the config asks for,
attach, release and put the count back.  Without CAP_NET_ADMIN the same
change is refused by the kernel, and zcrxd says so: the test can tell."""
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from zxtest import Daemon, Netns, main, require_root, run, wait_for  # noqa: E402

CONF = "[daemon]\nSocketGroup=nogroup\nReconcileIntervalSec=0\n" \
       "[nic zxu0]\nChannels=4\nReserveQueues=1\n"
CAPS = ["net_admin", "chown"]
CAP_NET_ADMIN, CAP_CHOWN = 12, 0


def rx_channels(ns, dev):
    out = run(ns.exec_cmd(["ethtool", "-l", dev])).stdout
    current = out.split("Current hardware settings:")[1]
    return int(re.search(r"^RX:\s+(\d+)", current, re.M).group(1))


def status_of(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def daemon_pid(d):
    """zcrxd's own pid (Daemon started ip netns exec -> setpriv -> zcrxd,
    each exec'ing the next: the same process)."""
    return d.proc.pid


@require_root
class Unprivileged(unittest.TestCase):
    def setUp(self):
        self.ns = Netns("zxu").__enter__()
        self.ns.add_veth("zxu0", "zxu1", queues=8)
        self.ns.add_macvtap("zxu0", "zxumvt0", "52:54:00:00:c1:01")
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.cleanup()
        self.ns.delete()

    def test_runs_with_its_two_capabilities(self):
        self.d = Daemon(netns=self.ns, config_text=CONF, user=(65534, 65534, CAPS))
        st = status_of(daemon_pid(self.d))
        self.assertEqual(st["Uid"].split()[0], "65534")
        want = (1 << CAP_NET_ADMIN) | (1 << CAP_CHOWN)
        for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb"):
            self.assertEqual(int(st[k], 16), want, (k, st[k]))
        # CAP_CHOWN: the socket belongs to SocketGroup=
        s = os.stat(self.d.socket)
        self.assertEqual((s.st_uid, s.st_gid), (65534, 65534))
        # CAP_NET_ADMIN: Channels=4 applied at start
        wait_for(lambda: rx_channels(self.ns, "zxu0") == 4, what="4 RX channels")
        self.assertEqual(self.d.status()["nics"], 3)
        r = self.d.call("io.zcrx.Manager.Attach", {"domain": "vm0", "nic": "zxu0",
                                                   "mac": "52:54:00:00:c1:01", "tap": "zxumvt0"})
        a = r["attachments"][0]
        self.assertEqual(len(a["queues"]), 1)
        self.assertNotIn("kernel-error", [x["code"] for x in a["reasons"]], a["reasons"])
        self.d.call("io.zcrx.Manager.Detach", {"domain": "vm0"})
        self.d.call("io.zcrx.Manager.Release", {"nic": "zxu0"})
        self.assertEqual(rx_channels(self.ns, "zxu0"), 8)
        self.assertTrue(os.path.exists(os.path.join(self.d.state, "state.json")))
        self.assertNotIn("Operation not permitted", self.d.log())

    def test_without_net_admin_the_kernel_refuses(self):
        """The control: with CAP_CHOWN alone the channel change is refused
        (EPERM) and zcrxd says so; the NIC keeps its 8 channels."""
        self.d = Daemon(netns=self.ns, config_text=CONF, user=(65534, 65534, ["chown"]))
        wait_for(lambda: "Operation not permitted" in self.d.log(),
                 what="the kernel's refusal in the log")
        self.assertEqual(rx_channels(self.ns, "zxu0"), 8)


if __name__ == "__main__":
    main()
