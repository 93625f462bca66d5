"""Small facts about a QEMU binary that several test areas ask."""

import subprocess

from tests.lib.qmp import device_test_args

_has_cloak = {}


def has_cloak_option(qemu):
    """Whether qemu has -cloak (a qemu-cloak build)."""
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
    proc = subprocess.run([qemu] + device_test_args() + ["-monitor", "none",
                                                         "-S"] + list(args),
                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, text=True)
    return proc.returncode, proc.stderr
