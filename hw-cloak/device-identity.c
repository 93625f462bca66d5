/*
 * qemu-cloak: device identities from the profile's [devices] group
 *
 * Two tables: the profile keys, each mapped to the (QOM type, property)
 * pairs it sets, and the leak rules cloak_device_identity_check applies
 * to the devices of the running machine.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/hw-version.h"
#include "qom/object.h"
#include "hw/qdev-core.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_device.h"
#include "hw/cloak/device-identity.h"
#include "hw/cloak/device-props.h"

/*
 * VALUE_SERIAL is checked like VALUE_TEXT once expanded, but registered as
 * a template that cloak_device_default_serial() expands per device.
 */
typedef enum {
    VALUE_TEXT,     /* printable ASCII, 1..max characters */
    VALUE_SERIAL,   /* a per-device template, TEXT once expanded */
    VALUE_PNP_ID,   /* three letters A-Z */
    VALUE_NUMBER,   /* min..max, decimal or 0x hex */
} ValueKind;

typedef struct {
    ValueKind kind;
    uint32_t min;
    uint32_t max;   /* longest text, or largest number */
} ValueSpec;

typedef struct {
    const char *type;
    const char *prop;
} Target;

#define MAX_TARGETS 2

typedef struct {
    const char *key;
    ValueSpec value;
    Target targets[MAX_TARGETS];
} IdentityKey;

#define TEXT(len)        { VALUE_TEXT, 1, (len) }
#define SERIAL(len)      { VALUE_SERIAL, 1, (len) }
#define PNP_ID           { VALUE_PNP_ID, 3, 3 }
#define NUMBER(lo, hi)   { VALUE_NUMBER, (lo), (hi) }
#define T(type, prop)    { (type), (prop) }

/* The five identity properties of an emulated USB device (hw/usb/bus.c). */
#define USB_KEYS(E, name, type)                                            \
    E(name "-manufacturer", TEXT(126), T(type, "manufacturer"))            \
    E(name "-serial", SERIAL(126), T(type, "serial"))                      \
    E(name "-product", TEXT(126), T(type, "product"))                      \
    E(name "-vendor-id", NUMBER(1, 0xffff), T(type, "id-vendor"))          \
    E(name "-product-id", NUMBER(0, 0xffff), T(type, "id-product"))        \
    E(name "-bcd-device", NUMBER(0, 0xffff), T(type, "bcd-device"))

/*
 * Every key: name, value kind, then the properties it sets.  Field widths
 * are those of the guest-visible field (ATA IDENTIFY model 40, firmware 8;
 * SCSI INQUIRY vendor 8, product 16, revision 4; NVMe model 40, firmware
 * 8; EDID text 13).
 */
