/*
 * cloak-trace: read a cloak-trace ring file (live or finished) and print
 * its events as JSON Lines or an strace-like text view.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ring-reader.h"
#include "format.h"
#include "profile-gen.h"
#include <json-glib/json-glib.h>

enum { FMT_JSON, FMT_TEXT, FMT_NONE };

#define TYPE_SYSCALL   (1u << 0)
#define TYPE_PAGEFAULT (1u << 1)
#define TYPE_LOST      (1u << 2)

typedef struct Filters {
    unsigned types;
    GArray *syscalls;       /* pairs (abi, nr) as uint64 abi<<32|nr */
    GArray *cr3s;           /* page-aligned CR3 values */
    GArray *vcpus;
    GArray *pids;           /* tgid or tid */
    char **comms;
} Filters;

/* One guest process of the --tree view, by tgid. */
typedef struct Proc {
    uint32_t tgid;
    uint32_t ppid;          /* first parent seen: the one that made it */
    char *comm;             /* last seen */
    char *exec;             /* path of the last successful execve */
    uint64_t first_ts, last_ts, exit_ts;
    uint64_t syscalls, faults;
    GHashTable *tids;
} Proc;

typedef struct Stats {
    GHashTable *per_syscall;    /* name -> count of entries */
    uint64_t enters, exits, errors, faults, lost_records;
    uint64_t first_ts, last_ts;
    uint64_t *per_vcpu;
} Stats;

typedef struct Reader {
    CtFile *file;
    int format;
    bool follow;
    bool summary;
    int64_t max_events;
    uint64_t printed;
    Filters filt;
    Stats st;
    GString *out;
    /* text view: an entry line waiting for its return, per vCPU */
    GString **pending;
    uint64_t *pending_seq;
    CtEvent *next;          /* one look-ahead event per ring */
    bool *have_next;
    uint64_t *tail_before_next; /* read position before the look-ahead */
    bool tree;
    GHashTable *procs;      /* tgid -> Proc */
    GHashTable *exec_paths; /* tid -> PendingExec */
    bool refusal_reported;
} Reader;

static volatile sig_atomic_t stop_requested;

static void on_stop(int sig G_GNUC_UNUSED)
{
    stop_requested = 1;
}

static void on_sigbus(int sig G_GNUC_UNUSED)
{
    static const char msg[] = "cloak-trace: error: the ring file was "
                              "truncated while being read (SIGBUS)\n";

    if (write(2, msg, sizeof(msg) - 1) < 0) {
        /* nothing more we can do */
    }
    _exit(1);
}

static bool parse_list(const char *what, const char *arg, GArray *out,
                       bool hex, GError **errp)
{
    g_auto(GStrv) parts = g_strsplit(arg, ",", -1);
    char **p;

    for (p = parts; *p; p++) {
        char *end;
        uint64_t v;

        errno = 0;
        v = g_ascii_strtoull(*p, &end, hex ? 16 : 10);
        if (!**p || *end || errno) {
            g_set_error(errp, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--%s: '%s' is not a %s number", what, *p,
                        hex ? "hexadecimal" : "decimal");
            return false;
        }
        if (hex) {
            v &= ~0xfffULL;
        }
        g_array_append_val(out, v);
    }
    return true;
}

static bool in_list(GArray *a, uint64_t v)
{
    guint i;

    if (!a->len) {
        return true;
    }
    for (i = 0; i < a->len; i++) {
        if (g_array_index(a, uint64_t, i) == v) {
            return true;
        }
    }
    return false;
}

static bool wanted(Reader *rd, const CtEvent *ev)
{
    Filters *f = &rd->filt;
    uint64_t cr3 = 0, key = 0;
    bool has_cr3 = true;

    switch (ev->hdr.type) {
    case CLOAK_TRACE_REC_SYSCALL_ENTER:
        if (!(f->types & TYPE_SYSCALL)) {
            return false;
        }
        cr3 = ev->u.enter.cr3;
        key = (uint64_t)ev->u.enter.abi << 32 | ev->u.enter.nr;
        break;
    case CLOAK_TRACE_REC_SYSCALL_EXIT:
        if (!(f->types & TYPE_SYSCALL)) {
            return false;
        }
        cr3 = ev->u.exit.cr3;
        key = (uint64_t)ev->u.exit.abi << 32 | ev->u.exit.nr;
        break;
    case CLOAK_TRACE_REC_PAGE_FAULT:
        if (!(f->types & TYPE_PAGEFAULT) || f->syscalls->len) {
            return false;
        }
        cr3 = ev->u.pf.cr3;
        break;
    case CLOAK_TRACE_REC_LOST:
        if (!(f->types & TYPE_LOST)) {
            return false;
        }
        has_cr3 = false;
        break;
    }
    if (!in_list(f->vcpus, ev->hdr.vcpu)) {
        return false;
    }
    if (has_cr3 && !in_list(f->cr3s, cr3 & ~0xfffULL)) {
        return false;
    }
    if (key && !in_list(f->syscalls, key)) {
        return false;
    }
    if ((f->pids->len || f->comms) && ev->hdr.type != CLOAK_TRACE_REC_LOST) {
        const struct cloak_trace_task *t = ct_event_task(ev);

        if (!t) {
            return false;
        }
        if (f->pids->len && !in_list(f->pids, t->tgid) &&
            !in_list(f->pids, t->tid)) {
            return false;
        }
        if (f->comms) {
            g_autofree char *comm = ct_comm_text(t);

            if (!g_strv_contains((const char *const *)f->comms, comm)) {
                return false;
            }
        }
    }
    return true;
}

