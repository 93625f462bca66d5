"""Boot the qemu-cloak test guest and parse what its detectors reported.

The guest (tests/guest/build-guest.sh) prints on its serial console:

    @@CLOAK-GUEST-BEGIN nonce=N
    @@CLOAK-SECTION-BEGIN name
    ...output...
    @@CLOAK-SECTION-END name status=S
    ...
    @@CLOAK-GUEST-END nonce=N sections=K

and the "probe" section carries PROBE records framed by PROBE-BEGIN and
PROBE-END <count>.  boot() runs QEMU and returns a Report; anything short of
a complete report with the right nonce raises GuestError.  docs/guest.md
describes the format.
"""

import hashlib
import json
import os
import re
import resource
import secrets
import shlex
import shutil
import signal
import subprocess
import threading
import time

from tests.lib import paths
from tests.lib.paths import firmware_args


# The sections /init prints in detector mode, in order.
DETECTORS = ("probe", "virt-what", "systemd-detect-virt", "dmidecode",
             "lspci", "lscpu", "cpu-vulnerabilities", "acpi-devices",
             "thermal", "power-supply", "dmesg")

DEFAULT_TIMEOUT = 300
KVM_PROBE_TIMEOUT = 30
# A kernel that stalls under KVM (kvm-pvm stops after "Probing EDD") goes
# silent; a working one prints continuously.
KVM_PROBE_STALL = 10

# What the guest sees as the PCI host bridge (00:00.0) on each machine type.
HOST_BRIDGES = {
    ("0x8086", "0x29c0"): "q35",   # Intel 82G33/G31/P35/P31 (MCH)
    ("0x8086", "0x1237"): "pc",    # Intel 440FX
}

class GuestError(Exception):
    """The guest did not produce a complete, current report."""

    def __init__(self, message, console=""):
        super().__init__(message)
        self.console = console


class BootError(GuestError):
    """QEMU failed, the firmware found nothing to boot, or time ran out."""


class ReportError(GuestError):
    """The console log holds no report, a cut-short one, or a stale one."""


class Section:
    """One framed block of guest output: a detector's output and status."""

    def __init__(self, name, lines, status):
        self.name = name
        self.lines = lines
        self.status = status

    @property
    def output(self):
        return "\n".join(self.lines) + ("\n" if self.lines else "")

    def to_json(self):
        return {"status": self.status, "output": self.output}


class Report:
    """A parsed guest report plus how the guest was booted."""

    def __init__(self, nonce, sections, probe, console):
        self.nonce = nonce
        self.sections = sections
        self.probe = probe
        self.console = console
        self.accel = None
        self.accel_reason = None
        self.machine = None
        self.command = None
        self.boot_seconds = None

    def section(self, name):
        if name not in self.sections:
            raise KeyError("the guest report has no section '%s' (it has: %s)"
                           % (name, ", ".join(self.sections) or "none"))
        return self.sections[name]

    def output(self, name):
        return self.section(name).output

    def status(self, name):
        return self.section(name).status

    def probe_prefix(self, prefix):
        """The probe records whose key starts with prefix, in order."""
        return {k: v for k, v in self.probe.items() if k.startswith(prefix)}

    def host_bridge(self):
        """(vendor, device) of PCI 0000:00:00.0 as the guest saw it."""
        key = "pci.0000:00:00.0."
        return (self.probe.get(key + "vendor"), self.probe.get(key + "device"))

    def guest_machine(self):
        """'q35' or 'pc' from the host bridge the guest saw, else None."""
        return HOST_BRIDGES.get(self.host_bridge())

    def to_json(self):
        return {
            "nonce": self.nonce,
            "accel": self.accel,
            "accel_reason": self.accel_reason,
            "machine": self.machine,
            "guest_machine": self.guest_machine() if self.probe else None,
            "boot_seconds": self.boot_seconds,
            "command": self.command,
            "sections": {n: s.to_json() for n, s in self.sections.items()},
            "probe": self.probe,
        }


# ---- parsing ---------------------------------------------------------------

_ESCAPE = re.compile(r"\\(\\|x[0-9a-f]{2})")


