"""procstat: what a process's threads have used so far, read from /proc.

Run time comes from each thread's schedstat (nanoseconds on a CPU, exact),
not from the clock ticks of /proc/PID/stat (10 ms steps: at 1,000 attaches
a step is 10 us per attach).  /proc/PID/schedstat alone is the main
thread's: every thread is read and summed.  A thread that ended takes its
time with it; zcrxd's threads live as long as the process.  Shared by the
benches (bench-scale, bench-libvirt, bench-lease)."""
import os


def threads(pid):
    """{thread name: [run time in seconds, minor page faults, times it
    slept]} so far, the threads of one name summed: the sleeps are the
    voluntary context switches (wake-ups) from status."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            with open(base + "comm") as f:
                name = f.read().strip()
            with open(base + "schedstat") as f:
                run_ns = int(f.read().split()[0])
            with open(base + "stat") as f:
                minflt = int(f.read().rsplit(")", 1)[1].split()[7])
            with open(base + "status") as f:
                sleeps = [int(line.split()[1]) for line in f
                          if line.startswith("voluntary_ctxt_switches")][0]
        except OSError:
            continue  # a thread that ended meanwhile
        t = out.setdefault(name, [0.0, 0, 0])
        t[0] += run_ns / 1e9
        t[1] += minflt
        t[2] += sleeps
    return out


def run_ns(pid):
    """Time all of pid's threads spent on a CPU so far, in nanoseconds."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except OSError:
            continue  # a thread that ended meanwhile
    return total
