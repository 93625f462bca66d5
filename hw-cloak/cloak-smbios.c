/*
 * qemu-cloak SMBIOS: the profile's strings as defaults for -smbios, the
 * numeric fields QEMU hard-codes (from the machine properties), and the
 * cache structures (type 7) QEMU never builds.
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/config-file.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/option.h"
#include "qemu/units.h"
#include "qom/object.h"
#include "hw/boards.h"
#include "hw/core/cpu.h"
#include "hw/firmware/smbios.h"
#include "system/blockdev.h"
#include "hw/smbios/smbios_build.h"
#include "hw/cloak/cloak.h"
#include "hw/cloak/cloak-internal.h"
#include "hw/cloak/cloak-keys.h"
#include "hw/cloak/cloak-machine.h"
#include "hw/cloak/cloak-profile.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_device.h"

/* Handles of the type 7 structures: socket s, level l (0..2). */
#define T7_BASE 0x700
#define T7_HANDLE(s, l) (T7_BASE + (s) * 3 + (l))

struct smbios_type_7 {
    struct smbios_structure_header header;
    uint8_t socket_designation_str;
    uint16_t cache_configuration;
    uint16_t maximum_cache_size;
    uint16_t installed_size;
    uint16_t supported_sram_type;
    uint16_t current_sram_type;
    uint8_t cache_speed;
    uint8_t error_correction_type;
    uint8_t system_cache_type;
    uint8_t associativity;
} QEMU_PACKED;

/* A private list, so that the cloak's options never mix with the user's. */
static QemuOptsList cloak_smbios_opts = {
    .name = "cloak-smbios",
    .head = QTAILQ_HEAD_INITIALIZER(cloak_smbios_opts.head),
    .desc = { { /* accept any; smbios_entry_add() validates */ } },
};


static int copy_opt(void *opaque, const char *name, const char *value,
                    Error **errp)
{
    QemuOpts *merged = opaque;

    if (strcmp(name, "type")) {
        qemu_opt_set(merged, name, value, &error_abort);
    }
    return 0;
}

static bool set_if_unset(QemuOpts *o, const char *name, const char *value)
{
    if (!value || qemu_opt_find(o, name)) {
        return false;
    }
    qemu_opt_set(o, name, value, &error_abort);
    return true;
}

/*
 * The user's -smbios type=N options were applied while the command line
 * was parsed.  Passes smbios_entry_add() their keys again plus the
 * profile's values for every key they left out, so the user wins field
 * by field.  Numeric keys must be repeated, as smbios_entry_add() resets
 * omitted ones to QEMU's defaults.
 */
typedef struct {
    int type;
    QemuOpts *merged;
} MergeState;

static int merge_user_opts(void *opaque, QemuOpts *o, Error **errp)
{
    MergeState *m = opaque;
    const char *ut = qemu_opt_get(o, "type");
    unsigned long type;

    if (ut && !qemu_strtoul(ut, NULL, 0, &type) && type == m->type) {
        qemu_opt_foreach(o, copy_opt, m->merged, &error_abort);
    }
    return 0;
}

static QemuOpts *merged_opts(int type)
{
    QemuOpts *merged = qemu_opts_create(&cloak_smbios_opts, NULL, 0,
                                        &error_abort);
    MergeState m = { type, merged };
    char t[8];

    qemu_opts_foreach(qemu_find_opts("smbios"), merge_user_opts, &m,
                      &error_abort);
    snprintf(t, sizeof(t), "%d", type);
    qemu_opt_set(merged, "type", t, &error_abort);
    return merged;
}

static void add_profile_fields(int type, const char *const *extra)
{
    QemuOpts *o;

    if (test_bit(type, smbios_have_binfile_bitmap)) {
        return;     /* -smbios file= gave the whole structure */
    }
    o = merged_opts(type);
    /* The profile keys hw/cloak/cloak-keys.h sends to this type. */
    for (size_t i = 0; i < cloak_profile_key_count; i++) {
        const CloakKeySpec *k = &cloak_profile_key_table[i];

        if (k->to.smbios_option && k->to.smbios_type == type) {
            set_if_unset(o, k->to.smbios_option,
                         k->per_model == CLOAK_KEY_PER_MODEL &&
                         !strcmp(k->group, "cpu") ?
                         cloak_cpu_value(k->key) :
                         cloak_value(k->group, k->key));
        }
    }
    for (; extra && extra[0]; extra += 2) {
        set_if_unset(o, extra[0], extra[1]);
    }
    smbios_entry_add(o, &error_fatal);
}

