#!/usr/bin/python3
"""Traced ÷ untraced under TCG, measured side by side in one boot.

Host CPU time per guest run varies by tens of per cent from one QEMU
process to the next on the development machines (two QEMUs running the
same untraced loop at the same time differed by up to 1.4x), so separate
boots cannot show a cost of a few per cent.  This bench compares like with
like inside one boot instead: the guest (-cloak off: its syscalls cost
what stock QEMU's do, so the trace's own cost is not lost in the
denominator) runs cloak.run=tracebench, a syscall-heavy loop (getppid,
read, lseek), cut into short segments with a pause before each; during
each pause the host switches tracing on or off with QMP qom-set "enabled".
Segment 0 warms the translation cache up and is not counted; then come
PAIRS pairs of segments, one traced and one not, in alternating order.
Each pair gives traced ÷ untraced in the CPU time of QEMU's vCPU thread,
where the producer runs, over the segments (sampled from /proc when the
guest's console line appears).

The noise on a shared 2-core VM comes in bursts (identical 1 s segments
took 0.64-1.26 s), so a pair ratio alone is worth little: many short pairs
(default 100 of 120,000 syscalls, about 100 ms each) put the two halves of
a pair close together in time, and their median is what the bench reports,
with the quartiles and the spread.  Each segment is checked against the
producer's own record counter in the ring file: a traced segment must
have written two records per syscall and an untraced one none; a pair
where the switch came late is dropped and counted, never measured.  The
vCPU thread runs alone on one CPU, the reader and the rest on the others
(pin()).

One boot traces without an OS profile, one with the test guest's kernel
profile (process attribution on), each with a live `cloak-trace -f`
reader; attribution on ÷ off is the ratio of the two medians.  Prints
every pair, the medians and their spread, the records lost, and how long
`cloak-trace profile` takes on the guest's kernel.  A median traced ÷
untraced below 1.00 means the figures measure noise, not the trace: the
bench then exits non-zero.
Usage: bench_guest.py [ITERATIONS_PER_SEGMENT [PAIRS [PAUSE_MS]]]
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

# Where the guest's code lies decides which of its hot blocks share a slot
# of TCG's jump cache, and so how fast a boot runs (untraced segments of
# two boots differed by 10%): every boot of the bench lays the guest out
# alike, so that boots with and without attribution compare.
FIXED_LAYOUT = "nokaslr norandmaps"
# The CPUs this bench may use, before pin() narrows its own set.
CPUS = sorted(os.sched_getaffinity(0))


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


def pin(qemu_pid, reader_pid):
    """The vCPU thread alone on the first CPU, everything else (QEMU's
    other threads, the reader, this harness) on the others, as libvirt's
    <vcpupin> and <emulatorpin> place them on a sandbox host.  On the
    2-core development machines the busy reader of traced segments can
    otherwise take the vCPU's core, and the vCPU thread then comes back
    to cold caches: a cost of the machine, not of the trace.
    Returns what was done, for the report."""
    cpus = CPUS
    if len(cpus) < 2:
        return "not pinned (one CPU)"
    vcpu_cpu, others = {cpus[0]}, set(cpus[1:])
    os.sched_setaffinity(0, others)
    os.sched_setaffinity(reader_pid, others)
    for tid in os.listdir("/proc/%d/task" % qemu_pid):
        try:
            with open("/proc/%d/task/%s/comm" % (qemu_pid, tid)) as f:
                vcpu = f.read().startswith("CPU ")
            os.sched_setaffinity(int(tid), vcpu_cpu if vcpu else others)
        except (FileNotFoundError, ProcessLookupError):
            pass            # a thread that has just exited
    return "vCPU thread on CPU %d, the rest on CPU %s" % (
        cpus[0], ",".join(str(c) for c in sorted(others)))


def traced_in(segment):
    """Pair k is segments 2k+1 and 2k+2: traced first in even pairs."""
    if segment == 0:
        return False
    k, second = divmod(segment - 1, 2)
    return (k % 2 == 0) != bool(second)


def alternating(per_segment, pairs, pause_ms, profile=None):
    """One boot; returns ([(traced cpu, untraced cpu)] per pair, pairs
    dropped because a switch came late, the reader's summary, how the
    threads were pinned)."""
    segments = 1 + 2 * pairs
    opts = ",size=64M,events=syscall:pagefault,paths=on,enabled=off"
    if profile:
        opts += ",os-profile=" + profile
    with tl.Guest(smp=1, run="tracebench",
                  args=[per_segment * segments, segments, pause_ms],
                  trace_opts=opts, extra=("-cloak", "off"),
                  kernel_args=FIXED_LAYOUT) as g:
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
        pinned = pin(g.proc.pid, reader.pid)
        qmp = QmpClient(sock)
        cpu_marks, record_marks, seen = [], [], 0
        while g.proc.poll() is None:
            text = g.console_text()
            if seen <= segments and \
                    ("tracebench: segment %d\n" % seen in text or
                     (seen == segments and "tracebench: segment end" in text)):
                cpu_marks.append(vcpu_seconds(g.proc.pid))
                record_marks.append(tl.ring_records(g.ring))
                if seen < segments:
                    qmp.command("qom-set", path="/objects/trace0",
                                property="enabled", value=traced_in(seen))
                seen += 1
                continue
            time.sleep(0.001)
        qmp.close()
        rc = g.wait()
        os.sched_setaffinity(0, CPUS)
        _, err = reader.communicate(timeout=120)
        summary = json.loads(err.decode().strip().splitlines()[-1])
        console = g.console_text()
    if rc != 0 or len(cpu_marks) != segments + 1:
        sys.exit("bench_guest: the guest did not finish tracebench "
                 "(rc %d, %d marks):\n%s" % (rc, len(cpu_marks),
                                             console[-1500:]))
    cpu = [b - a for a, b in zip(cpu_marks, cpu_marks[1:])]
    records = [b - a for a, b in zip(record_marks, record_marks[1:])]

    def as_switched(segment):
        """Entry and exit of each of 3 syscalls per iteration, or none."""
        if traced_in(segment):
            return records[segment] >= 6 * per_segment
        return records[segment] < per_segment

    out, dropped = [], 0
    for k in range(pairs):
        a, b = 1 + 2 * k, 2 + 2 * k
        if not (as_switched(a) and as_switched(b)):
            dropped += 1
            continue
        t, u = (cpu[a], cpu[b]) if traced_in(a) else (cpu[b], cpu[a])
        out.append((t, u))
    if len(out) < max(5, pairs // 2):
        sys.exit("bench_guest: %d of %d pairs had tracing in the wrong state "
                 "(the host missed the %d ms pause): rerun with a longer "
                 "pause" % (dropped, pairs, pause_ms))
    return out, dropped, summary, pinned


def quiet_ratio(pairs):
    """The quietest tenth of traced segments ÷ the quietest tenth of
    untraced ones: noise on a shared machine only ever adds time."""
    def low(values):
        return statistics.quantiles(values, n=10)[0]
    return low([t for t, _ in pairs]) / low([u for _, u in pairs])


def spread(values):
    q1, q2, q3 = statistics.quantiles(values, n=4)
    return "median %.3f, quartiles %.3f-%.3f, spread %.3f-%.3f, %d pairs" % (
        q2, q1, q3, min(values), max(values), len(values))


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
    per_segment = int(sys.argv[1]) if len(sys.argv) > 1 else 40000
    pairs = int(sys.argv[2]) if len(sys.argv) > 2 else 100
    pause_ms = int(sys.argv[3]) if len(sys.argv) > 3 else 60
    ratios, quiet = {}, {}
    for kind, profile in (("traced", None),
                          ("traced with attribution", tl.guest_os_profile())):
        got, dropped, summary, pinned = alternating(per_segment, pairs, pause_ms,
                                            profile)
        ratios[kind] = [t / u for t, u in got]
        quiet[kind] = quiet_ratio(got)
        lost = sum(v["lost"] for v in summary["vcpus"])
        print("  %s, pairs (vCPU thread CPU traced / untraced, ms): %s" % (
            kind, ", ".join("%.0f/%.0f" % (t * 1e3, u * 1e3) for t, u in got)))
        print("  %s: %d records read, %d lost; %d pairs dropped (tracing "
              "switched late); %s" % (kind, sum(v["records"]
                                              for v in summary["vcpus"]),
                                    lost, dropped, pinned))
        sys.stdout.flush()
    print("guest workload: tracebench, %d syscalls (getppid, read, lseek) per "
          "segment, -cloak off, -smp 1, TCG, events=syscall:pagefault, "
          "paths=on, live cloak-trace -f reader; %d pairs of segments per "
          "boot, %d ms pauses, tracing switched with qom-set:"
          % (3 * per_segment, pairs, pause_ms))
    t = ratios["traced"]
    a = ratios["traced with attribution"]
    print("  traced / untraced, vCPU thread CPU time:           " + spread(t))
    print("  traced with attribution / untraced:                " + spread(a))
    print("  attribution on / off (ratio of the two medians):   %.3f"
          % (statistics.median(a) / statistics.median(t)))
    print("  quietest tenth traced / quietest tenth untraced:   %.3f, %.3f "
          "with attribution" % (quiet["traced"],
                                quiet["traced with attribution"]))
    print("cloak-trace profile of the guest kernel (%s): %.2f s (median of 3)"
          % (tl.GUEST_VMLINUZ, profile_seconds(tl.GUEST_VMLINUZ)))
    if statistics.median(t) < 1.0 or statistics.median(a) < 1.0:
        sys.exit("bench_guest: a median traced / untraced below 1.00: the "
                 "machine's noise is larger than the trace's cost, so these "
                 "figures measure nothing; rerun on a quiet machine")


if __name__ == "__main__":
    main()
