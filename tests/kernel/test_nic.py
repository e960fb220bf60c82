# SPDX-License-Identifier: MIT
"""Kernel tier for the NIC layer: the real kernel, veth pairs with 8 queues
and a macvtap in private network namespaces named zxn*, zcrxd and nictool
against them.  Every wait polls with a deadline; nothing sleeps."""
import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from zxtest import BUILD, Daemon, Netns, VarlinkClient, VarlinkError, main, require_root, run, wait_for  # noqa: E402

NICTOOL = os.path.join(BUILD, "tests", "nictool")
MVT_MAC = "52:54:00:12:34:56"


def ethtool_l(ns, dev):
    """`ethtool -l` parsed: {'max': {...}, 'cur': {...}} (n/a -> 0)."""
    out = run(ns.exec_cmd(["ethtool", "-l", dev])).stdout
    res, part = {"max": {}, "cur": {}}, None
    for line in out.splitlines():
        if line.startswith("Pre-set maximums"):
            part = "max"
        elif line.startswith("Current hardware settings"):
            part = "cur"
        m = re.match(r"^(RX|TX|Other|Combined):\s+(\S+)", line)
        if m and part:
            res[part][m.group(1).lower()] = 0 if m.group(2) == "n/a" else int(m.group(2))
    return res


def nictool(ns, *args):
    return run(ns.exec_cmd([NICTOOL] + list(args)), check=False)


def make_ns(prefix):
    ns = Netns(prefix).__enter__()
    ns.add_veth("zxn0", "zxn1", queues=8)
    ns.add_macvtap("zxn1", "zxnmvt0", MVT_MAC)
    return ns


