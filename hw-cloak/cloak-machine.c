/*
 * qemu-cloak machine properties (see cloak-machine.h).
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/visitor.h"
#include "qom/object.h"
#include "hw/boards.h"
#include "hw/i386/x86.h"
#include "hw/cloak/cloak-machine.h"

typedef enum {
    PROP_BOOL,
    PROP_U8,
    PROP_U16,
    PROP_U32,
    PROP_U64,
} CloakPropKind;

typedef struct {
    const char *name;
    CloakPropKind kind;
    size_t offset;
    uint64_t stock;         /* QEMU 10.0.2's hard-coded value */
    uint64_t max;
    const char *description;
} CloakMachineProp;

#define F(field) offsetof(CloakMachineState, field)

static const CloakMachineProp cloak_machine_props[] = {
    { "acpi-oem-rev", PROP_U32, F(acpi_oem_rev), 1, UINT32_MAX,
      "OEM Revision of every ACPI table header" },
    { "acpi-creator-rev", PROP_U32, F(acpi_creator_rev), 1, UINT32_MAX,
      "Creator Revision of every ACPI table header" },
    { "acpi-pm-profile", PROP_U8, F(acpi_pm_profile), 0, 8,
      "FADT Preferred_PM_Profile (0 unspecified, 1 desktop, 2 mobile, ...)" },
    { "acpi-plvl2-lat", PROP_U16, F(acpi_plvl2_lat), 0xfff, 0xffff,
      "FADT P_LVL2_LAT in microseconds (above 100: no C2)" },
    { "acpi-plvl3-lat", PROP_U16, F(acpi_plvl3_lat), 0xfff, 0xffff,
      "FADT P_LVL3_LAT in microseconds (above 1000: no C3)" },
    { "acpi-waet", PROP_BOOL, F(acpi_waet), true, 1,
      "Build the WAET table (Windows ACPI Emulated devices Table)" },
    { "acpi-fw-cfg", PROP_BOOL, F(acpi_fw_cfg), true, 1,
      "Describe fw_cfg in the DSDT (device FWCF, _HID QEMU0002)" },
    { "acpi-legacy-devices", PROP_BOOL, F(acpi_legacy_devices), false, 1,
      "Describe the DMA controller, PIT, PIC, FPU and speaker in the DSDT "
      "(PNP0200, PNP0100, PNP0000, PNP0C04, PNP0800)" },
    { "smbios-vm", PROP_BOOL, F(smbios_vm), true, 1,
      "Set the 'virtual machine' bit in SMBIOS type 0" },
    { "smbios-bios-characteristics", PROP_U64,
      F(smbios_bios_characteristics), 0x08, UINT64_MAX,
      "SMBIOS type 0 BIOS Characteristics" },
    { "smbios-bios-characteristics-ext1", PROP_U8, F(smbios_bios_ext1),
      0, 0xff, "SMBIOS type 0 BIOS Characteristics Extension Byte 1" },
    { "smbios-bios-characteristics-ext2", PROP_U8, F(smbios_bios_ext2),
      0x04, 0xff,
      "SMBIOS type 0 Extension Byte 2 without the VM and UEFI bits" },
    { "smbios-bios-rom-size", PROP_U8, F(smbios_bios_rom_size), 0, 0xff,
      "SMBIOS type 0 BIOS ROM Size (64K * (n + 1))" },
    { "smbios-bios-segment", PROP_U16, F(smbios_bios_segment), 0xe800,
      0xffff, "SMBIOS type 0 BIOS Starting Address Segment" },
    { "smbios-chassis-type", PROP_U8, F(smbios_chassis_type), 0x01, 0x7f,
      "SMBIOS type 3 chassis type (1 other, 3 desktop, 10 notebook, ...)" },
    { "smbios-cpu-upgrade", PROP_U8, F(smbios_cpu_upgrade), 0x01, 0xff,
      "SMBIOS type 4 Processor Upgrade" },
    { "smbios-cpu-voltage", PROP_U8, F(smbios_cpu_voltage), 0, 0xff,
      "SMBIOS type 4 Voltage (0x80 | volts * 10)" },
    { "smbios-cpu-external-clock", PROP_U16, F(smbios_cpu_external_clock),
      0, 0xffff, "SMBIOS type 4 External Clock in MHz" },
    { "smbios-cpu-characteristics", PROP_U16,
      F(smbios_cpu_characteristics), 0x02, 0xffff,
      "SMBIOS type 4 Processor Characteristics; 0 derives them from -smp" },
    { "smbios-cache-l1", PROP_U32, F(smbios_cache_l1), 0, 0x7fff,
      "KiB of L1 cache per core in SMBIOS type 7; 0 builds no type 7" },
    { "smbios-cache-l2", PROP_U32, F(smbios_cache_l2), 0, 0x7fff,
      "KiB of L2 cache per core in SMBIOS type 7" },
    { "smbios-cache-l3", PROP_U32, F(smbios_cache_l3), 0, 0x7fff,
      "KiB of L3 cache per core in SMBIOS type 7" },
    { "smbios-cache-l1-ways", PROP_U8, F(smbios_cache_ways[0]), 0, 0xff,
      "ways of the L1 (data) cache in SMBIOS type 7; 0 means 8" },
    { "smbios-cache-l2-ways", PROP_U8, F(smbios_cache_ways[1]), 0, 0xff,
      "ways of the L2 cache in SMBIOS type 7; 0 means 4" },
    { "smbios-cache-l3-ways", PROP_U8, F(smbios_cache_ways[2]), 0, 0xff,
      "ways of the L3 cache in SMBIOS type 7; 0 means 12" },
    { "smbios-memory-type", PROP_U8, F(smbios_mem_type), 0x07, 0xff,
      "SMBIOS type 17 Memory Type (0x07 RAM, 0x1a DDR4, ...)" },
    { "smbios-memory-type-detail", PROP_U16, F(smbios_mem_type_detail),
      0x02, 0xffff, "SMBIOS type 17 Type Detail" },
    { "smbios-memory-form-factor", PROP_U8, F(smbios_mem_form_factor),
      0x09, 0xff, "SMBIOS type 17 Form Factor (0x09 DIMM, 0x0d SODIMM)" },
    { "smbios-memory-width", PROP_U16, F(smbios_mem_width), 0xffff, 0xffff,
      "SMBIOS type 17 total and data width in bits" },
    { "smbios-memory-voltage", PROP_U16, F(smbios_mem_voltage), 0, 0xffff,
      "SMBIOS type 17 voltages in millivolts" },
    { "smbios-memory-ecc", PROP_U8, F(smbios_mem_ecc), 0x06, 0xff,
      "SMBIOS type 16 Memory Error Correction (3 none, 6 multi-bit)" },
    { "smbios-memory-location", PROP_U8, F(smbios_mem_location), 0x01, 0xff,
      "SMBIOS type 16 Location (1 other, 3 system board)" },
};

