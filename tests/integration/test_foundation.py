#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Integration tier: zcrxd end to end in a private netns with a veth "NIC".

An independent Varlink client (zxtest.VarlinkClient, stdlib only) checks the
protocol; zcrxctl checks the CLI; the notify socket checks systemd readiness.
"""
import grp
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import time
import unittest

import zxtest
from zxtest import Daemon, Netns, VarlinkClient, VarlinkError, wait_for


@zxtest.require_root
class Foundation(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ns = Netns("zxc")
        cls.ns.__enter__()
        cls.ns.add_veth("zxc0", "zxc1", queues=8)
        cls.d = Daemon(netns=cls.ns, config_text="[daemon]\nReconcileIntervalSec=5\n"
                       "ReadTimeoutSec=1.5\nMaxConnections=6\n")

    @classmethod
    def tearDownClass(cls):
        cls.d.cleanup()
        cls.ns.delete()

    def test_ready_and_status_notifications(self):
        msgs = "\n".join(self.d.notify.drain())
        self.assertIn("READY=1", msgs)
        self.assertIn("STATUS=", msgs)

    def test_zcrxctl_status(self):
        p = self.d.ctl("status")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertRegex(p.stdout, r"Version:\s+\S+ \(protocol 1\)")
        self.assertRegex(p.stdout, r"Libvirt:\s+disabled")
        p = self.d.ctl("status", "--json")
        self.assertEqual(p.returncode, 0, p.stderr)
        st = json.loads(p.stdout)
        self.assertEqual(st["protocol"], 1)
        self.assertIsInstance(st["uptime_usec"], int)
        self.assertEqual(st["libvirt"], {"uri": None, "state": "disabled"})
        for k in ("nics", "attachments", "connections"):
            self.assertIsInstance(st[k], int)

    def test_get_info(self):
        with self.d.client() as c:
            info = c.call("org.varlink.service.GetInfo")
        self.assertEqual(info["product"], "zcrxd")
        self.assertIn("io.zcrx.Manager", info["interfaces"])
        self.assertIn("org.varlink.service", info["interfaces"])

    def test_interface_description_is_the_committed_file(self):
        with open(os.path.join(zxtest.TOP, "lib", "io.zcrx.Manager.varlink")) as f:
            committed = f.read()
        with self.d.client() as c:
            desc = c.call("org.varlink.service.GetInterfaceDescription",
                          {"interface": "io.zcrx.Manager"})["description"]
            self.assertEqual(desc, committed)
            self.assertIn("method GetStatus()", desc)
            with self.assertRaises(VarlinkError) as e:
                c.call("org.varlink.service.GetInterfaceDescription", {"interface": "com.example.X"})
            self.assertEqual(e.exception.error, "org.varlink.service.InterfaceNotFound")

    def test_method_not_found(self):
        with self.d.client() as c:
            with self.assertRaises(VarlinkError) as e:
                c.call("io.zcrx.Manager.NoSuchMethod")
            self.assertEqual(e.exception.error, "org.varlink.service.MethodNotFound")
            self.assertEqual(e.exception.parameters["method"], "io.zcrx.Manager.NoSuchMethod")
            with self.assertRaises(VarlinkError) as e:
                c.call("com.example.Other.Thing")
            self.assertEqual(e.exception.error, "org.varlink.service.InterfaceNotFound")
            # the connection is still usable
            self.assertEqual(c.call("io.zcrx.Manager.GetStatus")["protocol"], 1)

    def test_invalid_method_name_of_a_known_interface(self):
        """docs/ipc.md: an unknown method of a known interface is
        MethodNotFound, even when the name is not a valid method name."""
        with self.d.client() as c:
            for m in ("io.zcrx.Manager.getStatus", "io.zcrx.Manager.Get-Status",
                      "io.zcrx.Manager."):
                with self.assertRaises(VarlinkError) as e:
                    c.call(m)
                self.assertEqual(e.exception.error, "org.varlink.service.MethodNotFound", m)
                self.assertEqual(e.exception.parameters["method"], m)
            with self.assertRaises(VarlinkError) as e:
                c.call("io.zcrx.manager.GetStatus")
            self.assertEqual(e.exception.error, "org.varlink.service.InterfaceNotFound")
            self.assertEqual(e.exception.parameters["interface"], "io.zcrx.manager")

    def test_strings_varlink_cannot_carry(self):
        """Surrogates, overlong forms, code points above U+10FFFF and NUL
        (escaped or not) in method names, parameter names and values are a
        ProtocolError; json-c alone accepted them, echoed them back and
        stored them (state.json), and NUL cut names short."""
        bad = [b'{"method":"io.zcrx.Manager.GetStatus\\u0000x"}',
               b'{"method":"io.zcrx.Manager.GetNic","parameters":{"nic":"a\\u0000b"}}',
               b'{"method":"io.zcrx.Manager.GetNic","parameters":{"ni\\u0000c":"x"}}',
               b'{"method":"io.zcrx.Manager.GetNic","parameters":{"nic":"\\ud800"}}',
               b'{"method":"io.zcrx.Manager.GetNic","parameters":{"nic":"\\udfff\\ud800"}}',
               b'{"method":"io.zcrx.Manager.GetNic","parameters":{"nic":"\xed\xa0\x80"}}',
               b'{"method":"io.zcrx.Manager.GetNic","parameters":{"nic":"\xc0\xae"}}',
               b'{"method":"io.zcrx.Manager.GetNic","parameters":{"nic":"\xf4\x90\x80\x80"}}',
               b'{"method":"io.zcrx.Manager.Attach","parameters":{"domain":"\\ud800",'
               b'"nic":"zxc0","mac":"52:54:00:00:00:01"}}']
        with self.d.client() as c:
            for raw in bad:
                c.send_raw(raw + b"\0")
                r = c.recv()
                self.assertEqual(r.get("error"), "io.zcrx.Manager.ProtocolError", (raw, r))
                self.assertIn("UTF-8", r["parameters"]["message"])
            # a surrogate pair is a real character: fine
            with self.assertRaises(VarlinkError) as e:
                c.call("io.zcrx.Manager.GetNic", {"nic": "\U0001F600"})
            self.assertEqual(e.exception.error, "io.zcrx.Manager.NoSuchNic")
            self.assertEqual(e.exception.parameters["nic"], "\U0001F600")
            self.assertEqual(c.call("io.zcrx.Manager.ListAttachments")["attachments"], [])

    def test_invalid_parameter(self):
        with self.d.client() as c:
            with self.assertRaises(VarlinkError) as e:
                c.call("io.zcrx.Manager.GetStatus", {"bogus": 1})
            self.assertEqual(e.exception.error, "org.varlink.service.InvalidParameter")
            self.assertEqual(e.exception.parameters["parameter"], "bogus")
            with self.assertRaises(VarlinkError) as e:
                c.call("org.varlink.service.GetInterfaceDescription", {"interface": 5})
            self.assertEqual(e.exception.parameters["parameter"], "interface")
            with self.assertRaises(VarlinkError) as e:
                c.call("org.varlink.service.GetInterfaceDescription", {})
            self.assertEqual(e.exception.parameters["parameter"], "interface")

    def test_pipelining_and_oneway(self):
        with self.d.client() as c:
            # three calls in one write (one of them oneway), answered in order
            reqs = [{"method": "io.zcrx.Manager.GetStatus"},
                    {"method": "io.zcrx.Manager.GetStatus", "oneway": True},
                    {"method": "org.varlink.service.GetInfo"},
                    {"method": "io.zcrx.Manager.Nope"}]
            c.send_raw(b"".join(json.dumps(r).encode() + b"\0" for r in reqs))
            r1, r2, r3 = c.recv(), c.recv(), c.recv()
            self.assertIn("protocol", r1["parameters"])
            self.assertIn("interfaces", r2["parameters"])
            self.assertEqual(r3["error"], "org.varlink.service.MethodNotFound")

    def test_split_message(self):
        with self.d.client() as c:
            data = json.dumps({"method": "io.zcrx.Manager.GetStatus"}).encode() + b"\0"
            for i in range(0, len(data), 3):
                c.send_raw(data[i:i + 3])
            self.assertIn("protocol", c.recv()["parameters"])

    def test_monitor_streams_with_more(self):
        with self.d.client() as c:
            with self.assertRaises(VarlinkError) as e:
                c.call("io.zcrx.Manager.Monitor")
            self.assertEqual(e.exception.error, "org.varlink.service.ExpectedMore")
        with self.d.client() as m:
            m.send("io.zcrx.Manager.Monitor", more=True)
            first = m.recv()
            self.assertTrue(first.get("continues"))
            self.assertEqual(first["parameters"]["event"]["type"], "subscribed")
            self.d.kill(signal.SIGHUP)
            ev = m.recv()
            self.assertTrue(ev.get("continues"))
            self.assertEqual(ev["parameters"]["event"]["type"], "config-reloaded")

    def test_garbage_does_not_hurt_others(self):
        with self.d.client() as other, self.d.client() as bad:
            bad.send_raw(b"{this is not json\0")
            r = bad.recv()
            self.assertEqual(r["error"], "io.zcrx.Manager.ProtocolError")
            bad.send_raw(b'{"method":"io.zcrx.Manager.GetStatus","parameters":{"x":"\xff\xfe"}}\0')
            self.assertEqual(bad.recv()["error"], "io.zcrx.Manager.ProtocolError")
            bad.send_raw(b'{"parameters":{}}\0')
            r = bad.recv()
            self.assertEqual(r["error"], "io.zcrx.Manager.ProtocolError")
            self.assertIn("method", r["parameters"]["message"])
            # still the same connection, still served
            self.assertEqual(bad.call("io.zcrx.Manager.GetStatus")["protocol"], 1)
            self.assertEqual(other.call("io.zcrx.Manager.GetStatus")["protocol"], 1)

    def test_oversized_message_closes_only_that_connection(self):
        with self.d.client() as other, self.d.client() as big:
            try:
                big.send_raw(b'{"method":"io.zcrx.Manager.GetStatus","parameters":{"x":"'
                             + b"A" * (1024 * 1024 + 10) + b'"}}\0')
            except (BrokenPipeError, ConnectionResetError):
                pass  # the daemon may cut us off mid-write
            self.assertTrue(big.closed_by_peer(timeout=10))
            self.assertEqual(other.call("io.zcrx.Manager.GetStatus")["protocol"], 1)

    def test_slow_client_never_stalls_others(self):
        with self.d.client() as slow:
            slow.send_raw(b'{"method":"io.zcrx.Man')  # and then nothing
            t0 = time.monotonic()
            with self.d.client() as other:
                self.assertEqual(other.call("io.zcrx.Manager.GetStatus")["protocol"], 1)
            self.assertLess(time.monotonic() - t0, 1.2)  # served before the deadline hit
            # the read deadline (1.5 s in this test) closes the slow one
            self.assertTrue(slow.closed_by_peer(timeout=10))

    def test_connection_cap(self):
        cap = 6  # MaxConnections= above
        # connections other tests left behind are closed asynchronously
        wait_for(lambda: self.d.status()["connections"] == 1, what="no other connections")
        conns = []
        try:
            for i in range(cap):
                c = VarlinkClient(self.d.socket)
                conns.append(c)
                self.assertIn("protocol", c.call("io.zcrx.Manager.GetStatus"))
            extra = VarlinkClient(self.d.socket)
            conns.append(extra)
            # refused at accept: the error comes unasked, then the daemon hangs up
            # (so we do not write: that could race with the close)
            self.assertEqual(extra.recv()["error"], "io.zcrx.Manager.TooManyConnections")
            self.assertTrue(extra.closed_by_peer(timeout=5))
            # the ones inside the cap are still served
            self.assertIn("protocol", conns[0].call("io.zcrx.Manager.GetStatus"))
            # closing one makes room again
            conns.pop(0).close()

            def served():
                try:
                    return "protocol" in self.d.status()
                except (VarlinkError, ConnectionError):
                    return False
            wait_for(served, 5, what="a free connection slot")
        finally:
            for c in conns:
                c.close()
            # the next test finds its slots: zcrxd has seen these go
            def only_this_one():
                try:
                    return self.d.status()["connections"] == 1
                except (VarlinkError, ConnectionError):
                    return False
            wait_for(only_this_one, what="connections closed")

    def test_libvirt_not_loaded_without_libvirt(self):
        # --libvirt-uri none: libvirt (and its ~60 libraries) is never mapped
        with open("/proc/%d/maps" % self.d.proc.pid) as f:
            maps = f.read()
        self.assertNotIn("libvirt.so", maps)
        self.assertIn("libjson-c", maps)  # the check itself can see libraries

    def test_socket_permissions(self):
        st = os.stat(self.d.socket)
        self.assertTrue(stat.S_ISSOCK(st.st_mode))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o660)
        # nobody (uid 65534, not in the socket's group) cannot connect
        p = zxtest.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        zxtest.ZCRXCTL, "--socket", self.d.socket, "status"], check=False)
        self.assertEqual(p.returncode, 3, p.stdout + p.stderr)
        self.assertIn("permission denied", p.stderr)


@zxtest.require_root
class Lifecycle(unittest.TestCase):
    def setUp(self):
        self.ns = Netns("zxc")
        self.ns.__enter__()
        self.ns.add_veth("zxc0", "zxc1", queues=8)

    def tearDown(self):
        self.ns.delete()

    def test_sighup_with_broken_config_keeps_old(self):
        d = Daemon(netns=self.ns, config_text="[daemon]\nAutoAttach=none\n")
        try:
            dropins = d.config + ".d"
            os.mkdir(dropins)
            with open(os.path.join(dropins, "10-good.conf"), "w") as f:
                f.write("[daemon]\nReconcileIntervalSec=9\n")
            d.kill(signal.SIGHUP)
            wait_for(lambda: d.status()["reloads"] == 1,
                     what="first reload")
            files = d.status()["config_files"]
            self.assertEqual(len(files), 2)
            with open(os.path.join(dropins, "20-bad.conf"), "w") as f:
                f.write("[daemon]\n\nAutoAttach=sometimes\n")
            d.kill(signal.SIGHUP)
            wait_for(lambda: d.status()["reload_failures"] == 1,
                     what="rejected reload")
            st = d.status()
            self.assertEqual(st["reloads"], 1)
            self.assertEqual(st["config_files"], files)  # the old config is still in effect
            self.assertRegex(d.log(), r"20-bad\.conf:3: AutoAttach='sometimes'")
            self.assertIn("keeping the old one", d.log())
        finally:
            d.cleanup()

    def test_sigterm_removes_socket(self):
        d = Daemon(netns=self.ns, config_text="")
        try:
            self.assertTrue(os.path.exists(d.socket))
            self.assertEqual(d.stop(signal.SIGTERM), 0)
            self.assertFalse(os.path.exists(d.socket))
            self.assertTrue(any("STOPPING=1" in m for m in d.notify.drain(0.2)))
            p = d.ctl("status")
            self.assertEqual(p.returncode, 3)
            self.assertIn("zcrxd is not running", p.stderr)
        finally:
            d.cleanup()

    def test_sigint_clean_and_watchdog(self):
        d = Daemon(netns=self.ns, config_text="", env={"WATCHDOG_USEC": "200000"})
        try:
            d.notify.wait("WATCHDOG=1", timeout=10)
            self.assertEqual(d.stop(signal.SIGINT), 0)
            self.assertFalse(os.path.exists(d.socket))
        finally:
            d.cleanup()

    def test_bad_config_at_start_names_file_and_line(self):
        d = Daemon(netns=self.ns, config_text="[daemon]\nBogus=1\n[nic zxc0]\nChannels=x\n",
                   wait_ready=False)
        try:
            self.assertEqual(d.proc.wait(20), 1)
            log = d.log()
            self.assertIn("zcrxd.conf:2: unknown key 'Bogus' in [daemon]", log)
            self.assertIn("zcrxd.conf:4: Channels='x'", log)
            self.assertFalse(os.path.exists(d.socket))
        finally:
            d.cleanup()

    def test_second_daemon_refuses_live_socket(self):
        d = Daemon(netns=self.ns, config_text="")
        try:
            p = zxtest.run(self.ns.exec_cmd([zxtest.ZCRXD, "--config", d.config, "--runtime-dir",
                                             d.runtime, "--state-dir", d.state,
                                             "--libvirt-uri", "none"]), check=False, timeout=20)
            self.assertEqual(p.returncode, 1)
            self.assertIn("another zcrxd already answers", p.stderr)
            self.assertEqual(d.status()["protocol"], 1)
        finally:
            d.cleanup()

    def test_socket_group_grants_read_access(self):
        d = Daemon(netns=self.ns, config_text="[daemon]\nSocketGroup=nogroup\n")
        try:
            st = os.stat(d.socket)
            self.assertEqual(st.st_gid, grp.getgrnam("nogroup").gr_gid)
            os.chmod(d.runtime, 0o755)
            os.chmod(d.tmp, 0o755)
            p = zxtest.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            zxtest.ZCRXCTL, "--socket", d.socket, "status", "--json"], check=False)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertEqual(json.loads(p.stdout)["protocol"], 1)
        finally:
            d.cleanup()


@zxtest.require_root
class Journal(unittest.TestCase):
    """With JOURNAL_STREAM naming its stderr, zcrxd logs to the journal with
    structured fields.  A private mount namespace puts a socket of ours at
    /run/systemd/journal/socket (the native journal protocol: KEY=VALUE)."""

    def test_structured_fields_when_stderr_is_the_journal(self):
        import tempfile
        tmp = tempfile.mkdtemp(prefix="zxc-journal-")
        jdir = os.path.join(tmp, "journal")
        os.mkdir(jdir)
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(os.path.join(jdir, "socket"))
        errpath = os.path.join(tmp, "stderr")
        proc = None
        try:
            with open(errpath, "w") as err:
                st = os.fstat(err.fileno())
                env = dict(os.environ, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
                script = ('mount -t tmpfs zxc-run /run && mkdir -p /run/systemd/journal && '
                          'mount --bind "$1" /run/systemd/journal && shift && exec "$@"')
                proc = subprocess.Popen(
                    ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh",
                     jdir, zxtest.ZCRXD, "--libvirt-uri", "none", "--config", "/nonexistent.conf",
                     "--runtime-dir", os.path.join(tmp, "run"), "--state-dir",
                     os.path.join(tmp, "state")],
                    stdout=err, stderr=err, env=env)
                sock.settimeout(10)
                entries = []
                # the bad config is refused: its error goes to the journal
                while not any(b"cannot read" in e for e in entries):
                    entries.append(sock.recv(65536))
                self.assertEqual(proc.wait(10), 1)
            entry = next(e for e in entries if b"cannot read" in e)
            fields = dict(l.split(b"=", 1) for l in entry.split(b"\n") if b"=" in l)
            self.assertEqual(fields[b"ZCRX_SUBSYSTEM"], b"config")
            self.assertEqual(fields[b"PRIORITY"], b"3")
            self.assertIn(b"/nonexistent.conf: cannot read", fields[b"MESSAGE"])
            with open(errpath) as f:
                self.assertEqual(f.read(), "")  # nothing went to stderr
        finally:
            if proc and proc.poll() is None:
                proc.kill()
                proc.wait()
            sock.close()
            shutil.rmtree(tmp, ignore_errors=True)


class NoDaemon(unittest.TestCase):
    def test_zcrxctl_without_daemon_exits_3(self):
        p = zxtest.run([zxtest.ZCRXCTL, "--socket", "/tmp/zxc-nothing-here/io.zcrx.Manager",
                        "status"], check=False)
        self.assertEqual(p.returncode, 3)
        self.assertIn("zcrxd is not running (no socket at /tmp/zxc-nothing-here", p.stderr)

    def test_check_config_reports_all_errors(self):
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".conf", delete=False) as f:
            f.write("[daemon]\nAutoAttach=x\n[nic eth0]\nSteering=none\n")
        try:
            p = zxtest.run([zxtest.ZCRXD, "--check-config", "--config", f.name], check=False)
            self.assertEqual(p.returncode, 1)
            self.assertIn(f.name + ":2: AutoAttach='x'", p.stderr)
            self.assertIn(f.name + ":4: Steering='none'", p.stderr)
            self.assertIn("2 problems", p.stderr)
        finally:
            os.unlink(f.name)


if __name__ == "__main__":
    zxtest.main()