def unescape(value):
    """Undo the probe's value escaping; bytes map 1:1 to code points."""
    if "\\" not in value:
        return value
    rest = _ESCAPE.sub("", value)
    if "\\" in rest:
        raise ReportError("bad escape in probe value %r" % value)
    return _ESCAPE.sub(lambda m: "\\" if m.group(1) == "\\"
                       else chr(int(m.group(1)[1:], 16)), value)


def parse_probe(lines):
    """PROBE records of the probe section as an ordered dict.

    Raises ReportError unless the records are framed by PROBE-BEGIN and a
    PROBE-END whose count matches.
    """
    records = {}
    begun = False
    for number, line in enumerate(lines, 1):
        if line.startswith("PROBE-BEGIN "):
            if begun:
                raise ReportError("probe report: second PROBE-BEGIN at line %d"
                                  % number)
            begun = True
            continue
        if line.startswith("PROBE-END "):
            if not begun:
                raise ReportError("probe report: PROBE-END before PROBE-BEGIN")
            try:
                count = int(line.split()[1])
            except ValueError:
                raise ReportError("probe report: bad end line %r" % line) from None
            if count != len(records):
                raise ReportError("probe report: %d records, but the end line says %d"
                                  % (len(records), count))
            return records
        if not line.startswith("PROBE "):
            raise ReportError("probe report: unexpected line %d: %r"
                              % (number, line[:100]))
        if not begun:
            raise ReportError("probe report: record before PROBE-BEGIN")
        parts = line.split(" ", 2)
        if len(parts) < 2 or not parts[1]:
            raise ReportError("probe report: record without a key at line %d"
                              % number)
        key = parts[1]
        if key in records:
            raise ReportError("probe report: key %s appears twice" % key)
        records[key] = unescape(parts[2] if len(parts) > 2 else "")
    if not begun:
        raise ReportError("probe report: no PROBE-BEGIN line")
    raise ReportError("probe report cut short: no PROBE-END line after %d records"
                      % len(records))


_BEGIN = re.compile(r"@@CLOAK-GUEST-BEGIN nonce=(\S*)$")
_END = re.compile(r"@@CLOAK-GUEST-END nonce=(\S*) sections=(\d+)$")
_SECTION_BEGIN = re.compile(r"@@CLOAK-SECTION-BEGIN (\S+)$")
_SECTION_END = re.compile(r"@@CLOAK-SECTION-END (\S+) status=(-?\d+)$")


def parse_console(text, nonce):
    """Parse a guest's console log into a Report.

    Raises ReportError when the report is missing, cut short, malformed or
    carries another nonce than expected (a stale log).
    """
    lines = text.replace("\r", "").split("\n")
    start = None
    for i, line in enumerate(lines):
        m = _BEGIN.match(line)
        if m:
            if m.group(1) != nonce:
                raise ReportError("stale report: the guest says nonce %s, expected %s"
                                  % (m.group(1), nonce), text)
            start = i + 1
            break
    if start is None:
        raise ReportError("no guest report in the console log (the guest's /init "
                          "never started)", text)

    sections = {}
    current = None
    body = []
    for line in lines[start:]:
        m = _END.match(line)
        if m and current is None:
            if m.group(1) != nonce:
                raise ReportError("report ends with nonce %s, expected %s"
                                  % (m.group(1), nonce), text)
            if int(m.group(2)) != len(sections):
                raise ReportError("report has %d sections, its end line says %s"
                                  % (len(sections), m.group(2)), text)
            report = Report(nonce, sections, {}, text)
            if "probe" in sections:
                try:
                    report.probe = parse_probe(sections["probe"].lines)
                except ReportError as e:
                    raise ReportError(str(e), text) from None
            return report
        m = _SECTION_BEGIN.match(line)
        if m:
            if current is not None:
                raise ReportError("section %s was cut short (section %s began)"
                                  % (current, m.group(1)), text)
            current = m.group(1)
            body = []
            continue
        m = _SECTION_END.match(line)
        if m:
            if m.group(1) != current:
                raise ReportError("section end %s does not match section %s"
                                  % (m.group(1), current), text)
            if current in sections:
                raise ReportError("section %s appears twice" % current, text)
            sections[current] = Section(current, body, int(m.group(2)))
            current = None
            continue
        if current is not None:
            body.append(line)
        elif line.startswith("@@CLOAK-GUEST-ERROR"):
            raise ReportError("guest error: " + line, text)
    if current is not None:
        raise ReportError("report cut short inside section %s" % current, text)
    raise ReportError("report cut short: no end line after %d sections"
                      % len(sections), text)


