#!/usr/bin/python3
"""cloak-image reset costs the same whatever the guest wrote.

Measures reset of a top layer holding 1 MiB and one holding 512 MiB, side by
side in one run, and prints the ratio (large / small); a reset that copied or
scanned the data would show a ratio far above 1.  Prints, never asserts.
"""

import os
import shutil
import tempfile
import time

from tests.lib.imagetest import DiskHolder, allocated_in_top, cloak_image

ROUNDS = 5


def timed_reset(store, mib):
    top = os.path.join(store, "top.qcow2")
    with DiskHolder(top) as vm:
        for off in range(0, mib, 64):
            vm.qemu_io("write -P 0x5a %dM %dM" % (off, min(64, mib - off)))
    assert allocated_in_top(top) >= mib << 20
    start = time.perf_counter()
    cloak_image("reset", store, check=0)
    return time.perf_counter() - start


def main():
    tmp = tempfile.mkdtemp(prefix="cloak-image-bench-")
    try:
        store = os.path.join(tmp, "store")
        cloak_image("create", store, "--size", "1G", check=0)
        small, large = [], []
        for _ in range(ROUNDS):
            small.append(timed_reset(store, 1))
            large.append(timed_reset(store, 512))
        s, l = sorted(small)[ROUNDS // 2], sorted(large)[ROUNDS // 2]
        print("cloak-image reset, median of %d: 1 MiB written %.3f s, 512 MiB written %.3f s"
              % (ROUNDS, s, l))
        print("ratio 512 MiB / 1 MiB: %.2f (1.00 = constant time)" % (l / s))
    finally:
        shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
