"""cloak-trace profile: OS profiles made from a guest kernel's BTF.

SyntheticTest and its neighbours build small kernels here (raw BTF, an
x86-64 ELF with a .BTF section and a banner, bzImages compressed each way,
Debian packages) whose offsets are known by construction, so they run on
any host.  DebianKernelTest checks the profile of the test guest's real
kernel (build/guest/vmlinuz, and the .deb it came from) against what
bpftool, an independent BTF reader, says; it is skipped, saying why, where
the guest was never built.  ProfileCheckTest covers the parser through
`cloak-trace profile --check`.  No QEMU is needed.
"""

import bz2
import configparser
import glob
import gzip
import lzma
import os
import re
import shutil
import struct
import subprocess
import tempfile
import unittest

from tests.lib.paths import GUEST_DEB_CACHE, GUEST_VMLINUZ, READER, TOP

CORPUS = os.path.join(TOP, "tests", "trace", "os-profile-corpus")


def profile_table():
    """{"struct.member": size} from the key table in os-profile.h, the one
    QEMU and cloak-trace are built from."""
    with open(os.path.join(TOP, "trace-plugins", "os-profile.h")) as f:
        rows = re.findall(r'F\(\w+, "(\w+)", "(\w+)", (\d+)\)', f.read())
    assert rows, "no key table found in os-profile.h"
    return {s + "." + m: int(size) for s, m, size in rows}


SIZES = profile_table()
KEYS = tuple(SIZES)
PREFIX = "cloak-trace profile: "


def run_profile(*args):
    return subprocess.run([READER, "profile"] + [str(a) for a in args],
                          capture_output=True, text=True, timeout=120)


def parse_profile(text):
    """(release, version, {key: offset}) of a profile's text."""
    cp = configparser.ConfigParser(interpolation=None)
    cp.read_string(text)
    return (cp["kernel"]["release"], cp["kernel"]["version"],
            {k: int(v, 0) for k, v in cp["offsets"].items()})


# ---- synthetic kernels -----------------------------------------------------

class Btf:
    """A raw BTF blob, type by type (include/uapi/linux/btf.h)."""

    INT, PTR, ARRAY, STRUCT, UNION, FWD, TYPEDEF, VAR, DATASEC = \
        1, 2, 3, 4, 5, 7, 8, 14, 15

    def __init__(self):
        self.strs = b"\0"
        self.types = []

    def _name(self, name):
        if not name:
            return 0
        off = len(self.strs)
        self.strs += name.encode() + b"\0"
        return off

    def reserve(self):
        self.types.append(None)
        return len(self.types)

    def add(self, kind, name, vlen, size_or_type, extra=b"", kflag=0, at=None):
        t = struct.pack("<III", self._name(name),
                        kind << 24 | vlen | kflag << 31, size_or_type) + extra
        if at:
            self.types[at - 1] = t
            return at
        self.types.append(t)
        return len(self.types)

    def int(self, name, size, signed=True):
        enc = (1 if signed else 0) << 24 | size * 8
        return self.add(self.INT, name, 0, size, struct.pack("<I", enc))

    def ptr(self, target):
        return self.add(self.PTR, "", 0, target)

    def array(self, elem, n, index):
        return self.add(self.ARRAY, "", 0, 0,
                        struct.pack("<III", elem, index, n))

    def composite(self, name, size, members, union=False, kflag=0, at=None):
        """members: (name, type, bit offset[, bitfield size])."""
        body = b""
        for m in members:
            off = m[2] | (m[3] << 24 if len(m) > 3 else 0)
            body += struct.pack("<III", self._name(m[0]), m[1], off)
        return self.add(self.UNION if union else self.STRUCT, name,
                        len(members), size, body, kflag=kflag, at=at)

    def fwd(self, name):
        return self.add(self.FWD, name, 0, 0)

    def typedef(self, name, target):
        return self.add(self.TYPEDEF, name, 0, target)

    def var(self, name, target):
        return self.add(self.VAR, name, 0, target, struct.pack("<I", 1))

    def datasec(self, name, size, entries):
        body = b"".join(struct.pack("<III", *e) for e in entries)
        return self.add(self.DATASEC, name, len(entries), size, body)

    def blob(self):
        types = b"".join(self.types)
        return struct.pack("<HBBIIIII", 0xeB9F, 1, 0, 24, 0, len(types),
                           len(types), len(self.strs)) + types + self.strs


