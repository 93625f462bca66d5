#!/usr/bin/python3
"""Device identities as the guest reads them.

Boots the test guest (tests/guest) with an overlay that adds
/bin/cloak-devices (see guest_overlay.py): the guest's probe records (ATA
IDENTIFY, SCSI INQUIRY via sysfs, NVMe, USB sysfs, /proc/bus/input, PCI
IDs), lspci -nn -v, the EDID block read from the display's MMIO BAR with
devmem, and the HDA codec from /proc/asound.

Two boots with the same devices: one with no identity property set, which
must show QEMU's stock identities, and one with every property set through
-global or -device, which must show those values and no "QEMU".  A third
boot, when the binary has -cloak, applies the same identities from a
profile's [devices] group and checks that -device still wins.

Environment: QEMU_BIN, GUEST_DIR (default build/guest), BUILD_DIR.
"""

import os
import re
import sys
import tempfile
import unittest

from tests.devices import guest_overlay
from tests.lib import cloakguest
from tests.lib.paths import BUILD_DIR, GUEST_DIR, PROFILE_DIR, QEMU_BIN as QEMU
from tests.lib.qemu import require_cloak, stock_args
ACCEL = os.environ.get("CLOAK_TEST_ACCEL", "auto")

NULL_DISK = "null-co,node-name=%s,size=%d,read-zeroes=on"

# The devices every boot has; identity properties are added per boot.
DEVICES = [
    "-blockdev", NULL_DISK % ("hd", 256 << 20),
    "-blockdev", NULL_DISK % ("nv", 64 << 20),
    "-device", "ide-hd,id=hd,drive=hd,bus=ide.0{hd}",
    "-device", "ide-cd,id=cd,bus=ide.1{cd}",
    # Two root ports as an Intel PCH has them (00:1c.0, 00:1c.1); the NVMe
    # behind the first shows that the port still bridges under a new ID.
    # bus-reserve adds QEMU's resource-reserve capability (Red Hat's layout).
    "-device", "pcie-root-port,id=rp0,bus=pcie.0,addr=0x1c.0,"
               "multifunction=on,chassis=1,bus-reserve=2{rp}",
    "-device", "pcie-root-port,id=rp1,bus=pcie.0,addr=0x1c.1,chassis=2,"
               "bus-reserve=2{rp}",
    "-device", "nvme,id=nv,bus=rp0,drive=nv,serial=S4EWNX0N123456{nv}",
    "-device", "qemu-xhci,id=xhci",
    "-device", "usb-tablet,id=tablet{tablet}",
    "-device", "usb-kbd,id=kbd{kbd}",
    "-device", "ich9-intel-hda,id=hda",
    "-device", "hda-duplex,id=codec{codec}",
]

