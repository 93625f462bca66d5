"""Boot the test guest once and collect what the firmware checks need.

The guest (tests/guest, built by `make guest`) runs one program named on
the kernel command line (cloak.run=NAME) and frames its output on the serial
console; with -nographic SeaBIOS copies its own screen output there too, so
one log holds both the firmware's console and the program's report.
"""

import os
import re
import subprocess
import tempfile
import uuid
from dataclasses import dataclass, field

from fwconfigs import STOCK_FIRMWARE_DIRS

BOOT_TIMEOUT = int(os.environ.get("FIRMWARE_BOOT_TIMEOUT", "600"))

# Firmware banners that must not reach the console of a cloaked VM.
CONSOLE_BANNERS = ["SeaBIOS", "SeaVGABIOS", "iPXE", "ipxe.org", "gPXE",
                   "Booting from", "Press ESC for boot menu"]


@dataclass
class Boot:
    label: str
    argv: list
    console: str = ""
    error: str = ""
    sections: dict = field(default_factory=dict)   # name -> (status, text)

    def section(self, name):
        """(status, text) of a section, or raises with the console tail."""
        if self.error:
            raise AssertionError("%s: %s\n%s" % (self.label, self.error,
                                                 self.tail()))
        if name not in self.sections:
            raise AssertionError("%s: no section %s in the guest's report\n%s"
                                 % (self.label, name, self.tail()))
        return self.sections[name]

    def tail(self, lines=40):
        return "\n".join(self.console.splitlines()[-lines:])


def parse_report(boot, nonce):
    text = boot.console.replace("\r", "")
    begin = "@@CLOAK-GUEST-BEGIN nonce=%s" % nonce
    if begin not in text:
        boot.error = "the guest never started its report"
        return
    end = re.search(r"^@@CLOAK-GUEST-END nonce=%s sections=(\d+)$"
                    % re.escape(nonce), text, re.M)
    if not end:
        boot.error = "the guest's report is cut short"
        return
    for m in re.finditer(r"^@@CLOAK-SECTION-BEGIN (\S+)\n(.*?)"
                         r"^@@CLOAK-SECTION-END \1 status=(\d+)$",
                         text, re.M | re.S):
        boot.sections[m.group(1)] = (int(m.group(3)), m.group(2))
    if len(boot.sections) != int(end.group(1)):
        boot.error = ("the report has %d sections, the guest counted %s"
                      % (len(boot.sections), end.group(1)))


def boot(qemu, guest_dir, label, machine, args, run, nic_model=None):
    """Boots the guest under TCG with `args` and runs /bin/`run` in it."""
    nonce = uuid.uuid4().hex[:12]
    nic = (["-nic", "user,model=%s" % nic_model] if nic_model
           else ["-nic", "none"])
    argv = [qemu]
    for d in STOCK_FIRMWARE_DIRS:
        argv += ["-L", d]
    argv += ["-machine", machine, "-accel", "tcg", "-m", "512",
             "-nographic", "-monitor", "none", "-no-reboot",
             "-kernel", os.path.join(guest_dir, "vmlinuz"),
             "-initrd", os.path.join(guest_dir, "initrd.img"),
             "-append", "console=ttyS0 quiet panic=-1 cloak.nonce=%s "
                        "cloak.run=%s" % (nonce, run)]
    argv += nic + args
    result = Boot(label=label, argv=argv)
    with tempfile.TemporaryFile() as log:
        try:
            proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=log,
                                  stderr=subprocess.STDOUT,
                                  timeout=BOOT_TIMEOUT)
            status = proc.returncode
        except subprocess.TimeoutExpired:
            status = None
        log.seek(0)
        result.console = log.read().decode("utf-8", "replace")
    if status is None:
        result.error = "no power-off within %d s" % BOOT_TIMEOUT
    elif status != 0:
        result.error = "QEMU exited with status %d" % status
    else:
        parse_report(result, nonce)
    return result


def banners_in(console):
    """The firmware banners that appear in a console log."""
    return [b for b in CONSOLE_BANNERS if b.lower() in console.lower()]


def romscan_matches(text):
    """(region, address, pattern) of every romscan match line."""
    return re.findall(r"^romscan: match (\S+) (0x[0-9a-f]+) (.+?) \"", text,
                      re.M)
