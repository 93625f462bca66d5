/*
 * Consumer side of the cloak-trace ring (see ring-reader.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ring-reader.h"

G_DEFINE_QUARK(cloak-trace-reader-error, ct_error)

static bool is_pow2(uint64_t v)
{
    return v && !(v & (v - 1));
}

/* Version 2's record sizes by type; version 3 keeps them. */
#define RECORD_SIZES_V2 { \
        [CLOAK_TRACE_REC_PAD] = 8, \
        [CLOAK_TRACE_REC_LOST] = sizeof(struct cloak_trace_lost), \
        [CLOAK_TRACE_REC_SYSCALL_ENTER] = \
            sizeof(struct cloak_trace_syscall_enter), \
        [CLOAK_TRACE_REC_SYSCALL_EXIT] = \
            sizeof(struct cloak_trace_syscall_exit), \
        [CLOAK_TRACE_REC_PAGE_FAULT] = sizeof(struct cloak_trace_page_fault), \
    }

/* Record sizes by ABI version (index) and type. */
static const uint16_t expected_record_size[4][8] = {
    [1] = {
        [CLOAK_TRACE_REC_PAD] = 8,
        [CLOAK_TRACE_REC_LOST] = sizeof(struct cloak_trace_lost),
        [CLOAK_TRACE_REC_SYSCALL_ENTER] = CLOAK_TRACE_V1_SYSCALL_ENTER_SIZE,
        [CLOAK_TRACE_REC_SYSCALL_EXIT] = CLOAK_TRACE_V1_SYSCALL_EXIT_SIZE,
        [CLOAK_TRACE_REC_PAGE_FAULT] = CLOAK_TRACE_V1_PAGE_FAULT_SIZE,
    },
    [2] = RECORD_SIZES_V2,
    [3] = RECORD_SIZES_V2,      /* entries may carry their return */
};

