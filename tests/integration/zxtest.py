# SPDX-License-Identifier: MIT
"""Shared fixtures for zcrx's Python tiers (standard library only).

- VarlinkClient: an independent Varlink client (it does not use libzcrx).
  Every reply it receives is checked against the interface description
  lib/io.zcrx.Manager.varlink (and org.varlink.service) with the strict
  parser varlinkidl.py: declared fields only, the right types, declared
  errors with their declared parameters.  A reply that breaks it fails the
  test (ZCRX_IDL_CHECK=0 turns that off, for measuring an older daemon).
- Netns: a private network namespace named zx<prefix>..., removed afterwards.
- Daemon: build/zcrxd started (optionally inside a netns) with temporary
  runtime/state dirs and a NOTIFY_SOCKET the test listens on.
- wait_for(): poll a condition with a deadline (never sleep-as-sync).

Binaries come from $ZCRX_BUILD (default: build/ of this checkout), so the
sanitizer pass runs the same tests against build/asan/.
"""
import collections
import fcntl
import json
import os
import shutil
import signal
import socket
import subprocess
import struct
import sys
import termios
import tempfile
import threading
import time
import unittest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.path.abspath(os.environ.get("ZCRX_BUILD", os.path.join(TOP, "build")))
ZCRXD = os.path.join(BUILD, "zcrxd")
ZCRXCTL = os.path.join(BUILD, "zcrxctl")


def is_root():
    return os.geteuid() == 0


def require_root(testcase_cls):
    """Skip a whole TestCase with a reason when not root."""
    if not is_root():
        return unittest.skip("needs root (private network namespaces)")(testcase_cls)
    return testcase_cls


