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

static char *value_text(const char *kind, uint64_t min, uint64_t max)
{
    g_autofree char *lo = number(min);
    g_autofree char *hi = number(max);

    if (!strcmp(kind, "STRING")) {
        return g_strdup_printf("text, templates, up to %" PRIu64 " chars",
                               max ? max : CLOAK_PROFILE_MAX_STRING);
    } else if (!strcmp(kind, "NUMBER")) {
        return g_strdup_printf("number %s..%s", lo, hi);
    } else if (!strcmp(kind, "ASCII_ID")) {
        return min == max ? g_strdup_printf("ID of %" PRIu64 " chars", min)
                          : g_strdup_printf("ID of %" PRIu64 "..%" PRIu64
                                            " chars", min, max);
    } else if (!strcmp(kind, "DATE")) {
        return g_strdup("MM/DD/YYYY");
    } else if (!strcmp(kind, "RELEASE")) {
        return g_strdup("MAJOR.MINOR");
    } else if (!strcmp(kind, "OUI")) {
        return g_strdup("OUI XX:XX:XX");
    }
    return g_strdup("QEMU feature names");
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

#define CLOAK_TO_SMBIOS(type, option) \
    g_strdup_printf("`-smbios type=%d,%s=`", type, option)
#define CLOAK_TO_MACHINE(property) g_strdup_printf("`-machine %s=`", property)
#define CLOAK_TO_CODE g_strdup("the cloak's code")
#define PRINT_KEY(group, key, kind, min, max, per_model, dest) \
    {                                                                   \
        g_autofree char *k = key_text(key, per_model);                  \
        g_autofree char *v = value_text(#kind, min, max);               \
        g_autofree char *d = dest;                                      \
                                                                        \
        printf("| `[%s]` | %s | %s | %s |\n", group, k, v, d);           \
    }

static void print_keys(void)
{
    CLOAK_PROFILE_KEYS(PRINT_KEY)
}

static const char *const groups[] = {
    "profile", "identity", "bios", "system", "board", "chassis", "cpu",
    "memory", "acpi", "net", "devices", NULL
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
