"""Shared helpers for the layered-image tests: paths, cloak-image runs, and a
QEMU process that holds a disk open and writes to it through HMP qemu-io."""

import hashlib
import json
import os
import socket
import subprocess
import tempfile
import time

TOP_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLOAK_IMAGE = os.path.join(TOP_DIR, "tools", "cloak-image")
PYTHON = "/usr/bin/python3"
BUILD_DIR = os.environ.get("BUILD_DIR", os.path.join(TOP_DIR, "build"))
QEMU_BIN = os.environ.get("QEMU_BIN", os.path.join(BUILD_DIR, "qemu-build", "qemu-system-x86_64"))
QEMU_IMG = os.environ.get("QEMU_IMG", os.path.join(BUILD_DIR, "qemu-build", "qemu-img"))


def need_binaries(testcase):
    for p in (QEMU_BIN, QEMU_IMG):
        if not os.access(p, os.X_OK):
            testcase.fail("%s is missing: build first (make build)" % p)


def cloak_image(*args, check=None):
    """Runs tools/cloak-image; returns the CompletedProcess.

    check=None: no check; otherwise the exit status it must have.
    """
    env = dict(os.environ, QEMU_IMG=QEMU_IMG)
    proc = subprocess.run([PYTHON, CLOAK_IMAGE] + [str(a) for a in args], env=env,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if check is not None and proc.returncode != check:
        raise AssertionError("cloak-image %s: exit %d, expected %d\nstdout: %s\nstderr: %s"
                             % (" ".join(map(str, args)), proc.returncode, check,
                                proc.stdout, proc.stderr))
    return proc


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checksums(paths):
    return {p: sha256(p) for p in paths}


def img_info(path):
    out = subprocess.run([QEMU_IMG, "info", "-U", "--output=json", path], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return json.loads(out)


def allocated_in_top(path):
    """Bytes of guest data stored in this layer itself (not its backing)."""
    out = subprocess.run([QEMU_IMG, "map", "-U", "--output=json", path], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return sum(e["length"] for e in json.loads(out) if e.get("depth") == 0 and e["data"])


class DiskHolder:
    """qemu-system-x86_64 with no guest (-machine none) and one disk open for
    writing, driven through QMP: the way a running VM holds its top layer."""

    def __init__(self, disk):
        self.dir = tempfile.mkdtemp(prefix="cloak-image-holder-")
        self.sock_path = os.path.join(self.dir, "qmp.sock")
        self.proc = subprocess.Popen(
            [QEMU_BIN, "-machine", "none", "-nodefaults", "-display", "none",
             "-blockdev", "driver=qcow2,node-name=disk0,file.driver=file,file.filename=%s" % disk,
             "-qmp", "unix:%s,server=on,wait=off" % self.sock_path],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not os.path.exists(self.sock_path):
            if self.proc.poll() is not None:
                raise AssertionError("QEMU exited: %s" % self.proc.stderr.read().decode())
            if time.monotonic() > deadline:
                raise AssertionError("QEMU QMP socket did not appear")
            time.sleep(0.05)
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(self.sock_path)
        self.rfile = self.sock.makefile("r")
        json.loads(self.rfile.readline())          # greeting
        self.qmp("qmp_capabilities")

    def qmp(self, cmd, **arguments):
        self.sock.sendall(json.dumps({"execute": cmd, "arguments": arguments}).encode() + b"\n")
        while True:
            msg = json.loads(self.rfile.readline())
            if "event" in msg:
                continue
            if "error" in msg:
                raise AssertionError("QMP %s: %s" % (cmd, msg["error"]))
            return msg["return"]

    def qemu_io(self, command):
        out = self.qmp("human-monitor-command",
                       **{"command-line": 'qemu-io disk0 "%s"' % command})
        if "error" in out.lower() or "failed" in out.lower():
            raise AssertionError("qemu-io %s: %s" % (command, out))
        return out

    def close(self):
        if self.proc.poll() is None:
            try:
                self.qmp("quit")
            except (OSError, ValueError, AssertionError):
                pass
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.sock.close()
        self.rfile.close()
        self.proc.stderr.close()
        for f in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, f))
        os.rmdir(self.dir)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
