/*
 * qemu-cloak strict mode: once the machine is complete, look for every
 * artifact the cloak knows of and refuse to start while any would leak,
 * naming each one and the setting responsible.
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-types-common.h"
#include "qobject/qlist.h"
#include "qobject/qstring.h"
#include "qom/qom-qobject.h"
#include "qemu/datadir.h"
#include "qemu/error-report.h"
#include "qom/object.h"
#include "hw/boards.h"
#include "hw/core/cpu.h"
#include "hw/firmware/smbios.h"
#include "hw/smbios/smbios_build.h"
#include "hw/pci/pci_device.h"
#include "hw/usb.h"
#include "hw/usb/desc.h"
#include "system/kvm.h"
#include "system/system.h"
#include "system/tcg.h"
#include "hw/cloak/cloak.h"
#include "hw/cloak/cloak-internal.h"
#include "hw/cloak/cloak-machine.h"
#include "hw/cloak/device-identity.h"

/* Strings that name QEMU, Bochs or SeaBIOS wherever a guest reads them. */
static const char *const needles[] = {
    "QEMU", "Bochs", "BOCHS", "BXPC", "SeaBIOS", "Standard PC", "pc-q35",
    "pc-i440fx", "KVMKVMKVM", "TCGTCGTCGTCG",
};

static GPtrArray *leaks;

static void G_GNUC_PRINTF(1, 2) leak(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    g_ptr_array_add(leaks, g_strdup_vprintf(fmt, ap));
    va_end(ap);
}

static const char *find_needle(const void *data, size_t len)
{
    for (size_t i = 0; i < G_N_ELEMENTS(needles); i++) {
        if (memmem(data, len, needles[i], strlen(needles[i]))) {
            return needles[i];
        }
    }
    return NULL;
}

/* ------------------------------------------------------------------ */

static void check_seed(void)
{
    if (!cloak.seed_source) {
        leak("no -uuid, -name or -cloak seed=: serial numbers and MACs "
             "would be the same in every VM of profile %s",
             cloak_profile_name(cloak.profile));
    }
}

static bool cpu_bool(Object *cpu, const char *prop)
{
    return object_property_find(cpu, prop) &&
           object_property_get_bool(cpu, prop, NULL);
}

/*
 * A feature the profile claims but the accelerator filtered out (KVM on
 * a host without it) makes the CPU contradict its own model: microcode
 * and capability bits that promise mitigations the guest cannot use.
 */
static void check_cpu_claims(Object *cpu)
{
    QObject *q = object_property_get_qobject(cpu, "unavailable-features",
                                             NULL);
    QList *list = q ? qobject_to(QList, q) : NULL;
    g_autoptr(GString) names = g_string_new(NULL);
    QListEntry *e;

    if (!list) {
        qobject_unref(q);
        return;
    }
    QLIST_FOREACH_ENTRY(list, e) {
        QString *name = qobject_to(QString, qlist_entry_obj(e));

        if (name) {
            g_string_append_printf(names, "%s%s", names->len ? ", " : "",
                                   qstring_get_str(name));
        }
    }
    qobject_unref(q);
    if (names->len) {
        leak("profile %s claims CPU features that %s cannot give this "
             "guest: %s (see docs/cloak.md, \"The CPU\")",
             cloak_profile_name(cloak.profile),
             kvm_enabled() ? "KVM on this host" : "this accelerator",
             names->str);
    }
}

