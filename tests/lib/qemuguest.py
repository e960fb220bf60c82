# SPDX-License-Identifier: MIT
"""qemuguest — one QEMU/TCG guest of a test tier booted, its results collected.

The launcher of both guest tiers, tests/driver-vm/vm.py and
tests/sim-nic/boot.py, which keep what is their own (their options, the
NICs and requests of driver-vm, the variant and kernel-log checks of
sim-nic) and pass it in.  What they share lives here:

* private_netns(): the launcher runs itself again under `unshare -n`, so
  whatever QEMU makes on the network lives in a namespace that goes away
  with it.
* run(): the initrd is the base image with the payload cpios appended;
  the guest's second serial port (ttyS1) is a pair of FIFOs, the console
  (ttyS0) goes to OUT/console.log and QEMU's stderr to OUT/qemu.log; every
  line the guest writes on ttyS1 goes to the tier's handler, and what that
  returns is written back to the guest.  QEMU runs under `timeout -k 5`,
  and is stopped by its PID at the launcher's own deadline too.  Nothing
  else is signalled.
* Results: the guest's "ok - ..." / "not ok - ..." lines counted ("# TODO"
  ones apart), kept in OUT/results.txt and echoed on stdout as they come,
  tagged with the boot's name; "END" says the guest is done.
* A guest kernel that crashes while booting, with no module loaded and
  before its init wrote a line, is booted once more (said on stdout, the
  first console kept): nothing of the project nor of a tier had run yet.
  Seen once under QEMU 7.2's TCG: an int3 left by the kernel's own code
  patching, hit on the other vCPU 2 s into the boot.  A crash after a
  module loaded or after init spoke is never retried.
* problems(): what every boot must have done: QEMU exited 0, the guest
  said END on both ports, no module failed to load.
"""
import os
import select
import signal
import subprocess
import sys
import tempfile
import time


def private_netns(var, who):
    """Run this launcher again in a new network namespace (var=1 in its
    environment says it is there), and make sure that one holds only lo."""
    if os.environ.get(var) == "1":
        with open("/proc/self/net/dev") as f:
            links = sorted(ln.split(":")[0].strip() for ln in f.readlines()[2:])
        if links != ["lo"]:
            sys.exit("%s: %s=1 but links %s are visible" % (who, var, links))
        return
    env = dict(os.environ, **{var: "1"})
    os.execvpe("unshare", ["unshare", "-n", "--", sys.executable,
                           os.path.abspath(sys.argv[0])] + sys.argv[1:], env)


class Results:
    """The guest's result lines, counted, kept and echoed; a tier's
    launcher extends line() with its own requests."""

    def __init__(self, out, tag="", head=None):
        self.tag = tag
        self.passed = self.failed = self.todo = self.todo_pass = 0
        self.ended = False
        self.file = open(os.path.join(out, "results.txt"), "w")
        if head:
            self.file.write(head + "\n")

    def echo(self, text):
        print(text, flush=True)

    def line(self, text):
        """One line from the guest; returns the answer to write back, or None."""
        self.file.write(text + "\n")
        self.file.flush()
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
        elif text.startswith(("#", "BOOTED", "SCRIPT")):
            self.echo("# " + self.tag + text.lstrip("# "))
        elif text == "END":
            self.ended = True
        return None

    def close(self):
        self.file.close()


def early_crash(console):
    """The first Oops or panic line of a kernel that crashed with no module
    loaded ("Modules linked in:" empty), else None."""
    lines = console.splitlines()
    if not any("Kernel panic" in ln for ln in lines):
        return None
    mods = [ln.split("Modules linked in:", 1)[1] for ln in lines if "Modules linked in:" in ln]
    if not mods or any(m.strip() for m in mods):
        return None
    first = [ln for ln in lines if "Oops:" in ln or "Kernel panic" in ln or "RIP:" in ln]
    return "; ".join(ln.split("] ", 1)[-1].strip() for ln in first[:2])


