#!/usr/bin/python3
"""qemu-cloak as the <emulator> of a libvirt domain, driven by a real libvirtd.

The test starts its own libvirtd (privatelibvirt.py), then:

- asks libvirt to probe our installed binary (domcapabilities --emulatorbin);
- boots the example domain of docs/libvirt.md and checks that the running
  process is our binary, that the guest's detector report is cloaked (when
  the binary has the cloak) and that the trace ring holds events (when it has
  the trace object);
- switches a domain from Debian's QEMU to ours by changing one line;
- checks virsh list, dumpxml, start, shutdown (ACPI power button) and destroy;
- resets the domain's layered disk with cloak-image between two boots, and
  reverts a VM to an internal snapshot;
- checks that bad cloak/trace options fail virsh start with our message in the
  domain log, and that a missing backing file is named.

Settings (environment):
  CLOAK_LIBVIRT_EMULATOR  installed qemu-system-x86_64 to test (default $QEMU_BIN)
  QEMU_IMG, GUEST_DIR, BUILD_DIR, TOOLS_DIR   as the Makefile exports them
  CLOAK_LIBVIRT_DOMTYPE   qemu or kvm (default: kvm only where it can boot a guest)
  CLOAK_LIBVIRT_MODE      namespace (default) or global, see privatelibvirt.py
  CLOAK_LIBVIRT_KEEP=1    keep the scratch directory
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import uuid
import xml.etree.ElementTree as ET

from tests.lib import battery, cloakguest
from tests.lib.imagetest import sha256
from tests.lib.paths import BUILD_DIR, GUEST_DIR, GUEST_VMLINUZ, QEMU_BIN, QEMU_IMG, \
    TOOLS_DIR, TOP as TOP_DIR
from tests.libvirt.privatelibvirt import PrivateLibvirtd, VirshError, process_state

EMULATOR = os.path.abspath(os.environ.get("CLOAK_LIBVIRT_EMULATOR") or QEMU_BIN)
CLOAK_IMAGE = os.environ.get("CLOAK_IMAGE") or os.path.join(TOP_DIR, "tools", "cloak-image")
DOCS = os.path.join(TOP_DIR, "docs", "libvirt.md")
DEBIAN_QEMU = "/usr/bin/qemu-system-x86_64"
PYTHON = "/usr/bin/python3"
QEMU_NS = "http://libvirt.org/schemas/domain/qemu/1.0"
ET.register_namespace("qemu", QEMU_NS)

# Daemons and scratch directories to clean up even when unittest is cut short.
_ACTIVE = []

BOOT_TIMEOUT = 240          # a TCG boot with every detector, on a loaded 2-core machine


def log(msg):
    print("  [libvirt] %s" % msg, file=sys.stderr, flush=True)


def qemu_img():
    p = os.environ.get("QEMU_IMG")
    if p:
        return p
    beside = os.path.join(os.path.dirname(EMULATOR), "qemu-img")
    return beside if os.path.exists(beside) else QEMU_IMG


def cloak_trace_bin():
    for p in (os.path.join(os.path.dirname(EMULATOR), "cloak-trace"),
              os.path.join(TOOLS_DIR, "cloak-trace")):
        if os.access(p, os.X_OK):
            return p
    return None


def run(argv, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=60, **kw)


# ---------------------------------------------------------------- features


def binary_has_cloak():
    """(True, '') or (False, why): does -cloak exist in the binary?"""
    p = run([EMULATOR, "-cloak", "help"])
    if p.returncode == 0 and "profile" in (p.stdout + p.stderr).lower():
        return True, ""
    return False, "`%s -cloak help` failed: %s" % (EMULATOR, (p.stderr or p.stdout).strip()[:200])


def binary_has_trace():
    p = run([EMULATOR, "-object", "cloak-trace,help"])
    if p.returncode == 0 and "path" in p.stdout:
        if cloak_trace_bin():
            return True, ""
        return False, "the binary has cloak-trace but no cloak-trace reader was found " \
            "beside it or in %s" % TOOLS_DIR
    return False, "`%s -object cloak-trace,help` failed: %s" % (
        EMULATOR, (p.stderr or p.stdout).strip()[:200])


def choose_domain_type(kernel, initrd):
    """(kvm or qemu, why): kvm only where KVM can boot the test guest.

    cloakguest's probe boots the guest once under KVM (cached per binary and
    kernel); on these machines /dev/kvm is kvm-pvm, which cannot.
    """
    forced = os.environ.get("CLOAK_LIBVIRT_DOMTYPE")
    if forced:
        if forced not in ("qemu", "kvm"):
            raise ValueError("CLOAK_LIBVIRT_DOMTYPE must be qemu or kvm")
        return forced, "set by CLOAK_LIBVIRT_DOMTYPE"
    cache = GUEST_DIR if os.access(GUEST_DIR, os.W_OK) else tempfile.gettempdir()
    # The probe's answer is cached per binary file.  The staged install is new
    # on every run, so ask about the build-tree binary it was installed from.
    build_tree = os.environ.get("QEMU_BIN")
    probe_with = build_tree if build_tree and os.access(build_tree, os.X_OK) else EMULATOR
    accel, why = cloakguest.choose_accel("auto", qemu=probe_with, kernel=kernel,
                                         initrd=initrd, cache_dir=cache)
    return ("kvm" if accel == "kvm" else "qemu"), why


# ---------------------------------------------------------------- guest console


def guest_report(text, nonce):
    """cloakguest's parse of this boot's console, or an AssertionError."""
    try:
        return cloakguest.parse_console(text, nonce)
    except cloakguest.GuestError as e:
        raise AssertionError("no complete guest report with nonce %s: %s\nconsole tail:\n%s"
                             % (nonce, str(e).split("\n")[0], text[-3000:])) from None


def read_file(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except FileNotFoundError:
        return ""


# ---------------------------------------------------------------- domain XML


def example_domain_xml():
    """The XML block after the example-domain marker in docs/libvirt.md."""
    text = read_file(DOCS)
    m = re.search(r"<!-- example-domain:[^>]*-->\s*```xml\n(.*?)```", text, re.S)
    if not m:
        raise AssertionError("docs/libvirt.md has no example-domain XML block")
    return m.group(1)


def set_direct_boot(root, kernel, initrd, cmdline):
    os_el = root.find("os")
    for b in os_el.findall("boot"):
        os_el.remove(b)
    for tag, text in (("kernel", kernel), ("initrd", initrd), ("cmdline", cmdline)):
        el = ET.SubElement(os_el, tag)
        el.text = text


def set_file_serial(root, path):
    devices = root.find("devices")
    for s in devices.findall("serial") + devices.findall("console"):
        devices.remove(s)
    serial = ET.SubElement(devices, "serial", type="file")
    ET.SubElement(serial, "source", path=path)
    ET.SubElement(serial, "target", port="0")


def qemu_args(root):
    cl = root.find("{%s}commandline" % QEMU_NS)
    return [] if cl is None else [a.get("value") for a in cl.findall("{%s}arg" % QEMU_NS)]


def set_qemu_args(root, args):
    cl = root.find("{%s}commandline" % QEMU_NS)
    if cl is not None:
        root.remove(cl)
    if args:
        cl = ET.SubElement(root, "{%s}commandline" % QEMU_NS)
        for a in args:
            ET.SubElement(cl, "{%s}arg" % QEMU_NS, value=a)


def small_domain(name, emulator, kernel, initrd, cmdline, serial, disk=None,
                 domtype="qemu", extra_args=()):
    """A minimal pc domain for the lifecycle and disk tests."""
    root = ET.Element("domain", type=domtype)
    ET.SubElement(root, "name").text = name
    ET.SubElement(root, "uuid").text = str(uuid.uuid5(uuid.NAMESPACE_URL, "cloak-test:" + name))
    ET.SubElement(root, "memory", unit="MiB").text = "256"
    ET.SubElement(root, "vcpu").text = "1"
    os_el = ET.SubElement(root, "os")
    ET.SubElement(os_el, "type", arch="x86_64", machine="q35").text = "hvm"
    set_direct_boot(root, kernel, initrd, cmdline)
    features = ET.SubElement(root, "features")
    ET.SubElement(features, "acpi")     # without it: acpi=off, poweroff only halts
    for event in ("on_poweroff", "on_reboot", "on_crash"):
        ET.SubElement(root, event).text = "destroy"
    devices = ET.SubElement(root, "devices")
    ET.SubElement(devices, "emulator").text = emulator
    if disk:
        d = ET.SubElement(devices, "disk", type="file", device="disk")
        ET.SubElement(d, "driver", name="qemu", type="qcow2")
        ET.SubElement(d, "source", file=disk)
        ET.SubElement(d, "target", dev="sda", bus="sata")
    ET.SubElement(devices, "controller", type="usb", model="none")
    ET.SubElement(devices, "memballoon", model="none")
    set_file_serial(root, serial)
    set_qemu_args(root, list(extra_args))
    return ET.tostring(root, encoding="unicode")


# ---------------------------------------------------------------- the test


class LibvirtDropIn(unittest.TestCase):
    """One libvirtd for the whole class; each test defines its own domains."""

    @classmethod
    def setUpClass(cls):
        cls.kernel = GUEST_VMLINUZ
        cls.initrd = os.path.join(GUEST_DIR, "initrd.img")
        missing = [p for p in (EMULATOR, cls.kernel, cls.initrd, DEBIAN_QEMU)
                   if not os.path.exists(p)]
        if missing:
            raise AssertionError("missing: %s (make build guest; make deps installs Debian's "
                                 "qemu-system-x86 with libvirt)" % ", ".join(missing))
        for tool in ("libvirtd", "virsh"):
            if not shutil.which(tool):
                raise AssertionError("%s is not installed (make deps; mk/libvirt.packages)" % tool)
        cls.scratch = tempfile.mkdtemp(prefix="cloak-libvirt-", dir=os.environ.get("TMPDIR"))
        os.chmod(cls.scratch, 0o755)
        cls.addClassCleanup(cls.remove_scratch)
        cls.domtype, why = choose_domain_type(cls.kernel, cls.initrd)
        log("emulator %s" % EMULATOR)
        log("domain type %s (%s)" % (cls.domtype, why))
        cls.has_cloak, cls.no_cloak_why = binary_has_cloak()
        cls.has_trace, cls.no_trace_why = binary_has_trace()
        # Both are part of the fork: a binary without them is a broken build
        # or install, not a reason to check less.
        if not cls.has_cloak:
            raise AssertionError("no cloak in %s: %s" % (EMULATOR, cls.no_cloak_why))
        if not cls.has_trace:
            raise AssertionError("no cloak-trace in %s: %s" % (EMULATOR, cls.no_trace_why))
        cache = os.path.join(BUILD_DIR, "libvirt-test-cache")
        cls.lv = PrivateLibvirtd(os.path.join(cls.scratch, "libvirt"), cache_dir=cache, log=log)
        _ACTIVE.append(cls)
        cls.addClassCleanup(cls.stop_daemon)
        cls.lv.start()
        cls.store = os.path.join(cls.scratch, "store")
        cls.cloak_image("create", cls.store, "--size", "256M")
        cls.top = os.path.join(cls.store, "top.qcow2")
        cls.lower = [os.path.join(cls.store, n) for n in ("os.qcow2", "apps.qcow2")]

    @classmethod
    def stop_daemon(cls):
        errors = cls.lv.stop()
        for e in errors:
            log("cleanup: " + e)

    @classmethod
    def remove_scratch(cls):
        if not os.path.isdir(cls.scratch):
            return
        if os.environ.get("CLOAK_LIBVIRT_KEEP") == "1":
            log("kept %s" % cls.scratch)
            return
        shutil.rmtree(cls.scratch, ignore_errors=True)

    @classmethod
    def cloak_image(cls, *args, expect=0):
        env = dict(os.environ, QEMU_IMG=qemu_img())
        p = subprocess.run([PYTHON, CLOAK_IMAGE] + list(args), env=env, text=True,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        if expect is not None and p.returncode != expect:
            raise AssertionError("cloak-image %s: exit %d (expected %d): %s%s"
                                 % (" ".join(args), p.returncode, expect, p.stdout, p.stderr))
        return p

    def setUp(self):
        self.started = time.monotonic()

    def tearDown(self):
        log("%s took %.1f s" % (self.id().rsplit(".", 1)[-1], time.monotonic() - self.started))

    # ------------------------------------------------------------ helpers

    def virsh(self, *args, **kw):
        return self.lv.virsh(*args, **kw)

    def define(self, xml):
        path = os.path.join(self.scratch, "define-%d.xml" % time.monotonic_ns())
        with open(path, "w") as f:
            f.write(xml)
        self.virsh("define", path)
        name = ET.fromstring(xml).find("name").text
        self.addCleanup(self.undefine, name)
        return name

    def undefine(self, name):
        self.virsh("destroy", name, check=False)
        self.virsh("undefine", "--snapshots-metadata", name, check=False)

    def state(self, name):
        return self.virsh("domstate", "--reason", name).stdout.strip()

    def wait_shutoff(self, name, timeout=BOOT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s = self.state(name)
            if s.startswith("shut off"):
                return s
            time.sleep(0.5)
        self.fail("domain %s still '%s' after %d s; domain log:\n%s"
                  % (name, self.state(name), timeout, self.domain_log_tail(name)))

    def wait_console(self, path, *texts, timeout=BOOT_TIMEOUT):
        """Wait until one of texts is on the console; return that one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            console = read_file(path)
            for t in texts:
                if t in console:
                    return t
            time.sleep(0.3)
        self.fail("%s did not appear on the console within %d s; console tail:\n%s"
                  % (" or ".join(repr(t) for t in texts), timeout, read_file(path)[-2000:]))

    def domain_log_tail(self, name, lines=30):
        return "\n".join(read_file(self.lv.domain_log(name)).splitlines()[-lines:])

    def serial_path(self, name):
        return os.path.join(self.scratch, name + ".serial")

    def fresh_serial(self, name):
        path = self.serial_path(name)
        if os.path.exists(path):
            os.truncate(path, 0)
        return path

    def run_program_domain(self, name, program, args, disk=None, extra=()):
        """Define a small domain whose guest runs /bin/PROGRAM, return (name, nonce)."""
        nonce = uuid.uuid4().hex[:12]
        cmdline = "console=ttyS0 panic=-1 cloak.nonce=%s cloak.run=%s" % (nonce, program)
        if args:
            cmdline += " cloak.args=" + ",".join(args)
        xml = small_domain(name, EMULATOR, self.kernel, self.initrd, cmdline,
                           self.serial_path(name), disk=disk, domtype=self.domtype,
                           extra_args=extra)
        return xml, nonce

    def boot_and_report(self, name, nonce):
        """Start, wait for power-off, return the parsed console frame."""
        serial = self.fresh_serial(name)
        self.virsh("start", name)
        reason = self.wait_shutoff(name)
        self.assertEqual(reason, "shut off (shutdown)",
                         "guest did not power itself off; console:\n" + read_file(serial)[-2000:])
        return guest_report(read_file(serial), nonce)

    def program_output(self, report, program):
        key = "run:" + program
        self.assertIn(key, report.sections, "guest did not run %s" % program)
        out = report.output(key)
        self.assertEqual(report.status(key), 0, "%s failed in the guest:\n%s" % (program, out))
        return out

    def assert_running_binary(self, name, binary):
        pid = self.lv.domain_pid(name)
        self.assertIsNotNone(pid, "libvirt wrote no pidfile for %s" % name)
        self.assertEqual(os.path.realpath("/proc/%d/exe" % pid), os.path.realpath(binary),
                         "the domain's process is not %s" % binary)
        return pid

    def assertOnConsole(self, needle, text, msg="", present=True):
        """assertIn/NotIn for console text, failing with its tail, not all of it."""
        if (needle in text) != present:
            self.fail("%s%r %s the console; console tail:\n%s"
                      % (msg + ": " if msg else "", needle,
                         "not on" if present else "still on", text[-2500:]))

    def assert_gone(self, pid, timeout=10):
        deadline = time.monotonic() + timeout
        while process_state(pid) not in (None, "Z") and time.monotonic() < deadline:
            time.sleep(0.1)
        self.assertIn(process_state(pid), (None, "Z"), "QEMU pid %d is still running" % pid)

    # ------------------------------------------------------------ tests

    def test_01_capability_probe_accepts_binary(self):
        out = self.virsh("domcapabilities", "--emulatorbin", EMULATOR, "--virttype",
                         self.domtype, "--arch", "x86_64", "--machine", "q35").stdout
        caps = ET.fromstring(out)
        self.assertEqual(caps.findtext("path"), EMULATOR)
        self.assertEqual(caps.findtext("domain"), self.domtype)
        self.assertRegex(caps.findtext("machine"), r"^pc-q35-")
        version = self.virsh("version").stdout
        self.assertIn("QEMU", version)
        # A path that is not a QEMU fails by name: the probe really runs the binary.
        bad = self.virsh("domcapabilities", "--emulatorbin", "/nonexistent/qemu-system-x86_64",
                         "--virttype", "qemu", check=False)
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("/nonexistent/qemu-system-x86_64", bad.stderr)

    def test_02_example_domain(self):
        """docs/libvirt.md's example domain boots on our binary; report, trace."""
        root = ET.fromstring(example_domain_xml())
        name = "cloak-test-example"
        nonce = uuid.uuid4().hex[:12]
        root.find("name").text = name
        root.find("uuid").text = str(uuid.uuid5(uuid.NAMESPACE_URL, "cloak-test:" + name))
        root.set("type", self.domtype)
        if self.domtype == "qemu" and root.find("cpu") is not None:
            root.remove(root.find("cpu"))
        root.find("memory").set("unit", "MiB")
        root.find("memory").text = "512"
        root.find("vcpu").text = "1"
        root.find("devices/emulator").text = EMULATOR
        root.find("devices/disk/source").set("file", self.top)
        set_direct_boot(root, self.kernel, self.initrd,
                        "console=ttyS0 panic=-1 cloak.nonce=%s" % nonce)
        serial = self.serial_path(name)
        set_file_serial(root, serial)
        ring = os.path.join(self.scratch, "example.ring")
        args = []
        it = iter(qemu_args(root))
        for opt in it:
            val = next(it)
            if opt == "-object" and val.startswith("cloak-trace,"):
                val = re.sub(r"path=[^,]*", "path=" + ring, val)
            args += [opt, val]
        self.assertIn("-cloak", args, "the example domain does not set a profile")
        set_qemu_args(root, args)
        self.define(ET.tostring(root, encoding="unicode"))

        listing = self.virsh("list", "--all").stdout
        self.assertRegex(listing, r"\b%s\s+shut off" % name)
        self.fresh_serial(name)
        self.virsh("start", "--paused", name)
        self.assertEqual(self.state(name), "paused (user)")
        self.assertRegex(self.virsh("list").stdout, r"\b%s\s+paused" % name)
        pid = self.assert_running_binary(name, EMULATOR)
        live = ET.fromstring(self.virsh("dumpxml", name).stdout)
        self.assertEqual(live.findtext("devices/emulator"), EMULATOR)
        self.assertEqual(qemu_args(live), args, "dumpxml lost <qemu:commandline>")
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            argv = f.read().split(b"\0")
        for a in args:
            self.assertIn(a.encode(), argv, "QEMU was not given %s" % a)
        dlog = read_file(self.lv.domain_log(name))
        self.assertTrue("\n%s \\\n" % EMULATOR in dlog,
                        "the domain log does not show %s as the command" % EMULATOR)
        start_line = next((l for l in dlog.splitlines() if "starting up libvirt" in l), "")
        self.assertRegex(start_line, r"qemu version: 10\.0\.2 ?\(?qemu-cloak",
                         "the domain log does not show the qemu-cloak package version")
        version = json.loads(self.virsh("qemu-monitor-command", name,
                                        '{"execute":"query-version"}').stdout)
        self.assertTrue(version["return"]["package"].startswith("qemu-cloak"),
                        "QMP query-version: %s" % version)
        self.virsh("resume", name)
        reason = self.wait_shutoff(name)
        self.assertEqual(reason, "shut off (shutdown)")
        self.assert_gone(pid)
        report = guest_report(read_file(serial), nonce)
        missing = [d for d in cloakguest.DETECTORS if d not in report.sections]
        self.assertEqual(missing, [], "the report lacks detector sections")
        self.check_report_cloaked(report)
        self.check_trace(ring)

    def check_report_cloaked(self, report):
        """The cloak's whole detector battery (tests/cloak), run on the
        example domain's report: no finding, the display adapter included
        (libvirt's <video model='vga'> is std VGA with the profile's ID)."""
        problems = []
        profile = qemu_args(ET.fromstring(example_domain_xml()))
        profile = profile[profile.index("-cloak") + 1].split("=", 1)[1]
        oui = battery.profile_values(profile)["net.oui"]
        for name, check in battery.CHECKS:
            found = (check(report, oui) if check is battery.check_mac
                     else check(report))
            problems += ["%s: %s" % (name, f) for f in found]
        self.assertEqual(problems, [], "the example domain is not cloaked")
        log("cloaked report: all %d cloak checks clean"
            % len(battery.CHECKS))

    def check_trace(self, ring):
        self.assertTrue(os.path.exists(ring), "no trace ring at %s" % ring)
        p = run([cloak_trace_bin(), "--format=json", ring])
        self.assertEqual(p.returncode, 0, "cloak-trace failed: %s" % p.stderr)
        types = {}
        for line in p.stdout.splitlines():
            ev = json.loads(line)
            types[ev.get("type")] = types.get(ev.get("type"), 0) + 1
        self.assertGreater(types.get("syscall_enter", 0), 0, "no syscall events: %s" % types)
        log("trace ring: %s" % types)

    def test_03_one_line_switch(self):
        """A domain on Debian's QEMU moves to ours by changing <emulator> only."""
        name = "cloak-test-switch"
        xml, nonce = self.run_program_domain(name, "true", [])
        root = ET.fromstring(xml)
        root.find("devices/emulator").text = DEBIAN_QEMU
        self.define(ET.tostring(root, encoding="unicode"))
        before = self.virsh("dumpxml", "--inactive", "--security-info", name).stdout
        # The documented edit, applied to the dumped XML.
        after = re.sub(r"<emulator>.*</emulator>", "<emulator>%s</emulator>" % EMULATOR, before)
        path = os.path.join(self.scratch, "switch.xml")
        with open(path, "w") as f:
            f.write(after)
        self.virsh("define", path)
        redumped = self.virsh("dumpxml", "--inactive", "--security-info", name).stdout
        changed = [(a, b) for a, b in zip(before.splitlines(), redumped.splitlines()) if a != b]
        self.assertEqual(len(before.splitlines()), len(redumped.splitlines()))
        self.assertEqual(len(changed), 1, "more than the emulator line changed: %s" % changed)
        self.assertIn(DEBIAN_QEMU, changed[0][0])
        self.assertIn(EMULATOR, changed[0][1])
        self.virsh("start", "--paused", name)
        self.assert_running_binary(name, EMULATOR)
        self.virsh("destroy", name)

    def test_04_shutdown_and_destroy(self):
        name = "cloak-test-power"
        xml, nonce = self.run_program_domain(name, "powerwait", [])
        self.define(xml)
        serial = self.fresh_serial(name)
        self.virsh("start", name)
        found = self.wait_console(serial, "powerwait: ready", "powerwait: no power button")
        if found != "powerwait: ready":
            self.fail("the test guest has no ACPI power button device, so `virsh shutdown` "
                      "cannot be tested: its initramfs needs the kernel modules button and "
                      "evdev (guest_modules in tests/guest/build-guest.sh)")
        self.assertEqual(self.state(name), "running (booted)")
        self.virsh("shutdown", "--mode", "acpi", name)
        reason = self.wait_shutoff(name, timeout=60)
        self.assertEqual(reason, "shut off (shutdown)")
        self.assertOnConsole("powerwait: power button pressed", read_file(serial),
                             "the guest did not see the power button")
        self.assertRegex(self.virsh("list", "--all").stdout, r"\b%s\s+shut off" % name)

        self.fresh_serial(name)
        self.virsh("start", name)
        pid = self.assert_running_binary(name, EMULATOR)
        self.assertTrue(self.state(name).startswith("running"))
        self.virsh("destroy", name)
        self.assertEqual(self.state(name), "shut off (destroyed)")
        self.assert_gone(pid)
        err = self.virsh("destroy", name, check=False)
        self.assertNotEqual(err.returncode, 0, "destroying a shut-off domain succeeded")
        self.assertIn("not running", err.stderr)

    def test_05_layered_disk_reset_through_libvirt(self):
        name = "cloak-test-disk"
        sums = {p: sha256(p) for p in self.lower}
        self.cloak_image("reset", self.top)
        first = uuid.uuid4().hex[:10]
        xml, nonce = self.run_program_domain(name, "diskmarker", ["write", first], disk=self.top)
        self.define(xml)

        out = self.program_output(self.boot_and_report(name, nonce), "diskmarker")
        self.assertIn("diskmarker: found none", out)
        self.assertIn("diskmarker: wrote nonce=%s" % first, out)

        # While the domain runs (paused is enough), reset refuses both ways.
        self.virsh("start", "--paused", name)
        before = sha256(self.top)
        p = self.cloak_image("reset", "--domain", name, "--connect", self.lv.uri, expect=2)
        self.assertIn("is running", p.stderr)
        p = self.cloak_image("reset", self.top, expect=2)
        self.assertIn("refusing to reset", p.stderr)
        self.assertEqual(sha256(self.top), before, "a refused reset changed the top layer")
        self.virsh("destroy", name)

        p = self.cloak_image("reset", "--domain", name, "--connect", self.lv.uri)
        self.assertIn(self.top, p.stdout)
        out = self.program_output(self.boot_and_report(name, nonce), "diskmarker")
        self.assertIn("diskmarker: found none", out, "the marker survived the reset")
        self.assertEqual({p: sha256(p) for p in self.lower}, sums, "a lower layer changed")
        self.cloak_image("check", "--checksums", self.store)

    def test_06_snapshot_revert(self):
        """Revert a VM to a saved state: internal snapshot of a paused domain."""
        name = "cloak-test-snap"
        sums = {p: sha256(p) for p in self.lower}
        self.cloak_image("reset", self.top)
        mark = uuid.uuid4().hex[:10]
        xml, nonce = self.run_program_domain(name, "diskmarker", ["write", mark], disk=self.top)
        self.define(xml)
        serial = self.fresh_serial(name)
        self.virsh("start", "--paused", name)
        self.virsh("snapshot-create-as", name, "clean", "--description", "before boot")
        self.virsh("resume", name)
        self.wait_shutoff(name)
        self.assertOnConsole("diskmarker: wrote nonce=%s" % mark, read_file(serial))
        self.assertIn("clean", self.virsh("snapshot-list", "--name", name).stdout)

        self.fresh_serial(name)
        self.virsh("snapshot-revert", name, "clean", "--running")
        self.wait_shutoff(name)
        out = read_file(serial)
        self.assertOnConsole("diskmarker: wrote nonce=%s" % mark, out, "reverted guest did not run")
        self.assertOnConsole("diskmarker: found none", out, "the disk write survived the revert")
        self.virsh("snapshot-delete", name, "clean")
        self.assertEqual({p: sha256(p) for p in self.lower}, sums, "a lower layer changed")

    def start_must_fail(self, name, extra, words):
        """A domain with these extra QEMU args fails virsh start, and both
        virsh's error and the domain log carry QEMU's message naming words."""
        xml, _ = self.run_program_domain(name, "true", [], extra=extra)
        self.define(xml)
        p = self.virsh("start", name, check=False)
        self.assertNotEqual(p.returncode, 0, "virsh start accepted %s" % " ".join(extra))
        dlog = read_file(self.lv.domain_log(name))
        for w in words:
            self.assertIn(w, p.stderr, "virsh's error does not name %r" % w)
            self.assertTrue(w in dlog, "the domain log does not name %r:\n%s" % (w, dlog[-1500:]))
        self.assertEqual(self.state(name), "shut off (failed)")
        log("%s: %s" % (" ".join(extra), p.stderr.strip().splitlines()[-1][-200:]))

    def test_07_bad_cloak_option_fails_start(self):
        self.start_must_fail("cloak-test-badprofile", ["-cloak", "profile=no-such-board"],
                             ["-cloak", "no-such-board"])
        self.start_must_fail("cloak-test-badmode", ["-cloak", "sideways"],
                             ["-cloak", "sideways"])

    def test_08_bad_trace_option_fails_start(self):
        ring = os.path.join(self.scratch, "no-such-dir", "x.ring")
        self.start_must_fail("cloak-test-badring", ["-object", "cloak-trace,id=t0,path=" + ring],
                             ["cloak-trace", "no-such-dir"])
        ring = os.path.join(self.scratch, "bad-events.ring")
        self.start_must_fail("cloak-test-badevents",
                             ["-object", "cloak-trace,id=t0,path=%s,events=bogus" % ring],
                             ["cloak-trace", "bogus"])

    def test_09_missing_backing_file_is_named(self):
        name = "cloak-test-nobacking"
        store = os.path.join(self.scratch, "broken-store")
        self.cloak_image("create", store, "--size", "16M")
        os.chmod(store, 0o755)
        gone = os.path.join(store, "apps.qcow2")
        os.rename(gone, gone + ".away")
        p = self.cloak_image("check", store, expect=1)
        self.assertIn("apps.qcow2", p.stderr)
        xml, _ = self.run_program_domain(name, "true", [], disk=os.path.join(store, "top.qcow2"))
        try:
            self.define(xml)
        except VirshError as e:
            self.assertIn("apps.qcow2", str(e))
            return
        p = self.virsh("start", name, check=False)
        self.assertNotEqual(p.returncode, 0, "a disk with a missing backing file started")
        self.assertIn("apps.qcow2", p.stderr)


def _interrupted(signum, frame):
    # unittest swallows SystemExit inside a test; KeyboardInterrupt stops it.
    raise KeyboardInterrupt("signal %d" % signum)


def main():
    # Domains, daemon and scratch go away on SIGTERM and Ctrl-C too: unittest
    # skips class cleanups when interrupted, so do them here as well.
    signal.signal(signal.SIGTERM, _interrupted)
    try:
        unittest.main(verbosity=2)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        for cls in _ACTIVE:
            cls.stop_daemon()
            cls.remove_scratch()


if __name__ == "__main__":
    main()