def wait_for(cond, timeout=10.0, interval=0.02, what="condition"):
    """Poll cond() until it returns a truthy value; raise on timeout."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = cond()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.1fs waiting for %s (last: %r)"
                                 % (timeout, what, last))
        time.sleep(interval)


class VarlinkError(Exception):
    def __init__(self, error, parameters):
        super().__init__("%s %s" % (error, json.dumps(parameters)))
        self.error = error
        self.parameters = parameters


_checker = None


def idl_checker():
    """The reply checker of lib/io.zcrx.Manager.varlink, parsed once."""
    global _checker
    if _checker is None:
        import varlinkidl
        with open(os.path.join(TOP, "lib", "io.zcrx.Manager.varlink")) as f:
            _checker = varlinkidl.Checker(f.read())
    return _checker


class VarlinkClient:
    """Minimal Varlink client over a UNIX stream socket; checks every reply
    against the interface description (see above)."""

    check = os.environ.get("ZCRX_IDL_CHECK", "1") != "0"

    def __init__(self, path, timeout=10.0):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        self.sock.connect(path)
        self.buf = b""
        self.sent = b""
        # the methods whose replies are due, in order (None: a message that
        # is no valid request, answered with an error)
        self.pending = collections.deque()

    def _sent_message(self, raw):
        try:
            m = json.loads(raw.decode("utf-8"))
        except ValueError:
            m = None
        if isinstance(m, dict) and isinstance(m.get("method"), str):
            if m.get("oneway") is not True:
                self.pending.append(m["method"])
        else:
            self.pending.append(None)

    def _check(self, reply):
        method = self.pending[0] if self.pending else None
        if not reply.get("continues") and self.pending:
            self.pending.popleft()
        if not self.check:
            return
        problems = idl_checker().reply(reply, method)
        if problems:
            raise AssertionError("the reply to %s breaks the IDL: %s\n%s"
                                 % (method, "; ".join(problems), json.dumps(reply)[:2000]))

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def send_raw(self, data):
        self.sent += data
        while b"\0" in self.sent:
            raw, self.sent = self.sent.split(b"\0", 1)
            self._sent_message(raw)
        self.sock.sendall(data)

    def send(self, method, parameters=None, more=False, oneway=False):
        msg = {"method": method}
        if parameters is not None:
            msg["parameters"] = parameters
        if more:
            msg["more"] = True
        if oneway:
            msg["oneway"] = True
        self.send_raw(json.dumps(msg).encode() + b"\0")

    def recv(self):
        """One reply object; raises ConnectionError on EOF."""
        while b"\0" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("connection closed by zcrxd")
            self.buf += chunk
        msg, self.buf = self.buf.split(b"\0", 1)
        reply = json.loads(msg.decode("utf-8"))
        self._check(reply)
        return reply

    def call(self, method, parameters=None):
        self.send(method, parameters)
        reply = self.recv()
        if "error" in reply:
            raise VarlinkError(reply["error"], reply.get("parameters", {}))
        return reply.get("parameters", {})

    def closed_by_peer(self, timeout=5.0):
        """True once the daemon closed the connection (EOF/reset) within timeout."""
        self.sock.settimeout(timeout)
        try:
            while True:
                chunk = self.sock.recv(65536)
                if not chunk:
                    return True
                self.buf += chunk
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False


NOBODY = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
# the interpreter of the system: the one on PATH may be in root's home
SYSTEM_PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable


def calls_as_nobody(socket_path, calls):
    """Make calls [(method, parameters), ...] on one connection as uid 65534
    (its group, nogroup, must be allowed to connect: SocketGroup=nogroup and
    a searchable directory); returns the reply messages, errors included."""
    code = ("import json, sys; sys.path.insert(0, %r); import zxtest\n"
            "c = zxtest.VarlinkClient(%r)\n"
            "out = []\n"
            "for m, p in json.loads(sys.argv[1]):\n"
            "    c.send(m, p)\n"
            "    out.append(c.recv())\n"
            "print(json.dumps(out))\n" % (os.path.dirname(os.path.abspath(__file__)), socket_path))
    p = run(NOBODY + [SYSTEM_PYTHON, "-c", code, json.dumps(calls)], check=False)
    if p.returncode != 0:
        raise AssertionError("calls as uid 65534 failed: " + p.stderr)
    return json.loads(p.stdout)


def run(cmd, check=True, **kw):
    kw.setdefault("stdout", subprocess.PIPE)
    kw.setdefault("stderr", subprocess.PIPE)
    kw.setdefault("universal_newlines", True)
    p = subprocess.run(cmd, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d): %s%s" % (" ".join(cmd), p.returncode, p.stdout,
                                                         p.stderr))
    return p


class Netns:
    """A private network namespace, removed on exit (with its devices)."""

    def __init__(self, prefix="zxc"):
        self.name = "%s%d" % (prefix, os.getpid() % 100000)
        n = 0
        while os.path.exists("/run/netns/" + self.name):
            n += 1
            self.name = "%s%d_%d" % (prefix, os.getpid() % 100000, n)

    def __enter__(self):
        run(["ip", "netns", "add", self.name])
        self.ip("link", "set", "lo", "up")
        return self

    def __exit__(self, *a):
        self.delete()

    def delete(self):
        run(["ip", "netns", "del", self.name], check=False)

    def ip(self, *args, check=True):
        return run(["ip", "-n", self.name] + list(args), check=check)

    def exec_cmd(self, argv):
        return ["ip", "netns", "exec", self.name] + list(argv)

    def add_veth(self, a, b, queues=8):
        self.ip("link", "add", a, "numrxqueues", str(queues), "numtxqueues", str(queues),
                "type", "veth", "peer", "name", b, "numrxqueues", str(queues),
                "numtxqueues", str(queues))
        self.ip("link", "set", a, "up")
        self.ip("link", "set", b, "up")

    def add_macvtap(self, lower, name, mac=None, up=True):
        """A macvtap in bridge mode on lower (what libvirt gives a VM)."""
        self.ip("link", "add", "link", lower, "name", name, "type", "macvtap", "mode", "bridge")
        if mac:
            self.ip("link", "set", name, "address", mac)
        if up:
            self.ip("link", "set", name, "up")


class NotifySocket:
    """The sd_notify receiver systemd would be: it reads every datagram as
    it comes (a thread), as systemd does.  A receiver that read only when a
    test waited would let the socket's queue fill up (net.unix.
    max_dgram_qlen, 10 here) after a few reloads, and the daemon would block
    in sd_notify(): a hang of the test's making."""

    def __init__(self, directory):
        self.path = os.path.join(directory, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages = []
        self.times = []  # time.monotonic() when each message was read
        self.arrived = threading.Condition()
        self.closing = False
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while not self.closing:
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.arrived:
                self.messages.append(data.decode())
                self.times.append(time.monotonic())
                self.arrived.notify_all()

    def drain(self, timeout=0.0):
        """What has arrived (every datagram queued now included); wait up
        to timeout for one more."""
        waited = 0
        while self.queued() and waited < 100:
            time.sleep(0.01)  # the reader thread is taking it
            waited += 1
        with self.arrived:
            if timeout > 0:
                n = len(self.messages)
                self.arrived.wait_for(lambda: len(self.messages) > n, timeout)
            return list(self.messages)

    def queued(self):
        """Bytes of the next datagram still in the socket (0: none)."""
        try:
            return struct.unpack("i", fcntl.ioctl(self.sock.fileno(), termios.FIONREAD,
                                                  b"\0\0\0\0"))[0]
        except OSError:
            return 0

    def lines_at(self, line):
        """When each datagram carrying line arrived."""
        with self.arrived:
            return [t for t, m in zip(self.times, self.messages) if line in m.split("\n")]

    def wait(self, line, timeout=10.0, proc=None):
        """Wait for a notification line; fail early if proc (the sender) exits."""
        def seen():
            msgs = self.drain(0.05)
            if any(line in m.split("\n") for m in msgs):
                return True
            if proc is not None and proc.poll() is not None:
                raise AssertionError("zcrxd exited (%d) before sending %r"
                                     % (proc.returncode, line))
            return False
        return wait_for(seen, timeout, 0, "%r on NOTIFY_SOCKET" % line)

    def close(self):
        self.closing = True
        self.reader.join()
        self.sock.close()


class Daemon:
    """build/zcrxd with temporary dirs; stopped by its PID."""

    def __init__(self, netns=None, config_text=None, config_path=None, extra_args=(),
                 env=None, libvirt_uri="none", wait_ready=True, user=None):
        """user: (uid, gid, [capabilities]) to run zcrxd as that user with
        only those capabilities (setpriv), its directories its own."""
        self.tmp = tempfile.mkdtemp(prefix="zxc-daemon-")
        self.runtime = os.path.join(self.tmp, "run")
        self.state = os.path.join(self.tmp, "state")
        self.socket = os.path.join(self.runtime, "io.zcrx.Manager")
        self.config = config_path or os.path.join(self.tmp, "zcrxd.conf")
        if config_text is not None:
            with open(self.config, "w") as f:
                f.write(config_text)
        self.notify = NotifySocket(self.tmp)
        self.stderr_path = os.path.join(self.tmp, "stderr.log")
        argv = [ZCRXD, "--config", self.config, "--runtime-dir", self.runtime,
                "--state-dir", self.state]
        if libvirt_uri is not None:
            argv += ["--libvirt-uri", libvirt_uri]
        argv += list(extra_args)
        if user:
            uid, gid, caps = user
            for d in (self.runtime, self.state):
                os.mkdir(d)
                os.chown(d, uid, gid)
            os.chmod(self.tmp, 0o755)
            os.chmod(self.config, 0o644)
            os.chmod(self.notify.path, 0o666)
            c = ",".join(["-all"] + ["+" + x for x in caps])
            argv = ["setpriv", "--reuid=%d" % uid, "--regid=%d" % gid, "--clear-groups",
                    "--inh-caps=" + c, "--ambient-caps=" + c, "--bounding-set=" + c] + argv
        if netns:
            argv = netns.exec_cmd(argv)
        e = dict(os.environ)
        e["NOTIFY_SOCKET"] = self.notify.path
        e.pop("JOURNAL_STREAM", None)
        if env:
            e.update(env)
        self.errf = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(argv, stdout=self.errf, stderr=self.errf, env=e)
        if wait_ready:
            try:
                self.notify.wait("READY=1", timeout=20, proc=self.proc)
            except AssertionError:
                self.stop()
                raise AssertionError("zcrxd did not become ready:\n" + self.log())

    def log(self):
        self.errf.flush()
        with open(self.stderr_path) as f:
            return f.read()

    def client(self):
        return VarlinkClient(self.socket)

    def call(self, method, parameters=None):
        """One call on a fresh connection, closed afterwards."""
        with self.client() as c:
            return c.call(method, parameters)

    def status(self):
        return self.call("io.zcrx.Manager.GetStatus")

    def ctl(self, *args, check=False, timeout=None):
        argv = [ZCRXCTL, "--socket", self.socket]
        if timeout is not None:
            argv += ["--timeout", str(timeout)]
        return run(argv + list(args), check=check)

    def kill(self, sig):
        self.proc.send_signal(sig)

    def stop(self, sig=signal.SIGTERM, timeout=20):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    SANITIZER_MARKS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:")

    def sanitizer_report(self):
        """The sanitizer's complaint in the daemon's output, or None."""
        log = self.log()
        for mark in self.SANITIZER_MARKS:
            i = log.find(mark)
            if i >= 0:
                return log[max(0, i - 200):i + 3000]
        return None

    def cleanup(self):
        self.stop()
        report = self.sanitizer_report()
        self.errf.close()
        self.notify.close()
        shutil.rmtree(self.tmp, ignore_errors=True)
        if report:
            raise AssertionError("zcrxd sanitizer report:\n" + report)


def main():
    """Run the calling module's tests.  Exit 0 only when every test ran and
    passed; 1 when one failed; 77 when none failed but some were skipped
    (a test that did not run is not a pass), with every reason on the
    "SKIP:" line.  Under CI (ZCRX_CI=1) a skip is a failure."""
    prog = unittest.main(module="__main__", exit=False, verbosity=2)
    sys.exit(verdict(prog.result))


def verdict(res):
    """The exit status for a unittest result (see main())."""
    if not res.wasSuccessful():
        return 1
    if not res.testsRun:
        print("SKIP: no tests")
        return 1 if os.environ.get("ZCRX_CI") == "1" else 77
    if res.skipped:
        why = "; ".join(sorted(set(r for _, r in res.skipped)))
        line = "%d of %d tests skipped: %s" % (len(res.skipped), res.testsRun, why)
        if os.environ.get("ZCRX_CI") == "1":
            print("FAIL: skipped under CI (ZCRX_CI=1), where every test must run: " + line)
            return 1
        print("SKIP: " + line)
        return 77
    return 0