def fake_btf(percpu="var", pid_bitfield=False, comm_len=16, drop=None,
             long_size=8):
    """A kernel's BTF with every struct a profile reads, and the offsets
    it holds.  percpu: "var" (current_task, Linux < 6.2), "hot"
    (pcpu_hot.current_task) or "none"; drop: a "struct" or
    "struct.member" left out."""
    b = Btf()
    lng = b.int("long int", long_size)
    i32 = b.int("int", 4)
    u32 = b.int("unsigned int", 4, signed=False)
    char = b.int("char", 1, signed=False)
    pid_t = b.typedef("pid_t", i32)
    task = b.reserve()
    ptask = b.ptr(task)
    pmm = b.ptr(b.fwd("mm_struct"))
    c16 = b.array(char, comm_len, u32)
    c65 = b.array(char, 65, u32)

    def keep(members, struct_name):
        return [m for m in members if drop != struct_name + "." + m[0]]

    uts = keep([(n, c65, i * 65 * 8) for i, n in enumerate(
        ("sysname", "nodename", "release", "version", "machine",
         "domainname"))], "new_utsname")
    new_utsname = b.composite("" if drop == "new_utsname" else "new_utsname",
                              390, uts)
    uts_ns = b.composite("uts_namespace", 400, keep(
        [("ns_count", i32, 0), ("name", new_utsname, 32)], "uts_namespace"))
    nsproxy = b.composite("nsproxy", 72, keep(
        [("count", i32, 0), ("uts_ns", b.ptr(uts_ns), 64)], "nsproxy"))
    # pid and tgid two anonymous levels down, as C allows.
    if pid_bitfield:
        ids = b.composite("", 8, [("pid", pid_t, 0, 31), ("tgid", pid_t, 32)],
                          kflag=1)
    else:
        ids = b.composite("", 8, [("pid", pid_t, 0), ("tgid", pid_t, 32)])
    both = b.composite("", 8, [("", ids, 0), ("pid_pair", lng, 0)],
                       union=True)
    b.composite("task_struct", 4096, keep([
        ("thread_info", lng, 0), ("__state", u32, 64), ("", both, 128),
        ("real_parent", ptask, 192), ("comm", c16, 256), ("mm", pmm, 384),
        ("nsproxy", b.ptr(nsproxy), 448)], "task_struct"), at=task)
    offsets = {"task_struct.pid": 16, "task_struct.tgid": 20,
               "task_struct.real_parent": 24, "task_struct.comm": 32,
               "task_struct.mm": 48, "task_struct.nsproxy": 56,
               "nsproxy.uts_ns": 8, "uts_namespace.name": 4,
               "new_utsname.release": 130, "new_utsname.version": 195}
    cpu = b.var("cpu_number", i32)
    if percpu == "var":
        cur = b.var("current_task", ptask)
        b.datasec(".data..percpu", 0x20000,
                  [(cpu, 0x10, 4), (cur, 0x1fb80, 8)])
        offsets["percpu.current_task"] = 0x1fb80
    elif percpu == "hot":
        inner = b.composite("", 16, [("current_task", ptask, 0),
                                     ("preempt_count", i32, 64)])
        pad = b.array(char, 64, u32)
        un = b.composite("", 64, [("", inner, 0), ("pad", pad, 0)],
                         union=True)
        hot = b.composite("pcpu_hot", 72, [("irq_count", lng, 0),
                                           ("", un, 64)])
        b.datasec(".data..percpu", 0x20000,
                  [(cpu, 0x10, 4), (b.var("pcpu_hot", hot), 0x1f000, 72)])
        offsets["percpu.current_task"] = 0x1f008
    else:
        b.datasec(".data..percpu", 0x20000, [(cpu, 0x10, 4)])
    return b.blob(), offsets


FAKE_RELEASE = "6.9.0-7-fake"
FAKE_VERSION = "#7 SMP PREEMPT_DYNAMIC Fake 6.9.0-7 (2026-01-02)"
# As in Linux 6.1: a stale banner without the build number comes first.
FAKE_BANNERS = (
    b"\0\0Linux version %s (builder@host) (gcc (Fake 12.2.0-14) 12.2.0, GNU "
    b"ld (GNU Binutils) 2.40) # SMP PREEMPT_DYNAMIC Fake 6.9.0-7 "
    b"(2026-01-02)\n\0padding\0"
    b"Linux version %s (builder@host) (gcc (Fake 12.2.0-14) 12.2.0, GNU ld "
    b"(GNU Binutils) 2.40) %s\n\0" % (FAKE_RELEASE.encode(),
                                      FAKE_RELEASE.encode(),
                                      FAKE_VERSION.encode()))


