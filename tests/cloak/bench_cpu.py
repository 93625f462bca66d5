#!/usr/bin/python3
"""make bench: what the cloaked CPU costs the guest per kernel entry.

For every shipped profile, boots the test guest with cloak.run=syscallbench
(getpid, open+close of /dev/null, first-touch page faults, each timed in
the guest) under TCG, and prints cloaked / stock (-cloak off) two ways:

- guest instructions per operation: one boot each with -icount shift=0,
  where the guest's clock advances one nanosecond per instruction.  Exact
  and repeatable: it shows the work the guest kernel's mitigations add
  (page-table isolation, the BHI clearing loop, return thunks, ...);
- host time per operation: CLOAK_BENCH_CPU_PAIRS (default 3) alternating
  stock and cloaked boots, each pair's ratios and the ratio of the
  medians.  This adds what TCG pays per instruction and per exit, and the
  noise of the machine (tens of per cent from boot to boot here).

The guest kernel keeps its default mitigations: they are what the
profile's CPU decides.

Environment: QEMU_BIN, GUEST_DIR, CLOAK_BENCH_CPU_PAIRS,
CLOAK_BENCH_CPU_ITERATIONS (default 20000; the guest reports the fastest of 5 rounds), CLOAK_BENCH_CPU_PROFILES
(comma-separated; default every shipped profile).
"""

import os
import re
import statistics
import sys


from tests.lib import cloakguest
from tests.lib.battery import topology
from tests.lib.paths import GUEST_DIR, PROFILES, QEMU_BIN as QEMU

PAIRS = int(os.environ.get("CLOAK_BENCH_CPU_PAIRS", "3"))
ITERATIONS = int(os.environ.get("CLOAK_BENCH_CPU_ITERATIONS", "20000"))
WORKLOADS = ("getpid", "open-close", "pagefault")


def run(cloak, icount=False):
    """{workload: ns per operation} of one boot (with icount: guest
    instructions per operation)."""
    # The guest times its loops with the HPET, which QEMU runs on the host's
    # clock: under TCG the TSC's calibration at boot varies by tens of per
    # cent from boot to boot, and so would every ratio.
    r = cloakguest.boot(QEMU, machine="q35", accel="tcg", guest_dir=GUEST_DIR,
                        smp=topology(None), run="syscallbench",
                        run_args=[str(ITERATIONS)],
                        extra_args=["-cloak", cloak] +
                        (["-icount", "shift=0"] if icount else []),
                        append_extra="clocksource=hpet")
    out = r.output("run:syscallbench")
    costs = {}
    for m in re.finditer(r"^syscallbench: (\S+) n=(\d+) ns=(\d+)$", out, re.M):
        costs[m.group(1)] = int(m.group(3)) / int(m.group(2))
    missing = [w for w in WORKLOADS if w not in costs]
    if missing:
        raise SystemExit("bench-cpu: -cloak %s: no result for %s:\n%s"
                         % (cloak, ", ".join(missing), out))
    return costs


def main():
    wanted = os.environ.get("CLOAK_BENCH_CPU_PROFILES")
    profiles = wanted.split(",") if wanted else PROFILES
    stock_insns = run("off", icount=True)
    insns = [(p, run("profile=" + p, icount=True)) for p in profiles]
    summary = []
    for profile in profiles:
        stock = {w: [] for w in WORKLOADS}
        cloaked = {w: [] for w in WORKLOADS}
        for i in range(PAIRS):
            s = run("off")
            c = run("profile=" + profile)
            for w in WORKLOADS:
                stock[w].append(s[w])
                cloaked[w].append(c[w])
            print("%s pair %d: %s" % (profile, i + 1, "  ".join(
                "%s %.0f/%.0f ns = %.2f" % (w, c[w], s[w], c[w] / s[w])
                for w in WORKLOADS)), flush=True)
        ratios = {w: statistics.median(cloaked[w]) / statistics.median(stock[w])
                  for w in WORKLOADS}
        summary.append((profile, ratios))
    print("bench-cpu: TCG, q35, -smp %s, %d operations each; guest "
          "instructions per operation (-icount), cloaked / stock:"
          % (topology(None), ITERATIONS))
    print("  %-24s %s" % ("stock (-cloak off)", "  ".join(
        "%s %.0f" % (w, stock_insns[w]) for w in WORKLOADS)))
    for profile, n in insns:
        print("  %-24s %s" % (profile, "  ".join(
            "%s %.0f = %.2fx" % (w, n[w], n[w] / stock_insns[w])
            for w in WORKLOADS)))
    print("bench-cpu: host time per operation, %d pairs, cloaked / stock "
          "(medians):" % PAIRS)
    for profile, ratios in summary:
        print("  %-24s %s" % (profile, "  ".join(
            "%s %.2fx" % (w, ratios[w]) for w in WORKLOADS)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
