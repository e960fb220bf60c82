#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""check-demo.py TRANSCRIPT — do the claims of the demo's part two hold in
this transcript?  (docs/demo.txt from lint; a fresh run's, rendered by
transcript.sh, from the sim-nic tier.)  Reads the per-queue histograms and
the lines around them, not the guest's own checks:

  * before the attach, demo-vm1's frames land on shared queues only, on
    more than one of them; after it, all of them on demo-vm1's queue;
  * demo-vm2's frames land on its two queues only, both of them;
  * every histogram's bars agree with its counts (the busiest 40 columns);
  * the lease's flow lands on its queue only; it went waiting -> bound,
    then unbound -> released (or section 5 says plainly that leases are
    not available yet);
  * the release left ethtool -l/-g/-k/-n/-x as before zcrxd started, and
    after it frames reach all 8 queues again;
  * no check in it failed ("[NOT OK]").

Prints one "ok - ..." / "not ok - ..." line per claim and
"check-demo: N passed, N failed"; exit 0 when all hold.
"""
import re
import sys

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


class Checks:
    def __init__(self):
        self.passed = self.failed = 0

    def claim(self, ok, desc, why=""):
        if ok:
            self.passed += 1
            print("ok - %s" % desc)
        else:
            self.failed += 1
            print("not ok - %s%s" % (desc, " (%s)" % why if why else ""))


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check-demo.py TRANSCRIPT")
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        text = f.read()
    lines = text.splitlines()
    c = Checks()
    hs = histograms(lines)
    c.claim(len(hs) >= 4, "the transcript has the per-queue histograms (%d)" % len(hs))

    for desc, mac, count, rows in hs:
        w = max([n for _, _, _, n in rows] + [0])
        good = all(bar.count("#") == (max(1, int(n * 40 / w + 0.5)) if n else 0)
                   for _, _, bar, n in rows)
        c.claim(good and sum(n for *_, n in rows) == count,
                "histogram '%s': %d frames counted, bars to scale" % (desc, count))

    def find(word):
        return [h for h in hs if word in h[0]]

    def busy(rows):
        return [(q, label) for q, label, _, n in rows if n]

    before = find("(128 flows) to the vNIC")
    after = find("the same 128 frames again")
    two = find("to the 2-queue vNIC")
    lease = find("TCP flows to port 9000")
    rel = find("after the release")
    if before and after:
        b = busy(before[0][3])
        a = busy(after[0][3])
        c.claim(len(b) > 1 and all(label == "shared" for _, label in b),
                "before the attach: the vNIC's frames over several shared queues", str(b))
        c.claim(len(a) == 1 and a[0][1] == "demo-vm1",
                "after the attach: every frame on demo-vm1's leased queue only", str(a))
    else:
        c.claim(False, "section 2's before/after histograms are there")
    if two:
        t = busy(two[0][3])
        c.claim(len(t) == 2 and all(label == "demo-vm2" for _, label in t),
                "the 2-queue vNIC: frames on its two queues only, both used", str(t))
    else:
        c.claim(False, "section 3's histogram is there")
    if lease:
        t = busy(lease[0][3])
        c.claim(len(t) == 1 and t[0][1] == "web",
                "the lease's TCP flows: every frame on the lease's queue only", str(t))
    elif "not available yet" not in text:
        c.claim(False, "section 5's histogram is there")
    if rel:
        r = busy(rel[0][3])
        c.claim(len(r) == 8, "after the release: default RSS over all 8 queues", str(r))
    else:
        c.claim(False, "section 6's histogram is there")

    s5 = text.split("--- 5.", 1)[-1].split("--- 6.", 1)[0] if "--- 5." in text else ""
    if "not available yet" in s5:
        c.claim(True, "section 5 says plainly that leases are not available yet")
    else:
        # zcrxctl monitor's lines: "TIME lease-changed lease 1 'web' on zxn0: bound (io-uring), ..."
        states = re.findall(r"^  \S+ lease-\w+ lease \d+ '[^']*' on \S+: (\w+)", s5, re.M)
        c.claim(states == ["waiting", "bound", "unbound", "released"],
                "zcrxctl monitor: the lease went waiting -> bound -> unbound -> released",
                " -> ".join(states) or "no lease events")

    c.claim("identical to before zcrxd started" in text,
            "the release left the NIC as it was before zcrxd started")
    bad = [ln for ln in lines if "[NOT OK]" in ln]
    c.claim(not bad, "no check failed in the transcript", "; ".join(bad)[:300])
    print("check-demo: %d passed, %d failed" % (c.passed, c.failed))
    return 0 if c.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
