#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""boot.py — boot one sim-nic guest under QEMU/TCG and collect its results.

    boot.py --kernel VMLINUZ --initrd BASE.cpio --payload PAYLOAD.cpio...
            --out DIR --variant stock|zx [--name NAME] [--timeout SEC] [--smp N]
            [--mem MB]

* Boots through tests/lib/qemuguest.py, the launcher driver-vm's vm.py uses
  too: it runs itself again under `unshare -n` (QEMU has no network device
  here anyway), and the guest boots with `zx.nsim=VARIANT`.
* The guest's second serial port (ttyS1) is a pair of FIFOs: the guest
  writes "ok - ..." / "not ok - ..." lines, "#" comments, SCRIPT markers
  (SCRIPT-END with the script's exit status and guest time),
  its dmesg between DMESG-BEGIN and DMESG-END, and END.  Kept in
  DIR/results.txt (headed by the label "simulated driver, real kernel
  core"), the console (ttyS0) in DIR/console.log, the guest's dmesg in
  DIR/dmesg.txt, QEMU's stderr in DIR/qemu.log.
* QEMU runs under `timeout -k 5`, and this script stops it (by its PID) at
  its own deadline too.  Nothing else is signalled.
* The guest kernel's log must show no WARNING, BUG, Oops, lockdep report or
  panic: a run with one fails, with the lines shown.

Result lines are echoed on stdout as they arrive, tagged with the variant.
Exit status: 0 when the guest reached END, powered off, reported at least
one ok, no "not ok" (a "# TODO" one excepted) and a clean kernel log;
1 otherwise.
"""
import argparse
import os
import re
import resource
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
import qemuguest  # noqa: E402

LABEL = "simulated driver, real kernel core"
# what a kernel prints when something went wrong inside it
SPLATS = re.compile(r"WARNING:|BUG:|Oops|Kernel panic|general protection fault|"
                    r"possible circular locking|possible recursive locking|"
                    r"suspicious RCU usage|inconsistent lock state|UBSAN:|KASAN:|"
                    r"kernel BUG|Call Trace:|refcount_t:|hung_task|soft lockup|"
                    r"unregister_netdevice: waiting|blocked for more than")


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--kernel", required=True)
    p.add_argument("--initrd", required=True)
    p.add_argument("--payload", required=True, action="append",
                   help="a cpio appended to the base image (repeatable)")
    p.add_argument("--out", required=True)
    p.add_argument("--variant", required=True, choices=["stock", "zx"])
    p.add_argument("--name", help="this boot's name in the output (default: the variant)")
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--smp", type=int, default=1)
    p.add_argument("--mem", type=int, default=768)
    return p.parse_args()


class Guest(qemuguest.Results):
    """The result lines, and the guest's dmesg between DMESG-BEGIN and
    DMESG-END, which is kept apart (dmesg.txt), not in results.txt."""

    def __init__(self, a):
        super().__init__(a.out, "[%s] " % (a.name or a.variant),
                         "# sim-nic, netdevsim %s: %s" % (a.variant, LABEL))
        self.in_dmesg = False
        self.dmesg = []

    def line(self, text):
        if self.in_dmesg:
            if text == "DMESG-END":
                self.in_dmesg = False
            else:
                self.dmesg.append(text[len("dmesg: "):] if text.startswith("dmesg: ") else text)
            return None
        if text == "DMESG-BEGIN":
            self.in_dmesg = True
            return None
        return super().line(text)


def main():
    a = parse_args()
    qemuguest.private_netns("ZXS_IN_NETNS", "boot")
    os.makedirs(a.out, exist_ok=True)
    console = os.path.join(a.out, "console.log")
    g = Guest(a)
    rc, took, con = qemuguest.run(a, a.payload, "zx.nsim=%s" % a.variant, g)
    # QEMU's CPU time (timeout waited for it): what the guest cost the host,
    # apart from what else the host ran meanwhile
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ru.ru_utime + ru.ru_stime
    with open(os.path.join(a.out, "dmesg.txt"), "w") as f:
        f.write("\n".join(g.dmesg) + "\n")
    problems = qemuguest.problems(rc, g, con, "ZXS")
    if not g.dmesg:
        problems.append("no dmesg from the guest")
    # the kernel log: the guest's dmesg, and the console for what came after
    splats = [ln for ln in g.dmesg + con.splitlines() if SPLATS.search(ln)]
    if splats:
        problems.append("the kernel log shows %d problem line(s)" % len(splats))
    if g.passed == 0:
        problems.append("no check passed")
    tail = "; ".join(problems)
    g.echo("# %s%.1fs (QEMU CPU %.1fs), %d ok, %d not ok, %d known failures (TODO)%s" % (
        g.tag, took, cpu, g.passed, g.failed, g.todo, "; " + tail if tail else ""))
    if g.dmesg:
        if splats:
            g.line("not ok - the guest kernel's log shows a problem (%d lines, in dmesg.txt)"
                   % len(splats))
        else:
            g.line("ok - the guest kernel's log is clean: no WARNING, BUG, Oops, lockdep "
                   "or RCU report")
    g.close()
    for ln in splats[:40]:
        g.echo("#   %s" % ln)
    if problems and not splats:
        qemuguest.last_console_lines(console, con, g.echo)
    return 0 if not problems and g.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
