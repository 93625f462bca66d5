"""The -cloak option as QEMU sees it, without booting a guest: errors,
-cloak off, precedence of user settings, MAC addresses, strict mode and
libvirt's capability probe.  QEMU runs paused (-S) and answers QMP.

Environment: QEMU_BIN (default build/qemu-build/qemu-system-x86_64).
"""

import os
import shutil
import subprocess
import tempfile
import unittest

from tests.lib.paths import (PROFILE_CHECK, PROFILES, QEMU_BIN as QEMU,
                             firmware_args, profile_path)
from tests.lib.qmp import QemuQmp, QmpError

FIRMWARE = firmware_args()
UUID_A = "6f1d2c3a-1111-4222-8333-444455556666"
UUID_B = "0b7e4a10-2222-4333-8444-555566667777"


def run(args, stdin="", timeout=60):
    return subprocess.run([QEMU] + FIRMWARE + args, input=stdin,
                          capture_output=True, text=True, timeout=timeout)


def qmp(args, commands):
    """Start QEMU paused, run QMP commands, quit; return their results
    (an error reply as its error object)."""
    vm = QemuQmp(QEMU, ["-nodefaults"] + args, defaults=False)
    try:
        vm.start()
        replies = [vm.cmd(c["execute"], **c.get("arguments", {}))
                   for c in commands]
    except QmpError as e:
        raise AssertionError("QEMU %s failed: %s" % (" ".join(args), e))
    finally:
        rc = vm.stop()
    if rc != 0:
        raise AssertionError("QEMU %s exited with %s: %s"
                             % (" ".join(args), rc, vm.stderr[-2000:]))
    return [r.get("return", r.get("error")) for r in replies]


def qom_get(path, prop):
    return {"execute": "qom-get", "arguments": {"path": path, "property": prop}}


MACHINE_PROPS = ["x-oem-id", "x-oem-table-id", "acpi-creator-id", "acpi-waet",
                 "acpi-fw-cfg", "acpi-legacy-devices", "acpi-pm-profile", "smbios-vm",
                 "smbios-chassis-type", "mac-oui", "vmport"]


def machine_props(args):
    values = qmp(["-machine", "q35"] + args,
                 [qom_get("/machine", p) for p in MACHINE_PROPS])
    return dict(zip(MACHINE_PROPS, values))