static void proc_free(gpointer p)
{
    Proc *pr = p;

    g_free(pr->comm);
    g_free(pr->exec);
    g_hash_table_destroy(pr->tids);
    g_free(pr);
}

/* An execve of thread tid whose outcome is not known yet. */
typedef struct PendingExec {
    uint32_t vcpu;
    uint64_t seq;
    char *path;             /* NULL if it was not captured (paths=off) */
} PendingExec;

static void pending_exec_free(gpointer p)
{
    PendingExec *pe = p;

    g_free(pe->path);
    g_free(pe);
}

/*
 * A failed execve returns (-errno) to the image that called it; a
 * successful one never does, the new image runs on.  So the next event of
 * the same thread settles it: that execve's return, or anything else.
 */
static void exec_outcome(Reader *rd, Proc *pr, uint32_t tid,
                         const CtEvent *ev)
{
    PendingExec *pe = g_hash_table_lookup(rd->exec_paths,
                                          GUINT_TO_POINTER(tid));
    bool failed;

    if (!pe) {
        return;
    }
    failed = ev->hdr.type == CLOAK_TRACE_REC_SYSCALL_EXIT &&
             ev->u.exit.enter_vcpu == pe->vcpu &&
             ev->u.exit.enter_seq == pe->seq && ev->u.exit.ret != 0;
    if (!failed) {
        g_free(pr->exec);
        pr->exec = g_strdup(pe->path ? pe->path : "?");
    }
    g_hash_table_remove(rd->exec_paths, GUINT_TO_POINTER(tid));
}

/* --tree: what this event says about its process. */
static void track(Reader *rd, const CtEvent *ev)
{
    const struct cloak_trace_task *t = ct_event_task(ev);
    Proc *pr;
    const char *name = NULL;

    if (!t) {
        return;
    }
    pr = g_hash_table_lookup(rd->procs, GUINT_TO_POINTER(t->tgid));
    if (!pr) {
        pr = g_new0(Proc, 1);
        pr->tgid = t->tgid;
        pr->ppid = t->ppid;
        pr->first_ts = ev->hdr.ts_ns;
        pr->tids = g_hash_table_new(NULL, NULL);
        g_hash_table_insert(rd->procs, GUINT_TO_POINTER(t->tgid), pr);
    }
    g_free(pr->comm);
    pr->comm = ct_comm_text(t);
    pr->last_ts = MAX(pr->last_ts, ev->hdr.ts_ns);
    g_hash_table_add(pr->tids, GUINT_TO_POINTER(t->tid));
    exec_outcome(rd, pr, t->tid, ev);
    switch (ev->hdr.type) {
    case CLOAK_TRACE_REC_SYSCALL_ENTER:
        pr->syscalls++;
        name = ct_syscall_name(ev->u.enter.abi, ev->u.enter.nr);
        if (name && !strcmp(name, "exit_group")) {
            pr->exit_ts = ev->hdr.ts_ns;
        }
        if (name && g_str_has_prefix(name, "execve")) {
            unsigned arg = !strcmp(name, "execveat");
            PendingExec *pe = g_new0(PendingExec, 1);

            pe->vcpu = ev->hdr.vcpu;
            pe->seq = ev->hdr.seq;
            for (unsigned i = 0; i < ev->npaths; i++) {
                if (ev->paths[i].arg == arg &&
                    !(ev->paths[i].flags & CLOAK_TRACE_PATH_UNREADABLE)) {
                    pe->path = g_strdup(ev->paths[i].data);
                }
            }
            g_hash_table_insert(rd->exec_paths, GUINT_TO_POINTER(t->tid), pe);
        }
        break;
    case CLOAK_TRACE_REC_PAGE_FAULT:
        pr->faults++;
        break;
    }
}

