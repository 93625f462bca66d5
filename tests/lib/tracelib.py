"""Helpers for the cloak-trace tests: boot the test guest under TCG with
-object cloak-trace, run the cloak-trace reader, parse its JSON Lines."""

import json
import os
import subprocess
import tempfile
import time

from tests.lib.paths import BUILD_DIR, GUEST_DIR, GUEST_VMLINUZ, QEMU_BIN, \
    READER, firmware_args
FIRMWARE = firmware_args()

# Linux x86-64 numbers the tests refer to (from the kernel's table).
NR = {"write": 1, "open": 2, "mmap": 9, "getpid": 39, "execve": 59,
      "openat": 257}


def require_built(testcase, guest=True, qemu=True):
    """Fails naming what is missing: the reader, and QEMU and the guest
    unless the test needs neither (the reader's own tests)."""
    for path in [READER] + ([QEMU_BIN] if qemu else []) + (
            [GUEST_VMLINUZ,
             os.path.join(GUEST_DIR, "initrd.img")] if guest else []):
        if not os.path.exists(path):
            testcase.fail("%s is missing: run 'make build guest' first" % path)


def qemu_cmd(ring, smp=1, run=None, args=None, trace_opts="", nonce="trace",
             console=None, extra=(), kernel_args=""):
    append = "console=ttyS0 quiet cloak.nonce=%s" % nonce
    if kernel_args:
        append += " " + kernel_args
    if run:
        append += " cloak.run=%s" % run
    if args:
        append += " cloak.args=%s" % ",".join(str(a) for a in args)
    cmd = [QEMU_BIN] + FIRMWARE + [
        "-machine", "q35", "-accel", "tcg", "-smp", str(smp), "-m", "512",
        "-display", "none", "-nodefaults", "-no-reboot",
        "-serial", "file:%s" % console,
        "-kernel", GUEST_VMLINUZ,
        "-initrd", os.path.join(GUEST_DIR, "initrd.img"),
        "-append", append]
    if ring:
        cmd += ["-object", "cloak-trace,id=trace0,path=%s%s" % (ring, trace_opts)]
    return cmd + list(extra)


class Guest:
    """One guest boot; use as a context manager to clean up its files."""

    def __init__(self, smp=1, run=None, args=None, trace_opts="", traced=True,
                 extra=(), kernel_args=""):
        self.dir = tempfile.mkdtemp(
            prefix="cloak-trace-test.",
            dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        self.ring = os.path.join(self.dir, "guest.ring") if traced else None
        self.console = os.path.join(self.dir, "console.log")
        self.cmd = qemu_cmd(self.ring, smp, run, args, trace_opts,
                            console=self.console, extra=extra,
                            kernel_args=kernel_args)
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        return self

    def wait(self, timeout=600):
        out, _ = self.proc.communicate(timeout=timeout)
        self.qemu_output = out.decode(errors="replace")
        return self.proc.returncode

    def run(self, timeout=600):
        self.start()
        return self.wait(timeout)

    def console_text(self):
        with open(self.console, errors="replace") as f:
            return f.read()

    def wait_for_ring(self, timeout=60):
        end = time.monotonic() + timeout
        while not os.path.exists(self.ring):
            if time.monotonic() > end or self.proc.poll() is not None:
                raise AssertionError("QEMU did not create %s" % self.ring)
            time.sleep(0.05)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for name in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, name))
        os.rmdir(self.dir)