/* SMBIOS 3.x processor family from a brand string (0 when unknown). */
static unsigned family_from_brand(const char *brand)
{
    static const struct {
        const char *needle;
        unsigned family;
    } map[] = {
        { "Core(TM) i3", 0xce }, { "Core(TM) i5", 0xcd },
        { "Core(TM) i7", 0xc6 }, { "Core(TM) i9", 0xc6 },
        { "Pentium", 0x0b }, { "Celeron", 0x0f }, { "Xeon", 0xb3 },
        { "Ryzen", 0x6b }, { "EPYC", 0x6b }, { "Athlon", 0x6b },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(map); i++) {
        if (strstr(brand, map[i].needle)) {
            return map[i].family;
        }
    }
    return 0;
}

/* "... @ 3.60GHz" gives 3600 (0 when the brand states no clock). */
static unsigned mhz_from_brand(const char *brand)
{
    const char *at = strrchr(brand, '@');
    double ghz;

    if (!at || sscanf(at + 1, " %lfGHz", &ghz) != 1 || ghz <= 0 ||
        ghz > 10) {
        return 0;
    }
    return (unsigned)(ghz * 1000 + 0.5);
}

bool cloak_smbios_set_defaults(MachineState *ms)
{
    static const char *const no_extra[] = { NULL };
    g_autofree char *brand = NULL;
    g_autofree char *vendor = NULL;
    g_autofree char *family = NULL;
    g_autofree char *mhz = NULL;
    const char *cpu_manufacturer = NULL;
    const char *type4_extra[10] = { NULL };
    size_t n = 0;

    if (!cloak_is_enabled()) {
        return false;
    }

    /* Type 4 describes the CPU the guest really sees. */
    if (first_cpu) {
        brand = object_property_get_str(OBJECT(first_cpu), "model-id", NULL);
        vendor = object_property_get_str(OBJECT(first_cpu), "vendor", NULL);
    }
    if (vendor && !strcmp(vendor, "GenuineIntel")) {
        cpu_manufacturer = "Intel(R) Corporation";
    } else if (vendor && !strcmp(vendor, "AuthenticAMD")) {
        cpu_manufacturer = "Advanced Micro Devices, Inc.";
    }
    if (brand) {
        g_strstrip(brand);
        type4_extra[n++] = "version";
        type4_extra[n++] = brand;
        if (family_from_brand(brand)) {
            family = g_strdup_printf("%u", family_from_brand(brand));
            type4_extra[n++] = "processor-family";
            type4_extra[n++] = family;
        }
        if (mhz_from_brand(brand)) {
            mhz = g_strdup_printf("%u", mhz_from_brand(brand));
            type4_extra[n++] = "current-speed";
            type4_extra[n++] = mhz;
        }
    }
    if (cpu_manufacturer) {
        type4_extra[n++] = "manufacturer";
        type4_extra[n++] = cpu_manufacturer;
    }

    add_profile_fields(0, no_extra);
    add_profile_fields(1, no_extra);
    add_profile_fields(2, no_extra);
    add_profile_fields(3, no_extra);
    add_profile_fields(4, type4_extra);
    add_profile_fields(17, no_extra);

    /*
     * Whatever is still unset stays empty ("Not Specified"), where QEMU
     * would write "QEMU", "Standard PC (...)" and the machine type name.
     */
    smbios_set_defaults(cloak_value("system", "manufacturer") ?: "",
                        cloak_value("system", "product") ?: "", "");
    return true;
}

/* ------------------------------------------------------------------ */
/* Fields QEMU hard-codes                                              */

/*
 * Whether the guest boots UEFI firmware (OVMF in pflash, or -bios with an
 * EDK2 image): the type 0 UEFI bit must then be set, as OVMF's own type 0
 * would have it.  Stock QEMU sets it only for -smbios type=0,uefi=on.
 */
