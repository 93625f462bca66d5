#!/usr/bin/python3
"""cloak-image without a guest: the chain it builds, reset, refusal while a
QEMU holds the disk, a missing backing file, commit, and that the lower
layers never change."""

import os
import shutil
import stat
import subprocess
import tempfile
import time
import unittest

from tests.lib.imagetest import (DiskHolder, allocated_in_top, checksums,
                                 cloak_image, img_info, need_binaries)
from tests.lib.paths import QEMU_IMG


class CloakImageTest(unittest.TestCase):
    def setUp(self):
        need_binaries(self)
        self.tmp = tempfile.mkdtemp(prefix="cloak-image-test-")
        self.store = os.path.join(self.tmp, "store")
        cloak_image("create", self.store, "--size", "64M", check=0)
        self.os = os.path.join(self.store, "os.qcow2")
        self.apps = os.path.join(self.store, "apps.qcow2")
        self.top = os.path.join(self.store, "top.qcow2")
        self.lower_sums = checksums([self.os, self.apps])

    def tearDown(self):
        for root, dirs, _ in os.walk(self.tmp):
            for d in dirs:
                os.chmod(os.path.join(root, d), 0o755)
        shutil.rmtree(self.tmp)

    def assertLowerUnchanged(self):
        self.assertEqual(checksums([self.os, self.apps]), self.lower_sums,
                         "a lower layer was written")

    def test_create_builds_chain(self):
        self.assertEqual(img_info(self.top)["backing-filename"], "apps.qcow2")
        self.assertEqual(img_info(self.top)["backing-filename-format"], "qcow2")
        self.assertEqual(img_info(self.apps)["backing-filename"], "os.qcow2")
        self.assertNotIn("backing-filename", img_info(self.os))
        self.assertEqual(img_info(self.top)["virtual-size"], 64 << 20)
        for lower in (self.os, self.apps):
            self.assertEqual(os.stat(lower).st_mode & 0o222, 0, lower + " is writable")
        self.assertTrue(os.stat(self.top).st_mode & stat.S_IWUSR)
        out = cloak_image("check", "--checksums", self.store, check=0)
        self.assertIn("chain OK", out.stdout)

    def test_create_from_image_copies_it(self):
        src = os.path.join(self.tmp, "installed-os.img")
        with DiskHolder(self.top) as vm:
            vm.qemu_io("write -P 0x5a 0 64k")
        # A flat raw image with data in it stands in for an installed OS.
        subprocess.run([QEMU_IMG, "convert", "-O", "raw", self.top, src], check=True)
        before = checksums([src])
        store2 = os.path.join(self.tmp, "store2")
        cloak_image("create", store2, "--from", src, check=0)
        self.assertEqual(checksums([src]), before, "create wrote to its --from image")
        with DiskHolder(os.path.join(store2, "top.qcow2")) as vm:
            vm.qemu_io("read -P 0x5a 0 64k")

    def test_reset_empties_top_and_keeps_lower(self):
        with DiskHolder(self.top) as vm:
            vm.qemu_io("write -P 0xab 1M 2M")
            vm.qemu_io("read -P 0xab 1M 2M")
        self.assertGreaterEqual(allocated_in_top(self.top), 2 << 20)
        os.chmod(self.top, 0o640)
        out = cloak_image("reset", self.store, check=0)
        self.assertIn("reset", out.stdout)
        self.assertEqual(allocated_in_top(self.top), 0, "top layer still holds data after reset")
        self.assertEqual(stat.S_IMODE(os.stat(self.top).st_mode), 0o640, "reset lost the mode")
        self.assertEqual(img_info(self.top)["backing-filename"], "apps.qcow2")
        with DiskHolder(self.top) as vm:
            vm.qemu_io("read -P 0 1M 2M")       # the guest sees the lower layers again
        self.assertLowerUnchanged()
        # The old layer is deleted in the background; it must go soon.
        deadline = time.monotonic() + 10
        while [f for f in os.listdir(self.store) if f.startswith(".")] and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertEqual([f for f in os.listdir(self.store) if f.startswith(".")], [],
                         "reset left a temporary file behind")

    def test_reset_refuses_while_open(self):
        with DiskHolder(self.top) as vm:
            vm.qemu_io("write -P 0xcd 0 64k")
            before = checksums([self.top])
            out = cloak_image("reset", self.store, check=2)
            self.assertIn("refusing to reset", out.stderr)
            self.assertIn("pid %d" % vm.proc.pid, out.stderr)
            self.assertEqual(checksums([self.top]), before, "refused reset changed the top layer")
        self.assertGreater(allocated_in_top(self.top), 0)

    def test_reset_names_top_file(self):
        out = cloak_image("reset", self.top, check=0)
        self.assertIn(self.top, out.stdout)

    def test_reset_refuses_base_image(self):
        for layer in (self.os, self.apps):
            out = cloak_image("reset", layer, check=1)
            self.assertIn("marks it as a base layer", out.stderr)
        self.assertLowerUnchanged()

    def test_reset_never_destroys_committed_data(self):
        """Issue 13.1: after a commit, `reset STORE/apps.qcow2` emptied the
        applications layer and unlinked the old one; it is refused now, and
        the committed data is still there."""
        with DiskHolder(self.top) as vm:
            vm.qemu_io("write -P 0x42 0 1M")
        cloak_image("commit", self.store, check=0)
        out = cloak_image("reset", self.apps, check=1)
        self.assertIn("apps.qcow2", out.stderr)
        self.assertIn("only the top layer can be reset", out.stderr)
        with DiskHolder(self.top) as vm:
            vm.qemu_io("read -P 0x42 0 1M")

    def test_reset_refuses_a_layer_others_build_on(self):
        mid = os.path.join(self.tmp, "mid.qcow2")
        leaf = os.path.join(self.tmp, "leaf.qcow2")
        cloak_image("overlay", self.store, mid, check=0)
        with DiskHolder(mid) as vm:
            vm.qemu_io("write -P 0x33 0 64k")
        subprocess.run([QEMU_IMG, "create", "-q", "-f", "qcow2", "-F", "qcow2",
                        "-b", mid, leaf], check=True)
        before = checksums([mid])
        out = cloak_image("reset", mid, check=1)
        self.assertIn("leaf.qcow2 is built on it", out.stderr)
        self.assertEqual(checksums([mid]), before)

    def test_corrupt_top_can_be_reset(self):
        """Issue 13.7: a corrupt top layer could only be deleted by hand."""
        os.chmod(self.top, 0o600)
        with open(self.top, "wb") as f:
            f.write(b"not a qcow2 image" * 100)
        cloak_image("reset", self.store, check=0)
        self.assertEqual(img_info(self.top)["backing-filename"], "apps.qcow2")
        self.assertEqual(allocated_in_top(self.top), 0)
        cloak_image("check", "--checksums", self.store, check=0)
        self.assertLowerUnchanged()

    def test_missing_backing_is_named(self):
        moved = os.path.join(self.tmp, "elsewhere.qcow2")
        os.rename(self.os, moved)
        out = cloak_image("check", self.store, check=1)
        self.assertIn("os.qcow2", out.stderr)
        self.assertIn("missing", out.stderr)
        out = cloak_image("info", self.top, check=1)
        self.assertIn("os.qcow2", out.stderr)
        os.rename(moved, self.os)
        os.rename(self.apps, moved)
        out = cloak_image("reset", self.store, check=1)
        self.assertIn("apps.qcow2", out.stderr)
        self.assertIn("missing", out.stderr)

    def test_checksums_detect_a_changed_lower_layer(self):
        os.chmod(self.apps, 0o644)
        with open(self.apps, "r+b") as f:
            f.seek(0, os.SEEK_END)
            f.write(b"\0" * 512)
        out = cloak_image("check", "--checksums", self.store, check=1)
        self.assertIn("apps", out.stderr)
        self.assertIn("writable", out.stderr)
        self.assertIn("sha256 mismatch", out.stderr)

    def test_commit_folds_top_into_apps(self):
        with DiskHolder(self.top) as vm:
            vm.qemu_io("write -P 0x77 0 1M")
        cloak_image("commit", self.store, check=0)
        self.assertEqual(allocated_in_top(self.top), 0)
        self.assertEqual(checksums([self.os]), {self.os: self.lower_sums[self.os]})
        self.assertEqual(os.stat(self.apps).st_mode & 0o222, 0, "apps left writable")
        cloak_image("check", "--checksums", self.store, check=0)
        with DiskHolder(self.top) as vm:
            vm.qemu_io("read -P 0x77 0 1M")

    def test_overlay_for_a_second_vm(self):
        other = os.path.join(self.tmp, "vm2.qcow2")
        cloak_image("overlay", self.store, other, check=0)
        self.assertEqual(img_info(other)["backing-filename"], self.apps)
        with DiskHolder(other) as vm:
            vm.qemu_io("write -P 0x11 0 64k")
        cloak_image("reset", other, check=0)
        self.assertEqual(allocated_in_top(other), 0)
        self.assertLowerUnchanged()

    def test_bad_input(self):
        out = cloak_image("create", self.store, "--size", "1M", check=1)
        self.assertIn("not empty", out.stderr)
        out = cloak_image("create", os.path.join(self.tmp, "x"), "--from",
                          os.path.join(self.tmp, "nope.img"), check=1)
        self.assertIn("nope.img", out.stderr)
        out = cloak_image("reset", self.tmp, check=1)
        self.assertIn("not a cloak-image store", out.stderr)
        out = cloak_image("reset", os.path.join(self.tmp, "nope.qcow2"), check=1)
        self.assertIn("nope.qcow2", out.stderr)
        out = cloak_image("--qemu-img", "/nonexistent/qemu-img", "info", self.store, check=1)
        self.assertIn("/nonexistent/qemu-img", out.stderr)

    def test_no_tracebacks(self):
        """Issue 13.7: these ended in Python tracebacks; a failed create
        left an empty directory behind."""
        out = cloak_image("create", "/etc/passwd", "--size", "1G", check=1)
        self.assertIn("not a directory", out.stderr)
        manifest = os.path.join(self.store, "cloak-image.json")
        with open(manifest) as f:
            good = f.read()
        for text in ('{"version": 1}', '[1, 2]', '"x"',
                     good.replace('"sha256"', '"sha"', 1)):
            with open(manifest, "w") as f:
                f.write(text)
            for cmd in ("check", "reset", "commit", "info"):
                with self.subTest(manifest=text[:30], cmd=cmd):
                    out = cloak_image(cmd, self.store, check=1)
                    self.assertNotIn("Traceback", out.stderr)
                    self.assertIn("malformed manifest", out.stderr)
        with open(manifest, "w") as f:
            f.write(good)
        fresh = os.path.join(self.tmp, "fresh")
        out = cloak_image("create", fresh, "--size", "lots", check=1)
        self.assertNotIn("Traceback", out.stderr)
        self.assertFalse(os.path.exists(fresh), "a failed create left a directory")
        os.mkdir(fresh)
        cloak_image("create", fresh, "--size", "lots", check=1)
        self.assertEqual(os.listdir(fresh), [], "a failed create left files")


if __name__ == "__main__":
    unittest.main(verbosity=2)
