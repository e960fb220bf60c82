#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The state's commit sync runs off the loop (docs/state.md, "Group
commit"): while its fdatasync is under way the loop answers other
requests, and a reply that waits for the commit is sent only once the
fdatasync that covers its change returned.

The slow disk is zcrxd-fake's (TEST ONLY) "hang fdatasync" outside change:
the next fdatasync made off the loop thread blocks until "release", and
the log says "holding fdatasync" once it does.  Without the syncer thread
no fdatasync runs off the loop: the Attach reply comes first and the test
fails.

While it is held, GetStatus shows it under way with the replies that wait
for it (commit_sync), GetMetrics its age, and once it has run longer than
its bound (the kernel calls' bound, shortened here with zcrxd-fake's
--kernel-call-bound-ms) zcrxd logs one warning; when it returns, how long
it took.  Without the watch none of these appear and the test fails.
"""
import select

from attachlib import FakeDaemonCase, mac, orphans, plan_ops, state_json, zxtest

CONF = """
[daemon]
ReconcileIntervalSec=0

[nic eth0]
ReserveQueues=4
"""

HELD = "holding fdatasync off the loop thread"
BOUND_MS = 1000
OVERDUE = "the state's commit sync (fdatasync of state.log) has not returned for"
RETURNED = "the state's commit sync (fdatasync of state.log) returned after"


def readable(client):
    """A reply (or part of one) is there to read, now."""
    return bool(client.buf) or bool(select.select([client.sock], [], [], 0)[0])


@zxtest.require_root
class CommitSync(FakeDaemonCase):
    CONF = CONF
    NETNS = "zxs"
    WORK = "zxs-commit-"
    DAEMON_KW = dict(extra_args=["--kernel-call-bound-ms", str(BOUND_MS)])

    def metric(self, name):
        text = self.d.call("io.zcrx.Manager.GetMetrics")["text"]
        for line in text.splitlines():
            if line.startswith(name + " "):
                return int(line.split()[1])
        raise AssertionError("no %s in GetMetrics" % name)

    def metric_value(self, name):
        text = self.d.call("io.zcrx.Manager.GetMetrics")["text"]
        for line in text.splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
        raise AssertionError("no %s in GetMetrics" % name)

    def ctl_status(self):
        p = zxtest.run([zxtest.ZCRXCTL, "--socket", self.d.socket, "status"], check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        return [x for x in p.stdout.splitlines() if "Commit sync:" in x]

    def commit_sync(self):
        return self.d.call("io.zcrx.Manager.GetStatus").get("commit_sync")

    def attach_msg(self, dom, k):
        return {"domain": dom, "nic": "eth0", "mac": mac(k)}

    def test_a_slow_compaction_is_shown(self):
        """A compaction writes and syncs the state's snapshot on the loop.
        With zcrxd-fake's (TEST ONLY) slow fsync on the loop thread, 150 ms
        each, the compaction that enough changes bring holds the loop for
        three of them (the snapshot, its directory, the new log's
        directory): it is logged, and GetMetrics' longest compaction is
        that long.  Without the timing neither appears and the test
        fails."""
        c0 = self.metric("zcrx_state_compactions_total")
        self.d.outside("slow-fsync 150")
        try:
            k = 0
            while self.metric("zcrx_state_compactions_total") == c0:
                self.assertLess(k, 20000, "no compaction after %d attach+detach" % k)
                for _ in range(100):
                    self.d.call("io.zcrx.Manager.Attach", self.attach_msg("cc%d" % k, 0x100 + k % 64))
                    self.d.call("io.zcrx.Manager.Detach", {"domain": "cc%d" % k})
                    k += 1
        finally:
            self.d.outside("slow-fsync 0")
        self.assertGreaterEqual(self.metric_value("zcrx_state_compaction_seconds_max"), 0.45)
        self.assertIn("compacting the state log held the loop", self.d.log())

    def test_commit_sync_off_the_loop(self):
        s0 = self.metric("zcrx_state_syncs_total")
        self.d.outside("hang fdatasync")
        c1, c2 = self.d.client(), self.d.client()
        try:
            c1.send("io.zcrx.Manager.Attach", self.attach_msg("cs1", 0x901))
            # the commit's fdatasync is held, or the reply came without it
            zxtest.wait_for(lambda: HELD in self.d.log() or readable(c1), 20,
                            what="the commit sync to be held (or the Attach reply)")
            self.assertFalse(readable(c1), "the Attach reply came before its commit sync ran "
                             "off the loop")
            self.assertIn(HELD, self.d.log())

            # the sync under way shows, with the Attach reply waiting on it
            cs = self.commit_sync()
            self.assertIsNotNone(cs, "GetStatus shows no commit sync while one is held")
            self.assertEqual(cs["waiting"], 1, cs)
            self.assertEqual(cs["bound_ms"], BOUND_MS, cs)
            self.assertGreaterEqual(cs["for_ms"], 0, cs)
            self.assertEqual(self.metric("zcrx_state_sync_waiting_replies"), 1)
            # past its bound: one warning naming how long and who waits
            zxtest.wait_for(lambda: OVERDUE in self.d.log(), 30,
                            what="the warning that the commit sync overran its bound")
            line = [x for x in self.d.log().splitlines() if OVERDUE in x]
            self.assertEqual(len(line), 1, line)
            self.assertIn("(bound %d ms); 1 reply waits for it" % BOUND_MS, line[0])
            self.assertGreaterEqual(self.commit_sync()["for_ms"], BOUND_MS)
            self.assertGreaterEqual(self.metric_value("zcrx_state_sync_seconds"),
                                    BOUND_MS / 1000)
            self.assertNotIn(RETURNED, self.d.log())
            shown = self.ctl_status()
            self.assertEqual(len(shown), 1, shown)
            self.assertRegex(shown[0], r"SLOW: under way for \d+ ms \(bound %d ms\), "
                             r"1 reply waiting" % BOUND_MS)

            # the loop answers meanwhile; the reply still waits
            info = self.d.call("org.varlink.service.GetInfo")
            self.assertIn("io.zcrx.Manager", info["interfaces"])
            # the intent's sync (on the loop) counted; the held one not yet
            self.assertEqual(self.metric("zcrx_state_syncs_total"), s0 + 1)
            self.assertFalse(readable(c1), "replied before its change was durable")

            # a second Attach: its intent's fdatasync, on the loop, makes
            # cs1's change durable too, so cs1's reply goes out; cs2's own
            # commit waits until the held one returned
            c2.send("io.zcrx.Manager.Attach", self.attach_msg("cs2", 0x902))
            r1 = c1.recv()
            self.assertNotIn("error", r1, r1)
            self.assertEqual(self.d.call("org.varlink.service.GetInfo")["vendor"],
                             info["vendor"])
            self.assertFalse(readable(c2), "cs2 replied before its commit")
            # cs1's reply went out with the loop's sync; cs2's waits for
            # the next commit, which starts when the held one returned
            self.assertEqual(self.commit_sync()["waiting"], 1)
            self.assertEqual(self.metric("zcrx_state_syncs_total"), s0 + 2)

            # the disk returns: the held sync ends, then cs2's commit
            self.d.outside("release")
            r2 = c2.recv()
            self.assertNotIn("error", r2, r2)
        finally:
            c1.close()
            c2.close()
        self.assertEqual(self.metric("zcrx_state_syncs_total"), s0 + 4)
        # none under way any more; the overdue one said how long it took
        self.assertIsNone(self.commit_sync())
        self.assertEqual(self.metric("zcrx_state_sync_waiting_replies"), 0)
        self.assertEqual(self.metric_value("zcrx_state_sync_seconds"), 0)
        self.assertEqual(self.d.log().count(OVERDUE), 1)
        self.assertEqual(self.d.log().count(RETURNED), 1)
        self.assertEqual(self.ctl_status(), [])
        self.assertNotIn("fdatasync:", self.d.log())
        listed = {a["domain"] for a in self.d.call("io.zcrx.Manager.ListAttachments")
                  ["attachments"]}
        self.assertEqual(listed, {"cs1", "cs2"})
        # what the replies told of is in the state directory
        owners = {r["owner"] for n in state_json(self.d.state)["nics"] for r in n["rules"]}
        self.assertTrue({mac(0x901), mac(0x902)} <= owners, owners)
        for dom in ("cs1", "cs2"):
            self.d.call("io.zcrx.Manager.Detach", {"domain": dom})
        self.assertEqual(orphans(self.d.fake(), state_json(self.d.state)), [])
        self.assertEqual(plan_ops(self.d), [])


if __name__ == "__main__":
    zxtest.main()
