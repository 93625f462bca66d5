#!/usr/bin/python3
"""Device identity properties, checked from the host (no guest kernel).

QEMU is started paused with QMP; the values are read back with qom-get and
query-pci.  The EDID test lets SeaBIOS assign the PCI BARs and reads the
EDID block through the display's MMIO BAR with HMP xp, i.e. the bytes a
guest driver would read.  Every test also pins QEMU's stock value, so a
patch that stops applying the property, or changes the default, fails.

Environment: QEMU_BIN (default build/qemu-build/qemu-system-x86_64).
"""

import os
import re
import sys
import time
import unittest

from tests.lib.paths import PROFILE_DIR, QEMU_BIN as QEMU
from tests.lib.qemu import require_cloak, run_qemu_expect_failure, stock_args
from tests.lib.qmp import QemuQmp

DEV = "/machine/peripheral/"
NULL_DISK = "null-co,node-name=%s,size=67108864,read-zeroes=on"


def disk(name):
    return ["-blockdev", NULL_DISK % name]


def pci_devices(vm):
    """query-pci of bus 0 as {(slot, function): device}."""
    return {(d["slot"], d["function"]): d
            for d in vm.command("query-pci")[0]["devices"]}


def pci_by_qdev_id(vm, qdev_id):
    for d in vm.command("query-pci")[0]["devices"]:
        if d.get("qdev_id") == qdev_id:
            return d
    raise AssertionError("no PCI device with id %s" % qdev_id)


