#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What zcrxd tells systemd when its first reconcile fails (issue 10
item 13), on zcrxd-fake (TEST ONLY: the daemon's own code over the fake NIC
backend, told to refuse the first change with --fake-fail-at).

The choice (zcrxd(8)): READY=1 once the control socket serves, also when
the first reconcile failed.  A daemon that never becomes ready would hold
up libvirtd, ordered after zcrxd, and every VM start with it; so it says
READY=1 and STATUS= says what failed at start, the log has the kernel's
error, and the next reconcile tries again."""
import shutil
import tempfile
import unittest

from attachlib import FakeDaemon, zxtest


class OnFake(unittest.TestCase):
    """One zcrxd-fake per test, in a namespace and a scratch directory of
    its own, its fake NICs volatile: CONF, NICS and ARGS say the rest."""
    CONF = NICS = ARGS = None

    def setUp(self):
        self.ns = zxtest.Netns("zxp").__enter__()
        self.work = tempfile.mkdtemp(prefix="zxp-start-")
        self.d = FakeDaemon(self.ns, self.CONF, self.work, nics=self.NICS, volatile=True,
                            extra_args=self.ARGS)

    def tearDown(self):
        self.d.cleanup()
        self.ns.delete()
        shutil.rmtree(self.work, ignore_errors=True)


@zxtest.require_root
class Start(OnFake):
    CONF = "[daemon]\nReconcileIntervalSec=0\n[nic eth0]\nChannels=12\nReserveQueues=2\n"
    NICS = ("eth0:capable",)
    ARGS = ("--fake-fail-at", "1:5")

    def test_ready_with_a_status_that_says_the_start_failed(self):
        # READY=1 came (Daemon waited for it); STATUS says why not all is well
        def status_line():
            self.d.notify.drain(0.05)
            lines = [ln for m in self.d.notify.messages for ln in m.split("\n")
                     if ln.startswith("STATUS=Serving")]
            return lines[-1] if lines else None
        st = zxtest.wait_for(status_line, what="STATUS=")
        self.assertIn("at start the first reconcile failed on 1 NIC(s): eth0: set channels", st)
        self.assertIn("(EIO)", st)
        self.assertIn("<error> main: the first reconcile failed on 1 NIC(s)", self.d.log())
        self.assertIn("serving anyway", self.d.log())
        # and it serves: a reconcile now puts it right
        r = self.d.call("io.zcrx.Manager.Reconcile", {})
        self.assertTrue(any(op["kind"] == "set-channels" for p in r["plans"] for op in p["ops"]))
        self.assertEqual(self.d.call("io.zcrx.Manager.Plan", {})["plans"][0]["ops"], [])


@zxtest.require_root
class PlanError(OnFake):
    """Plan with a NIC the planner cannot plan (zcrxd-fake --fake-plan-fails:
    its plan_nic() fails with ENOMEM for eth1, the real planner runs for
    eth0): the answer is KernelError naming eth1, not eth0's plan as if it
    were all there is to do (issue 10 item 13; it was a success)."""

    CONF = ("[daemon]\nReconcileIntervalSec=0\n[nic eth0]\nReserveQueues=2\n"
            "[nic eth1]\nReserveQueues=2\n")
    NICS = ("eth0:capable", "eth1:capable")
    ARGS = ("--fake-plan-fails", "eth1")

    def test_a_nic_that_cannot_be_planned_fails_the_plan(self):
        with self.assertRaises(zxtest.VarlinkError) as e:
            self.d.call("io.zcrx.Manager.Plan", {})
        self.assertEqual(e.exception.error, "io.zcrx.Manager.KernelError")
        msg = str(e.exception.parameters)
        self.assertIn("1 NIC(s) could not be planned", msg)
        self.assertIn("eth1", msg)
        self.assertIn("ENOMEM", msg)
        # eth0 alone plans; eth1 alone fails
        self.assertEqual([p["nic"] for p in
                          self.d.call("io.zcrx.Manager.Plan", {"nic": "eth0"})["plans"]], ["eth0"])
        with self.assertRaises(zxtest.VarlinkError):
            self.d.call("io.zcrx.Manager.Plan", {"nic": "eth1"})
        p = self.d.ctl("plan")
        self.assertNotEqual(p.returncode, 0, p.stdout)
        self.assertIn("1 NIC(s) could not be planned", p.stderr)
        # the start said so too
        self.assertIn("the first reconcile failed on 1 NIC(s)", self.d.log())


if __name__ == "__main__":
    zxtest.main()