static bool firmware_is_uefi(MachineState *ms)
{
    g_autofree char *pflash = NULL;
    g_autofree char *lower = NULL;

    if (object_property_find(OBJECT(ms), "pflash0")) {
        pflash = object_property_get_str(OBJECT(ms), "pflash0", NULL);
    }
    if ((pflash && *pflash) || drive_get(IF_PFLASH, 0, 0)) {
        return true;
    }
    lower = ms->firmware ? g_ascii_strdown(ms->firmware, -1) : NULL;
    return lower && (strstr(lower, "ovmf") || strstr(lower, "edk2"));
}

static uint16_t cpu_characteristics(CloakMachineState *s)
{
    MachineState *ms = current_machine;
    unsigned cores = machine_topo_get_cores_per_socket(ms);
    unsigned threads = machine_topo_get_threads_per_socket(ms);
    uint16_t c = 0x04 | 0x20 | 0x40 | 0x80; /* 64-bit, NX, VT, P-states */

    if (s->smbios_cpu_characteristics) {
        return s->smbios_cpu_characteristics;
    }
    if (cores > 1) {
        c |= 0x08;      /* multi-core */
    }
    if (threads > cores) {
        c |= 0x10;      /* hardware threads */
    }
    return c;
}

void cloak_smbios_fixup(struct smbios_structure_header *hdr)
{
    CloakMachineState *s = cloak_machine_state();

    if (!s) {
        return;
    }
    switch (hdr->type) {
    case 0: {
        struct smbios_type_0 *t = (struct smbios_type_0 *)hdr;
        uint8_t uefi = t->bios_characteristics_extension_bytes[1] & 0x08;

        if (cloak_is_enabled() && firmware_is_uefi(current_machine)) {
            uefi = 0x08;
        }

        t->bios_characteristics = cpu_to_le64(s->smbios_bios_characteristics);
        t->bios_characteristics_extension_bytes[0] = s->smbios_bios_ext1;
        t->bios_characteristics_extension_bytes[1] =
            (s->smbios_bios_ext2 & ~0x18) | uefi | (s->smbios_vm ? 0x10 : 0);
        t->bios_rom_size = s->smbios_bios_rom_size;
        t->bios_starting_address_segment = cpu_to_le16(s->smbios_bios_segment);
        break;
    }
    case 3: {
        struct smbios_type_3 *t = (struct smbios_type_3 *)hdr;

        t->type = s->smbios_chassis_type;
        break;
    }
    case 4: {
        struct smbios_type_4 *t = (struct smbios_type_4 *)hdr;
        unsigned socket = le16_to_cpu(t->header.handle) & 0xff;

        t->voltage = s->smbios_cpu_voltage;
        t->external_clock = cpu_to_le16(s->smbios_cpu_external_clock);
        t->processor_upgrade = s->smbios_cpu_upgrade;
        t->processor_characteristics = cpu_to_le16(cpu_characteristics(s));
        if (s->smbios_cache_l1) {
            t->l1_cache_handle = cpu_to_le16(T7_HANDLE(socket, 0));
            t->l2_cache_handle = cpu_to_le16(s->smbios_cache_l2 ?
                                             T7_HANDLE(socket, 1) : 0xffff);
            t->l3_cache_handle = cpu_to_le16(s->smbios_cache_l3 ?
                                             T7_HANDLE(socket, 2) : 0xffff);
        }
        break;
    }
    case 16: {
        struct smbios_type_16 *t = (struct smbios_type_16 *)hdr;

        t->location = s->smbios_mem_location;
        t->error_correction = s->smbios_mem_ecc;
        break;
    }
    case 17: {
        struct smbios_type_17 *t = (struct smbios_type_17 *)hdr;

        t->memory_type = s->smbios_mem_type;
        t->type_detail = cpu_to_le16(s->smbios_mem_type_detail);
        t->form_factor = s->smbios_mem_form_factor;
        t->total_width = cpu_to_le16(s->smbios_mem_width);
        t->data_width = cpu_to_le16(s->smbios_mem_width);
        t->minimum_voltage = cpu_to_le16(s->smbios_mem_voltage);
        t->maximum_voltage = cpu_to_le16(s->smbios_mem_voltage);
        t->configured_voltage = cpu_to_le16(s->smbios_mem_voltage);
        break;
    }
    default:
        break;
    }
}

/* ------------------------------------------------------------------ */
/* Type 7                                                              */

