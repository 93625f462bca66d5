# Trace area: the host reader cloak-trace, ring unit tests, fuzz target,
# end-to-end boot tests and benchmarks.  See docs/trace.md.

TRACE_SRC := $(TOP)/trace-plugins
TRACE_TESTS := $(TOP)/tests/trace
TRACE_GEN := $(BUILD_DIR)/trace-gen
TRACE_TABLE := $(TRACE_GEN)/cloak-syscall-table.h
TRACE_OUT := $(BUILD_DIR)/trace-tests

JSON_GLIB_CFLAGS = $(shell pkg-config --cflags json-glib-1.0)
JSON_GLIB_LIBS = $(shell pkg-config --libs json-glib-1.0)
# format.c disassembles the faulting instruction of page faults.
CAPSTONE_CFLAGS = $(shell pkg-config --cflags capstone)
CAPSTONE_LIBS = $(shell pkg-config --libs capstone)
TRACE_CFLAGS = $(TOOL_CFLAGS) -I$(TRACE_SRC) -I$(TRACE_SRC)/reader \
	-I$(TRACE_GEN) $(GLIB_CFLAGS)
TRACE_HEADERS := $(TRACE_SRC)/cloak-trace-abi.h $(TRACE_SRC)/ring.h \
	$(TRACE_SRC)/ring-file.h $(TRACE_SRC)/reader/ring-reader.h \
	$(TRACE_SRC)/reader/format.h $(TRACE_TABLE)
TRACE_READER_CORE := $(TRACE_SRC)/reader/ring-reader.c
TRACE_READER_SRCS := $(TRACE_SRC)/reader/cloak-trace.c \
	$(TRACE_SRC)/reader/format.c $(TRACE_READER_CORE) \
	$(TRACE_SRC)/reader/profile-gen.c $(TRACE_SRC)/os-profile.c
TRACE_PROFILE_HEADERS := $(TRACE_SRC)/os-profile.h \
	$(TRACE_SRC)/reader/profile-gen.h
# os-profile.c is QEMU code ("qemu/osdep.h"): the shim stands in for
# osdep.h, and $(TOP) resolves "trace-plugins/os-profile.h".  Both go last
# so that nothing under $(TOP) shadows a reader header.
TRACE_OSDEP_SHIM := -I$(TOP)/tests/cloak/shim -I$(TOP)
# cloak-trace profile: BTF through libbpf; bzImage payloads through libarchive.
TRACE_PROFILE_PKGS := libbpf libarchive
TRACE_PROFILE_CFLAGS = $(shell pkg-config --cflags $(TRACE_PROFILE_PKGS))
TRACE_PROFILE_LIBS = $(shell pkg-config --libs $(TRACE_PROFILE_PKGS))
TRACE_CLANG ?= clang
TRACE_FUZZ_SECONDS ?= 20
TRACE_PROFILE_FUZZ_SECONDS ?= 5

$(TRACE_TABLE): $(TRACE_SRC)/gen-syscall-table.py
	@mkdir -p $(@D)
	$(PYTHON) $< -o $@