#define IDENTITY_KEYS(E)                                                   \
    E("disk-model", TEXT(40), T("ide-hd", "model"))                        \
    E("disk-firmware", TEXT(8), T("ide-hd", "ver"))                        \
    E("disk-serial", SERIAL(20), T("ide-hd", "serial"))                    \
    E("disk-rotation-rate", NUMBER(0, 0xfffe),                             \
      T("ide-hd", "rotation_rate"), T("scsi-hd", "rotation_rate"))         \
    E("scsi-disk-vendor", TEXT(8), T("scsi-hd", "vendor"))                 \
    E("scsi-disk-product", TEXT(16), T("scsi-hd", "product"))              \
    E("scsi-disk-revision", TEXT(4), T("scsi-hd", "ver"))                  \
    E("cd-model", TEXT(40), T("ide-cd", "model"))                       \
    E("cd-firmware", TEXT(8), T("ide-cd", "ver"), T("scsi-cd", "ver"))  \
    E("cd-serial", SERIAL(20), T("ide-cd", "serial"))                      \
    E("cd-vendor", TEXT(8), T("ide-cd", "vendor"), T("scsi-cd", "vendor")) \
    E("cd-product", TEXT(16),                                           \
      T("ide-cd", "product"), T("scsi-cd", "product"))                     \
    E("nvme-model", TEXT(40), T("nvme", "model"))                          \
    E("nvme-firmware", TEXT(8), T("nvme", "firmware-rev"))                 \
    E("nvme-ieee-oui", NUMBER(0, 0xffffff), T("nvme", "ieee-oui"))         \
    E("nvme-pci-vendor-id", NUMBER(1, 0xfffe), T("nvme", "pci-vendor-id")) \
    E("nvme-pci-device-id", NUMBER(0, 0xffff), T("nvme", "pci-device-id")) \
    USB_KEYS(E, "usb-tablet", "usb-tablet")                                \
    USB_KEYS(E, "usb-mouse", "usb-mouse")                                  \
    USB_KEYS(E, "usb-keyboard", "usb-kbd")                                 \
    USB_KEYS(E, "usb-hub", "usb-hub")                                      \
    USB_KEYS(E, "usb-storage", "usb-storage-dev")                          \
    E("pci-subsystem-vendor-id", NUMBER(0, 0xffff),                        \
      T("pci-device", "default-subsystem-vendor-id"))                      \
    E("pci-subsystem-id", NUMBER(0, 0xffff),                               \
      T("pci-device", "default-subsystem-id"))                             \
    E("edid-vendor", PNP_ID,                                               \
      T("pci-vga", "edid-vendor"), T("bochs-display", "edid-vendor"))      \
    E("edid-name", TEXT(13),                                               \
      T("pci-vga", "edid-name"), T("bochs-display", "edid-name"))          \
    E("edid-serial", TEXT(13),                                             \
      T("pci-vga", "edid-serial"), T("bochs-display", "edid-serial"))      \
    E("edid-product-id", NUMBER(1, 0xffff),                                \
      T("pci-vga", "edid-product-id"), T("bochs-display", "edid-product-id")) \
    E("edid-week", NUMBER(1, 54),                                          \
      T("pci-vga", "edid-week"), T("bochs-display", "edid-week"))          \
    E("edid-year", NUMBER(1990, 2245),                                     \
      T("pci-vga", "edid-year"), T("bochs-display", "edid-year"))          \
    E("display-vendor-id", NUMBER(1, 0xfffe),                              \
      T("pci-vga", "pci-vendor-id"))                                       \
    E("display-device-id", NUMBER(0, 0xffff),                              \
      T("pci-vga", "pci-device-id"))                                       \
    E("root-port-vendor-id", NUMBER(1, 0xfffe),                            \
      T("pcie-root-port", "pci-vendor-id"))                                \
    E("root-port-device-id", NUMBER(0, 0xffff),                            \
      T("pcie-root-port", "pci-device-id"))                                \
    E("root-port-device-id-step", NUMBER(0, 8),                            \
      T("pcie-root-port", "pci-device-id-step"))                           \
    E("hda-codec-vendor-id", NUMBER(1, 0xffffffff),                        \
      T("hda-audio", "vendor-id"))                                         \
    E("hda-codec-subsystem-id", NUMBER(1, 0xffffffff),                     \
      T("hda-audio", "subsystem-id"))                                      \
    E("hda-codec-revision-id", NUMBER(0, 0xffffffff),                      \
      T("hda-audio", "revision-id"))

#define KEY_ENTRY(key_, value_, ...) \
    { .key = (key_), .value = value_, .targets = { __VA_ARGS__ } },
#define KEY_NAME(key_, ...) key_,

static const IdentityKey identity_keys[] = {
    IDENTITY_KEYS(KEY_ENTRY)
};

const char *const cloak_device_identity_keys[] = {
    IDENTITY_KEYS(KEY_NAME)
    NULL
};

static const IdentityKey *find_key(const char *key)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(identity_keys); i++) {
        if (!strcmp(identity_keys[i].key, key)) {
            return &identity_keys[i];
        }
    }
    return NULL;
}

/*
 * Check @value against @k's kind; on success return the string to hand to
 * the property parser (numbers in decimal).
 */
