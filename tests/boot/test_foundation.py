#!/usr/bin/python3
"""Foundation boot tests: the test guest boots on q35 and pc under QEMU_BIN,
its report is complete and current, and the harness notices when it is not.

Environment: QEMU_BIN (qemu-system-x86_64 to test), GUEST_DIR (vmlinuz and
initrd.img from `make guest`), optionally CLOAK_ACCEL (auto, tcg or kvm).
"""

import os
import shutil
import subprocess
import re
import sys
import tempfile
import unittest

from tests.lib import cloakguest
from tests.lib.cloakguest import BootError, GuestError, ReportError
from tests.lib.paths import (FIRMWARE_DIRS, GUEST_DIR, GUEST_VMLINUZ,
                             QEMU_BIN as QEMU, TOP, is_build_tree_binary)
ACCEL = os.environ.get("CLOAK_ACCEL", "auto")

HOST_BRIDGE = {"q35": ("0x8086", "0x29c0"), "pc": ("0x8086", "0x1237")}

_boots = {}


def boot_once(machine, smp):
    """One boot per machine type, shared by the tests that read it."""
    if machine not in _boots:
        nonce = "f0" + os.urandom(6).hex()
        try:
            report = cloakguest.boot(QEMU, machine=machine, accel=ACCEL,
                                     smp=smp, guest_dir=GUEST_DIR, nonce=nonce)
        except GuestError as e:
            report = e
        _boots[machine] = (nonce, report)
    nonce, report = _boots[machine]
    if isinstance(report, Exception):
        raise AssertionError("%s guest did not boot: %s" % (machine, report))
    return nonce, report


class FoundationBoot:
    """Checks run on each machine type (mixed into the classes below)."""

    machine = None
    smp = 1

    def setUp(self):
        self.nonce, self.report = boot_once(self.machine, self.smp)

    def test_nonce_round_trips(self):
        self.assertEqual(self.report.nonce, self.nonce)
        self.assertIn("@@CLOAK-GUEST-BEGIN nonce=%s" % self.nonce, self.report.console)
        self.assertRegex(self.report.console,
                         r"@@CLOAK-GUEST-END nonce=%s sections=\d+" % self.nonce)

    def test_report_complete(self):
        for name in cloakguest.DETECTORS:
            self.assertIn(name, self.report.sections)
        p = self.report.probe
        for key in ("cpuid.vendor", "cpuid.hypervisor_bit", "cpuid.brand",
                    "timing.cpuid.median", "fwcfg.visible",
                    "clocksource.current", "smbios.structures"):
            self.assertIn(key, p)
        self.assertEqual(p["dmi.present"], "1")
        self.assertEqual(p["acpi.present"], "1")
        self.assertIn("acpi.FACP.pm_profile", p)
        self.assertEqual(len([k for k in p if re.match(r"cpuid\.0x400000..$", k)]), 256)
        self.assertGreater(int(p["pci.count"]), 2)
        self.assertGreater(int(p["smbios.structures"]), 2)
        self.assertTrue(any(k.startswith("net.eth") for k in p),
                        "the default NIC is missing: its driver did not load")

    def test_modules_loaded(self):
        section = self.report.section("modules")
        self.assertEqual(section.status, 0, section.output)
        # Loaded exactly when ACPI describes fw_cfg (QEMU0002), as udev does.
        loaded = "qemu_fw_cfg ok" in section.lines
        self.assertTrue(loaded or "qemu_fw_cfg skipped: no ACPI device "
                        "QEMU0002" in section.lines, section.output)
        self.assertEqual(self.report.probe.get("fwcfg.visible"),
                         "1" if loaded else "0")

    def test_accelerator_is_the_reported_one(self):
        self.assertIn(self.report.accel, ("tcg", "kvm"))
        if ACCEL != "auto":
            self.assertEqual(self.report.accel, ACCEL)
        self.assertIn(" -accel %s " % self.report.accel, self.report.command)
        self.assertTrue(self.report.accel_reason)
        if self.report.accel == "tcg":
            # KVM's paravirtual clock cannot exist without KVM.
            self.assertNotIn("kvm-clock", self.report.probe["clocksource.available"])

    def test_machine_type_seen_by_guest(self):
        self.assertEqual(self.report.host_bridge(), HOST_BRIDGE[self.machine])
        self.assertEqual(self.report.guest_machine(), self.machine)
        self.assertRegex(self.report.output("lspci"),
                         r"00:00\.0 Host bridge .*\[%s:%s\]"
                         % tuple(x[2:] for x in HOST_BRIDGE[self.machine]))

    def test_cpu_count_reaches_guest(self):
        self.assertEqual(self.report.probe["cpu.online"], str(self.smp))
        self.assertRegex(self.report.output("lscpu"), r"(?m)^CPU\(s\):\s+%d$" % self.smp)

    def test_each_detector_ran(self):
        r = self.report
        for name in ("probe", "dmidecode", "lspci", "lscpu", "dmesg"):
            self.assertEqual(r.status(name), 0, "%s failed:\n%s" % (name, r.output(name)))
        # virt-what prints nothing and exits 0 on bare metal; an error is
        # not 0 with output.  systemd-detect-virt exits 1 with "none".
        self.assertEqual(r.status("virt-what"), 0, r.output("virt-what"))
        self.assertNotIn("virt-what:", r.output("virt-what"))
        sdv = r.output("systemd-detect-virt").strip()
        self.assertRegex(sdv, r"^[a-z0-9-]+$")
        self.assertEqual(r.status("systemd-detect-virt"), 1 if sdv == "none" else 0)
        self.assertIn("SMBIOS", r.output("dmidecode"))
        self.assertRegex(r.output("lscpu"), r"(?m)^Architecture:\s+x86_64$")
        self.assertIn("Linux version", r.output("dmesg"))


