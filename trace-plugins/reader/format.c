/*
 * Rendering of validated cloak-trace events (see format.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <string.h>
#include <capstone/capstone.h>
#include <json-glib/json-glib.h>

#include "format.h"
#include "cloak-syscall-table.h"

/* Only a Linux guest's numbers are named from Linux's tables. */
static uint32_t guest_os = CLOAK_TRACE_OS_LINUX;

void ct_format_set_guest_os(uint32_t os)
{
    guest_os = os;
}

const char *ct_syscall_name(uint8_t abi, uint64_t nr)
{
    if (guest_os != CLOAK_TRACE_OS_LINUX) {
        return NULL;
    }
    if (abi == CLOAK_TRACE_ABI_X86_64 && nr < CLOAK_SYSCALL_COUNT_X86_64) {
        return cloak_syscalls_x86_64[nr].name;
    }
    if (abi == CLOAK_TRACE_ABI_I386 && nr < CLOAK_SYSCALL_COUNT_I386) {
        return cloak_syscalls_i386[nr].name;
    }
    return NULL;
}

int64_t ct_syscall_number(const char *name, uint8_t *abi)
{
    int64_t nr;

    for (nr = 0; nr < CLOAK_SYSCALL_COUNT_X86_64; nr++) {
        if (cloak_syscalls_x86_64[nr].name &&
            !strcmp(cloak_syscalls_x86_64[nr].name, name)) {
            *abi = CLOAK_TRACE_ABI_X86_64;
            return nr;
        }
    }
    for (nr = 0; nr < CLOAK_SYSCALL_COUNT_I386; nr++) {
        if (cloak_syscalls_i386[nr].name &&
            !strcmp(cloak_syscalls_i386[nr].name, name)) {
            *abi = CLOAK_TRACE_ABI_I386;
            return nr;
        }
    }
    return -1;
}

const char *ct_errno_name(int64_t ret)
{
    if (ret < 0 && ret > -4096) {
        return strerrorname_np((int)-ret);
    }
    return NULL;
}

static const char *abi_name(uint8_t abi)
{
    return abi == CLOAK_TRACE_ABI_X86_64 ? "x86_64" :
           abi == CLOAK_TRACE_ABI_I386 ? "i386" : "unknown";
}

static const char *gate_name(uint8_t how)
{
    switch (how) {
    case CLOAK_TRACE_ENTRY_SYSCALL64: return "syscall";
    case CLOAK_TRACE_ENTRY_SYSCALL32: return "syscall32";
    case CLOAK_TRACE_ENTRY_SYSENTER: return "sysenter";
    case CLOAK_TRACE_ENTRY_INT80: return "int80";
    case CLOAK_TRACE_EXIT_SYSRET: return "sysret";
    case CLOAK_TRACE_EXIT_SYSEXIT: return "sysexit";
    case CLOAK_TRACE_EXIT_IRET: return "iret";
    default: return "unknown";
    }
}

static void add_hex(JsonBuilder *b, const char *key, uint64_t v)
{
    char buf[24];

    g_snprintf(buf, sizeof(buf), "0x%" G_GINT64_MODIFIER "x", v);
    json_builder_set_member_name(b, key);
    json_builder_add_string_value(b, buf);
}

void ct_json_int(JsonBuilder *b, const char *key, int64_t v)
{
    json_builder_set_member_name(b, key);
    json_builder_add_int_value(b, v);
}

void ct_json_str(JsonBuilder *b, const char *key, const char *v)
{
    json_builder_set_member_name(b, key);
    if (v) {
        json_builder_add_string_value(b, v);
    } else {
        json_builder_add_null_value(b);
    }
}

char *ct_json_text(JsonBuilder *b)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autoptr(JsonNode) root = json_builder_get_root(b);

    json_generator_set_root(gen, root);
    return json_generator_to_data(gen, NULL);
}

/* Guest bytes as valid UTF-8: invalid bytes become \xNN. */
static char *path_text(const CtPath *p, bool *escaped)
{
    GString *s;
    const char *c = p->data, *end = p->data + p->len;

    *escaped = false;
    if (g_utf8_validate(p->data, p->len, NULL) && !memchr(c, 0, p->len)) {
        return g_strndup(p->data, p->len);
    }
    s = g_string_sized_new(p->len * 2);
    while (c < end) {
        const char *next;

        if (*c && g_utf8_validate(c, MIN(4, end - c), &next) && next > c) {
            g_string_append_len(s, c, next - c);
            c = next;
            continue;
        }
        if (*c && (guchar)*c < 0x80) {
            g_string_append_c(s, *c++);
            continue;
        }
        g_string_append_printf(s, "\\x%02x", (guchar)*c++);
        *escaped = true;
    }
    return g_string_free(s, FALSE);
}

