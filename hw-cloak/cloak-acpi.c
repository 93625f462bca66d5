/*
 * qemu-cloak ACPI: the header fields after OEM ID and OEM table ID, which
 * QEMU writes as constants (OEM revision 1, creator "BXPC", revision 1).
 * The OEM IDs themselves are QEMU's x-oem-id/x-oem-table-id properties,
 * which the cloak only gives defaults, so they keep working.  Also the
 * legacy devices QEMU emulates but leaves out of the DSDT.
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/acpi/aml-build.h"
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

/* Device @name with EISA ID @hid and the resources @crs, into @scope. */
static void add_legacy_device(Aml *scope, const char *name, const char *hid,
                              Aml *crs)
{
    Aml *dev = aml_device("%s", name);

    aml_append(dev, aml_name_decl("_HID", aml_eisaid(hid)));
    aml_append(dev, aml_name_decl("_CRS", crs));
    aml_append(scope, dev);
}

/*
 * The legacy devices every PC chipset has and QEMU emulates (i8257 DMA,
 * i8254 PIT, i8259 PIC, the FPU error port, the PC speaker), described
 * the way PC firmware describes them.  QEMU's DSDT leaves them out, and
 * their absence is a VM tell (VMAware CLOCK looks for ACPI\PNP0100).
 */
void cloak_acpi_build_legacy_devices(Aml *scope)
{
    Aml *crs;

    crs = aml_resource_template();
    aml_append(crs, aml_io(AML_DECODE16, 0x0000, 0x0000, 0x01, 0x10));
    aml_append(crs, aml_io(AML_DECODE16, 0x0081, 0x0081, 0x01, 0x0f));
    aml_append(crs, aml_io(AML_DECODE16, 0x00c0, 0x00c0, 0x01, 0x20));
    aml_append(crs, aml_dma(AML_COMPATIBILITY, AML_NOTBUSMASTER,
                            AML_TRANSFER8_16, 4));
    add_legacy_device(scope, "DMAC", "PNP0200", crs);

    crs = aml_resource_template();
    aml_append(crs, aml_io(AML_DECODE16, 0x0040, 0x0040, 0x01, 0x04));
    aml_append(crs, aml_irq_no_flags(0));
    add_legacy_device(scope, "TIMR", "PNP0100", crs);

    crs = aml_resource_template();
    aml_append(crs, aml_io(AML_DECODE16, 0x0020, 0x0020, 0x01, 0x02));
    aml_append(crs, aml_io(AML_DECODE16, 0x00a0, 0x00a0, 0x01, 0x02));
    aml_append(crs, aml_irq_no_flags(2));
    add_legacy_device(scope, "PIC", "PNP0000", crs);

    crs = aml_resource_template();
    aml_append(crs, aml_io(AML_DECODE16, 0x00f0, 0x00f0, 0x01, 0x01));
    aml_append(crs, aml_irq_no_flags(13));
    add_legacy_device(scope, "MATH", "PNP0C04", crs);

    crs = aml_resource_template();
    aml_append(crs, aml_io(AML_DECODE16, 0x0061, 0x0061, 0x01, 0x01));
    add_legacy_device(scope, "SPKR", "PNP0800", crs);
}
