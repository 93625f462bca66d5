/*
 * cloak-profile-check: load qemu-cloak profiles with the parser QEMU
 * uses (hw-cloak/cloak-profile.c) and print every value, per-VM templates
 * expanded for a seed.  Used by the unit tests; handy when writing a
 * profile.
 *
 *   cloak-profile-check [--seed SEED] FILE...
 *   cloak-profile-check --keys
 *
 * Exit status 0 when every file is valid, 1 otherwise (the error names
 * file and line), 2 on bad usage.  --keys prints the key reference of
 * docs/cloak.md as the key list (hw/cloak/cloak-keys.h) defines it: one
 * Markdown table row per key, without the docs' last column (meaning).
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/cloak/cloak-profile.h"
#include "hw/cloak/cloak-keys.h"

/* A number as the docs write it: small ones decimal, the rest 0x-hex. */
static char *number(uint64_t n)
{
    return n < 10 ? g_strdup_printf("%" PRIu64, n)
                  : g_strdup_printf("0x%" PRIx64, n);
}

static char *value_text(const CloakKeySpec *k)
{
    g_autofree char *lo = number(k->min);
    g_autofree char *hi = number(k->max);

    switch (k->kind) {
    case CLOAK_VALUE_STRING:
        return g_strdup_printf("text, templates, up to %" PRIu64 " chars",
                               k->max ? k->max : CLOAK_PROFILE_MAX_STRING);
    case CLOAK_VALUE_NUMBER:
        return g_strdup_printf("number %s..%s", lo, hi);
    case CLOAK_VALUE_ASCII_ID:
        return k->min == k->max
            ? g_strdup_printf("ID of %" PRIu64 " chars", k->min)
            : g_strdup_printf("ID of %" PRIu64 "..%" PRIu64 " chars",
                              k->min, k->max);
    case CLOAK_VALUE_DATE:
        return g_strdup("MM/DD/YYYY");
    case CLOAK_VALUE_RELEASE:
        return g_strdup("MAJOR.MINOR");
    case CLOAK_VALUE_OUI:
        return g_strdup("OUI XX:XX:XX");
    case CLOAK_VALUE_FLAGS:
        return g_strdup("QEMU feature names");
    case CLOAK_VALUE_ACPI_NAMES:
        return k->max == 1 ? g_strdup("ACPI name[:UID]")
                           : g_strdup_printf("%s..%s ACPI name[:UID]", lo, hi);
    case CLOAK_VALUE_TEMPLATE:
    case CLOAK_VALUE_RECORD:
        break;
    }
    return g_strdup("template");
}

static char *dest_text(const CloakKeyDest *to)
{
    if (to->smbios_option) {
        return g_strdup_printf("`-smbios type=%d,%s=`", to->smbios_type,
                               to->smbios_option);
    }
    if (to->machine_property) {
        return g_strdup_printf("`-machine %s=`", to->machine_property);
    }
    return g_strdup("the cloak's code");
}

static char *key_text(const char *key, int per_model)
{
    switch (per_model) {
    case CLOAK_KEY_PER_MODEL:
        return g_strdup_printf("`%s`, `%s-<C>c<T>t`", key, key);
    case CLOAK_KEY_MODEL_ONLY:
        return g_strdup_printf("`%s-<C>c<T>t`", key);
    }
    return g_strdup_printf("`%s`", key);
}

static void print_keys(void)
{
    for (size_t i = 0; i < cloak_profile_key_count; i++) {
        const CloakKeySpec *k = &cloak_profile_key_table[i];
        g_autofree char *key = key_text(k->key, k->per_model);
        g_autofree char *value = value_text(k);
        g_autofree char *to = dest_text(&k->to);

        printf("| `[%s]` | %s | %s | %s |\n", k->group, key, value, to);
    }
    for (size_t i = 0; i < cloak_smbios_record_count; i++) {
        const CloakSmbiosRecord *r = &cloak_smbios_record_table[i];
        g_auto(GStrv) spec = g_strsplit(r->fields, " ", -1);
        g_autoptr(GString) fields = g_string_new("record: ");

        for (size_t f = 0; spec[f]; f++) {
            static const char *const kinds[] = {
                ['s'] = "text", ['b'] = "byte", ['w'] = "word",
                ['d'] = "dword", ['x'] = "hex bytes", ['v'] = "texts"
            };

            g_string_append_printf(fields, "%s%s %s", f ? ", " : "",
                                   kinds[(unsigned char)spec[f][0]],
                                   spec[f] + 2);
        }
        if (r->type) {
            printf("| `[smbios]` | `%s-<n>` | %s | SMBIOS type %d |\n",
                   r->name, fields->str, r->type);
        } else {
            printf("| `[smbios]` | `%s-<n>` | %s | SMBIOS, the type given |\n",
                   r->name, fields->str);
        }
    }
}

static const char *const groups[] = {
    "profile", "identity", "bios", "system", "board", "chassis", "cpu",
    "memory", "acpi", "net", "devices", "smbios", NULL
};

static void dump(const CloakProfile *p, const char *seed)
{
    for (const char *const *g = groups; *g; g++) {
        for (const char *const *k = cloak_profile_keys(p, *g); *k; k++) {
            g_autofree char *v = cloak_profile_expand(p, *g, *k, seed);

            printf("%s.%s=%s\n", *g, *k, v);
        }
    }
}

int main(int argc, char **argv)
{
    const char *seed = "";
    int status = 0;
    int i = 1;

    if (argc == 2 && !strcmp(argv[1], "--keys")) {
        print_keys();
        return 0;
    }
    if (i + 1 < argc && !strcmp(argv[i], "--seed")) {
        seed = argv[i + 1];
        i += 2;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: %s [--seed SEED] FILE...\n"
                "       %s --keys\n", argv[0], argv[0]);
        return 2;
    }
    for (; i < argc; i++) {
        g_autoptr(GError) err = NULL;
        g_autofree char *base = g_path_get_basename(argv[i]);
        char *dot = strrchr(base, '.');
        g_autoptr(CloakProfile) p = NULL;

        if (dot) {
            *dot = '\0';
        }
        p = cloak_profile_load_file(base, argv[i], &err);
        if (!p) {
            fprintf(stderr, "%s\n", err->message);
            status = 1;
            continue;
        }
        dump(p, seed);
    }
    return status;
}