static uint16_t cache_size_field(uint32_t kib)
{
    if (kib <= 0x7fff) {
        return kib;                     /* 1K granularity */
    }
    return 0x8000 | MIN(kib / 64, 0x7fff);  /* 64K granularity */
}

/*
 * SMBIOS type 7 Associativity of @ways ways; 0x01 (Other) where SMBIOS has
 * no code, as real firmware writes for Alder Lake's 10-way L2.
 */
static uint8_t smbios_associativity(unsigned ways)
{
    static const struct {
        unsigned ways;
        uint8_t code;
    } codes[] = {
        { 1, 0x03 }, { 2, 0x04 }, { 4, 0x05 }, { 8, 0x07 }, { 12, 0x09 },
        { 16, 0x08 }, { 20, 0x0e }, { 24, 0x0a }, { 32, 0x0b }, { 48, 0x0c },
        { 64, 0x0d },
    };

    for (size_t i = 0; i < G_N_ELEMENTS(codes); i++) {
        if (codes[i].ways == ways) {
            return codes[i].code;
        }
    }
    return 0x01;
}

static void build_type_7(unsigned socket, unsigned level, uint32_t kib,
                         unsigned ways)
{
    static const char *const names[] = { "L1 Cache", "L2 Cache",
                                         "L3 Cache" };
    /* parity, single-bit ECC, multi-bit ECC as Intel and AMD report */
    static const uint8_t ecc[] = { 0x04, 0x05, 0x06 };
    /* without a profile's ways: 8-way, 4-way, 12-way */
    static const unsigned default_ways[] = { 8, 4, 12 };

    SMBIOS_BUILD_TABLE_PRE(7, T7_HANDLE(socket, level), true);

    SMBIOS_TABLE_SET_STR(7, socket_designation_str, names[level]);
    /* enabled, write-back, internal, level */
    t->cache_configuration = cpu_to_le16(0x0180 | level);
    t->maximum_cache_size = cpu_to_le16(cache_size_field(kib));
    t->installed_size = t->maximum_cache_size;
    t->supported_sram_type = cpu_to_le16(0x0020);   /* synchronous */
    t->current_sram_type = cpu_to_le16(0x0020);
    t->cache_speed = 0;
    t->error_correction_type = ecc[level];
    t->system_cache_type = 0x05;    /* unified */
    t->associativity = smbios_associativity(ways ? ways
                                                 : default_ways[level]);

    SMBIOS_BUILD_TABLE_POST;
}

/* ------------------------------------------------------------------ */
/* The profile's [smbios] records                                      */

/* A structure being built: its formatted area and its strings. */
typedef struct Structure {
    GByteArray *bytes;          /* after the 4-byte header */
    GPtrArray *strings;
} Structure;

static Structure *structure_new(void)
{
    Structure *st = g_new0(Structure, 1);

    st->bytes = g_byte_array_new();
    st->strings = g_ptr_array_new_with_free_func(g_free);
    return st;
}

static void structure_free(Structure *st)
{
    g_byte_array_unref(st->bytes);
    g_ptr_array_unref(st->strings);
    g_free(st);
}
G_DEFINE_AUTOPTR_CLEANUP_FUNC(Structure, structure_free)

static void put_u8(Structure *st, uint64_t v)
{
    uint8_t b = v;

    g_byte_array_append(st->bytes, &b, 1);
}

static void put_u16(Structure *st, uint64_t v)
{
    uint16_t w = cpu_to_le16(v);

    g_byte_array_append(st->bytes, (uint8_t *)&w, 2);
}

static void put_u32(Structure *st, uint64_t v)
{
    uint32_t d = cpu_to_le32(v);

    g_byte_array_append(st->bytes, (uint8_t *)&d, 4);
}

static void put_u64(Structure *st, uint64_t v)
{
    uint64_t q = cpu_to_le64(v);

    g_byte_array_append(st->bytes, (uint8_t *)&q, 8);
}

/* A string field: its index in the string set, 0 for "Not Specified". */
static void put_str(Structure *st, const char *str)
{
    if (!str || !*str) {
        put_u8(st, 0);
        return;
    }
    g_ptr_array_add(st->strings, g_strdup(str));
    put_u8(st, st->strings->len);
}

