#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check-demo-mutants.py TRANSCRIPT — can check-demo.py's claims fail?

Every claim of check-demo.py must pass on TRANSCRIPT (docs/demo.txt) and
must fail on a copy doctored to show what the claim rules out: a frame on
the wrong queue (histograms redrawn to scale, so only the claim can catch
it), zcrxctl or ethtool naming another queue, a lease that never got bound,
a release that left a rule or a carved RSS table, a bar out of scale, a
"no" in the matrix, a failed check.  Each mutant names the claim that must
catch it.

Prints one "ok - ..." / "not ok - ..." line per mutant and
"check-demo-mutants: N passed, N failed"; exit 0 when every mutant was
caught and the transcript itself passes.
"""
import importlib.util
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("check_demo", os.path.join(HERE, "check-demo.py"))
cd = importlib.util.module_from_spec(spec)
spec.loader.exec_module(cd)


class Miss(Exception):
    """A mutation whose anchor is not in the transcript."""


def after(text, anchor, pattern, repl, count=1):
    """TEXT with PATTERN replaced (COUNT times) after the first ANCHOR (a
    tuple: each anchor after the one before)."""
    i = 0
    for a in (anchor if isinstance(anchor, tuple) else (anchor,)):
        i = text.find(a, i)
        if i < 0:
            raise Miss("no '%s'" % a)
    head, tail = text[:i], text[i:]
    new, n = re.subn(pattern, repl, tail, count=count, flags=re.M)
    if n == 0:
        raise Miss("no /%s/ after '%s'" % (pattern, anchor))
    return head + new


def rehist(text, desc, change):
    """TEXT with the histogram of the burst DESC redrawn after CHANGE(counts),
    counts a {queue: n} dict changed in place: bars to scale, as the guest
    draws them."""
    lines = text.split("\n")
    at = [i for i, ln in enumerate(lines) if cd.SEND.match(ln) and "# " + desc in ln]
    if not at:
        raise Miss("no histogram '%s'" % desc)
    rows = []
    for i in range(at[0] + 1, len(lines)):
        m = cd.ROW.match(lines[i])
        if m:
            rows.append((i, m.group(1), m.group(2), int(m.group(4))))
        elif rows:
            break
    counts = {q: n for _, q, _, n in rows}
    change(counts)
    w = max(counts.values())
    for i, q, label, _ in rows:
        n = counts[q]
        b = max(1, int(n * 40 / w + 0.5)) if n else 0
        lines[i] = "  %-4s %-11s %s %5d" % (q, label, "#" * b + "." * (40 - b), n)
    return "\n".join(lines)


def move(src, dst, n=1):
    """A CHANGE for rehist: N frames of queue SRC counted on DST instead
    (SRC None: the busiest queue)."""
    def change(c):
        s = src or max(c, key=c.get)
        c[s] -= n
        c[dst] += n
    return change


def all_on_first(c):
    """A CHANGE for rehist: every frame on the first busy queue."""
    busy = [q for q in c if c[q]]
    c[busy[0]] = sum(c.values())
    for q in busy[1:]:
        c[q] = 0


def leases_not_bound(t):
    """zcrxctl leases' bound row says waiting, no provider."""
    return after(t, "zxsim zcrx", r"^(  \d+ +web .*) bound  io-uring$", r"\1 waiting -", 1)