# ---- booting ---------------------------------------------------------------

def default_guest_dir():
    return paths.GUEST_DIR


# Console or stderr text that means the kernel was never going to start.
_FATAL = (
    (re.compile(r"No bootable device"),
     "SeaBIOS found no bootable device: QEMU did not load the -kernel "
     "(is qemu-system-data installed, with /usr/share/qemu/linuxboot_dma.bin?)"),
    (re.compile(r"rom: file linuxboot_dma\.bin\s*: error|"
                r"could not load.*linuxboot|linuxboot_dma\.bin.*not found"),
     "QEMU cannot find linuxboot_dma.bin, so -kernel cannot boot "
     "(install qemu-system-data, or pass -L /usr/share/qemu)"),
    (re.compile(r"could not load PC BIOS"),
     "QEMU cannot find its BIOS (install seabios, or pass -L /usr/share/seabios)"),
    (re.compile(r"Kernel panic - not syncing.*"),
     "the guest kernel panicked"),
)


def _tail(text, n=15):
    lines = [l for l in text.replace("\r", "").split("\n") if l.strip()]
    return "\n".join("    " + l for l in lines[-n:])


def _pump(stream, chunks):
    while True:
        data = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
        if not data:
            break
        chunks.append(data)


def _fatal_message(console, stderr):
    for pattern, message in _FATAL:
        for where in (stderr, console):
            m = pattern.search(where)
            if m:
                return "%s: %s" % (message, m.group(0).strip())
    return None


# Signals after which the kernel writes a core file.
_CORE_SIGNALS = (signal.SIGSEGV, signal.SIGABRT, signal.SIGBUS, signal.SIGILL,
                 signal.SIGFPE)


def _allow_core(pid):
    """Let QEMU dump core up to the hard limit, so that a crash in a test
    can be reported with its backtrace (see _crash_report)."""
    try:
        _, hard = resource.prlimit(pid, resource.RLIMIT_CORE)
        resource.prlimit(pid, resource.RLIMIT_CORE, (hard, hard))
    except (OSError, ValueError):
        pass            # exited already, or not allowed: no core, no harm


def _core_path(pid, exe):
    """Where the kernel put PID's core, or a sentence saying why we cannot
    know (a piped core_pattern, such as systemd-coredump's)."""
    try:
        with open("/proc/sys/kernel/core_pattern") as f:
            pattern = f.read().strip()
        with open("/proc/sys/kernel/core_uses_pid") as f:
            uses_pid = f.read().strip() == "1"
    except OSError as e:
        return None, "cannot read core_pattern: %s" % e
    if pattern.startswith("|"):
        return None, "cores go to %s (core_pattern)" % pattern[1:].split()[0]
    names = {"p": str(pid), "P": str(pid), "e": os.path.basename(exe)[:15],
             "%": "%"}
    path = re.sub(r"%(.)", lambda m: names.get(m.group(1), "*"), pattern)
    if uses_pid and "%p" not in pattern:
        path += "." + str(pid)
    if "*" in path:
        return None, "core_pattern %r names more than pid and program" % pattern
    return os.path.abspath(path), None


def _crash_report(proc, exe):
    """A few lines for a QEMU killed by a signal: which one and, when the
    kernel left a core and gdb is installed, the crashing thread's
    backtrace.  The core itself is removed (it holds no guest RAM but is
    still large)."""
    sig = -proc.returncode
    try:
        name = signal.Signals(sig).name
    except ValueError:
        name = "signal %d" % sig
    lines = ["QEMU (pid %d) was killed by %s" % (proc.pid, name)]
    if sig not in _CORE_SIGNALS:
        return "\n".join(lines)
    core, why = _core_path(proc.pid, exe)
    if core is None:
        lines.append("no backtrace: " + why)
    elif not os.path.exists(core):
        lines.append("no backtrace: no core at %s (ulimit -c?)" % core)
    elif not shutil.which("gdb"):
        lines.append("no backtrace: gdb is not installed; core kept at " + core)
    else:
        gdb = subprocess.run(["gdb", "-batch", "-nx", "-ex", "bt 12", exe, core],
                             stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, errors="replace", timeout=120)
        # gdb prints frame #0 once on loading the core, then the backtrace.
        frames = [l for l in gdb.stdout.splitlines() if l.startswith("#")]
        frames = [l for i, l in enumerate(frames) if l not in frames[:i]]
        lines.append("backtrace of the crashing thread (gdb):")
        lines += frames or ["(gdb found no frames: %s)" % gdb.stderr.strip()[-300:]]
        os.unlink(core)
    return "\n".join(lines)