# A Dell OptiPlex-like identity, set through properties.
IDENTITY = {
    "hd": ",model=ST1000DM010-2EP102,ver=CC46,serial=ZN1ABCDE",
    "cd": ",model=HL-DT-ST DVD+-RW GU90N,ver=A1C3",
    "nv": (",model=Samsung SSD 970 EVO Plus 1TB,firmware-rev=2B2QEXM7,"
           "ieee-oui=0x002538,pci-vendor-id=0x144d,pci-device-id=0xa808,"
           "subnqn=nqn.2014.08.org.nvmexpress:144d144dS4EWNX0N123456"),
    # ",," is a literal comma in a -device option.
    "tablet": (",manufacturer=Wacom Co.,,Ltd.,product=Wacom One,"
               "id-vendor=0x056a,id-product=0x037a,bcd-device=0x0100,"
               "serial=8HQ0051234"),
    "kbd": ",serial=2020100100017",
    # 300 series PCH root ports #1 and #2 (pci.ids: 8086:a338, 8086:a339).
    "rp": ",pci-vendor-id=0x8086,pci-device-id=0xa338,pci-device-id-step=1",
    "codec": ",vendor-id=0x10ec0887,subsystem-id=0x10280970,"
             "revision-id=0x100302",
}
# Set as defaults with -global, the way a profile (or libvirt) sets them.
IDENTITY_GLOBALS = [
    "-global", "pci-device.default-subsystem-vendor-id=0x1028",
    "-global", "pci-device.default-subsystem-id=0x0970",
    "-global", "ide-cd.vendor=HL-DT-ST",
    "-global", "ide-cd.product=DVD+-RW GU90N",
    "-global", "usb-kbd.manufacturer=Logitech",
    "-global", "usb-kbd.product=USB Keyboard",
    "-global", "usb-kbd.id-vendor=0x046d",
    "-global", "usb-kbd.id-product=0xc31c",
    "-global", "usb-kbd.bcd-device=0x6400",
    "-global", "pci-vga.edid-vendor=DEL",
    "-global", "pci-vga.edid-name=DELL P2419H",
    "-global", "pci-vga.edid-serial=CFV9N95",
    "-global", "pci-vga.edid-product-id=0xa0c4",
    "-global", "pci-vga.edid-week=12",
    "-global", "pci-vga.edid-year=2020",
]


def devices(identity=None):
    identity = identity or {}
    return [a.format(**{k: identity.get(k, "") for k in IDENTITY})
            for a in DEVICES]


class GuestView:
    """What /bin/cloak-devices printed, parsed."""

    def __init__(self, report):
        out = report.output("run:cloak-devices")
        lines = out.splitlines()
        if "@@CLOAK-DEVICES-DONE" not in lines:
            raise AssertionError("cloak-devices did not finish:\n" + out[-2000:])
        self.probe = cloakguest.parse_probe(lines)
        begin, end = lines.index("@@LSPCI-BEGIN"), lines.index("@@LSPCI-END")
        self.lspci = "\n".join(lines[begin + 1:end])
        self.edid = {}
        self.hda = {}
        for line in lines:
            if line.startswith("EDID "):
                _, bdf, data = line.split(" ", 2)
                if data == "devmem-failed":
                    # A DRM driver owns the BAR; the probe read the EDID
                    # the driver got from the device (/sys/class/drm).
                    raw = [v for k, v in self.probe.items()
                           if k.startswith("edid.") and k.endswith(".raw")]
                    if len(raw) != 1:
                        raise AssertionError("devmem refused and the probe "
                                             "saw %d EDIDs" % len(raw))
                    data = raw[0]
                try:
                    self.edid[bdf] = bytes.fromhex(data) if data != "none" else b""
                except ValueError:
                    raise AssertionError("bad EDID line: %r" % line[:120])
            m = re.match(r"HDA \S+ ([^:]+): (.*)$", line)
            if m:
                self.hda[m.group(1)] = m.group(2)

    def get(self, key):
        if key not in self.probe:
            raise AssertionError("the probe has no record %s" % key)
        return self.probe[key].strip()

    def find(self, prefix, field, value):
        """The probe key prefix (e.g. block.sda) whose field equals value."""
        for key, v in self.probe.items():
            if (key.startswith(prefix) and key.endswith("." + field)
                    and v.strip() == value):
                return key[:-len(field) - 1]
        return None

    def block(self, ata_model_prefix):
        for key, v in self.probe.items():
            if key.endswith(".ata.model") and v.strip().startswith(
                    ata_model_prefix):
                return key[:-len(".ata.model")]
        raise AssertionError("no disk with ATA model %r; probe block "
                             "records: %r" % (ata_model_prefix, {
                                 k: v for k, v in self.probe.items()
                                 if k.startswith("block.")}))

    def usb(self, id_vendor):
        dev = self.find("usb.", "idVendor", id_vendor)
        if not dev:
            raise AssertionError("no USB device %s" % id_vendor)
        return {f: self.probe.get("%s.%s" % (dev, f), "").strip()
                for f in ("idVendor", "idProduct", "bcdDevice",
                          "manufacturer", "product", "serial")}

    def input_names(self):
        return [v for k, v in self.probe.items()
                if k.startswith("input.") and k.endswith(".name")]

    def lspci_device(self, ids):
        """The lspci -nn -v block of the one device with "[vvvv:dddd]"."""
        blocks = [b for b in re.split(r"\n(?=\S)", self.lspci)
                  if "[%s]" % ids in b.split("\n", 1)[0]]
        if len(blocks) != 1:
            raise AssertionError("%d lspci entries for %s:\n%s"
                                 % (len(blocks), ids, self.lspci))
        return blocks[0]

    def pci(self, vendor, device):
        for key, v in self.probe.items():
            if key.endswith(".vendor") and key.startswith("pci.") \
                    and v == vendor:
                base = key[:-len(".vendor")]
                if self.probe.get(base + ".device") == device:
                    return {f: self.probe.get(base + "." + f) for f in (
                        "vendor", "device", "subsystem_vendor",
                        "subsystem_device")}
        raise AssertionError("no PCI device %s:%s" % (vendor, device))

    def display_edid(self):
        if len(self.edid) != 1:
            raise AssertionError("expected one display, got %r" % self.edid)
        edid = next(iter(self.edid.values()))
        if len(edid) < 128 or edid[:8] != b"\0\xff\xff\xff\xff\xff\xff\0":
            raise AssertionError("no EDID header in %r" % edid[:16])
        return edid


