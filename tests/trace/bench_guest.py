#!/usr/bin/python3
"""Traced ÷ untraced under TCG, measured side by side in one boot.

Host CPU time per guest run varies by tens of per cent from one QEMU
process to the next on the development machines (two QEMUs running the
same untraced loop at the same time differed by up to 1.4x), so separate
boots cannot show a cost of a few per cent.  This bench compares like with
like inside one boot instead: the guest (-cloak off: its syscalls cost
what stock QEMU's do, so the trace's own cost is not lost in the
denominator) runs cloak.run=tracebench, a syscall-heavy loop (getppid,
read, lseek), cut into segments with a pause before each; during each
pause the host switches tracing on or off with QMP qom-set "enabled".
Segment 0 warms the translation cache up and is not counted; then come
PAIRS pairs of segments, one traced and one not, in alternating order.
Each pair gives traced ÷ untraced in the CPU time of QEMU's vCPU thread,
where the producer runs, over the segments (sampled from /proc when the
guest's console line appears).  On a machine whose speed drifts, even
that thread's time for identical segments varies (0.64-1.26 s for 1 s
segments on a 2-core development VM): read the spread before the median.

One boot traces without an OS profile, one with the test guest's kernel
profile (process attribution on), each with a live `cloak-trace -f`
reader; attribution on ÷ off is the ratio of the two medians.  Prints
every pair, the medians and their spread, the records lost, and how long
`cloak-trace profile` takes on the guest's kernel.  A median traced ÷
untraced below 1.00 means the figures measure noise, not the trace: the
bench then exits non-zero.
Usage: bench_guest.py [ITERATIONS_PER_SEGMENT] [PAIRS]
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

from tests.lib import tracelib as tl
from tests.lib.qmp import QmpClient

def vcpu_seconds(pid):
    """CPU time of QEMU's vCPU thread, in nanosecond resolution.

    The trace's producer runs in the vCPU thread, so that thread's time is
    the cost; the main loop's (QMP, the console, timers) is only noise.
    QEMU names it "CPU 0/TCG" under -name debug-threads=on.  /proc/PID/stat
    counts in clock ticks (10 ms); schedstat's first field is the thread's
    time on a CPU in nanoseconds.
    """
    total, found = 0, False
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if not f.read().startswith("CPU "):
                    continue
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
            found = True
        except (FileNotFoundError, ProcessLookupError):
            pass            # a thread that has just exited
    if not found:
        sys.exit("bench_guest: QEMU (pid %d) has no thread named \"CPU ...\" "
                 "(-name debug-threads=on)" % pid)
    return total / 1e9


def traced_in(segment):
    """Pair k is segments 2k+1 and 2k+2: traced first in even pairs."""
    if segment == 0:
        return False
    k, second = divmod(segment - 1, 2)
    return (k % 2 == 0) != bool(second)


def alternating(per_segment, pairs, profile=None):
    """One boot; returns ([(traced cpu, untraced cpu)] per pair, summary)."""
    segments = 1 + 2 * pairs
    opts = ",size=64M,events=syscall:pagefault,paths=on,enabled=off"
    if profile:
        opts += ",os-profile=" + profile
    with tl.Guest(smp=1, run="tracebench",
                  args=[per_segment * segments, segments], trace_opts=opts,
                  extra=("-cloak", "off")) as g:
        sock = os.path.join(g.dir, "qmp.sock")
        g.cmd += ["-qmp", "unix:%s,server=on,wait=off" % sock,
                  "-name", "tracebench,debug-threads=on"]
        g.start()
        g.wait_for_ring()
        reader = subprocess.Popen([tl.READER, "-f", "-o", "none", "--summary",
                                   g.ring], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE)
        while not os.path.exists(sock):
            time.sleep(0.01)
        qmp = QmpClient(sock)
        starts, seen = [], 0
        while g.proc.poll() is None:
            text = g.console_text()
            if seen <= segments and \
                    ("tracebench: segment %d\n" % seen in text or
                     (seen == segments and "tracebench: segment end" in text)):
                starts.append(vcpu_seconds(g.proc.pid))
                if seen < segments:
                    qmp.command("qom-set", path="/objects/trace0",
                                property="enabled", value=traced_in(seen))
                seen += 1
                continue
            time.sleep(0.002)
        qmp.close()
        rc = g.wait()
        _, err = reader.communicate(timeout=120)
        summary = json.loads(err.decode().strip().splitlines()[-1])
        console = g.console_text()
    if rc != 0 or len(starts) != segments + 1:
        sys.exit("bench_guest: the guest did not finish tracebench "
                 "(rc %d, %d marks):\n%s" % (rc, len(starts),
                                             console[-1500:]))
    cpu = [b - a for a, b in zip(starts, starts[1:])]
    out = []
    for k in range(pairs):
        a, b = 1 + 2 * k, 2 + 2 * k
        t, u = (cpu[a], cpu[b]) if traced_in(a) else (cpu[b], cpu[a])
        out.append((t, u))
    return out, summary


def spread(values):
    return "median %.3f, spread %.3f-%.3f (pairs: %s)" % (
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
    per_segment = int(sys.argv[1]) if len(sys.argv) > 1 else 50000
    pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    ratios = {}
    for kind, profile in (("traced", None),
                          ("traced with attribution", tl.guest_os_profile())):
        got, summary = alternating(per_segment, pairs, profile)
        ratios[kind] = [t / u for t, u in got]
        lost = sum(v["lost"] for v in summary["vcpus"])
        for k, (t, u) in enumerate(got):
            print("  %s, pair %d: vCPU thread CPU traced %.3f s, untraced %.3f s: "
                  "%.3f" % (kind, k + 1, t, u, t / u))
        print("  %s: %d records read, %d lost" % (
            kind, sum(v["records"] for v in summary["vcpus"]), lost))
        sys.stdout.flush()
    print("guest workload: tracebench, %d syscalls (getppid, read, lseek) per "
          "segment, -cloak off, -smp 1, TCG, events=syscall:pagefault, "
          "paths=on, live cloak-trace -f reader; %d pairs of segments per "
          "boot, tracing switched with qom-set:" % (3 * per_segment, pairs))
    t = ratios["traced"]
    a = ratios["traced with attribution"]
    print("  traced / untraced, vCPU thread CPU time:           " + spread(t))
    print("  traced with attribution / untraced:                " + spread(a))
    print("  attribution on / off (ratio of the two medians):   %.3f"
          % (statistics.median(a) / statistics.median(t)))
    print("cloak-trace profile of the guest kernel (%s): %.2f s (median of 3)"
          % (tl.GUEST_VMLINUZ, profile_seconds(tl.GUEST_VMLINUZ)))
    if statistics.median(t) < 1.0 or statistics.median(a) < 1.0:
        sys.exit("bench_guest: a median traced / untraced below 1.00: the "
                 "machine's noise is larger than the trace's cost, so these "
                 "figures measure nothing; rerun on a quiet machine")


if __name__ == "__main__":
    main()
