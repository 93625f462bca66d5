"""Unit checks of the firmware build (no guest boot).

Run by `make check-firmware-images` (part of make check); needs the images
in FIRMWARE_DIR ($(BUILD_DIR)/firmware) and the host build of the guest's
scanner, ROMSCAN ($(TOOLS_DIR)/romscan).
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
FIRMWARE_DIR = os.environ.get("FIRMWARE_DIR", os.path.join(TOP, "build",
                                                           "firmware"))
ROMSCAN = os.environ.get("ROMSCAN", os.path.join(TOP, "build", "tools",
                                                 "romscan"))
BUILD_SCRIPT = os.path.join(TOP, "firmware", "build-firmware.sh")
CONF_DIR = os.path.join(TOP, "firmware")
OPTION_ROMS = ["linuxboot.bin", "linuxboot_dma.bin", "multiboot.bin",
               "multiboot_dma.bin", "pvh.bin"]
STOCK_FILES = ["/usr/share/seabios/bios-256k.bin",
               "/usr/share/seabios/vgabios-stdvga.bin",
               "/usr/lib/ipxe/qemu/efi-e1000e.rom",
               "/usr/share/qemu/linuxboot_dma.bin"]


def conf(name):
    with open(os.path.join(CONF_DIR, name)) as f:
        return f.read()


def image_names():
    names = [line.split()[0] for line in conf("images.conf").splitlines()
             if line.strip() and not line.startswith("#")]
    return names + OPTION_ROMS


def cleaned(name):
    return os.path.join(FIRMWARE_DIR, "cloak-" + name)


def romscan(*paths):
    return subprocess.run([ROMSCAN] + list(paths), capture_output=True,
                          text=True)


def shell_conf(name):
    """KEY=value pairs of a sourced shell config (firmware/seabios.conf)."""
    return dict(re.findall(r"^([A-Z0-9_]+)=(\S*)$", conf(name), re.M))


class ImageTest(unittest.TestCase):

    def test_every_image_is_built(self):
        for name in image_names():
            with self.subTest(image=name):
                self.assertTrue(os.path.isfile(cleaned(name)),
                                "%s is missing: make firmware" % cleaned(name))

    def test_images_hold_no_vm_strings(self):
        out = romscan(*[cleaned(n) for n in image_names()])
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertIn("regions=%d " % len(image_names()), out.stdout)

    def test_scanner_finds_the_stock_strings(self):
        # The same scan over Debian's files: it must fail, file by file.
        for path in STOCK_FILES:
            with self.subTest(file=path):
                self.assertTrue(os.path.exists(path), "%s is not installed"
                                % path)
                out = romscan(path)
                self.assertEqual(out.returncode, 1, out.stdout)
                self.assertIn("romscan: match %s " % path, out.stdout)

    def test_no_build_details_in_images(self):
        # SeaBIOS's version string, its compiler banner and, for a build
        # it considers unclean, a YYYYMMDD_HHMMSS stamp and the host name.
        seabios = shell_conf("seabios.conf")
        needles = [re.escape(seabios["SEABIOS_VERSION"].encode()), rb"gcc:",
                   rb"binutils", rb"\d{8}_\d{6}-"]
        for name in image_names():
            with open(cleaned(name), "rb") as f:
                data = f.read()
            for needle in needles:
                with self.subTest(image=name, needle=needle):
                    m = re.search(needle, data)
                    if m:
                        self.fail("%r at 0x%x" % (data[m.start():m.end() + 20],
                                                  m.start()))

    def test_bios_date_follows_the_config(self):
        # F000:FFF5 is the last 11 bytes but 3 of the 256 KiB image.
        date = re.search(r'^CONFIG_FW_DATE="(\d\d)/(\d\d)/\d\d(\d\d)"$',
                         conf("bios.config"), re.M)
        self.assertIsNotNone(date, "bios.config has no MM/DD/YYYY FW_DATE")
        with open(cleaned("bios-256k.bin"), "rb") as f:
            data = f.read()
        self.assertEqual(len(data), 256 * 1024)
        self.assertEqual(data[0x3fff5:0x3fffd].decode(), "/".join(date.groups()))


class BuildScriptTest(unittest.TestCase):
    """The build refuses bad input, naming what was wrong."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="fwtest.")
        self.addCleanup(shutil.rmtree, self.tmp)

    def run_script(self, *stages, **env):
        full = dict(os.environ, BUILD_DIR=os.path.join(self.tmp, "build"))
        full.update(env)
        return subprocess.run([BUILD_SCRIPT] + list(stages), env=full,
                              capture_output=True, text=True, timeout=900)

    def test_corrupt_cached_source_is_refused(self):
        seabios = shell_conf("seabios.conf")
        # As build-firmware.sh finds it (the Makefile may export it empty).
        cache = os.environ.get("QEMU_CLOAK_CACHE") or os.path.join(
            os.environ.get("XDG_CACHE_HOME") or os.path.join(
                os.path.expanduser("~"), ".cache"), "qemu-cloak")
        tarballs = os.path.join(self.tmp, "cache", "tarballs")
        os.makedirs(tarballs)
        for key in ("SEABIOS_DSC", "SEABIOS_ORIG", "SEABIOS_DEBIAN_TAR"):
            shutil.copy(os.path.join(cache, "tarballs", seabios[key]),
                        tarballs)
        with open(os.path.join(tarballs, seabios["SEABIOS_ORIG"]), "ab") as f:
            f.write(b"\0")
        out = self.run_script("fetch", QEMU_CLOAK_CACHE=os.path.join(
            self.tmp, "cache"))
        self.assertNotEqual(out.returncode, 0, out.stdout)
        self.assertIn(seabios["SEABIOS_ORIG"], out.stderr)
        self.assertIn("corrupt", out.stderr)

    def test_missing_deb_src_is_named(self):
        # An apt of its own that knows no sources, so that the host's
        # lists stay untouched.
        apt = os.path.join(self.tmp, "apt")
        for d in ("parts", "lists/partial", "cache/archives/partial"):
            os.makedirs(os.path.join(apt, d))
        open(os.path.join(apt, "sources.list"), "w").close()
        with open(os.path.join(apt, "apt.conf"), "w") as f:
            f.write('Dir::Etc::sourcelist "%s/sources.list";\n'
                    'Dir::Etc::sourceparts "%s/parts";\n'
                    'Dir::State::lists "%s/lists";\n'
                    'Dir::Cache "%s/cache";\n' % ((apt,) * 4))
        out = self.run_script("fetch", APT_CONFIG=os.path.join(apt, "apt.conf"),
                              QEMU_CLOAK_CACHE=os.path.join(self.tmp, "cache"))
        self.assertEqual(out.returncode, 1, out.stdout + out.stderr)
        self.assertIn("'deb-src' entry for bookworm", out.stderr)

    def test_patch_that_does_not_apply_is_named(self):
        series = os.path.join(TOP, "patches", "seabios-1.16.2")
        broken = os.path.join(self.tmp, "series")
        shutil.copytree(series, broken)
        victim = sorted(p for p in os.listdir(broken)
                        if p.endswith(".patch"))[-1]
        path = os.path.join(broken, victim)
        with open(path) as f:
            text = f.read()
        # Change the first context line of the first hunk so that it no
        # longer matches the source.
        head, hunks = text.split("\n@@ ", 1)
        hunks, changed = re.subn(r"^ (.*\S.*)$", r" \1 /* changed */",
                                 hunks, count=1, flags=re.M)
        self.assertEqual(changed, 1, "%s has no context line" % victim)
        text = head + "\n@@ " + hunks
        with open(path, "w") as f:
            f.write(text)
        out = self.run_script("build", SEABIOS_SERIES_DIR=broken)
        self.assertNotEqual(out.returncode, 0, out.stdout)
        self.assertIn("patch %s does not apply" % victim, out.stderr)

    def test_dropped_kconfig_setting_is_refused(self):
        confdir = os.path.join(self.tmp, "conf")
        shutil.copytree(CONF_DIR, confdir)
        with open(os.path.join(confdir, "bios.config"), "a") as f:
            f.write("CONFIG_NO_SUCH_OPTION=y\n")
        out = self.run_script("build", FIRMWARE_CONF_DIR=confdir)
        self.assertNotEqual(out.returncode, 0, out.stdout)
        self.assertIn("CONFIG_NO_SUCH_OPTION=y", out.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
