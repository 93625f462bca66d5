/*
 * qemu-cloak identity profiles: loading and validating profile files.
 *
 * GKeyFile does the parsing; this file adds what GKeyFile lacks for a
 * configuration that users write by hand: the line of every error, a
 * schema (known groups and keys, typed values), refusal of duplicate
 * keys, and the per-VM templates ({D:n}, {name}, ...).
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "hw/cloak/cloak-profile.h"
#include "hw/cloak/cloak-keys.h"

GQuark cloak_profile_error_quark(void)
{
    return g_quark_from_static_string("cloak-profile-error-quark");
}

/* The fixed groups' keys: the one list in hw/cloak/cloak-keys.h. */
#define CLOAK_KEY_ROW(group, key, kind, min, max, per_model, dest) \
    { group, key, CLOAK_VALUE_##kind, min, max, per_model, dest },
const CloakKeySpec cloak_profile_key_table[] = {
    CLOAK_PROFILE_KEYS(CLOAK_KEY_ROW)
};
#undef CLOAK_KEY_ROW
const size_t cloak_profile_key_count = G_N_ELEMENTS(cloak_profile_key_table);

#define CLOAK_RECORD_ROW(name, type, fields, meaning) \
    { name, type, fields, meaning },
const CloakSmbiosRecord cloak_smbios_record_table[] = {
    CLOAK_SMBIOS_RECORDS(CLOAK_RECORD_ROW)
};
#undef CLOAK_RECORD_ROW
const size_t cloak_smbios_record_count =
    G_N_ELEMENTS(cloak_smbios_record_table);

/* Groups of any keys: [identity] templates, [devices] (device keys). */
typedef struct {
    const char *name;
    CloakValueKind kind;
} OpenGroup;

static const OpenGroup open_groups[] = {
    { "identity", CLOAK_VALUE_TEMPLATE },
    { "devices", CLOAK_VALUE_STRING },
    { "smbios", CLOAK_VALUE_RECORD },
};

static const char *const *device_keys;

void cloak_profile_set_device_keys(const char *const *keys)
{
    device_keys = keys;
}

struct CloakProfile {
    char *name;
    char *filename;
    /* "group\037key" -> unescaped value */
    GHashTable *values;
    /* "group\037key" -> line number */
    GHashTable *lines;
    /* group -> line of its first header */
    GHashTable *group_lines;
    /* group -> GPtrArray of keys in file order, NULL-terminated */
    GHashTable *keys;
};

static char *slot(const char *group, const char *key)
{
    return g_strconcat(group, "\037", key, NULL);
}

void cloak_profile_free(CloakProfile *p)
{
    if (!p) {
        return;
    }
    g_free(p->name);
    g_free(p->filename);
    g_hash_table_destroy(p->values);
    g_hash_table_destroy(p->lines);
    g_hash_table_destroy(p->group_lines);
    g_hash_table_destroy(p->keys);
    g_free(p);
}

const char *cloak_profile_name(const CloakProfile *p)
{
    return p->name;
}

const char *cloak_profile_filename(const CloakProfile *p)
{
    return p->filename;
}

const char *cloak_profile_get(const CloakProfile *p, const char *group,
                              const char *key)
{
    g_autofree char *s = slot(group, key);

    return g_hash_table_lookup(p->values, s);
}

unsigned cloak_profile_line(const CloakProfile *p, const char *group,
                            const char *key)
{
    g_autofree char *s = slot(group, key);

    return GPOINTER_TO_UINT(g_hash_table_lookup(p->lines, s));
}

const char *const *cloak_profile_keys(const CloakProfile *p,
                                      const char *group)
{
    static const char *const none[] = { NULL };
    GPtrArray *a = g_hash_table_lookup(p->keys, group);

    return a ? (const char *const *)a->pdata : none;
}

static bool parse_number(const char *s, uint64_t *v)
{
    guint64 n;

    if (g_str_has_prefix(s, "0x") || g_str_has_prefix(s, "0X")) {
        if (!g_ascii_string_to_unsigned(s + 2, 16, 0, G_MAXUINT64, &n, NULL)) {
            return false;
        }
    } else if (!g_ascii_string_to_unsigned(s, 10, 0, G_MAXUINT64, &n, NULL)) {
        return false;
    }
    *v = n;
    return true;
}

bool cloak_profile_get_u64(const CloakProfile *p, const char *group,
                           const char *key, uint64_t *value)
{
    const char *s = cloak_profile_get(p, group, key);

    return s && parse_number(s, value);
}

/* ------------------------------------------------------------------ */
/* Per-VM derivation                                                   */

void cloak_derive_bytes(const char *seed, const char *purpose,
                        uint8_t *out, size_t n)
{
    uint32_t counter = 0;

    while (n) {
        g_autoptr(GHmac) h = g_hmac_new(G_CHECKSUM_SHA256,
                                        (const guchar *)seed, strlen(seed));
        guint8 digest[32];
        gsize dlen = sizeof(digest);
        guint8 cbytes[4] = {
            counter >> 24, counter >> 16, counter >> 8, counter
        };
        size_t take;

        g_hmac_update(h, (const guchar *)purpose, strlen(purpose));
        g_hmac_update(h, cbytes, sizeof(cbytes));
        g_hmac_get_digest(h, digest, &dlen);
        take = MIN(n, dlen);
        memcpy(out, digest, take);
        out += take;
        n -= take;
        counter++;
    }
}

static const char *template_alphabet(char kind)
{
    switch (kind) {
    case 'D':
        return "0123456789";
    case 'X':
        return "0123456789ABCDEF";
    case 'A':
        return "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    case 'L':
        return "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    default:
        return NULL;
    }
}

#define TEMPLATE_MAX_RUN 32

/*
 * Walks template @t.  With @out NULL only checks it: returns false and
 * sets *@why on a malformed template, and adds the expanded length to
 * *@len.  @allow_names permits {name} references to [identity].
 */
static bool template_walk(const CloakProfile *p, const char *t,
                          bool allow_names, const char *purpose,
                          const char *seed, GString *out, size_t *len,
                          char **why)
{
    unsigned index = 0;

    while (*t) {
        const char *close;

        if (t[0] == '{' && t[1] == '{') {
            if (out) {
                g_string_append_c(out, '{');
            }
            (*len)++;
            t += 2;
            continue;
        }
        if (t[0] == '}' && t[1] == '}') {
            if (out) {
                g_string_append_c(out, '}');
            }
            (*len)++;
            t += 2;
            continue;
        }
        if (*t == '}') {
            *why = g_strdup("unmatched '}' (write '}}' for a literal brace)");
            return false;
        }
        if (*t != '{') {
            if (out) {
                g_string_append_c(out, *t);
            }
            (*len)++;
            t++;
            continue;
        }
        close = strchr(t, '}');
        if (!close) {
            *why = g_strdup("unterminated '{' (write '{{' for a literal "
                            "brace)");
            return false;
        }
        if (close - t >= 3 && t[2] == ':' && template_alphabet(t[1])) {
            const char *alpha = template_alphabet(t[1]);
            g_autofree char *num = g_strndup(t + 3, close - t - 3);
            guint64 n;

            if (!g_ascii_string_to_unsigned(num, 10, 1, TEMPLATE_MAX_RUN, &n,
                                            NULL)) {
                *why = g_strdup_printf("bad length in '%.*s': want 1..%d",
                                       (int)(close - t + 1), t,
                                       TEMPLATE_MAX_RUN);
                return false;
            }
            if (out) {
                g_autofree char *what = g_strdup_printf("%s#%u", purpose,
                                                        index);
                uint8_t bytes[TEMPLATE_MAX_RUN];
                size_t alen = strlen(alpha);

                cloak_derive_bytes(seed, what, bytes, n);
                for (guint64 i = 0; i < n; i++) {
                    g_string_append_c(out, alpha[bytes[i] % alen]);
                }
            }
            *len += n;
            index++;
        } else {
            g_autofree char *name = g_strndup(t + 1, close - t - 1);
            const char *ref;

            if (!allow_names) {
                *why = g_strdup_printf("'{%s}' is not one of {D:n} {X:n} "
                                       "{A:n} {L:n}", name);
                return false;
            }
            ref = cloak_profile_get(p, "identity", name);
            if (!ref) {
                *why = g_strdup_printf("'{%s}' names no key of [identity]",
                                       name);
                return false;
            }
            {
                g_autofree char *ipurpose = g_strconcat("identity/", name,
                                                        NULL);
                if (!template_walk(p, ref, false, ipurpose, seed, out, len,
                                   why)) {
                    return false;
                }
            }
        }
        t = close + 1;
    }
    return true;
}

char *cloak_template_expand(const CloakProfile *p, const char *tmpl,
                            const char *purpose, const char *seed)
{
    GString *out = g_string_new(NULL);
    size_t len = 0;
    char *why = NULL;

    if (!template_walk(p, tmpl, true, purpose, seed, out, &len, &why)) {
        /* Profiles are validated on load, so this is a programming error */
        g_free(why);
        g_string_free(out, TRUE);
        return NULL;
    }
    return g_string_free(out, FALSE);
}

char *cloak_profile_expand(const CloakProfile *p, const char *group,
                           const char *key, const char *seed)
{
    const char *v = cloak_profile_get(p, group, key);
    g_autofree char *purpose = NULL;

    if (!v) {
        return NULL;
    }
    purpose = g_strconcat(group, "/", key, NULL);
    return cloak_template_expand(p, v, purpose, seed);
}

/* ------------------------------------------------------------------ */
/* Loading and validation                                              */

static void G_GNUC_PRINTF(5, 6)
set_error(GError **errp, int code, const char *filename, unsigned line,
          const char *fmt, ...)
{
    va_list ap;
    g_autofree char *msg = NULL;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (line) {
        g_set_error(errp, CLOAK_PROFILE_ERROR, code, "%s:%u: %s", filename,
                    line, msg);
    } else {
        g_set_error(errp, CLOAK_PROFILE_ERROR, code, "%s: %s", filename, msg);
    }
}

/* Offset just past line @n (1-based) of @data, or @len. */
static size_t prefix_of_lines(const char *data, size_t len, unsigned n)
{
    size_t off = 0;

    while (n && off < len) {
        const char *nl = memchr(data + off, '\n', len - off);

        if (!nl) {
            return len;
        }
        off = nl - data + 1;
        n--;
    }
    return off;
}

static bool keyfile_accepts(const char *data, size_t len)
{
    g_autoptr(GKeyFile) kf = g_key_file_new();

    return g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, NULL);
}

