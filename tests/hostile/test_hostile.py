#!/usr/bin/python3
"""The hostile-input suite: what a careless or hostile user and a hostile
guest can hand qemu-cloak, bounded in time, with counts.

- mutated profiles, through cloak-profile-check and through QEMU;
- mutated ring files, through the cloak-trace reader;
- special files (FIFO, device, directory, symlink, a file of the user's)
  as a profile, a ring path and a reader's input;
- readers SIGKILLed while a guest traces in block mode;
- a guest flooding syscalls and page faults in drop and in block mode.

Every input must end in success or a clear error (exit status 1 and a
message naming the input); a crash (a signal), a hang (past its bound) or
lost data fails the suite.  It prints one line of counts:

    hostile: tried N, accepted A, clear errors E, crashes 0, hangs 0, data lost 0

Environment: QEMU_BIN, GUEST_DIR, TOOLS_DIR (as the other suites),
CLOAK_PROFILE_CHECK, HOSTILE_SEED (default 13), HOSTILE_MUTANTS (300).
"""

import json
import os
import random
import re
import subprocess
import tempfile
import time
import unittest

from tests.lib import tracelib as tl
from tests.lib.paths import PROFILE_CHECK as CHECK, PROFILES as NAMES, profile_path

PROFILES = [profile_path(n) for n in NAMES]
SEED = int(os.environ.get("HOSTILE_SEED", "13"))
MUTANTS = int(os.environ.get("HOSTILE_MUTANTS", "300"))


class Counts:
    tried = accepted = clear = crashes = hangs = unclear = lost = 0
    problems = []

    @classmethod
    def run(cls, what, cmd, timeout=20, clear=None, **kw):
        """Runs cmd; counts its outcome.  clear(stderr) says whether a
        refusal's message is clear (default: it names something)."""
        cls.tried += 1
        try:
            p = subprocess.run(cmd, capture_output=True, timeout=timeout, **kw)
        except subprocess.TimeoutExpired:
            cls.hangs += 1
            cls.problems.append("hang: %s" % what)
            return None
        err = p.stderr.decode(errors="replace")
        if p.returncode < 0 or "Sanitizer" in err or "Traceback" in err:
            cls.crashes += 1
            cls.problems.append("crash (%d): %s: %s" % (p.returncode, what,
                                                        err[-300:]))
        elif p.returncode == 0:
            cls.accepted += 1
        elif p.returncode == 1 and err.strip() and (clear or bool)(err):
            cls.clear += 1
        else:
            cls.unclear += 1
            cls.problems.append("unclear (exit %d): %s: %s"
                                % (p.returncode, what, err[-300:]))
        return p

    @classmethod
    def line(cls):
        return ("hostile: tried %d, accepted %d, clear errors %d, crashes %d, "
                "hangs %d, unclear %d, data lost %d"
                % (cls.tried, cls.accepted, cls.clear, cls.crashes, cls.hangs,
                   cls.unclear, cls.lost))


def mutate(rng, data):
    """One hostile edit of a text or binary file."""
    data = bytearray(data)
    op = rng.randrange(9)
    if op == 0 and data:                        # flip bytes
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
    elif op == 1 and data:                      # cut short
        del data[rng.randrange(len(data)):]
    elif op == 2:                               # grow with junk
        data += bytes(rng.randrange(256) for _ in range(rng.randint(1, 5000)))
    elif op == 3:                               # a line repeated
        lines = bytes(data).split(b"\n")
        i = rng.randrange(len(lines))
        lines.insert(i, lines[i])
        data = bytearray(b"\n".join(lines))
    elif op == 4:                               # a line dropped
        lines = bytes(data).split(b"\n")
        del lines[rng.randrange(len(lines))]
        data = bytearray(b"\n".join(lines))
    elif op == 5:                               # a value made huge
        data = bytearray(re.sub(rb"=(.*)", lambda m: b"=" + m.group(1) * 50,
                                bytes(data), count=1))
    elif op == 6:                               # numbers out of range
        data = bytearray(re.sub(rb"=(0x[0-9a-fA-F]+|\d+)\n",
                                b"=18446744073709551617\n", bytes(data),
                                count=rng.randint(1, 3)))
    elif op == 7:                               # escapes and templates
        data += rng.choice([b"\n[system]\nversion=a\\qb\n",
                            b"\n[system]\nversion={D:999}\n",
                            b"\n[cpu]\nmodel-id-4294967297c1t=x\n",
                            b"\n[cpu]\nfeatures=" + b"a," * 700 + b"\n"])
    else:                                       # 32-bit words in binary
        for _ in range(rng.randint(1, 4)):
            if len(data) >= 4:
                off = rng.randrange(len(data) - 3) & ~3
                data[off:off + 4] = rng.choice(
                    [b"\xff\xff\xff\xff", b"\0\0\0\0", b"\0\0\0\x80",
                     rng.randrange(1 << 32).to_bytes(4, "little")])
    return bytes(data)


