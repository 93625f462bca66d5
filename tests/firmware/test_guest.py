"""Boot checks: the guest finds no firmware strings while cloaked.

Run by `make check-firmware-boot` (part of make check); needs QEMU_BIN,
GUEST_DIR and the cleaned firmware in $(BUILD_DIR)/firmware.

Every cloaked config (fwconfigs.cloaked_configs: the cloak's profiles, or
stand-ins) boots on q35 with a NIC and scans 0xC0000-0xFFFFF, the BIOS
flash mapping below 4 GiB and the PCI option ROMs (guest program romscan);
the first one also boots on pc with a NIC and on both machines without
one, checks that each NIC passes traffic without its option ROM (guest
program netcheck) and that the date at F000:FFF5 and the MP table agree
with the SMBIOS and ACPI tables (guest program biosid).  The stock config
boots for romscan and biosid and must show the strings, banners and
disagreement, so the checks can fail.
All boots run under TCG, several at a time.
"""

import os
import re
import shutil
import tempfile
import unittest
from concurrent.futures import ThreadPoolExecutor

from tests.firmware import fwboot, fwconfigs
from tests.lib.paths import GUEST_DIR, QEMU_BIN as QEMU

PARALLEL = int(os.environ.get("FIRMWARE_BOOT_JOBS", "2"))

NIC = {"q35": "e1000e", "pc": "e1000"}

def disk_probe_args(workdir):
    """An AHCI hard disk and CD, with QEMU tracing the AHCI registers the
    BIOS writes and the interrupts the controller raises.

    Probing a hard disk, the BIOS first sends IDENTIFY PACKET DEVICE, which
    the disk rejects; QEMU (>= 8.2) then raises only PxIS.TFES.  A BIOS
    that does not take TFES as the end of the command polls until its
    32-second timeout and never runs AHCI error recovery.
    """
    disk = os.path.join(workdir, "disk.img")
    with open(disk, "wb") as f:
        f.truncate(64 << 20)
    return ["-drive", "if=none,id=d0,format=raw,file=" + disk,
            "-device", "ide-hd,drive=d0,bus=ide.0",
            "-device", "ide-cd,bus=ide.1",
            "-trace", "ahci_trigger_irq", "-trace", "ahci_port_write",
            "-D", os.path.join(workdir, "ahci.trace")]


def ahci_error_handling(trace):
    """For each task file error in an AHCI trace: (port, recovered), where
    recovered says whether the BIOS stopped the port (PxCMD.ST = 0, AHCI
    1.3 section 6.2.2.1) before it issued its next command (PxCI)."""
    results = []
    pending = {}   # port -> whether recovery was seen since its TFES
    for line in trace.splitlines():
        m = re.search(r"ahci\(\S+\)\[(\d+)\]: (trigger irq \+(\w+)|"
                      r"port write \[reg:(\w+)\] @ 0x[0-9a-f]+: "
                      r"0x([0-9a-f]+))", line)
        if not m:
            continue
        port, irq, reg, value = m.group(1), m.group(3), m.group(4), m.group(5)
        if irq == "TFES":
            pending[port] = False
        elif port in pending and reg == "PxCMD" and not int(value, 16) & 1:
            pending[port] = True
        elif port in pending and reg == "PxCI":
            results.append((port, pending.pop(port)))
    results.extend(pending.items())
    return results


def plan(workdir):
    """(key, label, machine, args, program, nic) for every boot."""
    configs = fwconfigs.cloaked_configs(QEMU)
    boots = []
    for name, args in configs:
        boots.append((("scan", name, "q35", True), name + " q35+nic", "q35",
                      args, "romscan", NIC["q35"]))
    name, args = configs[0]
    boots.append((("scan", name, "pc", True), name + " pc+nic", "pc", args,
                  "romscan", NIC["pc"]))
    for machine in ("q35", "pc"):
        boots.append((("scan", name, machine, False), name + " " + machine,
                      machine, args, "romscan", None))
        boots.append((("net", name, machine, True),
                      name + " " + machine + "+nic netcheck", machine, args,
                      "netcheck", NIC[machine]))
    boots.append((("id", name, "q35", True), name + " q35 biosid", "q35",
                  args, "biosid", NIC["q35"]))
    boots.append((("disk", name, "q35", False), name + " q35+ahci disk",
                  "q35", list(args) + disk_probe_args(workdir), "romscan",
                  None))
    stock = fwconfigs.stock_args(QEMU, NIC["q35"])
    boots.append((("scan", "stock", "q35", True), "stock q35+nic", "q35",
                  stock, "romscan", NIC["q35"]))
    boots.append((("id", "stock", "q35", True), "stock q35 biosid", "q35",
                  stock, "biosid", NIC["q35"]))
    return configs, boots


def bios_identity(boot):
    """biosid's fields of a boot, as a dict."""
    status, text = boot.section("run:biosid")
    if status != 0:
        raise AssertionError("%s: biosid failed:\n%s" % (boot.label, text))
    return dict(re.findall(r'([a-z0-9-]+) "([^"]*)"', text))


