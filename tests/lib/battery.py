"""The detector battery: what real detectors (virt-what,
systemd-detect-virt, lscpu, dmidecode, lspci, the kernel log) and the guest
probe report, checked for anything that names a virtual machine.

Each check takes a cloakguest.Report and returns a list of problems (empty
= clean).  Used by the cloak's boot tests (tests/cloak), the libvirt test
and the package test; the profiles' own facts (OUI, CPU table) come from
hw-cloak/profiles and docs/cloak.md.
"""

import functools
import os
import re
import subprocess

from tests.lib.paths import TOP, PROFILE_CHECK, profile_path
MACHINES = ("q35", "pc")

# What names a virtual machine in strings a guest reads.
NEEDLES = ("QEMU", "Bochs", "BOCHS", "BXPC", "SeaBIOS", "Standard PC",
           "pc-q35", "pc-i440fx")
BAD_PCI_VENDORS = ("1af4", "1b36", "1234")


def dmidecode_structures(text):
    """[(type, {field: value})] of dmidecode's output, in order."""
    structs = []
    for block in re.split(r"\n\s*\n", text):
        m = re.search(r"^Handle 0x[0-9A-F]{4}, DMI type (\d+),", block, re.M)
        if not m:
            continue
        fields = {}
        for line in block.splitlines():
            # a blank string ("Reference Designation:  ") is a field too
            k, sep, val = line.strip("\t").partition(": ")
            if sep and line.startswith("\t") and k not in fields:
                fields[k] = val.strip()
        structs.append((int(m.group(1)), fields))
    return structs


def profile_values(name):
    """The profile's raw keys (group.key -> value), read without QEMU."""
    values = {}
    group = None
    with open(profile_path(name)) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("["):
                group = line.strip("[]")
            elif "=" in line:
                k, _, v = line.partition("=")
                values["%s.%s" % (group, k.strip())] = v.strip()
    return values


@functools.lru_cache(maxsize=None)
def smbios_record_kinds():
    """{record name: (SMBIOS type, [field names])}, from the one record
    table (include/hw/cloak/cloak-keys.h) as cloak-profile-check --keys
    prints it."""
    out = subprocess.run([PROFILE_CHECK, "--keys"], check=True,
                         capture_output=True, text=True).stdout
    kinds = {}
    for line in out.splitlines():
        m = re.match(r"\| `\[smbios\]` \| `([a-z-]+)-<n>` \| record: (.*) \| "
                     r"SMBIOS(?: type (\d+)|, the type given) \|$", line)
        if m:
            names = [f.split(" ")[-1] for f in m.group(2).split(", ")]
            kinds[m.group(1)] = (int(m.group(3) or 0), names)
    return kinds


def profile_smbios(name):
    """{record name: [{field: value}, ...] in the order of n} of a
    profile's [smbios] group (escapes resolved, templates left as
    written)."""
    kinds = smbios_record_kinds()
    found = {}
    for key, value in profile_values(name).items():
        group, _, k = key.partition(".")
        m = re.match(r"(.+)-(\d+)$", k)
        if group != "smbios" or not m or m.group(1) not in kinds:
            continue
        names = kinds[m.group(1)][1]
        value = value.replace("\\s", " ")
        parts = value.split("|") if len(names) > 1 else [value]
        rec = dict(zip(names, parts))
        if names[-1] == "strings":
            rec["strings"] = parts[len(names) - 1:]
        found.setdefault(m.group(1), []).append((int(m.group(2)), rec))
    return {k: [rec for _, rec in sorted(v, key=lambda x: x[0])]
            for k, v in found.items()}


# What a real machine's table has and QEMU's lacks: the floor.
SMBIOS_MIN_STRUCTURES = 41
SMBIOS_REQUIRED_TYPES = (8, 9, 20, 26, 27, 28, 29)


