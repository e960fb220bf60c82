#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check-demo.py TRANSCRIPT — do the claims of the demo's part two hold in
this transcript?  (docs/demo.txt from lint; a fresh run's, rendered by
transcript.sh, from the sim-nic tier.)  It reads what the commands printed
(the per-queue histograms, zcrxctl's tables, ethtool's dumps, zcrxctl
monitor's events), never the guest's own "[ok]" lines alone, and checks
each claim against a second source in the same transcript:

  1. zcrxctl nics: every capability row yes (the rule-kind rows may say
     unknown: they are learned from the first rule);
  2. before the attach, demo-vm1's frames land on shared queues only, on
     more than one of them; after it, every frame on one queue, which is
     the QUEUES column zcrxctl printed for demo-vm1 and the queue of the
     ethtool -n rule for its MAC;
  3. demo-vm2's frames land on its two queues only, both used: zcrxctl's
     QUEUES for it, and the queues its RSS context's table spreads over
     (ethtool -x context N, N its CONTEXT column);
  4. the dry run prints the ethtool line of its rule; with demo-vm1's rule
     deleted by hand, zcrxctl reconcile prints the line that puts it back
     (its MAC, its queue as in 2.), and then plan has nothing to do;
  5. the lease's flow lands on its queue only (its QUEUES column); with the
     consumer registered, zcrxctl leases says bound, io-uring, and the
     kernel's queue-get shows an io-uring provider on that queue; zcrxctl
     monitor saw waiting -> bound -> unbound -> released;
  6. after zcrxctl release, ethtool -x and ethtool -n print what they
     printed before zcrxd started (section 1), and before the release they
     did not (the rules were there); after it frames reach all 8 queues;
  and every histogram's bars agree with its counts, no check in it failed.

Prints one "ok - ..." / "not ok - ..." line per claim and
"check-demo: N passed, N failed"; exit 0 when all hold.
tests/sim-nic/check-demo-mutants.py checks that each claim can fail.
"""
import re
import sys

NIC = "zxn0"
ROW = re.compile(r"^  (q\d+|drop) +(\S*) +([#.]{40}) +(\d+)$")
SEND = re.compile(r"^\$ zxsim send \S+ (\S+) (\d+) .*# (.*)$")


def histograms(lines):
    """[(description, mac, count, [(queue, label, bar, n)])] in order."""
    out = []
    cur = None
    for ln in lines:
        m = SEND.match(ln)
        if m:
            cur = (m.group(3), m.group(1), int(m.group(2)), [])
            out.append(cur)
            continue
        m = ROW.match(ln)
        if m and cur is not None:
            q, label, bar, n = m.group(1), m.group(2), m.group(3), int(m.group(4))
            cur[3].append((q, label, bar, n))
    return out


def blocks(lines, cmd):
    """The output of every "$ CMD" in the transcript, in order: the indented
    lines after it, up to the next command, check or text line."""
    out = []
    for i, ln in enumerate(lines):
        if ln.rstrip() != "$ " + cmd and not ln.startswith("$ " + cmd + "    #"):
            continue
        b = []
        for nxt in lines[i + 1:]:
            if not nxt.startswith("  ") or nxt.startswith("  [ok]") or \
                    nxt.startswith("  [NOT OK]"):
                break
            b.append(nxt.rstrip())
        while b and not b[-1].strip():
            b.pop()
        out.append(b)
    return out


def sections(text):
    """{N: text of section N} ("--- N. TITLE" to the next)."""
    parts = re.split(r"^--- (\d+)\. ", text, flags=re.M)
    return {int(parts[i]): parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def table_rows(block, first):
    """Rows of a zcrxctl table (list, leases) in BLOCK whose first or second
    column is FIRST, as {column: value} by the header line."""
    head = None
    rows = []
    for ln in block:
        f = ln.split()
        ind = len(ln) - len(ln.lstrip())
        if not f:
            continue
        if head is None and f[0] in ("DOMAIN", "ID"):
            head, hind = f, ind
            continue
        # a row is as indented as the header; its reasons are indented more
        if head and ind == hind and len(f) == len(head) and first in f[:2]:
            rows.append(dict(zip(head, f)))
    return rows


def queues(spec):
    """"4" / "5-6" / "4,6-7" -> [4, 5, 6, 7]."""
    out = []
    for part in spec.split(","):
        if re.fullmatch(r"\d+-\d+", part):
            a, b = part.split("-")
            out += range(int(a), int(b) + 1)
        elif part.isdigit():
            out.append(int(part))
        else:
            return None
    return out


def busy(rows):
    """[(queue number, label)] of the rows that got frames."""
    return [(int(q[1:]), label) for q, label, _, n in rows if n and q != "drop"]


def rule_queue(block, mac):
    """The "Direct to queue N" of ethtool -n's rule for MAC (None if none)."""
    cur = None
    for ln in block:
        m = re.search(r"Dest MAC addr: (\S+)", ln)
        if m:
            cur = m.group(1).lower()
        m = re.search(r"Action: Direct to queue (\d+)", ln)
        if m and cur == mac.lower():
            return int(m.group(1))
    return None


class Checks:
    def __init__(self):
        self.passed = self.failed = 0
        self.out = []

    def claim(self, ok, desc, why=""):
        if ok:
            self.passed += 1
            self.out.append("ok - %s" % desc)
        else:
            self.failed += 1
            self.out.append("not ok - %s%s" % (desc, " (%s)" % why if why else ""))


def check(text):
    """The claims of TEXT: a Checks with its lines."""
    lines = text.splitlines()
    sec = sections(text)
    c = Checks()

    # 1. the matrix
    s1 = sec.get(1, "").splitlines()
    nics = blocks(s1, "zcrxctl nics " + NIC)
    caps = []
    if nics:
        rows = nics[0]
        at = [i for i, ln in enumerate(rows) if ln.split()[:2] == ["CAPABILITY", "STATE"]]
        caps = [ln.split()[:2] for ln in rows[at[0] + 1:]] if at else []
    bad = [(n, s) for n, s in caps
           if not (s == "yes" or (s == "unknown" and n.endswith("_rules")))]
    c.claim(len(caps) >= 10 and not bad,
            "section 1: every capability row of zcrxctl nics says yes (%d rows; rule kinds may be unknown)"
            % len(caps), str(bad or "no matrix"))
    c.claim(["binder", "yes"] in caps, "section 1: the binder row says yes (vhost_zcrx)")

    # histograms: bars to scale, every frame counted
    hs = histograms(lines)
    c.claim(len(hs) >= 5, "the transcript has the per-queue histograms (%d)" % len(hs))
    for desc, mac, count, rows in hs:
        w = max([n for _, _, _, n in rows] + [0])
        good = all(bar.count("#") == (max(1, int(n * 40 / w + 0.5)) if n else 0)
                   and bar == "#" * bar.count("#") + "." * (40 - bar.count("#"))
                   for _, _, bar, n in rows)
        got = sum(n for *_, n in rows)
        c.claim(good and got == count,
                "histogram '%s': %d frames counted, bars to scale" % (desc, count),
                "%d counted" % got)

    def hist(word):
        h = [x for x in hs if word in x[0]]
        return h[0][3] if h else None

    # 2. demo-vm1 before and after its attach
    s2 = sec.get(2, "").splitlines()
    before, after = hist("(128 flows) to the vNIC"), hist("the same 128 frames again")
    q1, mac1 = None, ""
    if before is not None and after is not None:
        b, a = busy(before), busy(after)
        c.claim(len(b) > 1 and all(label == "shared" for _, label in b),
                "section 2, before the attach: the vNIC's frames over several shared queues", str(b))
        vm1 = table_rows((blocks(s2, "zcrxctl list") or [[]])[0], "demo-vm1")
        q1 = queues(vm1[0]["QUEUES"]) if vm1 else None
        mac1 = vm1[0]["MAC"] if vm1 else ""
        rq = rule_queue((blocks(s2, "ethtool -n " + NIC) or [[]])[0], mac1)
        c.claim(q1 is not None and len(q1) == 1 and rq == q1[0] and
                [q for q, _ in a] == q1 and a[0][1] == "demo-vm1" and
                sum(n for *_, n in after) == 128 and
                not [q for q, _ in b if q in q1],
                "section 2, after the attach: all 128 frames on demo-vm1's queue only, the queue"
                " zcrxctl list and the ethtool -n rule for its MAC name",
                "frames on %s, zcrxctl list: %s, rule: %s" % (a, q1, rq))
    else:
        c.claim(False, "section 2's before/after histograms are there")

    # 3. demo-vm2: 2 queues behind an RSS context
    s3 = sec.get(3, "").splitlines()
    two = hist("to the 2-queue vNIC")
    att2 = (blocks(s3, "zcrxctl attach --domain-xml - -- demo-vm2 < demo-vm2.xml") or [[]])[0]
    vm2 = table_rows(att2, "demo-vm2")
    q2 = queues(vm2[0]["QUEUES"]) if vm2 else None
    ctx = vm2[0]["CONTEXT"] if vm2 else "-"
    xb = (blocks(s3, "ethtool -x %s context %s" % (NIC, ctx)) or [[]])[0]
    m = re.search(r"entries over queues ([\d ]+)\)", "\n".join(xb))
    spread = [int(x) for x in m.group(1).split()] if m else None
    if two is not None:
        t = busy(two)
        c.claim(q2 is not None and len(q2) == 2 and [q for q, _ in t] == q2 and
                spread == q2 and all(label == "demo-vm2" for _, label in t),
                "section 3: the 2-queue vNIC's frames on its two queues only, both used; zcrxctl's"
                " QUEUES and its RSS context's table (ethtool -x context) say the same queues",
                "frames on %s, QUEUES %s, context %s over %s" % (t, q2, ctx, spread))
    else:
        c.claim(False, "section 3's histogram is there")

    # 4. --dry-run and plan
    s4 = sec.get(4, "")
    s4l = s4.splitlines()
    cmd = [ln[2:] for ln in s4l if ln.startswith("$ zcrxctl attach ") and "--dry-run" in ln]
    dry = blocks(s4l, cmd[0]) if cmd else []
    # a driver that picks rule slots: the line ends with its "not exact" note
    slot = r"(  # not exact: zcrxd asks the driver for its last slot .*)?$"
    c.claim(bool(dry) and any(re.match(r"^ +\$ ethtool -N %s flow-type ether dst \S+ action \d+"
                                       % NIC + slot, ln) for ln in dry[0]),
            "section 4: attach --dry-run prints the ethtool line of the rule it would insert")
    plans = blocks(s4l, "zcrxctl plan " + NIC)
    rec = blocks(s4l, "zcrxctl reconcile " + NIC)
    want = "$ ethtool -N %s flow-type ether dst %s action %s" % (
        NIC, mac1, q1[0] if q1 else "?")
    deleted = [ln for ln in s4l if re.match(r"^\$ ethtool -N %s delete \d+$" % NIC, ln)]
    c.claim(bool(deleted) and rec and plans and
            any(re.match(re.escape(want) + slot, ln.strip()) for ln in rec[0]) and
            any(ln.strip() == "nothing to do" for ln in plans[-1]),
            "section 4: with demo-vm1's rule deleted by hand, zcrxctl reconcile puts it back"
            " with the ethtool line of its MAC and queue; then plan has nothing to do",
            "wanted '%s'; reconcile: %s; plan: %s" % (want, rec, plans))

    # 5. the host lease
    s5 = sec.get(5, "")
    s5l = s5.splitlines()
    lease = hist("TCP flows to port 9000")
    tables = [table_rows(b, "web") for b in blocks(s5l, "zcrxctl leases")]
    states = [t[0].get("STATE") for t in tables if t]
    ql = queues(tables[0][0]["QUEUES"]) if tables and tables[0] else None
    if lease is not None:
        t = busy(lease)
        c.claim(ql is not None and [q for q, _ in t] == ql and t[0][1] == "web",
                "section 5: the lease's TCP flows on its queue only (zcrxctl leases' QUEUES)",
                "frames on %s, QUEUES %s" % (t, ql))
    else:
        c.claim(False, "section 5's histogram is there")
    bound = [t[0] for t in tables if t and t[0].get("STATE") == "bound"]
    qg = blocks(s5l, "zxsim queues %s | grep io-uring" % NIC)
    c.claim(bool(bound) and bound[0].get("PROVIDER") == "io-uring" and ql is not None and
            qg and any(re.match(r"^  rx %d .*io-uring" % q, ln) for q in ql for ln in qg[0]),
            "section 5: with the consumer registered, zcrxctl leases says bound (io-uring) and"
            " the kernel's queue-get shows io-uring on the lease's queue",
            "zcrxctl leases: %s; queue-get: %s" % (states, qg[0] if qg else "not shown"))
    ev = re.findall(r"^  \S+ lease-\w+ lease \d+ '[^']*' on \S+: (\w+)", s5, re.M)
    c.claim(ev == ["waiting", "bound", "unbound", "released"],
            "section 5: zcrxctl monitor saw the lease go waiting -> bound -> unbound -> released",
            " -> ".join(ev) or "no lease events")

    # 6. release: the dumps as before zcrxd started
    s6 = sec.get(6, "").splitlines()
    for cmd in ("ethtool -x " + NIC, "ethtool -n " + NIC):
        first = (blocks(s1, cmd) or [None])[0]
        six = blocks(s6, cmd)
        last = six[-1] if six else None
        prev = six[-2] if len(six) >= 2 else None
        c.claim(bool(first) and first == last and prev is not None and prev != first,
                "section 6: after zcrxctl release, %s prints what it printed before zcrxd started"
                " (and before the release it did not)" % cmd,
                "before zcrxd: %s; before release: %s; after: %s" % (first, prev, last))
    nb = [b for b in blocks(s6, "ethtool -n " + NIC)]
    c.claim(len(nb) >= 2 and any(re.match(r"^  Total [1-9]\d* rules", ln) for ln in nb[-2]) and
            any(ln.strip() == "Total 0 rules" for ln in nb[-1]),
            "section 6: ethtool -n had zcrxd's rules before the release and none after it")
    rel = hist("after the release")
    r = busy(rel) if rel is not None else []
    c.claim(len(r) == 8, "section 6: after the release, default RSS reaches all 8 queues", str(r))

    bad = [ln for ln in lines if "[NOT OK]" in ln]
    c.claim(not bad, "no check failed in the transcript", "; ".join(bad)[:300])
    return c


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check-demo.py TRANSCRIPT")
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        c = check(f.read())
    print("\n".join(c.out))
    print("check-demo: %d passed, %d failed" % (c.passed, c.failed))
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
