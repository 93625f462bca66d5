# The Debian package (debian/, scripts/build-deb, debian/README.Debian) and
# its test: build it, install it beside Debian's QEMU, boot, drive it
# through libvirt, read a trace with it, purge it (tests/deb).

DEB_DIR := $(BUILD_DIR)/deb
BOOT_CHECKS += check-deb

.PHONY: deb check-deb

## deb: build build/deb/qemu-cloak_VERSION_amd64.deb (dpkg-buildpackage) and lintian it
deb: build
	BUILD_DIR=$(BUILD_DIR) $(TOP)/scripts/build-deb

## check-deb: build, install, boot, libvirt, trace and purge the package
check-deb: deb guest
	$(PYTHON) -m unittest -v tests.deb.test_package