bool ct_header_check(const struct cloak_trace_header *h, uint64_t real_size,
                     GError **errp)
{
    uint64_t ctl_end, data_bytes;
    unsigned i;

#define BAD(...) do { \
        g_set_error(errp, CT_ERROR, CT_ERROR_HEADER, __VA_ARGS__); \
        return false; \
    } while (0)

    if (real_size < sizeof(*h)) {
        BAD("file is %" G_GUINT64_FORMAT " bytes, shorter than the %zu-byte "
            "header (truncated?)", real_size, sizeof(*h));
    }
    if (h->magic != CLOAK_TRACE_MAGIC) {
        BAD("bad magic 0x%016" G_GINT64_MODIFIER "x: not a cloak-trace ring "
            "file", h->magic);
    }
    if (h->abi_version < 1 || h->abi_version > CLOAK_TRACE_ABI_VERSION) {
        BAD("ABI version %u, this reader knows versions 1 to %u",
            h->abi_version, CLOAK_TRACE_ABI_VERSION);
    }
    if (h->record_layout != h->abi_version) {
        BAD("record layout %u does not belong to ABI version %u",
            h->record_layout, h->abi_version);
    }
    if (h->header_size != sizeof(*h) ||
        h->ring_ctl_size != sizeof(struct cloak_trace_ring_ctl) ||
        h->record_align != CLOAK_TRACE_RECORD_ALIGN) {
        BAD("header/control/alignment sizes %u/%u/%u do not match the ABI "
            "(%zu/%zu/%d)", h->header_size, h->ring_ctl_size,
            h->record_align, sizeof(*h), sizeof(struct cloak_trace_ring_ctl),
            CLOAK_TRACE_RECORD_ALIGN);
    }
    for (i = 1; i <= CLOAK_TRACE_REC_MAX; i++) {
        if (h->record_size[i] != expected_record_size[h->abi_version][i]) {
            BAD("record type %u has size %u in the header, %u in ABI "
                "version %u", i, h->record_size[i],
                expected_record_size[h->abi_version][i], h->abi_version);
        }
    }
    if (h->abi_version >= 2 &&
        (h->guest_os > CLOAK_TRACE_OS_OTHER ||
         h->attribution > CLOAK_TRACE_ATTR_REFUSED)) {
        BAD("unknown guest OS %u or attribution state %u", h->guest_os,
            h->attribution);
    }
    if (h->nr_rings == 0 || h->nr_rings > CLOAK_TRACE_MAX_RINGS) {
        BAD("nr_rings %u out of range 1..%d", h->nr_rings,
            CLOAK_TRACE_MAX_RINGS);
    }
    if (!is_pow2(h->ring_size) || h->ring_size < CLOAK_TRACE_RING_MIN ||
        h->ring_size > CLOAK_TRACE_RING_MAX) {
        BAD("ring_size %" G_GUINT64_FORMAT " is not a power of two in "
            "%llu..%llu", h->ring_size, CLOAK_TRACE_RING_MIN,
            CLOAK_TRACE_RING_MAX);
    }
    if (h->ring_ctl_offset < sizeof(*h) || h->ring_ctl_offset % 64) {
        BAD("ring_ctl_offset %" G_GUINT64_FORMAT " overlaps the header or is "
            "misaligned", h->ring_ctl_offset);
    }
    ctl_end = h->ring_ctl_offset +
              (uint64_t)h->nr_rings * sizeof(struct cloak_trace_ring_ctl);
    if (h->data_offset < ctl_end || h->data_offset % 4096) {
        BAD("data_offset %" G_GUINT64_FORMAT " overlaps the control blocks "
            "or is not page aligned", h->data_offset);
    }
    data_bytes = (uint64_t)h->nr_rings * h->ring_size;
    if (h->data_offset > UINT64_MAX - data_bytes ||
        h->file_size != h->data_offset + data_bytes) {
        BAD("file_size %" G_GUINT64_FORMAT " does not match %u rings of %"
            G_GUINT64_FORMAT " bytes at offset %" G_GUINT64_FORMAT,
            h->file_size, h->nr_rings, h->ring_size, h->data_offset);
    }
    if (real_size < h->file_size) {
        BAD("file is %" G_GUINT64_FORMAT " bytes but its header says %"
            G_GUINT64_FORMAT " (truncated)", real_size, h->file_size);
    }
    if (h->path_max > CLOAK_TRACE_PATH_MAX) {
        BAD("path_max %u exceeds %d", h->path_max, CLOAK_TRACE_PATH_MAX);
    }
    if (h->clock_id != CLOAK_TRACE_CLOCK_MONOTONIC) {
        BAD("unknown clock id %u", h->clock_id);
    }
    if (h->state < CLOAK_TRACE_STATE_RUNNING ||
        h->state > CLOAK_TRACE_STATE_CLOSED) {
        BAD("unknown producer state %u", h->state);
    }
#undef BAD
    return true;
}

static bool ct_file_setup(CtFile *f, bool consume, bool from_now,
                          GError **errp)
{
    uint32_t i;

    memcpy(&f->h, f->map, sizeof(f->h));
    if (!ct_header_check(&f->h, f->map_size, errp)) {
        return false;
    }
    f->rings = g_new0(CtRing, f->h.nr_rings);
    for (i = 0; i < f->h.nr_rings; i++) {
        CtRing *r = &f->rings[i];
        uint64_t head, tail;

        r->ctl = (struct cloak_trace_ring_ctl *)
            (f->map + f->h.ring_ctl_offset +
             (uint64_t)i * sizeof(struct cloak_trace_ring_ctl));
        r->data = f->map + f->h.data_offset + (uint64_t)i * f->h.ring_size;
        r->size = f->h.ring_size;
        r->index = i;
        r->path_max = f->h.path_max;
        r->record_size = expected_record_size[f->h.abi_version];
        r->version = f->h.abi_version;
        r->consume = consume;
        head = __atomic_load_n(&r->ctl->head, __ATOMIC_ACQUIRE);
        tail = __atomic_load_n(&r->ctl->tail, __ATOMIC_RELAXED);
        if (tail > head || head - tail > r->size || (head | tail) % 8) {
            g_set_error(errp, CT_ERROR, CT_ERROR_RING,
                        "ring %u: head %" G_GUINT64_FORMAT " and tail %"
                        G_GUINT64_FORMAT " are inconsistent", i, head, tail);
            return false;
        }
        r->released = tail;
        r->tail = r->head = from_now ? head : tail;
        if (from_now) {
            ct_ring_release(r);
        }
        if (consume) {
            __atomic_store_n(&r->ctl->consumer_pid, (uint64_t)getpid(),
                             __ATOMIC_RELAXED);
        }
    }
    return true;
}

