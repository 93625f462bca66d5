"""The cloak's detector battery: boot the test guest under TCG and check
what real detectors (virt-what, systemd-detect-virt, lscpu, dmidecode,
lspci, the kernel log) and the guest probe see.

- every shipped profile, on q35 and pc: nothing may name QEMU, KVM, TCG,
  Bochs, SeaBIOS or Red Hat;
- stock QEMU (-cloak off), same devices: every check must find its
  artifact, so that each check can fail;
- per-VM values: one VM gets the same serials and MACs on every boot, two
  VMs get different ones.

Checks marked [devices] need the device identity properties (branch
"devices"); they fail on the cloak branch alone.

Environment: QEMU_BIN (default build/qemu-build/qemu-system-x86_64),
GUEST_DIR (default build/guest), CLOAK_BOOT_JOBS (parallel boots, 2).
"""

import concurrent.futures
import os
import re
import tempfile
import unittest

from tests.lib import cloakguest
from tests.lib.battery import (
    MACHINES, dmidecode_structures, profile_values, topology,
    device_args, STOCK_COLUMN, documented_cpu_reports, cpu_report, CHECKS,
    STOCK_CLEAN_UNDER_TCG, OVERRIDES, check_kernel_log, check_pci,
    check_pci_subsystem, check_mac, check_smbios_structures,
    check_acpi_profile, check_thermal_zone,
)

from tests.lib.paths import GUEST_DIR, PROFILES, QEMU_BIN as QEMU
JOBS = int(os.environ.get("CLOAK_BOOT_JOBS", "2"))


# ---- booting -----------------------------------------------------------------

def uuid_for(profile, machine, n=0):
    import hashlib
    h = hashlib.sha256(("%s/%s/%d" % (profile, machine, n)).encode()).hexdigest()
    return "%s-%s-4%s-8%s-%s" % (h[:8], h[8:12], h[13:16], h[17:20], h[20:32])


class Boots:
    reports = {}
    errors = {}
    plan = {}

    @classmethod
    def run(cls):
        if cls.reports or cls.errors:
            return
        cls.tmp = tempfile.TemporaryDirectory(prefix="cloak-battery-")
        plan = {}
        for p in PROFILES:
            for m in MACHINES:
                plan[(p, m, 0)] = (["-cloak", "profile=" + p,
                                    "-uuid", uuid_for(p, m)], topology(p))
        # the same VM again, for determinism
        p0 = PROFILES[0]
        plan[(p0, "q35", 1)] = (["-cloak", "profile=" + p0,
                                 "-uuid", uuid_for(p0, "q35")], topology(p0))
        # explicit user settings next to the profile
        plan[("override", "q35", 0)] = (["-cloak", "profile=" + p0,
                                         "-uuid", uuid_for(p0, "override")] +
                                        OVERRIDES, topology(p0))
        for m in MACHINES:
            plan[("stock", m, 0)] = (["-cloak", "off", "-uuid", uuid_for("x", m)],
                                     "cpus=2")
        cls.plan = plan

        def boot(key):
            profile, machine, n = key
            args, smp = plan[key]
            disk = os.path.join(cls.tmp.name, "%s-%s-%d.img" % key)
            with open(disk, "wb") as f:
                f.truncate(64 << 20)
            return cloakguest.boot(
                QEMU, machine=machine, accel="tcg", guest_dir=GUEST_DIR,
                smp=smp, memory=512,
                extra_args=args + device_args(machine, disk))

        with concurrent.futures.ThreadPoolExecutor(JOBS) as ex:
            futures = {ex.submit(boot, k): k for k in plan}
            for f in concurrent.futures.as_completed(futures):
                k = futures[f]
                try:
                    cls.reports[k] = f.result()
                except Exception as e:  # reported per test below
                    cls.errors[k] = e

    @classmethod
    def get(cls, key):
        cls.run()
        if key in cls.errors:
            raise AssertionError("boot %s failed: %s" % (key, cls.errors[key]))
        return cls.reports[key]


