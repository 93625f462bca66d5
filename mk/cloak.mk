# Cloak area: identity profiles, the -cloak option and its tests.
#
#   check-unit-cloak   profile parser: every shipped profile, bad input,
#                      per-VM derivation (no QEMU needed)
#   check-cloak-cli    QEMU's -cloak option: errors, -cloak off, strict
#                      mode, libvirt's probe (no guest boot)
#   check-boot-cloak   the detector battery: every profile on q35 and pc,
#                      and stock QEMU (-cloak off), under TCG
#   fuzz-cloak-profile libFuzzer on the profile parser, CLOAK_FUZZ_SECONDS
#   bench-cloak        boot-to-power-off time, cloaked / stock
#   bench-cloak-cpu    guest getpid, open+close and page-fault cost,
#                      cloaked / stock, for every profile

CLOAK_PROFILE_CHECK := $(TOOLS_DIR)/cloak-profile-check
CLOAK_FUZZER := $(TOOLS_DIR)/cloak-profile-fuzzer
CLOAK_PARSER_SRC := $(TOP)/hw-cloak/cloak-profile.c $(TOP)/include/hw/cloak/cloak-profile.h \
	$(TOP)/include/hw/cloak/cloak-keys.h
CLOAK_SHIM := -I$(TOP)/tests/cloak/shim -I$(TOP)/include
CLOAK_FUZZ_SECONDS ?= 60

TOOLS += $(CLOAK_PROFILE_CHECK)
UNIT_CHECKS += check-unit-cloak
BOOT_CHECKS += check-cloak-cli check-boot-cloak
FUZZ_TARGETS += fuzz-cloak-profile
BENCH_TARGETS += bench-cloak bench-cloak-cpu

.PHONY: check-unit-cloak check-cloak-cli check-boot-cloak fuzz-cloak-profile \
        bench-cloak bench-cloak-cpu

$(CLOAK_PROFILE_CHECK): $(TOP)/tests/cloak/profile-check.c $(CLOAK_PARSER_SRC)
	@mkdir -p $(dir $@)
	$(CC) $(TOOL_CFLAGS) $(CLOAK_SHIM) $(GLIB_CFLAGS) -o $@ \
	    $(TOP)/tests/cloak/profile-check.c $(TOP)/hw-cloak/cloak-profile.c $(GLIB_LIBS)

# libFuzzer needs clang; ASan and UBSan turn memory errors into failures.
$(CLOAK_FUZZER): $(TOP)/tests/cloak/fuzz-profile.c $(CLOAK_PARSER_SRC)
	@mkdir -p $(dir $@)
	clang -g -O1 -fsanitize=fuzzer,address,undefined \
	    -fno-sanitize-recover=undefined $(CLOAK_SHIM) $(GLIB_CFLAGS) -o $@ \
	    $(TOP)/tests/cloak/fuzz-profile.c $(TOP)/hw-cloak/cloak-profile.c $(GLIB_LIBS)

check-unit-cloak: $(CLOAK_PROFILE_CHECK) $(CLOAK_FUZZER)
	CLOAK_PROFILE_CHECK=$(CLOAK_PROFILE_CHECK) CLOAK_FUZZER=$(CLOAK_FUZZER) \
	    $(PYTHON) -m unittest -v tests.cloak.test_profiles

check-cloak-cli: $(CLOAK_PROFILE_CHECK)
	QEMU_BIN=$(QEMU_BIN) CLOAK_PROFILE_CHECK=$(CLOAK_PROFILE_CHECK) \
	    $(PYTHON) -m unittest -v tests.cloak.test_cli

# "guest" (mk/guest.mk) builds $(GUEST_DIR); tests/lib/cloakguest.py boots it.
CLOAK_GUEST_DEP := $(if $(wildcard $(TOP)/mk/guest.mk),guest)

check-boot-cloak: $(CLOAK_GUEST_DEP)
	QEMU_BIN=$(QEMU_BIN) GUEST_DIR=$(GUEST_DIR) \
	    $(PYTHON) -m unittest -v tests.cloak.test_cloak

# A bounded run from a seed corpus (the shipped profiles and the bad ones
# the unit tests use); new crashes land in $(BUILD_DIR)/fuzz-cloak.
fuzz-cloak-profile: $(CLOAK_FUZZER)
	@mkdir -p $(BUILD_DIR)/fuzz-cloak/corpus
	cp $(TOP)/hw-cloak/profiles/*.conf $(TOP)/tests/cloak/corpus/* \
	    $(BUILD_DIR)/fuzz-cloak/corpus/
	cd $(BUILD_DIR)/fuzz-cloak && $(CLOAK_FUZZER) -max_total_time=$(CLOAK_FUZZ_SECONDS) \
	    -max_len=8192 -timeout=10 -rss_limit_mb=1024 \
	    -dict=$(TOP)/tests/cloak/profile.dict corpus

## bench-cloak: boot time, cloaked / -cloak off, per profile
bench-cloak: $(CLOAK_GUEST_DEP)
	QEMU_BIN=$(QEMU_BIN) GUEST_DIR=$(GUEST_DIR) $(PYTHON) -m tests.cloak.bench_boot

## bench-cloak-cpu: guest getpid, open+close, page fault: cloaked / stock, per profile
bench-cloak-cpu: $(CLOAK_GUEST_DEP)
	QEMU_BIN=$(QEMU_BIN) GUEST_DIR=$(GUEST_DIR) $(PYTHON) -m tests.cloak.bench_cpu