def check_smbios_structures(r, profile=None):
    """The structure set: more than 40 structures, types 8, 9, 20 and
    26-29 present and, with a profile, each of its [smbios] records in the
    guest's dmidecode, in order, with its values; on-board devices at
    addresses lspci shows."""
    structs = dmidecode_structures(r.output("dmidecode"))
    bad = []
    if len(structs) < SMBIOS_MIN_STRUCTURES:
        bad.append("dmidecode: %d structures, a real machine has more than "
                   "40" % len(structs))
    types = {t for t, _ in structs}
    for t in SMBIOS_REQUIRED_TYPES:
        if t not in types:
            bad.append("dmidecode: no type %d structure" % t)
    if profile is None:
        return bad

    def of_type(t):
        return [f for typ, f in structs if typ == t]

    def expect(what, got, want):
        if got != want:
            bad.append("%s: %r, the profile says %r" % (what, got, want))

    recs = profile_smbios(profile)
    kinds = smbios_record_kinds()
    for kind, rows in recs.items():
        t = kinds[kind][0]
        if t in (10, 11, 12, 13):
            expect("type %d structures" % t, len(of_type(t)), 1)
        elif t:
            expect("type %d structures" % t, len(of_type(t)), len(rows))
    checks = {
        "port": (8, "External Reference Designator", "external-reference"),
        "slot": (9, "Designation", "designation"),
        "voltage-probe": (26, "Description", "description"),
        "cooling": (27, "Description", "description"),
        "temperature-probe": (28, "Description", "description"),
        "current-probe": (29, "Description", "description"),
        "onboard": (41, "Reference Designation", "designation"),
        "battery": (22, "Name", "name"),
    }
    for kind, (t, field, key) in checks.items():
        # an empty string is SMBIOS's "no string"; a blank one is printed
        want = [rec[key].strip() if rec[key] else "Not Specified"
                for rec in recs.get(kind, [])]
        expect("type %d %s" % (t, field),
               [f.get(field) for f in of_type(t)][:len(want)], want)
    for t, kind, label in ((11, "oem-string", "String"),
                           (12, "option", "Option")):
        got = (of_type(t) or [{}])[0]
        for i, rec in enumerate(recs.get(kind, [])):
            if "{" not in rec["string"]:       # a per-VM template
                expect("type %d %s %d" % (t, label, i + 1),
                       got.get("%s %d" % (label, i + 1)),
                       rec["string"].strip())
    lspci = set(re.findall(r"^([0-9a-f]{2}:[0-9a-f]{2}\.\d) ",
                           r.output("lspci"), re.M))
    for f in of_type(41):
        if f.get("Status") == "Enabled":
            addr = f.get("Bus Address", "")[5:]
            if addr not in lspci:
                bad.append("type 41 %r at %r: lspci has no such device"
                           % (f.get("Reference Designation"), addr))
    if profile_values(profile).get("memory.mapped-addresses") == "1":
        expect("type 20 structures", len(of_type(20)), len(of_type(17)))
    return bad


def topology(name):
    """-smp for the battery: two vCPUs for every profile.

    More vCPUs would pick other brands, but 2 vCPUs halve the load on a
    2-core CI machine.  Brand-per-topology is tested without a guest
    (test_cli).
    """
    return "cpus=2,sockets=1,cores=2,threads=1"


def device_args(machine, disk):
    """Real emulated hardware only: e1000e, the chipset's disk controller,
    an ATAPI CD, Intel USB with a tablet, Intel HDA; and std VGA, which
    stock QEMU presents as 1234:1111 and the cloak as the profile's
    display adapter.  On q35 the NIC sits behind a pcie-root-port, as
    libvirt places it (stock 1b36:000c, the cloak the profile's port)."""
    hda = "ich9-intel-hda" if machine == "q35" else "intel-hda"
    nic = ["-device", "e1000e,netdev=n0"]
    if machine == "q35":
        nic = ["-device", "pcie-root-port,id=rp0,chassis=1",
               "-device", "e1000e,netdev=n0,bus=rp0"]
    return [
        "-nodefaults",
        "-machine", "usb=on",
        "-netdev", "user,id=n0"] + nic + [
        "-drive", "if=none,id=d0,format=raw,file=" + disk,
        "-device", "ide-hd,drive=d0,bus=ide.0",
        "-device", "ide-cd,bus=ide.1",
        "-device", "usb-tablet",
        "-audiodev", "none,id=snd0",
        "-device", hda, "-device", "hda-duplex,audiodev=snd0",
        "-vga", "std",
    ]


# What the guest kernel reports of each profile's CPU, in one place: the
# table in docs/cloak.md ("The CPU"), which says it is what the real part
# reports on bare metal.
CPU_DOC = os.path.join(TOP, "docs", "cloak.md")
STOCK_COLUMN = "-cloak off"