/*
 * GKeyFile's errors carry no line number.  Whether a prefix of the file
 * parses is monotonic in its length, so a binary search over line counts
 * finds the first line GKeyFile rejects.
 */
static unsigned first_bad_line(const char *data, size_t len)
{
    unsigned lo = 1, hi = 1;

    for (size_t i = 0; i < len; i++) {
        hi += data[i] == '\n';
    }
    while (lo < hi) {
        unsigned mid = lo + (hi - lo) / 2;

        if (keyfile_accepts(data, prefix_of_lines(data, len, mid))) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    return lo;
}

/* A group of cloak_profile_key_table[], an open group, or neither. */
static bool is_fixed_group(const char *group)
{
    for (size_t i = 0; i < cloak_profile_key_count; i++) {
        if (!strcmp(cloak_profile_key_table[i].group, group)) {
            return true;
        }
    }
    return false;
}

static const OpenGroup *find_open_group(const char *group)
{
    for (size_t i = 0; i < G_N_ELEMENTS(open_groups); i++) {
        if (!strcmp(open_groups[i].name, group)) {
            return &open_groups[i];
        }
    }
    return NULL;
}

static char *known_groups(void)
{
    GString *s = g_string_new(NULL);

    for (size_t i = 0; i < cloak_profile_key_count; i++) {
        const char *group = cloak_profile_key_table[i].group;

        if (!i || strcmp(group, cloak_profile_key_table[i - 1].group)) {
            g_string_append_printf(s, "%s[%s]", s->len ? " " : "", group);
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(open_groups); i++) {
        g_string_append_printf(s, " [%s]", open_groups[i].name);
    }
    return g_string_free(s, FALSE);
}

/*
 * Whether @key is "<base>-<C>c<T>t" for a key @base that a model choice
 * may set.  A core runs one or two threads (SMT) on every x86 desktop part.
 */
static bool is_model_key(const char *key, const char *base)
{
    size_t n = strlen(base);
    unsigned cores, threads;
    int end = 0;

    if (strncmp(key, base, n) || key[n] != '-' ||
        !g_ascii_isdigit(key[n + 1]) ||
        sscanf(key + n + 1, "%3uc%3ut%n", &cores, &threads, &end) != 2 ||
        key[n + 1 + end] != '\0') {
        return false;
    }
    return cores >= 1 && cores <= 256 &&
           (threads == cores || threads == 2 * cores);
}

static bool find_key(const char *group, const char *key, CloakKeySpec *out)
{
    const OpenGroup *open = find_open_group(group);

    for (size_t i = 0; i < cloak_profile_key_count; i++) {
        const CloakKeySpec *k = &cloak_profile_key_table[i];

        if (strcmp(k->group, group)) {
            continue;
        }
        if ((k->per_model != CLOAK_KEY_MODEL_ONLY && !strcmp(k->key, key)) ||
            (k->per_model != CLOAK_KEY_GROUP && is_model_key(key, k->key))) {
            *out = *k;
            out->key = key;
            return true;
        }
    }
    if (!open) {
        return false;
    }
    if (open->kind == CLOAK_VALUE_RECORD) {
        unsigned n;

        if (!cloak_smbios_record_find(key, &n)) {
            return false;
        }
    }
    /* QEMU registers the device identity keys; without it, any key. */
    if (!strcmp(group, "devices") && device_keys) {
        for (const char *const *d = device_keys; *d; d++) {
            if (!strcmp(*d, key)) {
                *out = (CloakKeySpec) {
                    .group = group, .key = key, .kind = open->kind
                };
                return true;
            }
        }
        return false;
    }
    *out = (CloakKeySpec) {
        .group = group, .key = key, .kind = open->kind
    };
    return true;
}

static char *known_keys(const char *group)
{
    GString *s = g_string_new(NULL);

    for (size_t i = 0; i < cloak_profile_key_count; i++) {
        const CloakKeySpec *k = &cloak_profile_key_table[i];

        if (!strcmp(k->group, group)) {
            g_string_append_printf(s, "%s%s%s", s->len ? ", " : "", k->key,
                                   k->per_model == CLOAK_KEY_MODEL_ONLY ?
                                   "-<cores>c<threads>t" :
                                   k->per_model == CLOAK_KEY_PER_MODEL ?
                                   "[-<cores>c<threads>t]" : "");
        }
    }
    if (!strcmp(group, "devices")) {
        for (const char *const *d = device_keys; d && *d; d++) {
            g_string_append_printf(s, "%s%s", s->len ? ", " : "", *d);
        }
    }
    if (!strcmp(group, "smbios")) {
        for (size_t i = 0; i < cloak_smbios_record_count; i++) {
            g_string_append_printf(s, "%s%s-<n>", s->len ? ", " : "",
                                   cloak_smbios_record_table[i].name);
        }
    }
    return g_string_free(s, FALSE);
}

static bool printable_ascii(const char *s)
{
    for (; *s; s++) {
        if (*s < 0x20 || *s > 0x7e) {
            return false;
        }
    }
    return true;
}

/* "name,name,...": QEMU's CPU feature names, each once. */
static bool check_flags(const char *v, char **why)
{
    g_auto(GStrv) names = NULL;

    if (strlen(v) > CLOAK_PROFILE_MAX_FLAGS) {
        *why = g_strdup_printf("a feature list of %zu characters; at most %d "
                               "are allowed", strlen(v),
                               CLOAK_PROFILE_MAX_FLAGS);
        return false;
    }
    names = g_strsplit(v, ",", -1);
    for (size_t i = 0; names[i]; i++) {
        const char *n = names[i];

        if (!*n) {
            *why = g_strdup_printf("'%s' has an empty feature name", v);
            return false;
        }
        if (!g_ascii_islower(n[0]) && !g_ascii_isdigit(n[0])) {
            *why = g_strdup_printf("feature '%s' must start with a lower-case "
                                   "letter or digit", n);
            return false;
        }
        for (const char *c = n; *c; c++) {
            if (!g_ascii_islower(*c) && !g_ascii_isdigit(*c) &&
                !strchr("-_.", *c)) {
                *why = g_strdup_printf("feature '%s': only a-z, 0-9, '-', "
                                       "'_' and '.' are allowed", n);
                return false;
            }
        }
        for (size_t j = 0; j < i; j++) {
            if (!strcmp(names[j], n)) {
                *why = g_strdup_printf("feature '%s' is listed twice", n);
                return false;
            }
        }
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* [smbios] records                                                    */

#define RECORD_MAX_INDEX 255
/* A structure's formatted area is at most 255 bytes, 4 of them header. */
#define RECORD_MAX_FORMATTED 251

const CloakSmbiosRecord *cloak_smbios_record_find(const char *key,
                                                  unsigned *n)
{
    const char *dash = strrchr(key, '-');
    guint64 index;

    if (!dash || !g_ascii_isdigit(dash[1]) || dash[1] == '0' ||
        !g_ascii_string_to_unsigned(dash + 1, 10, 1, RECORD_MAX_INDEX,
                                    &index, NULL)) {
        return NULL;
    }
    for (size_t i = 0; i < cloak_smbios_record_count; i++) {
        const CloakSmbiosRecord *r = &cloak_smbios_record_table[i];

        if (strlen(r->name) == (size_t)(dash - key) &&
            !strncmp(r->name, key, dash - key)) {
            *n = index;
            return r;
        }
    }
    return NULL;
}

char **cloak_smbios_record_split(const CloakSmbiosRecord *r,
                                 const char *value)
{
    char **one;

    if (strchr(r->fields, ' ')) {
        return g_strsplit(value, "|", -1);
    }
    one = g_new0(char *, 2);          /* one field: all of it */
    one[0] = g_strdup(value);
    return one;
}

/* Why a raw record cannot have @type (NULL if it can). */
static char *raw_type_conflict(uint64_t type)
{
    static const uint8_t qemu_builds[] = {
        0, 1, 2, 3, 4, 7, 16, 17, 19, 20, 32, 38, 127
    };

    for (size_t i = 0; i < G_N_ELEMENTS(qemu_builds); i++) {
        if (type == qemu_builds[i]) {
            return g_strdup("QEMU builds it from the other keys");
        }
    }
    for (size_t i = 0; i < cloak_smbios_record_count; i++) {
        if (cloak_smbios_record_table[i].type == (int)type) {
            return g_strdup_printf("write it as %s-<n>",
                                   cloak_smbios_record_table[i].name);
        }
    }
    return NULL;
}

static bool check_record_field(const CloakProfile *p, char kind,
                               const char *name, const char *v, char **why)
{
    static const uint64_t max[] = { ['b'] = 0xff, ['w'] = 0xffff,
                                    ['d'] = 0xffffffffULL };
    size_t len = 0;
    uint64_t n;

    switch (kind) {
    case 's':
    case 'v':
        if (kind == 'v' && !*v) {
            *why = g_strdup_printf("%s: an empty string (a structure's "
                                   "strings cannot be empty)", name);
            return false;
        }
        if (!template_walk(p, v, true, "", "", NULL, &len, why)) {
            return false;
        }
        if (len > CLOAK_PROFILE_MAX_STRING) {
            *why = g_strdup_printf("%s expands to %zu characters, at most %d "
                                   "are allowed", name, len,
                                   CLOAK_PROFILE_MAX_STRING);
            return false;
        }
        return true;
    case 'b':
    case 'w':
    case 'd':
        if (!parse_number(v, &n) || n > max[(unsigned char)kind]) {
            *why = g_strdup_printf("%s: '%s' is not a number from 0 to 0x%"
                                   PRIx64, name, v,
                                   max[(unsigned char)kind]);
            return false;
        }
        return true;
    case 'x':
        for (const char *c = v; *c; c++) {
            if (!g_ascii_isxdigit(*c)) {
                *why = g_strdup_printf("%s: '%c' is not a hex digit", name,
                                       *c);
                return false;
            }
        }
        if (strlen(v) % 2 || strlen(v) / 2 > RECORD_MAX_FORMATTED) {
            *why = g_strdup_printf("%s: %zu hex digits; want an even "
                                   "number, at most %d", name, strlen(v),
                                   2 * RECORD_MAX_FORMATTED);
            return false;
        }
        return true;
    }
    g_assert_not_reached();
}

static bool check_record(const CloakProfile *p, const char *key,
                         const char *v, char **why)
{
    unsigned n;
    const CloakSmbiosRecord *r = cloak_smbios_record_find(key, &n);
    g_auto(GStrv) spec = g_strsplit(r->fields, " ", -1);
    g_auto(GStrv) fields = cloak_smbios_record_split(r, v);
    guint nspec = g_strv_length(spec), nfields = g_strv_length(fields);
    bool rest = spec[nspec - 1][0] == 'v';

    if (rest ? nfields < nspec - 1 : nfields != nspec) {
        g_autofree char *want = g_strjoinv("|", spec);

        *why = g_strdup_printf("%u fields, want %s%u separated by '|': %s",
                               nfields, rest ? "at least " : "",
                               rest ? nspec - 1 : nspec, want);
        return false;
    }
    for (guint i = 0; i < nfields; i++) {
        const char *f = spec[MIN(i, nspec - 1)];

        if (!check_record_field(p, f[0], f + 2, fields[i], why)) {
            return false;
        }
    }
    if (r->type == 0) {
        uint64_t type;
        g_autofree char *conflict = NULL;

        parse_number(fields[0], &type);
        conflict = raw_type_conflict(type);
        if (conflict) {
            *why = g_strdup_printf("type %" PRIu64 " cannot be raw: %s",
                                   type, conflict);
            return false;
        }
    }
    return true;
}

/* "NAME[:UID],...": ACPI device names for the DSDT, min..max of them. */
static bool check_acpi_names(const CloakKeySpec *k, const char *v, char **why)
{
    g_auto(GStrv) items = g_strsplit(v, ",", -1);
    guint n = g_strv_length(items);

    if (n < k->min || n > k->max) {
        *why = g_strdup_printf("%u names; want %" PRIu64 "..%" PRIu64, n,
                               k->min, k->max);
        return false;
    }
    for (guint i = 0; i < n; i++) {
        const char *name = items[i], *colon = strchr(name, ':');
        size_t len = colon ? (size_t)(colon - name) : strlen(name);

        if (len != 4 || g_ascii_isdigit(name[0])) {
            *why = g_strdup_printf("'%s': an ACPI name is 4 characters, not "
                                   "starting with a digit", name);
            return false;
        }
        for (size_t c = 0; c < 4; c++) {
            if (!g_ascii_isupper(name[c]) && !g_ascii_isdigit(name[c]) &&
                name[c] != '_') {
                *why = g_strdup_printf("'%s': an ACPI name has only A-Z, "
                                       "0-9 and '_'", name);
                return false;
            }
        }
        if (colon && !strcmp(k->key, "thermal-zone")) {
            *why = g_strdup_printf("'%s': a thermal zone has no _UID", name);
            return false;
        }
        if (colon) {
            size_t ulen = strlen(colon + 1);

            for (size_t c = 1; c <= ulen; c++) {
                if (!g_ascii_isalnum(colon[c])) {
                    ulen = 0;
                }
            }
            if (ulen < 1 || ulen > 16) {
                *why = g_strdup_printf("'%s': a _UID is 1..16 letters or "
                                       "digits", name);
                return false;
            }
        }
        for (guint j = 0; j < i; j++) {
            if (!strncmp(items[j], name, 4)) {
                *why = g_strdup_printf("'%.4s' is named twice", name);
                return false;
            }
        }
    }
    return true;
}

static bool check_value(const CloakProfile *p, const CloakKeySpec *k,
                        const char *v, char **why)
{
    size_t len = 0;
    uint64_t n;
    unsigned a, b, c;
    int end = 0;

    if (!*v) {
        *why = g_strdup("empty value (remove the key to keep the default)");
        return false;
    }
    if (!printable_ascii(v)) {
        *why = g_strdup("only printable ASCII is allowed");
        return false;
    }
    switch (k->kind) {
    case CLOAK_VALUE_STRING:
    case CLOAK_VALUE_TEMPLATE:
        if (!template_walk(p, v, k->kind == CLOAK_VALUE_STRING, "", "", NULL,
                           &len, why)) {
            return false;
        }
        if (len > (k->max ? k->max : CLOAK_PROFILE_MAX_STRING)) {
            *why = g_strdup_printf("expands to %zu characters, at most %"
                                   PRIu64 " are allowed", len,
                                   k->max ? k->max : CLOAK_PROFILE_MAX_STRING);
            return false;
        }
        return true;
    case CLOAK_VALUE_NUMBER:
        if (!parse_number(v, &n)) {
            *why = g_strdup_printf("'%s' is not a number (decimal or 0x-hex)",
                                   v);
            return false;
        }
        if (n < k->min || n > k->max) {
            *why = g_strdup_printf("%s is out of range %" PRIu64 "..%" PRIu64,
                                   v, k->min, k->max);
            return false;
        }
        return true;
    case CLOAK_VALUE_ASCII_ID:
        if (strlen(v) < k->min || strlen(v) > k->max) {
            if (k->min == k->max) {
                *why = g_strdup_printf("'%s' must be exactly %" PRIu64
                                       " characters", v, k->min);
            } else {
                *why = g_strdup_printf("'%s' must be %" PRIu64 "..%" PRIu64
                                       " characters", v, k->min, k->max);
            }
            return false;
        }
        if (strchr(v, '{') || strchr(v, '}')) {
            *why = g_strdup("templates are not allowed here");
            return false;
        }
        return true;
    case CLOAK_VALUE_DATE:
        if (sscanf(v, "%2u/%2u/%4u%n", &a, &b, &c, &end) != 3 ||
            v[end] != '\0' || strlen(v) != 10 || a < 1 || a > 12 ||
            b < 1 || b > 31 || c < 1980 || c > 2099) {
            *why = g_strdup_printf("'%s' is not a date MM/DD/YYYY", v);
            return false;
        }
        return true;
    case CLOAK_VALUE_RELEASE:
        if (sscanf(v, "%u.%u%n", &a, &b, &end) != 2 || v[end] != '\0' ||
            a > 255 || b > 255 || !g_ascii_isdigit(v[0])) {
            *why = g_strdup_printf("'%s' is not a release MAJOR.MINOR "
                                   "(0..255 each)", v);
            return false;
        }
        return true;
    case CLOAK_VALUE_FLAGS:
        return check_flags(v, why);
    case CLOAK_VALUE_RECORD:
        return check_record(p, k->key, v, why);
    case CLOAK_VALUE_ACPI_NAMES:
        return check_acpi_names(k, v, why);
    case CLOAK_VALUE_OUI:
        if (strlen(v) != 8 ||
            sscanf(v, "%2x:%2x:%2x%n", &a, &b, &c, &end) != 3 ||
            v[end] != '\0' || !g_ascii_isxdigit(v[0]) ||
            !g_ascii_isxdigit(v[3]) || !g_ascii_isxdigit(v[6])) {
            *why = g_strdup_printf("'%s' is not an OUI XX:XX:XX", v);
            return false;
        }
        if (a & 3) {
            *why = g_strdup_printf("'%s' is a multicast or locally "
                                   "administered prefix; a NIC's burned-in "
                                   "address has neither bit set", v);
            return false;
        }
        return true;
    }
    g_assert_not_reached();
}

static void add_key(CloakProfile *p, const char *group, const char *key)
{
    GPtrArray *a = g_hash_table_lookup(p->keys, group);

    if (!a) {
        a = g_ptr_array_new_with_free_func(g_free);
        g_ptr_array_add(a, NULL);
        g_hash_table_insert(p->keys, g_strdup(group), a);
    }
    a->pdata[a->len - 1] = g_strdup(key);
    g_ptr_array_add(a, NULL);
}

/*
 * Records the line of every group and key, in the way GKeyFile splits
 * lines (it has accepted the file already), and refuses duplicates,
 * which GKeyFile would silently resolve to the last one.
 */
static bool scan_lines(CloakProfile *p, const char *data, size_t len,
                       GError **errp)
{
    g_autofree char *group = NULL;
    unsigned line = 0;
    size_t off = 0;

    while (off < len) {
        const char *start = data + off;
        const char *nl = memchr(start, '\n', len - off);
        size_t n = nl ? (size_t)(nl - start) : len - off;
        g_autofree char *text = g_strndup(start, n);
        char *s = text, *eq;

        off += n + 1;
        line++;
        g_strstrip(s);
        if (!*s || *s == '#') {
            continue;
        }
        if (*s == '[') {
            char *close = strrchr(s, ']');

            g_free(group);
            group = g_strndup(s + 1, close ? close - s - 1 : 0);
            if (!g_hash_table_contains(p->group_lines, group)) {
                g_hash_table_insert(p->group_lines, g_strdup(group),
                                    GUINT_TO_POINTER(line));
            }
            continue;
        }
        eq = strchr(s, '=');
        if (!eq || !group) {
            continue;
        }
        *eq = '\0';
        g_strchomp(s);
        if (strchr(s, '[')) {
            set_error(errp, CLOAK_PROFILE_ERROR_SYNTAX, p->filename, line,
                      "'%s': localized keys (key[locale]) are not supported",
                      s);
            return false;
        }
        {
            g_autofree char *k = slot(group, s);
            unsigned first = GPOINTER_TO_UINT(g_hash_table_lookup(p->lines,
                                                                  k));

            if (first) {
                set_error(errp, CLOAK_PROFILE_ERROR_SCHEMA, p->filename, line,
                          "duplicate key '%s' in [%s] (first set on line %u)",
                          s, group, first);
                return false;
            }
            g_hash_table_insert(p->lines, g_steal_pointer(&k),
                                GUINT_TO_POINTER(line));
            add_key(p, group, s);
        }
    }
    return true;
}

/* The first backslash of @raw that GKeyFile would keep literally. */
static const char *invalid_escape(const char *raw)
{
    for (const char *c = raw; *c; c++) {
        if (*c == '\\') {
            if (!c[1] || !strchr("sntr\\", c[1])) {
                return c;
            }
            c++;
        }
    }
    return NULL;
}

/* A cooling device names a temperature probe the profile lists. */
static bool check_cooling_probes(CloakProfile *p, GError **errp)
{
    for (const char *const *k = cloak_profile_keys(p, "smbios"); *k; k++) {
        unsigned n;
        const CloakSmbiosRecord *r = cloak_smbios_record_find(*k, &n);
        g_auto(GStrv) f = NULL;
        g_autofree char *probe = NULL;
        uint64_t index;

        if (strcmp(r->name, "cooling")) {
            continue;
        }
        f = cloak_smbios_record_split(r, cloak_profile_get(p, "smbios", *k));
        parse_number(f[2], &index);
        probe = g_strdup_printf("temperature-probe-%" PRIu64, index);
        if (index && !cloak_profile_get(p, "smbios", probe)) {
            set_error(errp, CLOAK_PROFILE_ERROR_SCHEMA, p->filename,
                      cloak_profile_line(p, "smbios", *k),
                      "[smbios] %s: temperature-probe %" PRIu64 " names no "
                      "key %s", *k, index, probe);
            return false;
        }
    }
    return true;
}

static bool validate(CloakProfile *p, GKeyFile *kf, GError **errp)
{
    g_auto(GStrv) groups = g_key_file_get_groups(kf, NULL);

    /* Values first, so that templates can look up [identity]. */
    for (char **g = groups; *g; g++) {
        g_auto(GStrv) keys = g_key_file_get_keys(kf, *g, NULL, NULL);

        for (char **k = keys; k && *k; k++) {
            g_autoptr(GError) err = NULL;
            g_autofree char *raw = g_key_file_get_value(kf, *g, *k, NULL);
            const char *bad = raw ? invalid_escape(raw) : NULL;
            char *v;

            if (bad) {
                set_error(errp, CLOAK_PROFILE_ERROR_SYNTAX, p->filename,
                          cloak_profile_line(p, *g, *k), "[%s] %s: invalid "
                          "escape '\\%c' (a key file knows \\s, \\n, "
                          "\\t, \\r and \\\\)", *g, *k,
                          bad[1] ? bad[1] : ' ');
                return false;
            }
            v = g_key_file_get_string(kf, *g, *k, &err);
            if (!v) {
                set_error(errp, CLOAK_PROFILE_ERROR_SYNTAX, p->filename,
                          cloak_profile_line(p, *g, *k), "[%s] %s: %s", *g,
                          *k, err->message);
                return false;
            }
            g_hash_table_insert(p->values, slot(*g, *k), v);
        }
    }

    for (char **g = groups; *g; g++) {
        g_auto(GStrv) keys = g_key_file_get_keys(kf, *g, NULL, NULL);

        if (!is_fixed_group(*g) && !find_open_group(*g)) {
            g_autofree char *known = known_groups();

            set_error(errp, CLOAK_PROFILE_ERROR_SCHEMA, p->filename,
                      GPOINTER_TO_UINT(g_hash_table_lookup(p->group_lines,
                                                           *g)),
                      "unknown group [%s]; known groups: %s", *g, known);
            return false;
        }
        for (char **k = keys; k && *k; k++) {
            CloakKeySpec ks;
            char *why = NULL;
            unsigned line = cloak_profile_line(p, *g, *k);

            if (!find_key(*g, *k, &ks)) {
                g_autofree char *known = known_keys(*g);

                set_error(errp, CLOAK_PROFILE_ERROR_SCHEMA, p->filename, line,
                          "unknown key '%s' in [%s]; known keys: %s", *k, *g,
                          known);
                return false;
            }
            if (!check_value(p, &ks, cloak_profile_get(p, *g, *k),
                             &why)) {
                set_error(errp, CLOAK_PROFILE_ERROR_SCHEMA, p->filename, line,
                          "[%s] %s: %s", *g, *k, why);
                g_free(why);
                return false;
            }
        }
    }
    return check_cooling_probes(p, errp);
}

CloakProfile *cloak_profile_parse(const char *name, const char *filename,
                                  const char *data, size_t len,
                                  GError **errp)
{
    g_autoptr(CloakProfile) p = g_new0(CloakProfile, 1);
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) err = NULL;
    const char *nul;

    p->name = g_strdup(name);
    p->filename = g_strdup(filename);
    p->values = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    p->lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    p->group_lines = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           NULL);
    p->keys = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                    (GDestroyNotify)g_ptr_array_unref);

    if (len > CLOAK_PROFILE_MAX_SIZE) {
        set_error(errp, CLOAK_PROFILE_ERROR_IO, filename, 0,
                  "%zu bytes, larger than the %d bytes a profile may have",
                  len, CLOAK_PROFILE_MAX_SIZE);
        return NULL;
    }
    nul = memchr(data, '\0', len);
    if (nul) {
        unsigned line = 1;

        for (const char *c = data; c < nul; c++) {
            line += *c == '\n';
        }
        set_error(errp, CLOAK_PROFILE_ERROR_SYNTAX, filename, line,
                  "NUL byte in a text file");
        return NULL;
    }
    if (!g_key_file_load_from_data(kf, data, len, G_KEY_FILE_NONE, &err)) {
        set_error(errp, CLOAK_PROFILE_ERROR_SYNTAX, filename,
                  first_bad_line(data, len), "%s", err->message);
        return NULL;
    }
    if (!scan_lines(p, data, len, errp) || !validate(p, kf, errp)) {
        return NULL;
    }
    return g_steal_pointer(&p);
}

/*
 * A profile is a small regular file.  Open without blocking (a FIFO would
 * wait for a writer for good), refuse anything else (/dev/zero would be
 * read forever), and read at most one byte past the size limit.
 */
CloakProfile *cloak_profile_load_file(const char *name, const char *path,
                                      GError **errp)
{
    g_autofree char *data = g_malloc(CLOAK_PROFILE_MAX_SIZE + 1);
    struct stat st;
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

    if (fd < 0) {
        set_error(errp, CLOAK_PROFILE_ERROR_IO, path, 0,
                  "cannot open: %s", g_strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        set_error(errp, CLOAK_PROFILE_ERROR_IO, path, 0,
                  "not a regular file (a profile is a text file)");
        close(fd);
        return NULL;
    }
    while (len <= CLOAK_PROFILE_MAX_SIZE) {
        ssize_t n = read(fd, data + len, CLOAK_PROFILE_MAX_SIZE + 1 - len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            set_error(errp, CLOAK_PROFILE_ERROR_IO, path, 0,
                      "cannot read: %s", g_strerror(errno));
            close(fd);
            return NULL;
        }
        if (n == 0) {
            break;
        }
        len += n;
    }
    close(fd);
    /* cloak_profile_parse() refuses more than CLOAK_PROFILE_MAX_SIZE */
    return cloak_profile_parse(name, path, data, len, errp);
}
