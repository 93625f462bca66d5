"""cloak-trace process attribution (os-profile=FILE) end to end, under TCG:
threads of one process, the guest's process tree, a profile of another
kernel refused, and a non-Linux guest's calls left unnamed.  tracetest's
pid, comm and faulting instruction are checked in test_trace_guest.py,
on its -smp 1 and -smp 2 boots."""

import json
import os
import re
import subprocess
import tempfile
import unittest

from tests.lib import tracelib as tl


def other_kernel_profile(dirname):
    """A profile of a kernel that is not the guest's: this host's own
    (its /sys/kernel/btf/vmlinux), or, where the host kernel has no BTF,
    the guest's profile renamed to another release."""
    out = os.path.join(dirname, "other.os-profile")
    btf = "/sys/kernel/btf/vmlinux"
    if os.access(btf, os.R_OK):
        uname = os.uname()
        subprocess.run([tl.READER, "profile", "--release", uname.release,
                        "--version", uname.version, "-o", out, btf],
                       check=True, timeout=300)
        return out, "%s %s" % (uname.release, uname.version)
    with open(tl.guest_os_profile()) as f:
        text = f.read()
    text = re.sub(r"(?m)^release=.*$", "release=6.1.0-99-amd64", text)
    with open(out, "w") as f:
        f.write(text)
    version = re.search(r"(?m)^version=(.*)$", text).group(1)
    return out, "6.1.0-99-amd64 %s" % version


