"""cloak-trace (the reader) on ring files written here byte by byte from the
ABI in trace-plugins/cloak-trace-abi.h: JSON fields, the text view,
filters, the summary, and clear errors for broken files."""

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


def ring_file(path, rings, next_seq=None, state=3, pid=0):
    nr = len(rings)
    data_offset = (4096 + nr * 128 + 4095) & ~4095
    size = data_offset + nr * RING
    hdr = struct.pack("<QIIIIIIQQQQIIIIQQII8H", MAGIC, 1, 1, 4096, 128, nr, 8,
                      RING, 4096, data_offset, size, 3, 2, 1, 256, 0, 0,
                      state, pid, 0, 8, 56, 128, 88, 64, 0, 0)
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


if __name__ == "__main__":
    unittest.main()