/* Appends the structure to QEMU's table, as smbios_build.h's macros do. */
static void structure_emit(Structure *st, uint8_t type, uint16_t handle)
{
    struct smbios_structure_header hdr = {
        .type = type,
        .length = sizeof(hdr) + st->bytes->len,
        .handle = cpu_to_le16(handle),
    };
    size_t start = smbios_tables_len, len = hdr.length;

    for (guint i = 0; i < st->strings->len; i++) {
        len += strlen(g_ptr_array_index(st->strings, i)) + 1;
    }
    len += st->strings->len ? 1 : 2;
    smbios_tables = g_realloc(smbios_tables, start + len);
    memset(smbios_tables + start, 0, len);
    memcpy(smbios_tables + start, &hdr, sizeof(hdr));
    memcpy(smbios_tables + start + sizeof(hdr), st->bytes->data,
           st->bytes->len);
    len = hdr.length;
    for (guint i = 0; i < st->strings->len; i++) {
        const char *str = g_ptr_array_index(st->strings, i);

        memcpy(smbios_tables + start + len, str, strlen(str) + 1);
        len += strlen(str) + 1;
    }
    len += st->strings->len ? 1 : 2;
    smbios_tables_len += len;
    smbios_table_max = MAX(smbios_table_max, len);
    smbios_table_cnt++;
}

static uint64_t number(const char *s)
{
    uint64_t v = 0;

    /* The profile's validator accepted it: decimal or 0x-hex. */
    qemu_strtou64(s, NULL, 0, &v);
    return v;
}

/* The user's -smbios type=N (options or a file) replaces the profile's. */
static bool user_gave_type(int type)
{
    return test_bit(type, smbios_have_binfile_bitmap) ||
           test_bit(type, smbios_have_fields_bitmap);
}

/* The records of one kind, in the order of their n; fields expanded. */
static GPtrArray *records_of(const CloakSmbiosRecord *r)
{
    const CloakProfile *p = cloak_profile();
    GPtrArray *out = g_ptr_array_new_with_free_func((GDestroyNotify)
                                                    g_strfreev);
    const char *const *keys = cloak_profile_keys(p, "smbios");
    unsigned max = 0, n;

    for (const char *const *k = keys; *k; k++) {
        if (cloak_smbios_record_find(*k, &n) == r) {
            max = MAX(max, n);
        }
    }
    for (n = 1; n <= max; n++) {
        g_autofree char *key = g_strdup_printf("%s-%u", r->name, n);
        const char *v = cloak_value("smbios", key);

        if (v) {
            g_ptr_array_add(out, cloak_smbios_record_split(r, v));
        }
    }
    return out;
}

/* All PCI functions of the machine, by bus number and devfn. */
static int collect_pci(Object *obj, void *opaque)
{
    if (object_dynamic_cast(obj, TYPE_PCI_DEVICE) &&
        DEVICE(obj)->realized) {
        g_ptr_array_add(opaque, PCI_DEVICE(obj));
    }
    return 0;
}

static gint pci_order(gconstpointer a, gconstpointer b)
{
    PCIDevice *x = *(PCIDevice **)a, *y = *(PCIDevice **)b;
    int kx = pci_dev_bus_num(x) << 8 | x->devfn;
    int ky = pci_dev_bus_num(y) << 8 | y->devfn;

    return kx - ky;
}

/*
 * Type 41: the k-th record of a PCI class gets the VM's k-th function of
 * that class, so the table names devices the guest can find at those
 * addresses; a record left without one is listed as disabled.
 */
static void build_onboard(GPtrArray *recs)
{
    g_autoptr(GPtrArray) pci = g_ptr_array_new();
    g_autoptr(GHashTable) taken = g_hash_table_new(NULL, NULL);

    object_child_foreach_recursive(object_get_root(), collect_pci, pci);
    g_ptr_array_sort(pci, pci_order);
    for (guint i = 0; i < recs->len; i++) {
        char **f = g_ptr_array_index(recs, i);
        g_autoptr(Structure) st = structure_new();
        uint16_t class = number(f[3]);
        PCIDevice *dev = NULL;
        uint8_t type = number(f[1]);

        for (guint j = 0; class && j < pci->len && !dev; j++) {
            PCIDevice *d = g_ptr_array_index(pci, j);

            if (pci_get_word(d->config + PCI_CLASS_DEVICE) == class &&
                !g_hash_table_contains(taken, d)) {
                g_hash_table_add(taken, d);
                dev = d;
            }
        }
        put_str(st, f[0]);
        put_u8(st, dev ? type | 0x80 : type & 0x7f);
        put_u8(st, number(f[2]));
        put_u16(st, dev ? 0 : 0xffff);
        put_u8(st, dev ? pci_dev_bus_num(dev) : 0xff);
        put_u8(st, dev ? dev->devfn : 0xff);
        structure_emit(st, 41, 0x2900 + i);
    }
}