static gint by_start(gconstpointer a, gconstpointer b)
{
    const Proc *pa = *(Proc **)a, *pb = *(Proc **)b;

    return pa->first_ts < pb->first_ts ? -1 : pa->first_ts > pb->first_ts;
}

static void print_proc(Reader *rd, GPtrArray *all, Proc *pr, int depth,
                       GString *out)
{
    bool json = rd->format == FMT_JSON;
    guint i;

    if (json) {
        g_autoptr(JsonBuilder) b = json_builder_new();
        g_autofree char *text = NULL;

        json_builder_begin_object(b);
        ct_json_str(b, "type", "process");
        ct_json_int(b, "pid", pr->tgid);
        ct_json_int(b, "ppid", pr->ppid);
        ct_json_int(b, "depth", depth);
        ct_json_str(b, "comm", pr->comm);
        ct_json_str(b, "exec", pr->exec);
        ct_json_int(b, "first_ts", pr->first_ts);
        ct_json_int(b, "last_ts", pr->last_ts);
        json_builder_set_member_name(b, "exit_ts");
        if (pr->exit_ts) {
            json_builder_add_int_value(b, pr->exit_ts);
        } else {
            json_builder_add_null_value(b);
        }
        ct_json_int(b, "syscalls", pr->syscalls);
        ct_json_int(b, "page_faults", pr->faults);
        ct_json_int(b, "threads", g_hash_table_size(pr->tids));
        json_builder_end_object(b);
        text = ct_json_text(b);
        g_string_append_printf(out, "%s\n", text);
    } else {
        g_string_append_printf(out, "%*s%s%u %s [%s] %.6f-", depth * 4, "",
                               depth ? "`-- " : "", pr->tgid, pr->comm,
                               pr->exec ? pr->exec : "?",
                               pr->first_ts / 1e9);
        if (pr->exit_ts) {
            g_string_append_printf(out, "%.6f", pr->exit_ts / 1e9);
        } else {
            g_string_append(out, "(running)");
        }
        g_string_append_printf(out, " %" G_GUINT64_FORMAT " syscalls, %"
                               G_GUINT64_FORMAT " page faults, %u thread%s\n",
                               pr->syscalls, pr->faults,
                               g_hash_table_size(pr->tids),
                               g_hash_table_size(pr->tids) == 1 ? "" : "s");
    }
    for (i = 0; i < all->len; i++) {
        Proc *c = g_ptr_array_index(all, i);

        if (c->ppid == pr->tgid && c != pr) {
            print_proc(rd, all, c, depth + 1, out);
        }
    }
}

static void print_tree(Reader *rd)
{
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    g_autoptr(GString) out = g_string_new(NULL);
    GHashTableIter it;
    gpointer v;
    guint i;

    g_hash_table_iter_init(&it, rd->procs);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        g_ptr_array_add(all, v);
    }
    g_ptr_array_sort(all, by_start);
    for (i = 0; i < all->len; i++) {
        Proc *pr = g_ptr_array_index(all, i);

        /* Roots: the parent made no event, or it is its own (pid 0's). */
        if (pr->ppid == pr->tgid ||
            !g_hash_table_contains(rd->procs, GUINT_TO_POINTER(pr->ppid))) {
            print_proc(rd, all, pr, 0, out);
        }
    }
    fwrite(out->str, 1, out->len, stdout);
}

/* A kernel name from the (untrusted) header, terminated and printable. */
static void header_text(char out[CLOAK_TRACE_KERNEL_MAX],
                        const char in[CLOAK_TRACE_KERNEL_MAX])
{
    memcpy(out, in, CLOAK_TRACE_KERNEL_MAX);
    out[CLOAK_TRACE_KERNEL_MAX - 1] = 0;
    for (char *c = out; *c; c++) {
        *c = g_ascii_isprint(*c) ? *c : '?';
    }
}

/* Once: the producer found the guest running another kernel. */
static void report_refusal(Reader *rd)
{
    const struct cloak_trace_header *h = (const void *)rd->file->map;
    char want[CLOAK_TRACE_KERNEL_MAX], got[CLOAK_TRACE_KERNEL_MAX];

    if (rd->refusal_reported || rd->file->h.abi_version < 2 ||
        __atomic_load_n(&h->attribution, __ATOMIC_ACQUIRE) !=
        CLOAK_TRACE_ATTR_REFUSED) {
        return;
    }
    rd->refusal_reported = true;
    header_text(want, h->profile_kernel);
    header_text(got, h->guest_kernel);
    fprintf(stderr, "cloak-trace: warning: no process attribution: the OS "
            "profile is for kernel '%s' but the guest runs '%s'\n", want,
            got);
}