class StockDefaults(unittest.TestCase):
    """No identity property set: QEMU's own values, read back."""

    @classmethod
    def setUpClass(cls):
        cls.vm = QemuQmp(QEMU, stock_args(QEMU) + disk("hd") + disk("nv") +
                         disk("st") + [
            "-device", "ide-hd,id=hd,drive=hd,bus=ide.0",
            "-device", "ide-cd,id=cd,bus=ide.1",
            "-device", "nvme,id=nv,drive=nv,serial=NV1",
            "-device", "nvme,id=nvi,serial=NV2,use-intel-id=on",
            "-device", "qemu-xhci,id=xhci",
            "-device", "usb-tablet,id=tablet",
            "-device", "usb-mouse,id=mouse",
            "-device", "usb-kbd,id=kbd",
            "-device", "usb-hub,id=hub",
            "-device", "usb-storage,id=stor,drive=st",
            "-device", "ich9-intel-hda,id=hda",
            "-device", "hda-duplex,id=duplex",
            "-device", "hda-output,id=output",
            "-device", "e1000,id=nic",
        ])
        cls.vm.start()

    @classmethod
    def tearDownClass(cls):
        cls.vm.stop()

    def get(self, dev, prop):
        return self.vm.qom_get(DEV + dev, prop)

    def test_ide(self):
        self.assertEqual(self.get("cd", "vendor"), "QEMU")
        self.assertEqual(self.get("cd", "product"), "QEMU DVD-ROM")
        self.assertEqual(self.get("cd", "ver"), "2.5+")
        self.assertEqual(self.get("hd", "model"), "")
        self.assertRegex(self.get("hd", "serial"), r"^QM\d{5}$")

    def test_nvme(self):
        version = self.vm.command("query-version")["qemu"]
        stock = "%d.%d.%d" % (version["major"], version["minor"],
                              version["micro"])
        self.assertEqual(self.get("nv", "model"), "QEMU NVMe Ctrl")
        self.assertEqual(self.get("nv", "firmware-rev"), stock)
        self.assertEqual(self.get("nv", "ieee-oui"), 0x525400)
        self.assertEqual(self.get("nv", "pci-vendor-id"), 0x1b36)
        self.assertEqual(self.get("nv", "pci-device-id"), 0x0010)
        self.assertEqual(self.get("nvi", "ieee-oui"), 0x0002b3)
        self.assertEqual(self.get("nvi", "pci-vendor-id"), 0x8086)
        self.assertEqual(self.get("nvi", "pci-device-id"), 0x5845)
        self.assertEqual(pci_by_qdev_id(self.vm, "nv")["id"]["vendor"], 0x1b36)

    def test_usb(self):
        expect = {
            "tablet": (0x0627, 0x0001, 0x0000, "QEMU", "QEMU USB Tablet"),
            "mouse": (0x0627, 0x0001, 0x0000, "QEMU", "QEMU USB Mouse"),
            "kbd": (0x0627, 0x0001, 0x0000, "QEMU", "QEMU USB Keyboard"),
            "hub": (0x0409, 0x55aa, 0x0101, "QEMU", "QEMU USB Hub"),
            "stor": (0x46f4, 0x0001, 0x0000, "QEMU", "QEMU USB HARDDRIVE"),
        }
        for dev, want in expect.items():
            with self.subTest(dev=dev):
                got = tuple(self.get(dev, p) for p in (
                    "id-vendor", "id-product", "bcd-device", "manufacturer",
                    "product"))
                self.assertEqual(got, want)

    def test_hda_codecs(self):
        self.assertEqual(self.get("duplex", "vendor-id"), 0x1af40022)
        self.assertEqual(self.get("duplex", "subsystem-id"), 0x1af40022)
        self.assertEqual(self.get("duplex", "revision-id"), 0x00100101)
        self.assertEqual(self.get("output", "vendor-id"), 0x1af40012)

    def test_pci_default_subsystem(self):
        self.assertEqual(self.get("nic", "default-subsystem-vendor-id"),
                         0x1af4)
        self.assertEqual(self.get("nic", "default-subsystem-id"), 0x1100)
        for (slot, fn), d in pci_devices(self.vm).items():
            if d["id"]["vendor"] == 0x8086 and d.get("qdev_id") != "nvi":
                with self.subTest(slot=slot, function=fn):
                    self.assertEqual(d["id"]["subsystem-vendor"], 0x1af4)
                    self.assertEqual(d["id"]["subsystem"], 0x1100)

    def test_edid_numbers_filled_in(self):
        # The default VGA is not under peripheral/; find it by type.
        path = self.find_type("VGA")
        self.assertEqual(self.vm.qom_get(path, "edid-vendor"), "")
        self.assertEqual(self.vm.qom_get(path, "edid-product-id"), 0x1234)
        self.assertEqual(self.vm.qom_get(path, "edid-week"), 42)
        self.assertEqual(self.vm.qom_get(path, "edid-year"), 2014)

    def find_type(self, qom_type):
        for item in self.vm.command("qom-list", path="/machine/unattached"):
            if item["type"] == "child<%s>" % qom_type:
                return "/machine/unattached/" + item["name"]
        self.fail("no %s device" % qom_type)