CtFile *ct_file_from_buffer(uint8_t *buf, size_t len, GError **errp)
{
    CtFile *f = g_new0(CtFile, 1);

    f->fd = -1;
    f->map = buf;
    f->map_size = len;
    if (len < sizeof(struct cloak_trace_header)) {
        g_set_error(errp, CT_ERROR, CT_ERROR_HEADER,
                    "file is %zu bytes, shorter than the %zu-byte header "
                    "(truncated?)", len, sizeof(struct cloak_trace_header));
        ct_file_close(f);
        return NULL;
    }
    if (!ct_file_setup(f, false, false, errp)) {
        ct_file_close(f);
        return NULL;
    }
    return f;
}

CtFile *ct_file_open(const char *path, bool consume, bool from_now,
                     GError **errp)
{
    CtFile *f = g_new0(CtFile, 1);
    struct stat st;
    void *m;

    /* O_NONBLOCK: a FIFO given as the ring must not block the open */
    f->fd = open(path, (consume ? O_RDWR : O_RDONLY) | O_CLOEXEC |
                 O_NONBLOCK | O_NOCTTY);
    if (f->fd < 0) {
        g_set_error(errp, CT_ERROR, CT_ERROR_IO, "cannot open %s: %s", path,
                    g_strerror(errno));
        goto fail;
    }
    if (fstat(f->fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        g_set_error(errp, CT_ERROR, CT_ERROR_IO, "%s is not a regular file",
                    path);
        goto fail;
    }
    if (consume && flock(f->fd, LOCK_EX | LOCK_NB) < 0) {
        g_set_error(errp, CT_ERROR, CT_ERROR_BUSY,
                    "%s is being read by another cloak-trace (flock: %s)",
                    path, g_strerror(errno));
        goto fail;
    }
    if ((uint64_t)st.st_size < sizeof(struct cloak_trace_header)) {
        g_set_error(errp, CT_ERROR, CT_ERROR_HEADER,
                    "%s is %lld bytes, shorter than the %zu-byte header "
                    "(truncated or not a ring file)", path,
                    (long long)st.st_size, sizeof(struct cloak_trace_header));
        goto fail;
    }
    f->map_size = st.st_size;
    m = mmap(NULL, f->map_size, PROT_READ | PROT_WRITE,
             consume ? MAP_SHARED : MAP_PRIVATE, f->fd, 0);
    if (m == MAP_FAILED) {
        g_set_error(errp, CT_ERROR, CT_ERROR_IO, "cannot map %s: %s", path,
                    g_strerror(errno));
        goto fail;
    }
    f->map = m;
    f->owns_map = true;
    if (!ct_file_setup(f, consume, from_now, errp)) {
        g_prefix_error(errp, "%s: ", path);
        goto fail;
    }
    return f;

fail:
    ct_file_close(f);
    return NULL;
}

void ct_file_close(CtFile *f)
{
    uint32_t i;

    if (!f) {
        return;
    }
    if (f->rings) {
        for (i = 0; i < f->h.nr_rings; i++) {
            ct_ring_release(&f->rings[i]);
            if (f->rings[i].consume) {
                __atomic_store_n(&f->rings[i].ctl->consumer_pid, 0,
                                 __ATOMIC_RELAXED);
            }
        }
    }
    g_free(f->rings);
    if (f->owns_map) {
        munmap(f->map, f->map_size);
    }
    if (f->fd >= 0) {
        close(f->fd);
    }
    g_free(f);
}

uint32_t ct_file_state(CtFile *f)
{
    const struct cloak_trace_header *h = (const void *)f->map;

    return __atomic_load_n(&h->state, __ATOMIC_ACQUIRE);
}

bool ct_file_still_whole(CtFile *f, GError **errp)
{
    struct stat st;

    if (f->fd < 0) {
        return true;
    }
    if (fstat(f->fd, &st) < 0 || (uint64_t)st.st_size < f->h.file_size) {
        g_set_error(errp, CT_ERROR, CT_ERROR_IO,
                    "the ring file shrank to %lld bytes while being read",
                    (long long)st.st_size);
        return false;
    }
    return true;
}

void ct_ring_release(CtRing *r)
{
    if (r->consume && r->released != r->tail) {
        __atomic_store_n(&r->ctl->tail, r->tail, __ATOMIC_RELEASE);
        r->released = r->tail;
    }
}

static bool decode_paths(CtRing *r, CtEvent *ev, const uint8_t *rec,
                         uint32_t size, GError **errp)
{
    uint32_t pos = r->record_size[CLOAK_TRACE_REC_SYSCALL_ENTER];
    unsigned i, npaths = ev->u.enter.npaths;

    if (npaths > CT_MAX_PATHS) {
        g_set_error(errp, CT_ERROR, CT_ERROR_RECORD,
                    "ring %u seq %" G_GUINT64_FORMAT ": %u paths (max %d)",
                    r->index, ev->hdr.seq, npaths, CT_MAX_PATHS);
        return false;
    }
    if (!npaths != !(ev->hdr.flags & CLOAK_TRACE_RF_PATHS)) {
        g_set_error(errp, CT_ERROR, CT_ERROR_RECORD,
                    "ring %u seq %" G_GUINT64_FORMAT ": paths flag and "
                    "count disagree", r->index, ev->hdr.seq);
        return false;
    }
    for (i = 0; i < npaths; i++) {
        struct cloak_trace_path p;
        CtPath *out = &ev->paths[i];
        uint32_t padded;

        if (size - pos < sizeof(p)) {
            goto overrun;
        }
        memcpy(&p, rec + pos, sizeof(p));
        pos += sizeof(p);
        padded = ((uint32_t)p.len + 7) & ~7u;
        if (p.len > r->path_max || p.arg > 5 ||
            (p.flags & ~(CLOAK_TRACE_PATH_TRUNCATED |
                         CLOAK_TRACE_PATH_UNREADABLE))) {
            g_set_error(errp, CT_ERROR, CT_ERROR_RECORD,
                        "ring %u seq %" G_GUINT64_FORMAT ": path %u has "
                        "arg %u, flags 0x%x, length %u (max %u)", r->index,
                        ev->hdr.seq, i, p.arg, p.flags, p.len, r->path_max);
            return false;
        }
        if (size - pos < padded) {
            goto overrun;
        }
        out->arg = p.arg;
        out->flags = p.flags;
        out->len = p.len;
        memcpy(out->data, rec + pos, p.len);
        out->data[p.len] = 0;
        pos += padded;
    }
    if (pos != size) {
        g_set_error(errp, CT_ERROR, CT_ERROR_RECORD,
                    "ring %u seq %" G_GUINT64_FORMAT ": %u stray bytes after "
                    "the paths", r->index, ev->hdr.seq, size - pos);
        return false;
    }
    ev->npaths = npaths;
    return true;

overrun:
    g_set_error(errp, CT_ERROR, CT_ERROR_RECORD,
                "ring %u seq %" G_GUINT64_FORMAT ": path %u runs past the "
                "end of its record", r->index, ev->hdr.seq, i);
    return false;
}

static bool check_seq(CtRing *r, CtEvent *ev, GError **errp)
{
    uint64_t seq = ev->hdr.seq;

    if (ev->hdr.type == CLOAK_TRACE_REC_LOST) {
        const struct cloak_trace_lost *l = &ev->u.lost;

        if (l->count == 0 || l->last_seq < l->first_seq ||
            l->last_seq - l->first_seq != l->count - 1 ||
            seq != l->last_seq + 1 ||
            (r->seq_known && l->first_seq != r->next_seq)) {
            g_set_error(errp, CT_ERROR, CT_ERROR_RECORD,
                        "ring %u: LOST record seq %" G_GUINT64_FORMAT
                        " (count %" G_GUINT64_FORMAT ", %" G_GUINT64_FORMAT
                        "..%" G_GUINT64_FORMAT ") does not match the "
                        "sequence (expected %" G_GUINT64_FORMAT ")",
                        r->index, seq, l->count, l->first_seq, l->last_seq,
                        r->next_seq);
            return false;
        }
        r->lost_in_records += l->count;
    } else if (r->seq_known && seq != r->next_seq) {
        g_set_error(errp, CT_ERROR, CT_ERROR_RECORD,
                    "ring %u: sequence number %" G_GUINT64_FORMAT
                    ", expected %" G_GUINT64_FORMAT, r->index, seq,
                    r->next_seq);
        return false;
    }
    r->seq_known = true;
    r->next_seq = seq + 1;
    return true;
}

/*
 * The exit a returned entry stands for (cloak-trace-abi.h): the entry's
 * fields, and the return from the record's last 24 bytes.
 */
static void rebuild_exit(CtRing *r, const struct cloak_trace_syscall_enter *e,
                         const struct cloak_trace_syscall_return *ret,
                         uint32_t size)
{
    struct cloak_trace_syscall_exit *x = &r->exit_of_returned;

    memset(x, 0, sizeof(*x));
    x->hdr.size = sizeof(*x);
    x->hdr.type = CLOAK_TRACE_REC_SYSCALL_EXIT;
    x->hdr.flags = e->hdr.flags & CLOAK_TRACE_RF_TASK;
    x->hdr.seq = e->hdr.seq + 1;
    x->hdr.ts_ns = ret->ts_ns;
    x->hdr.vcpu = e->hdr.vcpu;
    x->cr3 = e->cr3;
    x->rip = e->ret_rip;
    x->rsp = e->rsp;
    x->nr = e->nr;
    x->ret = ret->ret;
    x->enter_seq = e->hdr.seq;
    x->enter_vcpu = e->hdr.vcpu;
    x->abi = e->abi;
    x->exit = ret->exit;
    x->task = e->task;
    r->exit_next = true;
    r->exit_next_size = size;
}

int ct_ring_next(CtRing *r, CtEvent *ev, GError **errp)
{
    struct cloak_trace_rec small = { 0 };
    struct cloak_trace_syscall_return ret = { 0 };
    uint64_t off, avail, head;
    uint32_t size, paths_end;

    if (r->exit_next) {
        ev->npaths = 0;
        memset(&ev->u, 0, sizeof(ev->u));
        ev->u.exit = r->exit_of_returned;
        ev->hdr = ev->u.exit.hdr;
        if (!check_seq(r, ev, errp)) {
            return -1;
        }
        r->exit_next = false;
        r->tail += r->exit_next_size;
        r->events++;
        return 1;
    }
    for (;;) {
        if (r->tail == r->head) {
            head = __atomic_load_n(&r->ctl->head, __ATOMIC_ACQUIRE);
            if (head < r->tail || head - r->tail > r->size || head % 8) {
                g_set_error(errp, CT_ERROR, CT_ERROR_RING,
                            "ring %u: head %" G_GUINT64_FORMAT " is "
                            "inconsistent with the read position %"
                            G_GUINT64_FORMAT, r->index, head, r->tail);
                return -1;
            }
            r->head = head;
            if (head == r->tail) {
                return 0;
            }
        }
        off = r->tail & (r->size - 1);
        avail = r->head - r->tail;
        if (avail < 8) {
            goto bad_size;
        }
        memcpy(&small, r->data + off, 8);
        size = small.size;
        if (size < 8 || size % 8 || size > avail || off + size > r->size) {
            goto bad_size;
        }
        if (small.type != CLOAK_TRACE_REC_PAD) {
            break;
        }
        if (off + size != r->size) {
            g_set_error(errp, CT_ERROR, CT_ERROR_RECORD,
                        "ring %u offset %" G_GUINT64_FORMAT ": PAD record "
                        "of %u bytes does not end at the end of the ring",
                        r->index, off, size);
            return -1;
        }
        r->tail += size;
    }
    if (size < sizeof(struct cloak_trace_rec) || size > CT_RECORD_MAX) {
        goto bad_size;
    }
    /*
     * Each shared byte is read exactly once, into ev; the size and type
     * used are the ones just validated, whatever the file says now.
     */
    ev->npaths = 0;
    /* A version-1 record leaves the version-2 fields zero. */
    memset(&ev->u, 0, sizeof(ev->u));
    switch (small.type) {
    case CLOAK_TRACE_REC_LOST:
    case CLOAK_TRACE_REC_SYSCALL_EXIT:
    case CLOAK_TRACE_REC_PAGE_FAULT:
        if (size != r->record_size[small.type]) {
            goto bad_size;
        }
        memcpy(&ev->u, r->data + off, size);
        if (small.type == CLOAK_TRACE_REC_PAGE_FAULT &&
            ev->u.pf.insn_len > sizeof(ev->u.pf.insn)) {
            g_set_error(errp, CT_ERROR, CT_ERROR_RECORD,
                        "ring %u offset %" G_GUINT64_FORMAT ": page fault "
                        "with %u instruction bytes (max 16)", r->index, off,
                        ev->u.pf.insn_len);
            return -1;
        }
        break;
    case CLOAK_TRACE_REC_SYSCALL_ENTER:
        if (size < r->record_size[small.type]) {
            goto bad_size;
        }
        memcpy(&ev->u, r->data + off, r->record_size[small.type]);
        ev->hdr = ev->u.enter.hdr;
        paths_end = size;
        if (ev->hdr.flags & CLOAK_TRACE_RF_RETURNED) {
            paths_end -= sizeof(ret);
            if (r->version < 3 ||
                size < r->record_size[small.type] + sizeof(ret)) {
                g_set_error(errp, CT_ERROR, CT_ERROR_RECORD,
                            "ring %u offset %" G_GUINT64_FORMAT ": entry "
                            "of %u bytes says it holds its return (a "
                            "version-3 record of at least %zu bytes)",
                            r->index, off, size,
                            r->record_size[small.type] + sizeof(ret));
                return -1;
            }
            memcpy(&ret, r->data + off + paths_end, sizeof(ret));
        }
        if (!decode_paths(r, ev, r->data + off, paths_end, errp)) {
            return -1;
        }
        break;
    default:
        g_set_error(errp, CT_ERROR, CT_ERROR_RECORD,
                    "ring %u offset %" G_GUINT64_FORMAT ": unknown record "
                    "type %u", r->index, off, small.type);
        return -1;
    }
    ev->hdr = ev->u.lost.hdr;       /* every record starts with the header */
    ev->hdr.size = size;
    ev->hdr.type = small.type;
    if (ev->hdr.vcpu != r->index) {
        g_set_error(errp, CT_ERROR, CT_ERROR_RECORD,
                    "ring %u seq %" G_GUINT64_FORMAT ": record claims vCPU %u",
                    r->index, ev->hdr.seq, ev->hdr.vcpu);
        return -1;
    }
    if (!check_seq(r, ev, errp)) {
        return -1;
    }
    if (ev->hdr.type == CLOAK_TRACE_REC_SYSCALL_ENTER &&
        (ev->hdr.flags & CLOAK_TRACE_RF_RETURNED)) {
        rebuild_exit(r, &ev->u.enter, &ret, size);
    } else {
        r->tail += size;
    }
    r->events++;
    return 1;

bad_size:
    g_set_error(errp, CT_ERROR, CT_ERROR_RECORD,
                "ring %u offset %" G_GUINT64_FORMAT ": record size %u invalid "
                "(type %u, %" G_GUINT64_FORMAT " bytes published)", r->index,
                r->tail & (r->size - 1), (unsigned)small.size,
                (unsigned)small.type, r->head - r->tail);
    return -1;
}