@require_root
class NicTool(unittest.TestCase):
    """The NIC layer linked into nictool, cross-checked with ethtool(8)."""

    @classmethod
    def setUpClass(cls):
        cls.ns = make_ns("zxnt")

    @classmethod
    def tearDownClass(cls):
        cls.ns.delete()

    def show(self, dev):
        p = nictool(self.ns, "show", dev)
        self.assertEqual(p.returncode, 0, p.stderr)
        return json.loads(p.stdout)

    def test_channels_round_trip(self):
        for n in (3, 8, 5):
            p = nictool(self.ns, "set-channels", "zxn0", str(n))
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["rx"], n)
            e = ethtool_l(self.ns, "zxn0")
            self.assertEqual(e["cur"]["rx"], n)
            nic = self.show("zxn0")
            self.assertEqual(nic["channels"]["rx"], e["cur"]["rx"])
            self.assertEqual(nic["channels"]["tx"], e["cur"]["tx"])
            self.assertEqual(nic["channels"]["rx_max"], e["max"]["rx"])
            self.assertEqual(nic["channels"]["tx_max"], e["max"]["tx"])
            self.assertEqual(nic["channels"]["combined_max"], e["max"]["combined"])
            self.assertEqual(nic["rx_queues"], n)
        # and a change made by ethtool is what nictool reads
        run(self.ns.exec_cmd(["ethtool", "-L", "zxn0", "rx", "8"]))
        self.assertEqual(self.show("zxn0")["channels"]["rx"], 8)

    def test_refusal_is_the_kernels_text(self):
        p = nictool(self.ns, "set-channels", "zxn0", "9")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.strip(),
                         "Error: zxn0: set channels: requested channel count exceeds maximum "
                         "(EINVAL)")
        p = nictool(self.ns, "set-channels", "zxn0", "0")
        self.assertEqual(p.returncode, 1)
        self.assertIn("would result in no RX or TX channel being configured (EINVAL)", p.stderr)
        p = nictool(self.ns, "rss-get", "zxn0")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.strip(),
                         "Error: zxn0: get rss: Operation not supported (EOPNOTSUPP)")
        p = nictool(self.ns, "show", "zxnnothere")
        self.assertEqual(p.returncode, 1)
        self.assertIn("no such device (ENODEV)", p.stderr)
        self.assertEqual(nictool(self.ns, "set-channels", "zxn0").returncode, 2)

    def test_veth_lacks_what_veth_lacks(self):
        caps = self.show("zxn0")["capabilities"]
        want = {
            "rings": "get rings: Operation not supported",
            "header_split": "set rings: setting TCP data split is not supported",
            "hds_thresh": "set rings: setting hds-thresh is not supported",
            "rss": "get rss: Operation not supported",
            "rules": "get rules: Operation not supported",
        }
        for cap, msg in want.items():
            self.assertEqual(caps[cap]["state"], "no", cap)
            self.assertEqual(caps[cap]["error"], "EOPNOTSUPP", cap)
            self.assertEqual(caps[cap]["message"], msg, cap)
        self.assertEqual(caps["ntuple"]["state"], "no")
        self.assertEqual(caps["l2_rules"]["state"], "no")
        self.assertEqual(caps["channels"]["state"], "yes")
        self.assertEqual(caps["queue_info"]["state"], "yes")
        self.assertEqual(caps["binder"]["state"], "unknown")
        # ethtool agrees: no rings, no RSS, no ntuple
        for args in (["-g", "zxn0"], ["-x", "zxn0"], ["-n", "zxn0"]):
            self.assertNotEqual(run(self.ns.exec_cmd(["ethtool"] + args), check=False).returncode,
                                0, args)

    def test_reread_asks_once_per_device(self):
        # what only a write tells (settable channels, header split,
        # hds-thresh for a driver that does not report it) is asked on the
        # first read of a device, not on every re-read
        p = nictool(self.ns, "observe", "zxn0", "3")
        self.assertEqual(p.returncode, 0, p.stderr)
        reads = json.loads(p.stdout)
        first, again = reads[0], reads[1:]
        self.assertIn("setting hds-thresh is not supported", first["refused"])
        self.assertIn("setting TCP data split is not supported", first["refused"])
        for r in again:
            self.assertNotIn("setting hds-thresh is not supported", r["refused"])
            self.assertNotIn("setting TCP data split is not supported", r["refused"])
            self.assertEqual(r["replies"], again[0]["replies"])
        # channels set, header split and hds-thresh: three round trips once
        self.assertEqual(first["replies"] - again[0]["replies"], 3)

    def test_ntuple_ack_is_not_success(self):
        # FEATURES_SET acks rx-ntuple-filter=1 on veth; its reply says "not applied"
        p = nictool(self.ns, "ntuple", "zxn0", "on")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(json.loads(p.stdout)["applied"], False)
        self.assertEqual(p.stderr.strip(),
                         "Error: zxn0: set feature rx-ntuple-filter: the kernel acknowledged but "
                         "did not apply it (EOPNOTSUPP)")
        p = nictool(self.ns, "ntuple", "zxn0", "off")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout)["applied"], True)
        self.assertFalse(self.show("zxn0")["ntuple"]["active"])

    def test_rules_and_contexts_refused(self):
        for args, op in ((["rule-add", "zxn0", "ether", MVT_MAC, "queue", "1"], "insert rule"),
                         (["rule-add", "zxn0", "ip6", "2001:db8::1", "context", "1"],
                          "insert rule"),
                         (["rules", "zxn0"], "get rules"),
                         (["rule-del", "zxn0", "0"], "delete rule"),
                         (["rss-create", "zxn0", "0", "1"], "create rss context"),
                         (["rss-delete", "zxn0", "1"], "delete rss context"),
                         (["rss-set", "zxn0", "0", "0", "1"], "set rss")):
            p = nictool(self.ns, *args)
            self.assertEqual(p.returncode, 1, args)
            self.assertEqual(p.stderr.strip(),
                             "Error: zxn0: %s: Operation not supported (EOPNOTSUPP)" % op, args)
        self.assertEqual(nictool(self.ns, "rule-add", "zxn0", "ether", "nope", "queue",
                                 "1").returncode, 2)

    def test_macvtap_lower_and_mac(self):
        nic = self.show("zxnmvt0")
        self.assertEqual(nic["kind"], "macvtap")
        self.assertEqual(nic["mac"], MVT_MAC)
        self.assertEqual(nic["lower"]["name"], "zxn1")
        self.assertEqual(nic["lower"]["mode"], "bridge")
        self.assertEqual(nic["lower"]["ifindex"],
                         int(run(self.ns.exec_cmd(["cat", "/sys/class/net/zxn1/ifindex"]))
                             .stdout))

    def test_queues_from_netdev(self):
        q = json.loads(nictool(self.ns, "queues", "zxn0").stdout)
        self.assertEqual([x["index"] for x in q], list(range(ethtool_l(self.ns, "zxn0")["cur"]["rx"])))
        for x in q:
            self.assertEqual(x["providers"], [])
            self.assertIsNone(x["irq"])           # veth: software NAPI, no IRQ
            self.assertIsNone(x["in_default_rss"])  # no readable RSS table

    def test_links(self):
        links = json.loads(nictool(self.ns, "links").stdout)
        self.assertEqual(sorted(x["name"] for x in links), ["lo", "zxn0", "zxn1", "zxnmvt0"])


