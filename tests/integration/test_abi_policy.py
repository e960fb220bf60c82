#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The request policy of lib/vhost_zcrx.h, read by tests/kmod/abi-policy.py,
against the test-only fake module's request parser (binder_msg_parse_request,
through `vzclient malformed-fake`): every malformed request the header's
tables imply must be refused as the header says, with the attribute named.
The sim-nic guest runs the same cases against the reference kernel module
and compares the kernel's own policy dump with `abi-policy.py policy`.

No root, no kernel module: this runs everywhere."""
import os
import subprocess
import sys
import tempfile
import unittest

import zxtest

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HEADER = os.path.join(TOP, "lib", "vhost_zcrx.h")
TOOL = os.path.join(TOP, "tests", "kmod", "abi-policy.py")
VZCLIENT = os.path.join(zxtest.BUILD, "tests", "vzclient")


def abi(what, header=HEADER):
    return subprocess.run([sys.executable, TOOL, header, what], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, universal_newlines=True)


class AbiPolicy(unittest.TestCase):
    def test_policy_from_the_tables(self):
        p = abi("policy")
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines()
        # the header's own words, as a module would be checked against them
        for want in ("PROBE do admin=no", "PROBE do IFINDEX u32 1..2147483647",
                     "BIND do admin=yes", "BIND do FALLBACK u32 0..1",
                     "UNBIND do BINDING_ID u32 1..4294967295", "GET dump none"):
            self.assertIn(want, lines)
        self.assertFalse([ln for ln in lines if "REASON_MSG" in ln or "STATE" in ln.split()[2:3]],
                         "reply-only attributes are no request policy")

    def test_fake_module_refuses_every_case(self):
        p = abi("cases")
        self.assertEqual(p.returncode, 0, p.stderr)
        cases = p.stdout.splitlines()
        self.assertGreater(len(cases), 40)
        r = subprocess.run([VZCLIENT, "malformed-fake"], input=p.stdout,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        ok = [ln for ln in r.stdout.splitlines() if ln.startswith("ok - ")]
        self.assertEqual(len(ok), len(cases), r.stdout)

    def test_a_header_without_tables_is_an_error(self):
        with tempfile.NamedTemporaryFile("w", suffix=".h") as f:
            text = open(HEADER).read()
            f.write(text.replace("request attributes (* = required)", "request attrs"))
            f.flush()
            for what in ("policy", "cases"):
                p = abi(what, f.name)
                self.assertEqual(p.returncode, 1, p.stdout)
                self.assertIn("no table", p.stderr)


if __name__ == "__main__":
    zxtest.main()
