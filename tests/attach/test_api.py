#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attachment API and CLI end to end, on zcrxd-fake (TEST ONLY: the
daemon's own code over the fake NIC backend, for ntuple rules and RSS
contexts no kernel here offers), and authorization of the mutating methods.
"""
import grp
import json
import os
import re
import signal
import time

from attachlib import FakeDaemonCase, mac, orphans, plan_ops, state_json, zxtest

CONF = """
[daemon]
ReconcileIntervalSec=0
SocketGroup=nogroup

[nic eth0]
ReserveQueues=4

[nic eth1]
ReserveQueues=1
OnExhaustion=fail

[nic eth3]
ReserveQueues=2
Channels=12
"""

NICS = ("eth0:capable", "eth1:capable", "eth2:capable", "eth3:capable")


@zxtest.require_root
class Api(FakeDaemonCase):
    CONF = CONF
    NICS = NICS
    WORK = "zxp-api-"

    def attach(self, **p):
        return self.d.call("io.zcrx.Manager.Attach", p)

    def rules_of(self, nic):
        return self.d.fake_nic(nic)["rules"]

    def test_dry_run_changes_nothing_and_shows_ethtool(self):
        before = self.d.fake()
        r = self.attach(domain="dry", nic="eth0", mac=mac(0x100), dry_run=True)
        self.assertTrue(r["dry_run"])
        ops = r["plans"][0]["ops"]
        kinds = [o["kind"] for o in ops]
        self.assertIn("insert-rule", kinds)
        ins = [o for o in ops if o["kind"] == "insert-rule"][0]
        self.assertTrue(ins["ethtool"].startswith(
            "ethtool -N eth0 flow-type ether dst %s action " % mac(0x100)), ins)
        self.assertTrue(all(o["reason"] for o in ops))
        self.assertEqual(self.d.fake(), before)
        self.assertNotIn("dry", [a["domain"] for a in
                                 self.d.call("io.zcrx.Manager.ListAttachments")["attachments"]])
        # the CLI prints reasons and commands
        p = self.d.ctl("attach", "dry", "eth0", "--mac", mac(0x101), "--dry-run")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("why: steer %s of 'dry' to its queue" % mac(0x101), p.stdout)
        self.assertIn("$ ethtool -N eth0 flow-type ether dst %s action" % mac(0x101), p.stdout)
        self.assertEqual(self.d.fake(), before)

    def test_attach_twice_is_one_attachment(self):
        r1 = self.attach(domain="twice", nic="eth0", mac=mac(0x200))
        self.assertEqual(len(r1["attachments"]), 1)
        self.assertTrue(r1["plans"] and r1["plans"][0]["ops"])
        r2 = self.attach(domain="twice", nic="eth0", mac=mac(0x200))
        self.assertEqual(r2["plans"], [])
        listed = self.d.call("io.zcrx.Manager.ListAttachments", {"domain": "twice"})
        self.assertEqual(len(listed["attachments"]), 1)
        a = listed["attachments"][0]
        self.assertEqual(a["queues"], r1["attachments"][0]["queues"])
        # another domain cannot take the same vNIC
        with self.assertRaises(zxtest.VarlinkError) as e:
            self.attach(domain="thief", nic="eth0", mac=mac(0x200))
        self.assertEqual(e.exception.error, "io.zcrx.Manager.AttachmentExists")
        self.d.call("io.zcrx.Manager.Detach", {"domain": "twice"})

    def test_multi_queue_shows_everything(self):
        r = self.attach(domain="mq", nic="eth0", mac=mac(0x300), queues=2)
        a = r["attachments"][0]
        self.assertEqual(len(a["queues"]), 2)
        self.assertEqual(len(a["rules"]), 1)
        self.assertIn("rss_context", a)
        self.assertEqual(a["steering"], "mac")
        self.assertEqual(a["state"], "degraded")
        self.assertIn("no-zero-copy", [x["code"] for x in a["reasons"]])
        p = self.d.ctl("list", "--domain", "mq")
        self.assertEqual(p.returncode, 0, p.stderr)
        line = [l for l in p.stdout.splitlines() if l.startswith("mq ")][0]
        self.assertIn(mac(0x300), line)
        self.assertIn("%d-%d" % (a["queues"][0], a["queues"][1]), line)
        self.assertIn("no-zero-copy: bind:", p.stdout)
        self.assertEqual(orphans(self.d.fake(), state_json(self.d.state)), [])
        self.assertEqual(plan_ops(self.d), [])
        self.d.call("io.zcrx.Manager.Detach", {"domain": "mq"})

    def test_detach_restores_rules(self):
        before = self.rules_of("eth0")
        self.attach(domain="gone", nic="eth0", mac=mac(0x400))
        self.attach(domain="gone", nic="eth0", mac=mac(0x401), queues=2)
        self.assertEqual(len(self.rules_of("eth0")), len(before) + 2)
        p = self.d.ctl("detach", "gone")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("2 attachment(s) of 'gone' removed", p.stdout)
        self.assertEqual(self.rules_of("eth0"), before)
        with self.assertRaises(zxtest.VarlinkError) as e:
            self.d.call("io.zcrx.Manager.Detach", {"domain": "gone"})
        self.assertEqual(e.exception.error, "io.zcrx.Manager.NoSuchDomain")

    def test_pool_exhausted_fail(self):
        self.attach(domain="first", nic="eth1", mac=mac(0x500))
        with self.assertRaises(zxtest.VarlinkError) as e:
            self.attach(domain="second", nic="eth1", mac=mac(0x501))
        self.assertEqual(e.exception.error, "io.zcrx.Manager.PoolExhausted")
        self.assertIn("pool exhausted", e.exception.parameters["message"])
        self.assertEqual(len(self.d.call("io.zcrx.Manager.ListAttachments",
                                         {"nic": "eth1"})["attachments"]), 1)
        p = self.d.ctl("attach", "second", "eth1", "--mac", mac(0x501))
        self.assertEqual(p.returncode, 1)
        self.assertIn("pool exhausted", p.stderr)
        self.d.call("io.zcrx.Manager.Detach", {"domain": "first"})

    def test_concurrent_attaches_answered_each(self):
        """Twelve Attach requests sent at once on twelve connections (they
        share their NIC's run): eth1's pool takes one, the other five get
        PoolExhausted; eth0 takes all six; every reply is what the listing
        then shows, and nothing is left half made."""
        conns = [self.d.client() for _ in range(12)]
        try:
            for i, c in enumerate(conns):
                c.send("io.zcrx.Manager.Attach",
                       {"domain": "burst%d" % i, "nic": "eth1" if i % 2 else "eth0",
                        "mac": mac(0x700 + i)})
            replies = [c.recv() for c in conns]
        finally:
            for c in conns:
                c.close()
        listed = {a["domain"]: a for a in
                  self.d.call("io.zcrx.Manager.ListAttachments")["attachments"]}
        ok1 = [i for i in range(1, 12, 2) if "error" not in replies[i]]
        self.assertEqual(len(ok1), 1, replies)
        for i, r in enumerate(replies):
            dom = "burst%d" % i
            if "error" in r:
                self.assertEqual(r["error"], "io.zcrx.Manager.PoolExhausted", r)
                self.assertEqual(i % 2, 1, r)
                self.assertNotIn(dom, listed)
                continue
            got = r["parameters"]["attachments"][0]
            self.assertEqual(got["domain"], dom)
            self.assertEqual(got["queues"], listed[dom]["queues"])
            self.assertEqual(got["rules"], listed[dom]["rules"])
        self.assertEqual(orphans(self.d.fake(), state_json(self.d.state)), [])
        self.assertEqual(plan_ops(self.d), [])
        for i in range(12):
            if "error" not in replies[i]:
                self.d.call("io.zcrx.Manager.Detach", {"domain": "burst%d" % i})

    def test_refusals(self):
        with self.assertRaises(zxtest.VarlinkError) as e:
            self.attach(domain="x", nic="eth2", mac=mac(0x600))
        self.assertEqual(e.exception.error, "io.zcrx.Manager.NicNotManaged")
        with self.assertRaises(zxtest.VarlinkError) as e:
            self.attach(domain="x", nic="nope0", mac=mac(0x600))
        self.assertEqual(e.exception.error, "io.zcrx.Manager.NoSuchNic")
        with self.assertRaises(zxtest.VarlinkError) as e:
            self.attach(domain="x", nic="eth0", mac="01:00:5e:00:00:01")
        self.assertEqual(e.exception.error, "org.varlink.service.InvalidParameter")
        with self.assertRaises(zxtest.VarlinkError) as e:
            self.attach(domain="x", nic="eth0", mac="52:54:00:00:00:zz")
        self.assertEqual(e.exception.error, "org.varlink.service.InvalidParameter")
        # the one strict MAC parser: no sign or space that sscanf would take
        for bad in ("-2:00:00:00:00:01", "52:54:00:00:00:-1", " 2:54:00:00:00:01"):
            with self.assertRaises(zxtest.VarlinkError, msg=bad) as e:
                self.attach(domain="x", nic="eth0", mac=bad)
            self.assertEqual(e.exception.error, "org.varlink.service.InvalidParameter", bad)
            self.assertEqual(e.exception.parameters.get("parameter"), "mac", bad)
            with self.assertRaises(zxtest.VarlinkError, msg=bad) as e:
                self.d.call("io.zcrx.Manager.Detach", {"domain": "x", "mac": bad})
            self.assertEqual(e.exception.error, "org.varlink.service.InvalidParameter", bad)
        self.assertNotIn("x", [a["domain"] for a in
                               self.d.call("io.zcrx.Manager.ListAttachments")["attachments"]])
        p = self.d.ctl("attach", "x", "--mac", mac(0x601))
        self.assertEqual(p.returncode, 2)

    def test_release_restores_the_nic(self):
        before = self.d.fake_nic("eth3")
        self.assertEqual(before["combined"], 12)  # Channels=12 applied at start
        self.attach(domain="rel", nic="eth3", mac=mac(0x700), queues=2)
        r = self.d.call("io.zcrx.Manager.Release", {"nic": "eth3", "dry_run": True})
        kinds = [o["kind"] for o in r["plans"][0]["ops"]]
        self.assertLess(kinds.index("delete-rule"), kinds.index("delete-context"))
        self.assertLess(kinds.index("delete-context"), kinds.index("set-channels"))
        p = self.d.ctl("release", "eth3")
        self.assertEqual(p.returncode, 0, p.stderr)
        after = self.d.fake_nic("eth3")
        self.assertEqual(after["combined"], 8)  # as before zcrxd
        self.assertEqual(after["rules"], [])
        self.assertEqual(after["contexts"], [])
        self.assertEqual(after["indir0"], [i % 8 for i in range(128)])
        self.assertEqual(after["ntuple_on"], 0)
        nics = self.d.call("io.zcrx.Manager.ListAttachments", {"nic": "eth3"})
        self.assertEqual(nics["attachments"], [])
        self.assertTrue(nics["nics"][0]["released"])
        # released: reconcile leaves it alone
        self.assertEqual(plan_ops(self.d, "eth3"), [])
        self.d.call("io.zcrx.Manager.Reconcile")
        self.assertEqual(self.d.fake_nic("eth3"), after)

    def test_plan_and_rebalance_print(self):
        p = self.d.ctl("plan")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("eth0:", p.stdout)
        self.assertIn("nothing to do", p.stdout)
        p = self.d.ctl("rebalance", "eth0", "--dry-run")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.d.ctl("--json", "list")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("nics", json.loads(p.stdout))
        p = self.d.ctl("reconcile")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("in sync", p.stdout)

    def test_domain_xml(self):
        """The libvirt hook's path: the vNICs come from the domain XML."""
        xml = os.path.join(self.work, "dom.xml")
        with open(xml, "w") as f:
            f.write("""<domain type='kvm' id='7'><name>vmx</name>
  <uuid>8c6a7c2e-2f8e-4d9c-9b55-6b0c1a2f0001</uuid>
  <memory unit='KiB'>1048576</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices><interface type='direct'>
    <mac address='52:54:00:aa:bb:cc'/><source dev='eth0' mode='passthrough'/>
    <target dev='macvtap9'/><model type='virtio'/><driver queues='2'/>
  </interface></devices></domain>""")
        p = self.d.ctl("--json", "attach", "vmx", "eth0", "--domain-xml", xml, "--dry-run")
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        self.assertEqual(r["attachments"][0]["mac"], "52:54:00:aa:bb:cc")
        self.assertEqual(len(r["attachments"][0]["queues"]), 2)
        self.assertEqual(self.d.call("io.zcrx.Manager.ListAttachments",
                                     {"domain": "vmx"})["attachments"], [])
        with open(xml) as f:
            p = zxtest.run([zxtest.ZCRXCTL, "--socket", self.d.socket, "--json", "attach", "vmx",
                            "eth0", "--domain-xml", "-"], check=False, stdin=f)
        self.assertEqual(p.returncode, 0, p.stderr)
        a = self.d.call("io.zcrx.Manager.ListAttachments", {"domain": "vmx"})["attachments"]
        self.assertEqual(len(a), 1)
        self.assertEqual(a[0]["uuid"], "8c6a7c2e-2f8e-4d9c-9b55-6b0c1a2f0001")
        self.assertEqual(a[0]["tap"], "macvtap9")
        self.assertIn("rss_context", a[0])
        p = self.d.ctl("detach", "vmx", "--domain-xml", xml)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.d.call("io.zcrx.Manager.ListAttachments",
                                     {"domain": "vmx"})["attachments"], [])

    def test_domain_xml_refused_names_the_parameter(self):
        """An Attach whose domain XML is for another domain, or no XML,
        gets InvalidParameter naming "domain_xml" and nothing else (the
        standard error's only parameter); the reason is logged.  Before,
        the reply had no "parameter" and undeclared "domain" and "message"
        (the IDL check in zxtest sees every reply)."""
        other = self.two_vnic_xml("vmother", "eth0", 0x23)
        with open(other) as f:
            text = f.read()
        for xml, why in ((text, "the XML describes domain 'vmother', not 'vmthis'"),
                         ("<domain><name>vmthis", "domain XML: ")):
            with self.assertRaises(zxtest.VarlinkError) as e:
                self.attach(domain="vmthis", domain_xml=xml)
            self.assertEqual(e.exception.error, "org.varlink.service.InvalidParameter")
            self.assertEqual(e.exception.parameters, {"parameter": "domain_xml"})
            self.assertIn("vmthis: domain_xml refused: " + why, self.d.log())

    def test_output_says_what_is_left_out(self):
        """attach --dry-run of a domain with no macvtap says so and why (not
        an empty table and "nothing to do"); a vdpa device is "not a
        macvtap"; list --domain shows only that domain's NICs' pools."""
        xml = os.path.join(self.work, "novnic.xml")
        with open(xml, "w") as f:
            f.write("""<domain type='kvm' id='9'><name>vmnone</name>
  <uuid>8c6a7c2e-2f8e-4d9c-9b55-6b0c1a2f00a1</uuid>
  <memory unit='KiB'>1048576</memory><os><type arch='x86_64'>hvm</type></os>
  <devices><interface type='bridge'><mac address='52:54:00:aa:00:01'/>
    <source bridge='br0'/><model type='virtio'/></interface>
  <interface type='vdpa'><mac address='52:54:00:aa:00:02'/>
    <source dev='/dev/vhost-vdpa-0'/></interface></devices></domain>""")
        p = self.d.ctl("attach", "vmnone", "--domain-xml", xml, "--dry-run")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith("domain 'vmnone': no vNIC to attach:\n"),
                        p.stdout)  # not an empty table first
        self.assertIn("52:54:00:aa:00:01: not selected: type 'bridge' is not a macvtap",
                      p.stdout)
        self.assertIn("52:54:00:aa:00:02: not selected: type 'vdpa' is not a macvtap",
                      p.stdout)
        self.assertNotIn("too long", p.stdout)
        # with a macvtap too: its row, and the left-out ones under it
        xml = os.path.join(self.work, "somevnic.xml")
        with open(xml, "w") as f:
            f.write("""<domain type='kvm' id='9'><name>vmsome</name>
  <uuid>8c6a7c2e-2f8e-4d9c-9b55-6b0c1a2f00a2</uuid>
  <metadata><zcrx:config xmlns:zcrx='http://zcrx.dev/xmlns/libvirt/1.0'>
    <zcrx:nic mac='52:54:00:aa:01:01'/></zcrx:config></metadata>
  <memory unit='KiB'>1048576</memory><os><type arch='x86_64'>hvm</type></os>
  <devices><interface type='direct'><mac address='52:54:00:aa:01:01'/>
    <source dev='eth0' mode='bridge'/><target dev='macvtap7'/><model type='virtio'/>
  </interface><interface type='bridge'><mac address='52:54:00:aa:01:02'/>
    <source bridge='br0'/><model type='virtio'/></interface>
  <interface type='vdpa'><mac address='52:54:00:aa:01:03'/>
    <source dev='/dev/vhost-vdpa-0'/></interface></devices></domain>""")
        p = self.d.ctl("attach", "vmsome", "--domain-xml", xml, "--dry-run")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"vmsome\s.*52:54:00:aa:01:01\s+eth0")
        self.assertNotIn("no vNIC to attach", p.stdout)
        self.assertIn("52:54:00:aa:01:02: not selected: type 'bridge' is not a macvtap",
                      p.stdout)
        self.assertIn("52:54:00:aa:01:03: not selected: type 'vdpa' is not a macvtap",
                      p.stdout)
        # one domain's listing: its NICs' pools, not every NIC's
        self.attach(domain="onlyeth0", nic="eth0", mac=mac(0xa00))
        try:
            p = self.d.ctl("list", "--domain", "onlyeth0")
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("\neth0: ", p.stdout)
            self.assertNotIn("\neth3: ", p.stdout)
            pools = self.d.call("io.zcrx.Manager.ListAttachments", {"domain": "onlyeth0"})["nics"]
            self.assertEqual([n["nic"] for n in pools], ["eth0"])
            self.assertIn("eth3", [n["nic"] for n in self.d.call(
                "io.zcrx.Manager.ListAttachments")["nics"]])
        finally:
            self.d.call("io.zcrx.Manager.Detach", {"domain": "onlyeth0"})

    def two_vnic_xml(self, name, nic, uuid_tail):
        path = os.path.join(self.work, name + ".xml")
        vnics = "".join("""<interface type='direct'>
    <mac address='52:54:00:ab:%02x:%02x'/><source dev='%s' mode='passthrough'/>
    <target dev='macvtap%d'/><model type='virtio'/></interface>""" % (uuid_tail, i, nic, i)
                        for i in (1, 2))
        with open(path, "w") as f:
            f.write("""<domain type='kvm' id='8'><name>%s</name>
  <uuid>8c6a7c2e-2f8e-4d9c-9b55-6b0c1a2f00%02x</uuid>
  <memory unit='KiB'>1048576</memory><vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os><devices>%s</devices></domain>"""
                    % (name, uuid_tail, vnics))
        return path

    def test_domain_xml_dry_run_plans_vnics_together(self):
        """Two vNICs of one domain on one NIC: the dry run shows what the
        real attach gives, two different queues, in one plan."""
        xml = self.two_vnic_xml("vm2v", "eth0", 0x21)
        before = self.d.fake()
        p = self.d.ctl("--json", "attach", "vm2v", "eth0", "--domain-xml", xml, "--dry-run")
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        would = {a["mac"]: a["queues"] for a in r["attachments"]}
        self.assertEqual(len(would), 2, r)
        self.assertTrue(all(len(q) == 1 for q in would.values()), would)
        self.assertNotEqual(*would.values())
        self.assertEqual([pl["nic"] for pl in r["plans"]], ["eth0"])
        ops = r["plans"][0]["ops"]
        self.assertEqual(sorted(o["queue"] for o in ops if o["kind"] == "lease"),
                         sorted(q[0] for q in would.values()))
        self.assertEqual(len([o for o in ops if o["kind"] == "insert-rule"]), 2)
        self.assertEqual(self.d.fake(), before)
        self.assertEqual(self.d.call("io.zcrx.Manager.ListAttachments",
                                     {"domain": "vm2v"})["attachments"], [])
        # the real attach gives what the dry run said
        p = self.d.ctl("--json", "attach", "vm2v", "eth0", "--domain-xml", xml)
        self.assertEqual(p.returncode, 0, p.stderr)
        got = {a["mac"]: a["queues"] for a in self.d.call(
            "io.zcrx.Manager.ListAttachments", {"domain": "vm2v"})["attachments"]}
        self.assertEqual(got, would)
        self.d.call("io.zcrx.Manager.Detach", {"domain": "vm2v"})

    def test_domain_xml_dry_run_exhaustion(self):
        """eth1 has one pool queue and OnExhaustion=fail: of two vNICs the
        first would get it and the second would be refused, as a real
        attach does one after the other."""
        xml = self.two_vnic_xml("vm2x", "eth1", 0x22)
        p = self.d.ctl("--json", "attach", "vm2x", "eth1", "--domain-xml", xml, "--dry-run")
        self.assertEqual(p.returncode, 0, p.stderr)
        r = json.loads(p.stdout)
        a = {x["mac"]: x for x in r["attachments"]}
        first, second = a["52:54:00:ab:22:01"], a["52:54:00:ab:22:02"]
        self.assertEqual(len(first["queues"]), 1, first)
        self.assertEqual(second["queues"], [])
        self.assertEqual(second["state"], "failed")
        self.assertIn("pool-exhausted", [x["code"] for x in second["reasons"]])
        ops = r["plans"][0]["ops"]
        self.assertEqual([o["mac"] for o in ops if o["kind"] == "lease"],
                         ["52:54:00:ab:22:01"])


    def repairs(self):
        text = self.d.call("io.zcrx.Manager.GetMetrics")["text"]
        return int(re.search(r"^zcrx_reconcile_repairs_total (\d+)$", text, re.M).group(1))

    def test_rule_deleted_outside_is_put_back_logged_and_counted(self):
        a = self.attach(domain="rep", nic="eth0", mac=mac(0x820))["attachments"][0]
        loc = a["rules"][0]
        self.d.outside("rule-delete eth0 %d" % loc)
        self.assertNotIn(loc, [r["location"] for r in self.rules_of("eth0")])
        n0 = self.repairs()
        r = self.d.call("io.zcrx.Manager.Reconcile", {"nic": "eth0"})
        ops = r["plans"][0]["ops"]
        self.assertEqual([o["kind"] for o in ops], ["forget", "insert-rule"], ops)
        self.assertTrue(ops[1].get("repair"), ops[1])
        self.assertEqual(self.repairs(), n0 + 1)
        self.assertIn(mac(0x820), [r["mac"] for r in self.rules_of("eth0")])
        log = self.d.log()
        self.assertIn("drift: forget rule %d (rule %d was deleted outside zcrxd)" % (loc, loc), log)
        self.assertRegex(log, r"repair: insert rule ether dst %s -> queue \d+ \(repair: steer" %
                         mac(0x820))
        # found by a request on the same NIC: put back and counted just the same
        a = self.d.call("io.zcrx.Manager.ListAttachments", {"domain": "rep"})["attachments"][0]
        self.d.outside("rule-delete eth0 %d" % a["rules"][0])
        n1 = self.repairs()
        self.attach(domain="rep2", nic="eth0", mac=mac(0x821))
        self.assertEqual(self.repairs(), n1 + 1)
        self.assertIn(mac(0x820), [r["mac"] for r in self.rules_of("eth0")])
        self.assertEqual(plan_ops(self.d, "eth0"), [])
        self.d.call("io.zcrx.Manager.Detach", {"domain": "rep"})
        self.d.call("io.zcrx.Manager.Detach", {"domain": "rep2"})

    def test_refresh_only_rereads(self):
        """A caller's refresh re-reads and shows what it found (a rule
        deleted outside), and changes nothing: the drift waits for the
        reconcile (its timer, off here, or zcrxctl reconcile).  Before, the
        reconcile that followed a reader's refresh repaired it."""
        a = self.attach(domain="ro", nic="eth0", mac=mac(0x840))["attachments"][0]
        loc = a["rules"][0]
        self.d.outside("rule-delete eth0 %d" % loc)
        n0 = self.repairs()
        os.chmod(self.d.runtime, 0o755)
        os.chmod(self.d.tmp, 0o755)
        got = zxtest.calls_as_nobody(self.d.socket, [
            ["io.zcrx.Manager.GetNic", {"nic": "eth0", "refresh": True}],
            ["io.zcrx.Manager.ListQueues", {"refresh": True}],
            ["io.zcrx.Manager.GetStatus", {}]])
        nic = got[0]["parameters"]
        self.assertTrue(nic["refreshed"], nic)
        self.assertNotIn(loc, [r["location"] for r in nic["nic"]["rules"]["list"]])
        self.assertIn("refreshed", got[1]["parameters"])  # (another test's may stand in)
        # root's refresh only re-reads as well
        r = self.d.call("io.zcrx.Manager.GetNic", {"nic": "eth0", "refresh": True})
        self.assertTrue(r["refreshed"])
        # a reconcile deferred by the loop has run by the second reply
        self.d.status()
        self.assertEqual(self.repairs(), n0)
        self.assertNotIn(mac(0x840), [x["mac"] for x in self.rules_of("eth0")])
        # the drift is real: the reconcile puts the rule back
        self.d.call("io.zcrx.Manager.Reconcile", {"nic": "eth0"})
        self.assertEqual(self.repairs(), n0 + 1)
        self.assertIn(mac(0x840), [x["mac"] for x in self.rules_of("eth0")])
        self.d.call("io.zcrx.Manager.Detach", {"domain": "ro"})

    def test_plan_reads_the_kernel_now(self):
        """Plan and a dry-run Attach plan against the NIC as the kernel
        shows it now: a rule deleted outside (no notification tells) is
        planned back, and planning changes nothing (a reader's plan
        neither); Reconcile then repairs it.  Before, a dry run planned
        from zcrxd's last reading: "nothing to do"."""
        a = self.attach(domain="pf", nic="eth0", mac=mac(0x850))["attachments"][0]
        loc = a["rules"][0]
        self.assertEqual(plan_ops(self.d, "eth0"), [])
        self.d.outside("rule-delete eth0 %d" % loc)
        n0 = self.repairs()

        def insert_of_pf(ops):
            return [o for o in ops if o["kind"] == "insert-rule" and o.get("mac") == mac(0x850)]
        ops = plan_ops(self.d, "eth0")
        self.assertEqual([o["kind"] for o in ops], ["forget", "insert-rule"], ops)
        self.assertTrue(insert_of_pf(ops) and insert_of_pf(ops)[0].get("repair"), ops)
        r = self.d.call("io.zcrx.Manager.Attach", {"domain": "pf2", "nic": "eth0",
                                                   "mac": mac(0x851), "dry_run": True})
        self.assertTrue(insert_of_pf([o for p in r["plans"] for o in p["ops"]]), r)
        os.chmod(self.d.runtime, 0o755)
        os.chmod(self.d.tmp, 0o755)
        got = zxtest.calls_as_nobody(self.d.socket, [["io.zcrx.Manager.Plan", {"nic": "eth0"}]])
        self.assertTrue(insert_of_pf(got[0]["parameters"]["plans"][0]["ops"]), got)
        # nothing changed: a reconcile deferred by the loop has run by the
        # second reply
        self.d.status()
        self.assertEqual(self.repairs(), n0)
        self.assertNotIn(mac(0x850), [x["mac"] for x in self.rules_of("eth0")])
        self.assertNotIn("pf2", [x["domain"] for x in
                                 self.d.call("io.zcrx.Manager.ListAttachments")["attachments"]])
        self.d.call("io.zcrx.Manager.Reconcile", {"nic": "eth0"})
        self.assertEqual(self.repairs(), n0 + 1)
        self.assertIn(mac(0x850), [x["mac"] for x in self.rules_of("eth0")])
        self.assertEqual(plan_ops(self.d, "eth0"), [])
        self.d.call("io.zcrx.Manager.Detach", {"domain": "pf"})

    def nic_calls(self):
        calls = self.d.call("io.zcrx.Manager.GetStatus")["kernel_calls"]
        return [c for c in calls if c["backend"] == "nic"][0]["calls"]

    def test_plans_of_readers_are_rate_limited(self):
        """A reader's Plan reads the NIC again at most once a second (every
        read is an observe call through the bounded backend); root's
        every time."""
        self.attach(domain="prl", nic="eth0", mac=mac(0x860))
        os.chmod(self.d.runtime, 0o755)
        os.chmod(self.d.tmp, 0o755)
        c0 = self.nic_calls()
        t0 = time.monotonic()
        got = zxtest.calls_as_nobody(self.d.socket, [["io.zcrx.Manager.Plan",
                                                      {"nic": "eth0"}]] * 20)
        elapsed = time.monotonic() - t0
        self.assertEqual(len([g for g in got if "plans" in g["parameters"]]), 20, got)
        c1 = self.nic_calls()
        self.assertLessEqual(c1 - c0, 1 + int(elapsed), (c0, c1, elapsed))
        for _ in range(3):
            plan_ops(self.d, "eth0")
        self.assertGreaterEqual(self.nic_calls() - c1, 3)
        self.d.call("io.zcrx.Manager.Detach", {"domain": "prl"})

    def test_refresh_of_readers_is_rate_limited(self):
        """Callers that are neither root nor admins re-read a NIC at most
        once a second and every NIC at most once in 5 seconds; the reply
        says whether this one did."""
        os.chmod(self.d.runtime, 0o755)
        os.chmod(self.d.tmp, 0o755)
        calls = [["io.zcrx.Manager.GetNic", {"nic": "eth2", "refresh": True}]] * 20 + \
            [["io.zcrx.Manager.ListQueues", {"refresh": True}]] * 2
        t0 = time.monotonic()
        got = zxtest.calls_as_nobody(self.d.socket, calls)
        elapsed = time.monotonic() - t0
        reread = [g["parameters"]["refreshed"] for g in got[:20]]
        self.assertTrue(reread[0])
        self.assertLessEqual(sum(reread), 1 + int(elapsed), reread)
        if elapsed < 5:
            self.assertEqual(got[21]["parameters"]["refreshed"], False, got[21])
        # root is not held back
        for _ in range(3):
            self.assertTrue(self.d.call("io.zcrx.Manager.GetNic",
                                        {"nic": "eth2", "refresh": True})["refreshed"])

    def test_dry_runs_leave_the_listing_alone(self):
        """Plan and rebalance --dry-run show what would change; the
        attachments keep showing what is."""
        self.attach(domain="rb1", nic="eth0", mac=mac(0x830))
        self.attach(domain="rb2", nic="eth0", mac=mac(0x831))
        self.d.call("io.zcrx.Manager.Detach", {"domain": "rb1"})
        before = self.d.call("io.zcrx.Manager.ListAttachments", {"domain": "rb2"})
        r = self.d.call("io.zcrx.Manager.Rebalance", {"nic": "eth0", "dry_run": True})
        moved = [o for o in r["plans"][0]["ops"] if o["kind"] == "lease"]
        self.assertEqual(len(moved), 1, r)  # compaction would move rb2
        self.assertNotEqual([moved[0]["queue"]], before["attachments"][0]["queues"])
        self.assertEqual(self.d.call("io.zcrx.Manager.ListAttachments", {"domain": "rb2"}),
                         before)
        self.d.call("io.zcrx.Manager.Plan", {"nic": "eth0"})
        self.assertEqual(self.d.call("io.zcrx.Manager.ListAttachments", {"domain": "rb2"}),
                         before)
        self.d.call("io.zcrx.Manager.Detach", {"domain": "rb2"})

    def reconcile_runs(self):
        # twice: a reconcile the loop deferred has run by the second reply
        self.d.call("io.zcrx.Manager.GetMetrics")
        text = self.d.call("io.zcrx.Manager.GetMetrics")["text"]
        return int(re.search(r"^zcrx_reconcile_runs_total (\d+)$", text, re.M).group(1))

    def test_one_reconcile_per_request(self):
        """A request reconciles its NIC once: zcrxd's own read-back after
        applying does not make the loop reconcile the NIC again."""
        n0 = self.reconcile_runs()
        self.attach(domain="once", nic="eth0", mac=mac(0x810), queues=2)
        n1 = self.reconcile_runs()
        self.assertEqual(n1 - n0, 1)
        self.attach(domain="once", nic="eth0", mac=mac(0x810), queues=2, dry_run=True)
        self.assertEqual(self.reconcile_runs(), n1)  # a dry run is no reconcile
        self.d.call("io.zcrx.Manager.Detach", {"domain": "once"})
        self.assertEqual(self.reconcile_runs() - n1, 1)

    def metric(self, name):
        self.d.call("io.zcrx.Manager.GetMetrics")
        text = self.d.call("io.zcrx.Manager.GetMetrics")["text"]
        return int(re.search(r"^%s (\d+)$" % name, text, re.M).group(1))

    def test_compactions_are_counted_and_timed(self):
        """The state log's compactions: counted (the one at start at
        least), and the longest timed, for it holds the loop."""
        text = self.d.call("io.zcrx.Manager.GetMetrics")["text"]
        self.assertGreaterEqual(self.metric("zcrx_state_compactions_total"), 1)
        longest = float(re.search(r"^zcrx_state_compaction_seconds_max (\S+)$", text,
                                  re.M).group(1))
        self.assertGreater(longest, 0.0)
        self.assertLess(longest, 60.0)

    def test_batch_shares_one_intent_sync(self):
        """An Attach alone: one sync for its plan's intent, one for the
        commit its reply waits for.  Attach requests of one loop turn on
        two NICs: one run each, one sync for both plans' intents and one
        commit, not one intent sync per NIC; one write for the intents and
        one for what both runs did, not one more per NIC applied.  (zcrxd
        is stopped while they are sent, so that it reads both in the same
        turn.)"""
        r0, s0 = self.reconcile_runs(), self.metric("zcrx_state_syncs_total")
        self.attach(domain="sync0", nic="eth0", mac=mac(0x820))
        r1, s1 = self.reconcile_runs(), self.metric("zcrx_state_syncs_total")
        w1 = self.metric("zcrx_state_writes_total")
        self.assertEqual((r1 - r0, s1 - s0), (1, 2))
        conns = []
        os.kill(self.d.proc.pid, signal.SIGSTOP)
        try:
            for k, nic in ((1, "eth0"), (2, "eth3")):
                conns.append(self.d.client())
                conns[-1].send("io.zcrx.Manager.Attach",
                               {"domain": "sync%d" % k, "nic": nic, "mac": mac(0x820 + k)})
        finally:
            os.kill(self.d.proc.pid, signal.SIGCONT)
        try:
            replies = [c.recv() for c in conns]
        finally:
            for c in conns:
                c.close()
        for r in replies:
            self.assertNotIn("error", r, r)
        r2, s2 = self.reconcile_runs(), self.metric("zcrx_state_syncs_total")
        self.assertEqual((r2 - r1, s2 - s1), (2, 2))
        # two writes: the intents, then what both NICs' runs did (not one
        # more per NIC as its plan is applied)
        self.assertEqual(self.metric("zcrx_state_writes_total") - w1, 2)
        listed = {a["domain"]: a["nic"]
                  for a in self.d.call("io.zcrx.Manager.ListAttachments")["attachments"]}
        self.assertEqual((listed.get("sync1"), listed.get("sync2")), ("eth0", "eth3"))
        self.assertEqual(orphans(self.d.fake(), state_json(self.d.state)), [])
        self.assertEqual(plan_ops(self.d), [])
        for k in range(3):
            self.d.call("io.zcrx.Manager.Detach", {"domain": "sync%d" % k})

    def test_status_counts(self):
        self.attach(domain="count", nic="eth0", mac=mac(0x800))
        self.assertGreaterEqual(self.d.status()["attachments"], 1)
        self.d.call("io.zcrx.Manager.Detach", {"domain": "count"})

    # --- authorization --------------------------------------------------------------

    def as_nobody(self, *args):
        os.chmod(self.d.runtime, 0o755)
        os.chmod(self.d.tmp, 0o755)
        return zxtest.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                           zxtest.ZCRXCTL, "--socket", self.d.socket] + list(args), check=False)

    def test_non_admin_can_read_not_change(self):
        self.assertEqual(os.stat(self.d.socket).st_gid, grp.getgrnam("nogroup").gr_gid)
        self.attach(domain="auth", nic="eth0", mac=mac(0x900))
        p = self.as_nobody("--json", "list")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("auth", [a["domain"] for a in json.loads(p.stdout)["attachments"]])
        p = self.as_nobody("plan")
        self.assertEqual(p.returncode, 0, p.stderr)
        refused = [
            ("attach", "a2", "eth0", "--mac", mac(0x901)),
            ("attach", "a2", "eth0", "--mac", mac(0x901), "--dry-run"),
            ("detach", "auth"),
            ("rebalance",),
            ("reconcile",),
            ("release", "eth0"),
        ]
        before = self.d.fake()
        for args in refused:
            p = self.as_nobody(*args)
            self.assertEqual(p.returncode, 1, (args, p.stdout, p.stderr))
            self.assertIn("permission denied", p.stderr, args)
        self.assertEqual(self.d.fake(), before)
        # and on the wire: the Varlink error name
        os.chmod(self.d.tmp, 0o755)
        code = ("import sys, json; sys.path.insert(0, %r); import zxtest\n"
                "c = zxtest.VarlinkClient(%r)\n"
                "for m in ['Attach', 'Detach', 'Rebalance', 'Reconcile', 'Release']:\n"
                "    c.send('io.zcrx.Manager.' + m, {'domain': 'x', 'nic': 'eth0'})\n"
                "    print(c.recv().get('error'))\n"
                "c.send('io.zcrx.Manager.ListAttachments', {})\n"
                "print('ok' if 'attachments' in c.recv()['parameters'] else 'bad')\n"
                % (os.path.dirname(zxtest.__file__), self.d.socket))
        p = zxtest.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "python3", "-c", code], check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.split()
        self.assertEqual(lines[:5], ["io.zcrx.Manager.PermissionDenied"] * 5)
        self.assertEqual(lines[5], "ok")
        self.d.call("io.zcrx.Manager.Detach", {"domain": "auth"})


if __name__ == "__main__":
    zxtest.main()
