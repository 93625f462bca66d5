#!/usr/bin/python3
"""Unit checks of the guest report parser (tests/lib/cloakguest.py) and of
the probe's output format.  No guest is booted."""

import os
import shutil
import subprocess
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))

from tests.lib import battery, cloakguest, paths
from tests.lib.cloakguest import ReportError, parse_console, parse_probe

NONCE = "0123abcd"

PROBE_LINES = [
    "PROBE-BEGIN 1",
    "PROBE cpuid.vendor GenuineIntel",
    "PROBE cpuid.0x40000000.sig TCGTCGTCGTCG",
    "PROBE pci.0000:00:00.0.vendor 0x8086",
    "PROBE pci.0000:00:00.0.device 0x29c0",
    "PROBE acpi.FACP.oem_id BOCHS ",
    "PROBE dmi.weird back\\\\slash\\x0anewline\\xff",
    "PROBE dmi.empty ",
    "PROBE-END 7",
]


def console(sections, nonce=NONCE, end=True, count=None, noise=True):
    """A console log as the guest's /init prints it (with CRLF and noise)."""
    lines = []
    if noise:
        lines += ["SeaBIOS (version 1.16.3)", "[    0.000000] Linux version 6.1"]
    lines.append("@@CLOAK-GUEST-BEGIN nonce=%s" % nonce)
    for name, body, status in sections:
        lines.append("@@CLOAK-SECTION-BEGIN %s" % name)
        lines += body
        if status is not None:
            lines.append("@@CLOAK-SECTION-END %s status=%d" % (name, status))
    if end:
        lines.append("@@CLOAK-GUEST-END nonce=%s sections=%d"
                     % (nonce, len(sections) if count is None else count))
    if noise:
        lines.append("[   12.000000] reboot: Power down")
    return "\r\n".join(lines) + "\r\n"


def full_sections():
    return [("probe", PROBE_LINES, 0),
            ("virt-what", ["qemu"], 0),
            ("systemd-detect-virt", ["none"], 1),
            ("lscpu", ["Architecture: x86_64", "", "Flags: fpu"], 0)]


class ProbeParser(unittest.TestCase):

    def test_parses_records_and_unescapes(self):
        p = parse_probe(PROBE_LINES)
        self.assertEqual(len(p), 7)
        self.assertEqual(p["cpuid.vendor"], "GenuineIntel")
        self.assertEqual(p["acpi.FACP.oem_id"], "BOCHS ")
        self.assertEqual(p["dmi.weird"], "back\\slash\nnewline\xff")
        self.assertEqual(p["dmi.empty"], "")
        self.assertEqual(list(p)[0], "cpuid.vendor")

    def test_count_mismatch_is_an_error(self):
        lines = PROBE_LINES[:-2] + ["PROBE-END 7"]
        with self.assertRaisesRegex(ReportError, "6 records, but the end line says 7"):
            parse_probe(lines)

    def test_cut_short_is_an_error(self):
        with self.assertRaisesRegex(ReportError, "cut short"):
            parse_probe(PROBE_LINES[:4])

    def test_missing_begin_is_an_error(self):
        with self.assertRaisesRegex(ReportError, "before PROBE-BEGIN"):
            parse_probe(PROBE_LINES[1:])
        with self.assertRaisesRegex(ReportError, "no PROBE-BEGIN"):
            parse_probe([])

    def test_garbage_line_is_an_error(self):
        lines = PROBE_LINES[:3] + ["[   3.1] kernel says hi"] + PROBE_LINES[3:]
        with self.assertRaisesRegex(ReportError, "unexpected line"):
            parse_probe(lines)

    def test_duplicate_key_is_an_error(self):
        lines = PROBE_LINES[:2] + PROBE_LINES[1:-1] + ["PROBE-END 8"]
        with self.assertRaisesRegex(ReportError, "appears twice"):
            parse_probe(lines)

    def test_bad_escape_is_an_error(self):
        for bad in ("a\\qb", "tail\\", "\\x4", "\\xZZ"):
            with self.assertRaisesRegex(ReportError, "bad escape"):
                parse_probe(["PROBE-BEGIN 1", "PROBE k " + bad, "PROBE-END 1"])