def documented_cpu_reports():
    """{column: {file: text}} of docs/cloak.md's vulnerability table."""
    with open(CPU_DOC) as f:
        text = f.read()
    m = re.search(r"<!-- cpu-vulnerabilities: begin -->\n(.*?)"
                  r"<!-- cpu-vulnerabilities: end -->", text, re.S)
    if not m:
        raise AssertionError("docs/cloak.md has no cpu-vulnerabilities table")
    rows = [[c.strip() for c in l.strip().strip("|").split("|")]
            for l in m.group(1).strip().splitlines()]
    header, body = rows[0], rows[2:]
    table = {col: {} for col in header[1:]}
    for row in body:
        for col, cell in zip(header[1:], row[1:]):
            table[col][row[0]] = cell
    return table


def cpu_report(r):
    """{file: text} of the guest's cpu-vulnerabilities section, with the
    microcode revision from /proc/cpuinfo as "microcode"."""
    report = {}
    for line in r.output("cpu-vulnerabilities").splitlines():
        m = re.match(r"^microcode\s*:\s*(\S+)$", line)
        if m:
            report["microcode"] = m.group(1)
            continue
        name, sep, text = line.partition(":")
        if sep:
            report[name] = text
    return report


# ---- the checks ------------------------------------------------------------
# Each takes a Report and returns a list of problems (empty = clean).

def lines_with(text, needles):
    return [l.strip() for l in text.splitlines() if any(n in l for n in needles)]


def check_virt_what(r):
    out = r.output("virt-what").strip()
    return ["virt-what says %r" % out] if out else []


def check_systemd_detect_virt(r):
    out = r.output("systemd-detect-virt").strip()
    return [] if out == "none" else ["systemd-detect-virt says %r" % out]


def check_lscpu(r):
    out = r.output("lscpu")
    bad = [l for l in out.splitlines()
           if l.startswith(("Hypervisor vendor", "Virtualization type"))]
    flags = [l for l in out.splitlines() if l.startswith("Flags:")]
    if flags and " hypervisor" in flags[0]:
        bad.append("Flags include 'hypervisor'")
    bad += ["lscpu: " + l for l in lines_with(out, ("QEMU", "TCG", "KVM"))
            if not l.startswith("Vulnerability")]
    return bad


def check_cpuid(r):
    bad = []
    if r.probe.get("cpuid.hypervisor_bit") != "0":
        bad.append("CPUID.1:ECX[31] = %s" % r.probe.get("cpuid.hypervisor_bit"))
    for k, v in sorted(r.probe.items()):
        if re.match(r"cpuid\.0x400000[0-9a-f]{2}\.sig$", k):
            bad.append("%s answers %r" % (k[:16], v))
    brand = r.probe.get("cpuid.brand", "")
    if re.search(r"QEMU|KVM|TCG|Virtual CPU", brand):
        bad.append("brand %r" % brand)
    return bad


def check_dmidecode(r):
    out = r.output("dmidecode")
    bad = ["dmidecode: " + l for l in lines_with(out, NEEDLES)]
    if r.probe.get("smbios.bios.vm_bit") != "0":
        bad.append("SMBIOS VM bit: %s" % r.probe.get("smbios.bios.vm_bit"))
    if r.probe.get("smbios.chassis.type") in ("1", "2", None):
        bad.append("SMBIOS chassis type %s" % r.probe.get("smbios.chassis.type"))
    # every handle a structure refers to exists
    handles = {k.split(".")[1] for k in r.probe if re.match(r"smbios\.[0-9a-f]{4}\.type$", k)}
    for m in re.finditer(r"(?:Handle|Chassis Handle|Cache Handle|Array Handle): 0x([0-9A-F]{4})", out):
        h = m.group(1).lower()
        if h not in handles:
            bad.append("SMBIOS refers to missing handle 0x%s" % h)
    return bad


def _kib(text):
    """KiB of "64 KiB", "3 MiB", "128 kB" or "3 MB" (dmidecode's units are
    binary too), or None."""
    m = re.match(r"\s*([\d.]+)\s*([KMG])i?B\b", text or "", re.I)
    if not m:
        return None
    return float(m.group(1)) * {"K": 1, "M": 1024,
                                "G": 1 << 20}[m.group(2).upper()]


def _printed_precision(text):
    """KiB of one unit in the last digit lscpu printed ("1.3 MiB": 0.1
    MiB), 0 for a whole number."""
    m = re.match(r"\s*\d+\.(\d+)\s*([KMG])i?B\b", text or "", re.I)
    if not m:
        return 0
    return 10.0 ** -len(m.group(1)) * {"K": 1, "M": 1024,
                                       "G": 1 << 20}[m.group(2).upper()]


