#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vm.py — boot one driver-VM guest under QEMU/TCG and serve its requests.

    vm.py --kernel VMLINUZ --initrd BASE.cpio --payload PAYLOAD.cpio --out DIR
          [--timeout SEC] [--smp N] [--mem MB] [--tap NAME=MAC ...] -- QEMU-NIC-ARGS...

* Boots through tests/lib/qemuguest.py, the launcher sim-nic's boot.py uses
  too, with this tier's NICs (the QEMU arguments after --) and --append.
* Runs itself again under `unshare -n`: the taps QEMU creates (and anything
  else networked) live in a private network namespace that disappears with
  this process, so there is nothing to clean up on the host.  IPv6 is off in
  that namespace, so the host ends of the taps send nothing by themselves and
  every frame the guest receives is one the test injected.
* The guest's second serial port (ttyS1) is a pair of FIFOs: the guest writes
  result lines and requests there, and reads the answers.  Requests:
      INJECT MAC COUNT SPORT   write COUNT UDP frames (rsspkt send) into the
                               tap of the guest NIC with that MAC; answered
                               "DONE rc=N" once they are all written.
  Lines "ok - ..." / "not ok - ..." are results; "END" says the guest is done.
  Everything the guest said is kept in DIR/results.txt, the console (ttyS0) in
  DIR/console.log, QEMU's own stderr in DIR/qemu.log.
* QEMU runs under `timeout -k 5`; this script also stops it (by its PID) at
  its own deadline.  Nothing else is signalled.

Exit status: 0 when the guest reached END, powered off, reported at least one
ok and no "not ok"; 1 otherwise.  Result lines are echoed on stdout as they
arrive.
"""
import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
import qemuguest  # noqa: E402


def parse_args():
    p = argparse.ArgumentParser()
    p.add_argument("--kernel", required=True)
    p.add_argument("--initrd", required=True)
    p.add_argument("--payload", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--rsspkt", required=True, help="host injector binary")
    p.add_argument("--qemu", default="qemu-system-x86_64")
    p.add_argument("--timeout", type=float, default=120)
    p.add_argument("--smp", type=int, default=2)
    p.add_argument("--mem", type=int, default=768)
    p.add_argument("--append", default="")
    p.add_argument("--tap", action="append", default=[], help="NAME=MAC")
    p.add_argument("qemu_args", nargs=argparse.REMAINDER)
    a = p.parse_args()
    if a.qemu_args and a.qemu_args[0] == "--":
        a.qemu_args = a.qemu_args[1:]
    return a


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


class Guest(qemuguest.Results):
    """The result lines, and the guest's INJECT requests served."""

    def __init__(self, args):
        super().__init__(args.out)
        self.a = args
        self.taps = {}
        for t in args.tap:
            name, mac = t.split("=", 1)
            self.taps[mac.lower()] = name
        self.up = set()

    def tap_up(self, name):
        if name in self.up:
            return
        subprocess.run(["ip", "link", "set", "dev", name, "up"], check=True)
        self.up.add(name)

    def request(self, words):
        if words[0] == "INJECT" and len(words) == 4:
            name = self.taps.get(words[1].lower())
            if not name:
                return "DONE rc=2 unknown mac %s" % words[1]
            try:
                self.tap_up(name)
            except subprocess.CalledProcessError as e:
                return "DONE rc=1 %s" % e
            r = subprocess.run([self.a.rsspkt, "send", name, words[1], words[2], words[3]],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            err = r.stderr.strip().replace("\n", " ")
            return ("DONE rc=%d %s" % (r.returncode, err)).strip()
        return "DONE rc=2 unknown request"

    def line(self, text):
        words = text.split()
        if words and words[0] == "INJECT":
            self.file.write(text + "\n")
            self.file.flush()
            return self.request(words)
        return super().line(text)


def main():
    a = parse_args()
    qemuguest.private_netns("ZXV_IN_NETNS", "vm")
    for knob in ("all", "default"):
        write_file("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % knob, "1\n")
    os.makedirs(a.out, exist_ok=True)
    console = os.path.join(a.out, "console.log")
    g = Guest(a)
    try:
        rc, took, con = qemuguest.run(a, [a.payload], a.append, g, a.qemu_args)
    finally:
        g.close()
    problems = qemuguest.problems(rc, g, con, "ZXV")
    for word in ("Kernel panic", "BUG:", "Oops", "WARNING:"):
        if word in con:
            problems.append("console shows %r" % word)
    if g.passed == 0:
        problems.append("no check passed")
    print("# vm: %.1fs, %d ok, %d not ok, %d known failures (TODO)%s" % (took, g.passed, g.failed, g.todo,
          "".join("; " + p for p in problems)), flush=True)
    if problems:
        qemuguest.last_console_lines(console, con, g.echo)
    return 0 if not problems and g.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