static void flush_pending(Reader *rd, uint32_t v, const char *suffix)
{
    if (rd->pending[v]->len) {
        g_string_append(rd->out, rd->pending[v]->str);
        g_string_append(rd->out, suffix);
        g_string_truncate(rd->pending[v], 0);
    }
}

static void emit_text(Reader *rd, const CtEvent *ev)
{
    uint32_t v = ev->hdr.vcpu;
    GString *p = rd->pending[v];

    switch (ev->hdr.type) {
    case CLOAK_TRACE_REC_SYSCALL_ENTER:
        flush_pending(rd, v, " ...\n");
        ct_format_prefix(ev, p);
        ct_format_call(ev, p);
        rd->pending_seq[v] = ev->hdr.seq;
        if (!rd->follow) {
            break;
        }
        /* Live: do not sit on a line whose return may take long. */
        if (ev->u.enter.nr == 59 || ev->u.enter.nr == 231 ||
            ev->u.enter.nr == 60) {
            flush_pending(rd, v, " ...\n");
        }
        break;
    case CLOAK_TRACE_REC_SYSCALL_EXIT:
        if (p->len && ev->u.exit.enter_vcpu == v &&
            ev->u.exit.enter_seq == rd->pending_seq[v]) {
            g_string_append(rd->out, p->str);
            g_string_truncate(p, 0);
        } else {
            const char *name = ct_syscall_name(ev->u.exit.abi, ev->u.exit.nr);

            flush_pending(rd, v, " ...\n");
            ct_format_prefix(ev, rd->out);
            g_string_append_printf(rd->out, "<... %s resumed>",
                                   name ? name : "syscall");
        }
        ct_format_ret(ev, rd->out);
        g_string_append_c(rd->out, '\n');
        break;
    default:
        flush_pending(rd, v, " ...\n");
        ct_format_other(ev, rd->out);
        break;
    }
}

static void account(Reader *rd, const CtEvent *ev)
{
    Stats *s = &rd->st;

    if (!s->first_ts || ev->hdr.ts_ns < s->first_ts) {
        s->first_ts = ev->hdr.ts_ns;
    }
    if (ev->hdr.ts_ns > s->last_ts) {
        s->last_ts = ev->hdr.ts_ns;
    }
    s->per_vcpu[ev->hdr.vcpu]++;
    switch (ev->hdr.type) {
    case CLOAK_TRACE_REC_SYSCALL_ENTER: {
        const char *name = ct_syscall_name(ev->u.enter.abi, ev->u.enter.nr);
        gpointer n;

        s->enters++;
        name = name ? name : "unknown";
        n = g_hash_table_lookup(s->per_syscall, name);
        g_hash_table_insert(s->per_syscall, (gpointer)name,
                            GSIZE_TO_POINTER(GPOINTER_TO_SIZE(n) + 1));
        break;
    }
    case CLOAK_TRACE_REC_SYSCALL_EXIT:
        s->exits++;
        s->errors += ct_errno_name(ev->u.exit.ret) != NULL;
        break;
    case CLOAK_TRACE_REC_PAGE_FAULT:
        s->faults++;
        break;
    case CLOAK_TRACE_REC_LOST:
        s->lost_records += ev->u.lost.count;
        break;
    }
}

static void write_out(Reader *rd)
{
    if (rd->out->len) {
        fwrite(rd->out->str, 1, rd->out->len, stdout);
        g_string_truncate(rd->out, 0);
    }
}

static gint by_count(gconstpointer a, gconstpointer b, gpointer ht)
{
    gsize ca = GPOINTER_TO_SIZE(g_hash_table_lookup(ht, *(char **)a));
    gsize cb = GPOINTER_TO_SIZE(g_hash_table_lookup(ht, *(char **)b));

    return ca < cb ? 1 : ca > cb ? -1 : strcmp(*(char **)a, *(char **)b);
}

/* Events dropped after the last record read: no LOST record yet. */
static uint64_t trailing_lost(CtRing *r)
{
    uint64_t next = __atomic_load_n(&r->ctl->next_seq, __ATOMIC_RELAXED);

    return r->seq_known && next > r->next_seq ? next - r->next_seq : 0;
}