def edid_descriptors(edid):
    """The 18-byte descriptors of the base block and of a CTA extension."""
    blocks = [edid[off:off + 18] for off in range(54, 126, 18)]
    if len(edid) >= 256 and edid[128] == 0x02 and edid[130] >= 4:
        start = 128 + edid[130]
        blocks += [edid[off:off + 18] for off in range(start, 255 - 18, 18)]
    return blocks


def edid_summary(edid):
    v = int.from_bytes(edid[8:10], "big")
    vendor = "".join(chr(((v >> s) & 0x1f) + 64) for s in (10, 5, 0))
    text = {}
    for d in edid_descriptors(edid):
        if d[0:3] == b"\0\0\0" and d[3] in (0xfc, 0xff):
            text[d[3]] = d[5:].split(b"\n")[0].decode("ascii").rstrip()
    return {"vendor": vendor,
            "product": int.from_bytes(edid[10:12], "little"),
            "week": edid[16], "year": 1990 + edid[17],
            "name": text.get(0xfc), "serial": text.get(0xff),
            "checksum_ok": sum(edid[:128]) % 256 == 0}


_initrd = None


def overlay_initrd():
    global _initrd
    if _initrd is None:
        out_dir = os.path.join(BUILD_DIR, "tests-devices")
        os.makedirs(out_dir, exist_ok=True)
        _initrd = guest_overlay.build_initrd(
            os.path.join(GUEST_DIR, "initrd.img"),
            os.path.join(out_dir, "initrd-devices.img"))
    return _initrd


def boot(extra_args, log_name):
    log = os.path.join(BUILD_DIR, "tests-devices", log_name + ".log")
    report = cloakguest.boot(QEMU, "q35", accel=ACCEL, extra_args=extra_args,
                             guest_dir=GUEST_DIR, initrd=overlay_initrd(),
                             run="cloak-devices", log_path=log)
    return GuestView(report)


