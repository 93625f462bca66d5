"""Unit tests for the qemu-cloak profile parser (hw-cloak/cloak-profile.c).

They run cloak-profile-check, a small program linked with the parser QEMU
uses, so no QEMU build is needed.  Set CLOAK_PROFILE_CHECK to its path
(the Makefile does); CLOAK_FUZZER, when set, replays the fuzz corpus.
"""

import glob
import os
import re
import subprocess
import tempfile
import unittest

from tests.lib.paths import PROFILE_CHECK as CHECK, PROFILES as NAMES, TOP, profile_path

PROFILES = [profile_path(n) for n in NAMES]

# What every shipped profile must describe (the list).
REQUIRED = [
    ("system", "manufacturer"), ("system", "product"), ("system", "serial"),
    ("board", "manufacturer"), ("board", "product"), ("board", "serial"),
    ("bios", "vendor"), ("bios", "version"), ("bios", "date"),
    ("chassis", "type"), ("cpu", "vendor"), ("memory", "part"),
    ("memory", "manufacturer"), ("net", "oui"), ("acpi", "oem-id"),
    ("acpi", "oem-table-id"), ("acpi", "creator-id"), ("acpi", "pm-profile"),
    ("devices", "disk-model"),
]

NEEDLES = ("QEMU", "Bochs", "BOCHS", "BXPC", "SeaBIOS", "Standard PC",
           "pc-q35", "pc-i440fx", "KVM", "Virtual")


def run_check(paths, seed=None):
    cmd = [CHECK] + (["--seed", seed] if seed is not None else []) + list(paths)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def values(path, seed):
    r = run_check([path], seed)
    if r.returncode != 0:
        raise AssertionError("%s: %s" % (path, r.stderr))
    out = {}
    for line in r.stdout.splitlines():
        k, _, v = line.partition("=")
        out[k] = v
    return out


class ShippedProfiles(unittest.TestCase):
    def test_at_least_four(self):
        self.assertGreaterEqual(len(PROFILES), 4, PROFILES)
        classes = {values(p, "x").get("profile.class") for p in PROFILES}
        # two desktop OEMs, a laptop, a whitebox board
        self.assertTrue({"desktop", "laptop", "whitebox"} <= classes, classes)

    def test_valid_and_complete(self):
        for p in PROFILES:
            with self.subTest(profile=os.path.basename(p)):
                v = values(p, "seed")
                for group, key in REQUIRED:
                    self.assertIn("%s.%s" % (group, key), v)
                brands = [k for k in v if k.startswith("cpu.model-id-")]
                # a profile may list a single brand (one topology) and no more
                self.assertGreaterEqual(len(brands), 1, "no CPU brand")
                for k, val in v.items():
                    for n in NEEDLES:
                        self.assertNotIn(n, val, "%s=%s" % (k, val))

    def test_brands_fit_their_topology(self):
        # "model-id-<C>c<T>t": a brand's own core/thread count where it says
        for p in PROFILES:
            for k, brand in values(p, "s").items():
                m = re.match(r"cpu\.model-id-(\d+)c(\d+)t$", k)
                if not m:
                    continue
                cores, threads = int(m.group(1)), int(m.group(2))
                with self.subTest(profile=os.path.basename(p), brand=brand):
                    self.assertTrue(threads in (cores, 2 * cores))
                    words = {2: "Dual", 4: "Quad", 6: "Six", 8: "Eight"}
                    if "-Core" in brand:
                        self.assertIn(words[cores] + "-Core", brand)

    def test_models_sharing_a_brand_share_its_speeds(self):
        # SMBIOS type 4 speeds are per model; a brand listed for two
        # topologies (with and without SMT) is one part with one speed
        for p in PROFILES:
            v = values(p, "s")
            brands = {}
            for k, brand in v.items():
                m = re.match(r"cpu\.model-id-(\d+c\d+t)$", k)
                if m:
                    brands.setdefault(brand, []).append(m.group(1))
            for brand, models in brands.items():
                for key in ("max-speed", "current-speed"):
                    speeds = {v.get("cpu.%s-%s" % (key, m), v.get("cpu." + key))
                              for m in models}
                    with self.subTest(profile=os.path.basename(p), brand=brand,
                                      key=key):
                        self.assertEqual(len(speeds), 1, speeds)

    def test_distinct_identities(self):
        seen = {}
        for p in PROFILES:
            v = values(p, "same-seed")
            for key in ("system.product", "board.product", "net.oui",
                        "acpi.oem-table-id"):
                self.assertNotIn((key, v[key]), seen,
                                 "%s shared by %s and %s" % (key, p, seen.get((key, v[key]))))
                seen[(key, v[key])] = p


