#!/usr/bin/python3
"""make bench: the traced 4-vCPU storm, repeated, for the MTTCG soak.

Boots the test guest STORM_RUNS times (default 10) with -smp 4 under TCG
(MTTCG: one host thread per vCPU), tracing syscalls and page faults into a
ring read live by cloak-trace, alternating drop and block mode, while
stormtest runs 4 threads of syscalls and page faults.  Prints each run's
duration, events, losses and QEMU's exit, and how many runs ended in a
crash; an MTTCG abort was once seen with 4 vCPUs during development.

Environment: QEMU_BIN, GUEST_DIR, TOOLS_DIR, STORM_RUNS, STORM_ROUNDS (1500).
"""

import os
import re
import sys

from tests.lib import tracelib as tl

RUNS = int(os.environ.get("STORM_RUNS", "10"))
ROUNDS = int(os.environ.get("STORM_ROUNDS", "1500"))


def one(mode):
    with tl.Guest(smp=4, run="stormtest", args=[4, ROUNDS],
                  trace_opts=",size=256K,mode=%s,events=syscall:pagefault"
                  % mode) as g:
        rc, _, summary, seconds = tl.run_with_reader(g, timeout=1800)
        done = re.search(r"stormtest: .*failed=0", g.console_text())
        out = g.qemu_output
    summary = summary or {}
    lost = sum(v["lost"] for v in summary.get("vcpus", []))
    return rc, bool(done), seconds, summary.get("syscall_enters", 0), \
        summary.get("page_faults", 0), lost, out


def main():
    crashes = 0
    for i in range(RUNS):
        mode = ("drop", "block")[i % 2]
        rc, done, secs, enters, faults, lost, out = one(mode)
        ok = rc == 0 and done
        crashes += not ok
        print("storm %2d %-5s %6.1f s  exit %d  %s  %d syscalls %d faults "
              "read, %d lost%s" % (i + 1, mode, secs, rc,
                                   "done" if done else "NOT DONE", enters,
                                   faults, lost,
                                   "" if ok else "\n" + out[-1500:]),
              flush=True)
    print("bench-trace-storm: %d runs of -smp 4 with tracing, %d ended badly"
          % (RUNS, crashes))
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