class Overrides(unittest.TestCase):
    """Each property set on -device is what the device reports."""

    def test_all(self):
        args = disk("hd") + disk("nv") + [
            "-device", "ide-hd,id=hd,drive=hd,bus=ide.0,model=ST1000DM010-2EP102,"
                       "ver=CC46,serial=ZN1ABCDE",
            "-device", "ide-cd,id=cd,bus=ide.1,vendor=HL-DT-ST,"
                       "product=DVD+-RW GU90N,model=HL-DT-ST DVD+-RW GU90N",
            "-device", "nvme,id=nv,drive=nv,serial=S4EW,model=Samsung SSD 970 "
                       "EVO Plus 1TB,firmware-rev=2B2QEXM7,ieee-oui=0x002538,"
                       "pci-vendor-id=0x144d,pci-device-id=0xa808,"
                       "subnqn=nqn.2014.08.org.nvmexpress:144d144dS4EW",
            "-device", "qemu-xhci",
            "-device", "usb-tablet,id=tablet,manufacturer=Wacom,"
                       "product=Wacom One,id-vendor=0x056a,id-product=0x037a,"
                       "bcd-device=0x0100",
            "-device", "ich9-intel-hda",
            "-device", "hda-duplex,id=codec,vendor-id=0x10ec0887,"
                       "subsystem-id=0x10280970,revision-id=0x100302",
            "-device", "e1000,id=nic,default-subsystem-vendor-id=0x1028,"
                       "default-subsystem-id=0x0970",
        ]
        with QemuQmp(QEMU, stock_args(QEMU) + args) as vm:
            def get(dev, prop):
                return vm.qom_get(DEV + dev, prop)
            self.assertEqual(get("hd", "model"), "ST1000DM010-2EP102")
            self.assertEqual(get("cd", "vendor"), "HL-DT-ST")
            self.assertEqual(get("cd", "product"), "DVD+-RW GU90N")
            self.assertEqual(get("nv", "model"), "Samsung SSD 970 EVO Plus 1TB")
            self.assertEqual(get("nv", "firmware-rev"), "2B2QEXM7")
            self.assertEqual(get("nv", "ieee-oui"), 0x002538)
            nv = pci_by_qdev_id(vm, "nv")["id"]
            self.assertEqual((nv["vendor"], nv["device"]), (0x144d, 0xa808))
            self.assertEqual(get("tablet", "manufacturer"), "Wacom")
            self.assertEqual(get("tablet", "id-vendor"), 0x056a)
            self.assertEqual(get("tablet", "bcd-device"), 0x0100)
            self.assertEqual(get("codec", "vendor-id"), 0x10ec0887)
            nic = pci_by_qdev_id(vm, "nic")["id"]
            self.assertEqual((nic["subsystem-vendor"], nic["subsystem"]),
                             (0x1028, 0x0970))


class Precedence(unittest.TestCase):
    """-global sets defaults; -device wins; virtio keeps its subsystem."""

    def test_global_and_device(self):
        args = [
            "-global", "pci-device.default-subsystem-vendor-id=0x1028",
            "-global", "pci-device.default-subsystem-id=0x0970",
            "-global", "usb-tablet.product=From Global",
            "-device", "e1000,id=nic,default-subsystem-vendor-id=0x8086,"
                       "default-subsystem-id=0x1376",
            "-device", "virtio-net-pci,id=vnet",
            "-device", "qemu-xhci",
            "-device", "usb-tablet,id=t1",
            "-device", "usb-tablet,id=t2,product=From Device",
        ]
        with QemuQmp(QEMU, stock_args(QEMU) + args) as vm:
            devs = pci_devices(vm)
            mch = devs[(0, 0)]["id"]
            self.assertEqual((mch["subsystem-vendor"], mch["subsystem"]),
                             (0x1028, 0x0970))
            nic = pci_by_qdev_id(vm, "nic")["id"]
            self.assertEqual((nic["subsystem-vendor"], nic["subsystem"]),
                             (0x8086, 0x1376))
            vnet = pci_by_qdev_id(vm, "vnet")["id"]
            self.assertEqual(vnet["vendor"], 0x1af4)
            self.assertEqual(vnet["subsystem-vendor"], 0x1af4)
            self.assertEqual(vm.qom_get(DEV + "t1", "product"), "From Global")
            self.assertEqual(vm.qom_get(DEV + "t2", "product"), "From Device")