class StockIdentities(unittest.TestCase):
    """No identity property set: the guest sees QEMU's values."""

    @classmethod
    def setUpClass(cls):
        cls.g = boot(stock_args(QEMU) + devices(), "stock")

    def test_ata_disk(self):
        d = self.g.block("QEMU HARDDISK")
        self.assertEqual(self.g.get(d + ".ata.firmware"), "2.5+")
        self.assertRegex(self.g.get(d + ".ata.serial"), r"^QM\d{5}$")
        self.assertEqual(self.g.get(d + ".model"), "QEMU HARDDISK")

    def test_atapi_cdrom(self):
        d = self.g.block("QEMU DVD-ROM")
        self.assertEqual(self.g.get(d + ".vendor"), "QEMU")
        self.assertEqual(self.g.get(d + ".model"), "QEMU DVD-ROM")
        self.assertEqual(self.g.get(d + ".rev"), "2.5+")

    def test_nvme(self):
        n = self.g.find("nvme.", "serial", "S4EWNX0N123456")
        self.assertIsNotNone(n, "no NVMe controller")
        self.assertEqual(self.g.get(n + ".model"), "QEMU NVMe Ctrl")
        self.assertRegex(self.g.get(n + ".firmware_rev"), r"^\d+\.\d+\.\d+$")
        self.assertTrue(self.g.get(n + ".subsysnqn").startswith(
            "nqn.2019-08.org.qemu:"))
        self.g.pci("0x1b36", "0x0010")
        self.assertIn("[1b36:0010]", self.g.lspci)

    def test_usb_hid(self):
        for product in ("QEMU USB Tablet", "QEMU USB Keyboard"):
            dev = self.g.find("usb.", "product", product)
            self.assertIsNotNone(dev, product)
            self.assertEqual(self.g.get(dev + ".idVendor"), "0627")
            self.assertEqual(self.g.get(dev + ".idProduct"), "0001")
            self.assertEqual(self.g.get(dev + ".manufacturer"), "QEMU")
        self.assertIn("QEMU QEMU USB Tablet", self.g.input_names())

    def test_pci_subsystem(self):
        for dev in (("0x8086", "0x29c0"), ("0x8086", "0x2922"),
                    ("0x8086", "0x293e"), ("0x1234", "0x1111")):
            ids = self.g.pci(*dev)
            self.assertEqual((ids["subsystem_vendor"],
                              ids["subsystem_device"]), ("0x1af4", "0x1100"))
        self.assertIn("Subsystem: Red Hat, Inc. QEMU Virtual Machine "
                      "[1af4:1100]", self.g.lspci)

    def test_root_ports(self):
        self.assertEqual(self.g.lspci.count("[1b36:000c]"), 2, self.g.lspci)
        ports = re.findall(r"(?m)^00:1c\.[01] .*\[1b36:000c\]", self.g.lspci)
        self.assertEqual(len(ports), 2, self.g.lspci)
        # The subsystem capability names Red Hat too, and bus-reserve
        # gives the port QEMU's vendor-specific capability.
        block = re.split(r"\n(?=\S)", self.g.lspci.split("00:1c.0 ", 1)[1])[0]
        self.assertIn("Subsystem: Red Hat, Inc. Device [1b36:0000]", block)
        self.assertIn("Vendor Specific Information", block)

    def test_edid(self):
        e = edid_summary(self.g.display_edid())
        self.assertEqual(e, {"vendor": "RHT", "product": 0x1234, "week": 42,
                             "year": 2014, "name": "QEMU Monitor",
                             "serial": None, "checksum_ok": True})

    def test_hda_codec(self):
        self.assertEqual(self.g.hda.get("Vendor Id"), "0x1af40022")
        self.assertEqual(self.g.hda.get("Subsystem Id"), "0x1af40022")
        self.assertEqual(self.g.hda.get("Revision Id"), "0x100101")


