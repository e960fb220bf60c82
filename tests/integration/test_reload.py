#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A reload applies what it says (issue 10 item 13): a new LibvirtURI is
followed at once, and what GetStatus and systemd's STATUS= say is the
libvirt in use.  Uses libvirt's test driver (test:///default, in zcrxd's
own process through libvirt's library: no libvirtd needed)."""
import signal
import unittest

import zxtest
from zxtest import Daemon, Netns, wait_for


@zxtest.require_root
class Reload(unittest.TestCase):
    def setUp(self):
        self.ns = Netns("zxc").__enter__()
        # no --libvirt-uri: the configuration decides
        self.d = Daemon(netns=self.ns, libvirt_uri=None,
                        config_text="[daemon]\nLibvirtURI=none\nReconcileIntervalSec=0\n")

    def tearDown(self):
        self.d.cleanup()
        self.ns.delete()

    def reload(self, uri):
        with open(self.d.config, "w") as f:
            f.write("[daemon]\nLibvirtURI=%s\nReconcileIntervalSec=0\n" % uri)
        n = self.d.status()["reloads"]
        self.d.kill(signal.SIGHUP)
        wait_for(lambda: self.d.status()["reloads"] == n + 1, what="reload")

    def status_line(self):
        self.d.notify.drain(0.05)
        lines = [ln for m in self.d.notify.messages for ln in m.split("\n")
                 if ln.startswith("STATUS=Serving")]
        return lines[-1] if lines else ""

    def test_new_libvirt_uri_is_followed(self):
        self.assertEqual(self.d.status()["libvirt"]["state"], "disabled")
        self.reload("test:///default")
        lv = wait_for(lambda: (lambda s: s if s["state"] == "connected" else None)(
            self.d.status()["libvirt"]), what="connected to test:///default")
        self.assertEqual(lv["uri"], "test:///default")
        wait_for(lambda: "libvirt test:///default" in self.status_line(), what="STATUS=")
        # the test driver's own running domain is followed
        wait_for(lambda: "test" in [x["name"] for x in self.d.call(
            "io.zcrx.Manager.ListDomains")["domains"]], what="domain 'test'")
        self.assertIn("libvirt: now following 'test:///default' (was none)", self.d.log())
        # and back
        self.reload("none")
        self.assertEqual(self.d.status()["libvirt"]["state"], "disabled")
        wait_for(lambda: self.status_line().endswith("libvirt off"), what="STATUS= off")
        self.assertEqual(self.d.call("io.zcrx.Manager.ListDomains")["domains"], [])


if __name__ == "__main__":
    zxtest.main()
