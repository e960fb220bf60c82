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
import json
import os
import select
import signal

from attachlib import FakeDaemon, FakeDaemonCase, mac, orphans, plan_ops, state_json, zxtest

CONF = """
[daemon]
ReconcileIntervalSec=0

[nic eth0]
ReserveQueues=4
"""

HELD = "holding fdatasync off the loop thread"
HELD_FSYNC = "holding fsync off the loop thread"
BOUND_MS = 1000
OVERDUE = "the state's commit sync (fdatasync of state.log) has not returned for"
OVERDUE_COMPACTION = "the state's compaction (state.json and a new state.log written and " \
    "synced) has not returned for"
INTENT_TIMEOUT = "fdatasync of state.log did not return within %d ms; nothing was changed " \
    "on the NIC" % BOUND_MS
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

    def ctl_status(self, label="Commit sync:"):
        """zcrxctl status's line with label, and the lines under it."""
        p = zxtest.run([zxtest.ZCRXCTL, "--socket", self.d.socket, "status"], check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        lines, out = p.stdout.splitlines(), []
        for i, x in enumerate(lines):
            if x.startswith(label):
                out.append(x)
                out += [y for y in lines[i + 1:] if y.startswith(" ")][:1]
        return out

    def commit_sync(self):
        return self.d.call("io.zcrx.Manager.GetStatus").get("commit_sync")

    def attach_msg(self, dom, k):
        return {"domain": dom, "nic": "eth0", "mac": mac(k)}

    def count(self, text):
        return self.d.log().count(text)

    def wait_reply_or(self, client, text, n0, what):
        """Wait until client has a reply to read or text was logged once
        more than n0 times; True when the reply came first."""
        zxtest.wait_for(lambda: readable(client) or self.count(text) > n0, 20, what=what)
        return readable(client)

    def restart(self):
        """A new daemon on the same state directory; the old one's own
        directory removed (and its sanitizer report, if any, raised)."""
        self.d.cleanup()
        type(self).d = FakeDaemon(self.ns, self.CONF, self.work, nics=self.NICS,
                                  **self.DAEMON_KW)

    def kernel_calls(self, backend):
        st = self.d.call("io.zcrx.Manager.GetStatus")
        self.assertEqual(st["state_calls"]["backend"], "state")
        return st["state_calls"]

    def hold_a_compaction(self, c, n0, c0):
        """Attach and detach on client c until a change makes the log's
        compaction due: its commit is the compaction, held by an armed
        "hang fsync".  Returns the domain whose request waits for it, and
        whether that request was its Attach (else its Detach)."""
        k = 0
        while True:
            self.assertLess(k, 20000, "no compaction after %d attach+detach" % k)
            if k % 50 == 49:
                self.assertEqual(self.metric("zcrx_state_compactions_total"), c0,
                                 "a compaction ran, and no fsync of it was held off "
                                 "the loop thread")
            dom = "cc%d" % k
            c.send("io.zcrx.Manager.Attach", self.attach_msg(dom, 0x100 + k % 64))
            if not self.wait_reply_or(c, HELD_FSYNC, n0, "the Attach reply"):
                return dom, True
            r = c.recv()
            self.assertNotIn("error", r, r)
            c.send("io.zcrx.Manager.Detach", {"domain": dom})
            if not self.wait_reply_or(c, HELD_FSYNC, n0, "the Detach reply"):
                return dom, False
            r = c.recv()
            self.assertNotIn("error", r, r)
            k += 1

    def test_a_compaction_off_the_loop(self):
        """A compaction's file work runs on the syncer: with its first fsync
        held (zcrxd-fake's "hang fsync", a disk that does not answer), the
        loop answers other requests and shows the compaction under way; the
        reply of the change that made it due waits for it (the snapshot
        holds that change), a Detach made meanwhile waits for it and for
        its own commit (nothing is appended while it runs).  Everything
        acknowledged is there after a restart.  With the compaction on the
        loop, the loop would not answer while it is held and the test
        fails."""
        c0 = self.metric("zcrx_state_compactions_total")
        self.d.call("io.zcrx.Manager.Attach", self.attach_msg("keep1", 0x701))
        self.d.call("io.zcrx.Manager.Attach", self.attach_msg("keep2", 0x702))
        n0 = self.count(HELD_FSYNC)
        self.d.outside("hang fsync")
        c, c2 = self.d.client(), self.d.client()
        expect = {"keep1"}
        try:
            trigger, attached = self.hold_a_compaction(c, n0, c0)
            if attached:
                expect.add(trigger)
            self.assertEqual(self.metric("zcrx_state_compactions_total"), c0)

            # the loop serves: the compaction shows, the change's reply waits
            cs = self.commit_sync()
            self.assertIsNotNone(cs, "GetStatus shows no compaction while one is held")
            self.assertTrue(cs["compaction"], cs)
            self.assertEqual(cs["waiting"], 1, cs)
            shown = self.ctl_status()
            self.assertTrue(shown and "compaction of the log under way" in shown[0], shown)
            self.assertIn("io.zcrx.Manager",
                          self.d.call("org.varlink.service.GetInfo")["interfaces"])
            self.assertFalse(readable(c), "replied before the compaction that holds its change")

            # a Detach meanwhile: written nowhere yet, it waits too
            c2.send("io.zcrx.Manager.Detach", {"domain": "keep2"})
            zxtest.wait_for(lambda: self.commit_sync()["waiting"] == 2, 20,
                            what="the Detach to wait for the compaction")
            self.assertFalse(readable(c2), "the Detach replied before its change was durable")
            # past the syncer's bound: one warning naming the compaction
            zxtest.wait_for(lambda: OVERDUE_COMPACTION in self.d.log(), 30,
                            what="the warning that the compaction overran its bound")
            self.assertFalse(readable(c) or readable(c2))
            self.assertEqual(self.metric("zcrx_state_compactions_total"), c0)

            self.d.outside("release")
            for cl in (c, c2):
                r = cl.recv()
                self.assertNotIn("error", r, r)
        finally:
            c.close()
            c2.close()
        self.assertEqual(self.metric("zcrx_state_compactions_total"), c0 + 1)
        # timed off the loop: it took as long as it was held
        self.assertGreaterEqual(self.metric_value("zcrx_state_compaction_seconds_max"),
                                BOUND_MS / 1000)
        self.assertIn("compacting the state log took", self.d.log())
        self.assertIn("zcrxd served meanwhile", self.d.log())
        self.assertIsNone(self.commit_sync())
        listed = {a["domain"] for a in self.d.call("io.zcrx.Manager.ListAttachments")
                  ["attachments"]}
        self.assertEqual(listed, expect)
        # what the replies told of is in the state directory, and comes back
        self.restart()
        listed = {a["domain"] for a in self.d.call("io.zcrx.Manager.ListAttachments")
                  ["attachments"]}
        self.assertEqual(listed, expect)
        self.assertEqual(orphans(self.d.fake(), state_json(self.d.state)), [])
        self.assertEqual(plan_ops(self.d), [])
        for dom in expect:
            self.d.call("io.zcrx.Manager.Detach", {"domain": dom})

    def assert_killed_at(self, n):
        """The state directory as a kill at the compaction's n-th fsync
        leaves it: what zcrxd reads from it (--dump-state), the log's
        header, the snapshot's temp file."""
        st = state_json(self.d.state)
        with open(os.path.join(self.d.state, "state.log")) as f:
            header = json.loads(f.readline().split(" ", 1)[1])
        tmp = os.path.exists(os.path.join(self.d.state, ".state.json.tmp"))
        if n == 1:  # the old snapshot and its log, replayed
            self.assertTrue(tmp, "no snapshot written before the first fsync")
            self.assertEqual(header["generation"], st["generation"])
            self.assertGreater(st["log_records"], 0)
        elif n == 2:  # the new snapshot, the old log stale: ignored
            self.assertFalse(tmp)
            self.assertEqual(header["generation"] + 1, st["generation"])
            self.assertEqual(st["log_records"], 0)
        else:  # the new snapshot and its empty log
            self.assertEqual(header["generation"], st["generation"])
            self.assertEqual(st["log_records"], 0)

    def test_b_compaction_killed(self):
        """zcrxd killed (SIGKILL) while a compaction's file work is held at
        each of its fsyncs: 1, the new snapshot's temp file (nothing renamed
        yet); 2, the directory after the snapshot's rename (state.json of the
        next generation in place, state.log still of the last: stale); 3,
        the directory after the new log's rename.  After the restart every
        acknowledged attachment is there, the one whose reply waited for the
        compaction is there or cleanly gone (its intent was durable before
        its kernel change), nothing on the NIC is unowned and planning again
        gives nothing to do."""
        for n in (1, 2, 3):
            with self.subTest(fsync=n):
                keep = {"kill%d-a" % n, "kill%d-b" % n}
                for i, dom in enumerate(sorted(keep)):
                    self.d.call("io.zcrx.Manager.Attach",
                                self.attach_msg(dom, 0x800 + 16 * n + i))
                c0 = self.metric("zcrx_state_compactions_total")
                n0 = self.count(HELD_FSYNC)
                self.d.outside("hang fsync %d" % n)
                c = self.d.client()
                try:
                    trigger, attached = self.hold_a_compaction(c, n0, c0)
                    cs = self.commit_sync()
                    self.assertTrue(cs and cs["compaction"], cs)
                    self.d.stop(signal.SIGKILL)
                finally:
                    c.close()
                self.assert_killed_at(n)
                self.restart()
                listed = {a["domain"] for a in self.d.call("io.zcrx.Manager.ListAttachments")
                          ["attachments"]}
                self.assertTrue(keep <= listed, (keep, listed))
                # the request in flight (attached: its Attach, else its
                # Detach) may go either way
                self.assertTrue(listed <= keep | {trigger}, (listed, keep, trigger, attached))
                self.assertEqual(orphans(self.d.fake(), state_json(self.d.state)), [])
                self.assertEqual(plan_ops(self.d), [])
                for dom in listed:
                    self.d.call("io.zcrx.Manager.Detach", {"domain": dom})

    def test_commit_sync_off_the_loop(self):
        s0 = self.metric("zcrx_state_syncs_total")
        # the Attach's intent's fdatasync passes, its commit's is held
        self.d.outside("hang fdatasync 2")
        n0 = self.count(HELD)
        o0 = self.count(OVERDUE)
        c1, c2 = self.d.client(), self.d.client()
        try:
            c1.send("io.zcrx.Manager.Attach", self.attach_msg("cs1", 0x901))
            # the commit's fdatasync is held, or the reply came without it
            self.assertFalse(self.wait_reply_or(c1, HELD, n0, "the commit sync to be held"),
                             "the Attach reply came before its commit sync ran off the loop")

            # the sync under way shows, with the Attach reply waiting on it
            cs = self.commit_sync()
            self.assertIsNotNone(cs, "GetStatus shows no commit sync while one is held")
            self.assertEqual(cs["waiting"], 1, cs)
            self.assertFalse(cs["compaction"], cs)
            self.assertEqual(cs["bound_ms"], BOUND_MS, cs)
            self.assertGreaterEqual(cs["for_ms"], 0, cs)
            self.assertEqual(self.metric("zcrx_state_sync_waiting_replies"), 1)
            # past its bound: one warning naming how long and who waits
            zxtest.wait_for(lambda: self.count(OVERDUE) > o0, 30,
                            what="the warning that the commit sync overran its bound")
            line = [x for x in self.d.log().splitlines() if OVERDUE in x][o0:]
            self.assertEqual(len(line), 1, line)
            self.assertIn("(bound %d ms); 1 reply waits for it" % BOUND_MS, line[0])
            self.assertGreaterEqual(self.commit_sync()["for_ms"], BOUND_MS)
            self.assertGreaterEqual(self.metric_value("zcrx_state_sync_seconds"),
                                    BOUND_MS / 1000)
            shown = self.ctl_status()
            self.assertEqual(len(shown), 1, shown)
            self.assertRegex(shown[0], r"SLOW: fdatasync under way for \d+ ms \(bound %d ms\), "
                             r"1 reply waiting" % BOUND_MS)

            # the loop answers meanwhile; the reply still waits
            info = self.d.call("org.varlink.service.GetInfo")
            self.assertIn("io.zcrx.Manager", info["interfaces"])
            # the intent's sync counted; the held one not yet
            self.assertEqual(self.metric("zcrx_state_syncs_total"), s0 + 1)
            self.assertFalse(readable(c1), "replied before its change was durable")

            # a second Attach needs its intent on disk first: the syncer
            # is held past its bound, so it is refused before any kernel
            # change, with why; the syncer refuses further syncs until the
            # held one returns, and the loop goes on
            rules0 = self.fake_rules()
            c2.send("io.zcrx.Manager.Attach", self.attach_msg("cs2", 0x902))
            r2 = c2.recv()
            self.assertEqual(r2.get("error"), "io.zcrx.Manager.KernelError", r2)
            self.assertIn(INTENT_TIMEOUT, str(r2))
            self.assertEqual(self.fake_rules(), rules0, "a kernel change without its intent")
            st = self.kernel_calls("state")
            self.assertIn("stuck", st)
            self.assertEqual(st["overruns"], 1, st)
            self.assertFalse(readable(c1))

            # the disk returns: the held sync ends, cs1's reply goes out
            self.d.outside("release")
            r1 = c1.recv()
            self.assertNotIn("error", r1, r1)
        finally:
            c1.close()
            c2.close()
        zxtest.wait_for(lambda: "stuck" not in self.kernel_calls("state"), 20,
                        what="the syncer to be free again")
        r3 = self.d.call("io.zcrx.Manager.Attach", self.attach_msg("cs3", 0x903))
        self.assertNotIn("error", r3, r3)
        # none under way any more; the overdue one said how long it took
        self.assertIsNone(self.commit_sync())
        self.assertEqual(self.metric("zcrx_state_sync_waiting_replies"), 0)
        self.assertEqual(self.metric_value("zcrx_state_sync_seconds"), 0)
        self.assertEqual(self.count(RETURNED), 1)
        self.assertEqual(self.ctl_status(), [])
        self.assertNotIn("fdatasync:", self.d.log())
        listed = {a["domain"] for a in self.d.call("io.zcrx.Manager.ListAttachments")
                  ["attachments"]}
        self.assertEqual(listed, {"cs1", "cs3"})
        # what the replies told of is in the state directory
        owners = {r["owner"] for n in state_json(self.d.state)["nics"] for r in n["rules"]}
        self.assertTrue({mac(0x901), mac(0x903)} <= owners, owners)
        self.assertNotIn(mac(0x902), owners)
        for dom in ("cs1", "cs3"):
            self.d.call("io.zcrx.Manager.Detach", {"domain": dom})
        self.assertEqual(orphans(self.d.fake(), state_json(self.d.state)), [])
        self.assertEqual(plan_ops(self.d), [])

    def test_intent_sync_bounded(self):
        """The intent's own fdatasync, held (zcrxd-fake's "hang fdatasync"):
        the loop waits for it the syncer's bound at most, then the Attach
        is refused with why, before any kernel change; GetStatus answers;
        a further Attach is refused at once (the syncer is stuck); once the
        fdatasync returned, attaches work again.  With the fdatasync on
        the loop, the loop hangs until the release and the test fails."""
        n0 = self.count(HELD)
        self.d.outside("hang fdatasync")
        rules0 = self.fake_rules()
        r = self.attach_reply("ib1", 0x911)
        self.assertEqual(r.get("error"), "io.zcrx.Manager.KernelError", r)
        self.assertIn(INTENT_TIMEOUT, str(r))
        self.assertEqual(self.count(HELD), n0 + 1)
        self.assertEqual(self.fake_rules(), rules0, "a kernel change without its intent")
        self.assertEqual(orphans(self.d.fake(), state_json(self.d.state)), [])
        st = self.kernel_calls("state")
        self.assertEqual(st["stuck"]["op"], "fdatasync", st)
        shown = self.ctl_status("State calls:")
        self.assertEqual(len(shown), 2, shown)
        self.assertIn("state: bound %d ms" % BOUND_MS, shown[0])
        self.assertIn("STUCK: fdatasync on state.log has not returned", shown[1])
        self.assertIn("a change to a NIC is refused", shown[1])
        # stuck: refused at once, naming the call that hangs
        r = self.attach_reply("ib2", 0x912)
        self.assertEqual(r.get("error"), "io.zcrx.Manager.KernelError", r)
        self.assertIn("state calls are stuck: fdatasync on state.log", str(r))
        self.assertEqual(self.fake_rules(), rules0)
        self.d.outside("release")
        zxtest.wait_for(lambda: "stuck" not in self.kernel_calls("state"), 20,
                        what="the syncer to be free again")
        r = self.d.call("io.zcrx.Manager.Attach", self.attach_msg("ib3", 0x913))
        self.assertNotIn("error", r, r)
        shown = self.ctl_status("State calls:")
        self.assertEqual(len(shown), 1, shown)  # no STUCK line any more
        self.assertRegex(shown[0], r", [1-9][0-9]* overran,")
        listed = {a["domain"] for a in self.d.call("io.zcrx.Manager.ListAttachments")
                  ["attachments"]}
        self.assertEqual(listed, {"ib3"})
        self.d.call("io.zcrx.Manager.Detach", {"domain": "ib3"})
        self.assertEqual(orphans(self.d.fake(), state_json(self.d.state)), [])
        self.assertEqual(plan_ops(self.d), [])

    def attach_reply(self, dom, k):
        """The Attach reply, an error too (GetStatus asked meanwhile would
        wait for the loop)."""
        with self.d.client() as c:
            c.send("io.zcrx.Manager.Attach", self.attach_msg(dom, k))
            return c.recv()

    def fake_rules(self):
        return sorted((r["location"], json.dumps(r, sort_keys=True))
                      for n in self.d.fake()["nics"] for r in n["rules"])


if __name__ == "__main__":
    zxtest.main()