class BadValues(unittest.TestCase):
    """Bad input: QEMU refuses to start and names the property."""

    CASES = [
        (["-device", "ide-cd,vendor=NINECHARS"], "'vendor'"),
        (["-device", "ide-cd,product=SEVENTEEN-CHARS-X"], "'product'"),
        (["-device", "ide-cd,vendor=t\u00e9st"], "not printable ASCII"),
        (["-device", "qemu-xhci", "-device", "usb-tablet,id-vendor=0x10000"],
         "'id-vendor'"),
        (["-device", "qemu-xhci", "-device", "usb-kbd,product=" + "x" * 127],
         "'product'"),
        (["-vga", "none", "-device", "VGA,edid-vendor=De1"], "'edid-vendor'"),
        (["-vga", "none", "-device", "VGA,edid-name=FOURTEEN-CHARS"],
         "'edid-name'"),
        (["-vga", "none", "-device", "bochs-display,edid-week=55"],
         "'edid-week'"),
        (["-vga", "none", "-device", "VGA,edid-year=1989"], "'edid-year'"),
        (["-vga", "none", "-device", "VGA,pci-vendor-id=0xffff"],
         "pci-vendor-id 0xffff"),
        (["-vga", "none", "-device", "VGA,pci-device-id=0x10000"],
         "'pci-device-id'"),
        (["-device", "pcie-root-port,pci-vendor-id=0xffff"],
         "pci-vendor-id 0xffff"),
        (["-device", "pcie-root-port,pci-device-id-step=256"],
         "'pci-device-id-step'"),
        (["-device", "nvme,serial=x,ieee-oui=0x1000000"], "'ieee-oui'"),
        (["-device", "nvme,serial=x,model=" + "M" * 41], "'model'"),
        (["-device", "nvme,serial=x,pci-vendor-id=0x10000"],
         "'pci-vendor-id'"),
        (["-device", "nvme-subsys,id=s0", "-device",
          "nvme,serial=x,subsys=s0,subnqn=nqn.x"], "subnqn"),
        (["-global", "pci-device.default-subsystem-vendor-id=0x10000"],
         "default-subsystem-vendor-id"),
        (["-global", "ide-cd.vendor=NINECHARS", "-device", "ide-cd"],
         "'vendor'"),
    ]

    def test_cases(self):
        for args, needle in self.CASES:
            with self.subTest(args=args):
                status, stderr = run_qemu_expect_failure(
                    QEMU, stock_args(QEMU) + args)
                self.assertNotEqual(status, 0, stderr)
                self.assertIn(needle, stderr)
                self.assertNotIn("Aborted", stderr)
                self.assertNotIn("core dumped", stderr)


def read_edid(vm, timeout=30):
    """The 128-byte EDID base block of the std VGA, through its BAR 2."""
    deadline = time.monotonic() + timeout
    while True:
        for d in vm.command("query-pci")[0]["devices"]:
            if d["id"]["vendor"] != 0x1234:
                continue
            bar2 = [r for r in d["regions"] if r.get("bar") == 2]
            if bar2 and 0 < bar2[0]["address"] < 0xffffffff:
                text = vm.hmp("xp /32xw 0x%x" % bar2[0]["address"])
                words = [int(w, 16) for line in text.splitlines()
                         for w in re.findall(r"0x([0-9a-f]{8})",
                                             line.split(":", 1)[1])]
                if len(words) == 32:
                    return b"".join(w.to_bytes(4, "little") for w in words)
        if time.monotonic() > deadline:
            raise AssertionError("the firmware did not map the VGA BAR 2")
        time.sleep(0.2)


def edid_fields(edid):
    """(vendor, product, serial number, week, year, name) of an EDID."""
    v = int.from_bytes(edid[8:10], "big")
    vendor = "".join(chr(((v >> s) & 0x1f) + 64) for s in (10, 5, 0))
    name = None
    for off in (54, 72, 90, 108):
        d = edid[off:off + 18]
        if d[0:3] == b"\0\0\0" and d[3] == 0xfc:
            name = d[5:].split(b"\n")[0].decode("ascii")
    return (vendor, int.from_bytes(edid[10:12], "little"),
            int.from_bytes(edid[12:16], "little"), edid[16], 1990 + edid[17],
            name)


