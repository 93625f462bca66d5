/*
 * qemu-cloak: every profile key, once.
 *
 * CLOAK_PROFILE_KEYS(K) calls K(group, key, kind, min, max, per_model,
 * dest) for each key of the fixed groups, in the order the docs list them.
 * cloak-profile.c expands it once into cloak_profile_key_table[], and
 * everything that knows a key reads that table: the profile schema (also
 * built without QEMU for the unit tests, the fuzzer and
 * cloak-profile-check), the -smbios defaults (cloak-smbios.c), the machine
 * property defaults (cloak.c) and `cloak-profile-check --keys`, which
 * prints the key reference of docs/cloak.md (tests/cloak/test_profiles.py
 * compares them).  Adding a key is one row here and one line in that
 * reference.
 *
 *   kind       STRING    printable ASCII, per-VM templates allowed
 *              NUMBER    decimal or 0x-hex within [min, max]
 *              ASCII_ID  printable ASCII of min..max characters, no templates
 *              DATE      MM/DD/YYYY
 *              RELEASE   major.minor, each 0..255
 *              OUI       XX:XX:XX, unicast and universally administered
 *              FLAGS     comma-separated QEMU CPU feature names
 *              ACPI_NAMES  min..max comma-separated ACPI names (4 of A-Z,
 *                        0-9, _; not a digit first), each with an optional
 *                        ":UID" (1..16 of A-Z, a-z, 0-9): a number or string
 *   per_model  CLOAK_KEY_GROUP      the key as written
 *              CLOAK_KEY_PER_MODEL  also as <key>-<C>c<T>t, for the model
 *                                   chosen for C cores, T threads a socket
 *              CLOAK_KEY_MODEL_ONLY only as <key>-<C>c<T>t
 *   dest       where the value goes:
 *              CLOAK_TO_SMBIOS(type, option)  -smbios type=T,option=value
 *              CLOAK_TO_MACHINE(property)     -machine property=value
 *              CLOAK_TO_CODE                  read by the code that needs it
 *                                             (cloak_value()), see docs
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_CLOAK_KEYS_H
#define HW_CLOAK_KEYS_H

#define CLOAK_KEY_GROUP      0
#define CLOAK_KEY_PER_MODEL  1
#define CLOAK_KEY_MODEL_ONLY 2

typedef enum {
    CLOAK_VALUE_STRING,
    CLOAK_VALUE_NUMBER,
    CLOAK_VALUE_ASCII_ID,
    CLOAK_VALUE_DATE,
    CLOAK_VALUE_RELEASE,
    CLOAK_VALUE_OUI,
    CLOAK_VALUE_FLAGS,
    CLOAK_VALUE_TEMPLATE,       /* [identity] values: {D,X,A,L:n} only */
    CLOAK_VALUE_RECORD,         /* [smbios] values: CLOAK_SMBIOS_RECORDS */
    CLOAK_VALUE_ACPI_NAMES,     /* NAME[:UID],... (min..max entries) */
} CloakValueKind;

/* Where a key's value goes; neither field set: the cloak's code reads it. */
typedef struct CloakKeyDest {
    int smbios_type;            /* -smbios type=, when smbios_option is set */
    const char *smbios_option;
    const char *machine_property;
} CloakKeyDest;

typedef struct CloakKeySpec {
    const char *group;
    const char *key;
    CloakValueKind kind;
    uint64_t min, max;          /* numbers: range; strings, IDs: length */
    int per_model;              /* CLOAK_KEY_GROUP, _PER_MODEL, _MODEL_ONLY */
    CloakKeyDest to;
} CloakKeySpec;

#define CLOAK_TO_SMBIOS(type, option) \
    { .smbios_type = (type), .smbios_option = (option) }
#define CLOAK_TO_MACHINE(property) { .machine_property = (property) }
#define CLOAK_TO_CODE { 0 }

/* CLOAK_PROFILE_KEYS as a table, in its order (cloak-profile.c). */
extern const CloakKeySpec cloak_profile_key_table[];
extern const size_t cloak_profile_key_count;

#define CLOAK_U16 0xffff
#define CLOAK_U32 0xffffffffULL
#define CLOAK_U64 0xffffffffffffffffULL

