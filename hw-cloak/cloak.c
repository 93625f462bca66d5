/*
 * qemu-cloak: the -cloak option, profile lookup, per-VM seed, and the
 * defaults the cloak gives the machine and its CPUs.
 *
 *   -cloak [mode=]on|off|strict[,profile=NAME|FILE][,seed=STRING]
 *   -cloak help
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/config-file.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/help_option.h"
#include "qemu/option.h"
#include "qemu/uuid.h"
#include "qom/object.h"
#include "hw/boards.h"
#include "hw/i386/x86.h"
#include "system/system.h"
#include "system/kvm.h"
#include "system/tcg.h"
#include "hw/cloak/cloak.h"
#include "hw/cloak/cloak-thermal.h"
#include "hw/cloak/cloak-internal.h"
#include "hw/cloak/cloak-keys.h"
#include "hw/cloak/device-identity.h"
#include "hw/cloak/cloak-config.h"

#define CLOAK_DEFAULT_PROFILE "dell-optiplex-7000"
#define CLOAK_PROFILE_SUFFIX ".conf"

QemuOptsList qemu_cloak_opts = {
    .name = "cloak",
    .implied_opt_name = "mode",
    .merge_lists = true,
    .head = QTAILQ_HEAD_INITIALIZER(qemu_cloak_opts.head),
    .desc = {
        {
            .name = "mode",
            .type = QEMU_OPT_STRING,
            .help = "on (default), off (stock QEMU) or strict (refuse to "
                    "start while an artifact would leak)",
        }, {
            .name = "profile",
            .type = QEMU_OPT_STRING,
            .help = "profile name or file (default " CLOAK_DEFAULT_PROFILE
                    ")",
        }, {
            .name = "seed",
            .type = QEMU_OPT_STRING,
            .help = "string per-VM values derive from (default: -uuid, "
                    "else -name)",
        },
        { /* end of list */ }
    },
};

CloakGlobal cloak;

bool cloak_is_enabled(void)
{
    return cloak.enabled;
}

const CloakProfile *cloak_profile(void)
{
    return cloak.profile;
}

const char *cloak_seed(void)
{
    return cloak.seed ? cloak.seed : "";
}

const char *cloak_value(const char *group, const char *key)
{
    g_autofree char *k = NULL;
    char *v;

    if (!cloak.profile || !cloak_profile_get(cloak.profile, group, key)) {
        return NULL;
    }
    k = g_strconcat(group, "/", key, NULL);
    v = g_hash_table_lookup(cloak.values, k);
    if (!v) {
        v = cloak_profile_expand(cloak.profile, group, key, cloak_seed());
        g_hash_table_insert(cloak.values, g_steal_pointer(&k), v);
    }
    return v;
}