static char *parse_value(const IdentityKey *k, const char *value,
                         Error **errp)
{
    const ValueSpec *spec = &k->value;
    const char *p;
    uint64_t num;

    switch (spec->kind) {
    case VALUE_TEXT:
    case VALUE_SERIAL:
        if (!*value) {
            error_setg(errp, "[%s] %s: the value is empty",
                       CLOAK_DEVICE_IDENTITY_GROUP, k->key);
            return NULL;
        }
        if (strlen(value) > spec->max) {
            error_setg(errp, "[%s] %s: \"%s\" is longer than %u characters",
                       CLOAK_DEVICE_IDENTITY_GROUP, k->key, value, spec->max);
            return NULL;
        }
        for (p = value; *p; p++) {
            if (*p < 0x20 || *p > 0x7e) {
                error_setg(errp, "[%s] %s: \"%s\" has a character that is "
                           "not printable ASCII", CLOAK_DEVICE_IDENTITY_GROUP,
                           k->key, value);
                return NULL;
            }
        }
        return g_strdup(value);
    case VALUE_PNP_ID:
        if (strlen(value) != 3 || !g_ascii_isupper(value[0]) ||
            !g_ascii_isupper(value[1]) || !g_ascii_isupper(value[2])) {
            error_setg(errp, "[%s] %s: \"%s\" is not a three-letter PNP ID "
                       "(A-Z)", CLOAK_DEVICE_IDENTITY_GROUP, k->key, value);
            return NULL;
        }
        return g_strdup(value);
    case VALUE_NUMBER:
        if (parse_uint_full(value, 0, &num) < 0) {
            error_setg(errp, "[%s] %s: \"%s\" is not a number (decimal or "
                       "0x hex)", CLOAK_DEVICE_IDENTITY_GROUP, k->key, value);
            return NULL;
        }
        if (num < spec->min || num > spec->max) {
            error_setg(errp, "[%s] %s: %s is outside 0x%x..0x%x",
                       CLOAK_DEVICE_IDENTITY_GROUP, k->key, value,
                       spec->min, spec->max);
            return NULL;
        }
        return g_strdup_printf("%" PRIu64, num);
    }
    g_assert_not_reached();
}

/*
 * Serial templates by key index, and the profile and seed they expand
 * with: one device's serial is the template expanded for that device.
 */
static char *serial_templates[ARRAY_SIZE(identity_keys)];
static const CloakProfile *serial_profile;
static char *serial_seed;

static void register_value(const IdentityKey *k, const char *value)
{
    size_t i;

    if (k->value.kind == VALUE_SERIAL) {
        i = k - identity_keys;
        g_free(serial_templates[i]);
        serial_templates[i] = g_strdup(value);
        return;
    }
    for (i = 0; i < MAX_TARGETS && k->targets[i].type; i++) {
        object_register_sugar_prop(k->targets[i].type, k->targets[i].prop,
                                   value, false);
    }
}

bool cloak_device_identity_set(const char *key, const char *value,
                               Error **errp)
{
    const IdentityKey *k = find_key(key);
    g_autofree char *parsed = NULL;

    if (!k) {
        error_setg(errp, "[%s] %s: unknown device identity key",
                   CLOAK_DEVICE_IDENTITY_GROUP, key);
        return false;
    }
    parsed = parse_value(k, value, errp);
    if (!parsed) {
        return false;
    }
    register_value(k, parsed);
    return true;
}

/* Seed for validating a profile's templates without a VM at hand. */
#define VALIDATION_SEED "cloak-device-identity-validate"

/*
 * Expand and parse every key @profile sets with @seed; NULL entries for
 * keys it leaves out.
 */
static bool parse_profile(const CloakProfile *profile, const char *seed,
                          char **parsed, Error **errp)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(identity_keys); i++) {
        const IdentityKey *k = &identity_keys[i];
        g_autofree char *value = NULL;

        if (!cloak_profile_get(profile, CLOAK_DEVICE_IDENTITY_GROUP, k->key)) {
            continue;
        }
        value = cloak_profile_expand(profile, CLOAK_DEVICE_IDENTITY_GROUP,
                                     k->key, seed);
        if (!value) {
            error_setg(errp, "[%s] %s: cannot expand the value",
                       CLOAK_DEVICE_IDENTITY_GROUP, k->key);
        } else {
            parsed[i] = parse_value(k, value, errp);
        }
        if (!parsed[i]) {
            /* FILE:LINE first, as every other profile error has it */
            error_prepend(errp, "%s:%u: ", cloak_profile_filename(profile),
                          cloak_profile_line(profile,
                                             CLOAK_DEVICE_IDENTITY_GROUP,
                                             k->key));
            return false;
        }
        if (k->value.kind == VALUE_SERIAL) {
            /* Checked expanded; kept as the template, expanded per device */
            g_free(parsed[i]);
            parsed[i] = g_strdup(cloak_profile_get(
                profile, CLOAK_DEVICE_IDENTITY_GROUP, k->key));
        }
    }
    return true;
}

