"""cloak-trace (the reader) on ring files written here byte by byte from the
ABI in trace-plugins/cloak-trace-abi.h: JSON fields, the text view,
filters, the summary, and clear errors for broken files.  ReaderTest
writes version-1 files (which readers keep reading); ReaderV2Test
version-2 ones, whose records name the guest task; ReaderV3Test
version-3 ones, where an entry may carry its return."""

import json
import os
import struct
import subprocess
import tempfile
import unittest

from tests.lib import tracelib as tl

RING = 4096
MAGIC = 0x31454341525443
PAD, LOST, ENTER, EXIT, PF = 1, 2, 3, 4, 5


def rec(type_, seq, ts, vcpu, payload, flags=0):
    size = 32 + len(payload)
    assert size % 8 == 0
    return struct.pack("<IHHQQII", size, type_, flags, seq, ts, vcpu, 0) + payload


def enter(seq, ts, vcpu, nr, args, cr3=0x1234000, paths=()):
    body = struct.pack("<QQQQQ6QBBB5x", cr3, 0x401000, 0x401002, 0x7ffe0000,
                       nr, *args, 1, 1, len(paths))
    for arg, text, flags in paths:
        data = text.encode()
        body += struct.pack("<BBHI", arg, flags, len(data), 0)
        body += data + b"\0" * (-len(data) % 8)
    return rec(ENTER, seq, ts, vcpu, body, flags=1 if paths else 0)


def exit_(seq, ts, vcpu, nr, ret, enter_seq, cr3=0x1234000):
    body = struct.pack("<QQQQqQIBB2x", cr3, 0x401002, 0x7ffe0000, nr, ret,
                       enter_seq, vcpu, 1, 5)
    return rec(EXIT, seq, ts, vcpu, body)


def fault(seq, ts, vcpu, cr2, cr3=0x1234000):
    return rec(PF, seq, ts, vcpu, struct.pack("<QQQIB3x", cr2, cr3, 0x401010,
                                              6, 3))


def lost(seq, ts, vcpu, first, last):
    return rec(LOST, seq, ts, vcpu, struct.pack("<QQQ", last - first + 1,
                                                first, last))


RF_TASK, RF_CODE32, RF_RETURNED = 1 << 15, 1 << 14, 1 << 1


def task(tgid, tid, ppid, comm):
    return struct.pack("<IIII16s", tgid, tid, ppid, 0, comm.encode())


def enter2(seq, ts, vcpu, nr, args, who, paths=()):
    """A version-2 entry: the version-1 one with the task block."""
    r = bytearray(enter(seq, ts, vcpu, nr, args, paths=()))
    r[:4] = struct.pack("<I", len(r) + 32 + sum(
        8 + len(t) + (-len(t) % 8) for _, t, _ in paths))
    r[6:8] = struct.pack("<H", RF_TASK | (1 if paths else 0))
    r[32 + 90] = len(paths)               # npaths
    r += task(*who)
    for arg, text, flags in paths:
        data = text.encode()
        r += struct.pack("<BBHI", arg, flags, len(data), 0)
        r += data + b"\0" * (-len(data) % 8)
    return bytes(r)


def exit2(seq, ts, vcpu, nr, ret, enter_seq, who):
    r = bytearray(exit_(seq, ts, vcpu, nr, ret, enter_seq))
    r[:4] = struct.pack("<I", len(r) + 32)
    r[6:8] = struct.pack("<H", RF_TASK)
    return bytes(r + task(*who))


def fault2(seq, ts, vcpu, cr2, who, insn=b"", flags=RF_TASK):
    r = bytearray(fault(seq, ts, vcpu, cr2))
    r[:4] = struct.pack("<I", len(r) + 32 + 24)
    r[6:8] = struct.pack("<H", flags)
    return bytes(r + (task(*who) if who else bytes(32)) +
                 struct.pack("<B7x16s", len(insn), insn))


def returned(seq, ts, vcpu, nr, args, who, ret, ret_ts, paths=()):
    """A version-3 entry that carries its return (SYSRET)."""
    r = bytearray(enter2(seq, ts, vcpu, nr, args, who, paths))
    r[:4] = struct.pack("<I", len(r) + 24)
    r[6:8] = struct.pack("<H", struct.unpack_from("<H", r, 6)[0] |
                         RF_RETURNED)
    return bytes(r + struct.pack("<qQB7x", ret, ret_ts, 5))