/* Types 11 and 12: one structure, a count and the strings. */
static void build_string_set(GPtrArray *recs, uint8_t type)
{
    g_autoptr(Structure) st = structure_new();

    put_u8(st, recs->len);
    for (guint i = 0; i < recs->len; i++) {
        g_ptr_array_add(st->strings,
                        g_strdup(((char **)g_ptr_array_index(recs, i))[0]));
    }
    structure_emit(st, type, type << 8);
}

/* Type 13: long names ("en|US|iso8859-1") unless the first is "enUS". */
static void build_languages(GPtrArray *recs)
{
    g_autoptr(Structure) st = structure_new();
    const char *first = ((char **)g_ptr_array_index(recs, 0))[0];

    put_u8(st, recs->len);
    put_u8(st, strchr(first, '|') ? 0 : 1);
    for (int i = 0; i < 15; i++) {
        put_u8(st, 0);
    }
    put_u8(st, 1);
    for (guint i = 0; i < recs->len; i++) {
        g_ptr_array_add(st->strings,
                        g_strdup(((char **)g_ptr_array_index(recs, i))[0]));
    }
    structure_emit(st, 13, 0x0d00);
}

/* Types 26, 28 and 29 share one layout. */
static void build_probe(char **f, uint8_t type, uint16_t handle)
{
    g_autoptr(Structure) st = structure_new();

    put_str(st, f[0]);
    put_u8(st, number(f[1]));
    for (int i = 2; i <= 6; i++) {
        put_u16(st, number(f[i]));      /* max, min, resolution, ... */
    }
    put_u32(st, 0);                     /* OEM-defined */
    put_u16(st, number(f[7]));          /* nominal value */
    structure_emit(st, type, handle);
}

static void build_record(const CloakSmbiosRecord *r, char **f, guint i)
{
    g_autoptr(Structure) st = structure_new();
    uint16_t handle = (r->type << 8) + i;

    switch (r->type) {
    case 8:
        put_str(st, f[0]);
        put_u8(st, number(f[1]));
        put_str(st, f[2]);
        put_u8(st, number(f[3]));
        put_u8(st, number(f[4]));
        break;
    case 9:
        put_str(st, f[0]);
        for (int k = 1; k <= 4; k++) {
            put_u8(st, number(f[k]));   /* type, width, usage, length */
        }
        put_u16(st, number(f[5]));
        put_u8(st, number(f[6]));
        put_u8(st, number(f[7]));
        put_u16(st, number(f[8]));
        put_u8(st, number(f[9]));
        put_u8(st, number(f[10]));
        break;
    case 22: {
        uint64_t mwh = number(f[6]), mv = number(f[7]);

        put_str(st, f[0]);
        put_str(st, f[1]);
        put_str(st, f[2]);
        put_str(st, f[3]);
        put_str(st, f[4]);
        put_u8(st, number(f[5]));
        put_u16(st, mwh);
        put_u16(st, mv);
        put_str(st, f[8]);
        put_u8(st, number(f[9]));
        put_u16(st, number(f[10]));
        put_u16(st, number(f[11]));
        put_str(st, f[12]);
        put_u8(st, 1);                  /* capacity multiplier */
        put_u32(st, number(f[13]));
        break;
    }
    case 26:
    case 28:
    case 29:
        build_probe(f, r->type, handle);
        return;
    case 27: {
        uint64_t probe = number(f[2]);

        put_u16(st, probe ? 0x1c00 + probe - 1 : 0xffff);
        put_u8(st, number(f[1]));
        put_u8(st, number(f[3]));
        put_u32(st, 0);                 /* OEM-defined */
        put_u16(st, number(f[4]));
        put_str(st, f[0]);
        break;
    }
    case 0: {                           /* raw */
        const char *hex = f[1];

        for (size_t k = 0; hex[k] && hex[k + 1]; k += 2) {
            put_u8(st, g_ascii_xdigit_value(hex[k]) << 4 |
                       g_ascii_xdigit_value(hex[k + 1]));
        }
        for (int k = 2; f[k]; k++) {
            g_ptr_array_add(st->strings, g_strdup(f[k]));
        }
        structure_emit(st, number(f[0]), 0xf000 + i);
        return;
    }
    default:
        g_assert_not_reached();
    }
    structure_emit(st, r->type, handle);
}