def check_cpu_caches(r):
    """The caches CPUID describes (lscpu) are SMBIOS type 7's."""
    lscpu = {}
    for line in r.output("lscpu").splitlines():
        m = re.match(r"^(L1d|L1i|L2|L3) cache:\s*(.*?)(?: \((\d+) instances?\))?$",
                     line)
        if m:
            lscpu[m.group(1)] = (_kib(m.group(2)), int(m.group(3) or 1),
                                 _printed_precision(m.group(2)))
    smbios = {f.get("Socket Designation"): _kib(f.get("Installed Size"))
              for t, f in dmidecode_structures(r.output("dmidecode"))
              if t == 7}
    if not smbios:
        return ["SMBIOS has no type 7 to compare CPUID's caches with"]
    bad = []
    l1 = sum(lscpu.get(k, (0, 1, 0))[0] or 0 for k in ("L1d", "L1i"))
    if l1 != smbios.get("L1 Cache"):
        bad.append("CPUID L1d+L1i %s KiB, SMBIOS L1 %s KiB"
                   % (l1, smbios.get("L1 Cache")))
    for level in ("L2", "L3"):
        kib, instances, precision = lscpu.get(level, (None, 1, 0))
        # Without TOPOEXT (TCG has none) Linux counts an AMD L3 per core;
        # the size per instance is then what CPUID said for the socket.
        if level == "L3" and kib and instances > 1:
            kib /= instances
            precision /= instances
        want = smbios.get(level + " Cache")
        # lscpu prints one decimal: 1280 KiB (one 10-way L2) is "1.3 MiB"
        if kib is None or want is None or abs(kib - want) > precision / 2 + 1e-6:
            bad.append("CPUID %s %s KiB, SMBIOS %s KiB"
                       % (level, kib, smbios.get(level + " Cache")))
    return bad


def check_kernel_log(r):
    log = r.output("dmesg")
    bad = ["dmesg: " + l for l in lines_with(log, ("Hypervisor detected",))]
    for l in log.splitlines():
        if re.search(r"\] (DMI|ACPI):", l) and re.search(r"QEMU|BOCHS|BXPC|Bochs", l):
            bad.append("dmesg: " + l.strip())
    return bad


def check_acpi(r):
    bad = []
    for k, v in sorted(r.probe.items()):
        m = re.match(r"acpi\.(.+)\.(oem_id|oem_table_id|creator_id|contains)$", k)
        if m and re.search(r"BOCHS|BXPC|QEMU|FWCF", v):
            bad.append("ACPI %s %s = %r" % (m.group(1), m.group(2), v.strip()))
        if k.startswith("acpi.WAET.") and k.endswith(".signature"):
            bad.append("ACPI table WAET is present")
    return bad


def acpi_nodes(r):
    """([(ACPI path, HID)], [(PCI address, class, ACPI path)]) of the
    guest's acpi-devices section."""
    nodes, pci = [], []
    for line in r.output("acpi-devices").splitlines():
        f = line.split()
        if f[:1] == ["pci"] and len(f) >= 3:
            pci.append((f[1], f[2], f[3] if len(f) > 3 else ""))
        elif f:
            nodes.append((f[0], f[1] if len(f) > 1 else ""))
    return nodes, pci


# What al-khaser's firmware_ACPI wants of every PC, by HID: power button
# and WMI; and a thermal zone (power_capabilities), which Linux names
# LNXTHERM.
PLATFORM_HIDS = ("PNP0C0C", "PNP0C14", "LNXTHERM")


def check_acpi_platform(r):
    """The WSMT table, the platform devices every profile has, and PCI
    functions named as firmware names them (not QEMU's S<devfn>)."""
    bad = []
    if not any(k.startswith("acpi.WSMT.") for k in r.probe):
        bad.append("no WSMT table")
    nodes, pci = acpi_nodes(r)
    hids = {h for _, h in nodes}
    for hid in PLATFORM_HIDS:
        if hid not in hids:
            bad.append("no ACPI device %s" % hid)
    if not pci:
        bad.append("the guest listed no PCI function's ACPI node")
    for addr, cls, path in pci:
        if re.search(r"\.S[0-9A-F]{2}_$", path):
            bad.append("PCI %s (class %s) is ACPI %s, QEMU's slot name"
                       % (addr, cls, path))
    return bad