uint64_t cloak_value_number(const char *group, const char *key,
                            uint64_t dflt)
{
    const char *v = cloak_value(group, key);
    uint64_t n = dflt;

    if (v) {
        qemu_strtou64(v, NULL, 0, &n);
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* Finding profiles                                                    */

/*
 * Directories searched for NAME.conf.  get_relocated_path() finds the
 * installed profiles next to the binary; a binary in its build tree finds
 * them in QEMU's qemu-bundle/, which links to the source tree.
 */
static GPtrArray *profile_dirs(void)
{
    GPtrArray *dirs = g_ptr_array_new_with_free_func(g_free);

    g_ptr_array_add(dirs, get_relocated_path(CLOAK_PROFILE_DIR));
    return dirs;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of all profiles found (without the suffix). */
static GPtrArray *profile_names(void)
{
    g_autoptr(GPtrArray) dirs = profile_dirs();
    GPtrArray *names = g_ptr_array_new_with_free_func(g_free);

    for (guint i = 0; i < dirs->len; i++) {
        g_autoptr(GDir) d = g_dir_open(dirs->pdata[i], 0, NULL);
        const char *f;

        while (d && (f = g_dir_read_name(d))) {
            g_autofree char *name = NULL;
            bool seen = false;

            if (!g_str_has_suffix(f, CLOAK_PROFILE_SUFFIX)) {
                continue;
            }
            name = g_strndup(f, strlen(f) - strlen(CLOAK_PROFILE_SUFFIX));
            for (guint j = 0; j < names->len; j++) {
                seen |= !strcmp(names->pdata[j], name);
            }
            if (!seen) {
                g_ptr_array_add(names, g_steal_pointer(&name));
            }
        }
    }
    g_ptr_array_sort(names, compare_names);
    return names;
}

static char *join_names(GPtrArray *a)
{
    GString *s = g_string_new(NULL);

    for (guint i = 0; i < a->len; i++) {
        g_string_append_printf(s, "%s%s", i ? ", " : "",
                               (const char *)a->pdata[i]);
    }
    return g_string_free(s, FALSE);
}

static CloakProfile *load_profile(const char *spec, Error **errp)
{
    g_autoptr(GError) gerr = NULL;
    g_autofree char *path = NULL;
    g_autofree char *name = NULL;
    CloakProfile *p;

    if (strchr(spec, '/') || g_str_has_suffix(spec, CLOAK_PROFILE_SUFFIX)) {
        /* A file: its name is the profile's name. */
        char *dot;

        path = g_strdup(spec);
        name = g_path_get_basename(spec);
        dot = strrchr(name, '.');
        if (dot && dot != name) {
            *dot = '\0';
        }
    } else {
        g_autoptr(GPtrArray) dirs = profile_dirs();

        for (guint i = 0; i < dirs->len && !path; i++) {
            g_autofree char *f = g_strconcat(dirs->pdata[i], "/", spec,
                                             CLOAK_PROFILE_SUFFIX, NULL);

            if (g_file_test(f, G_FILE_TEST_IS_REGULAR)) {
                path = g_steal_pointer(&f);
            }
        }
        if (!path) {
            g_autoptr(GPtrArray) names = profile_names();
            g_autofree char *known = join_names(names);
            g_autofree char *searched = join_names(dirs);

            error_setg(errp, "-cloak: unknown profile '%s'; known profiles: "
                       "%s (searched %s)", spec,
                       names->len ? known : "none", searched);
            return NULL;
        }
        name = g_strdup(spec);
    }
    cloak_profile_set_device_keys(cloak_device_identity_keys);
    p = cloak_profile_load_file(name, path, &gerr);
    if (!p) {
        error_setg(errp, "-cloak: profile %s", gerr->message);
    }
    return p;
}

/* ------------------------------------------------------------------ */
/* The option                                                          */

static void list_profiles(void)
{
    g_autoptr(GPtrArray) names = profile_names();
    g_autoptr(GPtrArray) dirs = profile_dirs();
    g_autofree char *searched = join_names(dirs);

    printf("Cloak profiles (searched %s):\n", searched);
    for (guint i = 0; i < names->len; i++) {
        g_autoptr(CloakProfile) p = NULL;
        Error *local_err = NULL;

        p = load_profile(names->pdata[i], &local_err);
        if (!p) {
            printf("  %-24s (broken: %s)\n", (char *)names->pdata[i],
                   error_get_pretty(local_err));
            error_free(local_err);
            continue;
        }
        printf("  %-24s %s%s\n", (char *)names->pdata[i],
               cloak_profile_get(p, "profile", "description") ?: "",
               strcmp(names->pdata[i], CLOAK_DEFAULT_PROFILE) ? "" :
               " (default)");
    }
    printf("Use -cloak profile=NAME or -cloak profile=/path/to/FILE.conf; "
           "-cloak off gives stock QEMU.\n");
}

void cloak_option_parse(const char *optarg)
{
    QemuOpts *opts;

    if (is_help_option(optarg)) {
        list_profiles();
        exit(0);
    }
    opts = qemu_opts_parse_noisily(&qemu_cloak_opts, optarg, true);
    if (!opts) {
        exit(1);
    }
}

static bool read_options(Error **errp)
{
    QemuOpts *opts = qemu_opts_find(&qemu_cloak_opts, NULL);
    const char *mode = opts ? qemu_opt_get(opts, "mode") : NULL;
    const char *seed = opts ? qemu_opt_get(opts, "seed") : NULL;
    const char *profile = opts ? qemu_opt_get(opts, "profile") : NULL;

    if (!mode || !strcmp(mode, "on")) {
        cloak.strict = false;
    } else if (!strcmp(mode, "strict")) {
        cloak.strict = true;
    } else if (!strcmp(mode, "off")) {
        cloak.off = true;
        if (profile || seed) {
            error_setg(errp, "-cloak off cannot take profile= or seed=");
            return false;
        }
        return true;
    } else {
        error_setg(errp, "-cloak: mode must be on, off or strict, not '%s'",
                   mode);
        return false;
    }
    cloak.profile_spec = g_strdup(profile ? profile : CLOAK_DEFAULT_PROFILE);
    if (seed) {
        if (!*seed) {
            error_setg(errp, "-cloak seed= must not be empty");
            return false;
        }
        cloak.seed = g_strdup(seed);
        cloak.seed_source = "-cloak seed=";
    }
    return true;
}

/* -uuid, else -name; with neither every VM would look the same. */
static void choose_seed(void)
{
    if (cloak.seed) {
        return;
    }
    if (qemu_uuid_set) {
        cloak.seed = qemu_uuid_unparse_strdup(&qemu_uuid);
        cloak.seed_source = "-uuid";
    } else if (qemu_name) {
        cloak.seed = g_strconcat("name:", qemu_name, NULL);
        cloak.seed_source = "-name";
    } else {
        cloak.seed = g_strdup("");
        cloak.seed_source = NULL;
    }
}

/* A real PC has a system UUID; derive one when -uuid is absent. */
static void derive_uuid(void)
{
    uint8_t b[16];

    if (qemu_uuid_set) {
        return;
    }
    cloak_derive_bytes(cloak_seed(), "system/uuid", b, sizeof(b));
    b[6] = (b[6] & 0x0f) | 0x40;    /* version 4 */
    b[8] = (b[8] & 0x3f) | 0x80;    /* RFC 4122 variant */
    memcpy(qemu_uuid.data, b, sizeof(b));
    qemu_uuid_set = true;
}

/* ------------------------------------------------------------------ */
/* Machine defaults                                                    */

static void set_machine_default(MachineState *ms, const char *prop,
                                const char *value, Error **errp)
{
    if (!value || !object_property_find(OBJECT(ms), prop)) {
        return;
    }
    object_property_parse(OBJECT(ms), prop, value, errp);
}

/* ACPI IDs are space-padded by real firmware, not NUL-padded. */
static char *padded(const char *s, size_t width)
{
    return s ? g_strdup_printf("%-*s", (int)width, s) : NULL;
}

static void apply_machine_defaults(MachineState *ms, Error **errp)
{
    g_autofree char *oem_id = padded(cloak_value("acpi", "oem-id"), 6);
    g_autofree char *oem_table_id = padded(cloak_value("acpi",
                                                       "oem-table-id"), 8);
    ERRP_GUARD();

    /* What the cloak changes whatever the profile says. */
    set_machine_default(ms, "vmport", "off", errp);
    set_machine_default(ms, "acpi-waet", "off", errp);
    set_machine_default(ms, "acpi-fw-cfg", "off", errp);
    set_machine_default(ms, "acpi-legacy-devices", "on", errp);
    set_machine_default(ms, "smbios-vm", "off", errp);
    set_machine_default(ms, "smbios-cpu-characteristics", "0", errp);

    set_machine_default(ms, "x-oem-id", oem_id, errp);
    set_machine_default(ms, "x-oem-table-id", oem_table_id, errp);
    /* The profile keys hw/cloak/cloak-keys.h sends to machine properties. */
    for (size_t i = 0; i < cloak_profile_key_count && !*errp; i++) {
        const CloakKeySpec *k = &cloak_profile_key_table[i];

        if (k->to.machine_property) {
            set_machine_default(ms, k->to.machine_property,
                                cloak_value(k->group, k->key), errp);
        }
    }
    if (*errp) {
        error_prepend(errp, "-cloak: profile %s: ",
                      cloak_profile_name(cloak.profile));
    }
}

void cloak_machine_created(MachineState *ms, Error **errp)
{
    ERRP_GUARD();

    if (!read_options(errp) || cloak.off) {
        return;
    }
    /* -machine none (libvirt's probe) and non-PC machines stay stock. */
    if (!object_dynamic_cast(OBJECT(ms), TYPE_X86_MACHINE)) {
        return;
    }
    cloak.profile = load_profile(cloak.profile_spec, errp);
    if (!cloak.profile) {
        return;
    }
    cloak.values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                         g_free);
    cloak.enabled = true;
    choose_seed();
    derive_uuid();
    apply_machine_defaults(ms, errp);
    if (*errp ||
        !cloak_device_identity_register(cloak.profile, cloak_seed(), errp)) {
        return;
    }
    cloak_strict_register();
    cloak_thermal_init();
}

/* ------------------------------------------------------------------ */
/* CPU defaults                                                        */

/* The abstract x86 CPU type every model derives from. */
static const char *base_cpu_type(const char *cpu_type)
{
    ObjectClass *oc = object_class_by_name(cpu_type);

    while (oc) {
        ObjectClass *parent = object_class_get_parent(oc);

        if (parent && !strcmp(object_class_get_name(parent), TYPE_CPU)) {
            return object_class_get_name(oc);
        }
        oc = parent;
    }
    return NULL;
}

/*
 * The brand for this topology: the profile's model-id-<C>c<T>t that
 * matches cores and threads per socket, else the nearest thread count.
 */
static void choose_brand(MachineState *ms)
{
    unsigned cores = machine_topo_get_cores_per_socket(ms);
    unsigned threads = machine_topo_get_threads_per_socket(ms);
    g_autofree char *exact = g_strdup_printf("model-id-%uc%ut", cores,
                                             threads);
    const char *best = NULL;
    unsigned best_dist = UINT_MAX;

    cloak.topology = g_strdup_printf("%u core%s, %u thread%s per socket, "
                                     "%u socket%s", cores,
                                     cores == 1 ? "" : "s", threads,
                                     threads == 1 ? "" : "s",
                                     ms->smp.sockets,
                                     ms->smp.sockets == 1 ? "" : "s");
    if (cloak_profile_get(cloak.profile, "cpu", exact)) {
        cloak.brand = cloak_value("cpu", exact);
        cloak.brand_fits = ms->smp.sockets == 1;
        cloak.cpu_choice = g_strdup(exact + strlen("model-id-"));
        return;
    }
    for (const char *const *k = cloak_profile_keys(cloak.profile, "cpu");
         *k; k++) {
        unsigned c, t, dist;

        if (sscanf(*k, "model-id-%uc%ut", &c, &t) != 2) {
            continue;
        }
        dist = t >= threads ? t - threads : 2 * (threads - t);
        if (dist < best_dist) {
            best_dist = dist;
            best = *k;
        }
    }
    cloak.brand = best ? cloak_value("cpu", best) : NULL;
    cloak.brand_fits = false;
    cloak.cpu_choice = best ? g_strdup(best + strlen("model-id-")) : NULL;
}

const char *cloak_cpu_value(const char *key)
{
    /* -cpu host shows the host's part, not one of the profile's models */
    if (cloak.cpu_choice && !cloak.cpu_passthrough) {
        g_autofree char *k = g_strdup_printf("%s-%s", key, cloak.cpu_choice);
        const char *v = cloak_value("cpu", k);

        if (v) {
            return v;
        }
    }
    return cloak_value("cpu", key);
}

/* Each name in a comma-separated list of CPU features on @base. */
static void register_cpu_flags(const char *base, const char *list)
{
    g_auto(GStrv) names = list ? g_strsplit(list, ",", -1) : NULL;

    for (size_t i = 0; names && names[i]; i++) {
        object_register_sugar_prop(base, names[i], "on", false);
    }
}

/*
 * Microcode revision, IA32_ARCH_CAPABILITIES and the CPUID flags of the
 * real part: the guest kernel picks its mitigations from them, so they
 * decide both its vulnerability report and what each syscall costs.
 */
static void register_cpu_capabilities(const char *base, const char *vendor)
{
    g_autofree char *own = cloak.cpu_choice ?
        g_strdup_printf("microcode-%s", cloak.cpu_choice) : NULL;
    const char *caps = cloak_cpu_value("arch-capabilities");
    uint64_t rev;

    if ((own && cloak_profile_get_u64(cloak.profile, "cpu", own, &rev)) ||
        cloak_profile_get_u64(cloak.profile, "cpu", "microcode", &rev)) {
        g_autofree char *v = NULL;

        /* Intel keeps the revision in EDX (bits 63:32), AMD in EAX */
        if (vendor && !strcmp(vendor, "GenuineIntel")) {
            rev <<= 32;
        }
        v = g_strdup_printf("%" PRIu64, rev);
        object_register_sugar_prop(base, "ucode-rev", v, false);
    }
    if (caps) {
        object_register_sugar_prop(base, "arch-capabilities", "on", false);
        register_cpu_flags(base, caps);
    }
    register_cpu_flags(base, cloak_cpu_value("features"));
}

void cloak_register_cpu_defaults(MachineState *ms, const char *cpu_option,
                                 Error **errp)
{
    static const char *const hide[][2] = {
        { "hypervisor", "off" },            /* CPUID.1:ECX[31] */
        { "kvm", "off" },                   /* KVMKVMKVM leaves, PV bits */
        { "kvm-pv-enforce-cpuid", "on" },   /* PV MSRs #GP when hidden */
        { "tcg-cpuid", "off" },             /* TCGTCGTCGTCG leaf */
        { "vmware-cpuid-freq", "off" },     /* leaf 0x40000010 */
    };
    static const char *const identity[][2] = {
        { "vendor", "vendor" }, { "family", "family" },
        { "model", "model" }, { "stepping", "stepping" },
    };
    g_autofree char *model = NULL;
    const char *base, *vendor;

    if (!cloak.enabled || !ms->cpu_type) {
        return;
    }
    base = base_cpu_type(ms->cpu_type);
    if (!base) {
        return;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(hide); i++) {
        object_register_sugar_prop(base, hide[i][0], hide[i][1], true);
    }
    choose_brand(ms);

    /*
     * -cpu host (and max, which is host under KVM) shows the host's own
     * vendor, family and brand: genuine, and consistent with the features
     * the guest sees.  Every other model gets the profile's CPU.
     */
    model = cpu_option ? g_strndup(cpu_option, strcspn(cpu_option, ","))
                       : NULL;
    if (model && (!strcmp(model, "host") ||
                  (!strcmp(model, "max") && !tcg_enabled()))) {
        cloak.cpu_passthrough = true;
        return;
    }
    for (size_t i = 0; i < G_N_ELEMENTS(identity); i++) {
        const char *v = cloak_cpu_value(identity[i][1]);

        if (v) {
            object_register_sugar_prop(base, identity[i][0], v, false);
        }
    }
    if (cloak.brand) {
        object_register_sugar_prop(base, "model-id", cloak.brand, false);
    }
    /* An Intel CPU has no SVM and an AMD one no VMX (qemu64 has SVM). */
    vendor = cloak_value("cpu", "vendor");
    if (vendor && !strcmp(vendor, "GenuineIntel")) {
        object_register_sugar_prop(base, "svm", "off", true);
    } else if (vendor && !strcmp(vendor, "AuthenticAMD")) {
        object_register_sugar_prop(base, "vmx", "off", true);
    }
    register_cpu_capabilities(base, vendor);
}
