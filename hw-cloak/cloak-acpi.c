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
#include "qemu/cutils.h"
#include "hw/acpi/aml-build.h"
#include "hw/acpi/bios-linker-loader.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_bus.h"
#include "hw/pci/pci_device.h"
#include "hw/cloak/cloak.h"
#include "hw/cloak/cloak-machine.h"
#include "hw/cloak/cloak-profile.h"
#include "hw/cloak/cloak-thermal.h"

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

/* ------------------------------------------------------------------ */
/* PCI device names                                                   */

/*
 * How PC firmware names the PCI functions in its DSDT, by class code:
 * the first function of a class takes @first (or @format with @base),
 * the next ones @format with base + 1, ...  QEMU names every function
 * S<devfn>, and Windows shows that name in each device's location path
 * ("#ACPI(S10_)"), which VMAware's ACPI_SIGNATURE check looks for.
 * Names from Intel client DSDTs (MCHC, GFX0, HDEF, SAT0, LPCB, SBUS,
 * XHC, EHC1, RP01, GLAN) and their usual siblings.
 */
typedef struct {
    uint32_t mask;          /* of the 24-bit class code */
    uint32_t class_code;
    const char *first;      /* NULL: @format with @base */
    const char *format;     /* the others, numbered from @base (+ 1) */
    unsigned base;
} PciNameRule;

static const PciNameRule pci_name_rules[] = {
    { 0xffff00, 0x060000, "MCHC", "HBR%u", 0 },
    { 0xffff00, 0x060100, "LPCB", "LPC%u", 0 },
    { 0xffff00, 0x060400, NULL, "RP%02u", 1 },
    { 0xff0000, 0x030000, NULL, "GFX%u", 0 },
    { 0xffff00, 0x040300, "HDEF", "HDA%u", 0 },
    { 0xff0000, 0x040000, NULL, "AUD%u", 0 },
    { 0xffff00, 0x010600, NULL, "SAT%u", 0 },
    { 0xffff00, 0x010100, NULL, "IDE%u", 0 },
    { 0xffff00, 0x010800, NULL, "NVM%u", 0 },
    { 0xff0000, 0x010000, NULL, "STO%u", 0 },
    { 0xffff00, 0x0c0500, "SBUS", "SMB%u", 0 },
    { 0xffffff, 0x0c0300, NULL, "UHC%u", 1 },
    { 0xffffff, 0x0c0310, NULL, "OHC%u", 1 },
    { 0xffffff, 0x0c0320, NULL, "EHC%u", 1 },
    { 0xffffff, 0x0c0330, "XHC", "XHC%u", 1 },
    { 0xffff00, 0x020000, "GLAN", "LAN%u", 0 },
    { 0xff0000, 0x020000, NULL, "NET%u", 0 },
    { 0xff0000, 0x060000, NULL, "BRG%u", 0 },
    { 0xff0000, 0x070000, NULL, "UAR%u", 0 },
    { 0xff0000, 0x0c0000, NULL, "SER%u", 0 },
    { 0x000000, 0x000000, NULL, "DEV%u", 0 },
};

static const PciNameRule *pci_name_rule(PCIDevice *pdev)
{
    uint32_t class_code = pci_get_word(pdev->config + PCI_CLASS_DEVICE) << 8 |
                          pdev->config[PCI_CLASS_PROG];

    for (size_t i = 0; i < ARRAY_SIZE(pci_name_rules); i++) {
        if ((class_code & pci_name_rules[i].mask) ==
            pci_name_rules[i].class_code) {
            return &pci_name_rules[i];
        }
    }
    return NULL;
}

const char *cloak_acpi_pci_name(const PCIBus *bus, int devfn)
{
    PCIDevice *pdev = bus->devices[devfn];
    const PciNameRule *rule = pdev && cloak_is_enabled() ?
                              pci_name_rule(pdev) : NULL;
    g_autofree char *name = NULL;
    unsigned n = 0;

    if (!rule) {
        /* QEMU's name: the cloak off, or an empty hotplug slot */
        name = g_strdup_printf("S%.02X", devfn);
        return g_intern_string(name);
    }
    for (int i = 0; i < devfn; i++) {
        n += bus->devices[i] && pci_name_rule(bus->devices[i]) == rule;
    }
    if (n == 0 && rule->first) {
        return rule->first;
    }
    name = g_strdup_printf(rule->format, rule->base + n);
    if (strlen(name) != 4) {    /* the counter ran out of digits */
        /* S<devfn> cannot collide: no rule yields a name of that form */
        g_free(name);
        name = g_strdup_printf("S%.02X", devfn);
    }
    return g_intern_string(name);
}

