#!/usr/bin/python3
"""Traced ÷ untraced under TCG, measured side by side in one run.

Boots the test guest (-cloak off: its syscalls cost what stock QEMU's do,
so the trace's own cost is not lost in the denominator) with
cloak.run=tracebench (a syscall-heavy loop) ROUNDS times in each of three
ways, taken in turn within each round: untraced; traced (-object
cloak-trace plus a live cloak-trace -f reader); traced with process
attribution (os-profile= the guest kernel's profile).  For each run it
takes the host CPU time QEMU spends between the guest's "tracebench:
start" line and its result line (sampled from /proc while the console file
is watched), and the loop time the guest measured itself.  CPU time is the
figure that holds still on a shared, loaded machine.  Prints every round,
the medians and their spread, the traced event rate and the records lost
at that rate, and how long `cloak-trace profile` takes on the guest's
kernel.  A median traced ÷ untraced below 1.00 means the benchmark measured
noise, not the trace: it then exits non-zero.
Usage: bench_guest.py [ITERATIONS] [ROUNDS]
"""

import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

from tests.lib import tracelib as tl

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def one(traced, iterations, opts):
    with tl.Guest(smp=1, run="tracebench", args=[iterations], traced=traced,
                  trace_opts=opts, extra=("-cloak", "off")) as g:
        g.start()
        reader = None
        if traced:
            g.wait_for_ring()
            reader = subprocess.Popen([tl.READER, "-f", "-o", "none",
                                       "--summary", g.ring],
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE)
        marks = {}
        while g.proc.poll() is None and len(marks) < 2:
            text = g.console_text() if os.path.exists(g.console) else ""

            for key, pattern in (("start", "tracebench: start"),
                                 ("end", "tracebench: syscalls=")):
                if key not in marks and pattern in text:
                    marks[key] = (cpu_seconds(g.proc.pid),
                                  cpu_seconds(reader.pid) if reader else 0)
            time.sleep(0.005)
        rc = g.wait()
        summary = None
        if reader:
            _, err = reader.communicate(timeout=120)
            summary = json.loads(err.decode().strip().splitlines()[-1])
        console = g.console_text()
    m = re.search(r"tracebench: syscalls=(\d+) ns=(\d+)", console)
    if rc != 0 or not m or len(marks) != 2:
        sys.exit("bench_guest: the guest did not finish tracebench "
                 "(rc %d):\n%s" % (rc, console[-1500:]))
    qemu_cpu = marks["end"][0] - marks["start"][0]
    reader_cpu = marks["end"][1] - marks["start"][1]
    return int(m.group(1)), int(m.group(2)) / 1e9, qemu_cpu, reader_cpu, \
        summary


def spread(values):
    return "median %.3f, spread %.3f-%.3f (rounds: %s)" % (
        statistics.median(values), min(values), max(values),
        ", ".join("%.3f" % x for x in values))


def profile_seconds(source, runs=3):
    """Median wall-clock seconds of `cloak-trace profile SOURCE`."""
    times = []
    with tempfile.TemporaryDirectory() as d:
        for _ in range(runs):
            t0 = time.monotonic()
            subprocess.run([tl.READER, "profile", "-o",
                            os.path.join(d, "profile"), source], check=True)
            times.append(time.monotonic() - t0)
    return statistics.median(times)


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 300000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    opts = ",size=64M,events=syscall:pagefault,paths=on"
    profile = tl.guest_os_profile()
    kinds = [("untraced", False, opts), ("traced", True, opts),
             ("attributed", True, opts + ",os-profile=" + profile)]
    cpu = {k: [] for k, _, _ in kinds}
    traced, attributed, attr_vs_traced, lost, rates = [], [], [], [], []
    for r in range(rounds):
        # Rotate the order, so no kind always runs first or last.
        order = kinds[r % 3:] + kinds[:r % 3]
        got = {}
        for kind, is_traced, o in order:
            got[kind] = one(is_traced, iterations, o)
            cpu[kind].append(got[kind][2])
        n = got["untraced"][0]
        u, t, a = (got[k][2] for k in ("untraced", "traced", "attributed"))
        traced.append(t / u)
        attributed.append(a / u)
        attr_vs_traced.append(a / t)
        s = got["attributed"][4]
        lost.append(sum(v["lost"] for v in s["vcpus"]) +
                    sum(v["lost"] for v in got["traced"][4]["vcpus"]))
        rates.append(2 * n / got["attributed"][1])
        print("  round %d (%s): QEMU CPU untraced %.2f s, traced %.2f s "
              "(%.3f), attributed %.2f s (%.3f; %.3f of traced); %d records "
              "lost" % (r + 1, ", ".join(k for k, _, _ in order), u, t,
                        traced[-1], a, attributed[-1], attr_vs_traced[-1],
                        lost[-1]))
        sys.stdout.flush()
    print("guest workload: tracebench, %d syscalls (getppid, read, lseek), "
          "-cloak off, -smp 1, TCG, events=syscall:pagefault, paths=on, live "
          "cloak-trace -f reader, %d rounds:" % (n, rounds))
    print("  traced / untraced, QEMU CPU time:                 " +
          spread(traced))
    print("  attributed / untraced, QEMU CPU time:             " +
          spread(attributed))
    print("  attribution on / off (attributed / traced):       " +
          spread(attr_vs_traced))
    print("  guest rate while traced with attribution: %.0f events/s; "
          "records lost: %s" % (max(rates), ", ".join(str(x) for x in lost)))
    print("cloak-trace profile of the guest kernel (%s): %.2f s (median of 3)"
          % (tl.GUEST_KERNEL, profile_seconds(tl.GUEST_KERNEL)))
    if statistics.median(traced) < 1.0 or statistics.median(attributed) < 1.0:
        sys.exit("bench_guest: a median traced / untraced below 1.00: the "
                 "machine's noise is larger than the trace's cost, so these "
                 "figures measure nothing; rerun on a quiet machine")


if __name__ == "__main__":
    main()