class CloakedBattery(unittest.TestCase):
    """Every profile on q35 and pc shows no artifact."""

    def test_profiles(self):
        for p in PROFILES:
            oui = profile_values(p)["net.oui"]
            for m in MACHINES:
                r = Boots.get((p, m, 0))
                for name, check in CHECKS:
                    with self.subTest(profile=p, machine=m, check=name):
                        problems = (check(r, oui) if check is check_mac
                                    else check(r))
                        self.assertEqual(problems, [])

    def test_profile_identity_reaches_the_guest(self):
        for p in PROFILES:
            v = profile_values(p)
            for m in MACHINES:
                r = Boots.get((p, m, 0))
                with self.subTest(profile=p, machine=m):
                    self.assertEqual(r.probe.get("dmi.sys_vendor"),
                                     v["system.manufacturer"])
                    self.assertEqual(r.probe.get("dmi.board_name"),
                                     v["board.product"])
                    self.assertEqual(r.probe.get("dmi.chassis_type"),
                                     str(int(v["chassis.type"], 0)))
                    self.assertEqual(r.probe.get("acpi.FACP.pm_profile"),
                                     str(int(v["acpi.pm-profile"], 0)))
                    self.assertIn(r.probe.get("cpuid.brand"),
                                  [b for k, b in v.items()
                                   if k.startswith("cpu.model-id-")])
                    self.assertEqual(r.guest_machine(), m)
                    self.assert_smbios_detail(r, v)

    def test_profile_smbios_structures(self):
        """Each [smbios] record of the profile, in the guest's dmidecode."""
        for p in PROFILES:
            for m in MACHINES:
                with self.subTest(profile=p, machine=m):
                    self.assertEqual(
                        check_smbios_structures(Boots.get((p, m, 0)), p), [])

    def test_profile_acpi_devices(self):
        """The profile's buttons, WMI, PEP, fans, thermal zone, battery and
        AC adapter, as the guest's ACPI and power-supply classes list them."""
        for p in PROFILES:
            for m in MACHINES:
                with self.subTest(profile=p, machine=m):
                    self.assertEqual(
                        check_acpi_profile(Boots.get((p, m, 0)), p), [])

    def test_display_adapter(self):
        """std VGA presents the profile's display ID, and bochs-drm (given
        that ID, as docs/device-identity.md says) drives it."""
        for p in PROFILES:
            v = profile_values(p)
            want = "[%04x:%04x]" % (int(v["devices.display-vendor-id"], 0),
                                    int(v["devices.display-device-id"], 0))
            for m in MACHINES:
                r = Boots.get((p, m, 0))
                with self.subTest(profile=p, machine=m):
                    vga = [l for l in r.output("lspci").splitlines()
                           if "VGA compatible controller [0300]" in l]
                    self.assertEqual(len(vga), 1, "one display adapter")
                    self.assertIn(want, vga[0])
                    self.assertIn("bochs-drm: added", r.output("modules"))
                    self.assertTrue(any(k.startswith("edid.")
                                        for k in r.probe),
                                    "no EDID: bochs-drm did not bind")

    def test_root_port(self):
        """On q35 the NIC's pcie-root-port presents the profile's root port
        ID (function 0, so no step), and its subsystem is the board's."""
        for p in PROFILES:
            v = profile_values(p)
            want = "[%04x:%04x]" % (int(v["devices.root-port-vendor-id"], 0),
                                    int(v["devices.root-port-device-id"], 0))
            sub = "[%04x:%04x]" % (
                int(v["devices.pci-subsystem-vendor-id"], 0),
                int(v["devices.pci-subsystem-id"], 0))
            r = Boots.get((p, "q35", 0))
            with self.subTest(profile=p):
                lspci = r.output("lspci")
                ports = [b for b in re.split(r"\n(?=\S)", lspci)
                         if "PCI bridge [0604]" in b.split("\n", 1)[0]]
                self.assertEqual(len(ports), 1, lspci)
                self.assertIn(want, ports[0].split("\n", 1)[0])
                self.assertIn("Subsystem: ", ports[0])
                self.assertIn(sub, ports[0])
                self.assertNotIn("Vendor Specific Information", ports[0])

    def assert_smbios_detail(self, r, v):
        """What dmidecode reads from types 0, 1, 4, 7 and 17."""
        for key, field in (("bios.vendor", "bios_vendor"),
                           ("bios.version", "bios_version"),
                           ("bios.date", "bios_date"),
                           ("system.product", "product_name")):
            self.assertEqual(r.probe.get("dmi." + field), v[key], key)
        structs = dmidecode_structures(r.output("dmidecode"))

        def of_type(t):
            return [fields for typ, fields in structs if typ == t]

        cpus = of_type(4)
        self.assertTrue(cpus, "no SMBIOS type 4")
        self.assertEqual(cpus[0].get("Manufacturer"), v["cpu.manufacturer"])
        self.assertEqual(cpus[0].get("Version"), r.probe.get("cpuid.brand"))
        # The speeds of the model chosen for the topology: the one whose
        # brand the guest sees (models sharing a brand share their speeds)
        models = sorted(k[len("cpu.model-id-"):] for k, brand in v.items()
                        if k.startswith("cpu.model-id-") and
                        brand == r.probe.get("cpuid.brand"))
        self.assertTrue(models, "the guest's brand is none of the profile's")
        model = models[0]
        for key, field in (("max-speed", "Max Speed"),
                           ("current-speed", "Current Speed")):
            want = v.get("cpu.%s-%s" % (key, model), v.get("cpu." + key))
            if want:
                self.assertEqual(cpus[0].get(field), "%d MHz" % int(want, 0),
                                 key)
        caches = of_type(7)
        self.assertGreaterEqual(len(caches), 3, "SMBIOS type 7: L1, L2, L3")
        for c in cpus:
            for level in ("L1", "L2", "L3"):
                handle = c.get("%s Cache Handle" % level, "")
                self.assertRegex(handle, r"^0x[0-9A-F]{4}$",
                                 "type 4 has no %s cache handle" % level)
        dimms = of_type(17)
        self.assertTrue(dimms, "no SMBIOS type 17")
        for d in dimms:
            # dmidecode prints the SPD-style padding; the parser strips it
            self.assertEqual(d.get("Part Number"),
                             v["memory.part"].replace("\\s", " ").strip())
            self.assertEqual(d.get("Manufacturer"), v["memory.manufacturer"])