static void print_summary_json(Reader *rd, double secs)
{
    Stats *s = &rd->st;
    CtFile *f = rd->file;
    g_autoptr(JsonBuilder) b = json_builder_new();
    g_autofree char *text = NULL;
    GHashTableIter it;
    gpointer key, value;
    uint32_t i;

    json_builder_begin_object(b);
    ct_json_str(b, "type", "summary");
    ct_json_int(b, "syscall_enters", s->enters);
    ct_json_int(b, "syscall_exits", s->exits);
    ct_json_int(b, "syscall_errors", s->errors);
    ct_json_int(b, "page_faults", s->faults);
    json_builder_set_member_name(b, "seconds");
    json_builder_add_double_value(b, secs);
    json_builder_set_member_name(b, "events_per_second");
    json_builder_add_double_value(b, secs > 0 ?
        (s->enters + s->exits + s->faults) / secs : 0);
    json_builder_set_member_name(b, "vcpus");
    json_builder_begin_array(b);
    for (i = 0; i < f->h.nr_rings; i++) {
        CtRing *r = &f->rings[i];

        json_builder_begin_object(b);
        ct_json_int(b, "vcpu", i);
        ct_json_int(b, "records", r->events);
        ct_json_int(b, "lost", __atomic_load_n(&r->ctl->lost, __ATOMIC_RELAXED));
        ct_json_int(b, "lost_in_records", r->lost_in_records);
        ct_json_int(b, "lost_trailing", trailing_lost(r));
        ct_json_int(b, "next_seq", __atomic_load_n(&r->ctl->next_seq,
                                               __ATOMIC_RELAXED));
        json_builder_end_object(b);
    }
    json_builder_end_array(b);
    json_builder_set_member_name(b, "syscalls");
    json_builder_begin_object(b);
    g_hash_table_iter_init(&it, s->per_syscall);
    while (g_hash_table_iter_next(&it, &key, &value)) {
        ct_json_int(b, key, GPOINTER_TO_SIZE(value));
    }
    json_builder_end_object(b);
    json_builder_end_object(b);
    text = ct_json_text(b);
    fprintf(stderr, "%s\n", text);
}

static void print_summary(Reader *rd)
{
    Stats *s = &rd->st;
    CtFile *f = rd->file;
    double secs = s->last_ts > s->first_ts ?
                  (s->last_ts - s->first_ts) / 1e9 : 0;
    uint64_t total = s->enters + s->exits + s->faults;
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    GHashTableIter it;
    gpointer key;
    uint32_t i;
    FILE *o = stdout;

    if (rd->format != FMT_TEXT) {
        print_summary_json(rd, secs);
        return;
    }
    g_hash_table_iter_init(&it, s->per_syscall);
    while (g_hash_table_iter_next(&it, &key, NULL)) {
        g_ptr_array_add(names, key);
    }
    g_ptr_array_sort_with_data(names, by_count, s->per_syscall);
    fprintf(o, "summary: %" G_GUINT64_FORMAT " events (%" G_GUINT64_FORMAT
            " syscall entries, %" G_GUINT64_FORMAT " returns, %"
            G_GUINT64_FORMAT " errors, %" G_GUINT64_FORMAT
            " page faults) over %.3f s", total, s->enters, s->exits,
            s->errors, s->faults, secs);
    if (secs > 0) {
        fprintf(o, ", %.0f events/s", total / secs);
    }
    fprintf(o, "\n");
    for (i = 0; i < f->h.nr_rings; i++) {
        CtRing *r = &f->rings[i];
        uint64_t lost = __atomic_load_n(&r->ctl->lost, __ATOMIC_RELAXED);

        fprintf(o, "  vcpu %u: %" G_GUINT64_FORMAT " records read, %"
                G_GUINT64_FORMAT " lost (%" G_GUINT64_FORMAT " reported in "
                "LOST records read, %" G_GUINT64_FORMAT " after the last "
                "record)\n", i, r->events, lost, r->lost_in_records,
                trailing_lost(r));
    }
    fprintf(o, "  %-24s %10s\n", "syscall", "calls");
    for (i = 0; i < names->len; i++) {
        const char *n = g_ptr_array_index(names, i);

        fprintf(o, "  %-24s %10zu\n", n,
                GPOINTER_TO_SIZE(g_hash_table_lookup(s->per_syscall, n)));
    }
}

/* Releases what was printed: never the look-ahead record. */
static void release(Reader *rd, uint32_t i)
{
    CtRing *r = &rd->file->rings[i];
    uint64_t tail = r->tail;

    if (rd->have_next[i]) {
        r->tail = rd->tail_before_next[i];
    }
    ct_ring_release(r);
    r->tail = tail;
}

/* Fills the look-ahead slot of ring i; false on a bad record. */
static bool fill(Reader *rd, uint32_t i, GError **errp)
{
    int rc;

    if (!rd->have_next[i]) {
        rd->tail_before_next[i] = rd->file->rings[i].tail;
        rc = ct_ring_next(&rd->file->rings[i], &rd->next[i], errp);
        if (rc < 0) {
            return false;
        }
        if (rc == 0) {
            return true;
        }
        rd->have_next[i] = true;
    }
    return true;
}