class ConfiguredIdentities(unittest.TestCase):
    """Every identity property set: the guest sees the values, no QEMU."""

    @classmethod
    def setUpClass(cls):
        cls.g = boot(stock_args(QEMU) + IDENTITY_GLOBALS + devices(IDENTITY),
                     "configured")

    def test_ata_disk(self):
        d = self.g.block("ST1000DM010-2EP102")
        self.assertEqual(self.g.get(d + ".ata.firmware"), "CC46")
        self.assertEqual(self.g.get(d + ".ata.serial"), "ZN1ABCDE")

    def test_atapi_cdrom(self):
        d = self.g.block("HL-DT-ST DVD+-RW GU90N")
        self.assertEqual(self.g.get(d + ".vendor"), "HL-DT-ST")
        self.assertEqual(self.g.get(d + ".model"), "DVD+-RW GU90N")
        self.assertEqual(self.g.get(d + ".rev"), "A1C3")

    def test_nvme(self):
        n = self.g.find("nvme.", "serial", "S4EWNX0N123456")
        self.assertIsNotNone(n, "no NVMe controller")
        self.assertEqual(self.g.get(n + ".model"),
                         "Samsung SSD 970 EVO Plus 1TB")
        self.assertEqual(self.g.get(n + ".firmware_rev"), "2B2QEXM7")
        self.assertEqual(self.g.get(n + ".subsysnqn"),
                         "nqn.2014.08.org.nvmexpress:144d144dS4EWNX0N123456")
        self.assertEqual(self.g.pci("0x144d", "0xa808")["subsystem_vendor"],
                         "0x1028")
        self.assertIn("[144d:a808]", self.g.lspci)

    def test_usb(self):
        self.assertEqual(self.g.usb("056a"), {
            "idVendor": "056a", "idProduct": "037a", "bcdDevice": "0100",
            "manufacturer": "Wacom Co.,Ltd.", "product": "Wacom One",
            "serial": "8HQ0051234"})
        kbd = self.g.usb("046d")
        self.assertEqual((kbd["idProduct"], kbd["bcdDevice"],
                          kbd["manufacturer"], kbd["product"]),
                         ("c31c", "6400", "Logitech", "USB Keyboard"))
        names = self.g.input_names()
        self.assertIn("Wacom Co.,Ltd. Wacom One", names)
        self.assertIn("Logitech USB Keyboard", names)
        self.assertFalse([n for n in names if "QEMU" in n], names)

    def test_pci_subsystem(self):
        for dev in (("0x8086", "0x29c0"), ("0x8086", "0x2922"),
                    ("0x8086", "0x293e"), ("0x8086", "0x2918"),
                    ("0x1234", "0x1111")):
            ids = self.g.pci(*dev)
            self.assertEqual((ids["subsystem_vendor"],
                              ids["subsystem_device"]), ("0x1028", "0x0970"))
        self.assertNotIn("[1af4:1100]", self.g.lspci)
        # qemu-xhci is a Red Hat device: its vendor ID stays (device choice).
        self.assertIn("[1b36:000d]", self.g.lspci)

    def test_root_ports(self):
        self.assertNotIn("[1b36:000c]", self.g.lspci)
        for bdf, ids in (("00:1c.0", "8086:a338"), ("00:1c.1", "8086:a339")):
            block = self.g.lspci_device(ids)
            self.assertTrue(block.startswith(bdf + " PCI bridge"), block)
            self.assertRegex(block, r"Subsystem: .*\[1028:0970\]")
            self.assertNotIn("Vendor Specific Information", block)

    def test_edid(self):
        e = edid_summary(self.g.display_edid())
        self.assertEqual(e, {"vendor": "DEL", "product": 0xa0c4, "week": 12,
                             "year": 2020, "name": "DELL P2419H",
                             "serial": "CFV9N95", "checksum_ok": True})

    def test_hda_codec(self):
        self.assertEqual(self.g.hda.get("Vendor Id"), "0x10ec0887")
        self.assertEqual(self.g.hda.get("Subsystem Id"), "0x10280970")
        self.assertEqual(self.g.hda.get("Revision Id"), "0x100302")

    def test_no_qemu_in_identities(self):
        leaks = {k: v for k, v in self.g.probe.items()
                 if re.match(r"(block|scsi|nvme|usb|input)\.", k)
                 and "QEMU" in v}
        self.assertEqual(leaks, {})