static void check_cpu(void)
{
    Object *cpu = first_cpu ? OBJECT(first_cpu) : NULL;
    g_autofree char *brand = NULL;
    ObjectPropertyIterator iter;
    ObjectProperty *prop;

    if (!cpu) {
        return;
    }
    if (cpu_bool(cpu, "hypervisor")) {
        leak("-cpu ...,hypervisor=on sets CPUID.1:ECX[31], the hypervisor "
             "bit, which -cloak turns off");
    }
    object_property_iter_init(&iter, cpu);
    while ((prop = object_property_iter_next(&iter))) {
        if (g_str_has_prefix(prop->name, "hv-") &&
            !strcmp(prop->type, "bool") && cpu_bool(cpu, prop->name)) {
            leak("-cpu ...,%s=on (a Hyper-V enlightenment) contradicts "
                 "-cloak's hypervisor=off: it puts \"Microsoft Hv\" at "
                 "CPUID 0x40000000", prop->name);
        }
    }
    if (object_property_find(cpu, "hv-spinlocks") &&
        object_property_get_uint(cpu, "hv-spinlocks", NULL) != UINT32_MAX) {
        leak("-cpu ...,hv-spinlocks=N (a Hyper-V enlightenment) contradicts "
             "-cloak's hypervisor=off");
    }
    if (kvm_enabled() && cpu_bool(cpu, "kvm")) {
        leak("-cpu ...,kvm=on answers CPUID 0x40000000 with KVMKVMKVM");
    }
    if (kvm_enabled() && !cpu_bool(cpu, "kvm-pv-enforce-cpuid")) {
        leak("-cpu ...,kvm-pv-enforce-cpuid=off lets the hidden KVM "
             "paravirtual MSRs answer");
    }
    if (kvm_enabled() && cpu_bool(cpu, "vmware-cpuid-freq")) {
        leak("-cpu ...,vmware-cpuid-freq=on answers CPUID 0x40000010");
    }
    if (tcg_enabled() && cpu_bool(cpu, "tcg-cpuid")) {
        leak("-cpu ...,tcg-cpuid=on answers CPUID 0x40000000 with "
             "TCGTCGTCGTCG");
    }
    brand = object_property_get_str(cpu, "model-id", NULL);
    if (brand && (find_needle(brand, strlen(brand)) ||
                  strstr(brand, "Virtual CPU") ||
                  strstr(brand, "Common KVM") || strstr(brand, "TCG"))) {
        leak("CPU brand \"%s\" names a virtual CPU (-cpu ...,model-id=)",
             brand);
    }
    if (!cloak.cpu_passthrough) {
        check_cpu_claims(cpu);
    }
    if (!cloak.cpu_passthrough && !cloak.brand_fits) {
        leak("profile %s has no CPU brand for %s (add model-id-<C>c<T>t to "
             "its [cpu] group, or change -smp)",
             cloak_profile_name(cloak.profile), cloak.topology);
    }
}

static void check_machine(MachineState *ms)
{
    CloakMachineState *s = cloak_machine_state();
    Object *m = OBJECT(ms);
    g_autofree char *oem_id = object_property_get_str(m, "x-oem-id", NULL);
    g_autofree char *table_id = object_property_get_str(m, "x-oem-table-id",
                                                        NULL);
    const char *n;
    g_autofree char *vmport = object_property_find(m, "vmport") ?
        object_property_print(m, "vmport", false, NULL) : NULL;

    if (vmport && !strcmp(vmport, "on")) {
        leak("-machine vmport=on: the VMware backdoor port 0x5658 answers");
    }
    n = oem_id ? find_needle(oem_id, strlen(oem_id)) : NULL;
    if (n) {
        leak("-machine x-oem-id=%s puts %s in every ACPI table", oem_id, n);
    }
    n = table_id ? find_needle(table_id, strlen(table_id)) : NULL;
    if (n) {
        leak("-machine x-oem-table-id=%s puts %s in every ACPI table",
             table_id, n);
    }
    if (find_needle(s->acpi_creator_id, 4)) {
        leak("-machine acpi-creator-id=%s names QEMU's ACPI builder",
             s->acpi_creator_id);
    }
    if (s->acpi_waet) {
        leak("-machine acpi-waet=on builds the WAET table, which only "
             "hypervisors have");
    }
    if (s->acpi_fw_cfg) {
        leak("-machine acpi-fw-cfg=on describes fw_cfg (FWCF, QEMU0002) in "
             "the DSDT");
    }
    if (!s->acpi_legacy_devices) {
        leak("-machine acpi-legacy-devices=off: no PIT (PNP0100), PIC or "
             "DMA controller in the DSDT, which every PC has");
    }
    if (s->acpi_pm_profile == 0) {
        leak("-machine acpi-pm-profile=0: FADT Preferred_PM_Profile "
             "'unspecified'");
    }
    if (s->acpi_plvl2_lat == 0xfff || s->acpi_plvl3_lat == 0xfff) {
        leak("-machine acpi-plvl2-lat/acpi-plvl3-lat=0xfff, QEMU's FADT "
             "C-state latencies");
    }
    if (s->smbios_vm) {
        leak("-machine smbios-vm=on sets the SMBIOS 'virtual machine' bit");
    }
    if (!s->mac_oui) {
        leak("-machine mac-oui= is empty: NICs keep QEMU's 52:54:00");
    }
}

