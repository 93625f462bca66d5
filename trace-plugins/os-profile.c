/*
 * cloak-trace OS profiles: parser and writer (see os-profile.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "trace-plugins/os-profile.h"

const CloakOsProfileField cloak_os_profile_fields[CLOAK_OS_OFF__MAX] = {
#define CLOAK_OS_PROFILE_ROW(id, s, m, sz) \
    [CLOAK_OS_OFF_##id] = { s "." m, s, m, sz },
    CLOAK_OS_PROFILE_OFFSETS(CLOAK_OS_PROFILE_ROW)
#undef CLOAK_OS_PROFILE_ROW
};

#define GROUP_KERNEL "kernel"
#define GROUP_OFFSETS "offsets"

static const char *const kernel_keys[] = {
    "format", "os", "release", "version", NULL
};

static bool fail(GError **errp, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool fail(GError **errp, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (errp) {
        *errp = g_error_new_valist(G_KEY_FILE_ERROR,
                                   G_KEY_FILE_ERROR_INVALID_VALUE, fmt, ap);
    }
    va_end(ap);
    return false;
}

/* A release or version string: printable ASCII, 1..NAME_MAX bytes. */
static bool check_name(const char *key, const char *v, GError **errp)
{
    size_t len = strlen(v);
    const char *c;

    if (!len || len > CLOAK_OS_PROFILE_NAME_MAX) {
        return fail(errp, "[kernel] %s: %zu bytes; a kernel names itself in "
                    "1 to %d", key, len, CLOAK_OS_PROFILE_NAME_MAX);
    }
    for (c = v; *c; c++) {
        if (*c < 0x20 || *c > 0x7e) {
            return fail(errp, "[kernel] %s: byte 0x%02x is not printable "
                        "ASCII", key, (unsigned char)*c);
        }
    }
    return true;
}

static bool only_known_keys(GKeyFile *kf, const char *group,
                            const char *const *known, GError **errp)
{
    g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);
    char **k;
    unsigned i;

    for (k = keys; k && *k; k++) {
        bool ok = false;

        if (known) {
            for (i = 0; known[i] && !ok; i++) {
                ok = !strcmp(*k, known[i]);
            }
        } else {
            for (i = 0; i < CLOAK_OS_OFF__MAX && !ok; i++) {
                ok = !strcmp(*k, cloak_os_profile_fields[i].key);
            }
        }
        if (!ok) {
            return fail(errp, "[%s] %s: unknown key", group, *k);
        }
    }
    return true;
}

static char *get_string(GKeyFile *kf, const char *key, GError **errp)
{
    g_autoptr(GError) err = NULL;
    char *v = g_key_file_get_string(kf, GROUP_KERNEL, key, &err);

    if (!v) {
        fail(errp, "[kernel] %s: missing (%s)", key, err->message);
    }
    return v;
}

/* Decimal or 0x-hex, 0..max. */
static bool parse_offset(const char *key, const char *text, uint32_t max,
                         uint32_t *out, GError **errp)
{
    guint64 v;
    g_autoptr(GError) err = NULL;
    bool hex = g_str_has_prefix(text, "0x");

    if (!g_ascii_string_to_unsigned(hex ? text + 2 : text, hex ? 16 : 10,
                                    0, max, &v, &err)) {
        return fail(errp, "[offsets] %s: '%s' is not an offset from 0 to %u "
                    "(%s)", key, text, max, err->message);
    }
    *out = v;
    return true;
}

