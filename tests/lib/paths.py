"""Where the tests find what they test: one place for every path.

Each value comes from the environment the Makefile exports (QEMU_BIN,
QEMU_IMG, BUILD_DIR, TOOLS_DIR, GUEST_DIR), else from the tree's default
layout, so a test run by hand from the top of the tree finds the same
files as `make check`.
"""

import os

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.environ.get("BUILD_DIR") or os.path.join(TOP, "build")
QEMU_BIN = os.environ.get("QEMU_BIN") or os.path.join(
    BUILD_DIR, "qemu-build", "qemu-system-x86_64")
QEMU_IMG = os.environ.get("QEMU_IMG") or os.path.join(
    BUILD_DIR, "qemu-build", "qemu-img")
TOOLS_DIR = os.environ.get("TOOLS_DIR") or os.path.join(BUILD_DIR, "tools")
GUEST_DIR = os.environ.get("GUEST_DIR") or os.path.join(BUILD_DIR, "guest")
PROFILE_DIR = os.path.join(TOP, "hw-cloak", "profiles")
PROFILES = sorted(f[:-5] for f in os.listdir(PROFILE_DIR) if f.endswith(".conf"))
PROFILE_CHECK = os.environ.get("CLOAK_PROFILE_CHECK") or os.path.join(
    TOOLS_DIR, "cloak-profile-check")
READER = os.path.join(TOOLS_DIR, "cloak-trace")
# The test guest's kernel, and the .debs tests/guest/build-guest.sh made it
# from (its cache: $QEMU_CLOAK_CACHE/guest-debs, ~/.cache/qemu-cloak/...).
GUEST_VMLINUZ = os.path.join(GUEST_DIR, "vmlinuz")
GUEST_DEB_CACHE = os.path.join(
    os.environ.get("QEMU_CLOAK_CACHE") or os.path.join(
        os.path.expanduser("~"), ".cache", "qemu-cloak"), "guest-debs")


def profile_path(name):
    """The shipped profile NAME's file."""
    return os.path.join(PROFILE_DIR, name + ".conf")

# Debian's firmware packages: SeaBIOS, iPXE and QEMU's own data files
# (seabios, ipxe-qemu, qemu-system-data).  An installed qemu-cloak finds
# them itself; a binary in its build tree needs them given with -L.
FIRMWARE_DIRS = ("/usr/share/seabios", "/usr/lib/ipxe/qemu", "/usr/share/qemu")


def is_build_tree_binary(qemu):
    """True for a qemu binary run from its build directory (not installed)."""
    d = os.path.dirname(os.path.realpath(qemu))
    return (os.path.exists(os.path.join(d, "build.ninja"))
            or os.path.isdir(os.path.join(d, "qemu-bundle")))


def firmware_args(qemu=None):
    """-L for each firmware directory present; none for an installed
    binary (when @qemu is given), which must find its firmware alone."""
    if qemu is not None and not is_build_tree_binary(qemu):
        return []
    args = []
    for d in FIRMWARE_DIRS:
        if os.path.isdir(d):
            args += ["-L", d]
    return args