class Q35(FoundationBoot, unittest.TestCase):
    machine = "q35"


class PC(FoundationBoot, unittest.TestCase):
    machine = "pc"
    smp = 2


class Version(unittest.TestCase):
    """The binary under test is qemu-cloak on the pinned base."""

    def test_version_names_qemu_cloak(self):
        with open(os.path.join(TOP, "VERSION")) as f:
            ours = f.read().strip()
        base = {}
        with open(os.path.join(TOP, "qemu", "base.conf")) as f:
            for line in f:
                k, sep, v = line.strip().partition("=")
                if sep and not k.startswith("#"):
                    base[k] = v.strip('"')
        out = subprocess.run([QEMU, "--version"], stdout=subprocess.PIPE,
                             text=True, check=True).stdout
        self.assertEqual(out.splitlines()[0],
                         "QEMU emulator version %s (qemu-cloak %s)"
                         % (base["QEMU_VERSION"], ours))


class RunMode(unittest.TestCase):
    """cloak.run=NAME runs one program from the guest's /bin, framed."""

    def test_run_program_with_arguments(self):
        # uname is a busybox applet in /bin, like the workloads in programs/.
        r = cloakguest.boot(QEMU, machine="q35", accel=ACCEL, guest_dir=GUEST_DIR,
                            run="uname", run_args=["-m"])
        self.assertEqual(r.output("run:uname"), "x86_64\n")
        self.assertEqual(r.status("run:uname"), 0)
        self.assertEqual(r.status("modules"), 0)
        self.assertNotIn("probe", r.sections)
        self.assertNotIn("virt-what", r.sections)

    def test_bad_program_name_refused(self):
        with self.assertRaises(ValueError):
            cloakguest.boot(QEMU, guest_dir=GUEST_DIR, run="a b")
        with self.assertRaises(ValueError):
            cloakguest.boot(QEMU, guest_dir=GUEST_DIR, run="x", run_args=["a,b"])