CloakOsProfile *cloak_os_profile_parse(const char *data, size_t len,
                                       GError **errp)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(CloakOsProfile) p = g_new0(CloakOsProfile, 1);
    g_autoptr(GError) err = NULL;
    g_auto(GStrv) groups = NULL;
    g_autofree char *format = NULL;
    char **g;
    unsigned i;

    if (memchr(data, 0, len)) {
        fail(errp, "a NUL byte: not a text file");
        return NULL;
    }
    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &err)) {
        fail(errp, "not a profile file: %s", err->message);
        return NULL;
    }
    groups = g_key_file_get_groups(kf, NULL);
    for (g = groups; *g; g++) {
        if (strcmp(*g, GROUP_KERNEL) && strcmp(*g, GROUP_OFFSETS)) {
            fail(errp, "[%s]: unknown group (a profile has [kernel] and "
                 "[offsets])", *g);
            return NULL;
        }
    }
    if (!g_key_file_has_group(kf, GROUP_KERNEL) ||
        !g_key_file_has_group(kf, GROUP_OFFSETS)) {
        fail(errp, "no [%s] group (a profile has [kernel] and [offsets])",
             g_key_file_has_group(kf, GROUP_KERNEL) ? GROUP_OFFSETS
                                                    : GROUP_KERNEL);
        return NULL;
    }
    if (!only_known_keys(kf, GROUP_KERNEL, kernel_keys, errp) ||
        !only_known_keys(kf, GROUP_OFFSETS, NULL, errp)) {
        return NULL;
    }
    format = get_string(kf, "format", errp);
    if (!format) {
        return NULL;
    }
    if (strcmp(format, G_STRINGIFY(CLOAK_OS_PROFILE_FORMAT))) {
        fail(errp, "[kernel] format: '%s'; this cloak-trace reads format %d "
             "(make the profile again with this version's cloak-trace "
             "profile)", format, CLOAK_OS_PROFILE_FORMAT);
        return NULL;
    }
    p->os = get_string(kf, "os", errp);
    if (!p->os) {
        return NULL;
    }
    if (strcmp(p->os, "linux")) {
        fail(errp, "[kernel] os: '%s'; only Linux guests can be profiled "
             "(docs/trace.md describes the Windows design)", p->os);
        return NULL;
    }
    p->release = get_string(kf, "release", errp);
    if (!p->release || !check_name("release", p->release, errp)) {
        return NULL;
    }
    p->version = get_string(kf, "version", errp);
    if (!p->version || !check_name("version", p->version, errp)) {
        return NULL;
    }
    for (i = 0; i < CLOAK_OS_OFF__MAX; i++) {
        const CloakOsProfileField *f = &cloak_os_profile_fields[i];
        g_autofree char *v = g_key_file_get_value(kf, GROUP_OFFSETS, f->key,
                                                  NULL);
        uint32_t max = i == CLOAK_OS_OFF_PERCPU_CURRENT_TASK ?
                       CLOAK_OS_PROFILE_PERCPU_OFFSET_MAX :
                       CLOAK_OS_PROFILE_STRUCT_OFFSET_MAX;

        if (!v) {
            fail(errp, "[offsets] %s: missing", f->key);
            return NULL;
        }
        if (!parse_offset(f->key, v, max, &p->offset[i], errp)) {
            return NULL;
        }
    }
    /* The strings read at the end of a utsname must lie inside it. */
    if (p->offset[CLOAK_OS_OFF_NEW_UTSNAME_RELEASE] + 65 > 390 ||
        p->offset[CLOAK_OS_OFF_NEW_UTSNAME_VERSION] + 65 > 390) {
        fail(errp, "[offsets] new_utsname.release/version: %u/%u, outside "
             "the 390-byte struct new_utsname",
             p->offset[CLOAK_OS_OFF_NEW_UTSNAME_RELEASE],
             p->offset[CLOAK_OS_OFF_NEW_UTSNAME_VERSION]);
        return NULL;
    }
    return g_steal_pointer(&p);
}

CloakOsProfile *cloak_os_profile_load(const char *path, GError **errp)
{
    g_autofree char *data = NULL;
    g_autoptr(GError) err = NULL;
    CloakOsProfile *p;
    gsize len;

    if (!g_file_get_contents(path, &data, &len, &err)) {
        fail(errp, "%s", err->message);
        return NULL;
    }
    if (len > 1024 * 1024) {
        fail(errp, "%s: %zu bytes; a profile is a few hundred", path, len);
        return NULL;
    }
    p = cloak_os_profile_parse(data, len, &err);
    if (!p) {
        fail(errp, "%s: %s", path, err->message);
    }
    return p;
}

char *cloak_os_profile_to_data(const CloakOsProfile *p, const char *comment)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();
    unsigned i;

    g_key_file_set_integer(kf, GROUP_KERNEL, "format",
                           CLOAK_OS_PROFILE_FORMAT);
    g_key_file_set_string(kf, GROUP_KERNEL, "os", p->os);
    g_key_file_set_string(kf, GROUP_KERNEL, "release", p->release);
    g_key_file_set_string(kf, GROUP_KERNEL, "version", p->version);
    for (i = 0; i < CLOAK_OS_OFF__MAX; i++) {
        g_key_file_set_uint64(kf, GROUP_OFFSETS,
                              cloak_os_profile_fields[i].key, p->offset[i]);
    }
    if (comment) {
        /* GLib puts '#' in front of each line. */
        g_key_file_set_comment(kf, NULL, NULL, comment, NULL);
    }
    return g_key_file_to_data(kf, NULL, NULL);
}

char *cloak_os_profile_kernel_name(const CloakOsProfile *p)
{
    return g_strdup_printf("%s %s", p->release, p->version);
}

void cloak_os_profile_free(CloakOsProfile *p)
{
    if (p) {
        g_free(p->os);
        g_free(p->release);
        g_free(p->version);
        g_free(p);
    }
}