def run_qemu(command, timeout, log_path=None, stall_timeout=None):
    """Run QEMU with the serial console on stdout.

    Returns (console, stderr, returncode, seconds).  Stops early, raising
    BootError, when the console or stderr shows that no kernel will start,
    when timeout seconds pass, or when the console stays silent for
    stall_timeout seconds (if given).
    """
    start = time.monotonic()
    try:
        proc = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except OSError as e:
        raise BootError("cannot run %s: %s" % (command[0], e)) from None
    _allow_core(proc.pid)
    out, err = [], []
    threads = [threading.Thread(target=_pump, args=(proc.stdout, out), daemon=True),
               threading.Thread(target=_pump, args=(proc.stderr, err), daemon=True)]
    for t in threads:
        t.start()

    def text(chunks):
        return b"".join(chunks).decode("latin-1")

    failure = None
    seen, last_output = 0, start
    try:
        while proc.poll() is None:
            now = time.monotonic()
            if len(out) != seen:
                seen, last_output = len(out), now
            fatal = _fatal_message(text(out), text(err))
            if fatal:
                failure = fatal
                break
            if now - start > timeout:
                failure = "the guest did not power off within %d s" % timeout
                break
            if stall_timeout and now - last_output > stall_timeout:
                failure = "the guest console was silent for %d s" % stall_timeout
                break
            time.sleep(0.2)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for t in threads:
            t.join(5)
        proc.stdout.close()
        proc.stderr.close()
        console = text(out)
        if log_path:
            with open(log_path, "w", encoding="latin-1") as f:
                f.write(console)
    seconds = time.monotonic() - start
    stderr = text(err)
    if proc.returncode < 0 and not failure:
        stderr += "\n" + _crash_report(proc, command[0])
    if failure:
        raise BootError("%s\nlast console lines:\n%s%s" % (
            failure, _tail(console),
            ("\nQEMU stderr:\n" + _tail(stderr)) if stderr.strip() else ""), console)
    return console, stderr, proc.returncode, seconds


def qemu_command(qemu, machine, accel, kernel, initrd, append, smp=1,
                 memory=512, extra_args=()):
    return ([qemu] + firmware_args(qemu) + [
        "-machine", machine, "-accel", accel,
        "-m", str(memory), "-smp", str(smp),
        "-display", "none", "-monitor", "none", "-serial", "stdio",
        "-no-reboot",
        "-kernel", kernel, "-initrd", initrd, "-append", append,
    ] + list(extra_args))


def _file_key(path):
    st = os.stat(path)
    return "%s:%d:%d" % (os.path.realpath(path), st.st_size, st.st_mtime_ns)


def _kvm_usable(qemu, kernel, initrd, cache_dir):
    """(bool, reason): can KVM boot this kernel with this binary?

    A short ping boot answers it; the answer is cached per (binary, kernel)
    because a failing probe costs its whole timeout.
    """
    if not os.path.exists("/dev/kvm"):
        return False, "no /dev/kvm"
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        return False, "/dev/kvm is not accessible"
    key = hashlib.sha256(("%s|%s" % (_file_key(qemu), _file_key(kernel))
                          ).encode()).hexdigest()
    cache = os.path.join(cache_dir, "accel-probe.json")
    try:
        with open(cache) as f:
            known = json.load(f)
    except (OSError, ValueError):
        known = {}
    if key in known:
        return known[key]["kvm"], known[key]["reason"] + " (cached)"

    nonce = secrets.token_hex(8)
    append = "console=ttyS0 panic=-1 cloak.ping=1 cloak.nonce=" + nonce
    cmd = qemu_command(qemu, "q35", "kvm", kernel, initrd, append)
    try:
        console, _, _, seconds = run_qemu(cmd, KVM_PROBE_TIMEOUT,
                                          stall_timeout=KVM_PROBE_STALL)
        parse_console(console, nonce)
        ok, reason = True, "a KVM probe boot completed in %.1f s" % seconds
    except GuestError as e:
        ok = False
        reason = "a KVM probe boot failed: %s" % str(e).split("\n")[0]
    known[key] = {"kvm": ok, "reason": reason}
    try:
        tmp = "%s.%d" % (cache, os.getpid())
        with open(tmp, "w") as f:
            json.dump(known, f, indent=1)
        os.replace(tmp, cache)
    except OSError:
        pass
    return ok, reason