const struct cloak_trace_task *ct_event_task(const CtEvent *ev)
{
    if (!(ev->hdr.flags & CLOAK_TRACE_RF_TASK)) {
        return NULL;
    }
    switch (ev->hdr.type) {
    case CLOAK_TRACE_REC_SYSCALL_ENTER: return &ev->u.enter.task;
    case CLOAK_TRACE_REC_SYSCALL_EXIT: return &ev->u.exit.task;
    case CLOAK_TRACE_REC_PAGE_FAULT: return &ev->u.pf.task;
    default: return NULL;
    }
}

char *ct_comm_text(const struct cloak_trace_task *t)
{
    CtPath p = { .len = strnlen(t->comm, sizeof(t->comm)) };
    bool escaped;

    memcpy(p.data, t->comm, p.len);
    return path_text(&p, &escaped);
}

static void add_common(JsonBuilder *b, const CtEvent *ev, const char *type)
{
    const struct cloak_trace_task *t = ct_event_task(ev);

    json_builder_set_member_name(b, "type");
    json_builder_add_string_value(b, type);
    ct_json_int(b, "vcpu", ev->hdr.vcpu);
    ct_json_int(b, "seq", ev->hdr.seq);
    ct_json_int(b, "ts", ev->hdr.ts_ns);
    if (t) {
        g_autofree char *comm = ct_comm_text(t);

        ct_json_int(b, "pid", t->tgid);
        ct_json_int(b, "tid", t->tid);
        ct_json_int(b, "ppid", t->ppid);
        json_builder_set_member_name(b, "comm");
        json_builder_add_string_value(b, comm);
    }
}

/*
 * The first instruction in the fault's bytes, Intel syntax, or NULL when
 * they hold none.  Decoded as 64-bit code unless the record says 32.
 */
char *ct_format_insn(const struct cloak_trace_page_fault *f, bool code32)
{
    static csh handle[2];
    static bool opened[2], failed[2];
    cs_insn *insn;
    char *text = NULL;
    int m = code32;

    if (!f->insn_len || f->insn_len > sizeof(f->insn)) {
        return NULL;
    }
    if (!opened[m] && !failed[m]) {
        failed[m] = cs_open(CS_ARCH_X86, code32 ? CS_MODE_32 : CS_MODE_64,
                            &handle[m]) != CS_ERR_OK;
        opened[m] = !failed[m];
    }
    if (!opened[m]) {
        return NULL;
    }
    if (cs_disasm(handle[m], f->insn, f->insn_len, f->rip, 1, &insn) == 1) {
        text = *insn->op_str ? g_strdup_printf("%s %s", insn->mnemonic,
                                               insn->op_str)
                             : g_strdup(insn->mnemonic);
        cs_free(insn, 1);
    }
    return text;
}

static void add_name(JsonBuilder *b, uint8_t abi, uint64_t nr)
{
    const char *name = ct_syscall_name(abi, nr);

    ct_json_int(b, "nr", nr);
    json_builder_set_member_name(b, "name");
    if (name) {
        json_builder_add_string_value(b, name);
    } else {
        json_builder_add_null_value(b);
    }
    json_builder_set_member_name(b, "abi");
    json_builder_add_string_value(b, abi_name(abi));
}

