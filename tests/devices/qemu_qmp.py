"""Start QEMU with a QMP socket and talk to it; enough for the device tests.

    with QemuQmp(qemu, ["-device", "ide-cd,id=cd0"]) as vm:
        vm.qom_get("/machine/peripheral/cd0", "vendor")
"""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time

FIRMWARE_DIRS = ("/usr/share/seabios", "/usr/lib/ipxe/qemu", "/usr/share/qemu")


def firmware_args():
    args = []
    for d in FIRMWARE_DIRS:
        if os.path.isdir(d):
            args += ["-L", d]
    return args


def base_args(machine="q35"):
    return firmware_args() + ["-machine", machine, "-accel", "tcg",
                              "-display", "none", "-monitor", "none",
                              "-serial", "none", "-nic", "none"]


_has_cloak = {}


def has_cloak_option(qemu):
    """Whether qemu has -cloak (qemu-cloak with the cloak code merged)."""
    if qemu not in _has_cloak:
        proc = subprocess.run([qemu, "-cloak", "help"],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, timeout=30)
        _has_cloak[qemu] = proc.returncode == 0
    return _has_cloak[qemu]


def require_cloak(qemu):
    """Fails, never skips, when qemu is not a qemu-cloak build."""
    if not has_cloak_option(qemu):
        raise AssertionError("%s has no -cloak option: not a qemu-cloak "
                             "build" % qemu)


def stock_args(qemu):
    """Arguments for QEMU's own identities: -cloak off where it exists."""
    return ["-cloak", "off"] if has_cloak_option(qemu) else []


def run_qemu_expect_failure(qemu, args, timeout=30):
    """Run QEMU that should refuse args; return (exit status, stderr)."""
    proc = subprocess.run([qemu] + base_args() + ["-S"] + list(args),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, text=True)
    return proc.returncode, proc.stderr


class QmpError(Exception):
    pass


class QemuQmp:
    def __init__(self, qemu, args, machine="q35", paused=True, timeout=30):
        self.qemu = qemu
        self.args = list(args)
        self.machine = machine
        self.paused = paused
        self.timeout = timeout
        self.proc = None
        self.sock = None
        self.tmpdir = None
        self.buf = b""

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self):
        self.tmpdir = tempfile.mkdtemp(prefix="cloak-devices-")
        path = os.path.join(self.tmpdir, "qmp.sock")
        cmd = [self.qemu] + base_args(self.machine) + [
            "-chardev", "socket,id=qmp,path=%s,server=on,wait=off" % path,
            "-mon", "chardev=qmp,mode=control",
        ] + (["-S"] if self.paused else []) + self.args
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + self.timeout
        while True:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read()
                self.sock = None
                raise QmpError("QEMU exited with status %d: %s"
                               % (self.proc.returncode, err.strip()))
            try:
                self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                self.sock.connect(path)
                break
            except OSError:
                self.sock.close()
                self.sock = None
                if time.monotonic() > deadline:
                    raise QmpError("QEMU did not open its QMP socket")
                time.sleep(0.05)
        self.sock.settimeout(self.timeout)
        self._read_message()            # greeting
        self.command("qmp_capabilities")

    def stop(self):
        if self.sock:
            try:
                self.command("quit")
            except (QmpError, OSError):
                pass
            self.sock.close()
            self.sock = None
        if self.proc:
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc.stdout.close()
            self.proc.stderr.close()
            self.proc = None
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None

    def _read_message(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise QmpError("QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def command(self, name, **arguments):
        msg = {"execute": name}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read_message()
            if "event" in reply:
                continue
            if "error" in reply:
                raise QmpError("%s: %s" % (name, reply["error"]["desc"]))
            return reply["return"]

    def qom_get(self, path, prop):
        return self.command("qom-get", path=path, property=prop)

    def hmp(self, line):
        return self.command("human-monitor-command", **{"command-line": line})