static int run(Reader *rd)
{
    CtFile *f = rd->file;
    uint32_t n = f->h.nr_rings, i, best;
    g_autoptr(GError) err = NULL;
    unsigned idle = 0, since_release = 0;
    bool closed_seen = false;
    bool producer_died = false;    /* RUNNING, but its pid is gone */

    for (;;) {
        best = n;
        for (i = 0; i < n; i++) {
            if (!fill(rd, i, &err)) {
                goto bad;
            }
            if (rd->have_next[i] &&
                (best == n ||
                 rd->next[i].hdr.ts_ns < rd->next[best].hdr.ts_ns)) {
                best = i;
            }
        }
        if (best < n) {
            CtEvent *ev = &rd->next[best];

            idle = 0;
            if (wanted(rd, ev)) {
                account(rd, ev);
                if (rd->tree) {
                    track(rd, ev);
                } else if (rd->format == FMT_JSON) {
                    ct_format_json(ev, rd->out);
                } else if (rd->format == FMT_TEXT) {
                    emit_text(rd, ev);
                }
                rd->printed++;
            }
            rd->have_next[best] = false;
            if (++since_release >= 256) {
                /* Only what has been written out may be released. */
                since_release = 0;
                write_out(rd);
                fflush(stdout);
                for (i = 0; i < n; i++) {
                    release(rd, i);
                }
            }
            if (rd->out->len > 65536) {
                write_out(rd);
            }
            if (rd->max_events >= 0 &&
                rd->printed >= (uint64_t)rd->max_events) {
                break;
            }
            if (!stop_requested) {
                continue;
            }
        }
        /* Every ring is empty (or we were told to stop). */
        write_out(rd);
        fflush(stdout);
        for (i = 0; i < n; i++) {
            release(rd, i);
        }
        if (!rd->follow || stop_requested || closed_seen) {
            break;
        }
        if (!ct_file_still_whole(f, &err)) {
            goto bad;
        }
        if (ct_file_state(f) == CLOAK_TRACE_STATE_CLOSED) {
            /* One more pass: events published before the state change. */
            closed_seen = true;
            continue;
        }
        if (f->h.producer_pid && kill(f->h.producer_pid, 0) < 0 &&
            errno == ESRCH) {
            /* Killed (SIGKILL, a crash): it never wrote CLOSED. */
            closed_seen = true;
            producer_died = true;
            continue;
        }
        write_out(rd);
        fflush(stdout);
        g_usleep(idle < 100 ? 100 : 5000);
        idle++;
    }
    for (i = 0; i < n; i++) {
        if (rd->format == FMT_TEXT) {
            flush_pending(rd, i, " ...\n");
        }
    }
    write_out(rd);
    if (rd->tree) {
        print_tree(rd);
    }
    fflush(stdout);
    report_refusal(rd);
    if (rd->summary) {
        print_summary(rd);
    }
    if (producer_died) {
        fprintf(stderr, "cloak-trace: error: the producer (pid %u) is gone "
                "but never closed the ring: QEMU was killed or crashed, and "
                "the trace may end early\n", f->h.producer_pid);
        return 3;
    }
    return 0;

bad:
    write_out(rd);
    fflush(stdout);
    fprintf(stderr, "cloak-trace: error: %s\n", err->message);
    return 1;
}