def identity_disagreements(ident):
    """Where the BIOS's own memory disagrees with the SMBIOS tables."""
    wrong = []
    date = re.fullmatch(r"(\d\d/\d\d/)\d\d(\d\d)",
                        ident.get("dmi-bios-date", ""))
    if not date or ident.get("date-fff5") != date.group(1) + date.group(2):
        wrong.append("F000:FFF5 %r vs SMBIOS date %r"
                     % (ident.get("date-fff5"), ident.get("dmi-bios-date")))
    if ident.get("mp-oem") != ident.get("rsdp-oem", "?") + "  ":
        wrong.append("MP OEM %r vs RSDP OEM %r" % (ident.get("mp-oem"),
                                                   ident.get("rsdp-oem")))
    product = ident.get("dmi-product", "")[:12].ljust(12)
    if ident.get("mp-product") != product:
        wrong.append("MP product %r vs SMBIOS product %r"
                     % (ident.get("mp-product"), ident.get("dmi-product")))
    return wrong


class GuestFirmwareTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        if not QEMU or not os.path.exists(QEMU):
            raise RuntimeError("QEMU_BIN is missing (%r): run make build"
                               % QEMU)
        cls.workdir = tempfile.mkdtemp(prefix="cloak-fw-test-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, True)
        cls.configs, boots = plan(cls.workdir)
        with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
            futures = {key: pool.submit(fwboot.boot, QEMU, GUEST_DIR, label,
                                        machine, args, program, nic)
                       for key, label, machine, args, program, nic in boots}
            cls.boots = {key: f.result() for key, f in futures.items()}

    def scan(self, key):
        b = self.boots[key]
        status, text = b.section("run:romscan")
        self.assertIn(status, (0, 1), "%s: romscan failed (status %d):\n%s"
                      % (b.label, status, text))
        for region in (r"mem 0xc0000-0xfffff",
                       r"flash 0xfffc0000-0xffffffff"):
            self.assertRegex(text, r"romscan: region %s bytes=262144" % region,
                             "%s: %s was not scanned:\n%s"
                             % (b.label, region, text))
        return b, status, text

    def assert_clean(self, key):
        b, status, text = self.scan(key)
        self.assertEqual(fwboot.romscan_matches(text), [],
                         "%s: firmware strings in the guest:\n%s"
                         % (b.label, text))
        self.assertEqual(status, 0, "%s:\n%s" % (b.label, text))
        self.assertEqual(fwboot.banners_in(b.console), [],
                         "%s: firmware banner on the console:\n%s"
                         % (b.label, b.tail(80)))

    def test_every_profile_q35_with_nic_is_clean(self):
        for name, _ in self.configs:
            with self.subTest(profile=name):
                self.assert_clean(("scan", name, "q35", True))

    def test_pc_with_nic_is_clean(self):
        self.assert_clean(("scan", self.configs[0][0], "pc", True))

    def test_without_nic_is_clean(self):
        for machine in ("q35", "pc"):
            with self.subTest(machine=machine):
                self.assert_clean(("scan", self.configs[0][0], machine,
                                   False))

    def test_nic_works_without_option_rom(self):
        for machine in ("q35", "pc"):
            with self.subTest(machine=machine):
                b = self.boots[("net", self.configs[0][0], machine, True)]
                status, text = b.section("run:netcheck")
                self.assertEqual(status, 0, "%s: no ARP reply:\n%s"
                                 % (b.label, text))
                self.assertRegex(text, r"netcheck: done interfaces=1 ok=1")

    def test_disk_probe_recovers_from_rejected_command(self):
        b = self.boots[("disk", self.configs[0][0], "q35", False)]
        b.section("run:romscan")   # the guest booted
        trace = os.path.join(self.workdir, "ahci.trace")
        with open(trace) as f:
            errors = ahci_error_handling(f.read())
        self.assertTrue(errors, "%s: no AHCI task file error in %s; the "
                        "disk probe no longer sends a rejected command"
                        % (b.label, trace))
        self.assertEqual([port for port, recovered in errors if not recovered],
                         [], "%s: the BIOS missed a task file error and "
                         "waited for its timeout (ports listed)" % b.label)

    def test_bios_memory_agrees_with_smbios(self):
        b = self.boots[("id", self.configs[0][0], "q35", True)]
        ident = bios_identity(b)
        self.assertEqual(identity_disagreements(ident), [],
                         "%s: %s" % (b.label, ident))

    def test_stock_bios_memory_disagrees(self):
        # Stock SeaBIOS keeps its own date and "BOCHSCPU" in the MP table.
        b = self.boots[("id", "stock", "q35", True)]
        self.assertNotEqual(identity_disagreements(bios_identity(b)), [])

    def test_stock_firmware_shows_the_strings(self):
        b, status, text = self.scan(("scan", "stock", "q35", True))
        found = {p for _, _, p in fwboot.romscan_matches(text)}
        self.assertEqual(status, 1, "%s:\n%s" % (b.label, text))
        for needed in ("SeaBIOS", "iPXE"):
            self.assertIn(needed, found, "%s: the scan missed %s:\n%s"
                          % (b.label, needed, text))
        banners = fwboot.banners_in(b.console)
        for needed in ("SeaBIOS", "iPXE"):
            self.assertIn(needed, banners, "%s: no %s banner:\n%s"
                          % (b.label, needed, b.tail(80)))


if __name__ == "__main__":
    unittest.main(verbosity=2)