class EdidBytes(unittest.TestCase):
    """The EDID bytes a guest reads from the std VGA's MMIO BAR."""

    def edid(self, args):
        with QemuQmp(QEMU, stock_args(QEMU) + args, paused=False) as vm:
            return read_edid(vm)

    def test_stock(self):
        edid = self.edid([])
        self.assertEqual(sum(edid) % 256, 0, "checksum")
        self.assertEqual(edid_fields(edid),
                         ("RHT", 0x1234, 0, 42, 2014, "QEMU Monitor"))

    def test_properties(self):
        edid = self.edid([
            "-global", "pci-vga.edid-vendor=DEL",
            "-global", "pci-vga.edid-name=DELL P2419H",
            "-global", "pci-vga.edid-serial=12345678",
            "-global", "pci-vga.edid-product-id=0xa0c4",
            "-global", "pci-vga.edid-week=12",
            "-global", "pci-vga.edid-year=2020",
        ])
        self.assertEqual(sum(edid) % 256, 0, "checksum")
        self.assertEqual(edid_fields(edid),
                         ("DEL", 0xa0c4, 12345678, 12, 2020, "DELL P2419H"))


def read_ppm(path):
    """(width, height, number of distinct pixels) of a binary PPM."""
    with open(path, "rb") as f:
        data = f.read()
    m = re.match(rb"P6\s+(\d+)\s+(\d+)\s+(\d+)\s", data)
    w, h = int(m.group(1)), int(m.group(2))
    pixels = data[m.end():]
    return w, h, len({pixels[i:i + 3] for i in range(0, len(pixels), 3)})


class DisplayIdentity(unittest.TestCase):
    """The default std VGA's PCI ID ([devices] display-vendor-id and
    display-device-id) and a console that still renders: QEMU patches the
    VGA BIOS's PCI data structure to the new ID, so SeaBIOS runs it and
    the screen shows VGA text mode (720x400) with the BIOS's messages.
    Without the VGA BIOS the screen would stay QEMU's 640x480 placeholder."""

    def boot(self, args):
        """(vendor, device) of the display adapter, and the screen."""
        with QemuQmp(QEMU, list(args), paused=False) as vm:
            vga = [d for d in vm.command("query-pci")[0]["devices"]
                   if d["class_info"]["class"] == 0x0300]
            self.assertEqual(len(vga), 1, "one display adapter")
            ids = (vga[0]["id"]["vendor"], vga[0]["id"]["device"])
            shot = os.path.join(vm.tmpdir, "screen.ppm")
            deadline = time.monotonic() + 60
            while True:
                vm.command("screendump", filename=shot)
                screen = read_ppm(shot)
                if screen[:2] == (720, 400) and screen[2] > 1:
                    break
                if time.monotonic() > deadline:
                    break
                time.sleep(1)
            return ids, screen

    def assert_renders(self, screen):
        self.assertEqual(screen[:2], (720, 400),
                         "the VGA BIOS did not set text mode: %r" % (screen,))
        self.assertGreater(screen[2], 1, "the screen is blank")

    def test_stock(self):
        ids, screen = self.boot(stock_args(QEMU))
        self.assertEqual(ids, (0x1234, 0x1111))
        self.assert_renders(screen)

    def test_profile(self):
        require_cloak(QEMU)
        profile = os.path.join(PROFILE_DIR, "dell-optiplex-7000.conf")
        ids, screen = self.boot(["-cloak", "on,profile=%s,seed=d" % profile])
        self.assertEqual(ids, (0x8086, 0x4690))
        self.assert_renders(screen)

    def test_user_setting_wins(self):
        require_cloak(QEMU)
        profile = os.path.join(PROFILE_DIR, "lenovo-thinkpad-t495.conf")
        with QemuQmp(QEMU, ["-cloak", "on,profile=%s,seed=d" % profile,
                            "-global", "pci-vga.pci-device-id=0x15dd"]) as vm:
            vga = [d for d in vm.command("query-pci")[0]["devices"]
                   if d["class_info"]["class"] == 0x0300]
            self.assertEqual((vga[0]["id"]["vendor"], vga[0]["id"]["device"]),
                             (0x1002, 0x15dd))


