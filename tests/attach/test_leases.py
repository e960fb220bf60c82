#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Leases for host zero-copy consumers (issue 12) end to end on zcrxd-fake
(TEST ONLY: the daemon's own code over the fake NIC backend, which models
n-tuple flow rules, RSS contexts, header split and the memory providers
queue-get shows): Lease / ReleaseLease / ListLeases and their events, the
NIC prepared and restored exactly, the named refusals, leases and VM
attachments side by side, process owners (pidfd), the CLI including
"zcrxctl lease ... -- CMD", and authorization.
"""
import json
import os
import signal
import subprocess

from attachlib import FakeDaemonCase, mac, orphans, plan_ops, state_json, zxtest

CONF = """
[daemon]
ReconcileIntervalSec=0
SocketGroup=nogroup

[nic eth0]
ReserveQueues=4

[nic eth1]
ReserveQueues=2

[nic eth2]
ReserveQueues=2

[nic eth3]
ReserveQueues=1

[nic eth4]
ReserveQueues=2
HeaderSplit=off
"""

# eth1: no header split; eth2: no n-tuple filters; eth4: HeaderSplit=off
NICS = ("eth0:capable", "eth1:capable,hs=0", "eth2:capable,ntuple=0", "eth3:capable",
        "eth4:capable")

IO_URING, DMABUF = 1 << 1, 1 << 0  # enum nic_provider


def tcp(port, **kw):
    f = {"protocol": "tcp", "dport": port}
    f.update(kw)
    return f


@zxtest.require_root
class Leases(FakeDaemonCase):
    CONF = CONF
    NICS = NICS
    WORK = "zxp-lease-"

    def tearDown(self):
        for l in self.d.call("io.zcrx.Manager.ListLeases")["leases"]:
            self.d.call("io.zcrx.Manager.ReleaseLease", {"lease": l["name"]})
        self.assertEqual(orphans(self.d.fake(), state_json(self.d.state)), [])

    def lease(self, nic, flow, **p):
        p.update({"nic": nic, "flow": flow})
        return self.d.call("io.zcrx.Manager.Lease", p)["lease"]

    def refused(self, nic, flow, **p):
        with self.assertRaises(zxtest.VarlinkError) as e:
            self.lease(nic, flow, **p)
        return e.exception

    def nic(self, name):
        return self.d.fake_nic(name)

    def leases(self):
        return {l["name"]: l for l in self.d.call("io.zcrx.Manager.ListLeases")["leases"]}


    def ctl(self, *args, **kw):
        return zxtest.run([zxtest.ZCRXCTL, "--socket", self.d.socket] + list(args), check=False,
                          **kw)

    # --- preparation and restore ----------------------------------------------------

    def test_lease_prepares_the_nic_and_release_restores_it_exactly(self):
        before = self.nic("eth0")
        self.assertEqual(before["tds"], 1)  # header split off
        self.assertEqual(before["hds"], 256)
        l = self.lease("eth0", tcp(9000), name="srv")
        self.assertEqual((l["name"], l["state"], l["owner"]), ("srv", "waiting", "name"))
        self.assertEqual(l["ifindex"], before["ifindex"])
        self.assertEqual(len(l["queues"]), 1)
        q = l["queues"][0]
        self.assertIsNone(l["rss_context"])
        after = self.nic("eth0")
        self.assertEqual(after["tds"], 2)  # header split on
        self.assertEqual(after["hds"], 0)  # hds-thresh 0
        self.assertTrue(after["ntuple_on"])
        self.assertNotIn(q, after["indir0"])  # out of the default spread
        rules = {r["location"]: r for r in after["rules"]}
        self.assertEqual(sorted(rules), sorted(l["rules"]))
        self.assertEqual(sorted(r["flow"] for r in rules.values()),
                         ["tcp4 dst-port 9000", "tcp6 dst-port 9000"])
        self.assertTrue(all(r["queue"] == q and r["action"] == 0 for r in rules.values()))
        # the priors are in the journal
        j = [n for n in state_json(self.d.state)["nics"] if n["name"] == "eth0"][0]
        self.assertEqual((j.get("tcp_data_split_prior"), j.get("hds_thresh_prior")), (1, 256),
                         j)
        self.assertEqual(plan_ops(self.d, "eth0"), [])
        r = self.d.call("io.zcrx.Manager.ReleaseLease", {"lease": "srv"})["lease"]
        self.assertEqual(r["state"], "released")
        self.assertEqual(self.nic("eth0"), before)

    def test_flow_with_address_is_one_rule_and_queues_make_a_context(self):
        l = self.lease("eth0", tcp(9100, dst="10.0.0.7", src="10.0.0.9", sport=4000), queues=2)
        self.assertEqual(len(l["queues"]), 2)
        self.assertIsNotNone(l["rss_context"])
        rules = [r for r in self.nic("eth0")["rules"] if r["location"] in l["rules"]]
        self.assertEqual(len(rules), 1)
        self.assertEqual(rules[0]["flow"],
                         "tcp4 src-ip 10.0.0.9 dst-ip 10.0.0.7 dst-port 9100 src-port 4000")
        self.assertEqual((rules[0]["action"], rules[0]["context"]), (1, l["rss_context"]))
        ctx = [c for c in self.nic("eth0")["contexts"] if c["id"] == l["rss_context"]][0]
        self.assertEqual(sorted(set(ctx["indir"])), sorted(l["queues"]))
        udp = self.lease("eth0", {"protocol": "udp", "dport": 53, "dst": "fd00::1"})
        rules = [r for r in self.nic("eth0")["rules"] if r["location"] in udp["rules"]]
        self.assertEqual([r["flow"] for r in rules], ["udp6 dst-ip fd00::1 dst-port 53"])

    def test_same_name_same_content_is_one_lease(self):
        a = self.lease("eth0", tcp(9200), name="one")
        b = self.lease("eth0", tcp(9200), name="one")
        self.assertEqual(a["id"], b["id"])
        e = self.refused("eth0", tcp(9201), name="one")
        self.assertEqual(e.error, "io.zcrx.Manager.LeaseExists")

    # --- refusals -------------------------------------------------------------------------

    def test_refusals_are_named_and_change_nothing(self):
        self.lease("eth0", tcp(9300), name="first")
        cases = [
            ("eth0", tcp(9300, dst="192.0.2.1"), "io.zcrx.Manager.FlowInUse", None),
            ("eth1", tcp(9300), "io.zcrx.Manager.NicUnsupported", "header-split"),
            ("eth2", tcp(9300), "io.zcrx.Manager.NicUnsupported", "rules"),
            ("eth4", tcp(9300), "io.zcrx.Manager.NicUnsupported", "header-split"),
            ("eth0", {"protocol": "sctp", "dport": 1}, "io.zcrx.Manager.InvalidFlow", None),
            ("eth0", {"protocol": "tcp", "dport": 0}, "io.zcrx.Manager.InvalidFlow", None),
            ("eth0", tcp(1, dst="10.0.0.1", src="fd00::1"), "io.zcrx.Manager.InvalidFlow",
             None),
            ("nope", tcp(9300), "io.zcrx.Manager.NoSuchNic", None),
        ]
        before = self.d.fake()
        for nic, flow, name, cap in cases:
            e = self.refused(nic, flow)
            self.assertEqual(e.error, name, (nic, flow, e.parameters))
            self.assertTrue(e.parameters.get("message"), e.parameters)
            if cap:
                self.assertEqual(e.parameters["capability"], cap, e.parameters)
            if name.endswith("FlowInUse"):
                self.assertEqual(e.parameters["lease"], "first")
        self.assertEqual(self.d.fake(), before)
        self.assertEqual(sorted(self.leases()), ["first"])
        # a flow of another port, or of the other protocol, does not overlap
        self.lease("eth0", tcp(9301))
        self.lease("eth0", {"protocol": "udp", "dport": 9300})
        # the pool has 4 queues: the fifth lease is refused by name
        self.lease("eth0", tcp(9302))
        e = self.refused("eth0", tcp(9303))
        self.assertEqual(e.error, "io.zcrx.Manager.PoolExhausted", e.parameters)

    def test_queue_bound_by_something_else_is_not_taken(self):
        # eth3's pool is queue 7 alone; an io_uring provider zcrxd did not
        # make sits on it
        self.d.outside("provider eth3 7 %d" % IO_URING)
        try:
            # settled: queue 7 leaves the pool (and the table takes it back)
            self.d.call("io.zcrx.Manager.Reconcile", {"nic": "eth3"})
            before = self.d.fake()
            e = self.refused("eth3", tcp(9400))
            self.assertEqual(e.error, "io.zcrx.Manager.QueueInUse", e.parameters)
            self.assertIn("queue 7 has a memory provider (io-uring)", e.parameters["message"])
            self.assertEqual(self.d.fake(), before)
            # a VM attachment does not get it either
            att = self.d.call("io.zcrx.Manager.Attach",
                              {"domain": "vmq", "nic": "eth3", "mac": mac(0x400)})
            self.assertEqual(att["attachments"][0]["queues"], [])
            self.d.call("io.zcrx.Manager.Detach", {"domain": "vmq"})
        finally:
            self.d.outside("provider eth3 7 0")

    def test_a_bound_lease_queue_stays_its_own(self):
        l = self.lease("eth3", tcp(9500), name="held")
        self.d.outside("provider eth3 %d %d" % (l["queues"][0], IO_URING))
        try:
            e = self.refused("eth3", tcp(9501))
            self.assertEqual(e.error, "io.zcrx.Manager.PoolExhausted", e.parameters)
            att = self.d.call("io.zcrx.Manager.Attach",
                              {"domain": "vmb", "nic": "eth3", "mac": mac(0x401)})
            self.assertEqual(att["attachments"][0]["queues"], [])
            self.d.call("io.zcrx.Manager.Detach", {"domain": "vmb"})
            self.assertEqual(self.leases()["held"]["queues"], l["queues"])
            self.assertEqual(plan_ops(self.d, "eth3"), [])
        finally:
            self.d.outside("provider eth3 %d 0" % l["queues"][0])

    # --- the consumer -----------------------------------------------------------------------

    def test_waiting_bound_unbound_released_with_events(self):
        with self.d.client() as m:
            m.send("io.zcrx.Manager.Monitor", more=True)
            self.assertEqual(m.recv()["parameters"]["event"]["type"], "subscribed")
            l = self.lease("eth0", tcp(9600), queues=2, name="cons")
            q = l["queues"]

            def next_lease_event():
                while True:
                    ev = m.recv()["parameters"]["event"]
                    if ev["type"].startswith("lease-"):
                        return ev

            ev = next_lease_event()
            self.assertEqual((ev["type"], ev["state"]), ("lease-created", "waiting"))
            # one queue bound: still waiting (every queue must be)
            self.d.outside("provider eth0 %d %d" % (q[0], IO_URING))
            self.assertEqual(self.leases()["cons"]["state"], "waiting")
            self.d.outside("provider eth0 %d %d" % (q[1], IO_URING))
            ev = next_lease_event()
            self.assertEqual((ev["type"], ev["state"], ev["providers"]),
                             ("lease-changed", "bound", "io-uring"))
            got = self.leases()["cons"]
            self.assertEqual((got["state"], got["attachment_state"]), ("bound", "active"))
            self.assertTrue(all(x["io_uring"] for x in got["queue_providers"]))
            self.assertEqual(plan_ops(self.d, "eth0"), [])  # nothing moves under it
            self.d.outside("provider eth0 %d 0" % q[0], "provider eth0 %d 0" % q[1])
            ev = next_lease_event()
            self.assertEqual((ev["type"], ev["state"]), ("lease-changed", "unbound"))
            # a dmabuf (devmem) consumer next
            self.d.outside("provider eth0 %d %d" % (q[0], DMABUF),
                         "provider eth0 %d %d" % (q[1], DMABUF))
            ev = next_lease_event()
            self.assertEqual((ev["state"], ev["providers"]), ("bound", "dmabuf"))
            self.d.outside("provider eth0 %d 0" % q[0], "provider eth0 %d 0" % q[1])
            self.assertEqual(next_lease_event()["state"], "unbound")
            self.d.call("io.zcrx.Manager.ReleaseLease", {"lease": "cons"})
            ev = next_lease_event()
            self.assertEqual((ev["type"], ev["state"], ev["name"]),
                             ("lease-released", "released", "cons"))

    # --- leases and VMs together ----------------------------------------------------------

    def test_leases_and_vm_attachments_share_the_pool_and_the_listing(self):
        att = self.d.call("io.zcrx.Manager.Attach",
                          {"domain": "vm1", "nic": "eth0", "mac": mac(0x500)})["attachments"][0]
        l = self.lease("eth0", tcp(9700), name="host")
        self.assertFalse(set(att["queues"]) & set(l["queues"]))
        listed = self.d.call("io.zcrx.Manager.ListAttachments", {"nic": "eth0"})
        kinds = {a["domain"]: (a.get("kind"), a["steering"]) for a in listed["attachments"]}
        self.assertEqual(kinds, {"vm1": (None, "mac"), "host": ("lease", "flow")})
        self.assertEqual(listed["nics"][0]["leased"], 2)
        p = self.ctl("list", "eth0")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"lease:host +- +waiting .* flow +no")
        self.assertRegex(p.stdout, r"\nvm1 ")
        # a Detach of a domain called like the lease leaves the lease alone
        self.d.call("io.zcrx.Manager.Detach", {"domain": "vm1"})
        with self.assertRaises(zxtest.VarlinkError):
            self.d.call("io.zcrx.Manager.Detach", {"domain": "host"})
        self.assertIn("host", self.leases())

    # --- owners -------------------------------------------------------------------------------

    def test_process_owner_exit_releases(self):
        before = self.nic("eth0")
        code = ("import sys, json; sys.path.insert(0, %r); import zxtest\n"
                "c = zxtest.VarlinkClient(%r)\n"
                "l = c.call('io.zcrx.Manager.Lease', {'nic': 'eth0', 'owner': 'process',"
                " 'flow': {'protocol': 'tcp', 'dport': 9800}, 'name': 'proc'})['lease']\n"
                "print(json.dumps(l)); sys.stdout.flush(); sys.stdin.readline()\n"
                % (os.path.dirname(zxtest.__file__), self.d.socket))
        p = subprocess.Popen(["python3", "-c", code], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, universal_newlines=True)
        l = json.loads(p.stdout.readline())
        self.assertEqual((l["owner"], l["pid"]), ("process", p.pid))
        self.assertIn("proc", self.leases())
        p.kill()
        p.wait()
        p.stdin.close()
        p.stdout.close()
        zxtest.wait_for(lambda: "proc" not in self.leases(), 10, what="the owner's lease gone")
        self.assertEqual(self.nic("eth0"), before)

    # --- libzcrx ---------------------------------------------------------------------------------

    def lease_client(self, *args):
        return subprocess.Popen([os.path.join(zxtest.BUILD, "tests", "lease-client"), self.d.socket]
                                + list(args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                universal_newlines=True)

    def test_library_lease_and_release(self):
        before = self.nic("eth0")
        p = self.lease_client("eth0", "tcp:dport=7100,dst=10.9.9.9", "2", "lib", "name")
        line = p.stdout.readline().split()
        got = dict(kv.split("=", 1) for kv in line)
        l = self.leases()["lib"]
        self.assertEqual((int(got["id"]), got["name"], int(got["ifindex"])),
                         (l["id"], "lib", l["ifindex"]))
        self.assertEqual([int(q) for q in got["queues"].split(",")], l["queues"])
        self.assertEqual([int(r) for r in got["rules"].split(",")], l["rules"])
        self.assertEqual(int(got["context"]), l["rss_context"])
        out, _ = p.communicate("release\n")
        self.assertEqual((p.returncode, out.strip()), (0, "released"))
        self.assertEqual(self.leases(), {})
        self.assertEqual(self.nic("eth0"), before)
        # owned by the process: gone when it exits, without a release
        p = self.lease_client("eth0", "udp:dport=7101", "1", "-", "process")
        got = dict(kv.split("=", 1) for kv in p.stdout.readline().split())
        self.assertTrue(got["name"].startswith("lease-"), got)
        self.assertIn(got["name"], self.leases())
        p.communicate("")
        zxtest.wait_for(lambda: self.leases() == {}, 10, what="the process-owned lease gone")
        self.assertEqual(self.nic("eth0"), before)
        # a refusal comes back by name
        p = self.lease_client("eth1", "tcp:dport=7102", "1", "-", "name")
        out, _ = p.communicate("")
        self.assertEqual(p.returncode, 1)
        self.assertTrue(out.startswith("error io.zcrx.Manager.NicUnsupported: "), out)

    def test_release_of_the_nic_releases_its_leases(self):
        self.lease("eth0", tcp(7200), name="gone-with-nic")
        with self.d.client() as m:
            m.send("io.zcrx.Manager.Monitor", more=True)
            m.recv()
            self.d.call("io.zcrx.Manager.Release", {"nic": "eth0"})
            while True:
                ev = m.recv()["parameters"]["event"]
                if ev["type"] == "lease-released":
                    break
            self.assertEqual((ev["name"], ev["why"]), ("gone-with-nic", "NIC eth0 released"))
        self.assertEqual(self.leases(), {})
        # an Attach or Lease resumes management of the NIC
        self.lease("eth0", tcp(7201))

    # --- the CLI --------------------------------------------------------------------------------

    def test_cli_lease_leases_unlease(self):
        p = self.ctl("lease", "eth0", "--flow", "tcp:dport=9900,dst=10.1.2.3", "--name", "web",
                     "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        l = json.loads(p.stdout)["lease"]
        self.assertEqual((l["name"], l["flow"]["dst"]), ("web", "10.1.2.3"))
        p = self.ctl("leases")
        self.assertRegex(p.stdout, r"\n%d +web +eth0 +tcp:dport=9900,dst=10.1.2.3 +%d +" %
                         (l["id"], l["queues"][0]))
        p = self.ctl("lease", "eth0", "--flow", "tcp:dport=9900")
        self.assertEqual(p.returncode, 1)
        self.assertIn("Error: FlowInUse:", p.stderr)
        p = self.ctl("lease", "eth1", "--flow", "tcp:dport=9900")
        self.assertIn("Error: NicUnsupported (header-split):", p.stderr)
        for bad in ("tcp", "tcp:dport=0", "tcp:dport=70000", "icmp:dport=1", "tcp:port=1",
                    "tcp:dport=1,dst=nope"):
            p = self.ctl("lease", "eth0", "--flow", bad)
            self.assertEqual(p.returncode, 2, (bad, p.stderr))
        p = self.ctl("unlease", str(l["id"]))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("released lease %d 'web'" % l["id"], p.stdout)
        p = self.ctl("unlease", "web")
        self.assertEqual(p.returncode, 1)
        self.assertIn("no lease 'web'", p.stderr)

    def test_cli_lease_runs_a_command_for_its_lifetime(self):
        before = self.nic("eth0")
        out = os.path.join(self.work, "env")
        for status in (0, 3):
            p = self.ctl("lease", "eth0", "--flow", "udp:dport=4789", "--name", "cmd", "--",
                         "sh", "-c", 'echo "$ZCRX_IFINDEX $ZCRX_QUEUES $ZCRX_LEASE" > %s; '
                         'exit %d' % (out, status))
            self.assertEqual(p.returncode, status, p.stderr)
            with open(out) as f:
                ifindex, queues, name = f.read().split()
            self.assertEqual((int(ifindex), name), (before["ifindex"], "cmd"))
            self.assertTrue(queues.isdigit())
            self.assertEqual(self.leases(), {})
            self.assertEqual(self.nic("eth0"), before)
        p = self.ctl("lease", "eth0", "--flow", "udp:dport=4789", "--", "/nonexistent/cmd")
        self.assertEqual(p.returncode, 127)
        self.assertEqual(self.leases(), {})

    def cmd_running(self):
        """zcrxctl lease ... -- sleep: (zcrxctl, the sleep's pid) once leased."""
        p = subprocess.Popen([zxtest.ZCRXCTL, "--socket", self.d.socket, "lease", "eth0",
                              "--flow", "tcp:dport=9950", "--name", "long", "--", "sleep",
                              "600"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        zxtest.wait_for(lambda: "long" in self.leases(), 10, what="the lease")

        def child():
            try:
                with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                    return f.read().split()
            except OSError:
                return []
        zxtest.wait_for(child, 10, what="the command started")
        return p, int(child()[0])

    def test_cli_command_killed_releases(self):
        before = self.nic("eth0")
        p, cmd = self.cmd_running()
        self.assertEqual(self.leases()["long"]["pid"], p.pid)  # zcrxctl owns it
        os.kill(cmd, signal.SIGKILL)
        self.assertEqual(p.wait(20), 128 + signal.SIGKILL)
        self.assertEqual(self.leases(), {})
        self.assertEqual(self.nic("eth0"), before)

    def test_cli_killed_releases_and_stops_the_command(self):
        before = self.nic("eth0")
        p, cmd = self.cmd_running()
        p.kill()  # zcrxctl itself, by SIGKILL: no chance to release
        p.wait()
        zxtest.wait_for(lambda: "long" not in self.leases(), 10,
                        what="the lease of a killed zcrxctl gone")
        def gone():
            try:
                with open("/proc/%d/stat" % cmd) as f:
                    return f.read().split(")")[1].split()[0] == "Z"
            except OSError:
                return True
        zxtest.wait_for(gone, 10, what="the command stopped with its zcrxctl")
        self.assertEqual(self.nic("eth0"), before)

    # --- authorization ---------------------------------------------------------------------------

    def test_non_admin_can_list_not_lease(self):
        self.lease("eth0", tcp(9990), name="adm")
        os.chmod(self.d.runtime, 0o755)
        os.chmod(self.d.tmp, 0o755)

        def nobody(*args):
            return zxtest.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               zxtest.ZCRXCTL, "--socket", self.d.socket] + list(args),
                              check=False)
        p = nobody("--json", "leases")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual([l["name"] for l in json.loads(p.stdout)["leases"]], ["adm"])
        before = self.d.fake()
        for args in (("lease", "eth0", "--flow", "tcp:dport=9991"), ("unlease", "adm"),
                     ("lease", "eth0", "--flow", "tcp:dport=9992", "--", "true")):
            p = nobody(*args)
            self.assertEqual(p.returncode, 1, (args, p.stdout, p.stderr))
            self.assertIn("permission denied", p.stderr, args)
        self.assertEqual(self.d.fake(), before)
        self.assertIn("adm", self.leases())


if __name__ == "__main__":
    zxtest.main()