def elf_file(sections, machine=62):
    """A 64-bit little-endian ELF with these (name, bytes) sections."""
    names = b"\0"
    offs = []
    for name, _ in list(sections) + [(".shstrtab", None)]:
        offs.append(len(names))
        names += name.encode() + b"\0"
    body = b""
    places = []
    for _, data in list(sections) + [(".shstrtab", names)]:
        places.append((64 + len(body), len(data)))
        body += data + b"\0" * (-len(data) % 8)
    shoff = 64 + len(body)
    shnum = len(sections) + 2
    ehdr = struct.pack("<4sBBBB8xHHIQQQIHHHHHH", b"\x7fELF", 2, 1, 1, 0,
                       2, machine, 1, 0, 0, shoff, 0, 64, 0, 0, 64, shnum,
                       shnum - 1)
    shdrs = bytes(64)
    for i, (off, size) in enumerate(places):
        strtab = i == len(places) - 1
        shdrs += struct.pack("<IIQQQQIIQQ", offs[i], 3 if strtab else 1,
                             0 if strtab else 2, 0, off, size, 0, 0, 1, 0)
    return ehdr + body + shdrs


def fake_elf(btf=None, banners=FAKE_BANNERS, machine=62):
    sections = [(".rodata", banners)]
    if btf is not None:
        sections.append((".BTF", btf))
    return elf_file(sections, machine)


def bzimage(payload, kernel_version, setup_sects=3):
    """A bzImage around PAYLOAD (compressed, the size appended as the
    kernel's build does) with KERNEL_VERSION in its setup header."""
    setup = bytearray((setup_sects + 1) * 512)
    setup[0x1f1] = setup_sects
    setup[0x202:0x206] = b"HdrS"
    struct.pack_into("<H", setup, 0x206, 0x20f)
    kv = kernel_version.encode() + b"\0"
    setup[0x400:0x400 + len(kv)] = kv
    struct.pack_into("<H", setup, 0x20e, 0x400 - 0x200)
    struct.pack_into("<II", setup, 0x248, 0x100, len(payload))
    return bytes(setup) + bytes(0x100) + payload + bytes(64)


def with_size(compressed, elf):
    return compressed + struct.pack("<I", len(elf))


def compress_with(argv, data):
    return subprocess.run(argv, input=data, capture_output=True,
                          check=True).stdout


def compressed_each_way(elf):
    """ELF compressed as the kernel's build does it ({name: payload}): xz
    with the x86 BCJ filter, lzma -9, and the legacy LZ4 format.  zstd and
    lz4 come from their tools (mk/trace.packages), the rest from Python."""
    payloads = {
        "xz": lzma.compress(elf, format=lzma.FORMAT_XZ,
                            check=lzma.CHECK_CRC32,
                            filters=[{"id": lzma.FILTER_X86},
                                     {"id": lzma.FILTER_LZMA2,
                                      "preset": 6}]),
        "gzip": gzip.compress(elf),
        "bzip2": bz2.compress(elf),
        "lzma": lzma.compress(elf, format=lzma.FORMAT_ALONE, preset=9),
        "none": elf,
    }
    tools = {"zstd": ["zstd", "-q", "-19", "-c"],
             "lz4": ["lz4", "-q", "-l", "-9", "-c"]}
    for kind, argv in tools.items():
        if shutil.which(argv[0]):
            payloads[kind] = compress_with(argv, elf)
        else:
            print("(%s is not installed, make deps: the %s payload is not "
                  "tried)" % (argv[0], kind))
    return payloads


FAKE_KERNEL_VERSION = "%s (builder@host) %s" % (FAKE_RELEASE, FAKE_VERSION)


def fake_deb(path, files):
    """A Debian package holding FILES ({path in package: bytes})."""
    root = path + ".d"
    os.makedirs(os.path.join(root, "DEBIAN"))
    with open(os.path.join(root, "DEBIAN", "control"), "w") as f:
        f.write("Package: linux-image-fake\nVersion: 1\nArchitecture: amd64\n"
                "Maintainer: Nobody <nobody@example.invalid>\n"
                "Description: a test kernel\n")
    for name, data in files.items():
        os.makedirs(os.path.join(root, os.path.dirname(name)), exist_ok=True)
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build",
                    root, path], check=True, capture_output=True)
    shutil.rmtree(root)