class RootPortIdentity(unittest.TestCase):
    """pcie-root-port's PCI ID ([devices] root-port-*): the device ID plus
    step x function number, as an Intel PCH numbers its ports."""

    PORTS = ["-device", "pcie-root-port,id=rp0,addr=0x1c.0,multifunction=on,"
                        "chassis=1",
             "-device", "pcie-root-port,id=rp1,addr=0x1c.1,chassis=2"]

    def ids(self, args):
        with QemuQmp(QEMU, list(args) + self.PORTS) as vm:
            return [(d["slot"], d["function"], d["id"]["vendor"],
                     d["id"]["device"])
                    for d in vm.command("query-pci")[0]["devices"]
                    if d["class_info"]["class"] == 0x0604]

    def test_stock(self):
        self.assertEqual(self.ids(stock_args(QEMU)),
                         [(0x1c, 0, 0x1b36, 0x000c), (0x1c, 1, 0x1b36, 0x000c)])

    def test_step(self):
        self.assertEqual(
            self.ids(stock_args(QEMU) + [
                "-global", "pcie-root-port.pci-vendor-id=0x8086",
                "-global", "pcie-root-port.pci-device-id=0xa338",
                "-global", "pcie-root-port.pci-device-id-step=1"]),
            [(0x1c, 0, 0x8086, 0xa338), (0x1c, 1, 0x8086, 0xa339)])

    def test_profile_and_user_setting(self):
        require_cloak(QEMU)
        t495 = os.path.join(PROFILE_DIR, "lenovo-thinkpad-t495.conf")
        self.assertEqual(self.ids(["-cloak", "on,profile=%s,seed=d" % t495]),
                         [(0x1c, 0, 0x1022, 0x15d3), (0x1c, 1, 0x1022, 0x15d3)])
        dell = os.path.join(PROFILE_DIR, "dell-optiplex-7000.conf")
        self.assertEqual(
            self.ids(["-cloak", "on,profile=%s,seed=d" % dell,
                      "-global", "pcie-root-port.pci-device-id=0x7ac0"]),
            [(0x1c, 0, 0x8086, 0x7ac0), (0x1c, 1, 0x8086, 0x7ac1)])


def profile_with_devices(tmpdir, devices_group, name="devices-test"):
    """A shipped profile with its [devices] group replaced."""
    base = os.path.join(PROFILE_DIR, "dell-optiplex-7000.conf")
    with open(base) as f:
        text = f.read()
    text = re.sub(r"(?ms)^\[devices\].*?(?=^\[|\Z)", "", text)
    path = os.path.join(tmpdir, name + ".conf")
    with open(path, "w") as f:
        f.write(text + "\n[devices]\n" + devices_group)
    return path


