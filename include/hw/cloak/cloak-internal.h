/*
 * qemu-cloak: state shared by the files of hw/cloak (not used by QEMU's
 * own files, which see only cloak.h).
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_CLOAK_INTERNAL_H
#define HW_CLOAK_INTERNAL_H

typedef struct CloakGlobal {
    bool off;               /* -cloak off */
    bool strict;            /* -cloak strict */
    bool enabled;           /* active for this machine */
    char *profile_spec;     /* profile= as given, or the default */
    CloakProfile *profile;
    GHashTable *values;     /* "group/key" -> expanded value */
    char *seed;
    const char *seed_source;    /* "-uuid", "-name", "-cloak seed=", NULL */
    const char *brand;      /* the profile's model-id for this topology */
    bool brand_fits;        /* ... an exact match for cores and threads */
    char *cpu_choice;       /* its "<C>c<T>t", for per-model [cpu] keys */
    char *topology;         /* for messages */
    bool cpu_passthrough;   /* -cpu host: the host's identity stays */
} CloakGlobal;

extern CloakGlobal cloak;

/* Registers the strict-mode check, run once the machine is complete. */
void cloak_strict_register(void);

#endif
