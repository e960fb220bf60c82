#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""AdminGroup= end to end (issue 10 item 18): a member of the admin group
who is not root may change things, others may only read; membership counts
as the primary group and as a supplementary group; a reload that names
another group takes effect at once, also on connections already open.
Real processes under real credentials (setpriv), on zcrxd-fake (TEST ONLY:
the daemon's own code over the fake NIC backend)."""
import grp
import json
import os
import shutil
import signal
import subprocess
import tempfile
import unittest

from attachlib import FakeDaemon, mac, zxtest

NOBODY = 65534
SOCKET_GROUP = "nogroup"  # 65534: may connect and read
ADMIN_A = "operator"      # Debian's base-passwd groups, on every machine
ADMIN_B = "staff"

CONF = """
[daemon]
ReconcileIntervalSec=0
SocketGroup=%s
AdminGroup=%s

[nic eth0]
ReserveQueues=4
"""


def gid(name):
    return grp.getgrnam(name).gr_gid


@zxtest.require_root
class AdminGroup(unittest.TestCase):
    def setUp(self):
        self.ns = zxtest.Netns("zxp").__enter__()
        self.work = tempfile.mkdtemp(prefix="zxp-auth-")
        self.d = FakeDaemon(self.ns, CONF % (SOCKET_GROUP, ADMIN_A), self.work)
        os.chmod(self.d.runtime, 0o755)
        os.chmod(self.d.tmp, 0o755)

    def tearDown(self):
        self.d.cleanup()
        self.ns.delete()
        shutil.rmtree(self.work, ignore_errors=True)

    def as_user(self, primary, groups, *args):
        """zcrxctl as uid nobody with the given primary and supplementary groups."""
        cred = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % gid(primary)]
        cred += ["--groups=" + ",".join(str(gid(g)) for g in groups)] if groups else \
            ["--clear-groups"]
        return zxtest.run(cred + [zxtest.ZCRXCTL, "--socket", self.d.socket] + list(args),
                          check=False)

    def attachments(self):
        return [a["domain"] for a in
                self.d.call("io.zcrx.Manager.ListAttachments")["attachments"]]

    def rules(self):
        return self.d.fake_nic("eth0")["rules"]

    def test_member_may_change_others_may_read(self):
        # supplementary member of AdminGroup
        p = self.as_user(SOCKET_GROUP, [SOCKET_GROUP, ADMIN_A], "attach", "adm1", "eth0",
                         "--mac", mac(0x1))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("adm1", self.attachments())
        self.assertEqual(len(self.rules()), 1)
        # primary-group member (connects through the supplementary SocketGroup)
        p = self.as_user(ADMIN_A, [SOCKET_GROUP], "attach", "adm2", "eth0", "--mac", mac(0x2))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("adm2", self.attachments())
        # not a member: reads yes, changes no, the kernel untouched
        p = self.as_user(SOCKET_GROUP, [SOCKET_GROUP], "--json", "list")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(sorted(a["domain"] for a in json.loads(p.stdout)["attachments"]),
                         ["adm1", "adm2"])
        before = self.d.fake()
        for args in (("attach", "x", "eth0", "--mac", mac(0x3)), ("detach", "adm1"),
                     ("reconcile",), ("release", "eth0")):
            p = self.as_user(SOCKET_GROUP, [SOCKET_GROUP], *args)
            self.assertEqual(p.returncode, 1, (args, p.stdout, p.stderr))
            self.assertIn("permission denied", p.stderr, args)
        self.assertEqual(self.d.fake(), before)
        # the member may also take it back
        p = self.as_user(SOCKET_GROUP, [SOCKET_GROUP, ADMIN_A], "detach", "adm1")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertNotIn("adm1", self.attachments())

    def test_reload_moves_the_admin_group(self):
        code = ("import sys; sys.path.insert(0, %r); import zxtest\n"
                "c = zxtest.VarlinkClient(%r)\n"
                "def attach(m):\n"
                "    c.send('io.zcrx.Manager.Attach', {'domain': 'r', 'nic': 'eth0', 'mac': m})\n"
                "    print(c.recv().get('error', 'ok'), flush=True)\n"
                "attach(%r)\n"
                "sys.stdin.readline()\n"  # the test reloads meanwhile
                "attach(%r)\n"
                % (os.path.dirname(zxtest.__file__), self.d.socket, mac(0x10), mac(0x11)))
        p = subprocess.Popen(["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % gid(SOCKET_GROUP),
                              "--groups=%d,%d" % (gid(SOCKET_GROUP), gid(ADMIN_A)),
                              "python3", "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
        try:
            self.assertEqual(p.stdout.readline().strip(), "ok")
            reloads = self.d.status()["reloads"]
            with open(self.d.config, "w") as f:
                f.write(CONF % (SOCKET_GROUP, ADMIN_B))
            self.d.kill(signal.SIGHUP)
            zxtest.wait_for(lambda: self.d.status()["reloads"] == reloads + 1, what="reload")
            p.stdin.write("\n")
            p.stdin.flush()
            # the same connection, no longer in the admin group
            self.assertEqual(p.stdout.readline().strip(), "io.zcrx.Manager.PermissionDenied")
        finally:
            p.communicate(timeout=10)
        self.assertEqual(self.attachments(), ["r"])
        # the new group's member may
        q = self.as_user(SOCKET_GROUP, [SOCKET_GROUP, ADMIN_B], "attach", "b", "eth0", "--mac",
                         mac(0x12))
        self.assertEqual(q.returncode, 0, q.stderr)
        q = self.as_user(SOCKET_GROUP, [SOCKET_GROUP, ADMIN_A], "attach", "a", "eth0", "--mac",
                         mac(0x13))
        self.assertEqual(q.returncode, 1, q.stderr)
        self.assertEqual(sorted(self.attachments()), ["b", "r"])


if __name__ == "__main__":
    zxtest.main()
