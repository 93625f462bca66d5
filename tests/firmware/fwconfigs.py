"""The QEMU arguments the firmware checks compare, in one place.

cloaked_configs(qemu) -> [(name, args)], one per cloak profile
stock_args(qemu, nic_model) -> args for the same VM with stock firmware

A binary with the cloak's -cloak option (hw-cloak/cloak.c) is asked for its
profiles with "-cloak help"; each cloaked config is "-cloak profile=NAME"
and stock is "-cloak off".

A binary without -cloak (the firmware branch on its own) always loads the
cleaned firmware.  Its stand-in profiles supply, through plain QEMU options,
the SMBIOS, ACPI OEM and EDID values a cloak profile sets, and stock names
QEMU's stock firmware files by path, which bypasses the cleaned copies.
"""

import os
import re
import subprocess

from tests.lib.paths import FIRMWARE_DIRS as STOCK_FIRMWARE_DIRS

# The ROM QEMU's NIC models load by default (their class's romfile).
NIC_ROMS = {"e1000e": "efi-e1000e.rom", "e1000": "efi-e1000.rom",
            "rtl8139": "efi-rtl8139.rom", "virtio-net-pci": "efi-virtio.rom"}


def _smbios(kind, **fields):
    return ["-smbios", ",".join(["type=%d" % kind] +
                                ["%s=%s" % (k.replace("_", "-"), v)
                                 for k, v in fields.items()])]


def _standin(vendor, version, date, product, board, oem_id, oem_table_id):
    return (_smbios(0, vendor=vendor, version=version, date=date) +
            _smbios(1, manufacturer=vendor, product=product, version="1.0") +
            _smbios(2, manufacturer=vendor, product=board, version="A00") +
            _smbios(3, manufacturer=vendor, version="1.0") +
            _smbios(4, manufacturer="Intel(R) Corporation",
                    version="Intel(R) Core(TM) i5-9500 CPU @ 3.00GHz") +
            _smbios(17, manufacturer="Samsung") +
            ["-machine", "x-oem-id=%s,x-oem-table-id=%s" % (oem_id,
                                                             oem_table_id),
             # QEMU's EDID names "QEMU Monitor"; the devices area owns it.
             "-vga", "none", "-device", "VGA,edid=off"])


STANDIN_PROFILES = [
    ("standin-dell", _standin("Dell Inc.", "1.23.0", "01/10/2024",
                              "OptiPlex 7070", "0YNVJG", "DELL  ",
                              "CBX3    ")),
    ("standin-ami", _standin("American Megatrends Inc.", "4602",
                             "03/22/2023", "System Product Name",
                             "PRIME B450M-A", "ALASKA", "A M I   ")),
]


def cloak_profiles(qemu):
    """The profile names "-cloak help" lists, or None without -cloak."""
    try:
        out = subprocess.run([qemu, "-cloak", "help"], capture_output=True,
                             text=True, timeout=60)
    except OSError as e:
        raise RuntimeError("cannot run %s: %s" % (qemu, e))
    if out.returncode != 0:
        return None
    names = re.findall(r"^  (\S+)\s", out.stdout, re.M)
    if not names:
        raise RuntimeError("'%s -cloak help' listed no profiles:\n%s"
                           % (qemu, out.stdout))
    return names


def cloaked_configs(qemu):
    profiles = cloak_profiles(qemu)
    if profiles is None:
        return STANDIN_PROFILES
    return [(p, ["-cloak", "profile=" + p]) for p in profiles]


def _stock_file(name):
    for d in STOCK_FIRMWARE_DIRS:
        path = os.path.join(d, name)
        if os.path.exists(path):
            return path
    raise RuntimeError("stock firmware file %s is not installed (in %s)"
                       % (name, ", ".join(STOCK_FIRMWARE_DIRS)))


def stock_args(qemu, nic_model=None):
    if cloak_profiles(qemu) is not None:
        return ["-cloak", "off"]
    args = ["-bios", _stock_file("bios-256k.bin"),
            "-vga", "none", "-device",
            "VGA,romfile=" + _stock_file("vgabios-stdvga.bin"),
            "-global", "apic-common.vapic=on"]
    if nic_model:
        args += ["-global", "%s.romfile=%s"
                 % (nic_model, _stock_file(NIC_ROMS[nic_model]))]
    return args
