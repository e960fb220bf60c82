# SPDX-License-Identifier: MIT
"""Helpers for the libvirt tier (standard library only).

The tier's entry script (run.sh) prepares $ZXL_STATE, installs the hook and
starts libvirtd + virtlogd before these tests run; the tests drive domains
with virsh (a second process, as an operator or OpenStack would), restart or
pause libvirtd through lvctl.sh (by pid file), and run build/zcrxd with the
config file and runtime directory the installed hook was written for.
"""
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
from zxtest import BUILD, ZCRXCTL, Daemon, VarlinkClient, run, wait_for  # noqa: E402,F401

STATE = os.environ.get("ZXL_STATE", "")
QEMU = "qemu:///system"
TESTDRV = "test+unix:///default"
NS = "http://zcrx.dev/xmlns/libvirt/1.0"


def lvctl(*args, check=True):
    return run([os.path.join(HERE, "lvctl.sh")] + list(args), check=check)


def virsh(uri, *args, check=True, timeout=60):
    return run(["virsh", "-q", "-c", uri] + list(args), check=check, timeout=timeout)


def b_uri():
    return "qemu+unix:///system?socket=%s/b/sock/libvirt-sock" % STATE


def metadata(nics):
    """<metadata> with a zcrx:config listing (mac, queues) pairs."""
    inner = "".join("<zcrx:nic mac='%s'%s/>" % (m, " queues='%d'" % q if q else "")
                    for m, q in nics)
    return "<metadata><zcrx:config xmlns:zcrx='%s'>%s</zcrx:config></metadata>" % (NS, inner)


def qemu_domain(name, uuid, ifaces, meta=""):
    """A disk-less TCG domain, 64 MiB, with the given <interface> XML."""
    return ("<domain type='qemu'><name>%s</name><uuid>%s</uuid>%s"
            "<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type><boot dev='hd'/></os>"
            "<on_poweroff>destroy</on_poweroff><devices>"
            "<emulator>/usr/bin/qemu-system-x86_64</emulator>%s"
            "<serial type='pty'/><video><model type='none'/></video>"
            "<memballoon model='none'/></devices></domain>") % (name, uuid, meta, "".join(ifaces))


def test_domain(name, uuid, ifaces, meta=""):
    return ("<domain type='test'><name>%s</name><uuid>%s</uuid>%s<memory>65536</memory>"
            "<os><type>hvm</type></os><devices>%s</devices></domain>") % (
                name, uuid, meta, "".join(ifaces))


def direct_if(mac, dev, mode="bridge", queues=None):
    q = "<driver name='vhost' queues='%d'/>" % queues if queues else ""
    return ("<interface type='direct'><mac address='%s'/><source dev='%s' mode='%s'/>"
            "<model type='virtio'/>%s<rom enabled='no'/></interface>") % (mac, dev, mode, q)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    return path


def links():
    """{name: {"mac":..., "kind":..., "link":...}} from `ip -j -d link`."""
    out = run(["ip", "-j", "-d", "link", "show"]).stdout
    res = {}
    for l in json.loads(out):
        res[l["ifname"]] = {"mac": l.get("address"), "link": l.get("link"),
                            "kind": l.get("linkinfo", {}).get("info_kind", "")}
    return res


def macvtap_of(mac):
    """The macvtap device carrying vNIC MAC (libvirt gives it the guest's MAC)."""
    for name, l in links().items():
        if l["kind"] == "macvtap" and l["mac"] == mac:
            return name, l["link"]
    return None, None


class Zcrxd(Daemon):
    """build/zcrxd as the installed hook expects it: config and runtime
    directory at fixed places under $ZXL_STATE/<tag>."""

    def __init__(self, tag="a", uri=QEMU, config="", debug=True, **kw):
        base = os.path.join(STATE, "zcrx-" + tag)
        conf = write(os.path.join(base, "etc", "zcrx", "zcrxd.conf"), config)
        runtime = os.path.join(base, "run")
        state = os.path.join(base, "state")
        args = ["--runtime-dir", runtime, "--state-dir", state]
        if debug:
            args.append("--debug=virt")
        if kw.get("user"):
            # as systemd's RuntimeDirectory=/StateDirectory= give them: the
            # daemon's user owns both (a journal left by an earlier daemon
            # of this tag included)
            uid, gid = kw["user"][:2]
            for top in (runtime, state):
                os.makedirs(top, exist_ok=True)
                for root, dirs, files in os.walk(top):
                    for n in [root] + [os.path.join(root, x) for x in dirs + files]:
                        os.lchown(n, uid, gid)
        super().__init__(config_path=conf, libvirt_uri=uri, extra_args=args, **kw)
        self.runtime = runtime
        self.state = state
        self.socket = os.path.join(runtime, "io.zcrx.Manager")

    def libvirt(self):
        return self.status()["libvirt"]

    def wait_connected(self, connects=1, timeout=30):
        try:
            return wait_for(lambda: (self.libvirt()["state"] == "connected"
                                     and self.libvirt()["connects"] >= connects),
                            timeout, what="libvirt connected (%d)" % connects)
        except AssertionError as e:
            raise AssertionError("%s; zcrxd's libvirt status: %r" % (e, self.libvirt()))

    def attachments(self):
        return self.call("io.zcrx.Manager.ListAttachments").get("attachments", [])

    def attachment(self, mac, domain=None):
        for a in self.attachments():
            if a.get("mac") == mac and (domain is None or a.get("domain") == domain):
                return a
        return None


def timed(fn, *a, **kw):
    t0 = time.monotonic()
    r = fn(*a, **kw)
    return r, time.monotonic() - t0