@require_root
class Daemon1(unittest.TestCase):
    """zcrxd's model through Varlink and zcrxctl."""

    def setUp(self):
        self.ns = make_ns("zxnd")
        self.d = Daemon(netns=self.ns, config_text="[daemon]\nReconcileIntervalSec=30\n")

    def tearDown(self):
        try:
            self.d.cleanup()
        finally:
            self.ns.delete()

    def nic(self, name, refresh=False):
        p = {"nic": name}
        if refresh:
            p["refresh"] = True
        return self.d.call("io.zcrx.Manager.GetNic", p)["nic"]

    def names(self):
        return sorted(n["name"] for n in self.d.call("io.zcrx.Manager.ListNics")["nics"])

    def test_list_and_status(self):
        self.assertEqual(self.names(), ["zxn0", "zxn1", "zxnmvt0"])
        self.assertEqual(self.d.status()["nics"], 3)
        nics = {n["name"]: n for n in self.d.call("io.zcrx.Manager.ListNics")["nics"]}
        self.assertEqual(nics["zxnmvt0"]["lower"], "zxn1")
        self.assertEqual(nics["zxn0"]["channels"]["rx_max"], 8)

    def test_outside_change_reaches_the_model(self):
        gen = self.nic("zxn0")["generation"]
        with self.d.client() as mon:
            mon.send("io.zcrx.Manager.Monitor", {}, more=True)
            self.assertEqual(mon.recv()["parameters"]["event"]["type"], "subscribed")
            run(self.ns.exec_cmd(["ethtool", "-L", "zxn0", "rx", "3"]))
            # the monitor group, not a refresh: poll the API with a deadline.
            # The kernel tells of the channels (ethtool) and of the queues
            # (rtnl) apart: read in one turn or in two, one bump or two
            wait_for(lambda: (self.nic("zxn0")["channels"]["rx"],
                              self.nic("zxn0")["rx_queues"]) == (3, 3),
                     what="rx=3 and 3 RX queues in GetNic")
            nic = self.nic("zxn0")
            self.assertIn(nic["generation"], (gen + 1, gen + 2))
            gen = nic["generation"]
            ev = wait_for(lambda: self._next_nic_event(mon), what="nic-changed event")
            self.assertEqual(ev["type"], "nic-changed")
            self.assertEqual(ev["nic"], "zxn0")
            self.assertIn("channels", ev["changed"])
        # a no-op change bumps nothing, even after a forced re-read
        run(self.ns.exec_cmd(["ethtool", "-L", "zxn0", "rx", "3"]))
        self.assertEqual(self.nic("zxn0", refresh=True)["generation"], gen)
        q = self.d.call("io.zcrx.Manager.ListQueues", {"nic": "zxn0"})["queues"]
        self.assertEqual([x["index"] for x in q], [0, 1, 2])

    def _next_nic_event(self, mon):
        ev = mon.recv()["parameters"]["event"]
        return ev if ev["type"].startswith("nic-") and ev.get("nic") == "zxn0" else None

    def test_down_hides_queues_up_shows_them(self):
        self.ns.ip("link", "set", "zxn0", "down")
        wait_for(lambda: not self.nic("zxn0")["up"], what="zxn0 down")
        nic = self.nic("zxn0")
        self.assertEqual(nic["capabilities"]["queue_info"]["state"], "unknown")
        self.assertIn("down", nic["capabilities"]["queue_info"]["message"])
        self.ns.ip("link", "set", "zxn0", "up")
        wait_for(lambda: self.nic("zxn0")["capabilities"]["queue_info"]["state"] == "yes",
                 what="queues listed again")

    def test_unsupported_with_kernel_text(self):
        caps = self.nic("zxn0")["capabilities"]
        self.assertEqual(caps["header_split"]["message"],
                         "set rings: setting TCP data split is not supported")
        self.assertEqual(caps["rss"]["error"], "EOPNOTSUPP")
        self.assertEqual(caps["rings"]["state"], "no")
        self.assertEqual(caps["ntuple"]["state"], "no")

    def test_macvtap(self):
        nic = self.nic("zxnmvt0")
        self.assertEqual(nic["mac"], MVT_MAC)
        self.assertEqual(nic["lower"]["name"], "zxn1")
        self.assertEqual(nic["lower"]["mode"], "bridge")
        self.assertEqual(nic["capabilities"]["channels"]["state"], "no")

    def test_no_such_nic(self):
        with self.assertRaises(VarlinkError) as cm:
            self.nic("zxnnothere")
        self.assertEqual(cm.exception.error, "io.zcrx.Manager.NoSuchNic")
        self.assertEqual(cm.exception.parameters["nic"], "zxnnothere")
        p = self.d.ctl("nics", "zxnnothere")
        self.assertEqual(p.returncode, 1)
        self.assertEqual(p.stderr.strip(),
                         "Error: no NIC 'zxnnothere' in zcrxd's network namespace")
        self.assertEqual(len(p.stderr.strip().splitlines()), 1)

    def test_zcrxctl_tells_the_truth(self):
        p = self.d.ctl("nics")
        self.assertEqual(p.returncode, 0, p.stderr)
        rows = {line.split()[0]: line.split() for line in p.stdout.splitlines()[1:]}
        self.assertEqual(sorted(rows), ["zxn0", "zxn1", "zxnmvt0"])
        self.assertEqual(rows["zxn0"][2], "veth")
        self.assertEqual(rows["zxnmvt0"][-1], "zxn1")
        self.assertIn("rx 8/8", p.stdout)
        p = self.d.ctl("nics", "zxn0")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"header_split\s+no\s+set rings: setting TCP data split is "
                                   r"not supported")
        self.assertRegex(p.stdout, r"channels\s+yes\s+rx 8/8")
        j = json.loads(self.d.ctl("--json", "nics", "zxn0").stdout)
        self.assertEqual(j["nic"]["channels"]["rx"], ethtool_l(self.ns, "zxn0")["cur"]["rx"])
        p = self.d.ctl("queues", "zxn0")
        self.assertEqual(len(p.stdout.splitlines()), 1 + 8)
        j = json.loads(self.d.ctl("--json", "queues").stdout)
        self.assertEqual(len([q for q in j["queues"] if q["nic"] == "zxn0"]), 8)

    def test_deleted_nic_disappears_quietly(self):
        self.assertIn("zxn0", self.names())
        self.ns.ip("link", "del", "zxn0")  # takes zxn1 and the macvtap with it
        wait_for(lambda: self.names() == [], what="all gone from ListNics")
        self.assertEqual(self.d.status()["nics"], 0)
        p = self.d.ctl("nics")
        self.assertEqual(p.returncode, 0)
        self.assertEqual(len(p.stdout.splitlines()), 1)  # the header only
        noise = [l for l in self.d.log().splitlines() if l.startswith(("<error>", "<warning>"))]
        self.assertEqual(noise, [])
        # and a new one is picked up
        self.ns.add_veth("zxn2", "zxn3", queues=2)
        wait_for(lambda: self.names() == ["zxn2", "zxn3"], what="zxn2/zxn3 listed")