#define CLOAK_PROFILE_KEYS(K) \
    K("profile", "description", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_CODE) \
    K("profile", "class", STRING, 0, 0, CLOAK_KEY_GROUP, CLOAK_TO_CODE) \
    \
    K("bios", "vendor", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(0, "vendor")) \
    K("bios", "version", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(0, "version")) \
    K("bios", "date", DATE, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(0, "date")) \
    K("bios", "release", RELEASE, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(0, "release")) \
    K("bios", "characteristics", NUMBER, 0, CLOAK_U64, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-bios-characteristics")) \
    K("bios", "characteristics-ext1", NUMBER, 0, 0xff, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-bios-characteristics-ext1")) \
    K("bios", "characteristics-ext2", NUMBER, 0, 0xff, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-bios-characteristics-ext2")) \
    K("bios", "rom-size", NUMBER, 0, 0xff, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-bios-rom-size")) \
    K("bios", "segment", NUMBER, 0, CLOAK_U16, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-bios-segment")) \
    \
    K("system", "manufacturer", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(1, "manufacturer")) \
    K("system", "product", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(1, "product")) \
    K("system", "version", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(1, "version")) \
    K("system", "serial", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(1, "serial")) \
    K("system", "sku", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(1, "sku")) \
    K("system", "family", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(1, "family")) \
    \
    K("board", "manufacturer", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(2, "manufacturer")) \
    K("board", "product", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(2, "product")) \
    K("board", "version", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(2, "version")) \
    K("board", "serial", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(2, "serial")) \
    K("board", "asset", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(2, "asset")) \
    K("board", "location", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(2, "location")) \
    \
    K("chassis", "manufacturer", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(3, "manufacturer")) \
    K("chassis", "version", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(3, "version")) \
    K("chassis", "serial", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(3, "serial")) \
    K("chassis", "asset", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(3, "asset")) \
    K("chassis", "sku", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(3, "sku")) \
    /* SMBIOS 3.x table 17; 1 (Other) and 2 (Unknown) are what VMs use */ \
    K("chassis", "type", NUMBER, 3, 0x24, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-chassis-type")) \
    \
    K("cpu", "vendor", ASCII_ID, 12, 12, CLOAK_KEY_GROUP, CLOAK_TO_CODE) \
    K("cpu", "family", NUMBER, 1, 0xff + 0xf, CLOAK_KEY_GROUP, \
      CLOAK_TO_CODE) \
    K("cpu", "model", NUMBER, 0, 0xff, CLOAK_KEY_PER_MODEL, CLOAK_TO_CODE) \
    K("cpu", "stepping", NUMBER, 0, 0xf, CLOAK_KEY_PER_MODEL, \
      CLOAK_TO_CODE) \
    /* CPUID's brand string holds 48 characters */ \
    K("cpu", "model-id", STRING, 0, 48, CLOAK_KEY_MODEL_ONLY, \
      CLOAK_TO_CODE) \
    /* the microcode revision (MSR 0x8B) the part runs */ \
    K("cpu", "microcode", NUMBER, 1, CLOAK_U32, CLOAK_KEY_PER_MODEL, \
      CLOAK_TO_CODE) \
    /* IA32_ARCH_CAPABILITIES bits and CPUID flags, by QEMU's names */ \
    K("cpu", "arch-capabilities", FLAGS, 0, 0, CLOAK_KEY_PER_MODEL, \
      CLOAK_TO_CODE) \
    K("cpu", "features", FLAGS, 0, 0, CLOAK_KEY_PER_MODEL, CLOAK_TO_CODE) \
    K("cpu", "manufacturer", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(4, "manufacturer")) \
    K("cpu", "socket", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(4, "sock_pfx")) \
    K("cpu", "smbios-family", NUMBER, 1, 0xfffd, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(4, "processor-family")) \
    K("cpu", "max-speed", NUMBER, 1, CLOAK_U16, CLOAK_KEY_PER_MODEL, \
      CLOAK_TO_SMBIOS(4, "max-speed")) \
    K("cpu", "current-speed", NUMBER, 1, CLOAK_U16, CLOAK_KEY_PER_MODEL, \
      CLOAK_TO_SMBIOS(4, "current-speed")) \
    K("cpu", "external-clock", NUMBER, 0, CLOAK_U16, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-cpu-external-clock")) \
    K("cpu", "upgrade", NUMBER, 1, 0xff, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-cpu-upgrade")) \
    K("cpu", "voltage", NUMBER, 0, 0xff, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-cpu-voltage")) \
    K("cpu", "characteristics", NUMBER, 0, CLOAK_U16, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-cpu-characteristics")) \
    /* KiB per core: L1 data + instruction, L2, L3 */ \
    K("cpu", "cache-l1", NUMBER, 1, 0x7fff, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-cache-l1")) \
    K("cpu", "cache-l2", NUMBER, 1, 0x7fff, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-cache-l2")) \
    K("cpu", "cache-l3", NUMBER, 1, 0x7fff, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-cache-l3")) \
    /* CPUID leaves 2, 4 and 0x80000005/6: the L1 data share of cache-l1 */ \
    K("cpu", "cache-l1d", NUMBER, 1, 0x7fff, CLOAK_KEY_GROUP, \
      CLOAK_TO_CODE) \
    K("cpu", "cache-l1d-ways", NUMBER, 1, 0xff, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-cache-l1-ways")) \
    K("cpu", "cache-l1i-ways", NUMBER, 1, 0xff, CLOAK_KEY_GROUP, \
      CLOAK_TO_CODE) \
    K("cpu", "cache-l2-ways", NUMBER, 1, 0xff, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-cache-l2-ways")) \
    K("cpu", "cache-l3-ways", NUMBER, 1, 0xff, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-cache-l3-ways")) \
    \
    K("memory", "manufacturer", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(17, "manufacturer")) \
    K("memory", "part", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(17, "part")) \
    K("memory", "serial", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(17, "serial")) \
    K("memory", "asset", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(17, "asset")) \
    K("memory", "locator", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(17, "loc_pfx")) \
    K("memory", "bank", STRING, 0, 0, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(17, "bank")) \
    K("memory", "speed", NUMBER, 1, 0xfffe, CLOAK_KEY_GROUP, \
      CLOAK_TO_SMBIOS(17, "speed")) \
    K("memory", "type", NUMBER, 1, 0x23, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-memory-type")) \
    K("memory", "type-detail", NUMBER, 0, CLOAK_U16, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-memory-type-detail")) \
    K("memory", "form-factor", NUMBER, 1, 0x10, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-memory-form-factor")) \
    K("memory", "width", NUMBER, 1, 0xfffe, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-memory-width")) \
    K("memory", "voltage", NUMBER, 0, CLOAK_U16, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-memory-voltage")) \
    K("memory", "ecc", NUMBER, 1, 7, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-memory-ecc")) \
    K("memory", "array-location", NUMBER, 1, 0xa4, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("smbios-memory-location")) \
    /* 1: a type 20 per memory device, as most firmware builds */ \
    K("memory", "mapped-addresses", NUMBER, 0, 1, CLOAK_KEY_GROUP, \
      CLOAK_TO_CODE) \
    \
    /* ACPI IDs are space-padded (x-oem-id, x-oem-table-id) by cloak.c */ \
    K("acpi", "oem-id", ASCII_ID, 1, 6, CLOAK_KEY_GROUP, CLOAK_TO_CODE) \
    K("acpi", "oem-table-id", ASCII_ID, 1, 8, CLOAK_KEY_GROUP, \
      CLOAK_TO_CODE) \
    K("acpi", "oem-rev", NUMBER, 0, CLOAK_U32, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("acpi-oem-rev")) \
    K("acpi", "creator-id", ASCII_ID, 4, 4, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("acpi-creator-id")) \
    K("acpi", "creator-rev", NUMBER, 0, CLOAK_U32, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("acpi-creator-rev")) \
    K("acpi", "pm-profile", NUMBER, 1, 8, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("acpi-pm-profile")) \
    K("acpi", "plvl2-lat", NUMBER, 0, CLOAK_U16, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("acpi-plvl2-lat")) \
    K("acpi", "plvl3-lat", NUMBER, 0, CLOAK_U16, CLOAK_KEY_GROUP, \
      CLOAK_TO_MACHINE("acpi-plvl3-lat")) \
    /* Platform devices and tables (cloak-acpi.c); absent: not built */ \
    K("acpi", "wsmt", NUMBER, 0, 7, CLOAK_KEY_GROUP, CLOAK_TO_CODE) \
    K("acpi", "power-button", NUMBER, 0, 1, CLOAK_KEY_GROUP, CLOAK_TO_CODE) \
    K("acpi", "sleep-button", NUMBER, 0, 1, CLOAK_KEY_GROUP, CLOAK_TO_CODE) \
    K("acpi", "lid", NUMBER, 0, 1, CLOAK_KEY_GROUP, CLOAK_TO_CODE) \
    K("acpi", "pep", ACPI_NAMES, 1, 1, CLOAK_KEY_GROUP, CLOAK_TO_CODE) \
    K("acpi", "wmi", ACPI_NAMES, 1, 8, CLOAK_KEY_GROUP, CLOAK_TO_CODE) \
    K("acpi", "thermal-zone", ACPI_NAMES, 1, 1, CLOAK_KEY_GROUP, \
      CLOAK_TO_CODE) \
    K("acpi", "thermal-low", NUMBER, 1, 100, CLOAK_KEY_GROUP, CLOAK_TO_CODE) \
    K("acpi", "thermal-high", NUMBER, 1, 100, CLOAK_KEY_GROUP, \
      CLOAK_TO_CODE) \
    K("acpi", "thermal-critical", NUMBER, 50, 150, CLOAK_KEY_GROUP, \
      CLOAK_TO_CODE) \
    K("acpi", "thermal-passive", NUMBER, 40, 150, CLOAK_KEY_GROUP, \
      CLOAK_TO_CODE) \
    K("acpi", "fans", NUMBER, 0, 8, CLOAK_KEY_GROUP, CLOAK_TO_CODE) \
    \
    K("net", "oui", OUI, 0, 0, CLOAK_KEY_GROUP, CLOAK_TO_MACHINE("mac-oui"))

