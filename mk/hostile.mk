# Hostile input: mutated profiles and rings, special files as paths, reader
# kills and a guest flood, with counts (tests/hostile/test_hostile.py).
#
#   check-boot-hostile     the suite, bounded (HOSTILE_MUTANTS, HOSTILE_SEED)

BOOT_CHECKS += check-boot-hostile

.PHONY: check-boot-hostile

## check-boot-hostile: hostile profiles, rings, files and guests: counted outcomes
check-boot-hostile: guest $(CLOAK_PROFILE_CHECK) $(TOOLS_DIR)/cloak-trace
	QEMU_BIN=$(QEMU_BIN) GUEST_DIR=$(GUEST_DIR) TOOLS_DIR=$(TOOLS_DIR) \
	    CLOAK_PROFILE_CHECK=$(CLOAK_PROFILE_CHECK) \
	    $(PYTHON) -m tests.hostile.test_hostile
