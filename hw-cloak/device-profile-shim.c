/*
 * qemu-cloak: stand-in for the profile accessors until the cloak branch lands
 *
 * device-identity.c reads profiles through cloak_profile_get(),
 * cloak_profile_expand(), cloak_template_expand() and cloak_seed(), which
 * hw/cloak/cloak-profile.c and hw/cloak/cloak.c (branch "cloak") define.
 * These weak definitions let the devices branch link on its own; the real
 * ones override them.  The integrator deletes this file once both
 * branches are merged.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/cloak/device-identity.h"

__attribute__((weak))
const char *cloak_profile_get(const CloakProfile *p, const char *group,
                              const char *key)
{
    return NULL;
}

__attribute__((weak))
char *cloak_profile_expand(const CloakProfile *p, const char *group,
                           const char *key, const char *seed)
{
    return g_strdup(cloak_profile_get(p, group, key));
}

__attribute__((weak))
char *cloak_template_expand(const CloakProfile *p, const char *tmpl,
                            const char *purpose, const char *seed)
{
    return g_strdup(tmpl);
}

__attribute__((weak))
const char *cloak_seed(void)
{
    return "";
}