void ct_format_json(const CtEvent *ev, GString *out)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *text = NULL;
    unsigned i;

    json_builder_begin_object(b);
    switch (ev->hdr.type) {
    case CLOAK_TRACE_REC_SYSCALL_ENTER: {
        const struct cloak_trace_syscall_enter *e = &ev->u.enter;

        add_common(b, ev, "syscall_enter");
        add_hex(b, "cr3", e->cr3);
        add_name(b, e->abi, e->nr);
        json_builder_set_member_name(b, "args");
        json_builder_begin_array(b);
        for (i = 0; i < 6; i++) {
            char buf[24];

            g_snprintf(buf, sizeof(buf), "0x%" G_GINT64_MODIFIER "x",
                       e->args[i]);
            json_builder_add_string_value(b, buf);
        }
        json_builder_end_array(b);
        if (ev->npaths) {
            json_builder_set_member_name(b, "paths");
            json_builder_begin_array(b);
            for (i = 0; i < ev->npaths; i++) {
                const CtPath *p = &ev->paths[i];
                bool escaped;
                g_autofree char *t = path_text(p, &escaped);

                json_builder_begin_object(b);
                ct_json_int(b, "arg", p->arg);
                json_builder_set_member_name(b, "path");
                if (p->flags & CLOAK_TRACE_PATH_UNREADABLE) {
                    json_builder_add_null_value(b);
                } else {
                    json_builder_add_string_value(b, t);
                }
                json_builder_set_member_name(b, "truncated");
                json_builder_add_boolean_value(
                    b, !!(p->flags & CLOAK_TRACE_PATH_TRUNCATED));
                json_builder_set_member_name(b, "unreadable");
                json_builder_add_boolean_value(
                    b, !!(p->flags & CLOAK_TRACE_PATH_UNREADABLE));
                if (escaped) {
                    json_builder_set_member_name(b, "escaped");
                    json_builder_add_boolean_value(b, TRUE);
                }
                json_builder_end_object(b);
            }
            json_builder_end_array(b);
        }
        add_hex(b, "rip", e->rip);
        add_hex(b, "ret_rip", e->ret_rip);
        add_hex(b, "rsp", e->rsp);
        json_builder_set_member_name(b, "entry");
        json_builder_add_string_value(b, gate_name(e->entry));
        break;
    }
    case CLOAK_TRACE_REC_SYSCALL_EXIT: {
        const struct cloak_trace_syscall_exit *x = &ev->u.exit;
        const char *err = ct_errno_name(x->ret);

        add_common(b, ev, "syscall_exit");
        add_hex(b, "cr3", x->cr3);
        add_name(b, x->abi, x->nr);
        ct_json_int(b, "ret", x->ret);
        if (err) {
            json_builder_set_member_name(b, "errno");
            json_builder_add_string_value(b, err);
        }
        ct_json_int(b, "enter_vcpu", x->enter_vcpu);
        ct_json_int(b, "enter_seq", x->enter_seq);
        if (ev->hdr.flags & CLOAK_TRACE_RF_CHILD) {
            json_builder_set_member_name(b, "child");
            json_builder_add_boolean_value(b, TRUE);
        }
        add_hex(b, "rip", x->rip);
        add_hex(b, "rsp", x->rsp);
        json_builder_set_member_name(b, "exit");
        json_builder_add_string_value(b, gate_name(x->exit));
        break;
    }
    case CLOAK_TRACE_REC_PAGE_FAULT: {
        const struct cloak_trace_page_fault *f = &ev->u.pf;

        add_common(b, ev, "page_fault");
        add_hex(b, "cr3", f->cr3);
        add_hex(b, "cr2", f->cr2);
        ct_json_int(b, "error_code", f->error_code);
        json_builder_set_member_name(b, "err");
        json_builder_begin_object(b);
        static const char *const bits[] = { "p", "w", "u", "rsvd", "i",
                                            "pk", "ss" };
        for (i = 0; i < G_N_ELEMENTS(bits); i++) {
            json_builder_set_member_name(b, bits[i]);
            json_builder_add_boolean_value(b, !!(f->error_code & (1u << i)));
        }
        json_builder_end_object(b);
        add_hex(b, "rip", f->rip);
        ct_json_int(b, "cpl", f->cpl);
        if (f->insn_len) {
            g_autofree char *insn =
                ct_format_insn(f, ev->hdr.flags & CLOAK_TRACE_RF_CODE32);
            g_autoptr(GString) hex = g_string_new(NULL);

            for (i = 0; i < f->insn_len; i++) {
                g_string_append_printf(hex, "%02x", f->insn[i]);
            }
            json_builder_set_member_name(b, "insn_bytes");
            json_builder_add_string_value(b, hex->str);
            json_builder_set_member_name(b, "insn");
            if (insn) {
                json_builder_add_string_value(b, insn);
            } else {
                json_builder_add_null_value(b);
            }
        }
        break;
    }
    case CLOAK_TRACE_REC_LOST:
        add_common(b, ev, "lost");
        ct_json_int(b, "count", ev->u.lost.count);
        ct_json_int(b, "first_seq", ev->u.lost.first_seq);
        ct_json_int(b, "last_seq", ev->u.lost.last_seq);
        break;
    }
    json_builder_end_object(b);
    text = ct_json_text(b);
    g_string_append(out, text);
    g_string_append_c(out, '\n');
}