static size_t cloak_state_offset;

static CloakMachineState *state_of(Object *obj)
{
    return (CloakMachineState *)((char *)obj + cloak_state_offset);
}

/* Stores @value in @field, which has the width of @p's kind. */
static void store_value(const CloakMachineProp *p, void *field,
                        uint64_t value)
{
    switch (p->kind) {
    case PROP_BOOL:
        *(bool *)field = value;
        break;
    case PROP_U8:
        *(uint8_t *)field = value;
        break;
    case PROP_U16:
        *(uint16_t *)field = value;
        break;
    case PROP_U32:
        *(uint32_t *)field = value;
        break;
    case PROP_U64:
        *(uint64_t *)field = value;
        break;
    }
}

static void get_prop(Object *obj, Visitor *v, const char *name,
                     void *opaque, Error **errp)
{
    const CloakMachineProp *p = opaque;
    void *field = (char *)state_of(obj) + p->offset;

    switch (p->kind) {
    case PROP_BOOL:
        visit_type_bool(v, name, field, errp);
        break;
    case PROP_U8:
        visit_type_uint8(v, name, field, errp);
        break;
    case PROP_U16:
        visit_type_uint16(v, name, field, errp);
        break;
    case PROP_U32:
        visit_type_uint32(v, name, field, errp);
        break;
    case PROP_U64:
        visit_type_uint64(v, name, field, errp);
        break;
    }
}