class Errors(unittest.TestCase):
    def test_unknown_profile_lists_the_known_ones(self):
        r = run(["-cloak", "profile=no-such-pc", "-display", "none"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("unknown profile 'no-such-pc'", r.stderr)
        for p in PROFILES:
            self.assertIn(p, r.stderr)

    def test_malformed_profile_names_file_and_line(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "broken.conf")
            with open(path, "w") as f:
                f.write("[system]\nmanufacturer=Acme\n[chassis]\ntype=desk\n")
            r = run(["-cloak", "profile=" + path, "-display", "none"])
            self.assertEqual(r.returncode, 1)
            self.assertIn(path + ":4:", r.stderr)
            self.assertIn("[chassis] type", r.stderr)

    def test_bad_mode(self):
        r = run(["-cloak", "sideways", "-display", "none"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("on, off or strict", r.stderr)

    def test_off_takes_no_profile(self):
        r = run(["-cloak", "off,profile=dell-optiplex-7000", "-display", "none"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("-cloak off cannot take", r.stderr)

    def test_help_lists_profiles(self):
        r = run(["-cloak", "help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for p in PROFILES:
            self.assertIn(p, r.stdout)

    def test_profile_special_files(self):
        """Issue 13.3: -cloak profile=/dev/zero grew without bound and a
        FIFO blocked QEMU in open(); each is a clear error at once."""
        with tempfile.TemporaryDirectory() as d:
            fifo = os.path.join(d, "p.fifo")
            os.mkfifo(fifo)
            for path in ("/dev/zero", fifo):
                with self.subTest(path=path):
                    r = run(["-machine", "q35", "-display", "none", "-S",
                             "-cloak", "profile=" + path], timeout=20)
                    self.assertEqual(r.returncode, 1, r.stderr)
                    self.assertIn(path, r.stderr)
                    self.assertIn("not a regular file", r.stderr)

    def test_device_errors_name_file_and_line(self):
        """Issue 13.4: [devices] errors named the key but not FILE:LINE."""
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "bad-devices.conf")
            with open(profile_path("dell-optiplex-7000")) as f:
                lines = f.read().splitlines()
            n = next(i for i, l in enumerate(lines, 1)
                     if l.startswith("edid-vendor="))
            lines[n - 1] = "edid-vendor=TOOLONG"
            with open(path, "w") as f:
                f.write("\n".join(lines) + "\n")
            r = run(["-machine", "q35", "-display", "none", "-S",
                     "-cloak", "profile=" + path], timeout=20)
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("%s:%d: [devices] edid-vendor" % (path, n), r.stderr)

    def test_stock_firmware_without_L(self):
        """Issue 13.8: the build tree's binary found no stock BIOS without
        -L (-cloak off, -M microvm, -M isapc): QEMU relocates the
        configured firmware path into qemu-bundle."""
        for machine in ("q35", "isapc", "microvm"):
            with self.subTest(machine=machine):
                r = subprocess.run(
                    [QEMU, "-machine", machine, "-cloak", "off", "-display",
                     "none", "-monitor", "none", "-serial", "none", "-S",
                     "-qmp", "stdio"],
                    input='{"execute":"qmp_capabilities"}\n'
                          '{"execute":"quit"}\n',
                    capture_output=True, text=True, timeout=60)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertNotIn("could not load", r.stderr)

    def test_profile_by_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "mine.conf")
            shutil.copy(profile_path("hp-elite-tower-800-g9"), path)
            props = machine_props(["-cloak", "profile=" + path])
            self.assertEqual(props["x-oem-id"], "HPQOEM")


class Defaults(unittest.TestCase):
    def test_on_by_default(self):
        props = machine_props([])
        self.assertEqual(props["x-oem-id"], "DELL  ")
        self.assertEqual(props["acpi-creator-id"], "    ")
        self.assertFalse(props["acpi-waet"])
        self.assertFalse(props["acpi-fw-cfg"])
        self.assertTrue(props["acpi-legacy-devices"])
        self.assertFalse(props["smbios-vm"])
        self.assertEqual(props["smbios-chassis-type"], 3)
        self.assertEqual(props["vmport"], "off")
        self.assertEqual(props["mac-oui"], "18:db:f2")

    def test_off_is_stock(self):
        props = machine_props(["-cloak", "off"])
        self.assertEqual(props["x-oem-id"], "BOCHS ")
        self.assertEqual(props["x-oem-table-id"], "BXPC    ")
        self.assertEqual(props["acpi-creator-id"], "BXPC")
        self.assertTrue(props["acpi-waet"])
        self.assertTrue(props["acpi-fw-cfg"])
        self.assertFalse(props["acpi-legacy-devices"])
        self.assertEqual(props["acpi-pm-profile"], 0)
        self.assertTrue(props["smbios-vm"])
        self.assertEqual(props["smbios-chassis-type"], 1)
        self.assertEqual(props["mac-oui"], "")
        self.assertEqual(props["vmport"], "on")     # auto, resolved

    def test_user_machine_options_win(self):
        props = machine_props(["-machine", "x-oem-id=ACME,acpi-waet=on,"
                               "smbios-chassis-type=7,vmport=on"])
        self.assertEqual(props["x-oem-id"], "ACME")
        self.assertTrue(props["acpi-waet"])
        self.assertEqual(props["smbios-chassis-type"], 7)
        self.assertEqual(props["vmport"], "on")
        self.assertFalse(props["acpi-fw-cfg"])     # the rest stays cloaked

    def cpu(self, args, props=("model-id", "hypervisor", "vendor", "kvm",
                               "tcg-cpuid", "family", "model",
                               "kvm-pv-enforce-cpuid")):
        path = "/machine/unattached/device[0]"
        return dict(zip(props, qmp(["-machine", "q35", "-accel", "tcg"] + args,
                                   [qom_get(path, p) for p in props])))

    def test_cpu_defaults(self):
        # 4 vCPUs without SMT: the i3-12100 with Hyper-Threading off
        c = self.cpu(["-smp", "4"])
        self.assertEqual(c["model-id"], "12th Gen Intel(R) Core(TM) i3-12100")
        self.assertEqual(c["vendor"], "GenuineIntel")
        self.assertEqual((c["family"], c["model"]), (6, 151))
        self.assertFalse(c["hypervisor"])
        self.assertFalse(c["kvm"])
        self.assertFalse(c["tcg-cpuid"])
        # The hidden KVM PV features' MSRs #GP instead of answering.
        self.assertTrue(c["kvm-pv-enforce-cpuid"])

    CAPS = ("ucode-rev", "arch-capabilities", "rdctl-no", "mds-no",
            "ibrs-all", "spec-ctrl", "md-clear", "stibp", "bhi-ctrl", "erms")

    def test_cpu_capabilities(self):
        """The profile's microcode, ARCH_CAPABILITIES and features reach
        the CPU as defaults; the user's -cpu options still win."""
        c = self.cpu(["-smp", "6"], self.CAPS)
        self.assertEqual(c["ucode-rev"], 0x3d << 32)      # Intel: EDX
        for flag in self.CAPS[1:-1]:
            self.assertTrue(c[flag], flag)
        self.assertFalse(c["erms"])        # left out (docs/cloak.md)
        c = self.cpu(["-cloak", "profile=asus-prime-b450m-a"],
                     ("ucode-rev", "arch-capabilities", "ibpb"))
        self.assertEqual(c["ucode-rev"], 0x0800820d)       # AMD: EAX
        self.assertFalse(c["arch-capabilities"])           # Zen+ has none
        self.assertTrue(c["ibpb"])
        c = self.cpu(["-cpu", "qemu64,mds-no=off,ucode-rev=5"], self.CAPS[:4])
        self.assertEqual(c["ucode-rev"], 5)
        self.assertFalse(c["mds-no"])
        self.assertTrue(c["rdctl-no"])

    def test_off_keeps_qemu_cpu_capabilities(self):
        c = self.cpu(["-cloak", "off"], self.CAPS)
        self.assertEqual(c["ucode-rev"], 0x01000065)       # qemu64's AMD
        for flag in self.CAPS[1:]:
            self.assertFalse(c[flag], flag)

    def test_brand_follows_topology(self):
        c = self.cpu(["-smp", "cpus=12,cores=6,threads=2",
                      "-cloak", "profile=hp-elite-tower-800-g9"])
        self.assertEqual(c["model-id"], "12th Gen Intel(R) Core(TM) i5-12500")
        c = self.cpu(["-smp", "cpus=8,cores=4,threads=2",
                      "-cloak", "profile=hp-elite-tower-800-g9"])
        self.assertEqual(c["model-id"], "12th Gen Intel(R) Core(TM) i3-12100")

    def test_user_cpu_options_win(self):
        c = self.cpu(["-cpu", "qemu64,model-id=My CPU,hypervisor=on"])
        self.assertEqual(c["model-id"], "My CPU")
        self.assertTrue(c["hypervisor"])
        self.assertFalse(c["kvm"])

    def test_global_wins(self):
        c = self.cpu(["-global", "qemu64-x86_64-cpu.model-id=Global CPU"])
        self.assertEqual(c["model-id"], "Global CPU")

    def test_off_keeps_qemu_cpu(self):
        c = self.cpu(["-cloak", "off"])
        self.assertEqual(c["model-id"], "QEMU Virtual CPU version 2.5+")
        self.assertTrue(c["hypervisor"])


def key_machine_props():
    """[(group, key, property)] of the keys the key list sends to -machine."""
    out = subprocess.run([PROFILE_CHECK, "--keys"], capture_output=True,
                         text=True, check=True).stdout
    rows = []
    for line in out.splitlines():
        c = [x.strip().strip("`") for x in line.strip().strip("|").split("|")]
        if c[3].startswith("-machine "):
            rows.append((c[0].strip("[]"), c[1], c[3][9:].rstrip("=")))
    return rows


class KeyDestinations(unittest.TestCase):
    """Each key the key list sends to a machine property reaches that
    property with the profile's value (so a row naming a property that does
    not exist, which the cloak would skip, fails here)."""

    def test_machine_properties_get_the_profiles_values(self):
        rows = key_machine_props()
        self.assertGreater(len(rows), 20)
        for profile in PROFILES:
            path = profile_path(profile)
            out = subprocess.run([PROFILE_CHECK, "--seed", UUID_A, path],
                                 capture_output=True, text=True,
                                 check=True).stdout
            values = dict(l.split("=", 1) for l in out.splitlines() if "=" in l)
            wanted = [(g, k, p) for g, k, p in rows if "%s.%s" % (g, k) in values]
            self.assertGreater(len(wanted), 10, "%s sets few machine keys" % profile)
            got = qmp(["-machine", "q35", "-uuid", UUID_A, "-cloak",
                       "profile=" + profile],
                      [qom_get("/machine", p) for _, _, p in wanted])
            for (g, k, p), v in zip(wanted, got):
                with self.subTest(profile=profile, key="%s.%s" % (g, k)):
                    want = values["%s.%s" % (g, k)]
                    if isinstance(v, bool) or not isinstance(v, int):
                        self.assertEqual(str(v).strip().lower(),
                                         want.strip().lower())
                    else:
                        self.assertEqual(v, int(want, 0))


class MacAddresses(unittest.TestCase):
    def macs(self, args):
        nics = ["-netdev", "user,id=n0", "-netdev", "user,id=n1",
                "-netdev", "user,id=n2",
                "-device", "e1000e,netdev=n0,id=nic0",
                # what libvirt generates
                "-device", "e1000e,netdev=n1,id=nic1,mac=52:54:00:ab:cd:ef",
                "-device", "e1000e,netdev=n2,id=nic2,mac=00:1b:21:01:02:03"]
        return qmp(["-machine", "q35"] + nics + args,
                   [qom_get("/machine/peripheral/nic%d" % i, "mac")
                    for i in range(3)])

    def test_oui_replaces_52_54_00(self):
        auto, libvirt, explicit = self.macs(["-uuid", UUID_A])
        self.assertTrue(auto.startswith("18:db:f2:"), auto)
        self.assertEqual(libvirt, "18:db:f2:ab:cd:ef")
        self.assertEqual(explicit, "00:1b:21:01:02:03")

    def test_per_vm(self):
        a1 = self.macs(["-uuid", UUID_A])[0]
        a2 = self.macs(["-uuid", UUID_A])[0]
        b = self.macs(["-uuid", UUID_B])[0]
        self.assertEqual(a1, a2)
        self.assertNotEqual(a1, b)

    def test_off_keeps_qemu_macs(self):
        auto, libvirt, _ = self.macs(["-cloak", "off"])
        self.assertEqual(auto, "52:54:00:12:34:56")
        self.assertEqual(libvirt, "52:54:00:ab:cd:ef")


class Strict(unittest.TestCase):
    BASE = ["-machine", "q35", "-accel", "tcg", "-display", "none", "-S",
            "-nodefaults", "-uuid", UUID_A, "-smp", "cpus=6,cores=6,threads=1",
            "-cloak", "strict"]

    def test_contradiction_names_both_settings(self):
        r = run(self.BASE + ["-cpu", "qemu64,hv-relaxed=on"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("hv-relaxed=on", r.stderr)
        self.assertIn("hypervisor=off", r.stderr)

    def test_user_leaks_are_named(self):
        r = run(self.BASE + ["-smbios", "type=1,manufacturer=QEMU",
                             "-machine", "acpi-waet=on,vmport=on,mac-oui=",
                             "-netdev", "user,id=n0",
                             "-device", "e1000e,netdev=n0,mac=52:54:00:00:00:01",
                             "-device", "virtio-rng-pci"])
        self.assertEqual(r.returncode, 1)
        for text in ("SMBIOS type 1", "acpi-waet=on", "vmport=on",
                     "mac-oui= is empty", "mac=52:54:00:00:00:01",
                     "virtio-rng-pci"):
            self.assertIn(text, r.stderr)

    def test_cloak_handles_its_own_artifacts(self):
        # Whatever strict still reports (device identities, firmware), none
        # of it is an artifact the cloak itself sets.  With nothing left to
        # report the VM starts; the monitor's quit then ends it.
        r = run(self.BASE + ["-monitor", "stdio"], stdin="quit\n")
        for text in ("hypervisor=on", "SMBIOS type", "WAET", "acpi-fw-cfg",
                     "pm-profile", "smbios-vm", "mac-oui", "vmport",
                     "x-oem", "creator", "no -uuid", "no CPU brand"):
            self.assertNotIn(text, r.stderr)

    def test_cpu_claim_the_accelerator_lacks(self):
        """A profile whose CPU claims what TCG cannot run (XSAVEC) is
        refused in strict mode, naming the feature; the shipped profile's
        own claims all hold (test_clean_vm_starts)."""
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "claims.conf")
            with open(profile_path("dell-optiplex-7000")) as f:
                text = f.read()
            with open(path, "w") as f:
                f.write(text.replace("\nfeatures=", "\nfeatures=xsavec,", 1))
            r = run([a if a != "strict" else "strict,profile=" + path
                     for a in self.BASE])
            self.assertEqual(r.returncode, 1, r.stderr)
            self.assertIn("claims CPU features that this accelerator cannot "
                          "give this guest: xsavec", r.stderr)

    def test_topology_without_brand(self):
        r = run([a if a != "cpus=6,cores=6,threads=1" else "3"
                 for a in self.BASE])
        self.assertEqual(r.returncode, 1)
        self.assertIn("no CPU brand for 3 cores", r.stderr)

    def test_clean_vm_starts(self):
        """Real-hardware devices and the cleaned firmware built with the
        fork: strict mode finds nothing to report and lets the VM start
        (it stays paused; QMP quits it)."""
        with tempfile.TemporaryDirectory() as d:
            disk = os.path.join(d, "disk.img")
            with open(disk, "wb") as f:
                f.truncate(1 << 20)
            qmp([a for a in self.BASE if a not in ("-display", "none", "-S",
                                                   "-nodefaults")] +
                ["-vga", "none", "-machine", "usb=on",
                 "-netdev", "user,id=n0", "-device", "e1000e,netdev=n0",
                 "-drive", "if=none,id=d0,format=raw,file=" + disk,
                 "-device", "ide-hd,drive=d0,bus=ide.0",
                 "-device", "ide-cd,bus=ide.1", "-device", "usb-tablet",
                 "-audiodev", "none,id=snd0", "-device", "ich9-intel-hda",
                 "-device", "hda-duplex,audiodev=snd0"], [])

    def test_stock_firmware_is_refused(self):
        """Debian's SeaBIOS, given by path, names SeaBIOS and QEMU."""
        stock = "/usr/share/seabios/bios-256k.bin"
        self.assertTrue(os.path.exists(stock), "%s: install seabios" % stock)
        r = run(self.BASE + ["-vga", "none", "-bios", stock])
        self.assertEqual(r.returncode, 1)
        self.assertIn("firmware %s contains \"" % stock, r.stderr)
        self.assertIn("leave -bios out", r.stderr)

    def test_missing_seed(self):
        args = [a for a in self.BASE if a not in ("-uuid", UUID_A)]
        r = run(args)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no -uuid, -name or -cloak seed=", r.stderr)


class LibvirtProbe(unittest.TestCase):
    def test_machine_none_qmp(self):
        """libvirt probes capabilities with -machine none and QMP."""
        replies = qmp(["-machine", "none,accel=tcg"], [
            {"execute": "query-machines"},
            {"execute": "query-cpu-definitions"},
            {"execute": "qom-list-properties",
             "arguments": {"typename": "pc-q35-10.0-machine"}},
            {"execute": "query-cpu-model-expansion",
             "arguments": {"type": "full", "model": {"name": "max"}}},
        ])
        machines, cpus, props, expansion = replies
        self.assertTrue(any(m["name"] == "pc-q35-10.0" for m in machines))
        self.assertTrue(any(c["name"] == "qemu64" for c in cpus))
        names = {p["name"] for p in props}
        self.assertTrue({"acpi-waet", "smbios-vm", "mac-oui"} <= names)
        self.assertIn("model", expansion)

    def test_help_options(self):
        for args in (["-M", "help"], ["-cpu", "help"], ["-machine", "q35,help"]):
            r = run(args)
            with self.subTest(args=args):
                self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("acpi-waet", run(["-machine", "q35,help"]).stdout)


if __name__ == "__main__":
    unittest.main()