static void free_parsed(char **parsed)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(identity_keys); i++) {
        g_free(parsed[i]);
    }
}

bool cloak_device_identity_validate(const CloakProfile *profile,
                                    Error **errp)
{
    char *parsed[ARRAY_SIZE(identity_keys)] = { NULL };
    Error *local_err = NULL;
    bool ok = parse_profile(profile, VALIDATION_SEED, parsed, &local_err);

    error_propagate(errp, local_err);
    free_parsed(parsed);
    return ok;
}

bool cloak_device_identity_register(const CloakProfile *profile,
                                    const char *seed, Error **errp)
{
    char *parsed[ARRAY_SIZE(identity_keys)] = { NULL };
    Error *local_err = NULL;    /* so that FILE:LINE is added first */
    size_t i;
    bool ok = parse_profile(profile, seed, parsed, &local_err);

    if (!ok) {
        error_propagate(errp, local_err);
    } else {
        serial_profile = profile;
        g_free(serial_seed);
        serial_seed = g_strdup(seed);
        for (i = 0; i < ARRAY_SIZE(identity_keys); i++) {
            if (parsed[i]) {
                register_value(&identity_keys[i], parsed[i]);
            }
        }
    }
    free_parsed(parsed);
    return ok;
}

char *cloak_device_identity_serial(DeviceState *dev)
{
    size_t i;

    for (i = 0; i < ARRAY_SIZE(identity_keys); i++) {
        const IdentityKey *k = &identity_keys[i];
        g_autofree char *path = NULL;
        g_autofree char *purpose = NULL;
        char *serial;

        if (!serial_templates[i] ||
            !object_dynamic_cast(OBJECT(dev), k->targets[0].type)) {
            continue;
        }
        if (!serial_profile) {
            return g_strdup(serial_templates[i]);     /* set(): literal */
        }
        /* The device's place in the machine tells devices apart. */
        path = qdev_get_dev_path(dev);
        if (!path) {
            path = object_get_canonical_path(OBJECT(dev));
        }
        purpose = g_strdup_printf("%s/%s/%s", CLOAK_DEVICE_IDENTITY_GROUP,
                                  k->key, path);
        serial = cloak_template_expand(serial_profile, serial_templates[i],
                                       purpose, serial_seed ?: "");
        return serial ?: g_strdup(serial_templates[i]);
    }
    return NULL;
}

/* ---------------------------------------------------------------- check */

/*
 * RULE_TEXT leaks if the value is unset (then @stock applies), equal to
 * @stock, or names QEMU.
 */
typedef enum {
    RULE_TEXT,
    RULE_IDE_SERIAL, /* leaks if unset or QEMU's "QM%05d" */
    RULE_NUMBER,    /* leaks if equal to @number or @number2 */
    RULE_VENDOR16,  /* leaks if the high 16 bits equal @number */
} RuleKind;

/*
 * One guest-visible identity property and how to tell QEMU's value.  The
 * report names the profile key that sets the property, found in
 * identity_keys[]; properties no key sets name @remedy instead.
 */
typedef struct {
    const char *type;
    const char *prop;
    RuleKind kind;
    const char *stock;      /* NULL: QEMU's hardware version ("2.5+") */
    uint64_t number;
    uint64_t number2;
    const char *remedy;
} LeakRule;

#define PER_DEVICE(prop) "set " prop "= on each device (a per-VM value)"

#define TEXT_RULE(type, prop, stock) \
    { (type), (prop), RULE_TEXT, (stock), 0, 0, NULL }
#define SERIAL_RULE(type) \
    { (type), "serial", RULE_IDE_SERIAL, NULL, 0, 0, PER_DEVICE("serial") }
#define NUMBER_RULE(type, prop, n1, n2) \
    { (type), (prop), RULE_NUMBER, NULL, (n1), (n2), NULL }
#define VENDOR16_RULE(type, prop, vendor) \
    { (type), (prop), RULE_VENDOR16, NULL, (vendor), 0, NULL }