@require_root
class TwoNamespaces(unittest.TestCase):
    def test_each_daemon_sees_its_own(self):
        a = Netns("zxna").__enter__()
        b = Netns("zxnb").__enter__()
        da = db = None
        try:
            a.add_veth("zxna0", "zxna1", queues=2)
            b.add_veth("zxnb0", "zxnb1", queues=4)
            da = Daemon(netns=a, config_text="")
            db = Daemon(netns=b, config_text="")
            na = sorted(n["name"] for n in da.call("io.zcrx.Manager.ListNics")["nics"])
            nb = sorted(n["name"] for n in db.call("io.zcrx.Manager.ListNics")["nics"])
            self.assertEqual(na, ["zxna0", "zxna1"])
            self.assertEqual(nb, ["zxnb0", "zxnb1"])
            # a change in one namespace reaches only that daemon
            run(b.exec_cmd(["ethtool", "-L", "zxnb0", "rx", "1"]))
            wait_for(lambda: db.call("io.zcrx.Manager.GetNic", {"nic": "zxnb0"})["nic"]
                     ["channels"]["rx"] == 1, what="rx=1 in b")
            with self.assertRaises(VarlinkError):
                da.call("io.zcrx.Manager.GetNic", {"nic": "zxnb0"})
        finally:
            for d in (da, db):
                if d:
                    d.cleanup()
            a.delete()
            b.delete()


if __name__ == "__main__":
    main()
