#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Integration tier: the control socket against hostile local clients
(issue 10, items 1 and 3).  The attackers are real unprivileged processes
(tests/integration/zxattack.py under uid 65534, the socket's group being
nogroup); root's requests go through zcrxctl as the libvirt hook's do.

- Root and AdminGroup keep connection slots an unprivileged user cannot take.
- One uid gets at most MaxConnectionsPerUser= connections.
- zcrxctl exits 3, with the daemon's reason, every time it is refused.
- A connection with nothing in flight is closed after IdleTimeoutSec=; one
  with a call in flight (a Monitor stream) is not.
- Monitor streams that are never read, and pipelined requests whose replies
  are never read, are cut with a named reason that GetStatus counts, and
  the daemon's memory stays bounded meanwhile.

Every wait polls a condition with a deadline.
"""
import json
import os
import subprocess
import unittest

import zxtest
from zxtest import Daemon, Netns, wait_for

ATTACK = os.path.join(os.path.dirname(os.path.abspath(__file__)), "zxattack.py")


def as_uid(uid):
    return ["setpriv", "--reuid=%d" % uid, "--regid=65534", "--clear-groups"]


class Attacker:
    """zxattack.py as uid (group nogroup) until stop()."""

    def __init__(self, d, conns, modes, uid=65534):
        self.p = subprocess.Popen(as_uid(uid) + [zxtest.SYSTEM_PYTHON, ATTACK, "--socket", d.socket,
                                                 "--conns", str(conns), modes],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  universal_newlines=True)
        line = self.p.stdout.readline().split()
        if not line or line[0] != "ready":
            raise AssertionError("the attacker did not start: %r" % line)
        self.opened = int(line[1])

    def stop(self):
        """Its counters (see zxattack.py)."""
        if self.p.poll() is not None:
            self.p.stdout.close()
            return {}
        self.p.stdin.close()
        out = self.p.stdout.readline()
        self.p.stdout.close()
        self.p.wait(30)
        return json.loads(out) if out else {}


def hwm_kib(pid, field="VmHWM"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def report_memory(what, pid):
    """The figures issue 10 item 3 asks for: zcrxd's peak and what stays."""
    print("  %s: zcrxd VmHWM %.1f MiB, VmRSS now %.1f MiB (goal <= 64 MiB)"
          % (what, hwm_kib(pid) / 1024.0, hwm_kib(pid, "VmRSS") / 1024.0))