class ConsoleParser(unittest.TestCase):

    def test_complete_report(self):
        r = parse_console(console(full_sections()), NONCE)
        self.assertEqual(r.nonce, NONCE)
        self.assertEqual(list(r.sections),
                         ["probe", "virt-what", "systemd-detect-virt", "lscpu"])
        self.assertEqual(r.output("virt-what"), "qemu\n")
        self.assertEqual(r.status("systemd-detect-virt"), 1)
        self.assertEqual(r.section("lscpu").lines,
                         ["Architecture: x86_64", "", "Flags: fpu"])
        self.assertEqual(r.probe["cpuid.0x40000000.sig"], "TCGTCGTCGTCG")
        self.assertEqual(r.guest_machine(), "q35")
        with self.assertRaises(KeyError):
            r.section("dmidecode")

    def test_machine_from_host_bridge(self):
        lines = list(PROBE_LINES)
        lines[4] = "PROBE pci.0000:00:00.0.device 0x1237"
        r = parse_console(console([("probe", lines, 0)]), NONCE)
        self.assertEqual(r.guest_machine(), "pc")
        lines[4] = "PROBE pci.0000:00:00.0.device 0x7190"
        r = parse_console(console([("probe", lines, 0)]), NONCE)
        self.assertIsNone(r.guest_machine())

    def test_stale_nonce_is_an_error(self):
        with self.assertRaisesRegex(ReportError, "stale report"):
            parse_console(console(full_sections(), nonce="ffff"), NONCE)

    def test_end_nonce_must_match(self):
        text = console(full_sections()).replace(
            "GUEST-END nonce=%s" % NONCE, "GUEST-END nonce=beef")
        with self.assertRaisesRegex(ReportError, "ends with nonce beef"):
            parse_console(text, NONCE)

    def test_no_report(self):
        with self.assertRaisesRegex(ReportError, "no guest report"):
            parse_console("SeaBIOS\r\nNo bootable device.\r\n", NONCE)

    def test_cut_inside_a_section(self):
        sections = full_sections()
        sections[1] = ("virt-what", ["qemu"], None)
        with self.assertRaisesRegex(ReportError, "cut short"):
            parse_console(console(sections[:2], end=False), NONCE)
        with self.assertRaisesRegex(ReportError, "section virt-what was cut short"):
            parse_console(console(sections), NONCE)

    def test_cut_after_a_section(self):
        with self.assertRaisesRegex(ReportError, "no end line after 2 sections"):
            parse_console(console(full_sections()[:2], end=False), NONCE)

    def test_cut_at_every_line(self):
        text = console(full_sections(), noise=False)
        lines = text.split("\r\n")
        for n in range(len(lines) - 2):
            with self.assertRaises(ReportError, msg="cut after %d lines" % n):
                parse_console("\r\n".join(lines[:n]), NONCE)

    def test_section_count_must_match(self):
        with self.assertRaisesRegex(ReportError, "its end line says 5"):
            parse_console(console(full_sections(), count=5), NONCE)

    def test_cut_probe_inside_complete_frame(self):
        sections = full_sections()
        sections[0] = ("probe", PROBE_LINES[:-1], 0)
        with self.assertRaisesRegex(ReportError, "probe report cut short"):
            parse_console(console(sections), NONCE)

    def test_mismatched_section_end(self):
        text = console(full_sections()).replace(
            "SECTION-END virt-what", "SECTION-END lscpu")
        with self.assertRaisesRegex(ReportError, "does not match"):
            parse_console(text, NONCE)


