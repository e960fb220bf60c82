#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Live migration between two libvirtds on this machine.  Host B is a
second libvirtd in its own mount namespace (own /etc/libvirt with another
host_uuid and socket directory, own /run, /var/lib, /var/cache, /var/log
libvirt; research/libvirt.md §2.6), with its own zcrx hook and its own
zcrxd.  The domain's macvtap moves from one end of the veth (zxlp0, A's
NIC) to the other (zxlp1, B's NIC): two bridge-mode macvtaps with one MAC
on one lower device would clash.

Expected: the destination attaches (hook at start/begin, then STARTED/1 and
RESUMED/1 find it done), the source detaches (SUSPENDED/1, STOPPED/3 and its
stopped/release hooks), and no attachment is left behind on the source.
"""
import os
import unittest

from lvtest import (QEMU, STATE, Zcrxd, b_uri, direct_if, lvctl, macvtap_of, metadata,
                    qemu_domain, run, timed, virsh, wait_for, write)
import zxtest

MAC = "52:54:00:7d:00:01"
DOM = "zxl-m1"
UUID = "5a1b0000-0000-4000-8000-00000000d001"
HOOK_SRC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "conf",
                        "libvirt", "qemu.d", "zcrx")


def config(nic):
    return "[daemon]\nAutoAttach=metadata\n[nic %s]\nReserveQueues=4\n" % nic


@unittest.skipUnless(STATE, "run by tests/libvirt/run.sh")
class Migration(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        build = os.environ.get("ZCRX_BUILD", "build")
        top = os.path.abspath(os.path.join(os.path.dirname(HOOK_SRC), "..", "..", ".."))
        lvctl("b-prepare")
        # B's hook talks to B's zcrxd (its own config and socket)
        hook_b = os.path.join(STATE, "b", "etc", "hooks", "qemu.d", "zcrx")
        base = os.path.join(STATE, "zcrx-b")
        with open(HOOK_SRC) as f:
            text = f.read()
        text = (text.replace("@BINDIR@", os.path.join(top, build))
                .replace("@SYSCONFDIR@", os.path.join(base, "etc"))
                .replace("@RUNDIR@", os.path.join(base, "run")))
        write(hook_b, text)
        os.chmod(hook_b, 0o755)
        lvctl("b-start")
        virsh(b_uri(), "uri")
        cls.a = Zcrxd(tag="a", config=config("zxlp0"))
        cls.b = Zcrxd(tag="b", uri=b_uri(), config=config("zxlp1"))
        cls.a.wait_connected()
        cls.b.wait_connected()
        xml = qemu_domain(DOM, UUID, [direct_if(MAC, "zxlp0")], metadata([(MAC, 1)]))
        virsh(QEMU, "define", write(os.path.join(STATE, DOM + ".xml"), xml))

    @classmethod
    def tearDownClass(cls):
        virsh(b_uri(), "destroy", DOM, check=False)
        virsh(QEMU, "destroy", DOM, check=False)
        virsh(QEMU, "undefine", DOM, check=False)
        cls.a.cleanup()
        cls.b.cleanup()
        lvctl("b-stop", check=False)

    def test_live_migration(self):
        virsh(QEMU, "start", DOM)
        wait_for(lambda: self.a.attachment(MAC), 15, what="attachment on A")
        self.assertIsNone(self.b.attachment(MAC))
        dest = virsh(QEMU, "dumpxml", "--migratable", DOM).stdout.replace(
            "dev='zxlp0'", "dev='zxlp1'")
        dest_path = write(os.path.join(STATE, DOM + "-dest.xml"), dest)
        _, took = timed(virsh, QEMU, "migrate", "--live", "--xml", dest_path, DOM, b_uri(),
                        "tcp://127.0.0.1:49331", "--listen-address", "127.0.0.1", timeout=120)
        print("  live migration A -> B: %.2f s" % took)
        self.assertEqual(virsh(b_uri(), "domstate", DOM).stdout.strip(), "running")
        # destination attached, on its own NIC, with its macvtap
        b = wait_for(lambda: self.b.attachment(MAC), 15, what="attachment on B")
        tap, lower = macvtap_of(MAC)
        self.assertEqual(lower, "zxlp1")
        self.assertEqual(b["nic"], "zxlp1")
        self.assertEqual(b["tap"], tap)
        # source detached: nothing left behind
        wait_for(lambda: self.a.attachment(MAC) is None, 15, what="detach on A")
        self.assertEqual([x for x in self.a.attachments() if x.get("domain") == DOM], [])
        self.assertEqual(virsh(QEMU, "domstate", DOM).stdout.strip(), "shut off")
        # and the destination lets go when the domain stops there
        virsh(b_uri(), "destroy", DOM)
        wait_for(lambda: self.b.attachment(MAC) is None, 15, what="detach on B")


if __name__ == "__main__":
    zxtest.main()
