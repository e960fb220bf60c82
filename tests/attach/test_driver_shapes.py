#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Attachments on fake NICs shaped like the kernels and drivers where
issue 9 found its bugs, end to end on zcrxd-fake (TEST ONLY: the daemon's
own code over the fake NIC backend):

- a kernel that cannot list RSS contexts (no RSS netlink dump, before
  6.12: only context 0 is read, the others by id): a 2-queue attach makes
  one context and keeps it, with no forget/re-create loop and no leak, and
  detach removes it;
- a driver that takes MAC rules to a queue but refuses them to an RSS
  context (bnxt: no FLOW_RSS with ETHER_FLOW): the refusal is learned for
  that kind only, 1-queue vNICs still get MAC rules, and the capability
  matrix says what was learned;
- drivers that contradict themselves (a context made reads back as gone, a
  rule accepted is never listed): no loop, nothing leaked, and the reply
  says the vNIC is not steered as asked.
"""

from attachlib import FakeDaemonCase, mac, orphans, plan_ops, state_json, zxtest

CONF = """
[daemon]
ReconcileIntervalSec=0

[nic eth0]
ReserveQueues=4

[nic eth1]
ReserveQueues=4

[nic eth2]
ReserveQueues=4

[nic eth3]
ReserveQueues=4
"""

NICS = ("eth0:capable,ctxdump=0", "eth1:capable,l2ctx=0",
        "eth2:capable,ctxdump=0,ctxget=0", "eth3:capable,vanish=1")


@zxtest.require_root
class DriverShapes(FakeDaemonCase):
    CONF = CONF
    NICS = NICS
    WORK = "zxp-shapes-"

    def nic(self, name):
        return self.d.fake_nic(name)

    def attach(self, **p):
        return self.d.call("io.zcrx.Manager.Attach", p)

    def kernel_errors(self, nic):
        return self.d.call("io.zcrx.Manager.Reconcile", {"nic": nic})["kernel_errors"]


    def test_contexts_not_listed_no_loop_no_leak(self):
        before = self.nic("eth0")
        self.assertEqual(before["contexts"], [])
        r = self.attach(domain="ctx", nic="eth0", mac=mac(0x900), queues=2)
        a = r["attachments"][0]
        self.assertEqual(len(a["queues"]), 2, a)
        self.assertIn("rss_context", a)
        self.assertEqual(len(a["rules"]), 1, a)
        self.assertEqual(a["steering"], "mac")
        codes = [x["code"] for x in a["reasons"]]
        self.assertNotIn("unsteered", codes)
        self.assertNotIn("kernel-error", codes)
        # one context made, once: no forget, no re-create, inside the call
        kinds = [o["kind"] for p in r["plans"] for o in p["ops"]]
        self.assertEqual(kinds.count("create-context"), 1, kinds)
        self.assertNotIn("forget", kinds)
        self.assertEqual(len(self.nic("eth0")["contexts"]), 1)
        # and on every pass after it
        for _ in range(3):
            self.assertEqual(plan_ops(self.d, "eth0"), [])
            self.d.call("io.zcrx.Manager.Reconcile", {"nic": "eth0"})
        self.assertEqual(len(self.nic("eth0")["contexts"]), 1)
        self.assertEqual(orphans(self.d.fake(), state_json(self.d.state)), [])
        self.assertNotIn("drift: forget context", self.d.log())
        # the matrix says the kernel cannot list contexts; the owned one
        # was read by id
        rss = self.d.call("io.zcrx.Manager.GetNic", {"nic": "eth0"})["nic"]["rss"]
        self.assertFalse(rss["contexts_listed"])
        self.assertEqual([c["context"] for c in rss["contexts"]], [a["rss_context"]])
        # deleted outside (rule first: it pins the context): a read by id
        # says so, and it is made again once
        self.d.outside("rule-delete eth0 %d" % a["rules"][0],
                     "context-delete eth0 %d" % a["rss_context"])
        r = self.d.call("io.zcrx.Manager.Reconcile", {"nic": "eth0"})
        kinds = [o["kind"] for p in r["plans"] for o in p["ops"]]
        self.assertEqual(kinds.count("create-context"), 1, kinds)
        self.assertIn("drift: forget context %d (RSS context %d was deleted outside zcrxd)" %
                      (a["rss_context"], a["rss_context"]), self.d.log())
        self.assertEqual(len(self.nic("eth0")["contexts"]), 1)
        self.assertEqual(plan_ops(self.d, "eth0"), [])
        # detach removes what was made
        self.d.call("io.zcrx.Manager.Detach", {"domain": "ctx"})
        self.assertEqual(self.nic("eth0")["contexts"], [])
        self.assertEqual(self.nic("eth0")["rules"], [])
        self.assertEqual(orphans(self.d.fake(), state_json(self.d.state)), [])

    def test_rule_kinds_learned_apart(self):
        errors0 = self.kernel_errors("eth1")
        r = self.attach(domain="bnxt2", nic="eth1", mac=mac(0x910), queues=2)
        a = r["attachments"][0]
        self.assertEqual(a["steering"], "mac", a)
        self.assertEqual(len(a["queues"]), 1, a)
        self.assertEqual(len(a["rules"]), 1, a)
        why = [x for x in a["reasons"] if x["code"] == "no-rss-context"]
        self.assertEqual(len(why), 1, a["reasons"])
        self.assertIn("2 queues requested, using 1", why[0]["message"])
        self.assertIn("mac: Operation not supported", why[0]["message"])
        # one refusal, learned: tried once, not again
        self.assertEqual(self.kernel_errors("eth1"), errors0 + 1)
        # issue 9, bug 6: the log says what was refused, with the step
        # number whole, the NIC once, and the errno's text (no extack)
        log = self.d.log()
        self.assertRegex(log, r"<warning> exec: eth1: insert rule ether dst %s -> the context "
                         r"of step \d+: Operation not supported \(EOPNOTSUPP\); rolled back \d+ "
                         r"ops\n" % mac(0x910))
        self.assertRegex(log, r"<info> manager: eth1: learned: insert rule ether dst %s -> the "
                         r"context of step \d+: Operation not supported \(EOPNOTSUPP\); planning "
                         r"again\n" % mac(0x910))
        self.assertNotIn("eth1: eth1:", log)
        self.assertNotIn("learned: ;", log)
        # a 1-queue vNIC still gets its MAC rule
        r = self.attach(domain="bnxt1", nic="eth1", mac=mac(0x911))
        b = r["attachments"][0]
        self.assertEqual(b["steering"], "mac", b)
        self.assertEqual(len(b["rules"]), 1, b)
        self.assertNotIn("unsteered", [x["code"] for x in b["reasons"]])
        self.assertIn(mac(0x911), [x["mac"] for x in self.nic("eth1")["rules"]])
        self.assertEqual(self.nic("eth1")["contexts"], [])
        # the matrix: what each kind taught, with the kernel's text
        caps = self.d.call("io.zcrx.Manager.GetNic", {"nic": "eth1"})["nic"]["capabilities"]
        kinds = caps["rule_kinds"]
        self.assertEqual(kinds["ether-context"]["state"], "no")
        self.assertEqual(kinds["ether-context"]["error"], "EOPNOTSUPP")
        self.assertEqual(kinds["ether-context"]["message"], "Operation not supported")
        self.assertEqual(kinds["ether-queue"]["state"], "yes")
        self.assertEqual(kinds["ip4-context"]["state"], "unknown")
        self.assertEqual(caps["l2_rules"]["state"], "yes")
        p = self.d.ctl("nics", "eth1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"ether-context\s+no\s+Operation not supported")
        self.assertRegex(p.stdout, r"ether-queue\s+yes")
        self.assertEqual(plan_ops(self.d, "eth1"), [])
        self.d.call("io.zcrx.Manager.Detach", {"domain": "bnxt2"})
        self.d.call("io.zcrx.Manager.Detach", {"domain": "bnxt1"})
        self.assertEqual(self.nic("eth1")["rules"], [])

    def test_context_made_then_read_as_gone(self):
        r = self.attach(domain="gone", nic="eth2", mac=mac(0x920), queues=2)
        a = r["attachments"][0]
        self.assertEqual(len(a["queues"]), 1, a)
        self.assertEqual(a["steering"], "mac", a)
        self.assertEqual(len(a["rules"]), 1, a)
        why = [x for x in a["reasons"] if x["code"] == "no-rss-context"]
        self.assertEqual(len(why), 1, a["reasons"])
        self.assertIn("reads back as gone", why[0]["message"])
        kinds = [o["kind"] for p in r["plans"] for o in p["ops"]]
        self.assertEqual(kinds.count("create-context"), 1, kinds)
        self.assertEqual(kinds.count("delete-context"), 1, kinds)  # made, then removed
        self.assertEqual(self.nic("eth2")["contexts"], [])
        self.assertEqual(plan_ops(self.d, "eth2"), [])
        self.assertIn("learned: RSS context 1, made by zcrxd, reads back as gone", self.d.log())
        self.d.call("io.zcrx.Manager.Detach", {"domain": "gone"})
        self.assertEqual(self.nic("eth2")["rules"], [])

    def test_changes_that_do_not_settle_say_so(self):
        r = self.attach(domain="vanish", nic="eth3", mac=mac(0x930))
        a = r["attachments"][0]
        self.assertEqual(a["state"], "degraded", a)
        why = [x for x in a["reasons"] if x["code"] == "unsteered"]
        self.assertEqual(len(why), 1, a["reasons"])
        self.assertRegex(why[0]["message"],
                         r"steering not in place: 'insert rule ether dst %s -> queue \d+' is "
                         r"still planned after 6 rounds of changes" % mac(0x930))
        self.assertIn("eth3: changes did not settle in 6 rounds", self.d.log())
        self.d.call("io.zcrx.Manager.Detach", {"domain": "vanish"})


if __name__ == "__main__":
    zxtest.main()