class TaskAttributionTest(unittest.TestCase):

    def setUp(self):
        tl.require_built(self)
        self.profile = tl.guest_os_profile()
        with open(self.profile) as f:
            kv = dict(l.split("=", 1) for l in f.read().splitlines()
                      if "=" in l)
        self.guest_kernel = "%s %s" % (kv["release"], kv["version"])

    def test_threads_share_a_tgid(self):
        with tl.Guest(smp=2, run="threadtest",
                      trace_opts=",events=syscall,os-profile=" + self.profile
                      ) as g:
            self.assertEqual(g.run(), 0, g.qemu_output)
            console = g.console_text()
            events, summary, _ = tl.read_ring(g.ring, "--peek")
            m = re.search(r"threadtest: pid=(\d+) tids=([\d,]+)", console)
            self.assertIsNotNone(m, console[-2000:])
            by_tid, _, _ = tl.read_ring(g.ring, "--peek", "--pid",
                                        m.group(2).split(",")[1])
            by_comm, _, _ = tl.read_ring(g.ring, "--peek", "--comm",
                                         "threadtest")
        pid = int(m.group(1))
        tids = [int(t) for t in m.group(2).split(",")]
        self.assertEqual(len(set(tids)), 3, tids)
        self.assertEqual(tids[0], pid)
        # Before its execve the process is /init's fork, named "init";
        # at its end the main thread renames itself.
        ours = [e for e in events if e.get("pid") == pid]
        self.assertEqual({e["comm"] for e in ours},
                         {"init", "threadtest", "threadtest-rn"})
        mine = [e for e in ours if e["comm"] == "threadtest"]
        self.assertEqual({e["tid"] for e in mine}, set(tids))
        # Each gettid returns the tid its own records carry.
        gettids = [e for e in mine if e["type"] == "syscall_exit" and
                   e["name"] == "gettid"]
        self.assertEqual(sorted(e["ret"] for e in gettids), sorted(tids))
        for e in gettids:
            self.assertEqual(e["ret"], e["tid"], e)
        # pid and comm filters select exactly these events.
        by_pid, _, _ = tl.read_ring(g.ring, "--peek", "--pid", str(tids[1])) \
            if False else (None, None, None)

    def test_threads_taking_turns_on_one_vcpu(self):
        """Three threads of one address space loop on gettid on one vCPU,
        so the scheduler switches them in mid-loop: a call that follows
        its thread's own return takes that call's task again (without
        reading the current task), and every gettid's records must still
        name the thread it returned; a rename shows at the next call."""
        rounds = 4000
        with tl.Guest(smp=1, run="threadtest", args=[rounds],
                      trace_opts=",size=32M,events=syscall,os-profile=" +
                      self.profile) as g:
            self.assertEqual(g.run(), 0, g.qemu_output)
            console = g.console_text()
            returned, _ = tl.entries_by_return(g.ring)
            events, summary, _ = tl.read_ring(g.ring, "--peek")
        m = re.search(r"threadtest: pid=(\d+) tids=([\d,]+)", console)
        self.assertIsNotNone(m, console[-2000:])
        tids = {int(t) for t in m.group(2).split(",")}
        self.assertEqual(len(tids), 3, tids)
        self.assertEqual(sum(v["lost"] for v in summary["vcpus"]), 0)
        # Entries carried their returns, so calls could take kept tasks.
        self.assertGreater(returned, 3 * rounds)
        gettids = [e for e in events if e["type"] == "syscall_exit" and
                   e["name"] == "gettid" and e.get("comm") == "threadtest"]
        self.assertEqual(len(gettids), 3 * rounds)
        self.assertEqual({e["ret"] for e in gettids}, tids)
        for e in gettids:
            self.assertEqual(e["ret"], e["tid"], e)
        entries = {(e["vcpu"], e["seq"]): e for e in events
                   if e["type"] == "syscall_enter"}
        for e in gettids:
            self.assertEqual(entries[(e["vcpu"], e["enter_seq"])]["tid"],
                             e["ret"], e)
        # The call after prctl(PR_SET_NAME) carries the new name, though
        # its thread stayed in user mode since the rename returned.
        prctl = [i for i, e in enumerate(events)
                 if e["type"] == "syscall_exit" and e["name"] == "prctl" and
                 e.get("pid") == int(m.group(1))]
        self.assertEqual(len(prctl), 1, prctl)
        after = [e for e in events[prctl[0] + 1:]
                 if e.get("tid") == int(m.group(1))]
        self.assertEqual(after[0]["name"], "gettid", after[:2])
        self.assertEqual(after[0]["comm"], "threadtest-rn", after[0])

    def test_process_tree(self):
        """The detector battery's boot: --tree shows /init (pid 1) and the
        programs it starts, with their exec paths, and virt-what's own
        children (a shell script running commands)."""
        with tl.Guest(smp=1, trace_opts=",size=4M,mode=block,events=syscall,"
                      "paths=on,os-profile=" + self.profile) as g:
            g.start()
            g.wait_for_ring()
            tree_json = subprocess.Popen(
                [tl.READER, "-f", "--tree", "-o", "json", g.ring],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            self.assertEqual(g.wait(), 0, g.qemu_output)
            out, err = tree_json.communicate(timeout=300)
            self.assertEqual(tree_json.returncode, 0, err)
        procs = {}
        for line in out.decode().splitlines():
            p = json.loads(line)
            self.assertEqual(p["type"], "process")
            procs[p["pid"]] = p
        self.assertEqual(procs[1]["comm"], "init", procs.get(1))

        def by_exec(path):
            found = [p for p in procs.values() if p["exec"] == path]
            self.assertTrue(found, "no process ran %s: %s" % (
                path, sorted({str(p["exec"]) for p in procs.values()})))
            return found[0]

        def ancestors(p):
            chain = []
            while p["ppid"] in procs and p["ppid"] != p["pid"]:
                p = procs[p["ppid"]]
                chain.append(p["pid"])
            return chain

        for path, comm in (("/usr/sbin/dmidecode", "dmidecode"),
                           ("/usr/bin/lspci", "lspci"),
                           ("/usr/sbin/virt-what", "virt-what")):
            p = by_exec(path)
            self.assertEqual(p["comm"], comm)
            self.assertEqual(ancestors(p)[-1:], [1], p)
            self.assertGreater(p["syscalls"], 0)
            self.assertIsNotNone(p["exit_ts"], p)
            self.assertGreaterEqual(p["exit_ts"], p["first_ts"])
        vw = by_exec("/usr/sbin/virt-what")
        self.assertTrue([p for p in procs.values() if p["ppid"] == vw["pid"]],
                        "virt-what started no command")
        # (The text view of the tree is checked in test_reader_cli.)

    def test_other_kernel_is_refused(self):
        with tempfile.TemporaryDirectory() as d:
            other, other_name = other_kernel_profile(d)
            with tl.Guest(smp=1, run="tracetest",
                          trace_opts=",events=syscall,os-profile=" + other
                          ) as g:
                self.assertEqual(g.run(), 0, g.qemu_output)
                events, _, err = tl.read_ring(g.ring, "--peek")
                with open(g.ring, "rb") as f:
                    header = f.read(4096)
                tree = subprocess.run([tl.READER, "--peek", "--tree", g.ring],
                                      stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)
        # QEMU says so once, naming both kernels; so do the file and reader.
        msg = "os-profile is for kernel '%s' but the guest runs '%s'" % (
            other_name, self.guest_kernel)
        self.assertEqual(g.qemu_output.count("os-profile is for kernel"), 1,
                         g.qemu_output)
        self.assertIn(msg.split(" but")[0], g.qemu_output)
        self.assertIn("the guest runs '%s'" % self.guest_kernel,
                      g.qemu_output)
        self.assertEqual(header[124], 3)    # CLOAK_TRACE_ATTR_REFUSED
        self.assertEqual(header[272:272 + len(self.guest_kernel)].decode(),
                         self.guest_kernel)
        self.assertIn("the guest runs '%s'" % self.guest_kernel, err)
        self.assertTrue(events)
        self.assertFalse([e for e in events if "pid" in e or "comm" in e])
        self.assertEqual(tree.returncode, 0, tree.stderr)
        self.assertEqual(tree.stdout, b"")

    def test_windows_guest_calls_are_numbers(self):
        """guest-os=windows: the same Linux guest's calls, but the reader
        must not name them from Linux's table."""
        with tl.Guest(smp=1, run="tracetest",
                      trace_opts=",events=syscall,guest-os=windows") as g:
            self.assertEqual(g.run(), 0, g.qemu_output)
            events, summary, _ = tl.read_ring(g.ring, "--peek")
            text = subprocess.run([tl.READER, "--peek", "-o", "text", g.ring],
                                  stdout=subprocess.PIPE, timeout=300)
            named = subprocess.run([tl.READER, "--peek", "-s", "getpid",
                                    g.ring], stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, timeout=300)
        calls = [e for e in events if e["type"].startswith("syscall")]
        self.assertTrue(calls)
        self.assertEqual({e["name"] for e in calls}, {None})
        self.assertEqual(list(summary["syscalls"]), ["unknown"])
        self.assertNotIn(b"getpid(", text.stdout)
        self.assertIn(b"syscall_39(", text.stdout)
        self.assertEqual(named.returncode, 2)
        self.assertIn(b"not a Linux guest", named.stderr)


if __name__ == "__main__":
    unittest.main()
