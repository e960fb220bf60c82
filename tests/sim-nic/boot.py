#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""boot.py — boot one sim-nic guest under QEMU/TCG and collect its results.

    boot.py --kernel VMLINUZ --initrd BASE.cpio --payload PAYLOAD.cpio...
            --out DIR --variant stock|zx [--name NAME] [--timeout SEC] [--smp N]
            [--mem MB]

* Runs itself again under `unshare -n`: QEMU (which has no network device
  here anyway) lives in a private network namespace that goes away with it.
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
import select
import signal
import subprocess
import sys
import tempfile
import time

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


def in_private_netns():
    if os.environ.get("ZXS_IN_NETNS") == "1":
        with open("/proc/self/net/dev") as f:
            links = sorted(ln.split(":")[0].strip() for ln in f.readlines()[2:])
        if links != ["lo"]:
            sys.exit("boot: ZXS_IN_NETNS=1 but links %s are visible" % links)
        return
    env = dict(os.environ, ZXS_IN_NETNS="1")
    os.execvpe("unshare", ["unshare", "-n", "--", sys.executable,
                           os.path.abspath(__file__)] + sys.argv[1:], env)


class Guest:
    def __init__(self, a):
        self.a = a
        self.tag = "[%s] " % (a.name or a.variant)
        self.passed = self.failed = self.todo = self.todo_pass = 0
        self.ended = False
        self.in_dmesg = False
        self.dmesg = []
        self.results = open(os.path.join(a.out, "results.txt"), "w")
        self.results.write("# sim-nic, netdevsim %s: %s\n" % (a.variant, LABEL))

    def echo(self, text):
        print(text, flush=True)

    def line(self, text):
        if self.in_dmesg:
            if text == "DMESG-END":
                self.in_dmesg = False
            else:
                self.dmesg.append(text[len("dmesg: "):] if text.startswith("dmesg: ") else text)
            return
        if text == "DMESG-BEGIN":
            self.in_dmesg = True
            return
        self.results.write(text + "\n")
        self.results.flush()
        if text.startswith("ok "):
            self.passed += 1
            if "# TODO" in text:
                self.todo_pass += 1
            self.echo(text[:5] + self.tag + text[5:])
        elif text.startswith("not ok"):
            if "# TODO" in text:
                self.todo += 1
            else:
                self.failed += 1
            self.echo(text[:9] + self.tag + text[9:])
        elif text.startswith("#") or text.startswith("BOOTED") or text.startswith("SCRIPT"):
            self.echo("# " + self.tag + text.lstrip("# "))
        elif text == "END":
            self.ended = True


def main():
    a = parse_args()
    in_private_netns()
    os.makedirs(a.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="zxs-boot.")
    ser = os.path.join(tmp, "ser1")
    os.mkfifo(ser + ".in")
    os.mkfifo(ser + ".out")
    initrd = os.path.join(tmp, "initrd")
    with open(initrd, "wb") as out:
        for part in [a.initrd] + a.payload:
            with open(part, "rb") as f:
                while True:
                    b = f.read(1 << 20)
                    if not b:
                        break
                    out.write(b)
    # both FIFO ends O_RDWR: opening never blocks, whoever comes first
    fd_out = os.open(ser + ".out", os.O_RDWR | os.O_NONBLOCK)
    fd_in = os.open(ser + ".in", os.O_RDWR)
    console = os.path.join(a.out, "console.log")
    # norandmaps: no address space randomization in the guest.  Under
    # QEMU 7.2's TCG a process then costs 2-4 times less; measured in this
    # guest: zcrxctl --version 34 -> 8 ms, ethtool -n 38 -> 9 ms, a zcrxd
    # start and stop 308 -> 114 ms.  (Most likely because TCG finds the code
    # it translated before by virtual address: with ASLR each process maps
    # its libraries somewhere new.)  Nothing a script checks depends on
    # where a library is mapped.
    qemu = ["timeout", "-k", "5", str(int(a.timeout)),
            a.qemu, "-accel", "tcg", "-cpu", "max",
            "-smp", str(a.smp), "-m", str(a.mem),
            "-nodefaults", "-display", "none", "-no-reboot", "-monitor", "none",
            "-serial", "file:" + console, "-chardev", "pipe,id=res,path=" + ser,
            "-serial", "chardev:res",
            "-kernel", a.kernel, "-initrd", initrd,
            "-append", "console=ttyS0 panic=-1 quiet norandmaps zx.nsim=%s" % a.variant]
    g = Guest(a)
    start = time.monotonic()
    with open(os.path.join(a.out, "qemu.log"), "w") as qlog:
        qlog.write(" ".join(qemu) + "\n")
        qlog.flush()
        proc = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=qlog, stderr=qlog)
    buf = b""
    deadline = start + a.timeout + 10
    rc = None
    try:
        while True:
            r, _, _ = select.select([fd_out], [], [], 0.2)
            if r:
                try:
                    chunk = os.read(fd_out, 65536)
                except BlockingIOError:
                    chunk = b""
                buf += chunk
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    g.line(raw.decode("utf-8", "replace").rstrip("\r"))
            rc = proc.poll()
            if rc is not None and not r:
                break
            if time.monotonic() > deadline:
                g.echo("# %sdeadline reached, stopping QEMU (pid %d)" % (g.tag, proc.pid))
                proc.send_signal(signal.SIGTERM)
                rc = proc.wait(timeout=15)
                break
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(fd_out)
        os.close(fd_in)
        for f in (ser + ".in", ser + ".out", initrd):
            os.unlink(f)
        os.rmdir(tmp)
    took = time.monotonic() - start
    # QEMU's CPU time (timeout waited for it): what the guest cost the host,
    # apart from what else the host ran meanwhile
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = ru.ru_utime + ru.ru_stime
    with open(console, errors="replace") as f:
        con = f.read().replace("\r", "")
    with open(os.path.join(a.out, "dmesg.txt"), "w") as f:
        f.write("\n".join(g.dmesg) + "\n")
    problems = []
    if rc != 0:
        problems.append("qemu exited %s%s" % (rc, " (timeout)" if rc in (124, 137) else ""))
    if not g.ended or "ZXS-END" not in con:
        problems.append("guest did not reach END")
    if "ZXS-INSMOD-FAILED" in con:
        problems.append("a module failed to load")
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
    g.results.close()
    for ln in splats[:40]:
        g.echo("#   %s" % ln)
    if problems and not splats:
        g.echo("# --- last console lines (%s)" % console)
        for ln in con.splitlines()[-25:]:
            g.echo("#   " + ln)
    return 0 if not problems and g.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