def names_file_and_line(path):
    return lambda err: re.search(re.escape(path) + r"(:\d+)?: ", err)


class HostileInput(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="cloak-hostile.", dir="/dev/shm"
                                   if os.path.isdir("/dev/shm") else None)

    @classmethod
    def tearDownClass(cls):
        print("\n" + Counts.line())
        for p in Counts.problems[:40]:
            print("  " + p)
        subprocess.run(["rm", "-rf", cls.tmp])

    def setUp(self):
        tl.require_built(self)
        if not os.path.exists(CHECK):
            self.fail("%s is missing: make tools" % CHECK)

    def test_1_mutated_profiles(self):
        rng = random.Random(SEED)
        for i in range(MUTANTS):
            src = rng.choice(PROFILES)
            with open(src, "rb") as f:
                data = mutate(rng, f.read())
            path = os.path.join(self.tmp, "mutant%d.conf" % i)
            with open(path, "wb") as f:
                f.write(data)
            Counts.run("profile mutant %d of %s" % (i, src),
                       [CHECK, "--seed", "x", path], timeout=10,
                       clear=names_file_and_line(path))
            if i % 10 == 0:         # every tenth through QEMU itself
                Counts.run("QEMU with profile mutant %d" % i,
                           [tl.QEMU_BIN] + tl.FIRMWARE +
                           ["-machine", "q35", "-display", "none", "-S",
                            "-monitor", "none", "-serial", "none", "-qmp",
                            "stdio", "-cloak", "profile=" + path],
                           input=b'{"execute":"qmp_capabilities"}\n'
                                 b'{"execute":"quit"}\n', timeout=30,
                           clear=lambda err: path in err)
        self.assertEqual((Counts.crashes, Counts.hangs, Counts.unclear),
                         (0, 0, 0), Counts.problems)

    def traced_guest(self, mode, run, args, smp=2, extra=()):
        return tl.Guest(smp=smp, run=run, args=args, extra=extra,
                        trace_opts=",size=64K,mode=%s,events=syscall:pagefault"
                        % mode)

    def test_2_mutated_rings(self):
        with self.traced_guest("drop", "tracetest", None) as g:
            self.assertEqual(g.run(), 0, g.qemu_output[-2000:])
            with open(g.ring, "rb") as f:
                seed = f.read()
        rng = random.Random(SEED)
        for i in range(MUTANTS):
            path = os.path.join(self.tmp, "mutant%d.ring" % i)
            with open(path, "wb") as f:
                f.write(mutate(rng, seed))
            Counts.run("ring mutant %d" % i, [tl.READER, "--peek", "--summary",
                                              path], timeout=20,
                       clear=lambda err: "cloak-trace: error:" in err)
            os.unlink(path)
        self.assertEqual((Counts.crashes, Counts.hangs, Counts.unclear),
                         (0, 0, 0), Counts.problems)

    def test_3_special_files(self):
        fifo = os.path.join(self.tmp, "fifo")
        os.mkfifo(fifo)
        link = os.path.join(self.tmp, "link")
        os.symlink("/dev/zero", link)
        mine = os.path.join(self.tmp, "users-file")
        with open(mine, "w") as f:
            f.write("the user's data\n")
        qemu = [tl.QEMU_BIN] + tl.FIRMWARE + [
            "-machine", "q35", "-display", "none", "-S", "-monitor", "none",
            "-serial", "none", "-qmp", "stdio"]
        quit_ = b'{"execute":"qmp_capabilities"}\n{"execute":"quit"}\n'
        for path in ("/dev/zero", "/dev/null", fifo, link, self.tmp):
            Counts.run("cloak-profile-check " + path, [CHECK, path],
                       timeout=10, clear=lambda err, p=path: p in err)
            Counts.run("-cloak profile=" + path,
                       qemu + ["-cloak", "profile=" + path], input=quit_,
                       timeout=30, clear=lambda err, p=path: p in err)
            Counts.run("cloak-trace --peek " + path,
                       [tl.READER, "--peek", path], timeout=10,
                       clear=lambda err, p=path: p in err)
        for path in ("/dev/null", fifo, link, self.tmp, mine):
            p = Counts.run("-object cloak-trace,path=" + path,
                           qemu + ["-object", "cloak-trace,id=t,path=" + path],
                           input=quit_, timeout=30,
                           clear=lambda err, p=path: p in err)
            self.assertNotEqual(p.returncode if p else 0, 0, path)
        with open(mine) as f:
            if f.read() != "the user's data\n":
                Counts.lost += 1
                Counts.problems.append("a ring path replaced the user's file")
        self.assertEqual((Counts.crashes, Counts.hangs, Counts.unclear,
                          Counts.lost), (0, 0, 0, 0), Counts.problems)

    def test_4_reader_kills(self):
        """Readers SIGKILLed at random moments while a guest traces in
        block mode: the next reader resumes where the last one released,
        and the sequence numbers of what all of them printed have no gap."""
        rng = random.Random(SEED)
        seen = {}
        with self.traced_guest("block", "tracebench", [20000], smp=1) as g:
            g.start()
            g.wait_for_ring()
            kills = 0
            while g.proc.poll() is None or kills < 3:
                out = os.path.join(self.tmp, "reader%d.jsonl" % kills)
                with open(out, "wb") as f:
                    r = subprocess.Popen([tl.READER, "-f", g.ring], stdout=f,
                                         stderr=subprocess.DEVNULL)
                    time.sleep(rng.uniform(0.2, 1.5))
                    r.kill()
                    r.wait()
                kills += 1
                Counts.tried += 1
                self.collect(out, seen)
                if kills > 60:
                    break
            g.wait(timeout=600)
            out = os.path.join(self.tmp, "reader-last.jsonl")
            with open(out, "wb") as f:
                subprocess.run([tl.READER, g.ring], stdout=f, timeout=120)
            self.collect(out, seen)
        for vcpu, seqs in seen.items():
            gaps = sorted(set(range(max(seqs) + 1)) - seqs)
            if gaps:
                Counts.lost += len(gaps)
                Counts.problems.append("vCPU %d: %d sequence numbers never "
                                       "printed, first %d" % (vcpu, len(gaps),
                                                              gaps[0]))
        print("\n  [reader kills] %d readers killed, %d events"
              % (kills, sum(len(s) for s in seen.values())))
        self.assertGreater(sum(len(s) for s in seen.values()), 0)
        self.assertEqual(Counts.lost, 0, Counts.problems)

    @staticmethod
    def collect(path, seen):
        with open(path, "rb") as f:
            for line in f.read().decode(errors="replace").splitlines():
                try:
                    e = json.loads(line)
                except ValueError:
                    continue        # the last line of a killed reader
                if e.get("type") == "lost":
                    continue
                seen.setdefault(e["vcpu"], set()).add(e["seq"])

    def test_5_guest_flood(self):
        """A guest's storm of syscalls and faults on 2 vCPUs with a live
        reader: block mode loses nothing, drop mode counts every drop."""
        for mode in ("drop", "block"):
            with self.traced_guest(mode, "stormtest", [2, 800]) as g:
                rc, _, summary, _ = tl.run_with_reader(g)
                Counts.tried += 1
                self.assertEqual(rc, 0, g.qemu_output[-2000:])
                self.assertIn("failed=0", g.console_text())
                self.assertTrue(summary, "the reader gave no summary")
                for v in summary["vcpus"]:
                    unreported = v["lost"] - v["lost_in_records"] - \
                        v["lost_trailing"]
                    if unreported or (mode == "block" and v["lost"]):
                        Counts.lost += max(unreported, v["lost"])
                        Counts.problems.append("%s mode vCPU %d: %s"
                                               % (mode, v["vcpu"], v))
                Counts.accepted += 1
        self.assertEqual(Counts.lost, 0, Counts.problems)


if __name__ == "__main__":
    unittest.main(verbosity=2)
