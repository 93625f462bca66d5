"""Boot the test guest once and collect what the firmware checks need.

The guest (tests/guest, `make guest`) runs one program named on the kernel
command line (cloak.run=NAME); tests/lib/cloakguest.py boots it and parses
the report.  SeaBIOS mirrors its screen to the serial console when QEMU
passes it the fw_cfg file etc/sercon-port (as QEMU itself does for
-nographic), so one console log holds both the firmware's console and the
program's report.
"""

import os
import re
import struct
import tempfile
from dataclasses import dataclass, field

from tests.lib import cloakguest

BOOT_TIMEOUT = int(os.environ.get("FIRMWARE_BOOT_TIMEOUT", "600"))
COM1 = 0x3f8

# Firmware banners that must not reach the console of a cloaked VM.
CONSOLE_BANNERS = ["SeaBIOS", "SeaVGABIOS", "iPXE", "ipxe.org", "gPXE",
                   "Booting from", "Press ESC for boot menu"]

_sercon_file = None


def sercon_args():
    """-fw_cfg arguments that turn on SeaBIOS's serial console on COM1."""
    global _sercon_file
    if _sercon_file is None:
        fd, _sercon_file = tempfile.mkstemp(prefix="sercon-port.")
        os.write(fd, struct.pack("<H", COM1))
        os.close(fd)
    return ["-fw_cfg", "name=etc/sercon-port,file=" + _sercon_file]


@dataclass
class Boot:
    label: str
    console: str = ""
    error: str = ""
    sections: dict = field(default_factory=dict)   # name -> (status, text)

    def section(self, name):
        """(status, text) of a section; raises with the console tail."""
        if self.error:
            raise AssertionError("%s: %s" % (self.label, self.error))
        if name not in self.sections:
            raise AssertionError("%s: no section %s in the guest's report\n%s"
                                 % (self.label, name, self.tail()))
        return self.sections[name]

    def tail(self, lines=40):
        return "\n".join(self.console.replace("\r", "").splitlines()[-lines:])


def boot(qemu, guest_dir, label, machine, args, run, nic_model=None):
    """Boots the guest under TCG with `args` and runs /bin/`run` in it."""
    nic = (["-nic", "user,model=%s" % nic_model] if nic_model
           else ["-nic", "none"])
    result = Boot(label=label)
    try:
        report = cloakguest.boot(qemu, machine=machine, accel="tcg",
                                 extra_args=nic + sercon_args() + list(args),
                                 timeout=BOOT_TIMEOUT, run=run,
                                 guest_dir=guest_dir)
    except cloakguest.GuestError as e:
        result.error = str(e)
        result.console = e.console
        return result
    result.console = report.console
    result.sections = {name: (s.status, s.output)
                       for name, s in report.sections.items()}
    return result


def banners_in(console):
    """The firmware banners that appear in a console log."""
    return [b for b in CONSOLE_BANNERS if b.lower() in console.lower()]


def romscan_matches(text):
    """(region, address, pattern) of every romscan match line."""
    return re.findall(r"^romscan: match (\S+) (0x[0-9a-f]+) (.+?) \"", text,
                      re.M)