/* Type 10: every on-board device in one structure. */
static void build_onboard_legacy(GPtrArray *recs)
{
    g_autoptr(Structure) st = structure_new();

    for (guint i = 0; i < recs->len; i++) {
        char **f = g_ptr_array_index(recs, i);

        put_u8(st, number(f[1]));
        put_str(st, f[0]);
    }
    structure_emit(st, 10, 0x0a00);
}

/*
 * Type 20, one per type 17, as real firmware maps its DIMMs: one after
 * the other from 0, in the first type 19's array.  The sizes are those
 * smbios_get_tables() gives its type 17s.
 */
static void build_mapped_addresses(MachineState *ms)
{
    MachineClass *mc = MACHINE_GET_CLASS(ms);
    uint64_t unit = mc->smbios_memory_device_size, start = 0;
    unsigned count = QEMU_ALIGN_UP(ms->ram_size, unit) / unit;

    for (unsigned i = 0; i < count; i++) {
        g_autoptr(Structure) st = structure_new();
        uint64_t size = i < count - 1 ? unit : (ms->ram_size - 1) % unit + 1;
        uint64_t end = start + size - 1;
        bool ext = end / KiB > 0xfffffffeULL;

        put_u32(st, ext ? 0xffffffff : start / KiB);
        put_u32(st, ext ? 0xffffffff : end / KiB);
        put_u16(st, 0x1100 + i);        /* smbios.c's T17_BASE */
        put_u16(st, 0x1300);            /* ... and T19_BASE */
        put_u8(st, 1);                  /* partition row */
        put_u8(st, 0);                  /* not interleaved */
        put_u8(st, 0);
        put_u64(st, ext ? start : 0);
        put_u64(st, ext ? end : 0);
        structure_emit(st, 20, 0x1400 + i);
        start += size;
    }
}

static void build_profile_records(MachineState *ms)
{
    const char *mapped = cloak_value("memory", "mapped-addresses");

    if (!cloak_is_enabled() || !cloak_profile()) {
        return;
    }
    for (size_t k = 0; k < cloak_smbios_record_count; k++) {
        const CloakSmbiosRecord *r = &cloak_smbios_record_table[k];
        g_autoptr(GPtrArray) recs = records_of(r);

        if (!recs->len || (r->type && user_gave_type(r->type))) {
            continue;
        }
        switch (r->type) {
        case 10:
            build_onboard_legacy(recs);
            break;
        case 11:
        case 12:
            build_string_set(recs, r->type);
            break;
        case 13:
            build_languages(recs);
            break;
        case 41:
            build_onboard(recs);
            break;
        default:
            for (guint i = 0; i < recs->len; i++) {
                char **f = g_ptr_array_index(recs, i);

                if (r->type || !user_gave_type(number(f[0]))) {
                    build_record(r, f, i);
                }
            }
        }
    }
    if (mapped && number(mapped) && !user_gave_type(20)) {
        build_mapped_addresses(ms);
    }
}

/* Type 7 per socket, then the profile's records. */
void cloak_smbios_build_extra(MachineState *ms)
{
    CloakMachineState *s = cloak_machine_state();
    unsigned cores = machine_topo_get_cores_per_socket(ms);

    for (unsigned socket = 0;
         s && s->smbios_cache_l1 && socket < ms->smp.sockets; socket++) {
        build_type_7(socket, 0, s->smbios_cache_l1 * cores,
                     s->smbios_cache_ways[0]);
        if (s->smbios_cache_l2) {
            build_type_7(socket, 1, s->smbios_cache_l2 * cores,
                         s->smbios_cache_ways[1]);
        }
        if (s->smbios_cache_l3) {
            build_type_7(socket, 2, s->smbios_cache_l3 * cores,
                         s->smbios_cache_ways[2]);
        }
    }
    build_profile_records(ms);
}
