#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""state.json holds the ownership journal: what zcrxd made on the NICs
(issue 10 item 8, DESIGN.md §14).  A file that does not parse is moved
aside under a name of its own (never over an earlier one) and zcrxd starts
without it; a file that cannot be read stops the start, with a message
that says why, and stays where it is."""
import glob
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import zlib

import zxtest
from zxtest import Daemon, Netns


@zxtest.require_root
class StateFile(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ns = Netns("zxc").__enter__()

    @classmethod
    def tearDownClass(cls):
        cls.ns.delete()

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zxc-state-")
        self.state = os.path.join(self.tmp, "state")
        os.mkdir(self.state, 0o700)
        self.path = os.path.join(self.state, "state.json")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, wait_ready=True):
        return Daemon(netns=self.ns, config_text="[daemon]\nReconcileIntervalSec=0\n",
                      extra_args=["--state-dir", self.state], wait_ready=wait_ready)

    def refused_start(self):
        """zcrxd must exit 1 without READY=1; returns its log."""
        d = self.start(wait_ready=False)
        try:
            self.assertEqual(d.proc.wait(20), 1, d.log())
            self.assertNotIn("READY=1", "\n".join(d.notify.drain()))
            return d.log()
        finally:
            d.cleanup()

    def corrupt_files(self):
        return sorted(glob.glob(self.path + ".corrupt*"))

    def test_parse_error_moves_the_file_aside_never_over_another(self):
        moved = []
        for text in ("{not json", '{"schema": 1, "attachments": 7}'):
            with open(self.path, "w") as f:
                f.write(text)
            d = self.start()
            try:
                if os.path.exists(self.path):  # a new, empty state
                    with open(self.path) as f:
                        self.assertNotEqual(f.read(), text)
                now = self.corrupt_files()
                self.assertEqual(len(now), len(moved) + 1, now)
                new = [p for p in now if p not in moved][0]
                self.assertRegex(os.path.basename(new),
                                 r"^state\.json\.corrupt-\d{8}T\d{6}Z(-\d+)?$")
                with open(new) as f:
                    self.assertEqual(f.read(), text)
                self.assertIn("moved state.json aside to " + new, d.log())
                moved.append(new)
            finally:
                d.cleanup()
        # both bad files are kept, each with its own content
        self.assertEqual(self.corrupt_files(), sorted(moved))

    def test_log_that_does_not_parse_goes_aside_with_its_snapshot(self):
        d = self.start()
        d.cleanup()
        with open(self.path) as f:
            gen = json.load(f)["generation"]
        log = os.path.join(self.state, "state.log")

        def line(obj):
            text = json.dumps(obj, separators=(",", ":"))
            return "%08x %s\n" % (zlib.crc32(text.encode()), text)
        # a whole, checksummed record that is not a valid one: not a torn write
        with open(log, "w") as f:
            f.write(line({"t": "log", "generation": gen}) + line({"t": "no-such-record"}))
        d = self.start()
        try:
            moved = self.corrupt_files()
            self.assertEqual(len(moved), 1, moved)
            logs = glob.glob(log + ".corrupt-*")
            self.assertEqual(len(logs), 1, logs)
            with open(logs[0]) as f:
                self.assertIn("no-such-record", f.read())
            self.assertIn("moved state.json aside to %s and %s" % (moved[0], logs[0]), d.log())
        finally:
            d.cleanup()
        # a log that cannot be read stops the start; nothing is moved
        for p in glob.glob(os.path.join(self.state, "*.corrupt-*")):
            os.unlink(p)
        os.unlink(log)
        os.mkdir(log)
        out = self.refused_start()
        self.assertIn("state.log", out)
        self.assertIn("not starting without it", out)
        self.assertTrue(os.path.isdir(log))
        self.assertEqual(glob.glob(os.path.join(self.state, "*.corrupt-*")), [])

    def test_dump_writes_slash_as_it_is(self):
        """zcrxd --dump-state writes its JSON as zcrxd writes every other:
        "/" as it is, not json-c's default "\\/"."""
        state = {"schema": 2, "generation": 0, "next_seq": 1, "attachments": [],
                 "nics": [{"name": "zx/d", "ifindex": 0, "released": False, "leases": [],
                           "rules": [], "contexts": [], "bindings": []}]}
        with open(self.path, "w") as f:
            json.dump(state, f)
        p = zxtest.run([zxtest.ZCRXD, "--dump-state", "--state-dir", self.state], check=False)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn('"name":"zx/d"', p.stdout)
        self.assertNotIn("\\/", p.stdout)
        self.assertEqual(json.loads(p.stdout)["nics"][0]["name"], "zx/d")

    def test_unreadable_file_stops_the_start(self):
        # a directory where the file should be: read() gives EISDIR
        os.mkdir(self.path)
        log = self.refused_start()
        self.assertIn("state.json", log)
        self.assertIn("read: Is a directory", log)
        self.assertIn("not starting without it", log)
        self.assertTrue(os.path.isdir(self.path))
        self.assertEqual(self.corrupt_files(), [])
        os.rmdir(self.path)
        # a symbolic link (opened with O_NOFOLLOW): ELOOP
        target = os.path.join(self.tmp, "elsewhere.json")
        with open(target, "w") as f:
            f.write('{"schema": 1}')
        os.symlink(target, self.path)
        log = self.refused_start()
        self.assertIn("open: Too many levels of symbolic links", log)
        self.assertTrue(os.path.islink(self.path))
        self.assertEqual(self.corrupt_files(), [])

    def test_unreadable_for_the_daemon_user(self):
        """EACCES: zcrxd as an unprivileged user that may not read the
        file (root reads everything); the file is left as it was."""
        with open(self.path, "w") as f:
            f.write('{"schema": 1}')
        os.chmod(self.path, 0o600)
        os.chmod(self.state, 0o755)
        run = os.path.join(self.tmp, "run")
        os.mkdir(run)
        os.chown(run, 65534, 65534)
        os.chmod(self.tmp, 0o755)
        conf = os.path.join(self.tmp, "zcrxd.conf")
        with open(conf, "w") as f:
            f.write("[daemon]\nReconcileIntervalSec=0\n")
        p = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                            zxtest.ZCRXD, "--config", conf, "--libvirt-uri", "none",
                            "--runtime-dir", run, "--state-dir", self.state],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True, timeout=30,
                           env=dict(os.environ, NOTIFY_SOCKET=""))
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("EACCES", p.stdout)
        self.assertIn("not starting without it", p.stdout)
        with open(self.path) as f:
            self.assertEqual(f.read(), '{"schema": 1}')
        self.assertEqual(self.corrupt_files(), [])


if __name__ == "__main__":
    zxtest.main()
