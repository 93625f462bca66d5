#!/usr/bin/python3
"""The sandbox cycle on a layered disk, with a real guest.

Boot a guest that writes a marker to its disk (the top layer of a
cloak-image store), boot again to see the marker survive, reset the top
layer, boot again: the marker is gone and the lower layers are byte-identical
to what they were before the first boot.

The guest is the test guest (make guest) running tests/guest/programs/
diskmarker.c, which reads and writes one sector of the raw disk.
"""

import os
import shutil
import tempfile
import unittest
import uuid

from tests.lib import cloakguest
from tests.lib.imagetest import checksums, cloak_image, need_binaries
from tests.lib.paths import GUEST_DIR, QEMU_BIN


def boot(top, program_args):
    """Boot the guest once with top as its SATA disk; return diskmarker's output."""
    report = cloakguest.boot(
        QEMU_BIN, machine="q35", guest_dir=GUEST_DIR, memory=256,
        run="diskmarker", run_args=program_args,
        extra_args=["-drive", "if=none,id=disk0,format=qcow2,file=" + top,
                    "-device", "ide-hd,drive=disk0,bus=ide.0"])
    out = report.output("run:diskmarker")
    if report.status("run:diskmarker") != 0:
        raise AssertionError("diskmarker failed in the guest (accel %s):\n%s"
                             % (report.accel, out))
    return out


class LayeredBootTest(unittest.TestCase):
    def setUp(self):
        need_binaries(self)
        for f in ("vmlinuz", "initrd.img"):
            if not os.path.exists(os.path.join(GUEST_DIR, f)):
                self.fail("%s/%s is missing: make guest" % (GUEST_DIR, f))
        self.tmp = tempfile.mkdtemp(prefix="cloak-layered-")
        self.addCleanup(shutil.rmtree, self.tmp)
        self.store = os.path.join(self.tmp, "store")
        cloak_image("create", self.store, "--size", "64M", check=0)
        self.top = os.path.join(self.store, "top.qcow2")
        self.lower = [os.path.join(self.store, n) for n in ("os.qcow2", "apps.qcow2")]

    def test_marker_gone_after_reset(self):
        before = checksums(self.lower)
        marker = uuid.uuid4().hex[:12]

        text = boot(self.top, ["write", marker])
        self.assertIn("diskmarker: found none", text)
        self.assertIn("diskmarker: wrote nonce=%s" % marker, text)

        # Without a reset the marker is still there: the final check can fail.
        text = boot(self.top, [])
        self.assertIn("diskmarker: found nonce=%s" % marker, text)

        out = cloak_image("reset", self.store, check=0)
        self.assertIn("reset", out.stdout)

        text = boot(self.top, [])
        self.assertIn("diskmarker: found none", text, "the marker survived the reset")
        self.assertNotIn(marker, text)

        self.assertEqual(checksums(self.lower), before, "a lower layer changed")
        cloak_image("check", "--checksums", self.store, check=0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
