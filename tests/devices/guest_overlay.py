"""An initramfs for the device tests: the test guest plus /bin/cloak-devices.

Linux unpacks concatenated cpio archives in order, so appending a small
gzip'd newc archive to the guest's initrd.img adds files without touching
the guest build.  The added program runs through the guest's cloak.run=.
"""

import gzip
import io
import os

HERE = os.path.dirname(os.path.abspath(__file__))
PROGRAM = "cloak-devices"


def _newc_entry(name, mode, data=b""):
    name_bytes = name.encode() + b"\0"
    header = "070701" + "".join("%08X" % v for v in (
        0,              # inode
        mode,
        0, 0,           # uid, gid
        1,              # nlink
        0,              # mtime (fixed: reproducible archive)
        len(data),
        0, 0, 0, 0,     # dev major/minor, rdev major/minor
        len(name_bytes),
        0,              # check
    ))
    out = header.encode() + name_bytes
    out += b"\0" * (-len(out) % 4)
    out += data
    out += b"\0" * (-len(out) % 4)
    return out


def overlay_cpio(files):
    """A newc archive of files: a list of (path, mode, bytes)."""
    buf = io.BytesIO()
    for path, mode, data in files:
        buf.write(_newc_entry(path, mode, data))
    buf.write(_newc_entry("TRAILER!!!", 0))
    return buf.getvalue()


def build_initrd(guest_initrd, out_path):
    """Write guest_initrd followed by the overlay to out_path; return it."""
    with open(os.path.join(HERE, PROGRAM), "rb") as f:
        program = f.read()
    overlay = overlay_cpio([
        ("bin", 0o040755, b""),
        ("bin/" + PROGRAM, 0o100755, program),
    ])
    with open(guest_initrd, "rb") as f:
        base = f.read()
    tmp = out_path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(base)
        f.write(gzip.compress(overlay, mtime=0))
    os.replace(tmp, out_path)
    return out_path