static const LeakRule leak_rules[] = {
    TEXT_RULE("ide-hd", "model", "QEMU HARDDISK"),
    TEXT_RULE("ide-hd", "ver", NULL),
    SERIAL_RULE("ide-hd"),
    TEXT_RULE("ide-cd", "model", "QEMU DVD-ROM"),
    TEXT_RULE("ide-cd", "ver", NULL),
    TEXT_RULE("ide-cd", "vendor", "QEMU"),
    TEXT_RULE("ide-cd", "product", "QEMU DVD-ROM"),
    SERIAL_RULE("ide-cd"),
    TEXT_RULE("ide-cf", "model", "QEMU MICRODRIVE"),
    TEXT_RULE("ide-cf", "ver", NULL),
    SERIAL_RULE("ide-cf"),
    TEXT_RULE("scsi-hd", "vendor", "QEMU"),
    TEXT_RULE("scsi-hd", "product", "QEMU HARDDISK"),
    TEXT_RULE("scsi-hd", "ver", NULL),
    TEXT_RULE("scsi-cd", "vendor", "QEMU"),
    TEXT_RULE("scsi-cd", "product", "QEMU CD-ROM"),
    TEXT_RULE("scsi-cd", "ver", NULL),
    TEXT_RULE("nvme", "model", "QEMU NVMe Ctrl"),
    TEXT_RULE("nvme", "firmware-rev", QEMU_VERSION),
    { "nvme", "subnqn", RULE_TEXT, "nqn.2019-08.org.qemu:<serial>", 0, 0,
      PER_DEVICE("subnqn") },
    NUMBER_RULE("nvme", "ieee-oui", 0x525400, 0x0002b3),
    TEXT_RULE("pci-vga", "edid-vendor", "RHT"),
    TEXT_RULE("pci-vga", "edid-name", "QEMU Monitor"),
    NUMBER_RULE("pci-vga", "edid-product-id", 0x1234, 0x1234),
    TEXT_RULE("bochs-display", "edid-vendor", "RHT"),
    TEXT_RULE("bochs-display", "edid-name", "QEMU Monitor"),
    NUMBER_RULE("bochs-display", "edid-product-id", 0x1234, 0x1234),
    VENDOR16_RULE("hda-audio", "vendor-id", 0x1af4),
    VENDOR16_RULE("hda-audio", "subsystem-id", 0x1af4),
};

/* Device models that are QEMU's whatever their properties say. */
static const struct {
    const char *type;
    const char *why;
} leaky_models[] = {
    { "pvpanic", "ACPI device QEMU0001; leave the panic device out" },
    { "vmgenid", "ACPI device QEMUVGID; leave the VM generation ID out" },
    { "mptsas1068", "reports \"QEMU MPT Fusion\"; use AHCI" },
    { "megasas-base", "reports HBA serial \"QEMU123456\"; use AHCI" },
};

/* PCI vendor IDs that only virtual hardware uses. */
static const struct {
    uint16_t vendor;
    const char *why;
} leaky_pci_vendors[] = {
    { 0x1af4, "virtio/Red Hat vendor ID; use an emulated device model "
              "(e1000e, AHCI, ich9-intel-hda, ...)" },
    { 0x1b36, "Red Hat (QEMU) vendor ID; use another device model "
              "(nec-usb-xhci, ...), or for pcie-root-port set [devices] "
              "root-port-vendor-id and root-port-device-id" },
    { 0x1234, "QEMU std VGA/bochs-display ID; set [devices] "
              "display-vendor-id and display-device-id (VGA, "
              "secondary-vga; bochs-display has no such property; "
              "see docs/device-identity.md)" },
    { 0x15ad, "VMware paravirtual device; use an emulated device model" },
    { 0x5853, "Xen platform device" },
};

typedef struct {
    GPtrArray *lines;
} LeakReport;

/* The profile key that sets @prop on @obj's type, or NULL. */
static const char *key_for(Object *obj, const char *prop)
{
    size_t i, t;

    for (i = 0; i < ARRAY_SIZE(identity_keys); i++) {
        const IdentityKey *k = &identity_keys[i];

        for (t = 0; t < MAX_TARGETS && k->targets[t].type; t++) {
            if (!strcmp(k->targets[t].prop, prop) &&
                object_dynamic_cast(obj, k->targets[t].type)) {
                return k->key;
            }
        }
    }
    return NULL;
}