class Case(unittest.TestCase):

    def setUp(self):
        if not os.path.exists(READER):
            self.fail("%s is missing: run 'make tools' first" % READER)
        self.dir = tempfile.mkdtemp(prefix="cloak-os-profile.")
        self.addCleanup(shutil.rmtree, self.dir)

    def write(self, name, data):
        path = os.path.join(self.dir, name)
        with open(path, "wb" if isinstance(data, bytes) else "w") as f:
            f.write(data)
        return path

    def profile(self, *args):
        """The profile of args, which must succeed."""
        p = run_profile(*args)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr, "")
        return parse_profile(p.stdout)

    def fails(self, rc, *args, says=()):
        p = run_profile(*args)
        self.assertEqual(p.returncode, rc, "stdout: %s\nstderr: %s"
                         % (p.stdout, p.stderr))
        self.assertEqual(p.stdout, "")
        self.assertTrue(p.stderr.startswith(PREFIX), p.stderr)
        self.assertEqual(p.stderr.count("\n"), 1, p.stderr)
        for s in says:
            self.assertIn(s, p.stderr)
        return p.stderr


# ---- synthetic inputs ------------------------------------------------------

class SyntheticTest(Case):
    """Every input kind, and what the BTF walk must get right."""

    def raw(self, **kw):
        btf, offsets = fake_btf(**kw)
        return self.write("vmlinux.btf", btf), offsets

    def test_raw_btf(self):
        path, offsets = self.raw()
        rel, ver, got = self.profile("--release", FAKE_RELEASE,
                                     "--version", FAKE_VERSION, path)
        self.assertEqual((rel, ver), (FAKE_RELEASE, FAKE_VERSION))
        self.assertEqual(got, offsets)
        self.assertEqual(sorted(got), sorted(KEYS))

    def test_pcpu_hot(self):
        """Linux 6.2 and later: current_task inside the per-CPU pcpu_hot."""
        path, offsets = self.raw(percpu="hot")
        _, _, got = self.profile("--release", "r", "--version", "v", path)
        self.assertEqual(got["percpu.current_task"], 0x1f008)
        self.assertEqual(got, offsets)

    def test_elf(self):
        btf, offsets = fake_btf()
        path = self.write("vmlinux", fake_elf(btf))
        self.assertEqual(self.profile(path),
                         (FAKE_RELEASE, FAKE_VERSION, offsets))

    def test_bzimage_each_compression(self):
        btf, offsets = fake_btf()
        elf = fake_elf(btf)
        for kind, data in compressed_each_way(elf).items():
            with self.subTest(kind):
                path = self.write("vmlinuz-" + kind, bzimage(
                    with_size(data, elf), FAKE_KERNEL_VERSION))
                self.assertEqual(self.profile(path),
                                 (FAKE_RELEASE, FAKE_VERSION, offsets))

    def test_deb(self):
        btf, offsets = fake_btf()
        elf = fake_elf(btf)
        vmlinuz = bzimage(with_size(gzip.compress(elf), elf),
                          FAKE_KERNEL_VERSION)
        deb = os.path.join(self.dir, "linux-image-fake.deb")
        fake_deb(deb, {"boot/vmlinuz-" + FAKE_RELEASE: vmlinuz,
                       "boot/config-" + FAKE_RELEASE: b"CONFIG_X=y\n",
                       "lib/modules/%s/x.ko" % FAKE_RELEASE: b"module"})
        self.assertEqual(self.profile(deb),
                         (FAKE_RELEASE, FAKE_VERSION, offsets))
        before = set(os.listdir(tempfile.gettempdir()))
        two = os.path.join(self.dir, "two.deb")
        fake_deb(two, {"boot/vmlinuz-1": vmlinuz, "boot/vmlinuz-2": vmlinuz})
        self.fails(1, two, says=("2 kernels", "boot/vmlinuz-1",
                                 "boot/vmlinuz-2"))
        none = os.path.join(self.dir, "none.deb")
        fake_deb(none, {"usr/share/doc/x": b"x"})
        self.fails(1, none, says=("no boot/vmlinuz-*",))
        not_kernel = os.path.join(self.dir, "notkernel.deb")
        fake_deb(not_kernel, {"boot/vmlinuz-1": b"text\n"})
        self.fails(1, not_kernel, says=("boot/vmlinuz-1: not a bzImage",))
        self.fails(1, self.write("junk.deb", b"!<arch>\njunk"),
                   says=("not a readable Debian package", "dpkg-deb"))
        # Nothing left behind in the temporary directory.
        left = [n for n in set(os.listdir(tempfile.gettempdir())) - before
                if n.startswith("cloak-trace-")]
        self.assertEqual(left, [])

    def test_output_file(self):
        path, offsets = self.raw()
        out = os.path.join(self.dir, "out.profile")
        p = run_profile("-o", out, "--release", FAKE_RELEASE, "--version",
                        FAKE_VERSION, path)
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, "", ""))
        with open(out) as f:
            text = f.read()
        self.assertTrue(text.startswith(
            "# made by cloak-trace profile from vmlinux.btf\n"), text)
        self.assertEqual(parse_profile(text)[2], offsets)
        p = run_profile("--check", out)
        self.assertEqual((p.returncode, p.stdout),
                         (0, "%s %s\n" % (FAKE_RELEASE, FAKE_VERSION)))

    def test_output_not_a_regular_file(self):
        """-o /dev/null (or a FIFO, a symlink) is written through, never
        replaced by a regular file."""
        path, _ = self.raw()
        link = os.path.join(self.dir, "link.profile")
        target = os.path.join(self.dir, "target.profile")
        self.write("target.profile", "old")
        os.symlink(target, link)
        for out in ("/dev/null", link):
            before = os.lstat(out)
            p = run_profile("-o", out, "--release", FAKE_RELEASE,
                            "--version", FAKE_VERSION, path)
            self.assertEqual(p.returncode, 0, p.stderr)
            after = os.lstat(out)
            self.assertEqual((after.st_mode, after.st_ino),
                             (before.st_mode, before.st_ino), out)
        with open(target) as f:
            self.assertIn("[offsets]", f.read())

    def test_btf_walk_errors(self):
        cases = [
            (dict(pid_bitfield=True), ("task_struct.pid", "bitfield")),
            (dict(comm_len=15), ("task_struct.comm", "15 bytes", "16")),
            (dict(drop="task_struct.mm"),
             ("task_struct.mm", "struct task_struct has no member mm")),
            (dict(drop="new_utsname"),
             ("new_utsname.release", "no struct new_utsname")),
            (dict(percpu="none"), ("percpu.current_task", "pcpu_hot")),
            (dict(long_size=4), ("4-byte pointers", "x86-64")),
        ]
        for kw, says in cases:
            with self.subTest(kw):
                path, _ = self.raw(**kw)
                self.fails(1, "--release", "r", "--version", "v", path,
                           says=says)

    def test_hostile_nesting(self):
        """An anonymous struct holding itself 200 times: a bounded search."""
        b = Btf()
        b.int("long int", 8)
        loop = b.reserve()
        b.composite("", 8, [("", loop, 0)] * 200, at=loop)
        task = b.composite("task_struct", 8, [("", loop, 0)])
        cur = b.var("current_task", b.ptr(task))
        b.datasec(".data..percpu", 64, [(cur, 0, 8)])
        self.fails(1, "--release", "r", "--version", "v",
                   self.write("loop.btf", b.blob()),
                   says=("task_struct.pid", "too deep or too often"))

    def test_elf_errors(self):
        btf, _ = fake_btf()
        self.fails(1, self.write("arm64", fake_elf(btf, machine=183)),
                   says=("machine 183", "x86-64"))
        self.fails(1, self.write("nobtf", fake_elf(None)),
                   says=("no BTF", "CONFIG_DEBUG_INFO_BTF"))
        self.fails(1, self.write("nobanner", fake_elf(btf, banners=b"x\0")),
                   says=("no \"Linux version ...\" banner",))
        self.fails(1, self.write("badbtf", fake_elf(b"\x9f\xeb\x01\0junk")),
                   says=("libbpf cannot read its BTF",))

    def test_bzimage_errors(self):
        btf, _ = fake_btf()
        elf = fake_elf(btf)
        # Debian's libarchive reads LZO only by running lzop: refused.
        err = self.fails(1, self.write("lzo", bzimage(
            b"\x89LZO\0\r\n\x1a\n" + bytes(64), FAKE_KERNEL_VERSION)),
            says=("lzo: ", "LZO"))
        if "external program" in err:
            self.assertIn("LZO-compressed", err)
            self.assertIn("extract-vmlinux", err)
        self.fails(1, self.write("unknown", bzimage(
            b"\x01\x02\x03\x04" + bytes(64), FAKE_KERNEL_VERSION)),
            says=("unknown payload compression (bytes 01 02 03 04)",
                  "gzip, bzip2, lzma, xz", "extract-vmlinux"))
        self.fails(1, self.write("noversion", bzimage(
            with_size(gzip.compress(elf), elf), "6.9.0 built by hand")),
            says=("kernel_version '6.9.0 built by hand'",))
        text = bzimage(with_size(gzip.compress(b"not an elf" * 10),
                                 b"x" * 100), FAKE_KERNEL_VERSION)
        self.fails(1, self.write("notelf", text), says=("not an ELF",))
        whole = bzimage(with_size(gzip.compress(elf), elf),
                        FAKE_KERNEL_VERSION)
        self.fails(1, self.write("short", whole[:0x220]),
                   says=("shorter than a bzImage setup header",))
        cut = whole[:len(whole) - 64 - 200]
        self.fails(1, self.write("cut", cut), says=("truncated",))
        # The payload's end cut off, its length field trimmed to match.
        zdata = gzip.compress(elf)[:-40]
        self.fails(1, self.write("gzcut", bzimage(zdata, FAKE_KERNEL_VERSION)),
                   says=("corrupt gzip payload",))

    def test_bzimage_corrupt_each_compression(self):
        """A payload cut short or with bytes flipped: libarchive's error,
        naming the file and the compression, or (where the damage leaves a
        stream that still decodes) the ELF check's."""
        btf, _ = fake_btf()
        elf = fake_elf(btf)
        for kind, data in compressed_each_way(elf).items():
            if kind == "none":
                continue
            cut = data[:len(data) * 2 // 3]
            flipped = bytearray(data)
            mid = len(flipped) // 2
            flipped[mid:mid + 16] = bytes(b ^ 0x5a for b in
                                          flipped[mid:mid + 16])
            for how, bad in (("cut", cut), ("flipped", bytes(flipped))):
                with self.subTest(kind=kind, how=how):
                    name = "%s-%s" % (kind, how)
                    err = self.fails(1, self.write(name, bzimage(
                        with_size(bad, elf), FAKE_KERNEL_VERSION)),
                        says=(name + ": ",))
                    self.assertRegex(err, "corrupt %s payload \\(.+\\)|"
                                     "ELF" % re.escape(
                                         {"lz4": "LZ4"}.get(kind, kind)))


class UsageTest(Case):
    """Input that is no kernel, and options that do not fit the input."""

    def test_not_a_kernel(self):
        self.fails(1, self.write("notes.txt", "hello\n"),
                   says=("notes.txt: not a kernel image or BTF", ".deb",
                         "bzImage", "ELF vmlinux", "raw BTF"))
        self.fails(1, self.write("empty", b""), says=("empty: an empty file",))
        self.fails(1, os.path.join(self.dir, "absent"),
                   says=("absent: No such file",))
        self.fails(1, self.dir, says=("not a regular file",))

    def test_raw_btf_needs_names(self):
        btf, _ = fake_btf()
        path = self.write("vmlinux.btf", btf)
        self.fails(2, path, says=("--release", "--version", "uname -r"))
        self.fails(2, "--release", "r", path,
                   says=("both --release and --version",))
        self.fails(2, "--release", "r" * 65, "--version", "v", path,
                   says=("--release: 65 bytes",))
        self.fails(2, "--release", "r\tx", "--version", "v", path,
                   says=("--release: byte 0x09",))

    def test_names_refused_for_images(self):
        btf, _ = fake_btf()
        path = self.write("vmlinux", fake_elf(btf))
        self.fails(2, "--release", "r", "--version", "v", path,
                   says=("ELF vmlinux names its kernel itself",
                         "only for raw BTF"))

    def test_usage(self):
        self.fails(2, says=("exactly one INPUT",))
        self.fails(2, "a", "b", says=("exactly one INPUT",))
        self.fails(2, "--bogus", "a", says=("--bogus",))
        self.fails(2, "--check", "a", "b", says=("--check",))
        p = run_profile("--help")
        self.assertEqual(p.returncode, 0)
        for s in ("INPUT", "--output", "--release", "--version", "--check"):
            self.assertIn(s, p.stdout)


# ---- the parser, through --check -------------------------------------------

class ProfileCheckTest(Case):

    def setUp(self):
        super().setUp()
        with open(os.path.join(CORPUS, "valid.profile")) as f:
            self.valid = f.read()

    def check(self, text, rc, says=()):
        path = self.write("p.profile", text)
        p = run_profile("--check", path)
        self.assertEqual(p.returncode, rc, p.stderr)
        if rc:
            self.assertEqual(p.stdout, "")
            self.assertTrue(p.stderr.startswith(PREFIX + path + ": "),
                            p.stderr)
        for s in says:
            self.assertIn(s, p.stderr if rc else p.stdout)

    def edit(self, pattern, repl):
        text, n = re.subn(pattern, repl, self.valid, flags=re.M)
        self.assertEqual(n, 1, pattern)
        return text

    def test_valid(self):
        self.check(self.valid, 0, says=(
            "6.1.0-57-amd64 #1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 "
            "(2026-11-26)\n",))

    def test_hex_offsets(self):
        self.check(self.edit(r"^task_struct\.pid=\d+$",
                             "task_struct.pid=0x970"), 0)

    def test_unknown_key(self):
        self.check(self.edit(r"^(nsproxy\.uts_ns=.*)$",
                             r"\1\ntask_struct.cred=1920"), 1,
                   says=("[offsets] task_struct.cred: unknown key",))

    def test_missing_offset(self):
        self.check(self.edit(r"^task_struct\.mm=.*\n", ""), 1,
                   says=("[offsets] task_struct.mm: missing",))

    def test_format_2(self):
        self.check(self.edit(r"^format=1$", "format=2"), 1,
                   says=("[kernel] format: '2'", "reads format 1"))

    def test_os_windows(self):
        self.check(self.edit(r"^os=linux$", "os=windows"), 1,
                   says=("[kernel] os: 'windows'", "only Linux"))

    def test_offset_out_of_range(self):
        self.check(self.edit(r"^task_struct\.pid=.*$",
                             "task_struct.pid=1048577"), 1,
                   says=("task_struct.pid: '1048577' is not an offset",))
        self.check(self.edit(r"^percpu\.current_task=.*$",
                             "percpu.current_task=-8"), 1,
                   says=("percpu.current_task: '-8'",))
        self.check(self.edit(r"^new_utsname\.version=.*$",
                             "new_utsname.version=330"), 1,
                   says=("outside the 390-byte struct new_utsname",))

    def test_nul_byte(self):
        self.check(self.valid.replace("os=linux", "os=li\0nux"), 1,
                   says=("a NUL byte",))

    def test_not_a_profile(self):
        self.check("just text\n", 1, says=("not a profile file",))
        p = run_profile("--check", os.path.join(self.dir, "absent"))
        self.assertEqual(p.returncode, 1)
        self.assertTrue(p.stderr.startswith(PREFIX), p.stderr)

    def test_corpus_seeds(self):
        """The fuzz seeds: only valid.profile parses."""
        for name in sorted(os.listdir(CORPUS)):
            with self.subTest(name):
                p = run_profile("--check", os.path.join(CORPUS, name))
                self.assertEqual(p.returncode, 0 if name == "valid.profile"
                                 else 1, p.stderr)


# ---- the test guest's real kernel ------------------------------------------

def bzimage_header(data):
    """(release, version) from a bzImage's kernel_version string, and its
    payload."""
    at = struct.unpack_from("<H", data, 0x20e)[0] + 0x200
    kv = data[at:data.index(b"\0", at)].decode()
    release = kv.split(" ", 1)[0]
    version = kv[kv.index(") ") + 2:]
    setup = (data[0x1f1] or 4) + 1
    off, length = struct.unpack_from("<II", data, 0x248)
    start = setup * 512 + off
    return release, version, data[start:start + length]


def bpftool_offsets(elf_path):
    """The profile's offsets as `bpftool btf dump ... format raw` reads
    them: an independent BTF reader."""
    bpftool = shutil.which("bpftool") or "/usr/sbin/bpftool"
    out = subprocess.run([bpftool, "btf", "dump", "file", elf_path, "format",
                          "raw"], capture_output=True, text=True,
                         check=True).stdout
    types = {}
    cur = None
    head = re.compile(r"^\[(\d+)\] (\w+) '([^']*)'(.*)$")
    for line in out.splitlines():
        m = head.match(line)
        if m:
            cur = {"kind": m.group(2), "name": m.group(3), "members": []}
            cur.update({k: int(v) for k, v in
                        re.findall(r"(\w+)=(-?\d+)", m.group(4))})
            types[int(m.group(1))] = cur
        elif line.startswith("\t") and cur is not None:
            mm = re.match(r"\t'([^']*)' type_id=(\d+) bits_offset=(\d+)"
                          r"(?: bitfield_size=(\d+))?", line)
            if mm:
                cur["members"].append((mm.group(1), int(mm.group(2)),
                                       int(mm.group(3)),
                                       int(mm.group(4) or 0)))
                continue
            mv = re.match(r"\ttype_id=(\d+) offset=(\d+) size=(\d+) "
                          r"\(VAR '([^']*)'\)", line)
            if mv:
                cur["members"].append((mv.group(4), int(mv.group(1)),
                                       int(mv.group(2)), int(mv.group(3))))

    def resolve(tid):
        while types[tid]["kind"] in ("TYPEDEF", "CONST", "VOLATILE",
                                     "RESTRICT", "TYPE_TAG"):
            tid = types[tid]["type_id"]
        return tid

    def size(tid):
        t = types[resolve(tid)]
        if t["kind"] == "PTR":
            return 8
        if t["kind"] == "ARRAY":
            return t["nr_elems"] * size(t["type_id"])
        return t["size"]

    def find(tid, name):
        for mname, mtype, bits, bitfield in types[resolve(tid)]["members"]:
            if mname == name:
                assert not bitfield and bits % 8 == 0
                return bits // 8, mtype
            if mname == "(anon)" and types[resolve(mtype)]["kind"] in (
                    "STRUCT", "UNION"):
                found = find(mtype, name)
                if found:
                    return found[0] + bits // 8, found[1]
        return None

    def by_name(kind, name):
        return [i for i, t in types.items()
                if t["kind"] == kind and t["name"] == name][0]

    offsets = {}
    for key in KEYS:
        s, member = key.split(".")
        if s == "percpu":
            sec = types[by_name("DATASEC", ".data..percpu")]
            var = [(v, off, sz) for v, _, off, sz in sec["members"]
                   if v == member]
            if var:
                offsets[key] = var[0][1]
                assert var[0][2] == SIZES[key]
            else:
                hot = [(t, off) for v, t, off, _ in sec["members"]
                       if v == "pcpu_hot"][0]
                off, mtype = find(types[hot[0]]["type_id"], member)
                offsets[key] = hot[1] + off
                assert size(mtype) == SIZES[key]
        else:
            off, mtype = find(by_name("STRUCT", s), member)
            assert size(mtype) == SIZES[key], key
            offsets[key] = off
    return offsets


def elf_section(elf, wanted):
    """The bytes of section WANTED of a 64-bit little-endian ELF."""
    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3a)

    def shdr(i):
        return struct.unpack_from("<IIQQQQIIQQ", elf, shoff + i * shentsize)
    strtab = shdr(shstrndx)
    for i in range(shnum):
        h = shdr(i)
        start = strtab[4] + h[0]
        if elf[start:elf.index(b"\0", start)].decode() == wanted:
            return elf[h[4]:h[4] + h[5]]
    raise KeyError(wanted)


