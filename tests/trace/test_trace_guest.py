"""End-to-end cloak-trace tests: boot the test guest under TCG with
-object cloak-trace and check what the reader gets.

The guest program tests/guest/programs/tracetest.c performs a known
sequence (openat of a unique path, a write of N bytes, K getpid, an mmap of
P pages each touched once, a failing open, an execve); the trace must hold
exactly those events, with the right numbers, arguments, paths, return
values and fault addresses, in that program's address space.
tests/guest/programs/tracepaths.c adds the stat family, rename, unlink,
truncated and unreadable paths and INT 0x80; the 32-bit
tests/guest/programs32/tracecompat.c calls through the vDSO, which enters
by SYSENTER (Intel profile) or compat SYSCALL (AMD profile).
"""

import json
import os
import re
import signal
import subprocess
import time
import unittest

from tests.lib import tracelib as tl
from tests.lib.qmp import QmpClient

O_WRONLY, O_CREAT, O_TRUNC, O_CLOEXEC = 0o1, 0o100, 0o1000, 0o2000000
AT_FDCWD = (1 << 64) - 100
PROT_RW = 3
MAP_PRIVATE_ANON = 0x22


def hexval(s):
    return int(s, 16)


def describe(events):
    out = []
    for e in events:
        if e["type"].startswith("syscall"):
            out.append("%s %s %s" % (e["type"], e.get("name"),
                                     e.get("ret", e.get("args"))))
        else:
            out.append("%s %s" % (e["type"], e.get("cr2")))
    return "\n  ".join(out)


