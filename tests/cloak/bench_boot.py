#!/usr/bin/python3
"""make bench: boot-to-power-off time of the cloaked guest divided by the
stock one (-cloak off), measured side by side in one run.

The guest boots, loads its modules, lets its devices settle and powers off
(cloak.run=true): the detector battery is not boot time, and on a cloaked
guest it samples the thermal zone for 24 s, which stock, having no zone,
skips (that made the ratio 3.0 instead of a boot's).

Boots alternate (stock, cloaked, stock, ...) so that a change in machine
load hits both equally; the figure is the ratio of the medians.

Environment: QEMU_BIN, GUEST_DIR, CLOAK_BENCH_RUNS (pairs, default 5),
CLOAK_BENCH_MACHINE (default q35).
"""

import os
import statistics
import sys
import tempfile


from tests.lib import cloakguest
from tests.lib.battery import device_args
from tests.lib.paths import GUEST_DIR, QEMU_BIN as QEMU

RUNS = int(os.environ.get("CLOAK_BENCH_RUNS", "5"))
MACHINE = os.environ.get("CLOAK_BENCH_MACHINE", "q35")
UUID = "6f1d2c3a-1111-4222-8333-444455556666"


def main():
    times = {"stock": [], "cloaked": []}
    with tempfile.TemporaryDirectory(prefix="cloak-bench-") as tmp:
        disk = os.path.join(tmp, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(64 << 20)
        for i in range(RUNS):
            for mode, cloak in (("stock", "off"), ("cloaked", "on")):
                r = cloakguest.boot(QEMU, machine=MACHINE, accel="tcg",
                                    guest_dir=GUEST_DIR, smp=2, memory=512,
                                    run="true",
                                    extra_args=["-cloak", cloak, "-uuid", UUID] +
                                    device_args(MACHINE, disk))
                times[mode].append(r.boot_seconds)
                print("run %d %-7s %.2f s" % (i + 1, mode, r.boot_seconds),
                      flush=True)
    stock = statistics.median(times["stock"])
    cloaked = statistics.median(times["cloaked"])
    pairs = [c / s for s, c in zip(times["stock"], times["cloaked"])]
    print("per-pair cloaked / stock: %s (spread shows the machine's noise)"
          % " ".join("%.2f" % p for p in pairs))
    print("bench-cloak: boot to power-off, %s, TCG, %d pairs: "
          "cloaked / stock = %.3f (medians)" % (MACHINE, RUNS, cloaked / stock))
    return 0


if __name__ == "__main__":
    sys.exit(main())
