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
import subprocess
import sys
import tempfile
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from imagetest import BUILD_DIR, QEMU_BIN, checksums, cloak_image, need_binaries  # noqa: E402

GUEST_DIR = os.environ.get("GUEST_DIR", os.path.join(BUILD_DIR, "guest"))
FIRMWARE = ["-L", "/usr/share/seabios", "-L", "/usr/lib/ipxe/qemu", "-L", "/usr/share/qemu"]
BOOT_TIMEOUT = 240


def boot(top, console, nonce, program_args):
    """Boot the guest once with top as its SATA disk; return the console text."""
    append = "console=ttyS0 panic=-1 cloak.nonce=%s cloak.run=diskmarker" % nonce
    if program_args:
        append += " cloak.args=" + ",".join(program_args)
    argv = [QEMU_BIN] + FIRMWARE + [
        "-machine", "q35", "-accel", "tcg", "-m", "256", "-nodefaults",
        "-display", "none", "-no-reboot",
        "-kernel", os.path.join(GUEST_DIR, "vmlinuz"),
        "-initrd", os.path.join(GUEST_DIR, "initrd.img"),
        "-append", append,
        "-serial", "file:" + console,
        "-drive", "if=none,id=disk0,format=qcow2,file=" + top,
        "-device", "ide-hd,drive=disk0,bus=ide.0",
    ]
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          timeout=BOOT_TIMEOUT)
    with open(console, errors="replace") as f:
        text = f.read()
    if proc.returncode != 0:
        raise AssertionError("QEMU exited %d: %s\nconsole:\n%s"
                             % (proc.returncode, proc.stdout, text[-2000:]))
    end = "@@CLOAK-GUEST-END nonce=%s" % nonce
    if end not in text:
        raise AssertionError("guest did not finish (no '%s'); console:\n%s" % (end, text[-3000:]))
    if "@@CLOAK-SECTION-END run:diskmarker status=0" not in text:
        raise AssertionError("diskmarker failed in the guest; console:\n%s" % text[-3000:])
    return text


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
        console = os.path.join(self.tmp, "console")

        text = boot(self.top, console + "1", "first", ["write", marker])
        self.assertIn("diskmarker: found none", text)
        self.assertIn("diskmarker: wrote nonce=%s" % marker, text)

        # Without a reset the marker is still there: the final check can fail.
        text = boot(self.top, console + "2", "second", [])
        self.assertIn("diskmarker: found nonce=%s" % marker, text)

        out = cloak_image("reset", self.store, check=0)
        self.assertIn("reset", out.stdout)

        text = boot(self.top, console + "3", "third", [])
        self.assertIn("diskmarker: found none", text, "the marker survived the reset")
        self.assertNotIn(marker, text)

        self.assertEqual(checksums(self.lower), before, "a lower layer changed")
        cloak_image("check", "--checksums", self.store, check=0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
