#!/usr/bin/python3
"""Traced ÷ untraced under TCG, measured side by side in one run.

Boots the test guest with cloak.run=tracebench (a syscall-heavy loop timed
inside the guest) alternately without and with -object cloak-trace (a live
cloak-trace -f reader attached), ROUNDS times each, and prints the median
ratio of the loop times, the traced event rate and the records lost at
that rate.  Usage: bench_guest.py [ITERATIONS] [ROUNDS]
"""

import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tracelib as tl  # noqa: E402


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
        rc = g.wait()
        summary = None
        if reader:
            _, err = reader.communicate(timeout=120)
            import json
            summary = json.loads(err.decode().strip().splitlines()[-1])
        console = g.console_text()
    m = re.search(r"tracebench: syscalls=(\d+) ns=(\d+)", console)
    if rc != 0 or not m:
        sys.exit("bench_guest: the guest did not finish tracebench "
                 "(rc %d):\n%s" % (rc, console[-1500:]))
    return int(m.group(1)), int(m.group(2)), summary


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    opts = ",size=64M,events=syscall:pagefault,paths=on"
    plain, traced, lost, rates, records = [], [], [], [], []
    for r in range(rounds):
        n, ns, _ = one(False, iterations, opts)
        plain.append(ns)
        n, ns_t, s = one(True, iterations, opts)
        traced.append(ns_t)
        lost.append(sum(v["lost"] for v in s["vcpus"]))
        records.append(sum(v["records"] for v in s["vcpus"]))
        # The loop's own events: 2 records per syscall.
        rates.append(2 * n / (ns_t / 1e9))
        print("  round %d: untraced %.3f s, traced %.3f s (ratio %.3f), "
              "%d records read, %d lost" % (r + 1, ns / 1e9, ns_t / 1e9,
                                            ns_t / ns, records[-1], lost[-1]))
    ratios = [t / p for t, p in zip(traced, plain)]
    print("guest workload (tracebench: %d syscalls of getppid/read/lseek, "
          "-smp 1, TCG, paths=on, live reader):" % n)
    print("  traced / untraced loop time: median %.3f (rounds: %s)"
          % (statistics.median(ratios),
             ", ".join("%.3f" % x for x in ratios)))
    print("  guest peak rate while traced: %.0f events/s; records lost at "
          "that rate: %s" % (max(rates), ", ".join(str(x) for x in lost)))


if __name__ == "__main__":
    main()
