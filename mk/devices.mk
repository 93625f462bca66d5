# Devices area: device identity properties (patches 0030-0049,
# hw-cloak/device-*.c) and their tests.
#
#   check-devices-props  QEMU started paused, no guest kernel: every identity
#                        property's stock default and override read back with
#                        qom-get/query-pci, -global/-device precedence, bad
#                        values refused, EDID bytes read through the VGA BAR
#   check-boot-devices   boots the test guest with an overlay program that
#                        reads the identities from inside: stock, configured
#                        by properties, and from a -cloak profile

BOOT_CHECKS += check-devices-props
BOOT_CHECKS += check-boot-devices

.PHONY: check-devices-props check-boot-devices

check-devices-props: qemu
	QEMU_BIN=$(QEMU_BIN) $(PYTHON) -m tests.devices.test_props

check-boot-devices: guest
	QEMU_BIN=$(QEMU_BIN) GUEST_DIR=$(GUEST_DIR) BUILD_DIR=$(BUILD_DIR) \
	    $(PYTHON) -m tests.devices.test_boot_devices
