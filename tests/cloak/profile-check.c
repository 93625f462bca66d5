/*
 * cloak-profile-check: load qemu-cloak profiles with the parser QEMU
 * uses (hw-cloak/cloak-profile.c) and print every value, per-VM templates
 * expanded for a seed.  Used by the unit tests; handy when writing a
 * profile.
 *
 *   cloak-profile-check [--seed SEED] FILE...
 *
 * Exit status 0 when every file is valid, 1 otherwise (the error names
 * file and line), 2 on bad usage.
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "cloak-profile.h"

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

    if (i + 1 < argc && !strcmp(argv[i], "--seed")) {
        seed = argv[i + 1];
        i += 2;
    }
    if (i >= argc) {
        fprintf(stderr, "usage: %s [--seed SEED] FILE...\n", argv[0]);
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