/* ------------------------------------------------------------------ */
/* The profile's platform devices and tables                          */

/* A numeric [acpi] key, or @dflt when the profile leaves it out. */
static uint64_t acpi_number(const char *key, uint64_t dflt)
{
    return cloak_value_number("acpi", key, dflt);
}

/* _UID: digits make a number, anything else a string (as firmware does). */
static Aml *uid_value(const char *uid)
{
    uint64_t n;

    if (!qemu_strtou64(uid, NULL, 10, &n)) {
        return aml_int(n);
    }
    return aml_string("%s", uid);
}

/* A device of @name ("NAME" or "NAME:UID") with EISA ID @hid in @scope. */
static Aml *named_device(const char *name, const char *hid, const char *cid)
{
    g_autofree char *n = g_strndup(name, 4);
    const char *colon = strchr(name, ':');
    Aml *dev = aml_device("%s", n);

    aml_append(dev, aml_name_decl("_HID", strchr(hid, ' ') || hid[0] == 'P'
                                          ? aml_eisaid(hid)
                                          : aml_string("%s", hid)));
    if (cid) {
        aml_append(dev, aml_name_decl("_CID", aml_eisaid(cid)));
    }
    if (colon) {
        aml_append(dev, aml_name_decl("_UID", uid_value(colon + 1)));
    }
    return dev;
}

/* A method of no arguments that returns @value. */
static Aml *method_returning(const char *name, Aml *value)
{
    Aml *m = aml_method(name, 0, AML_NOTSERIALIZED);

    aml_append(m, aml_return(value));
    return m;
}

/* Tenths of a kelvin, as ACPI gives temperatures. */
static uint64_t deci_kelvin(uint64_t celsius)
{
    return 2732 + celsius * 10;
}

/*
 * _TMP moves between thermal-low and thermal-high: a triangle over about
 * 107 s (Timer counts 100 ns; bits 23..29 give 128 steps of 0.84 s, so a
 * DSDT with 32-bit integers wraps between periods, not inside one), plus
 * up to 0.3 degrees of flicker from Timer's low bits, so that two reads a
 * few seconds apart differ as a real sensor's do.
 */
/*
 * The hardware monitor's ports as motherboard resources, with the
 * index/data fields the thermal zone reads (cloak-thermal.c serves them).
 */
static Aml *hardware_monitor(void)
{
    Aml *dev = aml_device("HWMN");
    Aml *crs = aml_resource_template();
    Aml *field;

    aml_append(dev, aml_name_decl("_HID", aml_eisaid("PNP0C02")));
    aml_append(dev, aml_name_decl("_UID", aml_int(CLOAK_HWM_RANGE_BASE)));
    aml_append(crs, aml_io(AML_DECODE16, CLOAK_HWM_RANGE_BASE,
                           CLOAK_HWM_RANGE_BASE, 1, CLOAK_HWM_RANGE_LEN));
    aml_append(dev, aml_name_decl("_CRS", crs));
    aml_append(dev, aml_operation_region("HWRG", AML_SYSTEM_IO,
                                         aml_int(CLOAK_HWM_INDEX_PORT), 2));
    field = aml_field("HWRG", AML_BYTE_ACC, AML_NOLOCK, AML_PRESERVE);
    aml_append(field, aml_named_field("HIDX", 8));
    aml_append(field, aml_named_field("HDAT", 8));
    aml_append(dev, field);
    return dev;
}