class DebianKernelTest(Case):
    """The test guest's Debian kernel: vmlinuz, its ELF, its raw BTF and
    the .deb it came from all give the offsets bpftool reads."""

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(GUEST_VMLINUZ):
            raise unittest.SkipTest("%s is missing (make guest builds it)"
                                    % GUEST_VMLINUZ)
        if not (shutil.which("bpftool") or
                os.path.exists("/usr/sbin/bpftool")):
            raise unittest.SkipTest("bpftool is missing (make deps)")
        cls.tmp = tempfile.mkdtemp(prefix="cloak-os-profile-debian.")
        with open(GUEST_VMLINUZ, "rb") as f:
            cls.vmlinuz = f.read()
        cls.release, cls.version, payload = bzimage_header(cls.vmlinuz)
        # An xz-compressed kernel, as Debian builds it.
        elf = lzma.LZMADecompressor().decompress(payload)
        cls.elf = os.path.join(cls.tmp, "vmlinux")
        with open(cls.elf, "wb") as f:
            f.write(elf)
        cls.btf = os.path.join(cls.tmp, "vmlinux.btf")
        with open(cls.btf, "wb") as f:
            f.write(elf_section(elf, ".BTF"))
        cls.expected = bpftool_offsets(cls.elf)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_vmlinuz(self):
        self.assertEqual(self.profile(GUEST_VMLINUZ),
                         (self.release, self.version, self.expected))
        self.assertEqual(self.release, "6.1.0-57-amd64")

    def test_elf(self):
        self.assertEqual(self.profile(self.elf),
                         (self.release, self.version, self.expected))

    def test_raw_btf(self):
        self.assertEqual(self.profile("--release", self.release, "--version",
                                      self.version, self.btf),
                         (self.release, self.version, self.expected))
        self.fails(2, self.btf, says=("--release",))

    def test_deb(self):
        debs = glob.glob(os.path.join(
            GUEST_DEB_CACHE, "linux-image-%s_*.deb" % self.release))
        if not debs:
            self.skipTest("no linux-image-%s_*.deb in %s"
                          % (self.release, GUEST_DEB_CACHE))
        self.assertEqual(self.profile(debs[0]),
                         (self.release, self.version, self.expected))

    def test_broken_vmlinuz(self):
        half = self.vmlinuz[:len(self.vmlinuz) // 2]
        self.fails(1, self.write("half", half),
                   says=("half: truncated", "the payload runs"))
        bad = bytearray(self.vmlinuz)
        mid = len(bad) // 2
        bad[mid:mid + 64] = bytes(b ^ 0x5a for b in bad[mid:mid + 64])
        self.fails(1, self.write("corrupt", bytes(bad)),
                   says=("corrupt: corrupt xz payload",))
        self.fails(2, "--release", "r", "--version", "v", GUEST_VMLINUZ,
                   says=("bzImage names its kernel itself",))


if __name__ == "__main__":
    unittest.main()