$(TOOLS_DIR)/cloak-trace: $(TRACE_READER_SRCS) $(TRACE_HEADERS) \
		$(TRACE_PROFILE_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(TRACE_CFLAGS) $(JSON_GLIB_CFLAGS) $(CAPSTONE_CFLAGS) \
		$(TRACE_PROFILE_CFLAGS) $(TRACE_OSDEP_SHIM) -o $@ \
		$(TRACE_READER_SRCS) $(JSON_GLIB_LIBS) $(CAPSTONE_LIBS) \
		$(TRACE_PROFILE_LIBS) $(GLIB_LIBS)

$(TRACE_OUT)/test-ring: $(TRACE_TESTS)/test-ring.c $(TRACE_READER_CORE) $(TRACE_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(TRACE_CFLAGS) -fsanitize=address,undefined -o $@ \
		$(TRACE_TESTS)/test-ring.c $(TRACE_READER_CORE) $(GLIB_LIBS) -lpthread

$(TRACE_OUT)/bench-ring: $(TRACE_TESTS)/bench-ring.c $(TRACE_READER_CORE) $(TRACE_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(TRACE_CFLAGS) -O3 -o $@ $(TRACE_TESTS)/bench-ring.c \
		$(TRACE_READER_CORE) $(GLIB_LIBS) -lpthread

# libFuzzer target for the reader's validation of untrusted ring files.
$(TRACE_OUT)/fuzz-reader: $(TRACE_TESTS)/fuzz-reader.c $(TRACE_READER_CORE) \
		$(TRACE_SRC)/reader/format.c $(TRACE_HEADERS)
	@mkdir -p $(@D)
	$(TRACE_CLANG) -g -O1 -fsanitize=fuzzer,address,undefined \
		-I$(TRACE_SRC) -I$(TRACE_SRC)/reader -I$(TRACE_GEN) \
		$(GLIB_CFLAGS) $(JSON_GLIB_CFLAGS) $(CAPSTONE_CFLAGS) -o $@ \
		$(TRACE_TESTS)/fuzz-reader.c $(TRACE_READER_CORE) \
		$(TRACE_SRC)/reader/format.c $(JSON_GLIB_LIBS) $(CAPSTONE_LIBS) \
		$(GLIB_LIBS)

# libFuzzer target for the OS profile parser (os-profile.c), which QEMU
# runs on a file named by its user.
$(TRACE_OUT)/fuzz-os-profile: $(TRACE_TESTS)/fuzz-os-profile.c \
		$(TRACE_SRC)/os-profile.c $(TRACE_SRC)/os-profile.h
	@mkdir -p $(@D)
	$(TRACE_CLANG) -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined $(TRACE_OSDEP_SHIM) \
		$(GLIB_CFLAGS) -o $@ $(TRACE_TESTS)/fuzz-os-profile.c \
		$(TRACE_SRC)/os-profile.c $(GLIB_LIBS)

$(TRACE_OUT)/make-fuzz-seeds: $(TRACE_TESTS)/make-fuzz-seeds.c $(TRACE_HEADERS)
	@mkdir -p $(@D)
	$(CC) $(TRACE_CFLAGS) -o $@ $<

$(TRACE_OUT)/test-kvm-targets: $(TRACE_TESTS)/test-kvm-targets.c \
		$(TRACE_SRC)/kvm-debug-targets.h
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) -I$(TRACE_SRC) -fsanitize=address,undefined -o $@ $<

$(TRACE_OUT)/test-syscall-pending: $(TRACE_TESTS)/test-syscall-pending.c \
		$(TRACE_SRC)/syscall-pending.h
	@mkdir -p $(@D)
	$(CC) $(TOOL_CFLAGS) -I$(TRACE_SRC) $(GLIB_CFLAGS) \
		-fsanitize=address,undefined -o $@ $< $(GLIB_LIBS)

# The boot tests need the guest image with tests/guest/programs/ in it.
TRACE_GUEST_DEP := $(if $(wildcard $(TOP)/mk/guest.mk),guest)
TRACE_PYTEST = BUILD_DIR=$(BUILD_DIR) $(PYTHON) -m unittest

TOOLS += $(TOOLS_DIR)/cloak-trace
INSTALL_TOOLS += install-cloak-trace
UNIT_CHECKS += check-trace-unit
BOOT_CHECKS += check-trace-boot
BENCH_TARGETS += bench-trace bench-trace-storm
FUZZ_TARGETS += fuzz-trace

.PHONY: install-cloak-trace check-trace-unit check-trace-boot bench-trace \
        bench-trace-storm \
	fuzz-trace trace-fuzz-run trace-fuzz-os-profile-run

install-cloak-trace: $(TOOLS_DIR)/cloak-trace
	install -D -m 0755 $< $(DESTDIR)$(PREFIX)/bin/cloak-trace
	install -D -m 0644 $(TRACE_SRC)/cloak-trace-abi.h \
		$(DESTDIR)$(PREFIX)/include/cloak-trace-abi.h

# Bounded fuzz run: the seeds (valid rings of every record type) and
# TRACE_FUZZ_SECONDS of mutation.
trace-fuzz-run: $(TRACE_OUT)/fuzz-reader $(TRACE_OUT)/make-fuzz-seeds \
		$(TRACE_OUT)/fuzz-os-profile
	rm -rf $(TRACE_OUT)/fuzz-corpus && mkdir -p $(TRACE_OUT)/fuzz-corpus
	$(TRACE_OUT)/make-fuzz-seeds $(TRACE_OUT)/fuzz-corpus
	$(TRACE_OUT)/fuzz-reader -max_total_time=$(TRACE_FUZZ_SECONDS) \
		-max_len=65536 -print_final_stats=1 $(TRACE_OUT)/fuzz-corpus \
		2> $(TRACE_OUT)/fuzz.log || { tail -n 40 $(TRACE_OUT)/fuzz.log; exit 1; }
	@grep -E '^stat::number_of_executed_units' $(TRACE_OUT)/fuzz.log
	@echo "fuzz-reader: no crash in $(TRACE_FUZZ_SECONDS) s"
	$(MAKE) --no-print-directory trace-fuzz-os-profile-run

# The profile parser from the checked-in seeds (a valid profile and broken
# ones); new inputs go to a scratch corpus, never into the tree.
trace-fuzz-os-profile-run: $(TRACE_OUT)/fuzz-os-profile
	rm -rf $(TRACE_OUT)/fuzz-os-profile-corpus
	mkdir -p $(TRACE_OUT)/fuzz-os-profile-corpus
	cp $(TRACE_TESTS)/os-profile-corpus/* $(TRACE_OUT)/fuzz-os-profile-corpus/
	$(TRACE_OUT)/fuzz-os-profile -max_total_time=$(TRACE_PROFILE_FUZZ_SECONDS) \
		-max_len=4096 -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		$(TRACE_OUT)/fuzz-os-profile-corpus \
		2> $(TRACE_OUT)/fuzz-os-profile.log || \
		{ tail -n 40 $(TRACE_OUT)/fuzz-os-profile.log; exit 1; }
	@grep -E '^stat::number_of_executed_units' $(TRACE_OUT)/fuzz-os-profile.log
	@echo "fuzz-os-profile: no crash in $(TRACE_PROFILE_FUZZ_SECONDS) s"

check-trace-unit: $(TRACE_OUT)/test-ring $(TRACE_OUT)/test-kvm-targets \
		$(TRACE_OUT)/test-syscall-pending $(TOOLS_DIR)/cloak-trace
	$(TRACE_OUT)/test-ring
	$(TRACE_OUT)/test-kvm-targets
	$(TRACE_OUT)/test-syscall-pending
	$(TRACE_PYTEST) -v tests.trace.test_reader_cli tests.trace.test_os_profile
	$(MAKE) --no-print-directory trace-fuzz-run TRACE_FUZZ_SECONDS=10

fuzz-trace:
	$(MAKE) --no-print-directory trace-fuzz-run TRACE_FUZZ_SECONDS=$(TRACE_FUZZ_SECONDS)

check-trace-boot: $(TOOLS_DIR)/cloak-trace $(TRACE_GUEST_DEP)
	$(TRACE_PYTEST) -v tests.trace.test_qemu_object tests.trace.test_trace_guest \
		tests.trace.test_trace_tasks

## bench-trace: guest syscalls and faults traced / untraced, and the ring alone
bench-trace: $(TRACE_OUT)/bench-ring $(TOOLS_DIR)/cloak-trace $(TRACE_GUEST_DEP)
	$(TRACE_OUT)/bench-ring
	BUILD_DIR=$(BUILD_DIR) $(PYTHON) -m tests.trace.bench_guest

# The MTTCG soak: STORM_RUNS traced -smp 4 storms (docs/trace.md).
## bench-trace-storm: STORM_RUNS traced -smp 4 storms, drop and block mode
bench-trace-storm: $(TOOLS_DIR)/cloak-trace $(TRACE_GUEST_DEP)
	BUILD_DIR=$(BUILD_DIR) $(PYTHON) -m tests.trace.bench_storm