class PerVmValues(unittest.TestCase):
    def per_vm(self, v):
        return {k: x for k, x in v.items()
                if k.endswith(".serial") or k.startswith("identity.")}

    def test_same_seed_same_values(self):
        for p in PROFILES:
            with self.subTest(profile=os.path.basename(p)):
                self.assertEqual(values(p, "6f1d2c3a-1111-4222-8333-444455556666"),
                                 values(p, "6f1d2c3a-1111-4222-8333-444455556666"))

    def test_different_seeds_differ(self):
        for p in PROFILES:
            a = self.per_vm(values(p, "6f1d2c3a-1111-4222-8333-444455556666"))
            b = self.per_vm(values(p, "0b7e4a10-2222-4333-8444-555566667777"))
            varying = [k for k in a if a[k] != b[k]]
            with self.subTest(profile=os.path.basename(p)):
                # every profile has at least one per-VM serial
                self.assertTrue(varying, a)

    def test_template_expansion(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "t.conf")
            with open(path, "w") as f:
                f.write("[identity]\nsvc={A:7}\n[system]\nserial={svc}\n"
                        "sku=X{D:4}-{X:2}-{L:3}-{{lit}}\n[chassis]\nserial={svc}\n")
            v = values(path, "seed")
            self.assertRegex(v["identity.svc"], r"^[0-9A-Z]{7}$")
            self.assertEqual(v["system.serial"], v["identity.svc"])
            self.assertEqual(v["chassis.serial"], v["identity.svc"])
            self.assertRegex(v["system.sku"], r"^X\d{4}-[0-9A-F]{2}-[A-Z]{3}-\{lit\}$")


