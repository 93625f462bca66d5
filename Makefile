# qemu-cloak front door.  `make run` boots the bundled guest and prints what
# each detector saw; `make check` is the test suite; see README.md.

TOP := $(CURDIR)
-include config.mk

# QEMU is configured for CONFIG_PREFIX; PREFIX is only where `make install`
# puts the relocatable tree, so `make install PREFIX=DIR` rebuilds nothing.
CONFIG_PREFIX ?= /usr/local
PREFIX ?= $(CONFIG_PREFIX)
BUILD_DIR ?= $(TOP)/build
CCACHE ?= auto
DESTDIR ?=
export CONFIG_PREFIX PREFIX DESTDIR BUILD_DIR CCACHE QEMU_SOURCE QEMU_CLOAK_CACHE JOBS

# Debian's interpreter: the one first on PATH may be another build.
PYTHON := /usr/bin/python3
QEMU_BIN := $(BUILD_DIR)/qemu-build/qemu-system-x86_64
QEMU_IMG := $(BUILD_DIR)/qemu-build/qemu-img
TOOLS_DIR := $(BUILD_DIR)/tools
GUEST_DIR := $(BUILD_DIR)/guest
export QEMU_BIN QEMU_IMG TOOLS_DIR GUEST_DIR PYTHON

CC ?= cc
GLIB_CFLAGS = $(shell pkg-config --cflags glib-2.0)
GLIB_LIBS = $(shell pkg-config --libs glib-2.0)
# Debian's hardening defaults (dpkg-buildflags), also for tools we ship.
TOOL_HARDENING = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -Wl,-z,relro -Wl,-z,now
TOOL_CFLAGS = -O2 -g -Wall -Wextra -Werror=implicit-function-declaration -std=gnu11 \
	$(TOOL_HARDENING)

# Each area adds its own targets in mk/<area>.mk:
#   TOOLS           host programs built into $(TOOLS_DIR)
#   INSTALL_TOOLS   install-* targets run by `make install`
#   UNIT_CHECKS     run by `make check-unit`: need no QEMU build
#   BOOT_CHECKS     run by `make check-boot`: need QEMU (and mostly the guest)
#   BENCH_TARGETS   run by `make bench`
#   FUZZ_TARGETS    run by `make fuzz`
TOOLS :=
INSTALL_TOOLS :=
UNIT_CHECKS :=
BOOT_CHECKS :=
BENCH_TARGETS :=
FUZZ_TARGETS :=

include $(sort $(wildcard mk/*.mk))

.PHONY: all deps setup-deps qemu build tools install install-tools run check check-series \
        check-unit check-boot bench fuzz clean distclean help

all: build

## help: list these targets
help:
	@echo "make targets (README.md explains the two that matter: run and check):"
	@sed -n 's/^## \([a-z0-9-]*\): /\1\t/p' $(TOP)/Makefile \
		$(sort $(wildcard $(TOP)/mk/*.mk)) | expand -t 20 | sed 's/^/  /'

config.mk:
	./configure

## deps: install the Debian build, runtime and test dependencies (as root)
deps:
	./build.sh deps

# What make run and make check do first on a fresh machine: as root,
# install what is missing; as another user, stop in seconds naming make deps.
setup-deps:
	@if [ "$$(id -u)" = 0 ]; then ./build.sh deps; else ./build.sh deps-check; fi

qemu: config.mk
	./build.sh all

## build: build QEMU with the series, the cleaned firmware and the tools
build: qemu tools

tools: $(TOOLS)

## install: install into $(DESTDIR)$(PREFIX) (relocatable: PREFIX=DIR rebuilds nothing)
install: build
	./build.sh install

install-tools: $(INSTALL_TOOLS)

## check-series: check that the series applies to the pristine base with no fuzz
check-series: config.mk
	./build.sh check-series

## check-unit: unit tests and fuzz smoke runs (no QEMU build needed)
check-unit: $(UNIT_CHECKS)

## check-boot: what needs QEMU built: options, devices, guest boots, libvirt, package
check-boot: build $(BOOT_CHECKS)

# Order matters: dependencies first (a fresh machine has none), then cheap
# checks, so a broken series fails in seconds.
## check: everything CI runs: setup-deps, check-series, check-unit, check-boot
check: setup-deps check-series check-unit check-boot
	@echo
	@echo "make check: all checks passed"

## bench: every benchmark (ratios against stock QEMU or the feature off)
bench: build $(BENCH_TARGETS)

## fuzz: the fuzz targets for longer runs
fuzz: $(FUZZ_TARGETS)

## clean: remove QEMU's objects, the tools and the guest
clean:
	rm -rf $(BUILD_DIR)/qemu-build $(TOOLS_DIR) $(GUEST_DIR)

## distclean: remove the whole build directory and config.mk
distclean:
	rm -rf $(BUILD_DIR) config.mk

## run: set up what is missing, boot the bundled guest, print each detector's report
run: config.mk setup-deps
	$(MAKE) --no-print-directory build guest
	$(PYTHON) -m tests.guest.run_guest --qemu $(QEMU_BIN) --guest-dir $(GUEST_DIR) --machine q35 --show-report