class TraceGuestTest(unittest.TestCase):

    def setUp(self):
        tl.require_built(self)

    def boot_tracetest(self, smp):
        with tl.Guest(smp=smp, run="tracetest",
                      trace_opts=",size=16M,paths=on,events=syscall:pagefault"
                      ",os-profile=" + tl.guest_os_profile()) as g:
            rc = g.run()
            console = g.console_text()
            self.assertEqual(rc, 0, g.qemu_output)
            self.by_return = [tl.entries_by_return(g.ring, v)
                              for v in range(smp)]
            events, summary, _ = tl.read_ring(g.ring, "--peek")
        m = re.search(r"tracetest: pid=(\d+) path=(\S+) missing=(\S+) "
                      r"write=(\d+) getpids=(\d+) pages=(\d+)", console)
        self.assertIsNotNone(m, "tracetest did not run:\n" + console[-2000:])
        self.assertIn("tracetest: child image running", console)
        params = dict(pid=int(m.group(1)), path=m.group(2),
                      missing=m.group(3), write=int(m.group(4)),
                      getpids=int(m.group(5)), pages=int(m.group(6)))
        return events, summary, params

    def check_tracetest(self, smp):
        events, summary, p = self.boot_tracetest(smp)
        for v in summary["vcpus"]:
            self.assertEqual(v["lost"], 0, summary)
        self.assertEqual(len(summary["vcpus"]), smp)

        def path_of(e):
            return e["paths"][0]["path"] if e.get("paths") else None

        starts = [e for e in events if e["type"] == "syscall_enter" and
                  e["nr"] == tl.NR["openat"] and path_of(e) == p["path"]]
        self.assertEqual(len(starts), 1, "openat of %s" % p["path"])
        start = starts[0]
        cr3 = tl.cr3_page(start["cr3"])
        ends = [e for e in events if e["type"] == "syscall_enter" and
                e["nr"] == tl.NR["execve"] and tl.cr3_page(e["cr3"]) == cr3
                and e["ts"] >= start["ts"]]
        self.assertTrue(ends, "no execve in the program's address space")
        end = ends[0]
        seq = sorted((e for e in events
                      if e["type"] != "lost" and tl.cr3_page(e["cr3"]) == cr3
                      and start["ts"] <= e["ts"] <= end["ts"]),
                     key=lambda e: (e["ts"], e["vcpu"], e["seq"]))
        n_expected = 2 + 2 + 2 * p["getpids"] + 2 + p["pages"] + 2 + 1
        self.assertEqual(len(seq), n_expected,
                         "events of the program:\n  " + describe(seq))
        it = iter(seq)

        def call(name, ret=None):
            enter, exit_ = next(it), next(it)
            self.assertEqual((enter["type"], enter["name"]),
                             ("syscall_enter", name), describe(seq))
            self.assertEqual((exit_["type"], exit_["name"]),
                             ("syscall_exit", name), describe(seq))
            self.assertEqual((exit_["enter_vcpu"], exit_["enter_seq"]),
                             (enter["vcpu"], enter["seq"]))
            self.assertEqual(hexval(exit_["rip"]), hexval(enter["ret_rip"]))
            self.assertEqual(hexval(exit_["rsp"]), hexval(enter["rsp"]))
            if ret is not None:
                self.assertEqual(exit_["ret"], ret, name)
            return [hexval(a) for a in enter["args"]], enter, exit_

        args, enter, exit_ = call("openat")
        self.assertEqual(args[0], AT_FDCWD)
        self.assertEqual(args[2], O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC)
        self.assertEqual(args[3], 0o600)
        self.assertEqual(enter["paths"], [{"arg": 1, "path": p["path"],
                                           "truncated": False,
                                           "unreadable": False}])
        fd = exit_["ret"]
        self.assertGreaterEqual(fd, 3)
        args, _, _ = call("write", p["write"])
        self.assertEqual((args[0], args[2]), (fd, p["write"]))
        for _ in range(p["getpids"]):
            call("getpid", p["pid"])
        args, _, exit_ = call("mmap")
        self.assertEqual(args[:5], [0, p["pages"] * 4096, PROT_RW,
                                    MAP_PRIVATE_ANON, (1 << 64) - 1])
        base = exit_["ret"]
        self.assertEqual(base % 4096, 0)
        for i in range(p["pages"]):
            f = next(it)
            self.assertEqual(f["type"], "page_fault", describe(seq))
            self.assertEqual(hexval(f["cr2"]), base + i * 4096 + 8 * i)
            self.assertEqual(f["error_code"] & 0x7, 0x6)   # user write, !P
            self.assertEqual(f["cpl"], 3)
            # The program's own store, disassembled from the copied bytes:
            # map[i * 4096 + 8 * i] = 1, a byte store of the constant 1.
            self.assertRegex(f.get("insn") or "",
                             r"^mov byte ptr \[[^\]]+\], 1$", f)
        _, enter, exit_ = call("open", -2)
        self.assertEqual(exit_["errno"], "ENOENT")
        self.assertEqual(enter["paths"][0]["path"], p["missing"])
        enter = next(it)
        self.assertEqual((enter["type"], enter["name"], path_of(enter)),
                         ("syscall_enter", "execve", "/bin/tracetest"))
        # A successful execve does not return to the old image; the new one
        # runs in a new address space and writes its line there.
        self.assertFalse([e for e in events if e["type"] == "syscall_exit"
                          and e["enter_seq"] == enter["seq"]
                          and e["enter_vcpu"] == enter["vcpu"]])
        # (By pid: /init's awk writes the same 31-byte line later.)
        child_writes = [e for e in events if e["type"] == "syscall_enter"
                        and e["name"] == "write" and e["ts"] > enter["ts"]
                        and tl.cr3_page(e["cr3"]) != cr3
                        and hexval(e["args"][2]) == 31
                        and e.get("pid") == p["pid"]]
        self.assertTrue(child_writes, "no write from the exec'd image")
        # os-profile: every event of the program names it, before and after
        # the exec (same process, same pid), with the pid getpid returned.
        for e in seq + child_writes:
            self.assertEqual((e.get("pid"), e.get("tid"), e.get("comm")),
                             (p["pid"], p["pid"], "tracetest"), e)
        # Per-vCPU order: seq increases with time on every ring.
        for v in range(smp):
            ring = [e for e in events if e["vcpu"] == v]
            self.assertEqual([e["seq"] for e in ring],
                             sorted(e["seq"] for e in ring))
            self.assertEqual([e["ts"] for e in ring],
                             sorted(e["ts"] for e in ring))

    def test_tracetest_smp1(self):
        self.check_tracetest(1)
        # One vCPU thread: calls that return at once (getpid, write) go out
        # as one record; blocking ones (wait4) and execve alone.
        returned, alone = self.by_return[0]
        self.assertGreater(returned, alone)
        self.assertGreater(alone, 0)

    def test_tracetest_smp2(self):
        self.check_tracetest(2)
        # MTTCG, a thread per vCPU: no entry waits for its return.
        for returned, alone in self.by_return:
            self.assertEqual(returned, 0)
            self.assertGreater(alone, 0)

    def test_paths_and_int80(self):
        """tracepaths: the stat family, rename and unlink with their paths,
        a truncated and an unreadable path, and the i386 ABI via INT 0x80
        (entry int80, return by IRET)."""
        with tl.Guest(smp=1, run="tracepaths",
                      trace_opts=",size=16M,paths=on,events=syscall:pagefault"
                      ) as g:
            self.assertEqual(g.run(), 0, g.qemu_output)
            console = g.console_text()
            events, summary, _ = tl.read_ring(g.ring, "--peek")
        m = re.search(r"tracepaths: pid=(\d+) path=(\S+) renamed=(\S+) "
                      r"long=(\d+) int80-write=(\d+) int80-missing=(\S+)",
                      console)
        self.assertIsNotNone(m, "tracepaths did not run:\n" + console[-2000:])
        self.assertIn("tracepaths: int80", console)
        pid, path, renamed = int(m.group(1)), m.group(2), m.group(3)
        long_len, msg_len, missing = (int(m.group(4)), int(m.group(5)),
                                      m.group(6))
        self.assertEqual(summary["vcpus"][0]["lost"], 0, summary)

        def path_of(e):
            return e["paths"][0]["path"] if e.get("paths") else None

        starts = [e for e in events if e["type"] == "syscall_enter" and
                  e["name"] == "newfstatat" and path_of(e) == path]
        self.assertTrue(starts, "no newfstatat of %s" % path)
        cr3 = tl.cr3_page(starts[0]["cr3"])
        # Syscalls only: the page faults between them depend on which
        # string functions glibc picks for the CPU's features.
        seq = [e for e in events
               if e["type"] in ("syscall_enter", "syscall_exit") and
               tl.cr3_page(e["cr3"]) == cr3 and e["ts"] >= starts[0]["ts"]]
        seq.sort(key=lambda e: e["seq"])
        self.assertGreaterEqual(len(seq), 23, describe(seq))
        # 11 calls, then exit_group, which does not return.
        self.assertEqual((seq[22]["type"], seq[22]["name"]),
                         ("syscall_enter", "exit_group"), describe(seq))
        it = iter(seq[:22])

        def call(name, ret, abi="x86_64"):
            enter, exit_ = next(it), next(it)
            self.assertEqual((enter["type"], enter["name"], enter["abi"]),
                             ("syscall_enter", name, abi), describe(seq))
            self.assertEqual((exit_["type"], exit_["name"]),
                             ("syscall_exit", name), describe(seq))
            self.assertEqual((exit_["enter_vcpu"], exit_["enter_seq"]),
                             (enter["vcpu"], enter["seq"]))
            self.assertEqual(hexval(exit_["rip"]), hexval(enter["ret_rip"]))
            if ret is not None:
                self.assertEqual(exit_["ret"], ret, name)
            return [hexval(a) for a in enter["args"]], enter, exit_

        def paths(enter):
            return [(p["arg"], p["path"], p["truncated"], p["unreadable"])
                    for p in enter.get("paths", [])]

        _, enter, _ = call("newfstatat", -2)
        self.assertEqual(paths(enter), [(1, path, False, False)])
        _, enter, exit_ = call("openat", None)
        self.assertEqual(paths(enter), [(1, path, False, False)])
        fd = exit_["ret"]
        self.assertGreaterEqual(fd, 3)
        args, _, _ = call("close", 0)
        self.assertEqual(args[0], fd)
        _, enter, _ = call("newfstatat", 0)
        self.assertEqual(paths(enter), [(1, path, False, False)])
        _, enter, _ = call("rename", 0)
        self.assertEqual(paths(enter), [(0, path, False, False),
                                        (1, renamed, False, False)])
        _, enter, _ = call("unlink", 0)
        self.assertEqual(paths(enter), [(0, renamed, False, False)])
        # A 400-byte path: the record keeps the first 256 bytes.
        _, enter, exit_ = call("openat", None)
        self.assertEqual(exit_["errno"], "ENAMETOOLONG")
        (arg, text, truncated, unreadable), = paths(enter)
        self.assertEqual((arg, truncated, unreadable), (1, True, False))
        self.assertEqual(text, ("/tmp/" + "p" * long_len)[:256])
        # A pointer into the unmapped first page.
        args, enter, exit_ = call("openat", -14)
        self.assertEqual(args[1], 8)
        self.assertEqual(paths(enter), [(1, None, False, True)])
        # INT 0x80 from 64-bit code: the i386 table and registers.
        _, enter, exit_ = call("getpid", pid, abi="i386")
        self.assertEqual((enter["entry"], exit_["exit"]), ("int80", "iret"))
        self.assertEqual(enter["nr"], 20)
        args, enter, exit_ = call("write", msg_len, abi="i386")
        self.assertEqual((args[0], args[2]), (1, msg_len))
        self.assertEqual((enter["entry"], exit_["exit"]), ("int80", "iret"))
        _, enter, exit_ = call("open", -2, abi="i386")
        self.assertEqual(paths(enter), [(0, missing, False, False)])
        self.assertEqual(exit_["errno"], "ENOENT")

    def check_tracecompat(self, profile, entry, exit_):
        """tracecompat (32-bit) calls through the vDSO; the CPU vendor of
        the cloak profile decides which entry Linux's vDSO uses."""
        with tl.Guest(smp=1, run="tracecompat",
                      trace_opts=",size=16M,paths=on,events=syscall:pagefault",
                      extra=["-cloak", "profile=" + profile]) as g:
            self.assertEqual(g.run(), 0, g.qemu_output)
            console = g.console_text()
            events, summary, _ = tl.read_ring(g.ring, "--peek")
        m = re.search(r"tracecompat: pid=(\d+) write=(\d+) missing=(\S+) "
                      r"pgoff=(0x[0-9a-f]+) vsyscall=(0x[0-9a-f]+)", console)
        self.assertIsNotNone(m, "tracecompat did not run:\n" + console[-2000:])
        self.assertIn("tracecompat: vsyscall", console)
        pid, msg_len, missing = int(m.group(1)), int(m.group(2)), m.group(3)
        pgoff, vsyscall = hexval(m.group(4)), hexval(m.group(5))
        self.assertEqual(summary["vcpus"][0]["lost"], 0, summary)

        locks = [e for e in events if e["type"] == "syscall_enter"
                 and e["abi"] == "i386" and e["name"] == "mlockall"]
        self.assertTrue(locks, "no i386 mlockall")
        cr3 = tl.cr3_page(locks[-1]["cr3"])
        seq = sorted((e for e in events if e["type"] != "lost" and
                      tl.cr3_page(e["cr3"]) == cr3 and
                      e["seq"] > locks[-1]["seq"]), key=lambda e: e["seq"])
        self.assertGreaterEqual(len(seq), 10, describe(seq))
        # The mlockall's return, then 4 calls, then exit_group.
        self.assertEqual((seq[0]["type"], seq[0]["name"]),
                         ("syscall_exit", "mlockall"), describe(seq))
        self.assertEqual((seq[9]["type"], seq[9]["name"]),
                         ("syscall_enter", "exit_group"), describe(seq))
        it = iter(seq[1:9])

        def call(name, ret):
            enter, x = next(it), next(it)
            self.assertEqual((enter["type"], enter["name"], enter["abi"],
                              enter["entry"]),
                             ("syscall_enter", name, "i386", entry),
                             describe(seq))
            self.assertEqual((x["type"], x["name"], x["exit"]),
                             ("syscall_exit", name, exit_), describe(seq))
            self.assertEqual((x["enter_vcpu"], x["enter_seq"]),
                             (enter["vcpu"], enter["seq"]))
            self.assertEqual(x["ret"], ret, name)
            # Inside __kernel_vsyscall, in and out.
            self.assertTrue(0 <= hexval(enter["rip"]) - vsyscall < 64)
            self.assertTrue(0 <= hexval(x["rip"]) - vsyscall < 64)
            return [hexval(a) for a in enter["args"]], enter

        call("getpid", pid)
        args, _ = call("write", msg_len)
        self.assertEqual((args[0], args[2]), (1, msg_len))
        _, enter = call("open", -2)
        self.assertEqual(enter["paths"], [{"arg": 0, "path": missing,
                                           "truncated": False,
                                           "unreadable": False}])
        # Six arguments: the sixth comes from the user stack.
        args, _ = call("mmap2", -22)
        self.assertEqual(args, [0x10000, 0, 3, 0x22, 0xffffffff, pgoff])

    def test_sysenter_intel(self):
        self.check_tracecompat("dell-optiplex-7000", "sysenter", "sysret")

    def test_compat_syscall_amd(self):
        self.check_tracecompat("asus-prime-b450m-a", "syscall32", "sysret")

    def test_full_ring_exact_drop_count(self):
        """A 4 KiB ring and no reader: drops, each counted exactly."""
        with tl.Guest(smp=2, run="tracetest",
                      trace_opts=",size=4K,events=syscall:pagefault") as g:
            self.assertEqual(g.run(), 0, g.qemu_output)
            self.assertIn("@@CLOAK-GUEST-END nonce=trace", g.console_text())
            events, summary, _ = tl.read_ring(g.ring)
        lost_total = 0
        for v in summary["vcpus"]:
            # Every drop is either reported in a LOST record or is after
            # the last record written (no room left for a LOST record).
            self.assertEqual(v["lost"], v["lost_in_records"] +
                             v["lost_trailing"], v)
            recs = [e for e in events if e["vcpu"] == v["vcpu"]]
            self.assertEqual(len(recs), v["records"])
            lost_total += v["lost"]
            self.assertEqual(
                sum(e["count"] for e in recs if e["type"] == "lost"),
                v["lost_in_records"])
            # Sequence numbers: records + drops cover 0..next_seq-1.
            self.assertEqual(len(recs) + v["lost"], v["next_seq"], v)
        self.assertGreater(lost_total, 1000)

    def test_live_reader_killed_and_restarted(self):
        """A reader attaches mid-stream, is SIGKILLed, a second one resumes;
        the guest runs on unaffected and nothing goes missing."""
        with tl.Guest(smp=2, run="tracebench", args=[40000],
                      trace_opts=",size=64M,events=syscall:pagefault") as g:
            g.start()
            g.wait_for_ring()
            time.sleep(6)      # the backlog builds up in the ring
            r1 = subprocess.Popen([tl.READER, "-f", g.ring],
                                  stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL)
            first = [r1.stdout.readline() for _ in range(3000)]
            r1.send_signal(signal.SIGKILL)
            r1.wait()
            # Everything the killed reader wrote before it died, but the
            # last line if the kill cut it (stdio flushes a full buffer
            # mid-line; the reader releases records only after a fflush
            # at a line end, so the second reader reads that record again).
            first += r1.stdout.read().decode().split("\n")[:-1]
            r1.stdout.close()
            self.assertIsNone(g.proc.poll(), "QEMU died with the reader")
            time.sleep(1)
            events, summary, _ = tl.read_ring(g.ring, "-f")
            self.assertEqual(g.wait(), 0, g.qemu_output)
            self.assertIn("@@CLOAK-GUEST-END nonce=trace", g.console_text())
            self.assertIn("tracebench: syscalls=120000", g.console_text())
        first = [json.loads(l) for l in first if l.strip()]
        self.assertGreaterEqual(len(first), 3000)
        # The first reader attached mid-stream and still saw the backlog
        # from the start of each ring (nothing had been released).
        self.assertIn(0, {e["seq"] for e in first})
        for v in summary["vcpus"]:
            ring1 = [e["seq"] for e in first if e["vcpu"] == v["vcpu"]]
            ring2 = [e["seq"] for e in events if e["vcpu"] == v["vcpu"]]
            self.assertTrue(ring2)
            # No gap between what the killed reader wrote and where the
            # second resumed (the first releases only what it has written;
            # the second may re-read what was written but not yet
            # released), and the second read everything up to the end.
            if ring1:
                self.assertLessEqual(ring2[0], max(ring1) + 1)
                self.assertGreaterEqual(ring2[0], min(ring1))
            self.assertEqual(ring2[-1] + 1 + v["lost_trailing"],
                             v["next_seq"])
            self.assertEqual(v["lost"], 0, v)

    def test_block_mode_loses_nothing(self):
        """mode=block with a small ring and a live reader: not one drop."""
        with tl.Guest(smp=2, run="tracetest",
                      trace_opts=",size=8K,mode=block,events=syscall:pagefault"
                      ) as g:
            g.start()
            g.wait_for_ring()
            events, summary, _ = tl.read_ring(g.ring, "-f", "-o", "none")
            self.assertEqual(g.wait(), 0, g.qemu_output)
            self.assertIn("tracetest: child image running", g.console_text())
        for v in summary["vcpus"]:
            self.assertEqual(v["lost"], 0, v)
            self.assertEqual(v["records"], v["next_seq"], v)
        self.assertGreater(summary["syscall_enters"], 1000)