static Aml *thermal_zone(const char *name, uint64_t fans)
{
    uint64_t high = MAX(acpi_number("thermal-high", 45),
                        acpi_number("thermal-low", 30));
    uint64_t passive = acpi_number("thermal-passive", 0);
    Aml *tz = aml_thermal_zone(name);
    Aml *tmp = aml_method("_TMP", 0, AML_SERIALIZED);
    Aml *t = aml_local(0);

    /* the sensor of cloak-thermal.c, through its index/data pair */
    aml_append(tmp, aml_store(aml_int(CLOAK_HWM_REG_DK_HIGH),
                              aml_name("\\_SB.HWMN.HIDX")));
    aml_append(tmp, aml_store(aml_shiftleft(aml_name("\\_SB.HWMN.HDAT"),
                                            aml_int(8)), t));
    aml_append(tmp, aml_store(aml_int(CLOAK_HWM_REG_DK_LOW),
                              aml_name("\\_SB.HWMN.HIDX")));
    aml_append(tmp, aml_return(aml_or(t, aml_name("\\_SB.HWMN.HDAT"),
                                      NULL)));
    aml_append(tz, tmp);
    if (cloak_value("acpi", "thermal-critical")) {
        aml_append(tz, method_returning("_CRT", aml_int(deci_kelvin(
                       acpi_number("thermal-critical", 0)))));
    }
    if (passive) {
        aml_append(tz, method_returning("_PSV",
                                        aml_int(deci_kelvin(passive))));
    }
    /* Linux polls a zone without notifications every 10 s */
    aml_append(tz, aml_name_decl("_TZP", aml_int(100)));
    if (fans) {
        Aml *al0 = aml_package(fans);

        for (uint64_t i = 0; i < fans; i++) {
            aml_append(al0, aml_name("FAN%" PRIu64, i));
        }
        aml_append(tz, method_returning("_AC0",
                                        aml_int(deci_kelvin(high + 10))));
        aml_append(tz, aml_name_decl("_AL0", al0));
    }
    return tz;
}

/* Fan n: a PNP0C0B device with the power resource that switches it. */
static void add_fan(Aml *scope, uint64_t i)
{
    g_autofree char *power = g_strdup_printf("FN%02" PRIu64, i);
    Aml *res = aml_power_resource(power, 0, 0);
    Aml *dev = aml_device("FAN%" PRIu64, i);
    Aml *on = aml_method("_ON", 0, AML_NOTSERIALIZED);
    Aml *off = aml_method("_OFF", 0, AML_NOTSERIALIZED);
    Aml *pr0 = aml_package(1);

    aml_append(res, aml_name_decl("FSTA", aml_int(1)));
    aml_append(res, method_returning("_STA", aml_name("FSTA")));
    aml_append(on, aml_store(aml_int(1), aml_name("FSTA")));
    aml_append(res, on);
    aml_append(off, aml_store(aml_int(0), aml_name("FSTA")));
    aml_append(res, off);
    aml_append(scope, res);

    aml_append(dev, aml_name_decl("_HID", aml_eisaid("PNP0C0B")));
    aml_append(dev, aml_name_decl("_UID", aml_int(i)));
    aml_append(pr0, aml_name("FN%02" PRIu64, i));
    aml_append(dev, aml_name_decl("_PR0", pr0));
    aml_append(scope, dev);
}

/* The SMBIOS battery-1 record's fields, which ACPI's battery repeats. */
typedef struct Battery {
    char **f;                   /* as CLOAK_SMBIOS_RECORDS "battery" */
    uint64_t design_mwh, full_mwh, design_mv, cycles, phase;
} Battery;

static bool battery_of_profile(Battery *b)
{
    const CloakSmbiosRecord *r;
    const char *v = cloak_value("smbios", "battery-1");
    unsigned n;
    uint8_t wear[4];

    if (!v) {
        return false;
    }
    r = cloak_smbios_record_find("battery-1", &n);
    b->f = cloak_smbios_record_split(r, v);
    qemu_strtou64(b->f[6], NULL, 0, &b->design_mwh);
    qemu_strtou64(b->f[7], NULL, 0, &b->design_mv);
    /* Per VM: a pack worn to 88-97 %, 40-295 cycles, its own phase. */
    cloak_derive_bytes(cloak_seed(), "acpi/battery", wear, sizeof(wear));
    b->full_mwh = b->design_mwh * (88 + wear[0] % 10) / 100;
    b->cycles = 40 + wear[1];
    b->phase = (wear[2] << 8 | wear[3]) & 0x7fff;
    return true;
}

