"""The test runner: python3 -m tests SELECTION [--list] [MODULE...]

    unit   no QEMU build needed: the front door (configure, build.sh, the
           series scripts, make help), the profile parser, the guest report
           parser, the trace reader (needs `make tools`, not QEMU)
    boot   needs QEMU, the firmware and the test guest built (`make build
           guest`): QEMU's options and devices, guest boots, libvirt, the
           package (as root)
    all    both

Run from the top of the tree.  `make check` runs the same modules area by
area, each after what it needs is built, with the C unit tests and fuzz
smoke runs beside them; a test in tests/build checks that every test module
is in exactly one selection here.  MODULE narrows the selection
(tests.cloak.test_cli, or just cloak.test_cli).
"""

import argparse
import sys
import unittest

UNIT = (
    "tests.build.test_build_errors",
    "tests.build.test_prepare",
    "tests.build.test_make_help",
    "tests.build.test_series_roundtrip",
    "tests.build.test_runner",
    "tests.cloak.test_profiles",
    "tests.guest.test_report",
    "tests.trace.test_reader_cli",
    "tests.trace.test_os_profile",
)

BOOT = (
    "tests.cloak.test_cli",
    "tests.devices.test_props",
    "tests.firmware.test_images",
    "tests.boot.test_foundation",
    "tests.cloak.test_cloak",
    "tests.devices.test_boot_devices",
    "tests.firmware.test_guest",
    "tests.trace.test_qemu_object",
    "tests.trace.test_trace_guest",
    "tests.trace.test_trace_tasks",
    "tests.hostile.test_hostile",
    "tests.image.test_cloak_image",
    "tests.image.test_layered_boot",
    "tests.libvirt.test_libvirt",
    "tests.deb.test_package",
)

SELECTIONS = {"unit": UNIT, "boot": BOOT, "all": UNIT + BOOT}


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python3 -m tests",
                                 description="Run a selection of the tests.")
    ap.add_argument("selection", choices=sorted(SELECTIONS))
    ap.add_argument("modules", nargs="*", metavar="MODULE",
                    help="only these modules of the selection")
    ap.add_argument("--list", action="store_true",
                    help="print the selection's modules and exit")
    args = ap.parse_args(argv)
    modules = list(SELECTIONS[args.selection])
    if args.modules:
        wanted = [m if m.startswith("tests.") else "tests." + m
                  for m in args.modules]
        unknown = [m for m in wanted if m not in modules]
        if unknown:
            ap.error("not in the %s selection: %s" % (args.selection,
                                                      ", ".join(unknown)))
        modules = wanted
    if args.list:
        print("\n".join(modules))
        return 0
    suite = unittest.defaultTestLoader.loadTestsFromNames(modules)
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main())