class UserSettingsWin(unittest.TestCase):
    def test_overrides_reach_the_guest(self):
        r = Boots.get(("override", "q35", 0))
        v = profile_values(PROFILES[0])
        self.assertEqual(r.probe.get("dmi.sys_vendor"), "Acme Labs")
        self.assertEqual(r.probe.get("dmi.product_name"), "Box 1")
        self.assertEqual(r.probe.get("dmi.chassis_serial"), "SN-USER-1")
        self.assertEqual(r.probe.get("dmi.chassis_type"), "7")
        self.assertEqual(r.probe.get("cpuid.brand"), "Acme CPU 1000")
        self.assertEqual(r.probe.get("acpi.FACP.pm_profile"), "3")
        # what the user left alone still comes from the profile
        self.assertEqual(r.probe.get("dmi.board_vendor"), v["board.manufacturer"])
        self.assertEqual(r.probe.get("cpuid.hypervisor_bit"), "0")
        self.assertEqual(r.output("systemd-detect-virt").strip(), "none")


class StockBattery(unittest.TestCase):
    """-cloak off: every check finds QEMU's artifact, so each can fail."""

    def test_every_check_fails_on_stock(self):
        for m in MACHINES:
            r = Boots.get(("stock", m, 0))
            for name, check in CHECKS:
                if name in STOCK_CLEAN_UNDER_TCG:
                    continue
                with self.subTest(machine=m, check=name):
                    self.assertNotEqual(check(r), [],
                                        "stock QEMU passed check %r" % name)

    def test_profile_acpi_checks_fail_on_stock(self):
        for p in PROFILES:
            with self.subTest(profile=p):
                self.assertNotEqual(
                    check_acpi_profile(Boots.get(("stock", "q35", 0)), p), [])

    def test_stock_display_is_bochs(self):
        for m in MACHINES:
            with self.subTest(machine=m):
                self.assertIn("[1234:1111]", Boots.get(("stock", m, 0))
                              .output("lspci"))

    def test_stock_root_port_is_red_hat(self):
        lspci = Boots.get(("stock", "q35", 0)).output("lspci")
        self.assertIn("[1b36:000c]", lspci)
        self.assertIn("Subsystem: Red Hat, Inc. Device [1b36:0000]", lspci)

    def test_stock_is_recognised(self):
        for m in MACHINES:
            r = Boots.get(("stock", m, 0))
            with self.subTest(machine=m):
                self.assertEqual(r.output("virt-what").strip(), "qemu")
                self.assertEqual(r.output("systemd-detect-virt").strip(), "qemu")


