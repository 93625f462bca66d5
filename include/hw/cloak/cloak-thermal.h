/*
 * qemu-cloak: the thermal sensor behind the profile's ACPI thermal zone
 *
 * Real desktop firmware reads its zone temperature from the Super I/O
 * hardware monitor through an index/data port pair (ITE and Nuvoton put
 * it at 0x295/0x296), and the DSDT reserves that range.  The cloak puts a
 * sensor there whose temperature follows the guest's CPU load, and the
 * zone's _TMP reads it.  One place for the ports and registers, which
 * cloak-thermal.c serves and cloak-acpi.c's AML reads.
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_CLOAK_CLOAK_THERMAL_H
#define HW_CLOAK_CLOAK_THERMAL_H

#define CLOAK_HWM_RANGE_BASE     0x290  /* reserved as motherboard resources */
#define CLOAK_HWM_RANGE_LEN      0x10
#define CLOAK_HWM_INDEX_PORT     0x295
#define CLOAK_HWM_DATA_PORT      0x296
#define CLOAK_HWM_REG_TEMP1      0x29   /* whole degrees C, as ITE's TEMP1 */
#define CLOAK_HWM_REG_DK_LOW     0x70   /* tenths of a kelvin, low byte */
#define CLOAK_HWM_REG_DK_HIGH    0x71   /* ... high byte; read first */

/* From cloak_machine_created: the sensor, when the profile has a zone. */
void cloak_thermal_init(void);

#endif
