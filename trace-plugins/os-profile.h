/*
 * cloak-trace OS profiles: where a guest kernel keeps what the producer
 * reads to name the task behind an event (docs/trace.md, "Processes").
 *
 * A profile is a GKeyFile text file, made on the host by `cloak-trace
 * profile` from the kernel's own BTF and read by QEMU's cloak-trace
 * object (os-profile=FILE):
 *
 *   [kernel]
 *   format=1
 *   os=linux
 *   release=6.1.0-57-amd64
 *   version=#1 SMP PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)
 *
 *   [offsets]
 *   percpu.current_task=129920
 *   task_struct.pid=2416
 *   ...
 *
 * This header and os-profile.c need only GLib: the same parser is built
 * into QEMU, into the profile generator and into a libFuzzer target.
 * Profile files are untrusted input.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CLOAK_OS_PROFILE_H
#define CLOAK_OS_PROFILE_H

#include <stdint.h>
#include <glib.h>

#define CLOAK_OS_PROFILE_FORMAT 1

/* Longest release or version string: struct new_utsname's 65 bytes. */
#define CLOAK_OS_PROFILE_NAME_MAX 64

/*
 * Every offset a profile holds, one row each: the enum name, the BTF
 * struct and member it is read from, and the member's size in bytes.
 * The key in the file is "STRUCT.MEMBER".  The struct "percpu" stands
 * for the kernel's per-CPU area: its member is a per-CPU variable
 * (current_task; pcpu_hot.current_task on Linux 6.2 and later).
 */
#define CLOAK_OS_PROFILE_OFFSETS(F) \
    F(PERCPU_CURRENT_TASK, "percpu", "current_task", 8) \
    F(TASK_PID, "task_struct", "pid", 4) \
    F(TASK_TGID, "task_struct", "tgid", 4) \
    F(TASK_COMM, "task_struct", "comm", 16) \
    F(TASK_REAL_PARENT, "task_struct", "real_parent", 8) \
    F(TASK_MM, "task_struct", "mm", 8) \
    F(TASK_NSPROXY, "task_struct", "nsproxy", 8) \
    F(NSPROXY_UTS_NS, "nsproxy", "uts_ns", 8) \
    F(UTS_NAMESPACE_NAME, "uts_namespace", "name", 390) \
    F(NEW_UTSNAME_RELEASE, "new_utsname", "release", 65) \
    F(NEW_UTSNAME_VERSION, "new_utsname", "version", 65)

typedef enum CloakOsProfileOffset {
#define CLOAK_OS_PROFILE_ENUM(id, s, m, size) \
    CLOAK_OS_OFF_##id,
    CLOAK_OS_PROFILE_OFFSETS(CLOAK_OS_PROFILE_ENUM)
#undef CLOAK_OS_PROFILE_ENUM
    CLOAK_OS_OFF__MAX
} CloakOsProfileOffset;

typedef struct CloakOsProfileField {
    const char *key;            /* "task_struct.pid" */
    const char *btf_struct;     /* "task_struct", or "percpu" */
    const char *member;         /* "pid" */
    uint32_t size;              /* bytes the producer reads there */
} CloakOsProfileField;

extern const CloakOsProfileField cloak_os_profile_fields[CLOAK_OS_OFF__MAX];

/* Largest offset accepted: struct members and per-CPU variables. */
#define CLOAK_OS_PROFILE_STRUCT_OFFSET_MAX  (1u << 20)
#define CLOAK_OS_PROFILE_PERCPU_OFFSET_MAX  (1u << 24)

typedef struct CloakOsProfile {
    char *os;                   /* "linux" */
    char *release;              /* uname -r */
    char *version;              /* uname -v */
    uint32_t offset[CLOAK_OS_OFF__MAX];
} CloakOsProfile;

/* Parses and validates a profile; NULL with errp set, naming the key. */
CloakOsProfile *cloak_os_profile_parse(const char *data, size_t len,
                                       GError **errp);
CloakOsProfile *cloak_os_profile_load(const char *path, GError **errp);
/* The file text of a profile; comment goes in front of it (may be NULL). */
char *cloak_os_profile_to_data(const CloakOsProfile *p, const char *comment);
/* "RELEASE VERSION", how the kernel names itself (uname -rv). */
char *cloak_os_profile_kernel_name(const CloakOsProfile *p);
void cloak_os_profile_free(CloakOsProfile *p);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(CloakOsProfile, cloak_os_profile_free)

#endif /* CLOAK_OS_PROFILE_H */
