/*
 * libFuzzer target for the qemu-cloak profile parser: any byte string
 * must either parse or be refused with an error, never crash, hang or
 * leak; a parsed profile must expand every key for any seed.
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/cloak/cloak-profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const groups[] = {
        "profile", "identity", "bios", "system", "board", "chassis", "cpu",
        "memory", "acpi", "net", "devices", NULL
    };
    g_autoptr(GError) err = NULL;
    g_autoptr(CloakProfile) p = cloak_profile_parse("fuzz", "fuzz.conf",
                                                    (const char *)data, size,
                                                    &err);

    if (!p) {
        /* Every refusal must say where. */
        if (!err || !g_str_has_prefix(err->message, "fuzz.conf:")) {
            abort();
        }
        return 0;
    }
    for (const char *const *g = groups; *g; g++) {
        for (const char *const *k = cloak_profile_keys(p, *g); *k; k++) {
            g_autofree char *v = cloak_profile_expand(p, *g, *k, "seed");

            /* feature lists are the only longer values */
            if (!v || strlen(v) > MAX(CLOAK_PROFILE_MAX_STRING,
                                      CLOAK_PROFILE_MAX_FLAGS)) {
                abort();
            }
        }
    }
    return 0;
}