/* The chemistry as ACPI's battery type string ("LION", "LiP", ...). */
static const char *battery_type(Battery *b)
{
    uint64_t chem = 0;

    if (*b->f[12]) {
        return b->f[12];                /* SBDS chemistry, as the EC says */
    }
    qemu_strtou64(b->f[5], NULL, 0, &chem);
    switch (chem) {
    case 0x03:
        return "PBAC";
    case 0x04:
        return "NICD";
    case 0x05:
        return "LION";
    case 0x06:
        return "NIMH";
    case 0x07:
        return "LiP";
    default:
        return "";
    }
}

/* _BIF and _BIX: the pack's static facts, in mWh and mV. */
static void battery_info(Aml *dev, Battery *b)
{
    Aml *bif = aml_package(13), *bix = aml_package(21);
    const char *model = b->f[4], *serial = b->f[3], *oem = b->f[1];
    uint64_t warn = b->full_mwh / 20, low = 200;

    aml_append(bif, aml_int(0));                  /* power unit: mWh */
    aml_append(bif, aml_int(b->design_mwh));
    aml_append(bif, aml_int(b->full_mwh));
    aml_append(bif, aml_int(1));                  /* rechargeable */
    aml_append(bif, aml_int(b->design_mv));
    aml_append(bif, aml_int(warn));
    aml_append(bif, aml_int(low));
    aml_append(bif, aml_int(1));                  /* granularity 1 */
    aml_append(bif, aml_int(1));                  /* granularity 2 */
    aml_append(bif, aml_string("%s", model));
    aml_append(bif, aml_string("%s", serial));
    aml_append(bif, aml_string("%s", battery_type(b)));
    aml_append(bif, aml_string("%s", oem));
    aml_append(dev, aml_name_decl("_BIF", bif));

    aml_append(bix, aml_int(1));                  /* revision (ACPI 6) */
    aml_append(bix, aml_int(0));
    aml_append(bix, aml_int(b->design_mwh));
    aml_append(bix, aml_int(b->full_mwh));
    aml_append(bix, aml_int(1));
    aml_append(bix, aml_int(b->design_mv));
    aml_append(bix, aml_int(warn));
    aml_append(bix, aml_int(low));
    aml_append(bix, aml_int(b->cycles));
    aml_append(bix, aml_int(95000));              /* accuracy 95 % */
    aml_append(bix, aml_int(0xffffffff));         /* sampling times */
    aml_append(bix, aml_int(0xffffffff));
    aml_append(bix, aml_int(1000));               /* averaging intervals */
    aml_append(bix, aml_int(500));
    aml_append(bix, aml_int(1));
    aml_append(bix, aml_int(1));
    aml_append(bix, aml_string("%s", model));
    aml_append(bix, aml_string("%s", serial));
    aml_append(bix, aml_string("%s", battery_type(b)));
    aml_append(bix, aml_string("%s", oem));
    aml_append(bix, aml_int(0));                  /* not swappable */
    aml_append(dev, aml_name_decl("_BIX", bix));
}

/*
 * BUPD: the pack's state now.  BPHS counts units of 2^20 Timer ticks
 * (0.105 s) since a per-VM phase; one cycle of 0x8000 units (57 min)
 * discharges from 95 % to 80 % of the last full charge, then charges back
 * on AC, at the steady rate that takes.  Timer deltas are taken modulo
 * 2^32, so a DSDT with 32-bit integers counts right as long as the guest
 * reads the battery at least every 7 minutes, as every OS does.
 */
