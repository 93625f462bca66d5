/*
 * qemu-cloak machine properties: the settings behind the SMBIOS, ACPI and
 * MAC artifacts that QEMU hard-codes.  Each is a property of the x86
 * machines (so "-machine acpi-waet=off" works and libvirt can pass it);
 * the defaults are QEMU's own values, and the cloak sets a profile's
 * values before -machine options are applied.
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_CLOAK_MACHINE_H
#define HW_CLOAK_MACHINE_H

typedef struct CloakMachineState {
    /* ACPI table headers and FADT */
    uint32_t acpi_oem_rev;
    char *acpi_creator_id;
    uint32_t acpi_creator_rev;
    uint8_t acpi_pm_profile;
    uint16_t acpi_plvl2_lat;
    uint16_t acpi_plvl3_lat;
    bool acpi_waet;
    bool acpi_fw_cfg;
    bool acpi_legacy_devices;

    /* SMBIOS numeric fields QEMU fixes */
    bool smbios_vm;
    uint64_t smbios_bios_characteristics;
    uint8_t smbios_bios_ext1;
    uint8_t smbios_bios_ext2;
    uint8_t smbios_bios_rom_size;
    uint16_t smbios_bios_segment;
    uint8_t smbios_chassis_type;
    uint8_t smbios_cpu_upgrade;
    uint8_t smbios_cpu_voltage;
    uint16_t smbios_cpu_external_clock;
    uint16_t smbios_cpu_characteristics;
    uint32_t smbios_cache_l1;
    uint32_t smbios_cache_l2;
    uint32_t smbios_cache_l3;
    uint8_t smbios_cache_ways[3];   /* L1 (data), L2, L3; 0: 8, 4, 12 */
    uint8_t smbios_mem_type;
    uint16_t smbios_mem_type_detail;
    uint8_t smbios_mem_form_factor;
    uint16_t smbios_mem_width;
    uint16_t smbios_mem_voltage;
    uint8_t smbios_mem_ecc;
    uint8_t smbios_mem_location;

    /* NICs: the OUI that replaces 52:54:00, or NULL */
    char *mac_oui;
} CloakMachineState;

/* Called from x86_machine_class_init() and x86_machine_initfn(). */
void cloak_machine_class_init(ObjectClass *oc, size_t state_offset);
void cloak_machine_state_init(CloakMachineState *s);

/* The current machine's state, or NULL when it is not an x86 machine. */
CloakMachineState *cloak_machine_state(void);

#endif