class RunnerPieces(unittest.TestCase):

    def test_fatal_console_messages(self):
        self.assertIn("no bootable device",
                      cloakguest._fatal_message("Booting from ROM...\nNo bootable device.", "").lower())
        self.assertIn("linuxboot_dma.bin",
                      cloakguest._fatal_message("", "qemu: rom: file linuxboot_dma.bin: error"))
        self.assertIsNone(cloakguest._fatal_message("@@CLOAK-GUEST-BEGIN nonce=1", ""))

    def test_firmware_args_only_for_build_tree(self):
        with tempfile.TemporaryDirectory() as d:
            qemu = os.path.join(d, "qemu-system-x86_64")
            open(qemu, "w").close()
            self.assertEqual(paths.firmware_args(qemu), [])
            open(os.path.join(d, "build.ninja"), "w").close()
            args = paths.firmware_args(qemu)
            self.assertEqual(args[::2], ["-L"] * (len(args) // 2))
            self.assertTrue(set(args[1::2]) <= set(paths.FIRMWARE_DIRS))

    def test_accel_argument_checked(self):
        with self.assertRaises(ValueError):
            cloakguest.choose_accel("hvf", "q", "k", "i", "/tmp")


@unittest.skipUnless(shutil.which(os.environ.get("CC", "cc")), "no C compiler")
class ProbeFormat(unittest.TestCase):
    """The C probe's output, run on this host, parses."""

    def test_host_probe_output_parses(self):
        with tempfile.TemporaryDirectory() as d:
            exe = os.path.join(d, "probe")
            subprocess.run([os.environ.get("CC", "cc"), "-O2", "-Wall",
                            "-Werror", "-std=gnu11", "-o", exe,
                            os.path.join(HERE, "probe.c")], check=True)
            out = subprocess.run([exe], stdout=subprocess.PIPE, check=True).stdout
        lines = out.decode("ascii").split("\n")
        self.assertEqual(lines[-1], "")
        p = parse_probe(lines[:-1])
        self.assertRegex(p["cpuid.vendor"], r"^(GenuineIntel|AuthenticAMD|\S{12})$")
        self.assertIn(p["cpuid.hypervisor_bit"], ("0", "1"))
        self.assertEqual(len([k for k in p if k.startswith("cpuid.0x400000")
                              and not k.endswith(".sig")]), 256)
        self.assertGreater(int(p["timing.cpuid.min"]), 0)


class CrashReport(unittest.TestCase):
    """A program run like QEMU that dies of a signal is named as such."""

    def test_signal_is_named(self):
        sleep = shutil.which("sleep")
        with tempfile.TemporaryDirectory() as d:
            proc = subprocess.Popen([sleep, "30"], cwd=d)
            proc.send_signal(cloakguest.signal.SIGSEGV)
            proc.wait()
            text = cloakguest._crash_report(proc, sleep)
        self.assertIn("killed by SIGSEGV", text)

    def test_no_backtrace_says_why(self):
        sleep = shutil.which("sleep")
        proc = subprocess.Popen([sleep, "30"])
        proc.send_signal(cloakguest.signal.SIGTERM)
        proc.wait()
        self.assertEqual(cloakguest._crash_report(proc, sleep),
                         "QEMU (pid %d) was killed by SIGTERM" % proc.pid)



class CpuCacheCheck(unittest.TestCase):
    """battery.check_cpu_caches: lscpu's caches against SMBIOS type 7."""

    DMI = "".join("Handle 0x070%d, DMI type 7, 27 bytes\n"
                  "\tSocket Designation: %s Cache\n"
                  "\tInstalled Size: %s\n\n" % (i, level, size)
                  for i, (level, size) in enumerate(
                      (("L1", "80 kB"), ("L2", "1280 kB"), ("L3", "3 MB"))))

    def check(self, l2):
        lscpu = ("L1d cache: 48 KiB (1 instance)\n"
                 "L1i cache: 32 KiB (1 instance)\n"
                 "L2 cache: %s (1 instance)\n"
                 "L3 cache: 3 MiB (1 instance)\n" % l2)
        r = cloakguest.Report("n", {
            "lscpu": cloakguest.Section("lscpu", lscpu.splitlines(), 0),
            "dmidecode": cloakguest.Section("dmidecode",
                                            self.DMI.splitlines(), 0)},
            {}, "")
        return battery.check_cpu_caches(r)

    def test_lscpu_rounding_is_not_a_mismatch(self):
        # one 10-way Alder Lake L2, 1280 KiB, which lscpu prints rounded
        self.assertEqual(self.check("1.3 MiB"), [])

    def test_a_different_size_is(self):
        self.assertEqual(len(self.check("1.5 MiB")), 1)
        self.assertEqual(len(self.check("4 MiB")), 1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
