# Guest area: the boot-test guest, its runner, and the foundation boot tests.
#
#   guest                  $(GUEST_DIR)/vmlinuz + initrd.img (tests/guest/build-guest.sh)
#   check-unit-guest       report parser and probe format (no guest boot)
#   check-boot-foundation  boots q35 and pc under $(QEMU_BIN): nonce, complete
#                          report, accelerator, machine type, every detector ran;
#                          and proves the harness fails on bad boots and reports

GUEST_SOURCES := $(TOP)/tests/guest/build-guest.sh $(TOP)/tests/guest/probe.c \
    $(TOP)/tests/guest/init $(wildcard $(TOP)/tests/guest/programs/*.[ch]) \
    $(wildcard $(TOP)/tests/guest/programs) \
    $(wildcard $(TOP)/tests/guest/programs32/*.c) \
    $(wildcard $(TOP)/tests/guest/programs32)

UNIT_CHECKS += check-unit-guest
BOOT_CHECKS += check-boot-foundation

.PHONY: guest check-unit-guest check-boot-foundation

## guest: build the test guest (Debian kernel, busybox initramfs, real detectors)
guest: $(GUEST_DIR)/initrd.img $(GUEST_DIR)/vmlinuz

# One run of the script writes both files (a grouped target, make >= 4.3).
$(GUEST_DIR)/initrd.img $(GUEST_DIR)/vmlinuz &: $(GUEST_SOURCES)
	$(TOP)/tests/guest/build-guest.sh $(GUEST_DIR)
	touch $(GUEST_DIR)/initrd.img $(GUEST_DIR)/vmlinuz

check-unit-guest:
	$(PYTHON) -m tests.guest.test_report

check-boot-foundation: guest
	QEMU_BIN=$(QEMU_BIN) GUEST_DIR=$(GUEST_DIR) \
	    $(PYTHON) -m tests.boot.test_foundation