/* Walks the SMBIOS structures QEMU built. */
static void check_smbios(void)
{
    GHashTable *handles = g_hash_table_new(NULL, NULL);
    GPtrArray *refs = g_ptr_array_new();
    bool have_type0 = false;
    size_t off = 0;

    while (off + sizeof(struct smbios_structure_header) <=
           smbios_tables_len) {
        struct smbios_structure_header *h =
            (void *)(smbios_tables + off);
        const uint8_t *f = smbios_tables + off;
        size_t end = off + h->length;
        const char *n;

        if (h->length < sizeof(*h) || end > smbios_tables_len) {
            break;
        }
        while (end + 1 < smbios_tables_len &&
               (smbios_tables[end] || smbios_tables[end + 1])) {
            end++;
        }
        end += 2;
        g_hash_table_add(handles, GUINT_TO_POINTER(h->handle));
        n = find_needle(smbios_tables + off, end - off);
        if (n) {
            leak("SMBIOS type %u (handle 0x%04x) contains \"%s\" (-smbios "
                 "type=%u,...)", h->type, h->handle, n, h->type);
        }
        switch (h->type) {
        case 0:
            have_type0 = true;
            if (h->length > 0x13 && (f[0x13] & 0x10)) {
                leak("SMBIOS type 0 has the 'virtual machine' bit set");
            }
            break;
        case 2:
            if (h->length >= 0x0d) {
                g_ptr_array_add(refs, GUINT_TO_POINTER(lduw_le_p(f + 0x0b)));
            }
            break;
        case 3:
            if (h->length > 5 && ((f[5] & 0x7f) == 1 || (f[5] & 0x7f) == 2)) {
                leak("SMBIOS chassis type %u ('%s'), which VMs report "
                     "(-machine smbios-chassis-type=)", f[5] & 0x7f,
                     (f[5] & 0x7f) == 1 ? "Other" : "Unknown");
            }
            break;
        case 4:
            for (int i = 0; i < 3 && h->length >= 0x20; i++) {
                g_ptr_array_add(refs,
                                GUINT_TO_POINTER(lduw_le_p(f + 0x1a + 2 * i)));
            }
            break;
        case 17:
        case 19:
            g_ptr_array_add(refs, GUINT_TO_POINTER(lduw_le_p(f + 4)));
            break;
        }
        off = end;
    }
    if (!have_type0) {
        leak("no SMBIOS type 0 from QEMU: the firmware's own (SeaBIOS, VM "
             "bit set) would be used");
    }
    for (guint i = 0; i < refs->len; i++) {
        unsigned h = GPOINTER_TO_UINT(refs->pdata[i]);

        if (h < 0xfffe && !g_hash_table_contains(handles, refs->pdata[i])) {
            leak("an SMBIOS structure refers to handle 0x%04x, which does "
                 "not exist", h);
        }
    }
    g_ptr_array_free(refs, TRUE);
    g_hash_table_destroy(handles);
}

static const char *device_name(Object *obj)
{
    DeviceState *dev = (DeviceState *)object_dynamic_cast(obj, TYPE_DEVICE);

    return dev && dev->id ? dev->id : object_get_canonical_path(obj);
}

static int check_nic(Object *obj, void *opaque)
{
    g_autofree char *mac = NULL;

    if (object_dynamic_cast(obj, TYPE_DEVICE) &&
        object_property_find(obj, "mac")) {
        mac = object_property_get_str(obj, "mac", NULL);
    }
    if (mac && g_str_has_prefix(mac, "52:54:00")) {
        leak("NIC %s (%s) has mac=%s, QEMU's prefix", device_name(obj),
             object_get_typename(obj), mac);
    }
    return 0;
}

/* SeaBIOS keeps its name and QEMU's in the ROM image a guest can read. */
static void check_firmware(MachineState *ms)
{
    g_autofree char *path = NULL;
    g_autofree char *data = NULL;
    gsize len;
    const char *n;

    if (!ms->firmware) {
        return;
    }
    path = qemu_find_file(QEMU_FILE_TYPE_BIOS, ms->firmware);
    if (!path || !g_file_get_contents(path, &data, &len, NULL)) {
        return;
    }
    n = find_needle(data, len);
    if (n) {
        leak("firmware %s contains \"%s\", readable in the guest's BIOS "
             "area (leave -bios out for qemu-cloak's cleaned SeaBIOS)",
             path, n);
    }
}

static void strict_check(Notifier *notifier, void *data)
{
    MachineState *ms = current_machine;
    g_autoptr(GPtrArray) devices = NULL;

    leaks = g_ptr_array_new_with_free_func(g_free);
    check_seed();
    check_cpu();
    check_machine(ms);
    check_smbios();
    /* The device identity code knows every device's defaults. */
    devices = cloak_device_identity_leaks();
    for (guint i = 0; i < devices->len; i++) {
        leak("%s", (char *)devices->pdata[i]);
    }
    object_child_foreach_recursive(OBJECT(ms), check_nic, NULL);
    check_firmware(ms);
    if (leaks->len) {
        error_report("-cloak strict: %u artifact%s would leak with profile "
                     "%s:", leaks->len, leaks->len == 1 ? "" : "s",
                     cloak_profile_name(cloak.profile));
        for (guint i = 0; i < leaks->len; i++) {
            error_printf("  - %s\n", (char *)leaks->pdata[i]);
        }
        exit(1);
    }
    g_ptr_array_free(leaks, TRUE);
}

static Notifier strict_notifier = { .notify = strict_check };

void cloak_strict_register(void)
{
    if (cloak.strict) {
        qemu_add_machine_init_done_notifier(&strict_notifier);
    }
}
