/*
 * Rendering of validated cloak-trace events: JSON Lines and an
 * strace-like text view.
 */
#ifndef CLOAK_TRACE_FORMAT_H
#define CLOAK_TRACE_FORMAT_H

#include <json-glib/json-glib.h>

#include "ring-reader.h"

/*
 * The trace's guest OS (header.guest_os): syscall names are given only
 * for CLOAK_TRACE_OS_LINUX, the default.
 */
void ct_format_set_guest_os(uint32_t os);
/* Linux syscall name for (abi, nr), or NULL if the kernel table has none. */
const char *ct_syscall_name(uint8_t abi, uint64_t nr);
/* Looks a name up in the x86-64 table (then i386); -1 if unknown. */
int64_t ct_syscall_number(const char *name, uint8_t *abi);
/* "ENOENT" for a negative errno return value, else NULL. */
const char *ct_errno_name(int64_t ret);

/* The event's task block, or NULL if it has none. */
const struct cloak_trace_task *ct_event_task(const CtEvent *ev);
/* comm as valid UTF-8 (invalid bytes as \xNN); g_free() it. */
char *ct_comm_text(const struct cloak_trace_task *t);
/* The faulting instruction in Intel syntax, or NULL; g_free() it. */
char *ct_format_insn(const struct cloak_trace_page_fault *f, bool code32);

/* JSON members: an integer; a string or null (v NULL). */
void ct_json_int(JsonBuilder *b, const char *key, int64_t v);
void ct_json_str(JsonBuilder *b, const char *key, const char *v);
/* The text of what b built; g_free() it. */
char *ct_json_text(JsonBuilder *b);

/* Appends one JSON object and a newline. */
void ct_format_json(const CtEvent *ev, GString *out);

/* strace-like pieces: "openat(0xffffff9c, "/tmp/x", 0x241, 0x1a4)" */
void ct_format_call(const CtEvent *enter, GString *out);
/* " = 3" or " = -1 ENOENT (...)" */
void ct_format_ret(const CtEvent *exit, GString *out);
/* "[vcpu 0 12.345678901 cr3 0x1234000] " */
void ct_format_prefix(const CtEvent *ev, GString *out);
/* A whole line for page faults and LOST records. */
void ct_format_other(const CtEvent *ev, GString *out);

#endif