/*
 * The [smbios] group: the model's other SMBIOS structures, as records.
 * CLOAK_SMBIOS_RECORDS(R) calls R(name, type, fields, meaning) for each
 * record kind, in the order the cloak adds their structures to the table.
 * A profile lists a record as "<name>-<n>" (n = 1..255; structures follow
 * n).  fields: space-separated "<kind>:<field>", kind one of
 *   s   text, templates allowed, may be empty ("Not Specified")
 *   b   number 0..0xff       w   number 0..0xffff   d   number 0..2^32-1
 *   x   hex bytes (the formatted area of a raw structure)
 *   v   the rest of the value: more strings, each its own field
 * A value gives the fields in order, separated by '|'; a record of one
 * text field takes the whole value, '|' included.
 */
#define CLOAK_SMBIOS_RECORDS(R) \
    R("port", 8, "s:internal-reference b:internal-type " \
      "s:external-reference b:external-type b:port-type", \
      "a port connector") \
    R("slot", 9, "s:designation b:type b:width b:usage b:length w:id " \
      "b:characteristics1 b:characteristics2 w:segment b:bus b:devfn", \
      "a system slot") \
    R("onboard-legacy", 10, "s:description b:type", \
      "an on-board device, all in one structure; type bit 7: enabled") \
    R("oem-string", 11, "s:string", "an OEM string, all in one structure") \
    R("option", 12, "s:string", \
      "a system configuration option, all in one structure") \
    R("language", 13, "s:language", \
      "an installable BIOS language (n = 1 is the current one), all in " \
      "one structure") \
    R("battery", 22, "s:location s:manufacturer s:date s:serial s:name " \
      "b:chemistry w:capacity-mwh w:voltage-mv s:sbds-version " \
      "b:max-error w:sbds-serial w:sbds-date s:sbds-chemistry d:oem", \
      "a portable battery") \
    R("voltage-probe", 26, "s:description b:location-status w:maximum " \
      "w:minimum w:resolution w:tolerance w:accuracy w:nominal", \
      "a voltage probe (mV)") \
    R("cooling", 27, "s:description b:type-status w:temperature-probe " \
      "b:unit-group w:nominal-rpm", \
      "a cooling device; temperature-probe: n of its temperature-probe, " \
      "0 for none") \
    R("temperature-probe", 28, "s:description b:location-status " \
      "w:maximum w:minimum w:resolution w:tolerance w:accuracy w:nominal", \
      "a temperature probe (1/10 degree C)") \
    R("current-probe", 29, "s:description b:location-status w:maximum " \
      "w:minimum w:resolution w:tolerance w:accuracy w:nominal", \
      "an electrical current probe (mA)") \
    R("onboard", 41, "s:designation b:type b:instance w:pci-class", \
      "an on-board device; its bus address is that of the VM's first PCI " \
      "device of pci-class (base class << 8 | subclass), else it is " \
      "disabled") \
    R("raw", 0, "b:type x:formatted v:strings", \
      "any other structure: its type, the bytes after its 4-byte header, " \
      "and its strings")

typedef struct CloakSmbiosRecord {
    const char *name;
    int type;                   /* 0: given by the record (raw) */
    const char *fields;
    const char *meaning;
} CloakSmbiosRecord;

/* CLOAK_SMBIOS_RECORDS as a table, in its order (cloak-profile.c). */
extern const CloakSmbiosRecord cloak_smbios_record_table[];
extern const size_t cloak_smbios_record_count;

#endif