def ring_file(path, rings, next_seq=None, state=3, pid=0, version=1,
              guest_os=0, attribution=0, profile_kernel="", guest_kernel=""):
    nr = len(rings)
    data_offset = (4096 + nr * 128 + 4095) & ~4095
    size = data_offset + nr * RING
    sizes = (128, 88, 64) if version == 1 else (160, 120, 120)
    hdr = struct.pack("<QIIIIIIQQQQIIIIQQII8H", MAGIC, version, version, 4096,
                      128, nr, 8, RING, 4096, data_offset, size, 3, 2, 1, 256,
                      0, 0, state, pid, 0, 8, 56, *sizes, 0, 0)
    if version >= 2:
        hdr += struct.pack("<II144s144s", guest_os, attribution,
                           profile_kernel.encode(), guest_kernel.encode())
    buf = bytearray(size)
    buf[:len(hdr)] = hdr
    for i, records in enumerate(rings):
        blob = b"".join(records)
        off = data_offset + i * RING
        buf[off:off + len(blob)] = blob
        seqs = [struct.unpack_from("<Q", r, 8)[0] for r in records]
        ns = next_seq[i] if next_seq else (max(seqs) + 1 if seqs else 0)
        struct.pack_into("<QQQQ", buf, 4096 + i * 128, len(blob), 0, ns,
                         len(records))
    with open(path, "wb") as f:
        f.write(buf)