class CpuCoherence(unittest.TestCase):
    """The guest kernel's verdict on the CPU (vulnerabilities, microcode)
    is the documented one of the profile's real part; stock is qemu64's."""

    def test_profiles_report_their_real_part(self):
        table = documented_cpu_reports()
        for p in PROFILES:
            for m in MACHINES:
                with self.subTest(profile=p, machine=m):
                    self.assertIn(p, table, "docs/cloak.md has no column "
                                  "for profile %s" % p)
                    self.assertEqual(cpu_report(Boots.get((p, m, 0))),
                                     table[p])

    def test_stock_reports_qemu64(self):
        table = documented_cpu_reports()
        for m in MACHINES:
            got = cpu_report(Boots.get(("stock", m, 0)))
            with self.subTest(machine=m):
                self.assertEqual(got, table[STOCK_COLUMN])
                for p in PROFILES:
                    self.assertNotEqual(got, table.get(p),
                                        "stock reads like profile %s" % p)


class FakeReports(unittest.TestCase):
    """Checks that stock TCG cannot trigger, shown failing on synthetic
    reports (KVM's kernel log)."""

    def test_kernel_log_check_fails_on_kvm_log(self):
        r = cloakguest.Report("n", {"dmesg": cloakguest.Section(
            "dmesg", ["[    0.000000] Hypervisor detected: KVM",
                      "[    0.000000] DMI: QEMU Standard PC (Q35 + ICH9, 2009), "
                      "BIOS 1.16.3-debian-1.16.3-2 04/01/2014"], 0)}, {}, "")
        self.assertEqual(len(check_kernel_log(r)), 2)

    def test_thermal_check_fails_on_a_flat_zone(self):
        flat = {"start": {0: 30000}, "idle": {0: 30000}, "busy": {0: 30100}}
        self.assertEqual(len(check_thermal_zone(flat, 27, 33)), 1)
        hot = {"start": {0: 30000}, "idle": {0: 30000}, "busy": {0: 40000}}
        self.assertEqual(len(check_thermal_zone(hot, 27, 33)), 1)
        good = {"start": {0: 31000}, "idle": {0: 29000}, "busy": {0: 31500}}
        self.assertEqual(check_thermal_zone(good, 27, 33), [])

    def test_pci_check_fails_on_qemu_devices(self):
        lspci = ["00:02.0 VGA compatible controller [0300]: Device [1234:1111] (rev 02)",
                 "\tSubsystem: Red Hat, Inc. Device [1af4:1100]",
                 "00:03.0 Ethernet controller [0200]: Red Hat, Inc. Virtio network "
                 "device [1af4:1000]",
                 "00:04.0 USB controller [0c03]: Red Hat, Inc. QEMU XHCI Host "
                 "Controller [1b36:000d] (rev 01)",
                 "00:05.0 Ethernet controller [0200]: Intel Corporation 82574L "
                 "Gigabit Network Connection [8086:10d3]"]
        r = cloakguest.Report("n", {"lspci": cloakguest.Section("lspci", lspci, 0)},
                              {}, "")
        self.assertEqual(len(check_pci(r)), 3)
        self.assertEqual(len(check_pci_subsystem(r)), 1)


class PerVmValues(unittest.TestCase):
    def serials(self, r):
        keys = ("dmi.product_serial", "dmi.board_serial", "dmi.chassis_serial",
                "dmi.product_uuid")
        macs = {k: v for k, v in r.probe.items() if re.match(r"net\.eth\d+\.mac$", k)}
        return dict({k: r.probe.get(k) for k in keys}, **macs)

    def test_same_vm_same_values(self):
        p = PROFILES[0]
        a = self.serials(Boots.get((p, "q35", 0)))
        b = self.serials(Boots.get((p, "q35", 1)))
        self.assertEqual(a, b)
        self.assertTrue(any(k.startswith("net.") for k in a))

    def test_two_vms_differ(self):
        for p in PROFILES:
            a = self.serials(Boots.get((p, "q35", 0)))
            b = self.serials(Boots.get((p, "pc", 0)))
            with self.subTest(profile=p):
                for k in a:
                    if k == "dmi.chassis_serial" and a[k] == b[k] and \
                            "{" not in profile_values(p).get("chassis.serial", "{"):
                        continue    # a fixed string in the profile (whitebox)
                    if k == "dmi.product_serial" and a[k] == b[k] and \
                            "{" not in profile_values(p).get("system.serial", "{"):
                        continue
                    self.assertNotEqual(a[k], b[k], k)


if __name__ == "__main__":
    unittest.main()