if __name__ == "__main__":
    unittest.main()


class BlockModeStaysResponsive(unittest.TestCase):
    """Issue 13.2: in block mode a full ring with no reader froze QEMU
    (a page fault waits with the big lock held): no QMP greeting, SIGTERM
    ignored, the header left RUNNING.  Now the main loop keeps running,
    qom-set enabled=false releases the vCPU, and SIGTERM closes the ring."""

    def setUp(self):
        tl.require_built(self)

    def state(self, ring):
        return tl.ring_state(ring)

    def ring_full(self, ring):
        """True once some vCPU's ring has no room for one more record."""
        with open(ring, "rb") as f:
            data = f.read(1 << 16)

        def u(off, n):
            return int.from_bytes(data[off:off + n], "little")

        ctl_size, nr, ring_size, ctl = u(20, 4), u(24, 4), u(32, 8), u(40, 8)
        return any(u(ctl + i * ctl_size, 8) - u(ctl + i * ctl_size + 64, 8)
                   > ring_size - 128 for i in range(nr))

    def start_blocked(self, g, sock):
        g.cmd += ["-qmp", "unix:%s,server=on,wait=off" % sock]
        g.start()
        g.wait_for_ring()
        # 4 KiB hold 64 page-fault records; boot makes thousands.
        end = time.monotonic() + 120
        while not self.ring_full(g.ring):
            self.assertLess(time.monotonic(), end, "the ring never filled")
            self.assertIsNone(g.proc.poll(), "QEMU ended early")
            time.sleep(0.1)
        time.sleep(1)       # the vCPU is waiting now

    def test_qmp_and_disable_while_blocked(self):
        with tl.Guest(smp=1, trace_opts=",size=4K,mode=block,events=pagefault"
                      ) as g:
            sock = os.path.join(g.dir, "qmp.sock")
            self.start_blocked(g, sock)
            qmp = QmpClient(sock)      # times out if the main loop is stuck
            self.assertIn("QMP", qmp.greeting)
            r = qmp.cmd("qom-set", path="/objects/trace0", property="enabled",
                        value=False)
            self.assertIn("return", r, r)
            self.assertEqual(self.state(g.ring), 2)     # STOPPED
            qmp.close()
            g.proc.send_signal(signal.SIGTERM)
            g.wait(timeout=60)
            self.assertEqual(self.state(g.ring), 3)     # CLOSED

    def test_sigterm_while_blocked(self):
        with tl.Guest(smp=2, trace_opts=",size=4K,mode=block,events=pagefault"
                      ) as g:
            sock = os.path.join(g.dir, "qmp.sock")
            self.start_blocked(g, sock)
            g.proc.send_signal(signal.SIGTERM)
            g.wait(timeout=60)
            self.assertEqual(self.state(g.ring), 3)     # CLOSED
            events, summary, _ = tl.read_ring(g.ring, "--peek", check=False)
            self.assertTrue(summary, "the reader gave no summary")


