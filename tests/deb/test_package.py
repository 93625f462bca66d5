"""The Debian package, used as an operator uses it (debian/, `make deb`).

With build/deb/qemu-cloak_VERSION_amd64.deb built, as root:

- install it with apt-get next to Debian's qemu-system-x86 and check that
  the two share no file and both run, that our man pages and docs are
  there, and that libvirt's guest AppArmor profile compiles with our
  abstraction;
- boot the test guest with the installed emulator under `-cloak strict`
  (which refuses a stock BIOS) and run the whole detector battery;
- run the libvirt drop-in test (tests/libvirt) against the installed
  emulator, qemu-img and cloak-image;
- trace the guest's known program and read the ring with the installed
  cloak-trace;
- purge the package: nothing of ours is left, and Debian's QEMU still
  verifies and boots the guest.

Also, without root: `make install PREFIX=ELSEWHERE` rebuilds nothing and the
relocated tree finds its profiles and cleaned firmware.

Run from the top of the tree: python3 -m unittest tests.deb.test_package
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from tests.lib import battery, cloakguest, paths

TOP, BUILD_DIR, GUEST_DIR = paths.TOP, paths.BUILD_DIR, paths.GUEST_DIR
with open(os.path.join(TOP, "VERSION")) as _f:
    VERSION = _f.read().strip()
DEB = os.path.join(BUILD_DIR, "deb", "qemu-cloak_%s_amd64.deb" % VERSION)

PACKAGE = "qemu-cloak"
EMULATOR = "/usr/bin/qemu-cloak-system-x86_64"
QEMU_IMG = "/usr/bin/qemu-cloak-img"
READER = "/usr/bin/cloak-trace"
CLOAK_IMAGE = "/usr/bin/cloak-image"
APPARMOR_SNIPPET = "/etc/apparmor.d/abstractions/libvirt-qemu.d/qemu-cloak"
DEBIAN_QEMU = "/usr/bin/qemu-system-x86_64"
DEBIAN_PACKAGES = ("qemu-system-x86", "qemu-system-data", "qemu-system-common")


def run(cmd, check=True, env=None, timeout=600, **kw):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       text=True, env=env, timeout=timeout, **kw)
    if check and p.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s"
                             % (" ".join(cmd), p.returncode, p.stdout[-4000:]))
    return p


def apt_env():
    return dict(os.environ, DEBIAN_FRONTEND="noninteractive")


def installed(package):
    p = run(["dpkg-query", "-W", "-f=${Status}", package], check=False)
    return p.returncode == 0 and "install ok installed" in p.stdout


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def owned_files(package):
    """Plain files (not directories) dpkg lists for an installed package."""
    out = run(["dpkg-query", "-L", package]).stdout.split("\n")
    return {p for p in out if p and os.path.isfile(p)}


def qmp_quit(cmd):
    """Runs QEMU with QMP on stdin and quits it: QEMU's exit status and
    output.  A start-up refusal (strict mode) exits before QMP answers."""
    script = '{"execute": "qmp_capabilities"}\n{"execute": "quit"}\n'
    p = subprocess.run(cmd + ["-S", "-display", "none", "-qmp", "stdio"],
                       input=script, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=120)
    return p.returncode, p.stdout


def strict_args(seed):
    """Strict mode on the default profile, with a topology it has a brand
    for (the i5-12500's 6 cores without SMT); the machine is built but
    never runs."""
    return ["-machine", "q35", "-nodefaults",
            "-smp", "cpus=6,sockets=1,cores=6,threads=1",
            "-cloak", "strict,seed=" + seed]


class InstallElsewhere(unittest.TestCase):
    """`make install PREFIX=DIR`: the tree is relocatable, so nothing is
    configured or compiled again, and the installed binary finds its
    profiles and cleaned firmware relative to itself."""

    def test_install_prefix_rebuilds_nothing(self):
        qemu = paths.QEMU_BIN
        stamp = os.path.join(os.path.dirname(qemu), ".cloak-configure-stamp")
        for f in (qemu, stamp):
            self.assertTrue(os.path.isfile(f), "%s: run `make build` first" % f)
        before = (sha256(stamp), os.stat(qemu).st_mtime_ns)
        tmp = tempfile.mkdtemp(prefix="cloak-install-")
        self.addCleanup(shutil.rmtree, tmp, True)
        prefix = os.path.join(tmp, "elsewhere")
        out = run(["make", "-C", TOP, "--no-print-directory", "install",
                   "PREFIX=" + prefix]).stdout
        self.assertEqual((sha256(stamp), os.stat(qemu).st_mtime_ns), before,
                         "make install PREFIX=... reconfigured or rebuilt QEMU")
        self.assertIn("configuration unchanged", out)
        self.assertNotIn("Linking target qemu-system-x86_64", out)
        binary = os.path.join(prefix, "bin", "qemu-system-x86_64")
        listing = run([binary, "-cloak", "help"]).stdout
        self.assertIn("searched %s/bin/../share/qemu-cloak/profiles" % prefix,
                      listing)
        for p in paths.PROFILES:
            self.assertIn(p, listing)
        rc, text = qmp_quit([binary] + strict_args("relocated"))
        self.assertEqual(rc, 0, "strict mode refused the relocated tree:\n"
                         + text)
        # ... and refuses it once the cleaned firmware is gone, so the
        # clean run above did load ours.
        shutil.rmtree(os.path.join(prefix, "share", "qemu-cloak", "firmware"))
        rc, text = qmp_quit([binary] + strict_args("relocated"))
        self.assertEqual(rc, 1, text)
        self.assertIn("no cleaned build of the firmware 'bios-256k.bin'", text)


@unittest.skipUnless(os.geteuid() == 0,
                     "the package test installs and purges with apt-get: run as root")
class Package(unittest.TestCase):
    """Install, use and purge the package; the tests run in name order."""

    @classmethod
    def setUpClass(cls):
        if not os.path.isfile(DEB):
            raise AssertionError("%s is missing: run `make deb`" % DEB)
        missing = [p for p in DEBIAN_PACKAGES if not installed(p)]
        if missing:
            raise AssertionError("Debian's %s must be installed (make deps)"
                                 % ", ".join(missing))
        if installed(PACKAGE):      # left over by an interrupted run
            run(["apt-get", "purge", "-y", "-qq", PACKAGE], env=apt_env())
        cls.debian_sums = {p: owned_files(p) for p in DEBIAN_PACKAGES}
        cls.debian_qemu_sha = sha256(DEBIAN_QEMU)
        run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", DEB],
            env=apt_env())
        cls.files = owned_files(PACKAGE)
        cls.purged = False

    @classmethod
    def tearDownClass(cls):
        if not cls.purged and installed(PACKAGE):
            run(["apt-get", "purge", "-y", "-qq", PACKAGE], env=apt_env(),
                check=False)

    def test_1_installed_beside_debian_qemu(self):
        for p in DEBIAN_PACKAGES:
            shared = self.files & self.debian_sums[p]
            self.assertEqual(shared, set(), "files shared with " + p)
        for f in (EMULATOR, QEMU_IMG, READER, CLOAK_IMAGE,
                  "/usr/include/cloak-trace-abi.h", APPARMOR_SNIPPET):
            self.assertIn(f, self.files)
        for p in paths.PROFILES:
            self.assertIn("/usr/share/qemu-cloak/profiles/%s.conf" % p, self.files)
        self.assertIn("/usr/share/qemu-cloak/firmware/cloak-bios-256k.bin",
                      self.files)
        self.assertIn("qemu-cloak %s" % VERSION,
                      run([EMULATOR, "--version"]).stdout)
        self.assertIn("Debian", run([DEBIAN_QEMU, "--version"]).stdout)
        self.assertEqual(sha256(DEBIAN_QEMU), self.debian_qemu_sha)
        run([QEMU_IMG, "--version"])
        run([READER, "--help"])
        run([CLOAK_IMAGE, "--help"])
        listing = run([EMULATOR, "-cloak", "help"]).stdout
        self.assertIn("searched /usr/bin/../share/qemu-cloak/profiles", listing)
        for page in ("cloak-trace", "cloak-image", "qemu-cloak-system-x86_64",
                     "qemu-cloak-img", "7 qemu-cloak"):
            with self.subTest(man=page):
                run(["man", "-w"] + page.split())
        for doc in ("README.md", "cloak.md", "trace.md", "libvirt.md",
                    "README.Debian", "copyright"):
            self.assertIn("/usr/share/doc/qemu-cloak/" + doc, self.files)

    def test_1_libvirt_apparmor_abstraction(self):
        """libvirt's template for a guest's profile, compiled with our
        abstraction (apparmor_parser, no kernel needed): our data, the
        documented OS profile directory and ring names are allowed."""
        tmp = tempfile.mkdtemp(prefix="cloak-aa-")
        self.addCleanup(shutil.rmtree, tmp, True)
        profile = os.path.join(tmp, "libvirt-test")
        with open("/etc/apparmor.d/libvirt/TEMPLATE.qemu") as f:
            text = f.read().replace("LIBVIRT_TEMPLATE", "libvirt-cloak-test")
        with open(profile, "w") as f:
            f.write(text)
        dump = run(["apparmor_parser", "-Q", "-K", "-d", profile]).stdout
        rules = {m.group(2): m.group(1) for m in
                 re.finditer(r"^Mode:\s*(\S+)\s+Name:\s*\((.*)\)$", dump, re.M)}
        self.assertIn("r", rules.get("/usr/share/qemu-cloak/**", ""), dump[-3000:])
        self.assertIn("r", rules.get("/var/lib/qemu-cloak/os-profiles/**", ""),
                      dump[-3000:])
        # QEMU creates NAME.ring.XXXXXX and renames it to NAME.ring.
        self.assertIn("w", rules.get("/{dev,run}/shm/*.ring{,.??????}", ""),
                      dump[-3000:])

    def test_2_boots_cloaked(self):
        """Strict mode accepts the installed emulator with its cleaned
        firmware and refuses the stock BIOS; the guest then boots cloaked
        and the battery finds nothing in what its detectors saw."""
        rc, text = qmp_quit([EMULATOR] + strict_args("pkg"))
        self.assertEqual(rc, 0, "strict mode refused the installed emulator:\n"
                         + text)
        rc, text = qmp_quit([EMULATOR] + strict_args("pkg") +
                            ["-bios", "/usr/share/seabios/bios-256k.bin"])
        self.assertEqual(rc, 1, text)
        self.assertIn("firmware /usr/share/seabios/bios-256k.bin", text)
        tmp = tempfile.mkdtemp(prefix="cloak-pkg-")
        self.addCleanup(shutil.rmtree, tmp, True)
        disk = os.path.join(tmp, "disk.img")
        with open(disk, "wb") as f:
            f.truncate(64 << 20)
        profile = "dell-optiplex-7000"
        self.assertFalse(paths.is_build_tree_binary(EMULATOR))
        r = cloakguest.boot(
            EMULATOR, machine="q35", accel="tcg", guest_dir=GUEST_DIR,
            smp=battery.topology(profile),
            extra_args=["-cloak", "profile=%s,seed=pkg" % profile] +
            battery.device_args("q35", disk))
        for name, problems in battery.run_checks(r, profile).items():
            with self.subTest(check=name):
                self.assertEqual(problems, [])

    def test_3_libvirt_drop_in(self):
        """The libvirt test (tests/libvirt) against the installed paths."""
        env = dict(os.environ, CLOAK_LIBVIRT_EMULATOR=EMULATOR,
                   QEMU_IMG=QEMU_IMG, CLOAK_IMAGE=CLOAK_IMAGE,
                   GUEST_DIR=GUEST_DIR)
        p = run(["/usr/bin/python3", "-m", "tests.libvirt.test_libvirt"],
                check=False, env=env, timeout=1800, cwd=TOP)
        print(p.stdout[-3000:])
        self.assertEqual(p.returncode, 0, "the libvirt test failed against "
                         "the installed package:\n" + p.stdout[-6000:])
        self.assertIn("emulator " + EMULATOR, p.stdout)

    def test_4_trace_read_by_installed_reader(self):
        """tracetest's known calls and faults, read by /usr/bin/cloak-trace."""
        tmp = tempfile.mkdtemp(prefix="cloak-pkg-trace-", dir="/dev/shm")
        self.addCleanup(shutil.rmtree, tmp, True)
        ring = os.path.join(tmp, "vm.ring")
        r = cloakguest.boot(
            EMULATOR, machine="q35", accel="tcg", guest_dir=GUEST_DIR,
            run="tracetest", extra_args=[
                "-object", "cloak-trace,id=t0,path=%s,paths=on" % ring])
        out = r.output("run:tracetest")
        m = re.search(r"tracetest: pid=(\d+) path=(\S+) missing=\S+ "
                      r"write=(\d+) getpids=(\d+) pages=(\d+)", out)
        self.assertIsNotNone(m, "tracetest did not run:\n" + out)
        pid, path = int(m.group(1)), m.group(2)
        write, getpids, pages = (int(m.group(i)) for i in (3, 4, 5))
        self.assertEqual(os.stat(ring).st_mode & 0o777, 0o600)
        p = subprocess.run([READER, ring], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stderr)
        events = [json.loads(l) for l in p.stdout.splitlines()]
        opens = [e for e in events if e["type"] == "syscall_enter" and
                 e["name"] == "openat" and e.get("paths") and
                 e["paths"][0]["path"] == path]
        self.assertEqual(len(opens), 1, "openat(%s)" % path)
        # The program's own sequence: from that openat to its execve.
        cr3, start = opens[0]["cr3"], opens[0]["ts"]
        execs = [e["ts"] for e in events if e.get("cr3") == cr3 and
                 e["type"] == "syscall_enter" and e["name"] == "execve" and
                 e["ts"] > start]
        self.assertTrue(execs, "no execve after the openat")
        mine = [e for e in events if e.get("cr3") == cr3 and
                start <= e["ts"] <= execs[0]]
        exits = {}
        for e in mine:
            if e["type"] == "syscall_exit":
                exits.setdefault(e["name"], []).append(e["ret"])
        self.assertGreaterEqual(exits["openat"][0], 3)
        self.assertEqual(exits["write"], [write])
        self.assertEqual(exits["getpid"], [pid] * getpids)
        self.assertEqual(
            len([e for e in mine if e["type"] == "page_fault"
                 and (e["error_code"] & 7) == 6]), pages)

    def test_5_purge_leaves_debian_qemu(self):
        type(self).purged = True
        run(["apt-get", "purge", "-y", "-qq", PACKAGE], env=apt_env())
        self.assertFalse(installed(PACKAGE))
        left = sorted(f for f in self.files if os.path.lexists(f))
        self.assertEqual(left, [], "files of the purged package remain")
        for d in ("/usr/share/qemu-cloak", "/usr/share/doc/qemu-cloak"):
            self.assertFalse(os.path.exists(d), d)
        p = run(["dpkg", "--verify"] + list(DEBIAN_PACKAGES), check=False)
        self.assertEqual((p.returncode, p.stdout), (0, ""),
                         "Debian's QEMU packages no longer verify")
        self.assertEqual(sha256(DEBIAN_QEMU), self.debian_qemu_sha)
        r = cloakguest.boot(DEBIAN_QEMU, machine="q35", accel="tcg",
                            guest_dir=GUEST_DIR)
        # Debian's QEMU is stock: the guest sees QEMU, so the battery fires.
        self.assertIn("QEMU", r.output("dmidecode"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
