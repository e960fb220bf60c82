#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Crash safety: zcrxd killed with SIGKILL at many points inside attach /
detach / lease / release-lease loops and batches of concurrent attaches — at fault points (ZCRX_FAULT=<point>:<n>, the n-th time the
daemon reaches <point>) and at random moments — then restarted.  After the
restart and its reconcile:
  - state.json always parses;
  - no rule or RSS context on the NIC that zcrxd does not own, and nothing
    owned that is not there (no orphans);
  - no attachment that was confirmed is lost, and none that was removed
    comes back (the request in flight may go either way);
  - planning again gives nothing to do.
Runs on zcrxd-fake (TEST ONLY: the daemon's code over the fake NIC, whose
"kernel" is a file that outlives the daemon).
"""
import os
import random
import shutil
import tempfile
import threading
import unittest

from attachlib import FakeDaemon, mac, orphans, plan_ops, state_json, zxtest

CONF = """
[daemon]
ReconcileIntervalSec=0

[nic eth0]
ReserveQueues=6

[nic eth1]
ReserveQueues=5
Channels=10
"""

NICS = ("eth0:capable", "eth1:capable,special=1")

# (verb, domain or lease name, nic, mac index or lease port, queues)
SCRIPT = [
    ("attach", "vm1", "eth0", 1, 1),
    ("lease", "L1", "eth0", 9001, 1),
    ("attach", "vm2", "eth0", 2, 2),
    ("lease", "L2", "eth1", 9002, 2),
    ("attach", "vm3", "eth1", 3, 1),
    ("attach", "vm4", "eth1", 4, 2),
    ("detach", "vm1", None, None, None),
    ("attach", "vm5", "eth0", 5, 2),
    ("detach", "vm3", None, None, None),
    ("rebalance", None, None, None, None),
    ("attach", "vm1", "eth0", 1, 1),
    ("detach", "vm2", None, None, None),
    ("attach", "vm6", "eth1", 6, 1),
    ("detach", "vm4", None, None, None),
    ("attach", "vm2", "eth0", 2, 1),
    ("unlease", "L1", None, None, None),
    ("detach", "vm5", None, None, None),
    ("lease", "L3", "eth0", 9003, 1),
    ("detach", "vm6", None, None, None),
    ("unlease", "L2", None, None, None),
]

LEASES = {"L1", "L2", "L3"}


class Killed(Exception):
    pass


def run_script(d, confirmed, uncertain):
    """Drive the script; stop when the daemon dies.  confirmed: domain ->
    set of (nic, mac) acknowledged; uncertain gets the request in flight."""
    for verb, dom, nic, mi, q in SCRIPT:
        try:
            if verb == "attach":
                uncertain.add(dom)
                d.call("io.zcrx.Manager.Attach",
                       {"domain": dom, "nic": nic, "mac": mac(mi), "queues": q})
                confirmed[dom] = (nic, mac(mi))
                uncertain.discard(dom)
            elif verb == "detach":
                uncertain.add(dom)
                d.call("io.zcrx.Manager.Detach", {"domain": dom})
                confirmed.pop(dom, None)
                uncertain.discard(dom)
            elif verb == "lease":
                uncertain.add(dom)
                l = d.call("io.zcrx.Manager.Lease",
                           {"name": dom, "nic": nic, "queues": q,
                            "flow": {"protocol": "tcp", "dport": mi}})["lease"]
                confirmed[dom] = (nic, "03:7a:%02x:%02x:%02x:%02x" % tuple(
                    (l["id"] >> s) & 0xff for s in (24, 16, 8, 0)))
                uncertain.discard(dom)
            elif verb == "unlease":
                uncertain.add(dom)
                d.call("io.zcrx.Manager.ReleaseLease", {"lease": dom})
                confirmed.pop(dom, None)
                uncertain.discard(dom)
            else:
                d.call("io.zcrx.Manager.Rebalance", {})
        except (ConnectionError, OSError, ValueError):
            raise Killed()
        except zxtest.VarlinkError as e:
            raise AssertionError("request refused: %s" % e)


def run_concurrent(d, confirmed, uncertain):
    """Attach requests sent side by side on four connections, two per NIC:
    their NICs' runs share a batch, whose intents are made durable by one
    fdatasync before either NIC changes.  Two waves of four; a refusal
    (the pool) is an answer like any other, not a confirmation."""
    for wave in range(2):
        conns, sent = [], []
        try:
            for k in range(4):
                dom = "cc%d" % (wave * 4 + k)
                nic = "eth%d" % (k % 2)
                conns.append(d.client())
                uncertain.add(dom)
                sent.append((dom, nic, mac(0x900 + wave * 4 + k)))
                conns[-1].send("io.zcrx.Manager.Attach",
                               {"domain": dom, "nic": nic, "mac": sent[-1][2]})
            for c, (dom, nic, m) in zip(conns, sent):
                r = c.recv()
                if "error" not in r:
                    confirmed[dom] = (nic, m)
                    uncertain.discard(dom)
                elif r["error"] == "io.zcrx.Manager.PoolExhausted":
                    uncertain.discard(dom)
                else:
                    raise AssertionError("request refused: %s" % r)
        except (ConnectionError, OSError, ValueError):
            raise Killed()
        finally:
            for c in conns:
                c.close()


@zxtest.require_root
class Crash(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ns = zxtest.Netns("zxp").__enter__()
        cls.kills = 0
        cls.runs = 0

    @classmethod
    def tearDownClass(cls):
        cls.ns.delete()
        print("crash: %d runs, %d daemons killed mid-work, all recovered" % (cls.runs, cls.kills))

    def one_run(self, env=None, random_kill=None, script=run_script):
        work = tempfile.mkdtemp(prefix="zxp-crash-")
        confirmed, uncertain = {}, set()
        d = FakeDaemon(self.ns, CONF, work, nics=NICS, env=env, wait_ready=False)
        killed = False
        try:
            def up():
                return os.path.exists(d.socket) or d.proc.poll() is not None
            zxtest.wait_for(up, 20, what="zcrxd-fake socket or exit")
            timer = None
            if random_kill is not None:
                timer = threading.Timer(random_kill, d.proc.kill)
                timer.start()
            try:
                if d.proc.poll() is None:
                    script(d, confirmed, uncertain)
            except Killed:
                killed = True
            if timer:
                timer.cancel()
                timer.join()
            if d.proc.poll() is None:
                if random_kill is not None:
                    d.proc.kill()
                    killed = True
                else:
                    d.stop()  # the fault point was not reached: a clean stop
            d.proc.wait(20)
            killed = killed or d.proc.returncode == -9
            d.cleanup()
            self.__class__.kills += killed
            self.__class__.runs += 1

            # the file is whole whatever happened
            state_json(d.state)
            # restart and check
            d2 = FakeDaemon(self.ns, CONF, work, nics=NICS)
            try:
                st = state_json(d2.state)
                fake = d2.fake()
                self.assertEqual(orphans(fake, st), [], (env, random_kill))
                self.assertEqual(plan_ops(d2), [], (env, random_kill))
                listed = d2.call("io.zcrx.Manager.ListAttachments")["attachments"]
                have = {a["domain"]: (a["nic"], a["mac"]) for a in listed}
                for dom, key in confirmed.items():
                    if dom in uncertain:
                        continue  # a detach was in flight
                    self.assertEqual(have.get(dom), key, "lost %s (%s)" % (dom, env))
                for dom in have:
                    self.assertTrue(dom in confirmed or dom in uncertain,
                                    "%s came back (%s, %s)" % (dom, env, have))
                for a in listed:
                    if a.get("kind") == "lease":
                        # complete or not there: its rules (IPv4 + IPv6) and queues
                        self.assertEqual(len(a["rules"]), 2, a)
                        self.assertEqual(a["steering"], "flow", a)
                        self.assertEqual(len(a["queues"]), a["queues_requested"], a)
                        self.assertIn(a["domain"], LEASES)
                    else:
                        self.assertEqual(len(a["rules"]), 1, a)
                        self.assertEqual(a["steering"], "mac", a)
                # and it keeps working after the restart
                d2.call("io.zcrx.Manager.Attach",
                        {"domain": "after", "nic": "eth0", "mac": mac(0xabc)})
                d2.call("io.zcrx.Manager.Detach", {"domain": "after"})
                for dom in list(have):
                    if dom in LEASES:
                        d2.call("io.zcrx.Manager.ReleaseLease", {"lease": dom})
                    else:
                        d2.call("io.zcrx.Manager.Detach", {"domain": dom})
                self.assertEqual(orphans(d2.fake(), state_json(d2.state)), [])
            finally:
                d2.cleanup()
        finally:
            if d.proc.poll() is None:
                d.stop()
            shutil.rmtree(work, ignore_errors=True)
        return killed

    def test_fault_points(self):
        hit = 0
        for point in ("intent", "before-op", "after-op", "saved"):
            for n in (1, 2, 3, 5, 8, 13, 21, 34, 55):
                if self.one_run(env={"ZCRX_FAULT": "%s:%d" % (point, n)}):
                    hit += 1
        # the script reaches every point often enough to be killed there
        self.assertGreaterEqual(hit, 24)

    def test_concurrent_fault_points(self):
        """Killed inside batches of two NICs: after their shared intent
        sync, between one NIC's changes and the other's, at the commit."""
        hit = 0
        for point in ("intent", "before-op", "after-op", "saved"):
            for n in (1, 2, 3, 4, 5, 7):
                if self.one_run(env={"ZCRX_FAULT": "%s:%d" % (point, n)},
                                script=run_concurrent):
                    hit += 1
        self.assertGreaterEqual(hit, 16)

    def test_random_kills(self):
        rnd = random.Random(int(os.environ.get("ZCRX_CRASH_SEED", "4242")))
        killed = 0
        for _ in range(int(os.environ.get("ZCRX_CRASH_RANDOM", "40"))):
            if self.one_run(random_kill=rnd.uniform(0.0, 0.08)):
                killed += 1
        self.assertGreater(killed, 5)


if __name__ == "__main__":
    zxtest.main()