PROFILE = """\
[devices]
disk-model=WDC WD10EZEX-08WN4A0
disk-firmware=01.01A01
disk-serial=WD-WCC{D:8}
cd-model=HL-DT-ST DVD+-RW GU90N
cd-vendor=HL-DT-ST
cd-product=DVD+-RW GU90N
nvme-model=PM981a NVMe Samsung 512GB
usb-tablet-manufacturer=Wacom Co.,Ltd.
usb-tablet-product=Wacom One
usb-tablet-vendor-id=0x056a
usb-tablet-product-id=0x037a
usb-tablet-serial={A:10}
pci-subsystem-vendor-id=0x1028
pci-subsystem-id=0x0970
root-port-vendor-id=0x8086
root-port-device-id=0xa338
root-port-device-id-step=1
edid-vendor=DEL
edid-name=DELL P2419H
edid-serial={A:7}
hda-codec-vendor-id=0x10ec0887
"""


class ProfileIdentities(unittest.TestCase):
    """A profile's [devices] group becomes the devices' defaults."""

    @classmethod
    def setUpClass(cls):
        require_cloak(QEMU)
        cls.tmp = tempfile.TemporaryDirectory()
        base = os.path.join(PROFILE_DIR,
                            "dell-optiplex-7000.conf")
        with open(base) as f:
            text = f.read()
        # The shipped profile with our [devices] group in place of its own.
        text = re.sub(r"(?ms)^\[devices\].*?(?=^\[|\Z)", "", text) + PROFILE
        cls.profile = os.path.join(cls.tmp.name, "devices-test.conf")
        with open(cls.profile, "w") as f:
            f.write(text)
        cls.g = boot(["-cloak", "on,profile=%s,seed=devices-test" % cls.profile,
                      # -device beats the profile:
                      ] + devices({"nv": ",firmware-rev=FROMDEV"}),
                     "profile")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_disks(self):
        d = self.g.block("WDC WD10EZEX-08WN4A0")
        self.assertEqual(self.g.get(d + ".ata.firmware"), "01.01A01")
        self.assertRegex(self.g.get(d + ".ata.serial"), r"^WD-WCC\d{8}$")
        cd = self.g.block("HL-DT-ST DVD+-RW GU90N")
        self.assertEqual(self.g.get(cd + ".vendor"), "HL-DT-ST")

    def test_nvme_device_wins(self):
        n = self.g.find("nvme.", "serial", "S4EWNX0N123456")
        self.assertEqual(self.g.get(n + ".model"), "PM981a NVMe Samsung 512GB")
        self.assertEqual(self.g.get(n + ".firmware_rev"), "FROMDEV")

    def test_usb_pci_edid_hda(self):
        tablet = self.g.usb("056a")
        self.assertEqual(tablet["product"], "Wacom One")
        self.assertRegex(tablet["serial"], r"^[A-Z0-9]{10}$")
        ids = self.g.pci("0x8086", "0x2922")
        self.assertEqual(ids["subsystem_vendor"], "0x1028")
        e = edid_summary(self.g.display_edid())
        self.assertEqual((e["vendor"], e["name"]), ("DEL", "DELL P2419H"))
        self.assertRegex(e["serial"] or "", r"^[A-Z0-9]{7}$")
        self.assertEqual(self.g.hda.get("Vendor Id"), "0x10ec0887")

    def test_root_ports(self):
        self.assertNotIn("[1b36:000c]", self.g.lspci)
        self.g.lspci_device("8086:a338")
        self.g.lspci_device("8086:a339")


if __name__ == "__main__":
    for what, path in (("QEMU binary", QEMU),
                       ("guest", os.path.join(GUEST_DIR, "initrd.img"))):
        if not os.path.exists(path):
            sys.exit("test_boot_devices.py: no %s at %s" % (what, path))
    unittest.main(verbosity=2)