def run(a, payloads, append, results, extra=()):
    """boot() once; again once when the guest kernel crashed before anything
    ran (early_crash(), no line from the guest).  Returns boot()'s result,
    with the seconds of both boots."""
    rc, took, con, lines = boot(a, payloads, append, results, extra)
    why = early_crash(con) if not lines else None
    if why is None:
        return rc, took, con
    kept = os.path.join(a.out, "console-early-crash.log")
    os.replace(os.path.join(a.out, "console.log"), kept)
    results.echo("# %sthe guest kernel crashed while booting, no module loaded, before its "
                 "init wrote a line (%s): booting once more; that console is in %s"
                 % (results.tag, why, kept))
    rc, took2, con, _ = boot(a, payloads, append, results, extra)
    return rc, took + took2, con


def boot(a, payloads, append, results, extra=()):
    """Boot a.kernel with a.initrd and payloads appended, kernel command line
    extras append, QEMU arguments extra (its NICs); a carries the launcher's
    common options: out, qemu, timeout, smp, mem.  Lines from the guest go
    to results.line().  Returns QEMU's exit status (None when it was not
    seen), the seconds it ran, the console's text and how many lines the
    guest wrote."""
    tmp = tempfile.mkdtemp(prefix="zx-guest.")
    ser = os.path.join(tmp, "ser1")
    os.mkfifo(ser + ".in")
    os.mkfifo(ser + ".out")
    initrd = os.path.join(tmp, "initrd")
    with open(initrd, "wb") as out:
        for part in [a.initrd] + list(payloads):
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
    # QEMU 7.2's TCG a process then costs 2-4 times less; measured in the
    # sim-nic guest: zcrxctl --version 34 -> 8 ms, ethtool -n 38 -> 9 ms, a
    # zcrxd start and stop 308 -> 114 ms.  (Most likely because TCG finds
    # the code it translated before by virtual address: with ASLR each
    # process maps its libraries somewhere new.)  Nothing a script checks
    # depends on where a library is mapped.
    qemu = ["timeout", "-k", "5", str(int(a.timeout)),
            a.qemu, "-accel", "tcg", "-cpu", "max",
            "-smp", str(a.smp), "-m", str(a.mem),
            "-nodefaults", "-display", "none", "-no-reboot", "-monitor", "none",
            "-serial", "file:" + console, "-chardev", "pipe,id=res,path=" + ser,
            "-serial", "chardev:res",
            "-kernel", a.kernel, "-initrd", initrd,
            "-append", ("console=ttyS0 panic=-1 quiet norandmaps " + append).strip()]
    qemu += list(extra)
    start = time.monotonic()
    with open(os.path.join(a.out, "qemu.log"), "w") as qlog:
        qlog.write(" ".join(qemu) + "\n")
        qlog.flush()
        proc = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=qlog, stderr=qlog)
    buf = b""
    deadline = start + a.timeout + 10
    rc = None
    lines = 0
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
                    lines += 1
                    reply = results.line(raw.decode("utf-8", "replace").rstrip("\r"))
                    if reply is not None:
                        os.write(fd_in, (reply + "\n").encode())
            rc = proc.poll()
            if rc is not None and not r:
                break
            if time.monotonic() > deadline:
                results.echo("# %sdeadline reached, stopping QEMU (pid %d)"
                             % (results.tag, proc.pid))
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
    with open(console, errors="replace") as f:
        con = f.read().replace("\r", "")
    return rc, took, con, lines


def problems(rc, results, console, marker):
    """What every boot must have done, as problems: QEMU exited 0, the guest
    said END on ttyS1 and MARKER-END on its console, and no MARKER-INSMOD-FAILED."""
    p = []
    if rc != 0:
        p.append("qemu exited %s%s" % (rc, " (timeout)" if rc in (124, 137) else ""))
    if not results.ended or marker + "-END" not in console:
        p.append("guest did not reach END")
    if marker + "-INSMOD-FAILED" in console:
        p.append("a module failed to load")
    return p


def last_console_lines(console_path, console, echo, n=25):
    echo("# --- last console lines (%s)" % console_path)
    for ln in console.splitlines()[-n:]:
        echo("#   " + ln)
