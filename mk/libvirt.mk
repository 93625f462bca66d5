# libvirt drop-in and layered images: cloak-image, its tests, and the libvirt
# test that boots our installed binary through a real libvirtd.
# See docs/libvirt.md and docs/images.md.

# The libvirt test runs the *installed* binary: `make install` into a staging
# DESTDIR (same PREFIX, so nothing is reconfigured or rebuilt).
LIBVIRT_STAGE := $(BUILD_DIR)/libvirt-stage
LIBVIRT_BINDIR := $(LIBVIRT_STAGE)$(PREFIX)/bin

INSTALL_TOOLS += install-cloak-image
BOOT_CHECKS += check-cloak-image check-image-boot check-libvirt

.PHONY: install-cloak-image check-cloak-image check-image-boot check-libvirt \
        libvirt-stage

install-cloak-image:
	install -D -m 0755 $(TOP)/tools/cloak-image $(DESTDIR)$(PREFIX)/bin/cloak-image

# cloak-image against real qemu-img and a QEMU holding the disk (no guest).
check-cloak-image: build
	$(PYTHON) -m tests.image.test_cloak_image

# Boot, write a marker, reset, boot: the marker is gone, lower layers intact.
check-image-boot: build guest
	$(PYTHON) -m tests.image.test_layered_boot

libvirt-stage: build
	rm -rf $(LIBVIRT_STAGE)
	$(MAKE) --no-print-directory install DESTDIR=$(LIBVIRT_STAGE)

## check-libvirt: boot the staged install through a real libvirtd
check-libvirt: libvirt-stage guest
	CLOAK_LIBVIRT_EMULATOR=$(LIBVIRT_BINDIR)/qemu-system-x86_64 \
	QEMU_IMG=$(LIBVIRT_BINDIR)/qemu-img CLOAK_IMAGE=$(LIBVIRT_BINDIR)/cloak-image \
	$(PYTHON) -m tests.libvirt.test_libvirt

BENCH_TARGETS += bench-image-reset
.PHONY: bench-image-reset

# reset time with 1 MiB vs 512 MiB in the top layer, as a ratio.
## bench-image-reset: cloak-image reset time, 1 MiB vs 512 MiB written
bench-image-reset: build
	$(PYTHON) -m tests.image.bench_reset