int main(int argc, char **argv)
{
    g_autofree char *format = NULL, *types = NULL, *cr3 = NULL;
    g_autofree char *vcpu = NULL, *pid = NULL, *comm = NULL;
    g_auto(GStrv) syscalls = NULL, files = NULL;
    gboolean follow = FALSE, summary = FALSE, peek = FALSE, from_now = FALSE;
    gboolean tree = FALSE;
    bool syscall_names = false;
    gint64 count = -1;
    GOptionEntry entries[] = {
        { "follow", 'f', 0, G_OPTION_ARG_NONE, &follow,
          "Keep reading until QEMU closes the ring (or Ctrl-C)", NULL },
        { "format", 'o', 0, G_OPTION_ARG_STRING, &format,
          "Output: json (JSON Lines, default), text (strace-like), none",
          "FMT" },
        { "type", 't', 0, G_OPTION_ARG_STRING, &types,
          "Only these event types: syscall,pagefault,lost", "LIST" },
        { "syscall", 's', 0, G_OPTION_ARG_STRING_ARRAY, &syscalls,
          "Only these syscalls (names or numbers, comma-separated; "
          "repeatable)", "LIST" },
        { "cr3", 0, 0, G_OPTION_ARG_STRING, &cr3,
          "Only these address spaces (hex CR3, low 12 bits ignored)", "LIST" },
        { "vcpu", 0, 0, G_OPTION_ARG_STRING, &vcpu,
          "Only these vCPUs", "LIST" },
        { "pid", 'p', 0, G_OPTION_ARG_STRING, &pid,
          "Only these guest processes or threads (needs os-profile)",
          "LIST" },
        { "comm", 'c', 0, G_OPTION_ARG_STRING, &comm,
          "Only these guest command names (needs os-profile)", "LIST" },
        { "tree", 0, 0, G_OPTION_ARG_NONE, &tree,
          "Print the guest's process tree (exec path, lifetime, event "
          "counts) instead of the events (needs os-profile)", NULL },
        { "summary", 'S', 0, G_OPTION_ARG_NONE, &summary,
          "Print counts per syscall, rate and lost records at the end "
          "(text on stdout with --format=text, else JSON on stderr)", NULL },
        { "peek", 0, 0, G_OPTION_ARG_NONE, &peek,
          "Read a private snapshot; do not release records to QEMU", NULL },
        { "from-now", 0, 0, G_OPTION_ARG_NONE, &from_now,
          "Skip the backlog: start at the newest record", NULL },
        { "count", 'n', 0, G_OPTION_ARG_INT64, &count,
          "Stop after N events", "N" },
        { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &files,
          NULL, NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("FILE - read a cloak-trace ring");
    g_autoptr(GError) err = NULL;
    Reader rd = { 0 };
    struct sigaction sa = { 0 };
    uint32_t i;
    char **p;
    int rc;

    if (argc > 1 && !strcmp(argv[1], "profile")) {
        return ct_profile_main(argc - 1, argv + 1);
    }
    g_option_context_set_summary(ctx,
        "Reads the shared-memory ring that QEMU's -object cloak-trace writes\n"
        "(live or finished) and prints every guest syscall entry, return and\n"
        "page fault.  The file is validated record by record.\n\n"
        "cloak-trace profile INPUT makes the OS profile of a guest kernel\n"
        "that lets events name their process (see cloak-trace profile "
        "--help).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "cloak-trace: %s\n", err->message);
        return 2;
    }
    if (!files || !files[0] || files[1]) {
        fprintf(stderr, "cloak-trace: give exactly one ring FILE (see "
                "--help)\n");
        return 2;
    }
    rd.format = FMT_JSON;
    if (format) {
        if (!strcmp(format, "json")) {
            rd.format = FMT_JSON;
        } else if (!strcmp(format, "text")) {
            rd.format = FMT_TEXT;
        } else if (!strcmp(format, "none")) {
            rd.format = FMT_NONE;
        } else {
            fprintf(stderr, "cloak-trace: --format: unknown format '%s' "
                    "(json, text, none)\n", format);
            return 2;
        }
    }
    rd.filt.types = TYPE_SYSCALL | TYPE_PAGEFAULT | TYPE_LOST;
    if (types) {
        g_auto(GStrv) parts = g_strsplit(types, ",", -1);

        rd.filt.types = 0;
        for (p = parts; *p; p++) {
            if (!strcmp(*p, "syscall")) {
                rd.filt.types |= TYPE_SYSCALL;
            } else if (!strcmp(*p, "pagefault")) {
                rd.filt.types |= TYPE_PAGEFAULT;
            } else if (!strcmp(*p, "lost")) {
                rd.filt.types |= TYPE_LOST;
            } else {
                fprintf(stderr, "cloak-trace: --type: unknown event type "
                        "'%s' (syscall, pagefault, lost)\n", *p);
                return 2;
            }
        }
    }
    rd.filt.syscalls = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    rd.filt.cr3s = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    rd.filt.vcpus = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    rd.filt.pids = g_array_new(FALSE, FALSE, sizeof(uint64_t));
    if (comm) {
        rd.filt.comms = g_strsplit(comm, ",", -1);
    }
    for (p = syscalls; p && *p; p++) {
        g_auto(GStrv) names = g_strsplit(*p, ",", -1);
        char **q;

        for (q = names; *q; q++) {
            uint8_t abi = CLOAK_TRACE_ABI_X86_64;
            int64_t nr;
            uint64_t key;

            if (g_ascii_isdigit(**q)) {
                char *end;

                nr = g_ascii_strtoll(*q, &end, 10);
                if (*end) {
                    nr = -1;
                }
            } else {
                nr = ct_syscall_number(*q, &abi);
                syscall_names = true;
            }
            if (nr < 0) {
                fprintf(stderr, "cloak-trace: --syscall: unknown syscall "
                        "'%s'\n", *q);
                return 2;
            }
            key = (uint64_t)abi << 32 | (uint64_t)nr;
            g_array_append_val(rd.filt.syscalls, key);
            if (abi == CLOAK_TRACE_ABI_X86_64 && g_ascii_isalpha(**q)) {
                /* The same name in compat tasks. */
                uint8_t abi32 = 0;
                int64_t nr32 = -1, k;

                for (k = 0; k < 4096 && nr32 < 0; k++) {
                    const char *n32 = ct_syscall_name(CLOAK_TRACE_ABI_I386, k);

                    if (n32 && !strcmp(n32, *q)) {
                        nr32 = k;
                        abi32 = CLOAK_TRACE_ABI_I386;
                    }
                }
                if (nr32 >= 0) {
                    key = (uint64_t)abi32 << 32 | (uint64_t)nr32;
                    g_array_append_val(rd.filt.syscalls, key);
                }
            }
        }
    }
    if ((cr3 && !parse_list("cr3", cr3, rd.filt.cr3s, true, &err)) ||
        (vcpu && !parse_list("vcpu", vcpu, rd.filt.vcpus, false, &err)) ||
        (pid && !parse_list("pid", pid, rd.filt.pids, false, &err))) {
        fprintf(stderr, "cloak-trace: %s\n", err->message);
        return 2;
    }
    rd.follow = follow;
    rd.summary = summary;
    rd.max_events = count;

    sa.sa_handler = on_sigbus;
    sigaction(SIGBUS, &sa, NULL);
    sa.sa_handler = on_stop;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    rd.file = ct_file_open(files[0], !peek, from_now, &err);
    if (!rd.file) {
        fprintf(stderr, "cloak-trace: error: %s\n", err->message);
        return 1;
    }
    ct_format_set_guest_os(rd.file->h.guest_os);
    if (syscall_names && rd.file->h.guest_os != CLOAK_TRACE_OS_LINUX) {
        fprintf(stderr, "cloak-trace: --syscall: %s is not a Linux guest's "
                "trace, so its calls have no names here; give numbers\n",
                files[0]);
        ct_file_close(rd.file);
        return 2;
    }
    rd.tree = tree;
    if ((tree || pid || comm) &&
        (rd.file->h.abi_version < 2 ||
         rd.file->h.attribution == CLOAK_TRACE_ATTR_OFF)) {
        fprintf(stderr, "cloak-trace: --tree, --pid and --comm need events "
                "that name their process, and %s has none (start QEMU's "
                "cloak-trace with os-profile=FILE; see cloak-trace "
                "profile)\n", files[0]);
        ct_file_close(rd.file);
        return 2;
    }
    rd.procs = g_hash_table_new_full(NULL, NULL, NULL, proc_free);
    rd.exec_paths = g_hash_table_new_full(NULL, NULL, NULL,
                                          pending_exec_free);
    rd.out = g_string_sized_new(1 << 17);
    rd.pending = g_new0(GString *, rd.file->h.nr_rings);
    rd.pending_seq = g_new0(uint64_t, rd.file->h.nr_rings);
    rd.next = g_new0(CtEvent, rd.file->h.nr_rings);
    rd.have_next = g_new0(bool, rd.file->h.nr_rings);
    rd.tail_before_next = g_new0(uint64_t, rd.file->h.nr_rings);
    rd.st.per_vcpu = g_new0(uint64_t, rd.file->h.nr_rings);
    rd.st.per_syscall = g_hash_table_new(g_str_hash, g_str_equal);
    for (i = 0; i < rd.file->h.nr_rings; i++) {
        rd.pending[i] = g_string_new(NULL);
    }
    rc = run(&rd);
    /* Unprinted look-ahead events are not released: they stay queued. */
    for (i = 0; i < rd.file->h.nr_rings; i++) {
        release(&rd, i);
        if (rd.have_next[i]) {
            rd.file->rings[i].tail = rd.tail_before_next[i];
        }
        g_string_free(rd.pending[i], TRUE);
    }
    ct_file_close(rd.file);
    g_string_free(rd.out, TRUE);
    g_free(rd.pending);
    g_free(rd.pending_seq);
    g_free(rd.next);
    g_free(rd.have_next);
    g_free(rd.tail_before_next);
    g_free(rd.st.per_vcpu);
    g_hash_table_destroy(rd.st.per_syscall);
    g_array_free(rd.filt.syscalls, TRUE);
    g_array_free(rd.filt.cr3s, TRUE);
    g_array_free(rd.filt.vcpus, TRUE);
    g_array_free(rd.filt.pids, TRUE);
    g_strfreev(rd.filt.comms);
    g_hash_table_destroy(rd.procs);
    g_hash_table_destroy(rd.exec_paths);
    return rc;
}
