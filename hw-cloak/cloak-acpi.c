/*
 * qemu-cloak ACPI: the header fields after OEM ID and OEM table ID, which
 * QEMU writes as constants (OEM revision 1, creator "BXPC", revision 1).
 * The OEM IDs themselves are QEMU's x-oem-id/x-oem-table-id properties,
 * which the cloak only gives defaults, so they keep working.
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/cloak/cloak.h"
#include "hw/cloak/cloak-machine.h"

void cloak_acpi_header_ids(uint32_t *oem_rev, const char **creator_id,
                           uint32_t *creator_rev)
{
    CloakMachineState *s = cloak_machine_state();

    if (!s) {
        return;     /* not an x86 machine: keep the caller's values */
    }
    *oem_rev = s->acpi_oem_rev;
    *creator_id = s->acpi_creator_id;
    *creator_rev = s->acpi_creator_rev;
}