@zxtest.require_root
class SocketLimits(unittest.TestCase):
    def setUp(self):
        self.ns = Netns("zxk")
        self.ns.__enter__()
        self.ns.add_veth("zxk0", "zxk1", queues=2)
        self.d = None
        self.attackers = []

    def tearDown(self):
        for a in self.attackers:
            a.stop()
        if self.d:
            self.d.cleanup()
        self.ns.delete()

    def start(self, extra=""):
        self.d = Daemon(netns=self.ns, config_text="[daemon]\nSocketGroup=nogroup\n"
                        "ReconcileIntervalSec=0\n" + extra)
        os.chmod(self.d.runtime, 0o755)
        os.chmod(self.d.tmp, 0o755)

    def attack(self, conns, modes, uid=65534):
        a = Attacker(self.d, conns, modes, uid)
        self.attackers.append(a)
        return a

    def control(self):
        return self.d.status()["control"]

    def ctl_as(self, uid, *args):
        return zxtest.run(as_uid(uid) + [zxtest.ZCRXCTL, "--socket", self.d.socket] + list(args),
                          check=False)

    def test_root_keeps_its_slots(self):
        """One unprivileged user allowed as many connections as there are
        slots gets all but the reserved ones; root (the hook, zcrxctl)
        still gets in, anyone else unprivileged is refused (exit 3)."""
        self.start("MaxConnections=16\nMaxConnectionsPerUser=16\nReservedConnections=2\n")
        self.attack(20, "idle")
        wait_for(lambda: self.control()["refused_reserved"] == 6, what="6 refusals")
        c = self.control()
        self.assertEqual(c["connections"], 15)  # 14 idle ones and this call
        self.assertEqual(c["max_connections"], 16)
        self.assertEqual(c["reserved_connections"], 2)
        p = self.d.ctl("status")
        self.assertEqual(p.returncode, 0, p.stderr)
        p = self.ctl_as(65533, "status")
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertIn("kept for root and AdminGroup", p.stderr)

    def test_per_user_cap_and_exit_3_every_time(self):
        """With the defaults (64, 16 per user, 8 kept), one uid's 20th
        connection is refused but another uid still gets in; the refused
        uid's zcrxctl says why and exits 3 every time, whether its request
        was written before the daemon hung up or not."""
        self.start()
        self.attack(20, "idle")
        wait_for(lambda: self.control()["refused_per_user"] == 4, what="4 refusals")
        c = self.control()
        self.assertEqual(c["max_connections_per_user"], 16)
        self.assertEqual(c["connections"], 17)
        p = self.ctl_as(65533, "status")
        self.assertEqual(p.returncode, 0, p.stderr)
        for _ in range(20):
            p = self.ctl_as(65534, "status")
            self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
            self.assertIn("connection limit for uid 65534 reached (16 connections)", p.stderr)
        self.assertGreaterEqual(self.control()["refused_per_user"], 24)

    def test_idle_connection_is_closed(self):
        self.start("IdleTimeoutSec=0.5\n")
        with self.d.client() as mon, self.d.client() as idle:
            mon.send("io.zcrx.Manager.Monitor", {}, more=True)
            self.assertEqual(mon.recv()["parameters"]["event"]["type"], "subscribed")
            self.assertIn("protocol", idle.call("io.zcrx.Manager.GetStatus"))
            # told why, then closed
            r = idle.recv()
            self.assertEqual(r["error"], "io.zcrx.Manager.ProtocolError")
            self.assertIn("idle for 500 ms", r["parameters"]["message"])
            self.assertTrue(idle.closed_by_peer(10))
            self.assertGreaterEqual(self.control()["closed"]["idle_timeout"], 1)
            # the stream has a call in flight: not idle, still served
            self.d.kill(__import__("signal").SIGHUP)
            self.assertEqual(mon.recv()["parameters"]["event"]["type"], "config-reloaded")
        self.assertRegex(self.d.log(), r"closing the connection of pid \d+ uid 0: idle_timeout")

    def test_unread_monitors_are_cut_and_memory_stays_bounded(self):
        """60 Monitor streams nobody reads while the NIC changes 20,000
        times: each is cut as a slow reader at its limit; before, each
        could hold 16 MiB (1 GB in all)."""
        self.start("MaxConnections=80\nMaxConnectionsPerUser=64\n")
        self.attack(60, "monitor-noread")
        wait_for(lambda: self.control()["connections"] == 61, what="60 monitors")
        lines = "".join("link set dev zxk0 mtu %d\n" % (1400 + (i % 2) * 100)
                        for i in range(20000))
        done = 0
        while self.control()["closed"]["slow_reader"] < 60 and done < 10:
            subprocess.run(["ip", "-n", self.ns.name, "-batch", "-"], input=lines,
                           universal_newlines=True, check=True)
            done += 1
            self.d.status()  # the events of the batch have been handled by this reply
        c = self.control()
        self.assertEqual(c["closed"]["slow_reader"], 60, c)
        self.assertEqual(c["output_bytes"], 0)
        self.assertIn("slow_reader (256 KiB of streamed replies unread", self.d.log())
        report_memory("60 unread Monitors", self.d.proc.pid)
        if not os.environ.get("ZCRX_SANITIZED"):  # ASan's shadow memory is not ours
            self.assertLess(hwm_kib(self.d.proc.pid), 64 * 1024)

    def test_unread_replies_are_cut_and_memory_stays_bounded(self):
        """60 connections pipeline 2000 GetInterfaceDescription each and
        never read: zcrxd stops taking their requests once 64 KiB of replies
        wait, cuts them after WriteTimeoutSec=, and its memory stays
        bounded (before: 32.6 MB stayed resident)."""
        self.start("MaxConnections=80\nMaxConnectionsPerUser=64\nWriteTimeoutSec=1\n")
        self.attack(60, "desc-noread")
        wait_for(lambda: self.control()["closed"]["slow_reader"] == 60, timeout=60,
                 what="60 slow readers cut")
        c = self.control()
        self.assertEqual(c["output_bytes"], 0)
        self.assertRegex(self.d.log(), r"slow_reader \(\d+ bytes of replies unread for 1000 ms\)")
        report_memory("60 x 2000 unread GetInterfaceDescription", self.d.proc.pid)
        if not os.environ.get("ZCRX_SANITIZED"):
            self.assertLess(hwm_kib(self.d.proc.pid), 64 * 1024)
        # and everyone else is served
        self.assertEqual(self.d.ctl("status").returncode, 0)


if __name__ == "__main__":
    zxtest.main()