def read_ring(path, *opts, check=True):
    """Runs cloak-trace on a ring; returns (events, summary, stderr)."""
    p = subprocess.run([READER, "--summary"] + list(opts) + [path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=600)
    err = p.stderr.decode(errors="replace")
    if check and p.returncode != 0:
        raise AssertionError("cloak-trace failed (%d): %s" % (p.returncode, err))
    events = [json.loads(l) for l in p.stdout.decode().splitlines() if l]
    summary = None
    for line in err.splitlines():
        if line.startswith("{"):
            summary = json.loads(line)
    return events, summary, err


# Byte offsets the tests read in a ring file (trace-plugins/cloak-trace-abi.h):
# struct cloak_trace_header's ring_ctl_offset and state, and
# struct cloak_trace_ring_ctl's size and records.
HEADER_RING_CTL_OFFSET = 40
HEADER_STATE = 96
CTL_SIZE, CTL_RECORDS = 128, 24


def _read_u(path, offset, size):
    with open(path, "rb") as f:
        f.seek(offset)
        return int.from_bytes(f.read(size), "little")


def ring_state(path):
    """The header's CLOAK_TRACE_STATE_* (1 running, 2 stopped, 3 closed)."""
    return _read_u(path, HEADER_STATE, 4)


def ring_records(path, vcpu=0):
    """Records the producer has written to vCPU's ring so far (its own
    counter in the file, whether or not a reader took them)."""
    ctl = _read_u(path, HEADER_RING_CTL_OFFSET, 8)
    return _read_u(path, ctl + vcpu * CTL_SIZE + CTL_RECORDS, 8)


HEADER_RING_SIZE, HEADER_DATA_OFFSET = 32, 48
REC_PAD, REC_ENTER, RF_RETURNED = 1, 3, 1 << 1


def entries_by_return(path, vcpu=0):
    """(entries that carry their return, entries alone) in vCPU's ring,
    from its first byte to head: a ring that never wrapped still holds
    every record a reader has already taken."""
    ring_size = _read_u(path, HEADER_RING_SIZE, 8)
    ctl = _read_u(path, HEADER_RING_CTL_OFFSET, 8)
    head = _read_u(path, ctl + vcpu * CTL_SIZE, 8)
    if head > ring_size:
        raise ValueError("%s: ring %d wrapped; use a larger ring" %
                         (path, vcpu))
    with open(path, "rb") as f:
        f.seek(_read_u(path, HEADER_DATA_OFFSET, 8) + vcpu * ring_size)
        data = f.read(head)
    returned = alone = off = 0
    while off + 8 <= len(data):
        size = int.from_bytes(data[off:off + 4], "little")
        rtype = int.from_bytes(data[off + 4:off + 6], "little")
        flags = int.from_bytes(data[off + 6:off + 8], "little")
        if size < 8 or rtype == REC_PAD:
            break
        if rtype == REC_ENTER:
            if flags & RF_RETURNED:
                returned += 1
            else:
                alone += 1
        off += size
    return returned, alone


def guest_os_profile():
    """The OS profile of the test guest's kernel, made by `cloak-trace
    profile` from its vmlinuz; kept under build/trace-tests and made again
    when the kernel is newer."""
    out = os.path.join(BUILD_DIR, "trace-tests", "guest.os-profile")
    if (not os.path.exists(out) or
            os.path.getmtime(out) < os.path.getmtime(GUEST_VMLINUZ) or
            os.path.getmtime(out) < os.path.getmtime(READER)):
        os.makedirs(os.path.dirname(out), exist_ok=True)
        subprocess.run([READER, "profile", "-o", out, GUEST_VMLINUZ],
                       check=True, timeout=300)
    return out


def cr3_page(value):
    return int(value, 16) & ~0xfff


def run_with_reader(guest, timeout=900):
    """Starts `guest`, follows its ring with a live reader (no output, a
    summary) until QEMU ends; returns (QEMU's exit status, the reader's
    exit status, its summary dict or None, seconds)."""
    start = time.monotonic()
    guest.start()
    guest.wait_for_ring()
    reader = subprocess.Popen([READER, "-f", "-o", "none", "--summary",
                               guest.ring], stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE)
    rc = guest.wait(timeout=timeout)
    _, err = reader.communicate(timeout=120)
    summary = None
    for line in err.decode(errors="replace").splitlines():
        if line.startswith("{"):
            summary = json.loads(line)
    return rc, reader.returncode, summary, time.monotonic() - start
