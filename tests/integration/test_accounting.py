#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""How the test tiers add up (issue 10 item 18): a skipped test or tier is
never a pass, the total does not depend on the order of the parts, and
under CI (ZCRX_CI=1) a skip fails the run with its reason.

Runs the real tests/lib/tier.sh, tests/check.sh (sourced: its functions)
and zxtest.main() on small parts made here, and one real tier file as an
unprivileged user.
"""
import itertools
import os
import shutil
import stat
import tempfile
import unittest

import zxtest

TOP = zxtest.TOP

PART = {"pass": "exit 0",
        "skip": "echo 'SKIP: no frobnicator here'; exit 77",
        "fail": "echo 'boom'; exit 3"}


def env_without_ci(**extra):
    e = dict(os.environ)
    e.pop("ZCRX_CI", None)
    e.update(extra)
    return e


class Accounting(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="zxc-acct-")
        os.chmod(self.tmp, 0o755)
        for name, body in PART.items():
            p = os.path.join(self.tmp, name)
            with open(p, "w") as f:
                f.write("#!/bin/sh\n%s\n" % body)
            os.chmod(p, 0o755)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def bash(self, script, ci=False):
        env = env_without_ci()
        if ci:
            env["ZCRX_CI"] = "1"
        return zxtest.run(["bash", "-c", script], check=False, cwd=TOP, env=env, timeout=120)

    def tier(self, parts, ci=False):
        script = ". tests/lib/tier.sh; tier_begin demo; "
        script += "".join("tier_part %s %s/%s; " % (p, self.tmp, p) for p in parts)
        script += "tier_end"
        return self.bash(script, ci)

    def test_tier_total_does_not_depend_on_order(self):
        expect = {("pass",): 0, ("skip",): 77, ("fail",): 1, ("pass", "skip"): 77,
                  ("pass", "fail"): 1, ("skip", "fail"): 1, ("pass", "skip", "fail"): 1,
                  ("pass", "pass"): 0, ("skip", "skip"): 77}
        for parts, rc in expect.items():
            for order in set(itertools.permutations(parts)):
                p = self.tier(order)
                self.assertEqual(p.returncode, rc, (order, p.stdout))
                if rc == 77:
                    skip = [l for l in p.stdout.splitlines() if l.startswith("SKIP:")]
                    self.assertTrue(skip, p.stdout)
                    self.assertIn("no frobnicator here", skip[-1])
                    self.assertIn("skip", skip[-1])  # which part

    def test_tier_skip_fails_under_ci(self):
        p = self.tier(("pass", "skip"), ci=True)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertIn("FAIL: skipped under CI", p.stdout)
        self.assertIn("no frobnicator here", p.stdout)
        self.assertEqual(self.tier(("pass",), ci=True).returncode, 0)
        p = self.bash(". tests/lib/tier.sh; tier_begin empty; tier_end", ci=True)
        self.assertEqual(p.returncode, 1, p.stdout)

    def test_missing_binary_is_a_failure(self):
        p = self.bash(". tests/lib/tier.sh; tier_need_built %s/pass %s/nonexistent"
                      % (self.tmp, self.tmp))
        self.assertEqual(p.returncode, 1)
        self.assertIn("FAIL: not built: %s/nonexistent" % self.tmp, p.stdout)

    def check_sh(self, tiers, ci=False):
        """check.sh's own run_tier and summary over stub tiers."""
        script = ". tests/check.sh; LOGDIR=%s; TIERS='%s'; " % (self.tmp, " ".join(tiers))
        script += "".join("run_tier %s %s/%s; " % (t, self.tmp, t) for t in tiers)
        script += "summary"
        return self.bash(script, ci)

    def test_check_sh_summary(self):
        for tiers, rc in ((("pass",), 0), (("pass", "skip"), 77), (("skip", "pass"), 77),
                          (("skip", "fail"), 1), (("fail", "pass"), 1)):
            p = self.check_sh(tiers)
            self.assertEqual(p.returncode, rc, (tiers, p.stdout, p.stderr))
        p = self.check_sh(("pass", "skip"))
        self.assertIn("not a pass: 1 tier(s) skipped", p.stdout)
        self.assertRegex(p.stdout, r"skip +SKIP .*no frobnicator here")
        p = self.check_sh(("skip", "pass"), ci=True)
        self.assertEqual(p.returncode, 1, p.stdout)
        self.assertRegex(p.stdout, r"skip +FAIL .*skipped under CI: no frobnicator here")

    def test_check_sh_tier_of_parts(self):
        """A tier that counts its own parts inside run_tier (as unit and
        sanitize do): no wait on run_tier's own output, the parts' total."""
        script = (". tests/check.sh; LOGDIR=%s; TIERS=nested; "
                  "nested() { tier_begin n; tier_part p %s/pass; tier_part s %s/skip; tier_end; }; "
                  "run_tier nested nested; summary" % (self.tmp, self.tmp, self.tmp))
        p = self.bash(script)
        self.assertEqual(p.returncode, 77, p.stdout + p.stderr)
        self.assertIn("n: 1 passed, 0 failed, 1 skipped (of 2)", p.stdout)

    def test_unit_binary_with_a_skipped_test_is_skipped(self):
        fake = os.path.join(self.tmp, "test-fake")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\necho 'SKIP: the checker is missing' >&2\n"
                    "echo '[  SKIPPED ] test_x'\necho '[  PASSED  ] 1 test(s).'\nexit 0\n")
        os.chmod(fake, 0o755)
        p = self.bash(". tests/check.sh; unit_binary %s" % fake)
        self.assertEqual(p.returncode, 77, p.stdout)
        self.assertIn("SKIP: test-fake: the checker is missing", p.stdout)

    def run_module(self, body, ci=False):
        mod = os.path.join(self.tmp, "test_mod.py")
        with open(mod, "w") as f:
            f.write("import sys, unittest\nsys.path.insert(0, %r)\nimport zxtest\n"
                    "class T(unittest.TestCase):\n%s\n"
                    "if __name__ == '__main__':\n    zxtest.main()\n"
                    % (os.path.dirname(zxtest.__file__), body))
        env = env_without_ci()
        if ci:
            env["ZCRX_CI"] = "1"
        return zxtest.run(["python3", mod], check=False, env=env)

    def test_zxtest_partial_skip_is_not_a_pass(self):
        body = ("    def test_a(self):\n        pass\n"
                "    @unittest.skip('needs a unicorn')\n    def test_b(self):\n        pass\n")
        p = self.run_module(body)
        self.assertEqual(p.returncode, 77, p.stdout + p.stderr)
        self.assertIn("SKIP: 1 of 2 tests skipped: needs a unicorn", p.stdout)
        p = self.run_module(body, ci=True)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("FAIL: skipped under CI", p.stdout)
        p = self.run_module("    def test_a(self):\n        pass\n", ci=True)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def test_integration_tier_as_non_root_is_skipped(self):
        """As non-root most of test_foundation.py cannot run: that is a skip
        with the reason, not a pass after the few tests that can."""
        argv = ["python3", os.path.join(TOP, "tests", "integration", "test_foundation.py")]
        if zxtest.is_root():
            argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + argv
        # ZCRX_BUILD absolute: the child runs in another directory
        p = zxtest.run(argv, check=False, cwd=self.tmp,
                       env=env_without_ci(HOME=self.tmp, ZCRX_BUILD=zxtest.BUILD))
        self.assertEqual(p.returncode, 77, p.stdout + p.stderr[-2000:])
        self.assertRegex(p.stdout, r"SKIP: \d+ of \d+ tests skipped: needs root")


if __name__ == "__main__":
    zxtest.main()
