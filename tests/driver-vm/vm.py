#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""vm.py — boot one driver-VM guest under QEMU/TCG and serve its requests.

    vm.py --kernel VMLINUZ --initrd BASE.cpio --payload PAYLOAD.cpio --out DIR
          [--timeout SEC] [--smp N] [--mem MB] [--tap NAME=MAC ...] -- QEMU-NIC-ARGS...

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
import select
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


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


def in_private_netns():
    if os.environ.get("ZXV_IN_NETNS") == "1":
        # Make sure this really is a fresh namespace: nothing but lo.
        with open("/proc/self/net/dev") as f:
            links = sorted(ln.split(":")[0].strip() for ln in f.readlines()[2:])
        if links != ["lo"]:
            sys.exit("vm: ZXV_IN_NETNS=1 but links %s are visible" % links)
        return
    env = dict(os.environ, ZXV_IN_NETNS="1")
    os.execvpe("unshare", ["unshare", "-n", "--", sys.executable,
                           os.path.abspath(__file__)] + sys.argv[1:], env)


def write_file(path, text):
    with open(path, "w") as f:
        f.write(text)


class Guest:
    def __init__(self, args):
        self.a = args
        self.taps = {}
        for t in args.tap:
            name, mac = t.split("=", 1)
            self.taps[mac.lower()] = name
        self.up = set()
        self.passed = 0
        self.failed = 0
        self.todo = 0
        self.ended = False
        self.results = open(os.path.join(args.out, "results.txt"), "w")

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
        self.results.write(text + "\n")
        self.results.flush()
        words = text.split()
        if not words:
            return None
        if text.startswith("ok - ") or text.startswith("ok "):
            self.passed += 1
            print(text, flush=True)
        elif text.startswith("not ok") and "# TODO" in text:
            self.todo += 1
            print(text, flush=True)
        elif text.startswith("not ok"):
            self.failed += 1
            print(text, flush=True)
        elif words[0] in ("SCRIPT", "BOOTED", "#"):
            print("# " + text.lstrip("# "), flush=True)
        elif words[0] == "END":
            self.ended = True
        elif words[0] == "INJECT":
            return self.request(words)
        return None


def main():
    a = parse_args()
    in_private_netns()
    for knob in ("all", "default"):
        write_file("/proc/sys/net/ipv6/conf/%s/disable_ipv6" % knob, "1\n")
    os.makedirs(a.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="zxv-vm.")
    ser = os.path.join(tmp, "ser1")
    os.mkfifo(ser + ".in")
    os.mkfifo(ser + ".out")
    initrd = os.path.join(tmp, "initrd")
    with open(initrd, "wb") as out:
        for part in (a.initrd, a.payload):
            with open(part, "rb") as f:
                while True:
                    b = f.read(1 << 20)
                    if not b:
                        break
                    out.write(b)
    # Both FIFO ends O_RDWR: opening never blocks, whoever comes first.
    fd_out = os.open(ser + ".out", os.O_RDWR | os.O_NONBLOCK)
    fd_in = os.open(ser + ".in", os.O_RDWR)
    console = os.path.join(a.out, "console.log")
    # norandmaps: without ASLR in the guest a process costs QEMU's TCG 2-4
    # times less (tests/sim-nic/boot.py has the figures); nothing checked
    # depends on where a library is mapped.
    qemu = ["timeout", "-k", "5", str(int(a.timeout)),
            a.qemu, "-accel", "tcg", "-cpu", "max",
            "-smp", str(a.smp), "-m", str(a.mem),
            "-nodefaults", "-display", "none", "-no-reboot", "-monitor", "none",
            "-serial", "file:" + console, "-chardev", "pipe,id=res,path=" + ser,
            "-serial", "chardev:res",
            "-kernel", a.kernel, "-initrd", initrd,
            "-append", ("console=ttyS0 panic=-1 quiet norandmaps " + a.append).strip()] + a.qemu_args
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
                    chunk = os.read(fd_out, 4096)
                except BlockingIOError:
                    chunk = b""
                buf += chunk
                while b"\n" in buf:
                    raw, buf = buf.split(b"\n", 1)
                    reply = g.line(raw.decode("utf-8", "replace").rstrip("\r"))
                    if reply is not None:
                        os.write(fd_in, (reply + "\n").encode())
            rc = proc.poll()
            if rc is not None and not r:
                break
            if time.monotonic() > deadline:
                print("# vm: deadline reached, stopping QEMU (pid %d)" % proc.pid, flush=True)
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
        g.results.close()
    took = time.monotonic() - start
    with open(console, errors="replace") as f:
        con = f.read().replace("\r", "")
    problems = []
    if rc != 0:
        problems.append("qemu exited %s%s" % (rc, " (timeout)" if rc in (124, 137) else ""))
    if not g.ended or "ZXV-END" not in con:
        problems.append("guest did not reach END")
    if "ZXV-INSMOD-FAILED" in con:
        problems.append("a module failed to load")
    for word in ("Kernel panic", "BUG:", "Oops", "WARNING:"):
        if word in con:
            problems.append("console shows %r" % word)
    if g.passed == 0:
        problems.append("no check passed")
    print("# vm: %.1fs, %d ok, %d not ok, %d known failures (TODO)%s" % (took, g.passed, g.failed, g.todo,
          "".join("; " + p for p in problems)), flush=True)
    if problems:
        print("# --- last console lines (%s)" % console)
        for ln in con.splitlines()[-25:]:
            print("#   " + ln)
    return 0 if not problems and g.failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