MUTANTS = [
    ("a frame of demo-vm1 on another queue after its attach",
     "section 2, after the attach",
     lambda t: rehist(t, "the same 128 frames again", move(None, "q5"))),
    ("zcrxctl list names another queue for demo-vm1",
     "section 2, after the attach",
     lambda t: after(t, ("--- 2.", "$ zcrxctl list"), r"^(  demo-vm1 +\S+ +\S+ +\S+ +\S+ +\S+ +)4 ", r"\g<1>7 ")),
    ("the ethtool -n rule for demo-vm1's MAC steers to another queue",
     "section 2, after the attach",
     lambda t: after(t, "--- 2.", r"Action: Direct to queue 4", "Action: Direct to queue 7")),
    ("a frame on a pool queue before the attach",
     "section 2, before the attach",
     lambda t: rehist(t, "128 frames (128 flows) to the vNIC", move("q0", "q4"))),
    ("the 2-queue vNIC's frames all on one queue",
     "section 3",
     lambda t: rehist(t, "128 flows to the 2-queue vNIC", all_on_first)),
    ("the RSS context's table over another queue",
     "section 3",
     lambda t: after(t, "--- 3.", r"entries over queues 5 6\)", "entries over queues 5 7)")),
    ("the dry run printed no ethtool line",
     "section 4: attach --dry-run",
     lambda t: after(t, "--- 4.", r"^( +)\$ ethtool -N (.*)$", r"\1(none)")),
    ("reconcile put demo-vm1's rule back to another queue",
     "section 4: with demo-vm1's rule deleted",
     lambda t: after(t, ("--- 4.", "$ zcrxctl reconcile"), r"(dst 52:54:00:de:00:01 action )\d+(?= |$)",
                     r"\g<1>5")),
    ("plan has work left after reconcile",
     "section 4: with demo-vm1's rule deleted",
     lambda t: after(t, ("--- 4.", "$ zcrxctl reconcile"), r"^ +nothing to do$", "    1. insert rule")),
    ("a frame of the lease's flow on a shared queue",
     "section 5: the lease's TCP flows",
     lambda t: rehist(t, "128 TCP flows to port 9000 on this host", move(None, "q0"))),
    ("zcrxd never said bound",
     "section 5: zcrxctl monitor",
     lambda t: after(t, "--- 5.", r"^  \S+ lease-changed .*: bound .*\n", "")),
    ("zcrxctl leases does not say bound with the consumer registered",
     "section 5: with the consumer registered",
     leases_not_bound),
    ("the kernel's queue-get shows no io-uring provider",
     "section 5: with the consumer registered",
     lambda t: after(t, "zxsim queues", r"^(  rx \d+ napi=\d+) io-uring$", r"\1")),
    ("release left a rule",
     "section 6: ethtool -n had",
     lambda t: after(t, "$ zcrxctl release", r"^  Total 0 rules$", "  Total 1 rules")),
    ("release left ethtool -n other than before zcrxd",
     "section 6: after zcrxctl release, ethtool -n",
     lambda t: after(t, "$ zcrxctl release", r"^  8 RX rings available$", "  7 RX rings available")),
    ("release left the default RSS table carved",
     "section 6: after zcrxctl release, ethtool -x",
     lambda t: after(t, "$ zcrxctl release",
                     r"entries over queues 0 1 2 3 4 5 6 7\)", "entries over queues 0 1 2 3)")),
    ("after the release, frames miss a queue",
     "section 6: after the release, default RSS",
     lambda t: rehist(t, "128 flows to demo-vm1's MAC, after the release", move("q7", "q0", 16))),
    ("a bar out of scale",
     "bars to scale",
     lambda t: after(t, "the same 128 frames again", r"#\s+128$", ".   128")),
    ("a frame lost from a histogram's counts",
     "bars to scale",
     lambda t: after(t, "to the 2-queue vNIC", r"^(  q\d+ +demo-vm2 +#+\.* +)(\d+)$",
                     lambda m: m.group(1) + str(int(m.group(2)) - 1))),
    ("a 'no' in the matrix",
     "section 1: every capability row",
     lambda t: after(t, "--- 1.", r"^(  rss_contexts +)yes ", r"\1no  ")),
    ("the binder row says no",
     "section 1: the binder row",
     lambda t: after(t, "--- 1.", r"^(  binder +)yes ", r"\1no  ")),
    ("a failed check",
     "no check failed",
     lambda t: after(t, "--- 2.", r"\[ok\]", "[NOT OK]")),
]


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check-demo-mutants.py TRANSCRIPT")
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        text = f.read()
    passed = failed = 0

    def report(ok, desc, why=""):
        nonlocal passed, failed
        if ok:
            passed += 1
            print("ok - %s" % desc)
        else:
            failed += 1
            print("not ok - %s%s" % (desc, " (%s)" % why if why else ""))

    base = cd.check(text)
    report(base.failed == 0, "the transcript itself passes check-demo.py (%d claims)" % base.passed,
           "; ".join(ln for ln in base.out if ln.startswith("not ok"))[:400])
    for desc, claim, mutate in MUTANTS:
        try:
            doctored = mutate(text)
        except Miss as e:
            report(False, "mutant '%s'" % desc, "cannot be made: %s" % e)
            continue
        if doctored == text:
            report(False, "mutant '%s'" % desc, "changed nothing")
            continue
        c = cd.check(doctored)
        caught = [ln for ln in c.out if ln.startswith("not ok - ") and claim in ln]
        report(bool(caught), "mutant '%s' caught by '%s'" % (desc, claim),
               "failed: %s" % ([ln for ln in c.out if ln.startswith("not ok")] or "nothing"))
    print("check-demo-mutants: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