static void set_prop(Object *obj, Visitor *v, const char *name,
                     void *opaque, Error **errp)
{
    const CloakMachineProp *p = opaque;
    void *field = (char *)state_of(obj) + p->offset;
    uint64_t value;
    bool b;

    if (p->kind == PROP_BOOL) {
        if (visit_type_bool(v, name, &b, errp)) {
            *(bool *)field = b;
        }
        return;
    }
    if (!visit_type_uint64(v, name, &value, errp)) {
        return;
    }
    if (value > p->max) {
        error_setg(errp, "machine property %s=%" PRIu64 " is out of range "
                   "(0..%" PRIu64 ")", name, value, p->max);
        return;
    }
    store_value(p, field, value);
}

static char *get_creator_id(Object *obj, Error **errp)
{
    return g_strdup(state_of(obj)->acpi_creator_id);
}

static void set_creator_id(Object *obj, const char *value, Error **errp)
{
    CloakMachineState *s = state_of(obj);

    if (strlen(value) != 4) {
        error_setg(errp, "acpi-creator-id must be exactly 4 characters, "
                   "got '%s'", value);
        return;
    }
    g_free(s->acpi_creator_id);
    s->acpi_creator_id = g_strdup(value);
}

static char *get_mac_oui(Object *obj, Error **errp)
{
    return g_strdup(state_of(obj)->mac_oui ? state_of(obj)->mac_oui : "");
}

static void set_mac_oui(Object *obj, const char *value, Error **errp)
{
    CloakMachineState *s = state_of(obj);
    unsigned a, b, c;
    int end = 0;

    if (*value &&
        (strlen(value) != 8 ||
         sscanf(value, "%2x:%2x:%2x%n", &a, &b, &c, &end) != 3 ||
         value[end] || (a & 1))) {
        error_setg(errp, "mac-oui must be a unicast prefix XX:XX:XX, got "
                   "'%s'", value);
        return;
    }
    g_free(s->mac_oui);
    s->mac_oui = *value ? g_ascii_strdown(value, -1) : NULL;
}

void cloak_machine_class_init(ObjectClass *oc, size_t state_offset)
{
    static const char *const type_names[] = {
        [PROP_BOOL] = "bool", [PROP_U8] = "uint8", [PROP_U16] = "uint16",
        [PROP_U32] = "uint32", [PROP_U64] = "uint64",
    };

    cloak_state_offset = state_offset;
    for (size_t i = 0; i < G_N_ELEMENTS(cloak_machine_props); i++) {
        const CloakMachineProp *p = &cloak_machine_props[i];

        object_class_property_add(oc, p->name, type_names[p->kind],
                                  get_prop, set_prop, NULL, (void *)p);
        object_class_property_set_description(oc, p->name, p->description);
    }
    object_class_property_add_str(oc, "acpi-creator-id", get_creator_id,
                                  set_creator_id);
    object_class_property_set_description(oc, "acpi-creator-id",
        "Creator ID of every ACPI table header (4 characters)");
    object_class_property_add_str(oc, "mac-oui", get_mac_oui, set_mac_oui);
    object_class_property_set_description(oc, "mac-oui",
        "OUI given to NICs without mac= and in place of 52:54:00 "
        "(empty: QEMU's 52:54:00)");
}

void cloak_machine_state_init(CloakMachineState *s)
{
    for (size_t i = 0; i < G_N_ELEMENTS(cloak_machine_props); i++) {
        const CloakMachineProp *p = &cloak_machine_props[i];
        void *field = (char *)s + p->offset;

        store_value(p, field, p->stock);
    }
    s->acpi_creator_id = g_strdup("BXPC");
    s->mac_oui = NULL;
}

CloakMachineState *cloak_machine_state(void)
{
    Object *m = OBJECT(current_machine);

    if (!m || !object_dynamic_cast(m, TYPE_X86_MACHINE)) {
        return NULL;
    }
    return state_of(m);
}