static Aml *battery_update(Battery *b)
{
    uint64_t top = b->full_mwh * 95 / 100, span = b->full_mwh * 15 / 100;
    /* mW: span mWh over half a cycle, 0x4000 units of 0.105 s */
    uint64_t rate = span * 3600 * 10000000 / ((uint64_t)0x4000 << 20);
    Aml *m = aml_method("BUPD", 0, AML_SERIALIZED);
    Aml *now = aml_local(0), *d = aml_local(1), *pos = aml_local(2);
    Aml *tri = aml_local(3), *if_ctx, *else_ctx;

    aml_append(m, aml_store(aml_timer(), now));
    aml_append(m, aml_and(aml_subtract(now, aml_name("BTLS"), NULL),
                          aml_int(0xffffffff), d));
    aml_append(m, aml_shiftright(d, aml_int(20), d));
    aml_append(m, aml_add(aml_name("BPHS"), d, aml_name("BPHS")));
    aml_append(m, aml_and(aml_add(aml_name("BTLS"),
                                  aml_shiftleft(d, aml_int(20)), NULL),
                          aml_int(0xffffffff), aml_name("BTLS")));
    aml_append(m, aml_and(aml_name("BPHS"), aml_int(0x7fff), pos));
    if_ctx = aml_if(aml_lless(pos, aml_int(0x4000)));
    aml_append(if_ctx, aml_store(aml_int(1), aml_name("BSTA")));
    aml_append(if_ctx, aml_store(pos, tri));
    aml_append(m, if_ctx);
    else_ctx = aml_else();
    aml_append(else_ctx, aml_store(aml_int(2), aml_name("BSTA")));
    aml_append(else_ctx, aml_subtract(aml_int(0x7fff), pos, tri));
    aml_append(m, else_ctx);
    /* remaining = top - span * tri / 0x4000 */
    aml_append(m, aml_multiply(tri, aml_int(span), d));
    aml_append(m, aml_subtract(aml_int(top), aml_shiftright(d, aml_int(14),
                                                            NULL),
                               aml_name("BREM")));
    /* voltage falls about 600 mV over the discharge */
    aml_append(m, aml_multiply(tri, aml_int(600), d));
    aml_append(m, aml_subtract(aml_int(b->design_mv + 750),
                               aml_shiftright(d, aml_int(14), NULL),
                               aml_name("BVOL")));
    /* the rate, give or take 3 % */
    aml_append(m, aml_and(aml_shiftright(now, aml_int(16), NULL),
                          aml_int(0x3f), d));
    aml_append(m, aml_multiply(d, aml_int(MAX(rate / 1000, 1)), d));
    aml_append(m, aml_add(aml_int(rate - rate * 3 / 100), d,
                          aml_name("BRAT")));
    return m;
}

static void add_battery(Aml *scope, Battery *b)
{
    Aml *bat = aml_device("BAT0"), *ac = aml_device("AC");
    Aml *pcl = aml_package(1), *bst, *psr, *pkg;

    aml_append(pcl, aml_name("\\_SB"));
    aml_append(bat, aml_name_decl("_HID", aml_eisaid("PNP0C0A")));
    aml_append(bat, aml_name_decl("_UID", aml_int(0)));
    aml_append(bat, aml_name_decl("_PCL", pcl));
    aml_append(bat, method_returning("_STA", aml_int(0x1f)));
    battery_info(bat, b);
    aml_append(bat, aml_name_decl("BTLS", aml_int(0)));
    aml_append(bat, aml_name_decl("BPHS", aml_int(b->phase)));
    aml_append(bat, aml_name_decl("BSTA", aml_int(2)));
    aml_append(bat, aml_name_decl("BREM", aml_int(0)));
    aml_append(bat, aml_name_decl("BVOL", aml_int(0)));
    aml_append(bat, aml_name_decl("BRAT", aml_int(0)));
    pkg = aml_package(4);
    for (int i = 0; i < 4; i++) {
        aml_append(pkg, aml_int(0));
    }
    aml_append(bat, aml_name_decl("PBST", pkg));
    aml_append(bat, battery_update(b));
    bst = aml_method("_BST", 0, AML_SERIALIZED);
    aml_append(bst, aml_call0("BUPD"));
    aml_append(bst, aml_store(aml_name("BSTA"),
                              aml_index(aml_name("PBST"), aml_int(0))));
    aml_append(bst, aml_store(aml_name("BRAT"),
                              aml_index(aml_name("PBST"), aml_int(1))));
    aml_append(bst, aml_store(aml_name("BREM"),
                              aml_index(aml_name("PBST"), aml_int(2))));
    aml_append(bst, aml_store(aml_name("BVOL"),
                              aml_index(aml_name("PBST"), aml_int(3))));
    aml_append(bst, aml_return(aml_name("PBST")));
    aml_append(bat, bst);
    aml_append(scope, bat);

    /* On AC while charging, on battery while discharging. */
    aml_append(ac, aml_name_decl("_HID", aml_string("ACPI0003")));
    aml_append(ac, aml_name_decl("_UID", aml_int(0)));
    aml_append(ac, aml_name_decl("_PCL", pcl));
    aml_append(ac, method_returning("_STA", aml_int(0x0f)));
    psr = aml_method("_PSR", 0, AML_SERIALIZED);
    aml_append(psr, aml_call0("\\_SB.BAT0.BUPD"));
    aml_append(psr, aml_return(aml_lnot(aml_equal(aml_name("\\_SB.BAT0.BSTA"),
                                                  aml_int(1)))));
    aml_append(ac, psr);
    aml_append(scope, ac);
}