class StormTest(unittest.TestCase):
    """Issue 13.9: 4 vCPUs under MTTCG, tracing on, a multi-threaded
    syscall and page-fault storm with a live reader, in both modes.  Drop
    mode may lose records but must count every one; block mode loses none.
    QEMU must end cleanly (an MTTCG abort was once seen with 4 vCPUs)."""

    THREADS, ROUNDS = 4, 1500

    def setUp(self):
        tl.require_built(self)

    def storm(self, mode):
        with tl.Guest(smp=4, run="stormtest", args=[self.THREADS, self.ROUNDS],
                      trace_opts=",size=256K,mode=%s,events=syscall:pagefault"
                      % mode) as g:
            rc, reader_rc, summary, seconds = tl.run_with_reader(g)
            console = g.console_text()
        self.assertEqual(rc, 0, g.qemu_output[-2000:])
        m = re.search(r"stormtest: threads=(\d+) rounds=(\d+) syscalls=(\d+) "
                      r"faults=(\d+) failed=0", console)
        self.assertIsNotNone(m, "the storm did not finish:\n" + console[-2000:])
        self.assertEqual(reader_rc, 0)
        self.assertTrue(summary, "the reader gave no summary")
        enters = summary["syscall_enters"]
        lost = sum(v["lost"] for v in summary["vcpus"])
        syscalls = int(m.group(3))
        print("\n  [storm] mode=%s smp=4 %.1f s: %d syscall entries, %d page "
              "faults read, %d lost (the guest made %d syscalls, %s faults)"
              % (mode, seconds, enters, summary["page_faults"], lost,
                 syscalls, m.group(4)))
        for v in summary["vcpus"]:
            # every drop is reported, in a LOST record or as trailing loss
            self.assertEqual(v["lost"],
                             v["lost_in_records"] + v["lost_trailing"], v)
        # every syscall the storm made has its entry record, or was counted
        self.assertGreaterEqual(enters + lost, syscalls)
        return lost

    def test_storm_drop_mode(self):
        self.storm("drop")

    def test_storm_block_mode(self):
        self.assertEqual(self.storm("block"), 0)