void ct_format_prefix(const CtEvent *ev, GString *out)
{
    const struct cloak_trace_task *t = ct_event_task(ev);
    uint64_t cr3 = 0;

    if (t) {
        g_autofree char *comm = ct_comm_text(t);

        g_string_append_printf(out, "[vcpu %u %" G_GUINT64_FORMAT ".%09"
                               G_GUINT64_FORMAT "] [pid %u", ev->hdr.vcpu,
                               ev->hdr.ts_ns / 1000000000,
                               ev->hdr.ts_ns % 1000000000, t->tgid);
        if (t->tid != t->tgid) {
            g_string_append_printf(out, "/%u", t->tid);
        }
        g_string_append_printf(out, " %s] ", comm);
        return;
    }

    switch (ev->hdr.type) {
    case CLOAK_TRACE_REC_SYSCALL_ENTER: cr3 = ev->u.enter.cr3; break;
    case CLOAK_TRACE_REC_SYSCALL_EXIT: cr3 = ev->u.exit.cr3; break;
    case CLOAK_TRACE_REC_PAGE_FAULT: cr3 = ev->u.pf.cr3; break;
    }
    g_string_append_printf(out, "[vcpu %u %" G_GUINT64_FORMAT ".%09"
                           G_GUINT64_FORMAT " cr3 0x%" G_GINT64_MODIFIER
                           "x] ", ev->hdr.vcpu, ev->hdr.ts_ns / 1000000000,
                           ev->hdr.ts_ns % 1000000000, cr3);
}

void ct_format_call(const CtEvent *ev, GString *out)
{
    const struct cloak_trace_syscall_enter *e = &ev->u.enter;
    const char *name = ct_syscall_name(e->abi, e->nr);
    unsigned i, j;

    if (name) {
        g_string_append(out, name);
    } else {
        g_string_append_printf(out, "syscall_%" G_GUINT64_FORMAT, e->nr);
    }
    g_string_append_c(out, '(');
    for (i = 0; i < 6; i++) {
        const CtPath *path = NULL;

        for (j = 0; j < ev->npaths; j++) {
            if (ev->paths[j].arg == i) {
                path = &ev->paths[j];
            }
        }
        if (i) {
            g_string_append(out, ", ");
        }
        if (path && !(path->flags & CLOAK_TRACE_PATH_UNREADABLE)) {
            g_autofree char *esc = g_strescape(path->data, NULL);

            g_string_append_printf(out, "\"%s\"%s", esc,
                                   path->flags & CLOAK_TRACE_PATH_TRUNCATED ?
                                   "..." : "");
        } else {
            g_string_append_printf(out, "0x%" G_GINT64_MODIFIER "x",
                                   e->args[i]);
        }
    }
    g_string_append_c(out, ')');
}

void ct_format_ret(const CtEvent *ev, GString *out)
{
    int64_t ret = ev->u.exit.ret;
    const char *err = ct_errno_name(ret);

    if (err) {
        g_string_append_printf(out, " = -1 %s (%s)", err, g_strerror(-ret));
    } else if (ret < 0 || ret > 0xffff) {
        g_string_append_printf(out, " = 0x%" G_GINT64_MODIFIER "x", ret);
    } else {
        g_string_append_printf(out, " = %" G_GINT64_FORMAT, ret);
    }
    if (ev->hdr.flags & CLOAK_TRACE_RF_CHILD) {
        g_string_append(out, " (child)");
    }
}

void ct_format_other(const CtEvent *ev, GString *out)
{
    ct_format_prefix(ev, out);
    if (ev->hdr.type == CLOAK_TRACE_REC_PAGE_FAULT) {
        const struct cloak_trace_page_fault *f = &ev->u.pf;

        g_autofree char *insn =
            ct_format_insn(f, ev->hdr.flags & CLOAK_TRACE_RF_CODE32);

        g_string_append_printf(out, "--- page fault at 0x%" G_GINT64_MODIFIER
                               "x, rip 0x%" G_GINT64_MODIFIER "x, error 0x%x"
                               " (%s %s %s), cpl %u", f->cr2, f->rip,
                               f->error_code,
                               f->error_code & 1 ? "protection" : "not-present",
                               f->error_code & 16 ? "fetch" :
                               f->error_code & 2 ? "write" : "read",
                               f->error_code & 4 ? "user" : "kernel", f->cpl);
        if (insn) {
            g_string_append_printf(out, ": %s", insn);
        }
        g_string_append(out, " ---\n");
    } else if (ev->hdr.type == CLOAK_TRACE_REC_LOST) {
        g_string_append_printf(out, "+++ lost %" G_GUINT64_FORMAT " events "
                               "(seq %" G_GUINT64_FORMAT "..%"
                               G_GUINT64_FORMAT ") +++\n", ev->u.lost.count,
                               ev->u.lost.first_seq, ev->u.lost.last_seq);
    }
}
