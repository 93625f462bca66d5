#!/usr/bin/python3
"""Traced ÷ untraced under TCG, measured side by side in one run.

Boots the test guest with cloak.run=tracebench (a syscall-heavy loop timed
inside the guest) alternately without and with -object cloak-trace (a live
cloak-trace -f reader attached), ROUNDS times each, and prints the median
ratio of the loop times, the traced event rate and the records lost at
that rate.  Usage: bench_guest.py [ITERATIONS] [ROUNDS]
"""

import json
import os
import re
import statistics
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tracelib as tl  # noqa: E402


def one(traced, iterations, opts, with_reader=True):
    with tl.Guest(smp=1, run="tracebench", args=[iterations], traced=traced,
                  trace_opts=opts) as g:
        g.start()
        reader = None
        if traced and with_reader:
            g.wait_for_ring()
            reader = subprocess.Popen([tl.READER, "-f", "-o", "none",
                                       "--summary", g.ring],
                                      stdout=subprocess.DEVNULL,
                                      stderr=subprocess.PIPE)
        rc = g.wait()
        summary = None
        if reader:
            _, err = reader.communicate(timeout=120)
            summary = json.loads(err.decode().strip().splitlines()[-1])
        elif traced:
            summary = tl.read_ring(g.ring, "-o", "none")[1]
        console = g.console_text()
    m = re.search(r"tracebench: syscalls=(\d+) ns=(\d+)", console)
    if rc != 0 or not m:
        sys.exit("bench_guest: the guest did not finish tracebench "
                 "(rc %d):\n%s" % (rc, console[-1500:]))
    return int(m.group(1)), int(m.group(2)), summary


def main():
    iterations = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    opts = ",size=128M,events=syscall:pagefault,paths=on"
    plain, traced, alone, lost, rates = [], [], [], [], []
    for r in range(rounds):
        n, ns, _ = one(False, iterations, opts)
        plain.append(ns)
        n, ns_t, s = one(True, iterations, opts)
        traced.append(ns_t)
        lost.append(sum(v["lost"] for v in s["vcpus"]))
        records = sum(v["records"] for v in s["vcpus"])
        # The loop's own events: an entry and a return per syscall.
        rates.append(2 * n / (ns_t / 1e9))
        n, ns_a, s_a = one(True, iterations, opts, with_reader=False)
        alone.append(ns_a)
        print("  round %d: untraced %.3f s | traced, live reader %.3f s "
              "(%.3f), %d records read, %d lost | traced, reader after the "
              "run %.3f s (%.3f), %d lost"
              % (r + 1, ns / 1e9, ns_t / 1e9, ns_t / ns, records, lost[-1],
                 ns_a / 1e9, ns_a / ns, sum(v["lost"] for v in s_a["vcpus"])))
        sys.stdout.flush()
    ratios = [t / p for t, p in zip(traced, plain)]
    ratios_a = [t / p for t, p in zip(alone, plain)]
    print("guest workload (tracebench: %d syscalls of getppid/read/lseek in "
          "a loop timed inside the guest; -smp 1, TCG, paths=on):" % n)
    print("  traced / untraced, live cloak-trace -f reader: median %.3f "
          "(rounds: %s)" % (statistics.median(ratios),
                            ", ".join("%.3f" % x for x in ratios)))
    print("  traced / untraced, ring read after the run:    median %.3f "
          "(rounds: %s)" % (statistics.median(ratios_a),
                            ", ".join("%.3f" % x for x in ratios_a)))
    print("  guest peak rate while traced: %.0f events/s; records lost at "
          "that rate with a live reader: %s" % (max(rates), ", ".join(
              str(x) for x in lost)))


if __name__ == "__main__":
    main()
