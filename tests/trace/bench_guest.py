#!/usr/bin/python3
"""Traced ÷ untraced under TCG, measured side by side in one run.

Boots the test guest with cloak.run=tracebench (a syscall-heavy loop),
alternately without and with -object cloak-trace plus a live
cloak-trace -f reader, ROUNDS times each.  For each run it takes the host
CPU time QEMU spends between the guest's "tracebench: start" line and its
result line (sampled from /proc while the console file is watched), and the
loop time the guest measured itself.  CPU time is the figure that holds
still on a shared, loaded machine; the guest's wall-clock loop time is
printed too.  Also prints the traced event rate and the records lost at
that rate.  Usage: bench_guest.py [ITERATIONS] [ROUNDS]
"""

import json
import os
import re
import statistics
import subprocess
import sys
import time

from tests.lib import tracelib as tl

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def one(traced, iterations, opts):
    with tl.Guest(smp=1, run="tracebench", args=[iterations], traced=traced,
                  trace_opts=opts) as g:
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


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 1000000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    opts = ",size=64M,events=syscall:pagefault,paths=on"
    cpu, cpu_all, wall, lost, rates = [], [], [], [], []
    for r in range(rounds):
        n, wall_p, cpu_p, _, _ = one(False, iterations, opts)
        n, wall_t, cpu_t, cpu_r, s = one(True, iterations, opts)
        cpu.append(cpu_t / cpu_p)
        cpu_all.append((cpu_t + cpu_r) / cpu_p)
        wall.append(wall_t / wall_p)
        lost.append(sum(v["lost"] for v in s["vcpus"]))
        rates.append(2 * n / wall_t)    # an entry and a return per syscall
        print("  round %d: QEMU CPU untraced %.2f s, traced %.2f s (%.3f); "
              "reader CPU %.2f s; guest loop time untraced %.2f s, traced "
              "%.2f s (%.3f); %d records read, %d lost"
              % (r + 1, cpu_p, cpu_t, cpu[-1], cpu_r, wall_p, wall_t,
                 wall[-1], sum(v["records"] for v in s["vcpus"]), lost[-1]))
        sys.stdout.flush()
    print("guest workload: tracebench, %d syscalls (getppid, read, lseek), "
          "-smp 1, TCG, events=syscall:pagefault, paths=on, live "
          "cloak-trace -f reader:" % n)
    print("  traced / untraced, QEMU CPU time over the loop:  median %.3f "
          "(rounds: %s)" % (statistics.median(cpu),
                            ", ".join("%.3f" % x for x in cpu)))
    print("  traced / untraced, QEMU + reader CPU time:       median %.3f "
          "(rounds: %s)" % (statistics.median(cpu_all),
                            ", ".join("%.3f" % x for x in cpu_all)))
    print("  traced / untraced, guest-measured loop time:     median %.3f "
          "(rounds: %s; wall clock, noisy on a loaded host)"
          % (statistics.median(wall), ", ".join("%.3f" % x for x in wall)))
    print("  guest peak rate while traced: %.0f events/s; records lost at "
          "that rate: %s" % (max(rates), ", ".join(str(x) for x in lost)))


if __name__ == "__main__":
    main()