class BadInput(unittest.TestCase):
    """A malformed profile is refused with FILE:LINE: and a reason."""

    CASES = [
        # (content, line, text in the message)
        ("[bios]\nvendor=x\nthis is junk\n", 3, "not a key-value pair"),
        ("vendor=before any group\n[bios]\n", 1, "group"),
        ("[bios]\nvendor=x\n[bogus]\nk=v\n", 3, "unknown group [bogus]"),
        ("[bios]\nvendr=x\n", 2, "unknown key 'vendr'"),
        ("[bios]\n\n\ndate=13/01/2020\n", 4, "not a date"),
        ("[bios]\nrelease=1.300\n", 2, "not a release"),
        ("[bios]\nrom-size=256\n", 2, "out of range"),
        ("[bios]\nrom-size=0xzz\n", 2, "not a number"),
        ("[chassis]\ntype=1\n", 2, "out of range"),
        ("[system]\nserial=a\nserial=b\n", 3, "duplicate key 'serial'"),
        ("[system]\nserial={nope}\n", 2, "names no key of [identity]"),
        ("[system]\nserial={D:99}\n", 2, "bad length"),
        ("[system]\nserial={D:3\n", 2, "unterminated"),
        ("[system]\nserial=x}\n", 2, "unmatched"),
        ("[system]\nproduct=\n", 2, "empty value"),
        ("[system]\nproduct=" + "x" * 65 + "\n", 2, "at most 64"),
        ("[system]\nproduct=caf\xc3\xa9\n", 2, "printable ASCII"),
        ("[identity]\na={b}\n", 2, "is not one of"),
        ("[net]\noui=52:54:00\n", 2, "locally administered"),
        ("[net]\noui=02:00:00\n", 2, "locally"),
        ("[net]\noui=1:2:3\n", 2, "not an OUI"),
        ("[acpi]\noem-id=TOOLONGID\n", 2, "1..6 characters"),
        ("[acpi]\ncreator-id=AB\n", 2, "exactly 4"),
        ("[cpu]\nvendor=Intel\n", 2, "exactly 12"),
        ("[cpu]\nmodel-id-0c1t=x\n", 2, "unknown key"),
        ("[cpu]\nmodel-id-4c8t=A\nmodel-id-4c9t=B\n", 3, "unknown key"),
        # a core count that wraps at 32 bits is no model choice
        ("[cpu]\nmodel-id-4294967297c1t=x\n", 2, "unknown key"),
        ("[cpu]\nmicrocode=0\n", 2, "out of range"),
        # issue 13.4: a 49-character brand was cut to 48, "\q" kept as is
        ("[cpu]\nmodel-id-4c8t=" + "x" * 49 + "\n", 2, "at most 48"),
        ("[system]\nmanufacturer=Dell\\qInc\n", 2, "invalid escape '\\q'"),
        ("[system]\nmanufacturer=Dell\\\n", 2, "invalid escape"),
        ("[cpu]\nmicrocode=0x100000000\n", 2, "out of range"),
        ("[cpu]\nmicrocode-8c8t=0x1zz\n", 2, "not a number"),
        ("[cpu]\nstepping-8c16t=16\n", 2, "out of range"),
        ("[cpu]\nvendor-8c8t=GenuineIntel\n", 2, "unknown key"),
        ("[cpu]\nfeatures=avx,,avx2\n", 2, "empty feature name"),
        ("[cpu]\nfeatures=avx,avx\n", 2, "listed twice"),
        ("[cpu]\nfeatures=" + "a," * 600 + "b\n", 2, "at most 1024"),
        ("[cpu]\nfeatures=AVX\n", 2, "must start with a lower-case"),
        ("[cpu]\narch-capabilities=rdctl-no mds-no\n", 2, "only a-z"),
        ("[cpu]\nfeatures-4c8t=+avx\n", 2, "must start with a lower-case"),
        ("[bios]\nvendor=a\x00b\n", 2, "NUL byte"),
        # found by the fuzzer: GKeyFile's locale keys escaped the schema
        ("[net]\n\noui[profile]=52:54:00\n", 3, "localized keys"),
        # [smbios] records
        ("[smbios]\nport-0=|0|LAN|0x0b|0x1f\n", 2, "unknown key 'port-0'"),
        ("[smbios]\nport-256=|0|LAN|0x0b|0x1f\n", 2, "unknown key"),
        ("[smbios]\nports-1=|0|LAN|0x0b|0x1f\n", 2, "known keys: port-<n>"),
        ("[smbios]\nport-1=|0|LAN|0x0b\n", 2, "4 fields, want 5"),
        ("[smbios]\nport-1=|0|LAN|0x0b|0x1f|x\n", 2, "6 fields, want 5"),
        ("[smbios]\nport-1=|0x100|LAN|0x0b|0x1f\n", 2,
         "internal-type: '0x100' is not a number from 0 to 0xff"),
        ("[smbios]\nslot-1=S|1|2|3|4|0x10000|6|7|8|9|10\n", 2,
         "id: '0x10000' is not a number from 0 to 0xffff"),
        ("[smbios]\nport-1=|0|" + "L" * 65 + "|0x0b|0x1f\n", 2, "at most 64"),
        ("[smbios]\nport-1=|0|{nope}|0x0b|0x1f\n", 2, "names no key"),
        ("[smbios]\ncooling-1=Fan|0x65|2|0|6000\n", 2,
         "temperature-probe 2 names no key temperature-probe-2"),
        ("[smbios]\nraw-1=8|00\n", 2, "type 8 cannot be raw: write it as "
         "port-<n>"),
        ("[smbios]\nraw-1=17|00\n", 2, "type 17 cannot be raw"),
        ("[smbios]\nraw-1=24|0\n", 2, "want an even number"),
        ("[smbios]\nraw-1=24|zz\n", 2, "'z' is not a hex digit"),
        ("[smbios]\nraw-1=24|" + "00" * 252 + "\n", 2, "at most 502"),
        ("[smbios]\nraw-1=24|00||x\n", 2, "an empty string"),
        ("[smbios]\nraw-1\n", 2, "not a key-value pair"),
    ]

    def test_errors_name_file_and_line(self):
        with tempfile.TemporaryDirectory() as d:
            for i, (content, line, text) in enumerate(self.CASES):
                path = os.path.join(d, "bad%d.conf" % i)
                with open(path, "wb") as f:
                    f.write(content.encode("latin-1") if "\xc3" not in content
                            else content.encode("latin-1"))
                r = run_check([path], "s")
                with self.subTest(case=content[:40]):
                    self.assertEqual(r.returncode, 1, r.stdout)
                    self.assertIn("%s:%d: " % (path, line), r.stderr)
                    self.assertIn(text, r.stderr)
                    self.assertEqual(r.stdout, "")

    def test_too_large(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "big.conf")
            with open(path, "w") as f:
                f.write("# x\n" * 20000)
            r = run_check([path])
            self.assertEqual(r.returncode, 1)
            self.assertIn("larger than", r.stderr)

    def test_special_files_are_refused_at_once(self):
        """Issue 13.3: /dev/zero was read forever and a FIFO blocked in
        open(); both are refused as not regular files, without blocking."""
        with tempfile.TemporaryDirectory() as d:
            fifo = os.path.join(d, "profile.fifo")
            os.mkfifo(fifo)
            for path in ("/dev/zero", fifo, d):
                with self.subTest(path=path):
                    r = subprocess.run([CHECK, path], capture_output=True,
                                       text=True, timeout=10)
                    self.assertEqual(r.returncode, 1, r.stderr)
                    self.assertIn(path, r.stderr)
                    self.assertIn("not a regular file", r.stderr)

    def test_missing_file(self):
        r = run_check(["/nonexistent/p.conf"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("/nonexistent/p.conf", r.stderr)


class KeyReference(unittest.TestCase):
    """docs/cloak.md's key reference says what the key list
    (include/hw/cloak/cloak-keys.h) says, row for row, and every row has
    its meaning written."""

    def test_docs_match_the_key_list(self):
        r = subprocess.run([CHECK, "--keys"], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        table = [l for l in r.stdout.splitlines() if l.startswith("|")]
        self.assertGreater(len(table), 50)
        with open(os.path.join(TOP, "docs", "cloak.md")) as f:
            m = re.search(r"<!-- profile-keys: begin -->\n(.*?)"
                          r"<!-- profile-keys: end -->", f.read(), re.S)
        self.assertIsNotNone(m, "docs/cloak.md has no profile-keys table")
        docs = m.group(1).strip().splitlines()[2:]     # header, rule
        cells = [[c.strip() for c in l.strip().strip("|").split("|")]
                 for l in docs]
        self.assertEqual([" | ".join(c[:4]) for c in cells],
                         [" | ".join(c.strip() for c in l.strip().strip("|")
                                     .split("|")) for l in table])
        for c in cells:
            self.assertEqual(len(c), 5, c)
            self.assertTrue(c[4], "no meaning written for %s %s" % tuple(c[:2]))


@unittest.skipUnless(os.environ.get("CLOAK_FUZZER"), "CLOAK_FUZZER not set")
class FuzzCorpus(unittest.TestCase):
    def test_replay_corpus(self):
        """The fuzz target builds and accepts its seed corpus unharmed."""
        files = PROFILES + sorted(glob.glob(os.path.join(TOP, "tests", "cloak",
                                                         "corpus", "*")))
        r = subprocess.run([os.environ["CLOAK_FUZZER"], "-runs=0"] + files,
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])


if __name__ == "__main__":
    unittest.main()
