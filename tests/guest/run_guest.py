"""run-guest: boot the qemu-cloak test guest and report what it saw.

    run-guest --qemu BIN [--machine q35|pc] [--accel auto|tcg|kvm]
              [--show-report | --json] [-- EXTRA QEMU ARGS...]

Exit status: 0 when the guest booted and printed a complete report with the
right nonce, 1 when it did not (the message says why), 2 for bad usage.
"""

import argparse
import json
import re
import signal
import sys

from tests.lib import cloakguest


def first_line(report, section):
    out = report.sections.get(section)
    if out is None:
        return "(did not run)"
    lines = [l for l in out.lines if l.strip()]
    text = ", ".join(lines[:3]) if lines else "(no output)"
    return "%s  [exit status %d]" % (text, out.status)


def show(report):
    p = report.probe
    w = sys.stdout.write

    def item(label, value):
        w("  %-26s %s\n" % (label, value if value not in (None, "") else "-"))

    w("Booted %s under %s in %.1f s (%s); nonce %s verified.\n"
      % (report.machine, report.accel, report.boot_seconds,
         report.accel_reason, report.nonce))
    w("\nDetectors\n")
    item("virt-what", first_line(report, "virt-what"))
    item("systemd-detect-virt", first_line(report, "systemd-detect-virt"))
    lscpu = report.sections.get("lscpu")
    if lscpu:
        for l in lscpu.lines:
            if l.split(":")[0] in ("Model name", "Hypervisor vendor",
                                   "Virtualization type"):
                k, _, v = l.partition(":")
                item("lscpu " + k, v.strip())
    dmi = report.sections.get("dmidecode")
    if dmi:
        for l in dmi.lines:
            k, _, v = l.strip().partition(": ")
            if k in ("Vendor", "Manufacturer", "Product Name", "Version",
                     "Release Date", "Serial Number") and v:
                item("dmidecode " + k, v)
                if k == "Serial Number":   # stop after the system's serial
                    break
        item("dmidecode VM bit", "set" if any(
            "System is a virtual machine" in l for l in dmi.lines) else "clear")
    else:
        item("dmidecode", "(did not run)")
    dmesg = report.sections.get("dmesg")
    if dmesg:
        for l in dmesg.lines:
            if "DMI:" in l or "Hypervisor detected" in l:
                item("kernel log", l.split("] ", 1)[-1])
    lspci = report.sections.get("lspci")
    if lspci:
        for l in lspci.lines:
            if re.match(r"[0-9a-f]{2}:[0-9a-f]{2}\.\d ", l):
                item("lspci", l)
    else:
        item("lspci", "(did not run)")

    w("\nCPU\n")
    item("vendor", p.get("cpuid.vendor"))
    item("brand", p.get("cpuid.brand"))
    item("hypervisor bit", p.get("cpuid.hypervisor_bit"))
    sigs = ["%s=%s" % (k[6:16], v) for k, v in p.items()
            if k.startswith("cpuid.0x400000") and k.endswith(".sig")]
    item("hypervisor leaves", ", ".join(sigs) or "no signature")
    item("CPUID(0) exit cycles", "median %s, min %s (RDTSC pair: median %s)"
         % (p.get("timing.cpuid.median"), p.get("timing.cpuid.min"),
            p.get("timing.rdtsc.median")))
    item("clocksource", "%s (available: %s)" % (p.get("clocksource.current"),
                                                 p.get("clocksource.available")))

    w("\nSMBIOS / DMI\n")
    for f in ("sys_vendor", "product_name", "product_version", "board_vendor",
              "board_name", "bios_vendor", "bios_version", "bios_date",
              "chassis_vendor", "chassis_type"):
        item(f, p.get("dmi." + f))
    item("BIOS 'VM' bit", p.get("smbios.bios.vm_bit"))
    item("structures", p.get("smbios.structures"))

    w("\nACPI\n")
    tables = sorted({k[5:].rsplit(".", 1)[0] for k in p
                     if k.startswith("acpi.") and k.endswith(".length")})
    for t in tables:
        if "acpi.%s.oem_id" % t in p:
            header = "OEM %r table %r creator %r rev %s" % (
                p["acpi.%s.oem_id" % t], p.get("acpi.%s.oem_table_id" % t),
                p.get("acpi.%s.creator_id" % t),
                p.get("acpi.%s.creator_revision" % t))
        else:
            header = "no common header"
        item(t, "%s; contains: %s" % (header, p.get("acpi.%s.contains" % t) or "-"))
    item("FADT PM profile", p.get("acpi.FACP.pm_profile"))
    item("fw_cfg visible", p.get("fwcfg.visible"))

    w("\nPCI (vendor:device subsystem class driver)\n")
    devs = sorted({k[4:].rsplit(".", 1)[0] for k in p
                   if k.startswith("pci.") and k.endswith(".vendor")})
    for d in devs:
        g = lambda f: (p.get("pci.%s.%s" % (d, f)) or "?").replace("0x", "")
        item(d, "%s:%s  %s:%s  %s  %s" % (g("vendor"), g("device"),
                                          g("subsystem_vendor"),
                                          g("subsystem_device"), g("class"),
                                          p.get("pci.%s.driver" % d, "")))
    item("host bridge says", report.guest_machine() or "unknown machine")

    w("\nDisks, input, USB, network\n")
    for k, v in p.items():
        if (k.startswith(("block.", "nvme.", "net.")) and not k.endswith(".sectors")) \
                or k.endswith((".name",)) and k.startswith("input.") \
                or (k.startswith("usb.") and k.split(".")[-1] in (
                    "idVendor", "idProduct", "manufacturer", "product")):
            item(k, v.strip())


