"""The tests' one QMP client and one QEMU-with-QMP launcher.

    client = QmpClient(socket_path)          # a QEMU started elsewhere
    client.command("qom-get", path="/machine", property="smbios-vm")

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

from tests.lib import paths


class QmpError(Exception):
    pass


class QmpClient:
    """QMP on a unix socket (a path, or a connected socket): greeting and
    capabilities done.  A QEMU whose main loop is stuck times out
    (socket.timeout)."""

    def __init__(self, path_or_sock, timeout=20):
        if isinstance(path_or_sock, socket.socket):
            self.sock = path_or_sock
        else:
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self.sock.settimeout(timeout)
            self.sock.connect(path_or_sock)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.greeting = self._read_message()
        self.command("qmp_capabilities")

    def _read_message(self):
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise QmpError("QMP connection closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **arguments):
        """Runs one command; returns its whole reply, {"return": ...} or
        {"error": ...} (events are skipped)."""
        msg = {"execute": name}
        if arguments:
            msg["arguments"] = arguments
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            reply = self._read_message()
            if "return" in reply or "error" in reply:
                return reply

    def command(self, name, **arguments):
        """Runs one command; returns its result, raises QmpError on error."""
        reply = self.cmd(name, **arguments)
        if "error" in reply:
            raise QmpError("%s: %s" % (name, reply["error"]["desc"]))
        return reply["return"]

    def qom_get(self, path, prop):
        return self.command("qom-get", path=path, property=prop)

    def hmp(self, line):
        return self.command("human-monitor-command", **{"command-line": line})

    def close(self):
        if self.sock:
            self.sock.close()
            self.sock = None


def device_test_args(machine="q35"):
    """What the device tests start QEMU with besides their own options."""
    return paths.firmware_args() + [
        "-machine", machine, "-accel", "tcg", "-display", "none",
        "-serial", "none", "-nic", "none"]


class QemuQmp(QmpClient):
    """QEMU started with a QMP socket (paused unless told otherwise), for
    tests that need no guest.  With defaults=True it also gets
    device_test_args(machine); with defaults=False only the firmware
    directories, no display and QMP, so @args says everything else."""

    def __init__(self, qemu, args, machine="q35", paused=True, timeout=30,
                 defaults=True):
        self.qemu = qemu
        self.args = list(args)
        self.machine = machine
        self.paused = paused
        self.timeout = timeout
        self.defaults = defaults
        self.proc = None
        self.sock = None
        self.tmpdir = None
        self.buf = b""
        self.stderr = ""
        self.errfile = None

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
        self.tmpdir = tempfile.mkdtemp(prefix="cloak-qmp-")
        path = os.path.join(self.tmpdir, "qmp.sock")
        base = (device_test_args(self.machine) if self.defaults
                else paths.firmware_args() + ["-display", "none"])
        cmd = [self.qemu] + base + [
            "-monitor", "none",
            "-chardev", "socket,id=qmp,path=%s,server=on,wait=off" % path,
            "-mon", "chardev=qmp,mode=control",
        ] + (["-S"] if self.paused else []) + self.args
        # stderr goes to a file: a pipe nobody reads while QEMU runs could
        # fill up and stall a chatty QEMU.
        self.errfile = open(os.path.join(self.tmpdir, "stderr"), "w+")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL,
                                     stderr=self.errfile, text=True)
        deadline = time.monotonic() + self.timeout
        while True:
            if self.proc.poll() is not None:
                self.stderr = self._read_stderr()
                raise QmpError("QEMU exited with status %d: %s"
                               % (self.proc.returncode, self.stderr.strip()))
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
                break
            except OSError:
                sock.close()
                if time.monotonic() > deadline:
                    raise QmpError("QEMU did not open its QMP socket")
                time.sleep(0.05)
        QmpClient.__init__(self, sock, self.timeout)

    def _read_stderr(self):
        self.errfile.seek(0)
        return self.errfile.read()

    def stop(self):
        """Quits QEMU; returns its exit status (None if it never ran)."""
        if self.sock:
            try:
                self.command("quit")
            except (QmpError, OSError):
                pass
            QmpClient.close(self)
        rc = None
        if self.proc:
            try:
                rc = self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                rc = self.proc.wait()
            self.stderr = self._read_stderr()
            self.proc = None
        if self.errfile:
            self.errfile.close()
            self.errfile = None
        if self.tmpdir:
            shutil.rmtree(self.tmpdir, ignore_errors=True)
            self.tmpdir = None
        return rc