class ReaderTest(unittest.TestCase):

    def setUp(self):
        tl.require_built(self, guest=False, qemu=False)
        self.dir = tempfile.mkdtemp(prefix="cloak-trace-cli.")
        self.path = os.path.join(self.dir, "r.ring")
        ring_file(self.path, [
            [enter(0, 100, 0, 257, [(1 << 64) - 100, 0x5000, 0, 0, 0, 0],
                   paths=[(1, "/etc/passwd", 0)]),
             exit_(1, 200, 0, 257, 3, 0),
             lost(5, 250, 0, 2, 4),
             enter(6, 300, 0, 2, [0x6000, 0, 0, 0, 0, 0],
                   paths=[(0, "/nonexistent", 0)]),
             exit_(7, 400, 0, 2, -2, 6)],
            [fault(0, 150, 1, 0x7f0000001000, cr3=0x5555000),
             enter(1, 350, 1, 39, [0] * 6, cr3=0x5555000)],
        ])

    def tearDown(self):
        for n in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, n))
        os.rmdir(self.dir)

    def run_reader(self, *args, path=None):
        p = subprocess.run([tl.READER] + list(args) + [path or self.path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertGreaterEqual(p.returncode, 0, "reader crashed")
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def json_events(self, *args):
        rc, out, err = self.run_reader("--peek", *args)
        self.assertEqual(rc, 0, err)
        return [json.loads(l) for l in out.splitlines()]

    def test_json_fields_and_merge_order(self):
        ev = self.json_events()
        self.assertEqual([e["ts"] for e in ev], [100, 150, 200, 250, 300, 350, 400])
        e = ev[0]
        self.assertEqual((e["type"], e["name"], e["nr"], e["abi"]),
                         ("syscall_enter", "openat", 257, "x86_64"))
        self.assertEqual(e["args"][0], "0xffffffffffffff9c")
        self.assertEqual(e["paths"], [{"arg": 1, "path": "/etc/passwd",
                                       "truncated": False,
                                       "unreadable": False}])
        self.assertEqual(ev[2]["ret"], 3)
        self.assertEqual((ev[2]["enter_vcpu"], ev[2]["enter_seq"]), (0, 0))
        self.assertEqual((ev[1]["type"], ev[1]["cr2"]),
                         ("page_fault", "0x7f0000001000"))
        self.assertTrue(ev[1]["err"]["w"] and ev[1]["err"]["u"])
        self.assertEqual((ev[3]["type"], ev[3]["count"]), ("lost", 3))
        self.assertEqual((ev[6]["ret"], ev[6]["errno"]), (-2, "ENOENT"))

    def test_filters(self):
        self.assertEqual({e.get("name") for e in self.json_events(
            "--syscall", "open,getpid")}, {"open", "getpid", None})
        self.assertEqual({e["name"] for e in self.json_events(
            "--syscall", "open", "-s", "getpid", "--type", "syscall")},
            {"open", "getpid"})
        self.assertEqual([e["type"] for e in self.json_events(
            "--type", "pagefault")], ["page_fault"])
        self.assertEqual({e["vcpu"] for e in self.json_events(
            "--vcpu", "1")}, {1})
        self.assertEqual({e["cr3"] for e in self.json_events(
            "--cr3", "5555abc", "--type", "syscall,pagefault")},
            {"0x5555000"})

    def test_text_view(self):
        rc, out, err = self.run_reader("--peek", "-o", "text")
        self.assertEqual(rc, 0, err)
        self.assertIn('openat(0xffffffffffffff9c, "/etc/passwd", 0x0, 0x0, '
                      '0x0, 0x0) = 3', out)
        self.assertIn('open("/nonexistent", 0x0, 0x0, 0x0, 0x0, 0x0) = -1 '
                      'ENOENT', out)
        self.assertIn("page fault at 0x7f0000001000", out)
        self.assertIn("lost 3 events", out)

    def test_summary(self):
        rc, out, err = self.run_reader("--peek", "-o", "text", "--summary")
        self.assertEqual(rc, 0, err)
        self.assertIn("3 syscall entries, 2 returns, 1 errors, 1 page faults",
                      out)
        self.assertIn("vcpu 0: 5 records read, 0 lost (3 reported", out)

    def test_summary_json(self):
        rc, out, err = self.run_reader("--peek", "-o", "none", "--summary")
        self.assertEqual((rc, out), (0, ""), err)
        summary = json.loads(err)
        self.assertEqual(summary["syscall_enters"], 3)
        self.assertEqual(summary["syscalls"], {"openat": 1, "open": 1,
                                               "getpid": 1})
        self.assertEqual(summary["vcpus"][0]["lost_in_records"], 3)

    def test_consume_releases(self):
        rc, out, _ = self.run_reader()
        self.assertEqual(len(out.splitlines()), 7)
        rc, out, _ = self.run_reader()
        self.assertEqual(out, "")          # a second reader sees nothing new

    def test_dead_producer(self):
        """Issue 13.6: a ring still RUNNING whose QEMU is gone (SIGKILL)
        ended --follow with exit status 0 and no word; now it is reported
        after the last event, exit status 3."""
        child = subprocess.Popen(["true"])
        child.wait()
        path = os.path.join(self.dir, "killed.ring")
        ring_file(path, [[enter(0, 100, 0, 39, [0] * 6),
                          exit_(1, 200, 0, 39, 7, 0)]],
                  state=1, pid=child.pid)
        p = subprocess.run([tl.READER, "--follow", path], timeout=30,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 3, p.stderr)
        self.assertEqual(len(p.stdout.decode().splitlines()), 2)
        self.assertIn("producer (pid %d) is gone" % child.pid,
                      p.stderr.decode())
        # A closed ring of a producer that is gone is a whole trace.
        ring_file(path, [[enter(0, 100, 0, 39, [0] * 6)]], state=3,
                  pid=child.pid)
        p = subprocess.run([tl.READER, "--follow", path], timeout=30,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, 0, p.stderr)

    def test_special_files(self):
        """Issue 13.3: --peek on a FIFO blocked in open(); a FIFO, a device
        and a directory are each refused at once."""
        fifo = os.path.join(self.dir, "ring.fifo")
        os.mkfifo(fifo)
        for path in (fifo, "/dev/zero", self.dir):
            for mode in ("--peek", "--summary"):
                with self.subTest(path=path, mode=mode):
                    p = subprocess.run([tl.READER, mode, path], timeout=10,
                                       stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE)
                    self.assertEqual(p.returncode, 1, p.stderr)
                    self.assertIn(path, p.stderr.decode())
                    self.assertRegex(p.stderr.decode(),
                                     "not a regular file|Is a directory")

    def test_bad_usage(self):
        self.assertEqual(self.run_reader("-o", "xml")[0], 2)
        self.assertEqual(self.run_reader("--syscall", "nosuchcall")[0], 2)
        self.assertEqual(self.run_reader("--cr3", "xyz")[0], 2)

    def expect_error(self, words, path=None):
        rc, out, err = self.run_reader("--peek", path=path)
        self.assertEqual(rc, 1, err)
        self.assertIn("cloak-trace: error:", err)
        for w in words:
            self.assertIn(w, err)

    def test_broken_files(self):
        self.expect_error(["cannot open"], path=self.path + ".missing")
        with open(self.path, "r+b") as f:
            f.truncate(5000)
        self.expect_error(["truncated"])
        with open(self.path, "wb") as f:
            f.write(b"\0" * 100)
        self.expect_error(["shorter than"])
        with open(self.path, "wb") as f:
            f.write(b"x" * 20000)
        self.expect_error(["magic"])

    def test_bad_sequence(self):
        ring_file(self.path, [[fault(0, 1, 0, 0x1000), fault(2, 2, 0, 0x2000)]])
        self.expect_error(["sequence number 2, expected 1"])

    def test_bad_vcpu(self):
        ring_file(self.path, [[fault(0, 1, 1, 0x1000)]])
        self.expect_error(["claims vCPU 1"])


class ReaderV2Test(unittest.TestCase):
    """Version-2 files: pid, tid, ppid and comm in every record; --pid,
    --comm, --tree; the faulting instruction; the guest OS."""

    SH = (40, 40, 1, "sh")
    DMI = (41, 41, 40, "dmidecode")
    DMI_T = (41, 42, 40, "dmidecode")

    def setUp(self):
        tl.require_built(self, guest=False, qemu=False)
        self.dir = tempfile.mkdtemp(prefix="cloak-trace-cli2.")
        self.path = os.path.join(self.dir, "r.ring")
        self.write()

    def tearDown(self):
        for n in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, n))
        os.rmdir(self.dir)

    def write(self, **kw):
        # sh forks 41, which execs dmidecode, makes a thread 42 and faults
        # on a store (48 89 10: mov [rax], rdx), then exits.
        ring_file(self.path, [
            [enter2(0, 100, 0, 57, [0] * 6, self.SH),
             exit2(1, 110, 0, 57, 41, 0, self.SH),
             enter2(2, 120, 0, 59, [0x5000, 0, 0, 0, 0, 0],
                    (41, 41, 40, "sh"), paths=[(0, "/usr/sbin/dmidecode", 0)]),
             exit2(3, 130, 0, 59, 0, 2, self.DMI),
             fault2(4, 140, 0, 0x7f0000001000, self.DMI,
                    insn=bytes.fromhex("488910")),
             enter2(5, 150, 0, 186, [0] * 6, self.DMI_T),
             exit2(6, 160, 0, 186, 42, 5, self.DMI_T),
             enter2(7, 170, 0, 231, [0] * 6, self.DMI),
             fault2(8, 180, 0, 0x1000, None, flags=0)]],
            **dict(dict(version=2, attribution=2,
                        profile_kernel="6.1.0-57-amd64 #1 SMP"), **kw))

    def events(self, *args, rc=0):
        p = subprocess.run([tl.READER, "--peek"] + list(args) + [self.path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, rc, p.stderr)
        return p.stdout.decode(), p.stderr.decode()

    def test_task_fields(self):
        ev = [json.loads(l) for l in self.events()[0].splitlines()]
        self.assertEqual([(e.get("pid"), e.get("tid"), e.get("comm"))
                          for e in ev],
                         [(40, 40, "sh"), (40, 40, "sh"), (41, 41, "sh"),
                          (41, 41, "dmidecode"), (41, 41, "dmidecode"),
                          (41, 42, "dmidecode"), (41, 42, "dmidecode"),
                          (41, 41, "dmidecode"), (None, None, None)])
        self.assertEqual(ev[3]["ppid"], 40)
        self.assertEqual((ev[4]["insn"], ev[4]["insn_bytes"]),
                         ("mov qword ptr [rax], rdx", "488910"))
        self.assertNotIn("insn", ev[8])

    def test_filters(self):
        ev = [json.loads(l) for l in self.events("--pid", "42")[0].splitlines()]
        self.assertEqual({e["tid"] for e in ev}, {42})
        ev = [json.loads(l) for l in self.events("--pid", "41")[0].splitlines()]
        self.assertEqual(len(ev), 6)
        ev = [json.loads(l) for l in
              self.events("--comm", "sh,init")[0].splitlines()]
        self.assertEqual(len(ev), 3)

    def test_text_view(self):
        out, _ = self.events("-o", "text")
        self.assertIn("[pid 40 sh] fork(", out)
        self.assertIn("[pid 41/42 dmidecode] gettid(", out)
        self.assertIn('execve("/usr/sbin/dmidecode"', out)
        self.assertIn(": mov qword ptr [rax], rdx ---", out)

    def test_tree(self):
        out, _ = self.events("--tree", "-o", "text")
        lines = out.splitlines()
        self.assertTrue(lines[0].startswith("40 sh [?] 0.000000"), out)
        self.assertRegex(lines[1], r"^    `-- 41 dmidecode "
                         r"\[/usr/sbin/dmidecode\] 0\.000000-0\.000000 3 "
                         r"syscalls, 1 page faults, 2 threads$")
        procs = [json.loads(l) for l in self.events("--tree")[0].splitlines()]
        self.assertEqual([(p["pid"], p["ppid"], p["depth"], p["exec"])
                          for p in procs],
                         [(40, 1, 0, None), (41, 40, 1,
                                             "/usr/sbin/dmidecode")])
        self.assertEqual(procs[1]["exit_ts"], 170)

    def test_windows_guest_has_no_names(self):
        self.write(guest_os=1)
        ev = [json.loads(l) for l in self.events()[0].splitlines()]
        self.assertEqual({e.get("name") for e in ev}, {None})
        out, err = self.events("-s", "getpid", rc=2)
        self.assertIn("not a Linux guest", err)
        self.assertIn("syscall_57(", self.events("-o", "text")[0])

    def test_refused_attribution(self):
        self.write(attribution=3, guest_kernel="6.12.0-1-amd64 #1 SMP")
        _, err = self.events()
        self.assertIn("the OS profile is for kernel '6.1.0-57-amd64 #1 SMP' "
                      "but the guest runs '6.12.0-1-amd64 #1 SMP'", err)

    def test_no_attribution_refuses_tree(self):
        self.write()
        ring_file(self.path, [[fault(0, 1, 0, 0x1000)]])   # version 1
        for opt in (["--tree"], ["--pid", "1"], ["--comm", "sh"]):
            _, err = self.events(*opt, rc=2)
            self.assertIn("os-profile", err)

    def test_bad_insn_len(self):
        ring_file(self.path, [[fault2(0, 1, 0, 0x1000, self.SH,
                                      insn=bytes(16))]], version=2)
        with open(self.path, "r+b") as f:
            data = bytearray(f.read())
            off = 8192 + 32 + 32 + 32      # record, v1 fields, task
            self.assertEqual(data[off], 16)
            f.seek(off)
            f.write(b"\x11")
        _, err = self.events(rc=1)
        self.assertIn("17 instruction bytes", err)


class ReaderV3Test(unittest.TestCase):
    """Version-3 files: an entry that carries its return reads as the
    entry and exit pair a version-2 file holds."""

    SH = (40, 40, 1, "sh")

    def setUp(self):
        tl.require_built(self, guest=False, qemu=False)
        self.dir = tempfile.mkdtemp(prefix="cloak-trace-cli3.")
        self.path = os.path.join(self.dir, "r.ring")

    def tearDown(self):
        for n in os.listdir(self.dir):
            os.unlink(os.path.join(self.dir, n))
        os.rmdir(self.dir)

    def events(self, records, version, *args, rc=0):
        ring_file(self.path, [records], version=version, attribution=2,
                  profile_kernel="6.1.0-57-amd64 #1 SMP")
        p = subprocess.run([tl.READER, "--peek"] + list(args) + [self.path],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.assertEqual(p.returncode, rc, p.stderr)
        return p.stdout.decode(), p.stderr.decode()

    def test_returned_entry_is_the_pair(self):
        path = [(1, "/etc/hostname", 0)]
        pair = [enter2(0, 100, 0, 257, [0, 0x5000, 0, 0, 0, 0], self.SH, path),
                exit2(1, 130, 0, 257, 3, 0, self.SH),
                enter2(2, 140, 0, 39, [0] * 6, self.SH),
                exit2(3, 150, 0, 39, 40, 2, self.SH)]
        merged = [returned(0, 100, 0, 257, [0, 0x5000, 0, 0, 0, 0], self.SH,
                           3, 130, path),
                  returned(2, 140, 0, 39, [0] * 6, self.SH, 40, 150)]
        for fmt in ("json", "text"):
            want, _ = self.events(pair, 2, "-o", fmt)
            got, _ = self.events(merged, 3, "-o", fmt)
            self.assertEqual(got, want)
        ev = [json.loads(l) for l in self.events(merged, 3)[0].splitlines()]
        self.assertEqual([(e["seq"], e["type"]) for e in ev],
                         [(0, "syscall_enter"), (1, "syscall_exit"),
                          (2, "syscall_enter"), (3, "syscall_exit")])
        self.assertEqual((ev[1]["ret"], ev[1]["pid"]), (3, 40))

    def test_return_in_older_file_is_refused(self):
        _, err = self.events([returned(0, 100, 0, 39, [0] * 6, self.SH, 40,
                                       150)], 2, rc=1)
        self.assertIn("holds its return", err)


if __name__ == "__main__":
    unittest.main()