def thermal_reads(r):
    """{phase: {zone: millidegrees}} of the guest's thermal section; the
    phases are start, idle (after a rest) and busy (after as long with
    every CPU busy)."""
    reads, phase = {}, None
    for line in r.output("thermal").splitlines():
        m = re.match(r"phase (\w+)$", line)
        if m:
            phase = reads.setdefault(m.group(1), {})
        m = re.search(r"thermal_zone(\d+)/temp:(-?\d+)$", line)
        if m and phase is not None:
            phase[int(m.group(1))] = int(m.group(2))
    return reads


def power_supply(r):
    """{supply: {attribute: value}} of the guest's power-supply section."""
    found = {}
    for line in r.output("power-supply").splitlines():
        m = re.match(r"([^/]+)/([a-z_]+):(.*)$", line)
        if m:
            found.setdefault(m.group(1), {})[m.group(2)] = m.group(3)
    return found


def check_thermal_zone(reads, low, high):
    """One zone, every read in low..high C, and warmer after the guest
    kept its CPUs busy than after it rested: by a tenth of the range, at
    least half a degree (the load moves three quarters of it)."""
    bad = []
    if sorted(reads) != ["busy", "idle", "start"]:
        return ["thermal: phases %r, not start, idle, busy" % sorted(reads)]
    zones = {z for phase in reads.values() for z in phase}
    if len(zones) != 1 or any(len(p) != 1 for p in reads.values()):
        return ["thermal zones %r, the profile has one" % reads]
    zone = zones.pop()
    temps = {p: reads[p][zone] / 1000 for p in reads}
    for p, t in sorted(temps.items()):
        if not low - 0.5 <= t <= high + 0.5:
            bad.append("thermal zone %d %s: %.1f C, the profile's range is "
                       "%d-%d C" % (zone, p, t, low, high))
    rise = temps["busy"] - temps["idle"]
    if rise < max(0.5, (high - low) / 10):
        bad.append("thermal zone %d: %.1f C at rest, %.1f C under load: "
                   "it does not follow the load" % (zone, temps["idle"],
                                                   temps["busy"]))
    return bad


def check_acpi_profile(r, profile):
    """The profile's [acpi] platform devices as the guest sees them: each
    device its key asks for (and none it leaves out), a thermal zone in the
    profile's range whose reading moves, the laptop's battery and AC."""
    v = profile_values(profile)
    nodes, _ = acpi_nodes(r)
    hids = [h for _, h in nodes]
    bad = []

    def count(what, hid, want):
        got = hids.count(hid)
        if got != want:
            bad.append("%s: %d ACPI %s devices, the profile says %d"
                       % (what, got, hid, want))

    def flag(key):
        return int(v.get("acpi." + key, "0"), 0)

    count("power-button", "PNP0C0C", flag("power-button"))
    count("sleep-button", "PNP0C0E", flag("sleep-button"))
    count("lid", "PNP0C0D", flag("lid"))
    count("fans", "PNP0C0B", flag("fans"))
    count("wmi", "PNP0C14", len(v["acpi.wmi"].split(",")) if "acpi.wmi" in v
          else 0)
    has_battery = any(k.startswith("smbios.battery-") for k in v)
    count("battery", "PNP0C0A", int(has_battery))
    count("AC adapter", "ACPI0003", int(has_battery))
    if "acpi.pep" in v:
        pep = [h for h in hids if h in ("INT33A1", "AMDI0005")]
        if len(pep) != 1:
            bad.append("pep: ACPI devices %r, the profile asks for one" % pep)
    if "acpi.thermal-zone" in v:
        bad += check_thermal_zone(thermal_reads(r), int(v["acpi.thermal-low"]),
                                  int(v["acpi.thermal-high"]))
    supplies = power_supply(r)
    bats = {n: a for n, a in supplies.items() if a.get("type") == "Battery"}
    acs = {n: a for n, a in supplies.items() if a.get("type") == "Mains"}
    if has_battery:
        if len(bats) != 1 or len(acs) != 1:
            bad.append("power supplies %r: one battery and one AC adapter "
                       "expected" % supplies)
        for name, a in bats.items():
            if not 1 <= int(a.get("capacity", "0")) <= 100:
                bad.append("%s capacity %r" % (name, a.get("capacity")))
            if a.get("status") not in ("Charging", "Discharging", "Full"):
                bad.append("%s status %r" % (name, a.get("status")))
    elif supplies:
        bad.append("power supplies %r on a profile without a battery"
                   % sorted(supplies))
    return bad