def choose_accel(accel, qemu, kernel, initrd, cache_dir):
    """(accel, reason) to use for a requested 'auto', 'kvm' or 'tcg'."""
    if accel in ("tcg", "kvm"):
        return accel, "requested"
    if accel != "auto":
        raise ValueError("accel must be auto, kvm or tcg, not %r" % accel)
    ok, reason = _kvm_usable(qemu, kernel, initrd, cache_dir)
    return ("kvm" if ok else "tcg"), reason


def boot(qemu, machine="q35", accel="auto", extra_args=(), smp=1, memory=512,
         timeout=DEFAULT_TIMEOUT, run=None, run_args=(), guest_dir=None,
         kernel=None, initrd=None, nonce=None, log_path=None, append_extra=""):
    """Boot the test guest; return its Report or raise GuestError.

    run: name of a program in the guest's /bin to run instead of the
    detectors (its output is the section "run:NAME").
    """
    guest_dir = guest_dir or default_guest_dir()
    kernel = kernel or os.path.join(guest_dir, "vmlinuz")
    initrd = initrd or os.path.join(guest_dir, "initrd.img")
    for what, path in (("QEMU binary", qemu), ("guest kernel", kernel),
                       ("guest initramfs", initrd)):
        if not os.path.isfile(path):
            hint = " (run `make guest`)" if what != "QEMU binary" else ""
            raise BootError("%s %s does not exist%s" % (what, path, hint))
    if not os.access(qemu, os.X_OK):
        raise BootError("QEMU binary %s is not executable" % qemu)
    if run is not None and not re.match(r"^[A-Za-z0-9_.+-]+$", run):
        raise ValueError("bad guest program name %r" % run)
    for arg in run_args:
        if not re.match(r"^[^\s,]+$", arg):
            raise ValueError("guest program arguments cannot contain spaces "
                             "or commas: %r" % arg)

    cache_dir = guest_dir if os.access(guest_dir, os.W_OK) else "/tmp"
    used, reason = choose_accel(accel, qemu, kernel, initrd, cache_dir)

    nonce = nonce or secrets.token_hex(8)
    append = "console=ttyS0 panic=-1 cloak.nonce=" + nonce
    if run is not None:
        append += " cloak.run=" + run
        if run_args:
            append += " cloak.args=" + ",".join(run_args)
    if append_extra:
        append += " " + append_extra
    cmd = qemu_command(qemu, machine, used, kernel, initrd, append, smp, memory,
                       extra_args)
    try:
        console, stderr, rc, seconds = run_qemu(cmd, timeout, log_path)
    except BootError as e:
        raise BootError("boot under %s (%s) failed: %s" % (used, reason, e),
                        e.console) from None
    try:
        report = parse_console(console, nonce)
    except ReportError as e:
        fatal = _fatal_message(console, stderr)
        if fatal:
            raise BootError("boot under %s failed: %s\nlast console lines:\n%s"
                            % (used, fatal, _tail(console)), console) from None
        detail = "\nlast console lines:\n" + _tail(console)
        if stderr.strip():
            detail += "\nQEMU stderr:\n" + _tail(stderr)
        if rc:
            raise BootError("QEMU exited with status %d (accel %s): %s%s"
                            % (rc, used, e, detail), console) from None
        raise ReportError("%s (accel %s)%s" % (e, used, detail), console) from None
    if rc != 0:
        raise BootError("QEMU exited with status %d after a complete report:\n%s"
                        % (rc, _tail(stderr)), console)
    report.accel = used
    report.accel_reason = reason
    report.machine = machine
    report.command = " ".join(shlex.quote(c) for c in cmd)
    report.boot_seconds = round(seconds, 2)
    if run is None:
        missing = [d for d in DETECTORS if d not in report.sections]
        if missing:
            raise ReportError("the report lacks sections: " + ", ".join(missing),
                              console)
    return report
