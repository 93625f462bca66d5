"""Shared helpers for the layered-image tests: paths, cloak-image runs, and a
QEMU process that holds a disk open and writes to it through HMP qemu-io."""

import hashlib
import json
import os
import subprocess

from tests.lib.paths import QEMU_BIN, QEMU_IMG, TOP as TOP_DIR
from tests.lib.qmp import QemuQmp

CLOAK_IMAGE = os.path.join(TOP_DIR, "tools", "cloak-image")
PYTHON = "/usr/bin/python3"


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


class DiskHolder(QemuQmp):
    """qemu-system-x86_64 with no guest (-machine none) and one disk open for
    writing, driven through QMP: the way a running VM holds its top layer."""

    def __init__(self, disk):
        super().__init__(QEMU_BIN, [
            "-machine", "none", "-nodefaults",
            "-blockdev", "driver=qcow2,node-name=disk0,file.driver=file,"
            "file.filename=%s" % disk], paused=False, defaults=False)
        self.start()

    def __enter__(self):
        return self             # started by __init__, as callers expect

    def qemu_io(self, command):
        out = self.hmp('qemu-io disk0 "%s"' % command)
        if "error" in out.lower() or "failed" in out.lower():
            raise AssertionError("qemu-io %s: %s" % (command, out))
        return out

    def close(self):
        self.stop()
