# SPDX-License-Identifier: MIT
"""Which NICs are zcrxd's (issue 10 item 7, DESIGN.md §14), on real veths
in a private network namespace: zcrxd changes a NIC only when [nic NAME]
names it or an attachment lives on it; [nic *] gives defaults and claims
nothing, and covers only NICs without a link kind (a veth is never
special).  ethtool(8) is the judge of what changed."""
import json
import os
import re
import signal
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from zxtest import (ZCRXD, Daemon, Netns, VarlinkError, main, require_root, run,  # noqa: E402
                    wait_for)


def rx_channels(ns, dev):
    """Current RX channels, as `ethtool -l` shows them."""
    out = run(ns.exec_cmd(["ethtool", "-l", dev])).stdout
    cur = out.split("Current hardware settings:")[1]
    return int(re.search(r"^RX:\s+(\d+)", cur, re.M).group(1))


def dump_state(d):
    """The state zcrxd recorded: what it made or changed, per NIC."""
    return json.loads(run([ZCRXD, "--dump-state", "--state-dir", d.state]).stdout)


@require_root
class DefaultClaimsNothing(unittest.TestCase):
    def setUp(self):
        self.ns = Netns("zxo").__enter__()
        self.ns.add_veth("zxo0", "zxo1", queues=8)
        self.ns.add_macvtap("zxo0", "zxomvt0", "52:54:00:0e:00:01")
        self.d = None

    def tearDown(self):
        if self.d:
            self.d.cleanup()
        self.ns.delete()

    def start(self, conf):
        self.d = Daemon(netns=self.ns, config_text="[daemon]\nReconcileIntervalSec=0\n" + conf)
        return self.d

    def test_default_section_alone_changes_no_nic(self):
        d = self.start("[nic *]\nChannels=4\nReserveQueues=2\n")
        self.assertEqual((rx_channels(self.ns, "zxo0"), rx_channels(self.ns, "zxo1")), (8, 8))
        # a reconcile and a reload do not change that either
        r = d.call("io.zcrx.Manager.Reconcile", {})
        self.assertEqual(r["plans"], [])
        n = d.status()["reloads"]
        d.kill(signal.SIGHUP)
        wait_for(lambda: d.status()["reloads"] == n + 1, what="reload")
        self.assertEqual(d.call("io.zcrx.Manager.Plan", {})["plans"], [])
        self.assertEqual((rx_channels(self.ns, "zxo0"), rx_channels(self.ns, "zxo1")), (8, 8))
        # nothing of zcrxd's was recorded for them
        self.assertEqual([j["name"] for j in dump_state(d).get("nics", [])], [])
        # a veth is not a NIC [nic *] covers: an attach says why
        with self.assertRaises(VarlinkError) as e:
            d.call("io.zcrx.Manager.Attach", {"domain": "vm", "nic": "zxo0",
                                              "mac": "52:54:00:0e:00:01", "tap": "zxomvt0"})
        self.assertEqual(e.exception.error, "io.zcrx.Manager.NicNotManaged")
        self.assertIn("[nic *] covers only NICs without a link kind (zxo0 is a veth)",
                      e.exception.parameters["message"])
        self.assertEqual(rx_channels(self.ns, "zxo0"), 8)
        # no binder verdict and no metrics for what is not zcrxd's
        nic = d.call("io.zcrx.Manager.GetNic", {"nic": "zxo0"})["nic"]
        self.assertEqual(nic["capabilities"]["binder"]["state"], "no")
        self.assertIn("not a NIC zcrxd manages", nic["capabilities"]["binder"]["message"])
        self.assertNotIn('nic="zxo0"', d.call("io.zcrx.Manager.GetMetrics")["text"])

    def test_named_section_claims_only_its_nic(self):
        d = self.start("[nic *]\nChannels=2\n[nic zxo0]\n")
        # zxo0 is named: it takes Channels=2 from [nic *]; its peer is left alone
        wait_for(lambda: rx_channels(self.ns, "zxo0") == 2, what="zxo0 at 2 channels")
        self.assertEqual(rx_channels(self.ns, "zxo1"), 8)
        self.assertEqual([j["name"] for j in dump_state(d)["nics"]], ["zxo0"])
        nic = d.call("io.zcrx.Manager.GetNic", {"nic": "zxo0"})["nic"]
        self.assertNotIn("not a NIC zcrxd manages", nic["capabilities"]["binder"]["message"])
        self.assertIn('nic="zxo0"', d.call("io.zcrx.Manager.GetMetrics")["text"])
        # the section goes: zcrxd puts back what it changed, and leaves it be
        with open(d.config, "w") as f:
            f.write("[daemon]\nReconcileIntervalSec=0\n[nic *]\nChannels=2\n")
        n = d.status()["reloads"]
        d.kill(signal.SIGHUP)
        wait_for(lambda: d.status()["reloads"] == n + 1, what="reload")
        wait_for(lambda: rx_channels(self.ns, "zxo0") == 8, what="zxo0 back at 8 channels")
        self.assertEqual(rx_channels(self.ns, "zxo1"), 8)
        self.assertEqual(d.call("io.zcrx.Manager.Plan", {})["plans"], [])


@require_root
class ManyNics(unittest.TestCase):
    def test_every_named_nic_is_reconciled(self):
        """More than 256 NICs: every one the configuration names is
        reconciled (the list of NICs to run was cut at 256, silently)."""
        ns = Netns("zxo").__enter__()
        d = None
        try:
            names = ["zxq%d" % i for i in range(264)]
            batch = "".join("link add %s numrxqueues 4 numtxqueues 4 type veth peer name %s "
                            "numrxqueues 4 numtxqueues 4\n" % (names[i], names[i + 1])
                            for i in range(0, len(names), 2))
            batch += "".join("link set %s up\n" % n for n in names)
            run(["ip", "-n", ns.name, "-batch", "-"], input=batch)
            conf = "[daemon]\nReconcileIntervalSec=0\n" + "".join(
                "[nic %s]\n" % n for n in names)
            d = Daemon(netns=ns, config_text=conf)
            # a reload runs every NIC of zcrxd's (and nothing else would)
            with open(d.config, "w") as f:
                f.write(conf.replace("]\n", "]\nChannels=2\n").replace(
                    "[daemon]\nChannels=2\n", "[daemon]\n"))
            d.kill(signal.SIGHUP)
            wait_for(lambda: d.status()["reloads"] == 1, what="reload")
            rx = {n["name"]: n["channels"]["rx"]
                  for n in d.call("io.zcrx.Manager.ListNics")["nics"] if n["name"] in names}
            self.assertEqual(len(rx), len(names))
            self.assertEqual(sorted(n for n, v in rx.items() if v != 2), [])
            self.assertEqual([op for p in d.call("io.zcrx.Manager.Plan", {})["plans"]
                              for op in p["ops"]], [])
        finally:
            if d:
                d.cleanup()
            ns.delete()


if __name__ == "__main__":
    main()