def check_fw_cfg(r):
    """/sys/firmware/qemu_fw_cfg, its "rev" file (the driver bound to a
    fw_cfg device) and the ACPI node.  The test guest loads qemu_fw_cfg as
    udev does: only when ACPI names the device QEMU0002."""
    bad = []
    if r.probe.get("fwcfg.visible") == "1":
        bad.append("/sys/firmware/qemu_fw_cfg exists")
    if "fwcfg.rev" in r.probe:
        bad.append("/sys/firmware/qemu_fw_cfg/rev = %r (fw_cfg device bound)"
                   % r.probe["fwcfg.rev"])
    for k, v in sorted(r.probe.items()):
        if k.startswith("acpi.") and k.endswith(".contains") and \
                ("QEMU0002" in v or "FWCF" in v):
            bad.append("ACPI %s names fw_cfg (%s)" % (k[5:-9], v))
    if r.probe.get("fwcfg.visible") not in ("0", "1"):
        bad.append("the probe did not report fwcfg.visible")
    return bad


def check_pci(r):
    """Vendor IDs, on each device's own line (subsystems are below it)."""
    bad = []
    for line in r.output("lspci").splitlines():
        if not re.match(r"[0-9a-f]{2}:[0-9a-f]{2}\.\d ", line):
            continue
        m = re.search(r"\[(%s):([0-9a-f]{4})\]( \(rev [0-9a-f]+\))?"
                      r"( \(prog-if [^)]*\))?$"
                      % "|".join(BAD_PCI_VENDORS), line)
        if m:
            bad.append("lspci: " + line.strip())
    return bad


def check_pci_subsystem(r):
    """[devices] PCI subsystem IDs."""
    return ["lspci: " + l for l in lines_with(r.output("lspci"), ("[1af4:1100]",))]


def check_device_names(r):
    """[devices] disk, CD and input names; QEMU's "QM000nn" serials."""
    bad = []
    for k, v in sorted(r.probe.items()):
        if re.match(r"(block\.[^.]+\.(vendor|model|ata\.model)|input\.\d+\.name)$", k) \
                and "QEMU" in v:
            bad.append("%s = %r" % (k, v.strip()))
        if re.match(r"block\.[^.]+\.ata\.serial$", k) and v.strip().startswith("QM000"):
            bad.append("%s = %r" % (k, v.strip()))
    return bad


def check_mac(r, oui=None):
    bad = []
    for k, v in sorted(r.probe.items()):
        if re.match(r"net\.[^.]+\.mac$", k) and not k.startswith("net.lo."):
            if v.lower().startswith("52:54:00"):
                bad.append("%s = %s" % (k, v))
            elif oui and not v.lower().startswith(oui.lower()):
                bad.append("%s = %s, not the profile's OUI %s" % (k, v, oui))
    if not any(re.match(r"net\.eth\d+\.mac$", k) for k in r.probe):
        bad.append("the guest has no NIC")
    return bad


CHECKS = [
    ("virt-what", check_virt_what),
    ("systemd-detect-virt", check_systemd_detect_virt),
    ("lscpu and /proc/cpuinfo", check_lscpu),
    ("CPUID", check_cpuid),
    ("dmidecode / SMBIOS", check_dmidecode),
    ("CPUID caches = SMBIOS type 7", check_cpu_caches),
    ("kernel log", check_kernel_log),
    ("ACPI tables", check_acpi),
    ("fw_cfg sysfs", check_fw_cfg),
    ("lspci vendors", check_pci),
    ("[devices] lspci subsystem", check_pci_subsystem),
    ("[devices] disk/CD/input names", check_device_names),
    ("MAC addresses", check_mac),
    ("SMBIOS structure set", check_smbios_structures),
    ("ACPI platform devices and names", check_acpi_platform),
]

# Checks stock QEMU passes with this device set, shown failing on
# synthetic reports in FakeReports: under TCG Linux prints no "Hypervisor
# detected" (it knows no TCG signature).
STOCK_CLEAN_UNDER_TCG = {"kernel log"}


OVERRIDES = [
    "-smbios", "type=1,manufacturer=Acme Labs,product=Box 1",
    "-smbios", "type=3,serial=SN-USER-1",
    "-cpu", "qemu64,model-id=Acme CPU 1000",
    "-machine", "acpi-pm-profile=3,smbios-chassis-type=7",
]


def run_checks(report, profile=None):
    """{check name: problems} of every check; with a profile, the MACs must
    also carry its OUI."""
    oui = profile_values(profile)["net.oui"] if profile else None
    return {name: (check(report, oui) if check is check_mac else check(report))
            for name, check in CHECKS}
