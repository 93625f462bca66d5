# Firmware: cleaned SeaBIOS, VGA BIOS and -kernel option ROM images built
# from Debian's seabios source and QEMU's pc-bios/optionrom (firmware/,
# patches/seabios-1.16.2, docs/firmware.md).  The patched QEMU loads them
# in place of the stock files while the cloak is on.

FIRMWARE_DIR := $(BUILD_DIR)/firmware
FIRMWARE_ENV = BUILD_DIR=$(BUILD_DIR) QEMU_SRC=$(BUILD_DIR)/qemu-src \
	PYTHON=$(PYTHON) PREFIX=$(PREFIX) DESTDIR=$(DESTDIR)

# Part of `make build`: the images are part of the fork.  The option ROMs
# come from the prepared QEMU tree, hence the dependency on qemu.
TOOLS += firmware $(TOOLS_DIR)/romscan
INSTALL_TOOLS += install-firmware
BOOT_CHECKS += check-firmware-images
BOOT_CHECKS += check-firmware-boot

.PHONY: firmware install-firmware check-firmware-images check-firmware-boot

## firmware: build the cleaned BIOS, VGA BIOS and option ROM images
firmware: qemu
	$(FIRMWARE_ENV) $(TOP)/firmware/build-firmware.sh all

install-firmware: firmware
	$(FIRMWARE_ENV) $(TOP)/firmware/build-firmware.sh install

# The guest's ROM scanner, built for the host to scan the images.
$(TOOLS_DIR)/romscan: $(TOP)/tests/guest/programs/romscan.c
	@mkdir -p $(TOOLS_DIR)
	$(CC) $(TOOL_CFLAGS) -o $@ $<

check-firmware-images: firmware $(TOOLS_DIR)/romscan
	FIRMWARE_DIR=$(FIRMWARE_DIR) ROMSCAN=$(TOOLS_DIR)/romscan \
		$(PYTHON) -m tests.firmware.test_images

# Boots the guest (tests/guest, `make guest`) under every profile.
check-firmware-boot: firmware guest
	QEMU_BIN=$(QEMU_BIN) GUEST_DIR=$(GUEST_DIR) \
		$(PYTHON) -m tests.firmware.test_guest