class HarnessFailsWhenItShould(unittest.TestCase):
    """The harness must report failure, never a pass, on bad boots."""

    def test_stale_console_log(self):
        nonce, report = boot_once("q35", 1)
        with self.assertRaisesRegex(ReportError, "stale report"):
            cloakguest.parse_console(report.console, "00" + nonce[2:])

    def test_cut_short_console_log(self):
        nonce, report = boot_once("q35", 1)
        console = report.console
        for marker in ("@@CLOAK-GUEST-END", "@@CLOAK-SECTION-END probe",
                       "PROBE-END", "@@CLOAK-SECTION-BEGIN virt-what"):
            cut = console[:console.index(marker)]
            with self.assertRaises(ReportError, msg="cut before " + marker):
                cloakguest.parse_console(cut, nonce)
        lines = console.split("\n")
        probe_line = next(i for i, l in enumerate(lines) if l.startswith("PROBE pci."))
        del lines[probe_line]
        with self.assertRaisesRegex(ReportError, "records, but the end line says"):
            cloakguest.parse_console("\n".join(lines), nonce)

    def test_bogus_initrd(self):
        with tempfile.TemporaryDirectory() as d:
            initrd = os.path.join(d, "initrd.img")
            with open(initrd, "wb") as f:
                f.write(os.urandom(64 * 1024))
            with self.assertRaises(GuestError) as ctx:
                cloakguest.boot(QEMU, machine="q35", accel="tcg",
                                guest_dir=GUEST_DIR, initrd=initrd, timeout=240)
        self.assertRegex(str(ctx.exception), "panicked|no guest report")

    def test_bogus_kernel(self):
        with tempfile.TemporaryDirectory() as d:
            kernel = os.path.join(d, "vmlinuz")
            with open(kernel, "wb") as f:
                f.write(b"\x7fELF not really a kernel" + os.urandom(4096))
            with self.assertRaisesRegex(BootError, "QEMU exited with status"):
                cloakguest.boot(QEMU, machine="q35", accel="tcg",
                                guest_dir=GUEST_DIR, kernel=kernel, timeout=60)

    def test_missing_kernel_file(self):
        with self.assertRaisesRegex(BootError, "does not exist"):
            cloakguest.boot(QEMU, guest_dir=GUEST_DIR, accel="tcg",
                            kernel="/nonexistent/vmlinuz")

    def test_timeout(self):
        with self.assertRaisesRegex(BootError, "did not power off within 2 s"):
            cloakguest.boot(QEMU, machine="q35", accel="tcg",
                            guest_dir=GUEST_DIR, timeout=2)

    @unittest.skipUnless(is_build_tree_binary(QEMU),
                         "an installed QEMU finds linuxboot_dma.bin by itself")
    def test_missing_linuxboot_rom(self):
        # No qemu-system-data (linuxboot_dma.bin): SeaBIOS boots but -kernel
        # does nothing.  The runner must stop early and say why.  A build
        # tree's binary also searches the configured firmware path, so the
        # package's directory is hidden under an empty tmpfs in a private
        # mount namespace (root only, as CI runs).
        if os.geteuid() != 0 or not shutil.which("unshare"):
            self.skipTest("needs root and unshare to hide /usr/share/qemu")
        with tempfile.TemporaryDirectory() as d:
            for src in [p for p in FIRMWARE_DIRS if p != "/usr/share/qemu"]:
                for f in os.listdir(src):
                    if not os.path.exists(os.path.join(d, f)):
                        os.symlink(os.path.join(src, f), os.path.join(d, f))
            append = "console=ttyS0 panic=-1 cloak.nonce=x"
            cmd = [QEMU, "-L", d, "-machine", "q35", "-accel", "tcg", "-m", "512",
                   "-display", "none", "-monitor", "none", "-serial", "stdio",
                   "-no-reboot", "-kernel", GUEST_VMLINUZ,
                   "-initrd", os.path.join(GUEST_DIR, "initrd.img"),
                   "-append", append]
            # Under the cloak a build-tree binary finds our cleaned option
            # ROMs in build/firmware; stock behaviour is what is tested here.
            if "-cloak" in subprocess.run([QEMU, "-help"], text=True,
                                          stdout=subprocess.PIPE).stdout:
                cmd += ["-cloak", "off"]
            cmd = ["unshare", "--mount", "sh", "-c",
                   'mount -t tmpfs none /usr/share/qemu && exec "$@"',
                   "sh"] + cmd
            with self.assertRaisesRegex(BootError, "linuxboot_dma.bin"):
                cloakguest.run_qemu(cmd, timeout=120)


if __name__ == "__main__":
    if not os.access(QEMU, os.X_OK):
        sys.exit("test_foundation: QEMU_BIN %s is not an executable" % QEMU)
    unittest.main(verbosity=2)
