# SPDX-License-Identifier: MIT
"""Helpers for the attachment tiers (tests/attach/), standard library only.

- FakeDaemon: build/tests/zcrxd-fake (TEST ONLY: zcrxd's manager over the
  fake NIC backend, whose "kernel" lives in a file and survives kill -9),
  inside a private network namespace zxp*.
- FakeDaemonCase: a test class's one zcrxd-fake and its namespace.
- fake_state(): that file, parsed.
- Checks shared by the tests: state.json parses, nothing orphaned, the
  plan is empty.
"""
import json
import os
import shutil
import signal
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
import zxtest  # noqa: E402

FAKE = os.path.join(zxtest.BUILD, "tests", "zcrxd-fake")


class FakeDaemon(zxtest.Daemon):
    """zcrxd-fake with the zxtest.Daemon interface.  workdir holds what must
    outlive one daemon process: the fake "kernel" (workdir/fake.json) and
    the state directory (workdir/state).  nics: --fake-nic specs, used when
    fake.json does not exist yet; kernel_nics: the kernel's NICs instead of
    fake ones; binder: a fake vhost_zcrx module's socket
    (tests/tools/fake-vhost-zcrx) for the binder instead of the kernel."""

    def __init__(self, netns, config_text, workdir, nics=("eth0:capable",), env=None,
                 wait_ready=True, volatile=False, libvirt_uri="none", kernel_nics=False,
                 binder=None, extra_args=()):
        self.workdir = workdir
        self.fake_state = os.path.join(workdir, "fake.json")
        if kernel_nics:
            extra = ["--kernel-nics"]
        else:
            extra = ["--fake-volatile"] if volatile else ["--fake-state", self.fake_state]
            for n in nics:
                extra += ["--fake-nic", n]
        extra += ["--state-dir", os.path.join(workdir, "state")]
        if binder:
            extra += ["--fake-binder", binder]
        extra += list(extra_args)
        saved = zxtest.ZCRXD
        zxtest.ZCRXD = FAKE
        try:
            super().__init__(netns=netns, config_text=config_text, extra_args=extra, env=env,
                             libvirt_uri=libvirt_uri, wait_ready=wait_ready)
        finally:
            zxtest.ZCRXD = saved
        self.state = os.path.join(workdir, "state")

    def fake(self):
        return fake_state(self.fake_state)

    def outside(self, *lines, timeout=30):
        """Change the fake "kernel" behind zcrxd's back, as the kernel or an
        operator would (each line one change, see zcrxd-fake), and wait
        until zcrxd-fake has taken it (SIGUSR1)."""
        path = self.fake_state + ".outside"
        with open(path, "w") as f:
            f.write("".join(ln + "\n" for ln in lines))
        os.kill(self.proc.pid, signal.SIGUSR1)
        zxtest.wait_for(lambda: not os.path.exists(path), timeout, what="the outside change")

    def fake_nic(self, name):
        """One NIC of the fake "kernel" as it is now."""
        return [n for n in self.fake()["nics"] if n["name"] == name][0]


class FakeDaemonCase(unittest.TestCase):
    """Tests that share one zcrxd-fake, in a network namespace of its own:
    the class sets CONF (its config), NICS (--fake-nic specs), NETNS and
    WORK (name prefixes) and DAEMON_KW (more FakeDaemon arguments)."""
    CONF = ""
    NICS = ("eth0:capable",)
    NETNS = "zxp"
    WORK = "zxp-"
    DAEMON_KW = {}

    @classmethod
    def setUpClass(cls):
        cls.ns = zxtest.Netns(cls.NETNS).__enter__()
        cls.work = tempfile.mkdtemp(prefix=cls.WORK)
        cls.d = FakeDaemon(cls.ns, cls.CONF, cls.work, nics=cls.NICS, **cls.DAEMON_KW)

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        cls.ns.delete()
        shutil.rmtree(cls.work, ignore_errors=True)


def fake_state(path):
    with open(path) as f:
        return json.load(f)


def state_json(state_dir):
    """The state directory's state (state.json and the log of changes since
    it) as zcrxd reads it, through `zcrxd --dump-state` (raises if it does
    not read), or None if there is no state.json."""
    if not os.path.exists(os.path.join(state_dir, "state.json")):
        return None
    p = zxtest.run([zxtest.ZCRXD, "--dump-state", "--state-dir", state_dir], check=False)
    assert p.returncode == 0, p.stderr
    s = json.loads(p.stdout)
    assert s.get("schema") == 2, s
    return s


def orphans(fake, state):
    """Rules and contexts on the fake NICs that the journal does not own,
    and journal entries with nothing behind them."""
    out = []
    journals = {j["name"]: j for j in (state or {}).get("nics", [])}
    for nic in fake["nics"]:
        j = journals.get(nic["name"], {"rules": [], "contexts": []})
        owned_rules = {r["location"] for r in j.get("rules", []) if not r.get("pending")}
        owned_ctx = {c["id"] for c in j.get("contexts", []) if not c.get("pending")}
        for r in nic["rules"]:
            if r["location"] not in owned_rules:
                out.append("%s: rule %d not owned" % (nic["name"], r["location"]))
        for c in nic["contexts"]:
            if c["id"] not in owned_ctx:
                out.append("%s: context %d not owned" % (nic["name"], c["id"]))
        have_rules = {r["location"] for r in nic["rules"]}
        have_ctx = {c["id"] for c in nic["contexts"]}
        for loc in owned_rules - have_rules:
            out.append("%s: journal rule %d missing" % (nic["name"], loc))
        for cid in owned_ctx - have_ctx:
            out.append("%s: journal context %d missing" % (nic["name"], cid))
    return out


def plan_ops(d, nic=None):
    r = d.call("io.zcrx.Manager.Plan", {"nic": nic} if nic else {})
    return [op for p in r["plans"] for op in p["ops"]]


def mac(i):
    return "52:54:00:%02x:%02x:%02x" % ((i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff)


__all__ = ["zxtest", "FakeDaemon", "fake_state", "state_json", "orphans", "plan_ops", "mac",
           "signal"]
