#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Real tier: zcrxd as systemd/zcrxd.service runs it (DynamicUser=yes,
AmbientCapabilities=CAP_NET_ADMIN CAP_CHOWN, libvirt opened read-only)
against the real libvirtd + QEMU (TCG) that run.sh started.

zcrxd runs as uid 65534 under setpriv with only those two capabilities
(inheritable, ambient and bounding set), its runtime and state directories
its own, its socket given to SocketGroup=libvirt (a group it is not in).

  events: a daemon the installed hook cannot reach (its own runtime
  directory) follows qemu:///system over libvirt's read-only socket:
  `virsh start` -> attachment on the macvtap's NIC, with the Channels= the
  config asks for applied (CAP_NET_ADMIN); `virsh destroy` -> detached,
  ListDomains says "shut off".  A libvirtd restart is followed too.
  hook: the daemon the installed hook talks to (root's zcrxctl through the
  socket's group) attaches at start/begin from the hook's XML.
  polkit: libvirtd lets a client that is not root open its read-only
  socket only when polkit allows org.libvirt.unix.monitor (run.sh starts
  the system bus and polkitd, as on a Debian host); a site rule that
  denies it keeps zcrxd out, and `zcrxctl status` says why.
"""
import os
import pwd
import re
import subprocess
import threading
import unittest

from lvtest import (QEMU, STATE, Zcrxd, direct_if, lvctl, macvtap_of, metadata, qemu_domain,
                    run, virsh, wait_for, write)
import zxtest

NIC = "zxlp0"
MAC = "52:54:00:7c:00:61"
DOM = "zxl-u1"
UUID = "5a1b0000-0000-4000-8000-00000000c061"
UID = 65534
CAPS = ["net_admin", "chown"]
CAP_NET_ADMIN, CAP_CHOWN = 12, 0
GROUP = "libvirt"
# a site rule of polkit's (removed by the test, and by lv_cleanup after a crash)
DENY = "/etc/polkit-1/rules.d/10-zxl-deny-monitor.rules"


def config(channels):
    return ("[daemon]\nAutoAttach=metadata\nHookStrict=no\nSocketGroup=%s\n"
            "ReconcileIntervalSec=0\n[nic %s]\nReserveQueues=4\nChannels=%d\n"
            % (GROUP, NIC, channels))


def rx_channels(dev):
    out = run(["ethtool", "-l", dev]).stdout
    current = out.split("Current hardware settings:")[1]
    m = re.search(r"^(?:RX|Combined):\s+(\d+)", current, re.M)
    return int(m.group(1))


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


@unittest.skipUnless(STATE, "run by tests/libvirt/run.sh")
class Unprivileged(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        xml = qemu_domain(DOM, UUID, [direct_if(MAC, NIC)], metadata([(MAC, 2)]))
        virsh(QEMU, "define", write(os.path.join(STATE, DOM + ".xml"), xml))
        cls.channels0 = rx_channels(NIC)

    @classmethod
    def tearDownClass(cls):
        virsh(QEMU, "destroy", DOM, check=False)
        virsh(QEMU, "undefine", DOM, check=False)

    def setUp(self):
        self.d = None

    def tearDown(self):
        if virsh(QEMU, "domstate", DOM, check=False).stdout.strip() != "shut off":
            virsh(QEMU, "destroy", DOM, check=False)
        if self.d:
            try:
                if self.d.proc.poll() is None:
                    wait_for(lambda: self.attached() is None, 15, what="detach of " + DOM)
                    # zcrxd gives the NIC back as it found it
                    self.d.call("io.zcrx.Manager.Release", {"nic": NIC})
            finally:
                self.d.cleanup()
        self.assertEqual(rx_channels(NIC), self.channels0, "the NIC's channels put back")

    def start_zcrxd(self, tag, channels, connect=True):
        self.d = Zcrxd(tag=tag, config=config(channels), user=(UID, UID, CAPS))
        st = proc_status(self.d.proc.pid)  # setpriv execs zcrxd: the same process
        self.assertEqual(st["Uid"].split(), [str(UID)] * 4)
        self.assertEqual(st["Gid"].split(), [str(UID)] * 4)
        want = (1 << CAP_NET_ADMIN) | (1 << CAP_CHOWN)
        for k in ("CapEff", "CapPrm", "CapBnd", "CapAmb"):
            self.assertEqual(int(st[k], 16), want, (k, st[k]))
        s = os.stat(self.d.socket)
        self.assertEqual((s.st_uid, s.st_gid), (UID, int(run(["getent", "group", GROUP])
                                                            .stdout.split(":")[2])))
        if connect:
            self.d.wait_connected()
        self.assertEqual(self.d.libvirt()["uri"], QEMU)
        return self.d

    def attached(self):
        return self.d.attachment(MAC, DOM)

    def domain_state(self):
        doms = self.d.call("io.zcrx.Manager.ListDomains", {"domain": DOM})["domains"]
        return doms[0]["state"]

    def check_attachment(self, a):
        tap, lower = macvtap_of(MAC)
        self.assertIsNotNone(tap, "no macvtap carries %s" % MAC)
        self.assertEqual((a["nic"], a["tap"], a.get("uuid")), (lower, tap, UUID))
        # a veth has no RSS contexts: one of the two queues asked for, and
        # the reasons are the NIC's (EOPNOTSUPP), never a refusal of zcrxd's
        # own rights (EPERM, EACCES)
        self.assertEqual(len(a["queues"]), 1, a)
        reasons = a.get("reasons", [])
        self.assertIn("no-rss-context", [x["code"] for x in reasons], a)
        self.assertNotIn("kernel-error", [x["code"] for x in reasons], a)
        for x in reasons:
            self.assertNotIn(x.get("errno_name"), ("EPERM", "EACCES"), x)

    def test_01_follows_libvirt_read_only(self):
        """No hook reaches this daemon: what it does comes from libvirt's
        events over the read-only connection, as uid 65534."""
        d = self.start_zcrxd("u", self.channels0 - 2)
        # CAP_NET_ADMIN: Channels= applied to the NIC the config names
        wait_for(lambda: rx_channels(NIC) == self.channels0 - 2, 10,
                 what="%d channels on %s" % (self.channels0 - 2, NIC))
        n = d.libvirt()["events"] or 0
        virsh(QEMU, "start", DOM)
        a = wait_for(self.attached, 20, what="attachment of " + DOM)
        self.check_attachment(a)
        self.assertGreater(d.libvirt()["events"], n, "attached without a libvirt event")
        self.assertEqual(self.domain_state(), "running")
        # libvirtd restarts: zcrxd reconnects (read-only again) and resyncs
        c = d.libvirt()["connects"]
        lvctl("restart")
        d.wait_connected(connects=c + 1)
        self.assertEqual(self.attached()["tap"], a["tap"])
        virsh(QEMU, "destroy", DOM)
        wait_for(lambda: self.attached() is None, 20, what="detach of " + DOM)
        self.assertEqual(self.domain_state(), "shut off")
        log = d.log()
        self.assertNotIn("Operation not permitted", log)
        self.assertNotIn("Permission denied", log)

    def test_02_hook_through_the_socket_group(self):
        """The daemon the installed hook talks to: root's zcrxctl in the
        hook reaches the socket (SocketGroup=libvirt), the unprivileged
        daemon attaches from the hook's XML at start/begin."""
        d = self.start_zcrxd("a", self.channels0)
        seen = []
        mon = d.client()
        mon.send("io.zcrx.Manager.Monitor", more=True)
        mon.recv()  # "subscribed"

        def read():
            try:
                while True:
                    seen.append(mon.recv()["parameters"]["event"])
            except Exception:
                pass
        t = threading.Thread(target=read, daemon=True)
        t.start()
        try:
            virsh(QEMU, "start", DOM)
            self.check_attachment(wait_for(self.attached, 20, what="attachment of " + DOM))
            wait_for(lambda: [e for e in seen if e.get("type") == "domain-changed"
                              and e.get("domain") == DOM and e["action"] == "attach"],
                     10, what="attach event")
            first = [e for e in seen if e.get("type") == "domain-changed"
                     and e.get("domain") == DOM and e["action"] == "attach"][0]
            self.assertEqual(first["reason"], "hook: starting")
            self.assertIn("hook: 1 vNIC(s) attached", d.log())
            virsh(QEMU, "destroy", DOM)
            wait_for(lambda: self.attached() is None, 20, what="detach of " + DOM)
        finally:
            mon.close()


    def polkit_says(self, allowed):
        """Wait until polkit answers org.libvirt.unix.monitor for a process
        of UID as wanted (pkcheck exits 0 when authorized, 1 when not)."""
        p = subprocess.Popen(["setpriv", "--reuid=%d" % UID, "--regid=%d" % UID,
                              "--clear-groups", "sleep", "300"])
        try:
            wait_for(lambda: subprocess.run(
                ["pkcheck", "--action-id", "org.libvirt.unix.monitor", "--process",
                 str(p.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode
                == (0 if allowed else 1), 30,
                what="polkit: monitor %s for uid %d" % ("allowed" if allowed else "denied", UID))
        finally:
            p.kill()
            p.wait()

    def test_03_a_site_that_denies_it(self):
        """The control: libvirtd asks polkit about a client that is not
        root.  A site rule that denies org.libvirt.unix.monitor to the
        daemon's user keeps it out, and it says why (zcrxctl status);
        root, let in without asking, still connects.  Once the rule goes,
        zcrxd connects by itself (its reconnect backoff)."""
        with open(DENY, "w") as f:
            f.write('polkit.addRule(function(action, subject) {\n'
                    '    if (action.id == "org.libvirt.unix.monitor" && subject.user == "%s")\n'
                    '        return polkit.Result.NO;\n});\n' % pwd.getpwuid(UID).pw_name)
        os.chmod(DENY, 0o644)
        try:
            self.polkit_says(allowed=False)
            d = self.start_zcrxd("u", self.channels0, connect=False)
            lv = wait_for(lambda: (lambda s: s if (s.get("failures") or 0) >= 2 else None)(
                d.libvirt()), 30, what="two failed connection attempts")
            print("  denied by polkit: %s" % lv.get("last_error"))
            self.assertNotEqual(lv["state"], "connected")
            self.assertFalse(lv.get("connects"), lv)
            self.assertTrue(lv.get("last_error"), lv)
            out = run([zxtest.ZCRXCTL, "--socket", d.socket, "status"]).stdout
            self.assertIn("last error: " + lv["last_error"], out)
            self.assertEqual(virsh(QEMU, "uri").stdout.strip(), QEMU)
        finally:
            os.unlink(DENY)
        self.polkit_says(allowed=True)
        d.wait_connected()
        self.assertNotIn("last error", run([zxtest.ZCRXCTL, "--socket", d.socket,
                                            "status"]).stdout)

if __name__ == "__main__":
    zxtest.main()