/* What sets @prop: its profile key, else @fallback or "set prop=". */
static char *remedy_for(Object *obj, const char *prop, const char *fallback)
{
    const char *key = key_for(obj, prop);

    if (key) {
        return g_strdup_printf("set [%s] %s", CLOAK_DEVICE_IDENTITY_GROUP,
                               key);
    }
    return fallback ? g_strdup(fallback)
                    : g_strdup_printf("set %s= on the device", prop);
}

static void report_leak(LeakReport *r, Object *obj, const char *what,
                        const char *value, const char *remedy)
{
    g_autofree char *path = object_get_canonical_path(obj);

    g_ptr_array_add(r->lines, g_strdup_printf("%s (%s): %s %s: %s",
                                              path ?: "?",
                                              object_get_typename(obj), what,
                                              value, remedy));
}

static bool contains_qemu(const char *s)
{
    g_autofree char *lower = g_ascii_strdown(s, -1);

    return strstr(lower, "qemu") != NULL;
}

/* ide_init_drive() numbers drives "QM00001", "QM00002", ... */
static bool is_ide_default_serial(const char *s)
{
    size_t i;

    if (strlen(s) != 7 || s[0] != 'Q' || s[1] != 'M') {
        return false;
    }
    for (i = 2; i < 7; i++) {
        if (!g_ascii_isdigit(s[i])) {
            return false;
        }
    }
    return true;
}

static void check_rule(LeakReport *r, Object *obj, const LeakRule *rule)
{
    g_autofree char *text = NULL;
    const char *what = rule->prop;
    const char *stock = rule->stock ?: qemu_hw_version();
    g_autofree char *remedy = remedy_for(obj, rule->prop, rule->remedy);
    uint64_t num;

    if (!object_property_find(obj, rule->prop)) {
        return;
    }
    switch (rule->kind) {
    case RULE_TEXT:
        text = object_property_get_str(obj, rule->prop, NULL);
        if (!text || !*text) {
            g_autofree char *shown = g_strdup_printf("unset (\"%s\")", stock);
            report_leak(r, obj, what, shown, remedy);
        } else if (contains_qemu(text) || !strcmp(text, stock)) {
            g_autofree char *shown = g_strdup_printf("\"%s\"", text);
            report_leak(r, obj, what, shown, remedy);
        }
        break;
    case RULE_IDE_SERIAL:
        text = object_property_get_str(obj, rule->prop, NULL);
        if (!text || !*text || is_ide_default_serial(text)) {
            g_autofree char *shown = g_strdup_printf("\"%s\"", text ?: "");
            report_leak(r, obj, what, shown, remedy);
        }
        break;
    case RULE_NUMBER:
        num = object_property_get_uint(obj, rule->prop, NULL);
        if (num == rule->number || num == rule->number2) {
            g_autofree char *shown = g_strdup_printf("0x%" PRIx64, num);
            report_leak(r, obj, what, shown, remedy);
        }
        break;
    case RULE_VENDOR16:
        num = object_property_get_uint(obj, rule->prop, NULL);
        if ((num >> 16) == rule->number) {
            g_autofree char *shown = g_strdup_printf("0x%08" PRIx64, num);
            report_leak(r, obj, what, shown, remedy);
        }
        break;
    }
}

static bool edid_enabled(Object *obj)
{
    return object_property_find(obj, "edid") &&
           object_property_get_bool(obj, "edid", NULL);
}

static void check_usb(LeakReport *r, Object *obj)
{
    static const char *const strings[] = { "manufacturer", "product" };
    uint64_t vendor = object_property_get_uint(obj, "id-vendor", NULL);
    g_autofree char *serial = NULL;
    size_t i;

    if (vendor > 0xffff) {
        return;     /* no emulated descriptors (usb-host) */
    }
    /* 0627: QEMU's HID devices; 46f4: CRC16 of "QEMU" (storage, audio) */
    if (vendor == 0x0627 || vendor == 0x46f4) {
        g_autofree char *shown = g_strdup_printf("0x%04" PRIx64, vendor);
        g_autofree char *remedy = remedy_for(obj, "id-vendor", NULL);

        report_leak(r, obj, "id-vendor", shown, remedy);
    }
    for (i = 0; i < ARRAY_SIZE(strings); i++) {
        g_autofree char *text = object_property_get_str(obj, strings[i],
                                                        NULL);
        if (text && contains_qemu(text)) {
            g_autofree char *shown = g_strdup_printf("\"%s\"", text);
            g_autofree char *remedy = remedy_for(obj, strings[i], NULL);

            report_leak(r, obj, strings[i], shown, remedy);
        }
    }
    serial = object_property_get_str(obj, "serial", NULL);
    if (!serial || !*serial) {
        g_autofree char *remedy = remedy_for(obj, "serial",
                                             PER_DEVICE("serial"));

        report_leak(r, obj, "serial", "unset (QEMU's fixed number plus the "
                    "port path)", remedy);
    }
}