def main():
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    ap = argparse.ArgumentParser(
        prog="run-guest",
        description="Boot the qemu-cloak test guest and report what its "
                    "detectors saw.",
        epilog="Arguments after -- go to QEMU unchanged.")
    ap.add_argument("--qemu", required=True, help="qemu-system-x86_64 binary")
    ap.add_argument("--machine", default="q35",
                    help="machine type: q35 or pc, optionally with properties "
                         "(default q35)")
    ap.add_argument("--accel", default="auto", choices=("auto", "tcg", "kvm"))
    ap.add_argument("--guest-dir", default=cloakguest.default_guest_dir(),
                    help="directory with vmlinuz and initrd.img")
    ap.add_argument("--kernel", help="kernel instead of GUEST_DIR/vmlinuz")
    ap.add_argument("--initrd", help="initramfs instead of GUEST_DIR/initrd.img")
    ap.add_argument("--smp", type=int, default=1)
    ap.add_argument("-m", "--memory", type=int, default=512, help="MiB")
    ap.add_argument("--timeout", type=int, default=cloakguest.DEFAULT_TIMEOUT,
                    help="seconds before giving up (default %(default)s)")
    ap.add_argument("--run", metavar="NAME",
                    help="run /bin/NAME in the guest instead of the detectors")
    ap.add_argument("--run-arg", action="append", default=[], metavar="ARG",
                    help="an argument for --run (repeatable)")
    ap.add_argument("--append", default="", metavar="ARGS",
                    help="more guest kernel command-line arguments")
    ap.add_argument("--log", metavar="FILE", help="save the console log here")
    out = ap.add_mutually_exclusive_group()
    out.add_argument("--show-report", action="store_true",
                     help="print what each detector saw, for humans")
    out.add_argument("--json", action="store_true",
                     help="print the parsed report as JSON")
    ap.add_argument("qemu_args", nargs="*", help=argparse.SUPPRESS)
    args = ap.parse_args()

    try:
        report = cloakguest.boot(
            args.qemu, machine=args.machine, accel=args.accel,
            extra_args=args.qemu_args, smp=args.smp, memory=args.memory,
            timeout=args.timeout, run=args.run, run_args=args.run_arg,
            guest_dir=args.guest_dir, kernel=args.kernel, initrd=args.initrd,
            log_path=args.log, append_extra=args.append)
    except ValueError as e:
        ap.error(str(e))
    except cloakguest.GuestError as e:
        print("run-guest: error: %s" % e, file=sys.stderr)
        return 1

    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=1)
        sys.stdout.write("\n")
    elif args.show_report and args.run is None:
        show(report)
    else:
        print("run-guest: %s booted under %s (%s) in %.1f s; report complete, "
              "nonce verified" % (report.machine, report.accel,
                                  report.accel_reason, report.boot_seconds))
        for name, s in report.sections.items():
            if args.run is not None and name.startswith("run:"):
                sys.stdout.write(s.output)
                print("run-guest: %s exited with status %d" % (name[4:], s.status))
            elif args.run is None and name in ("virt-what", "systemd-detect-virt"):
                print("run-guest: %s: %s" % (name, first_line(report, name)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
