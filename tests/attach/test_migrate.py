#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""State migration: a state directory of the previous release (schema 1:
state.json alone, tests/fixtures/state/schema1-state.json) and the fake
NIC's "kernel" as that release left it (schema1-fake.json), both made with
that release's zcrxd-fake.  This zcrxd-fake starts on them and must:
  - keep every attachment, with the same queues, rules and steering as the
    old release listed (schema1-list.json);
  - own exactly what the old journal owned: nothing orphaned, nothing to do;
  - have written schema 2 (a snapshot and its log);
  - go on working: detaching everything removes every rule it owned.
"""
import json
import os
import shutil
import tempfile
import unittest

from attachlib import FakeDaemon, orphans, plan_ops, state_json, zxtest

HERE = os.path.dirname(os.path.abspath(__file__))
FIX = os.path.join(HERE, "..", "fixtures", "state")

# the configuration the fixture was made with
CONF = """
[daemon]
ReconcileIntervalSec=0

[nic eth0]
ReserveQueues=6

[nic eth1]
ReserveQueues=3
Channels=10
"""

KEYS = ("domain", "uuid", "nic", "mac", "queues", "rules", "steering", "state")


@zxtest.require_root
class Migrate(unittest.TestCase):
    def setUp(self):
        self.ns = zxtest.Netns("zxp").__enter__()
        self.work = tempfile.mkdtemp(prefix="zxp-migrate-")
        os.makedirs(os.path.join(self.work, "state"))
        shutil.copy(os.path.join(FIX, "schema1-state.json"),
                    os.path.join(self.work, "state", "state.json"))
        shutil.copy(os.path.join(FIX, "schema1-fake.json"), os.path.join(self.work, "fake.json"))

    def tearDown(self):
        self.ns.delete()
        shutil.rmtree(self.work, ignore_errors=True)

    def test_schema1_migrated_without_losing_ownership(self):
        with open(os.path.join(FIX, "schema1-state.json")) as f:
            old = json.load(f)
        self.assertEqual(old["schema"], 1)
        with open(os.path.join(FIX, "schema1-list.json")) as f:
            before = {a["mac"]: a for a in json.load(f)["attachments"]}
        d = FakeDaemon(self.ns, CONF, self.work)
        try:
            self.assertIn("schema 1 migrated to schema 2", d.log())
            with open(os.path.join(d.state, "state.json")) as f:
                self.assertEqual(json.load(f)["schema"], 2)
            self.assertTrue(os.path.exists(os.path.join(d.state, "state.log")))
            st = state_json(d.state)
            # every owned object of the old journal is still owned
            for n in old["nics"]:
                m = [x for x in st["nics"] if x["name"] == n["name"]][0]
                for k in ("leases", "rules", "contexts"):
                    self.assertEqual(len(m[k]), len(n[k]), (n["name"], k))
                for k in ("channels_prior", "ntuple_prior", "rss0_prior"):
                    self.assertEqual(m.get(k), n.get(k), (n["name"], k))
            self.assertEqual(orphans(d.fake(), st), [])
            self.assertEqual(plan_ops(d), [])
            after = {a["mac"]: a for a in
                     d.call("io.zcrx.Manager.ListAttachments")["attachments"]}
            self.assertEqual(sorted(after), sorted(before))
            for mac, a in before.items():
                for k in KEYS:
                    self.assertEqual(after[mac].get(k), a.get(k), (mac, k))
            # and it goes on working: detaching removes what it owned
            for a in before.values():
                d.call("io.zcrx.Manager.Detach", {"domain": a["domain"]})
            fake = d.fake()
            self.assertEqual([r for n in fake["nics"] for r in n["rules"]], [])
            self.assertEqual(orphans(fake, state_json(d.state)), [])
        finally:
            d.cleanup()


if __name__ == "__main__":
    zxtest.main()