static void check_pci(LeakReport *r, Object *obj)
{
    PCIDevice *pci = PCI_DEVICE(obj);
    uint16_t vendor = pci_get_word(pci->config + PCI_VENDOR_ID);
    uint16_t device = pci_get_word(pci->config + PCI_DEVICE_ID);
    uint8_t header = pci->config[PCI_HEADER_TYPE] &
                     ~PCI_HEADER_TYPE_MULTI_FUNCTION;
    size_t i;

    for (i = 0; i < ARRAY_SIZE(leaky_pci_vendors); i++) {
        if (vendor == leaky_pci_vendors[i].vendor) {
            g_autofree char *shown = g_strdup_printf("%04x:%04x", vendor,
                                                     device);
            report_leak(r, obj, "PCI ID", shown, leaky_pci_vendors[i].why);
            return;
        }
    }
    if (vendor == PCI_VENDOR_ID_INTEL && device == 0x5845) {
        report_leak(r, obj, "PCI ID", "8086:5845",
                    "QEMU's NVMe ID (use-intel-id); set nvme-pci-vendor-id "
                    "and nvme-pci-device-id");
        return;
    }
    if (header == PCI_HEADER_TYPE_NORMAL &&
        pci_get_word(pci->config + PCI_SUBSYSTEM_VENDOR_ID) == 0x1af4) {
        g_autofree char *shown = g_strdup_printf(
            "%04x:%04x", 0x1af4,
            pci_get_word(pci->config + PCI_SUBSYSTEM_ID));
        report_leak(r, obj, "PCI subsystem", shown,
                    "set [" CLOAK_DEVICE_IDENTITY_GROUP "] "
                    "pci-subsystem-vendor-id and pci-subsystem-id");
    }
}

static int check_object(Object *obj, void *opaque)
{
    LeakReport *r = opaque;
    size_t i;

    if (!object_dynamic_cast(obj, TYPE_DEVICE) || !DEVICE(obj)->realized) {
        return 0;
    }
    for (i = 0; i < ARRAY_SIZE(leaky_models); i++) {
        if (object_dynamic_cast(obj, leaky_models[i].type)) {
            report_leak(r, obj, "device model", leaky_models[i].type,
                        leaky_models[i].why);
        }
    }
    for (i = 0; i < ARRAY_SIZE(leak_rules); i++) {
        const LeakRule *rule = &leak_rules[i];

        if (!object_dynamic_cast(obj, rule->type)) {
            continue;
        }
        if (g_str_has_prefix(rule->prop, "edid-") && !edid_enabled(obj)) {
            continue;
        }
        check_rule(r, obj, rule);
    }
    if (object_dynamic_cast(obj, "usb-device")) {
        check_usb(r, obj);
    }
    if (object_dynamic_cast(obj, TYPE_PCI_DEVICE)) {
        check_pci(r, obj);
    }
    return 0;
}

GPtrArray *cloak_device_identity_leaks(void)
{
    LeakReport r = { .lines = g_ptr_array_new_with_free_func(g_free) };

    object_child_foreach_recursive(qdev_get_machine(), check_object, &r);
    return r.lines;
}

bool cloak_device_identity_check(Error **errp)
{
    g_autoptr(GPtrArray) leaks = cloak_device_identity_leaks();
    guint i;

    if (!leaks->len) {
        return true;
    }
    error_setg(errp, "%u device identit%s still QEMU's", leaks->len,
               leaks->len == 1 ? "y is" : "ies are");
    for (i = 0; i < leaks->len; i++) {
        error_append_hint(errp, "  %s\n",
                          (const char *)g_ptr_array_index(leaks, i));
    }
    return false;
}