class ProfileDefaults(unittest.TestCase):
    """-cloak: the profile's [devices] group as property defaults."""

    GROUP = """\
disk-model=WDC WD10EZEX-08WN4A0
disk-serial=WD-WCC{D:8}
cd-vendor=HL-DT-ST
usb-tablet-product=Wacom One
usb-tablet-serial={A:10}
pci-subsystem-vendor-id=0x1028
hda-codec-vendor-id=0x10ec0887
"""

    @classmethod
    def setUpClass(cls):
        require_cloak(QEMU)
        import tempfile
        cls.tmp = tempfile.TemporaryDirectory()
        cls.profile = profile_with_devices(cls.tmp.name, cls.GROUP)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def boot(self, seed, extra=()):
        args = ["-cloak", "on,profile=%s,seed=%s" % (self.profile, seed)]
        args += disk("a") + disk("b") + [
            "-device", "ide-hd,id=h0,drive=a,bus=ide.0",
            "-device", "ide-hd,id=h1,drive=b,bus=ide.1",
            "-device", "ide-cd,id=cd,bus=ide.2",
            "-device", "qemu-xhci",
            "-device", "usb-tablet,id=t",
            "-device", "ich9-intel-hda",
            "-device", "hda-duplex,id=codec",
            "-device", "e1000,id=nic",
        ] + list(extra)
        with QemuQmp(QEMU, args) as vm:
            props = {(d, p): vm.qom_get(DEV + d, p) for d, p in (
                ("h0", "model"), ("h0", "serial"), ("h1", "serial"),
                ("cd", "vendor"), ("t", "product"), ("t", "serial"),
                ("codec", "vendor-id"), ("nic", "default-subsystem-vendor-id"))}
            props["pci"] = pci_by_qdev_id(vm, "nic")["id"]["subsystem-vendor"]
            return props

    def test_defaults_and_serials(self):
        one = self.boot("one")
        self.assertEqual(one[("h0", "model")], "WDC WD10EZEX-08WN4A0")
        self.assertEqual(one[("cd", "vendor")], "HL-DT-ST")
        self.assertEqual(one[("t", "product")], "Wacom One")
        self.assertEqual(one[("codec", "vendor-id")], 0x10ec0887)
        self.assertEqual(one["pci"], 0x1028)
        self.assertRegex(one[("h0", "serial")], r"^WD-WCC\d{8}$")
        self.assertRegex(one[("t", "serial")], r"^[A-Z0-9]{10}$")
        # one serial per device, the same on every start, another per VM
        self.assertNotEqual(one[("h0", "serial")], one[("h1", "serial")])
        self.assertEqual(self.boot("one"), one)
        two = self.boot("two")
        self.assertNotEqual(two[("h0", "serial")], one[("h0", "serial")])
        self.assertNotEqual(two[("t", "serial")], one[("t", "serial")])

    def test_user_settings_win(self):
        got = self.boot("one", [
            "-global", "ide-hd.model=FROM GLOBAL",
            "-global", "ide-hd.serial=GLOBALSERIAL",
            "-global", "usb-tablet.product=From Global",
            "-global", "pci-device.default-subsystem-vendor-id=0x17aa",
        ])
        self.assertEqual(got[("h0", "model")], "FROM GLOBAL")
        self.assertEqual(got[("h0", "serial")], "GLOBALSERIAL")
        self.assertEqual(got[("t", "product")], "From Global")
        self.assertEqual(got["pci"], 0x17aa)

    def test_cloak_off_is_stock(self):
        args = stock_args(QEMU) + disk("a") + [
            "-device", "ide-hd,id=h0,drive=a,bus=ide.0"]
        with QemuQmp(QEMU, args) as vm:
            self.assertEqual(vm.qom_get(DEV + "h0", "model"), "")
            self.assertRegex(vm.qom_get(DEV + "h0", "serial"), r"^QM\d{5}$")

    def test_bad_values(self):
        cases = [
            ("disk-firmware=TOOLONGFW\n", "disk-firmware"),
            ("pci-subsystem-id=0x10000\n", "pci-subsystem-id"),
            ("edid-vendor=Dell\n", "edid-vendor"),
            ("display-vendor-id=0xffff\n", "display-vendor-id"),
            ("disk-serial={D:21}\n", "disk-serial"),
            ("no-such-key=1\n", "no-such-key"),
        ]
        for n, (group, needle) in enumerate(cases):
            with self.subTest(group=group):
                path = profile_with_devices(self.tmp.name, group, "bad%d" % n)
                status, stderr = run_qemu_expect_failure(
                    QEMU, ["-cloak", "on,profile=%s,seed=x" % path])
                self.assertNotEqual(status, 0, stderr)
                self.assertIn(needle, stderr)
                self.assertNotIn("Aborted", stderr)


if __name__ == "__main__":
    if not os.access(QEMU, os.X_OK):
        sys.exit("test_props.py: no QEMU binary at %s (set QEMU_BIN)" % QEMU)
    unittest.main(verbosity=2)
