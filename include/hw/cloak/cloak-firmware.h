/*
 * qemu-cloak: cleaned firmware in place of QEMU's stock firmware files.
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_CLOAK_FIRMWARE_H
#define HW_CLOAK_FIRMWARE_H

/* The prefix of the cleaned builds' file names: cloak-bios-256k.bin, ... */
#define CLOAK_FIRMWARE_PREFIX "cloak-"

/*
 * system/vl.c, right before the board is built.  While the cloak is on:
 * stock firmware names resolve to the cleaned builds from then on, NICs
 * load no option ROM (iPXE) and the APIC loads no kvmvapic ROM unless the
 * user sets romfile= / vapic= explicitly.  Warns when the cleaned BIOS is
 * not installed; the guest then sees the stock SeaBIOS (and strict mode's
 * firmware check refuses to start).
 */
void cloak_firmware_machine_init(MachineState *ms);

/*
 * system/datadir.c, qemu_find_file(): for a bare firmware file name, the
 * name of its cleaned build (CLOAK_FIRMWARE_PREFIX + name) while the
 * cloak's firmware is in use, else NULL.  The caller frees the result.
 */
char *cloak_firmware_alias(const char *name);

#endif
