/*
 * qemu-cloak identity profiles: loading and validating profile files.
 *
 * A profile is a GKeyFile describing one real machine class (vendor,
 * board, BIOS, chassis, CPU brands, memory, ACPI OEM IDs, NIC OUI).
 * This file depends on GLib only, so the same code is linked into QEMU,
 * the unit tests and the fuzz target.
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_CLOAK_PROFILE_H
#define HW_CLOAK_PROFILE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include "hw/cloak/cloak-keys.h"

typedef struct CloakProfile CloakProfile;

#define CLOAK_PROFILE_ERROR (cloak_profile_error_quark())
GQuark cloak_profile_error_quark(void);

typedef enum {
    CLOAK_PROFILE_ERROR_IO,         /* cannot read the file */
    CLOAK_PROFILE_ERROR_SYNTAX,     /* not a key file */
    CLOAK_PROFILE_ERROR_SCHEMA,     /* unknown group or key, bad value */
} CloakProfileErrorCode;

/* Profiles larger than this are refused rather than parsed. */
#define CLOAK_PROFILE_MAX_SIZE (64 * 1024)

/* Longest string value a profile may set (SMBIOS strings, brands). */
#define CLOAK_PROFILE_MAX_STRING 64

/* ...and of a list of CPU feature names ([cpu] features, arch-capabilities). */
#define CLOAK_PROFILE_MAX_FLAGS 1024

/*
 * Parses @data (of @len bytes) as a profile named @name; @filename is
 * used only in error messages, which have the form "FILE:LINE: what".
 * Returns NULL and sets @errp on any error.
 */
CloakProfile *cloak_profile_parse(const char *name, const char *filename,
                                  const char *data, size_t len,
                                  GError **errp);

/* Reads and parses @path. */
CloakProfile *cloak_profile_load_file(const char *name, const char *path,
                                      GError **errp);

void cloak_profile_free(CloakProfile *p);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(CloakProfile, cloak_profile_free)

const char *cloak_profile_name(const CloakProfile *p);
const char *cloak_profile_filename(const CloakProfile *p);

/*
 * The raw value of @group/@key as written in the profile (escapes
 * resolved, per-VM templates not yet expanded), or NULL when absent.
 */
const char *cloak_profile_get(const CloakProfile *p, const char *group,
                              const char *key);

/* Line of @group/@key in the profile file, or 0 when unknown. */
unsigned cloak_profile_line(const CloakProfile *p, const char *group,
                            const char *key);

/* The keys of @group in file order (NULL-terminated, owned by @p). */
const char *const *cloak_profile_keys(const CloakProfile *p,
                                      const char *group);

/*
 * Numeric values: parsed with the same rules the validator applied, so
 * these succeed for any key the schema declares numeric.
 */
bool cloak_profile_get_u64(const CloakProfile *p, const char *group,
                           const char *key, uint64_t *value);

/*
 * Per-VM values.  A string value may contain templates that expand to
 * characters derived from the VM's seed:
 *   {D:n}  n decimal digits        {X:n}  n upper-case hex digits
 *   {A:n}  n upper-case letters or digits
 *   {L:n}  n upper-case letters    {name} the [identity] value "name"
 *   {{ and }} stand for literal braces.
 * The same seed always gives the same expansion; different seeds give
 * independent ones.
 */
char *cloak_profile_expand(const CloakProfile *p, const char *group,
                           const char *key, const char *seed);

/* Expand an arbitrary template @tmpl, @purpose separating derivations. */
char *cloak_template_expand(const CloakProfile *p, const char *tmpl,
                            const char *purpose, const char *seed);

/* @n bytes derived from @seed and @purpose (HMAC-SHA256 based). */
void cloak_derive_bytes(const char *seed, const char *purpose,
                        uint8_t *out, size_t n);

/*
 * [smbios] records (hw/cloak/cloak-keys.h).  cloak_smbios_record_find()
 * gives the record kind of key "<name>-<n>" and its n, or NULL.
 * cloak_smbios_record_split() cuts a value the validator accepted into
 * the record's fields: one string per field, a "v" field becoming zero or
 * more strings at the end.
 */
const CloakSmbiosRecord *cloak_smbios_record_find(const char *key,
                                                  unsigned *n);
char **cloak_smbios_record_split(const CloakSmbiosRecord *r,
                                 const char *value);

/*
 * Optional check for keys of the [devices] group: the device-identity
 * code provides the list of keys it understands.  NULL accepts any key.
 */
void cloak_profile_set_device_keys(const char *const *keys);

#endif