void cloak_acpi_build_platform_devices(Aml *dsdt)
{
    const char *wmi = cloak_value("acpi", "wmi");
    const char *pep = cloak_value("acpi", "pep");
    const char *zone = cloak_value("acpi", "thermal-zone");
    uint64_t fans = acpi_number("fans", 0);
    Aml *sb, *tz, *pkg;
    Battery b = { 0 };

    if (!cloak_is_enabled() || !cloak_profile()) {
        return;
    }
    /* _S0, which real firmware declares next to QEMU's _S3.._S5 */
    pkg = aml_package(4);
    for (int i = 0; i < 4; i++) {
        aml_append(pkg, aml_int(0));
    }
    aml_append(dsdt, aml_name_decl("_S0", pkg));

    sb = aml_scope("\\_SB");
    if (acpi_number("power-button", 0)) {
        aml_append(sb, named_device("PWRB", "PNP0C0C", NULL));
    }
    if (acpi_number("sleep-button", 0)) {
        aml_append(sb, named_device("SLPB", "PNP0C0E", NULL));
    }
    if (acpi_number("lid", 0)) {
        Aml *lid = named_device("LID_", "PNP0C0D", NULL);

        aml_append(lid, method_returning("_LID", aml_int(1)));  /* open */
        aml_append(sb, lid);
    }
    if (pep) {
        const char *vendor = cloak_value("cpu", "vendor");
        bool amd = vendor && !strcmp(vendor, "AuthenticAMD");
        Aml *dev = named_device(pep, amd ? "AMDI0005" : "INT33A1",
                                "PNP0D80");

        aml_append(sb, dev);
    }
    if (wmi) {
        g_auto(GStrv) names = g_strsplit(wmi, ",", -1);

        for (char **n = names; *n; n++) {
            Aml *dev = named_device(*n, "PNP0C14", NULL);

            /* no data blocks: the OS's WMI driver binds and finds none */
            aml_append(dev, aml_name_decl("_WDG", aml_buffer(0, NULL)));
            aml_append(sb, dev);
        }
    }
    if (zone) {
        aml_append(sb, hardware_monitor());
    }
    if (battery_of_profile(&b)) {
        add_battery(sb, &b);
        g_strfreev(b.f);
    }
    aml_append(dsdt, sb);

    tz = aml_scope("\\_TZ");
    for (uint64_t i = 0; i < fans; i++) {
        add_fan(tz, i);
    }
    if (zone) {
        aml_append(tz, thermal_zone(zone, fans));
    }
    aml_append(dsdt, tz);
}

/*
 * WSMT (Windows SMM Security Mitigations Table): the protection flags
 * the model's firmware declares; Windows reads it, and its absence on a
 * 2019 machine is one more VM tell.
 */
void cloak_acpi_build_tables(GArray *table_offsets, GArray *tables_blob,
                             BIOSLinker *linker, const char *oem_id,
                             const char *oem_table_id)
{
    const char *wsmt = cloak_value("acpi", "wsmt");
    AcpiTable table = { .sig = "WSMT", .rev = 1, .oem_id = oem_id,
                        .oem_table_id = oem_table_id };

    if (!cloak_is_enabled() || !wsmt) {
        return;
    }
    acpi_add_table(table_offsets, tables_blob);
    acpi_table_begin(&table, tables_blob);
    build_append_int_noprefix(tables_blob, acpi_number("wsmt", 0), 4);
    acpi_table_end(linker, &table);
}
