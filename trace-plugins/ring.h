/*
 * cloak-trace ring producer: the single-producer side of one per-vCPU ring
 * as cloak-trace-abi.h defines it.  Header-only and free of QEMU headers so
 * that QEMU's cloak-trace object, the ring unit tests and the throughput
 * bench all run the very same code.
 *
 * The producer keeps its authoritative head privately and only publishes
 * it; it never reads head back from the shared file, and it treats a
 * consumer's tail that is not within [head - size, head] as "ring full", so
 * a broken or hostile reader can make it drop events but never make it
 * overwrite unreleased bytes or write outside the ring.
 */
#ifndef CLOAK_TRACE_RING_H
#define CLOAK_TRACE_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sched.h>
#include <time.h>

#include "cloak-trace-abi.h"

typedef struct CloakRingProducer {
    struct cloak_trace_ring_ctl *ctl;   /* shared control block */
    uint8_t *data;                      /* shared data area */
    uint64_t size;                      /* data bytes, power of two */
    uint64_t head;                      /* private, authoritative */
    uint64_t tail_cache;                /* last tail seen */
    uint64_t prefetched;                /* lines below it asked for */
    uint64_t seq;                       /* next sequence number */
    uint64_t records;                   /* events written */
    uint64_t lost;                      /* events dropped, total */
    uint64_t lost_pending;              /* dropped since the last LOST record */
    uint64_t lost_first;                /* seq of the first of those */
    uint32_t vcpu;
    bool block;                         /* wait for room instead of dropping */
    /* Block mode gives up waiting (and drops) once give_up(opaque) says so. */
    bool (*give_up)(void *opaque);
    void *give_up_opaque;
    /*
     * How block mode waits for room, with give_up_opaque; NULL yields,
     * then sleeps (cloak_ring_wait_a_little).  QEMU's producer lets go of
     * its big lock meanwhile.
     */
    void (*wait)(void *opaque, unsigned *spins);
} CloakRingProducer;

static inline void cloak_ring_producer_init(CloakRingProducer *p,
                                            struct cloak_trace_ring_ctl *ctl,
                                            uint8_t *data, uint64_t size,
                                            uint32_t vcpu, bool block,
                                            bool (*give_up)(void *),
                                            void *give_up_opaque)
{
    memset(p, 0, sizeof(*p));
    p->ctl = ctl;
    p->data = data;
    p->size = size;
    p->vcpu = vcpu;
    p->block = block;
    p->give_up = give_up;
    p->give_up_opaque = give_up_opaque;
    p->head = p->tail_cache = 0;
    __atomic_store_n(&ctl->head, 0, __ATOMIC_RELAXED);
    __atomic_store_n(&ctl->tail, 0, __ATOMIC_RELAXED);
}

/* Head after appending a record of len bytes at head (PAD included). */
static inline uint64_t cloak_ring_advance(uint64_t head, uint64_t size,
                                          uint32_t len)
{
    uint64_t off = head & (size - 1);

    if (off + len > size) {
        head += size - off;
    }
    return head + len;
}

static inline bool cloak_ring_fits(CloakRingProducer *p, uint64_t new_head)
{
    uint64_t used;

    if (new_head - p->tail_cache <= p->size) {
        return true;
    }
    p->tail_cache = __atomic_load_n(&p->ctl->tail, __ATOMIC_ACQUIRE);
    used = p->head - p->tail_cache;
    if (used > p->size) {
        /* tail is ahead of head or too far behind: never trust it. */
        p->tail_cache = p->head - p->size;
        return false;
    }
    return new_head - p->tail_cache <= p->size;
}

/* Places a record of len bytes at head, writing a PAD before it if needed. */
static inline struct cloak_trace_rec *cloak_ring_place(CloakRingProducer *p,
                                                       uint32_t len)
{
    uint64_t off = p->head & (p->size - 1);
    struct cloak_trace_rec *pad;

    if (off + len > p->size) {
        pad = (struct cloak_trace_rec *)(p->data + off);
        pad->size = (uint32_t)(p->size - off);
        pad->type = CLOAK_TRACE_REC_PAD;
        pad->flags = 0;
        p->head += p->size - off;
        off = 0;
    }
    return (struct cloak_trace_rec *)(p->data + off);
}

static inline void cloak_ring_fill_hdr(CloakRingProducer *p,
                                       struct cloak_trace_rec *r,
                                       uint16_t type, uint32_t len,
                                       uint64_t ts)
{
    r->size = len;
    r->type = type;
    r->flags = 0;
    r->seq = p->seq++;
    r->ts_ns = ts;
    r->vcpu = p->vcpu;
    r->reserved = 0;
}

static inline void cloak_ring_wait_a_little(unsigned *spins)
{
    struct timespec ts = { 0, 20000 };

    if (++*spins < 64) {
        sched_yield();
    } else {
        nanosleep(&ts, NULL);
    }
}

/* cloak_ring_begin() where room must be waited for or events were lost. */
__attribute__((noinline, unused))
static struct cloak_trace_rec *cloak_ring_begin_slow(CloakRingProducer *p,
                                                     uint16_t type,
                                                     uint32_t len, uint64_t ts)
{
    uint64_t new_head;
    struct cloak_trace_rec *r;
    unsigned spins = 0;

    for (;;) {
        new_head = p->head;
        if (p->lost_pending) {
            new_head = cloak_ring_advance(new_head, p->size,
                                          sizeof(struct cloak_trace_lost));
        }
        new_head = cloak_ring_advance(new_head, p->size, len);
        if (cloak_ring_fits(p, new_head)) {
            break;
        }
        if (!p->block || (p->give_up && p->give_up(p->give_up_opaque))) {
            if (!p->lost_pending++) {
                p->lost_first = p->seq;
            }
            p->seq++;
            p->lost++;
            __atomic_store_n(&p->ctl->lost, p->lost, __ATOMIC_RELAXED);
            __atomic_store_n(&p->ctl->next_seq, p->seq, __ATOMIC_RELAXED);
            return NULL;
        }
        if (p->wait) {
            p->wait(p->give_up_opaque, &spins);
        } else {
            cloak_ring_wait_a_little(&spins);
        }
    }
    if (p->lost_pending) {
        struct cloak_trace_lost *l;

        l = (struct cloak_trace_lost *)cloak_ring_place(p, sizeof(*l));
        cloak_ring_fill_hdr(p, &l->hdr, CLOAK_TRACE_REC_LOST, sizeof(*l), ts);
        l->count = p->lost_pending;
        l->first_seq = p->lost_first;
        l->last_seq = p->lost_first + p->lost_pending - 1;
        /* Dropped events took seq numbers; LOST takes the next one. */
        p->head += sizeof(*l);
        p->records++;
        p->lost_pending = 0;
    }
    r = cloak_ring_place(p, len);
    cloak_ring_fill_hdr(p, r, type, len, ts);
    return r;
}

/*
 * Starts a record of len bytes (a multiple of 8, >= 32) and type: returns
 * where to write it, header filled in, or NULL if the event was dropped
 * (counted).  The caller fills the payload and calls cloak_ring_commit().
 * Inline where the last tail seen leaves room and nothing was lost.
 */
static inline struct cloak_trace_rec *cloak_ring_begin(CloakRingProducer *p,
                                                       uint16_t type,
                                                       uint32_t len,
                                                       uint64_t ts)
{
    struct cloak_trace_rec *r;

    if (__builtin_expect(!p->lost_pending &&
                         cloak_ring_advance(p->head, p->size, len) -
                         p->tail_cache <= p->size, 1)) {
        r = cloak_ring_place(p, len);
        cloak_ring_fill_hdr(p, r, type, len, ts);
        return r;
    }
    return cloak_ring_begin_slow(p, type, len, ts);
}

/*
 * Bytes past head whose cache lines a commit asks for ahead of the next
 * records (an entry that carries its return is 184 bytes).  A store to a
 * line that no cache holds (a ring larger than the cache), or that the
 * reader's core holds, stalls the vCPU until the line arrives; asked for
 * now, it arrives while the guest runs on.
 */
#define CLOAK_RING_PREFETCH_BYTES 320

static inline void cloak_ring_prefetch(CloakRingProducer *p)
{
    uint64_t end = p->head + CLOAK_RING_PREFETCH_BYTES;
    uint64_t line = (p->prefetched > p->head ? p->prefetched : p->head) &
                    ~(uint64_t)63;

    /* Only lines not asked for yet: a record is some 3 of the 5. */
    for (; line < end; line += 64) {
        const uint8_t *at = p->data + (line & (p->size - 1));

#if defined(__x86_64__) || defined(__i386__)
        /* For writing (exclusive); a no-op on CPUs that lack it. */
        __asm__ volatile("prefetchw %0" : : "m"(*at));
#else
        __builtin_prefetch(at, 1, 3);
#endif
    }
    p->prefetched = line;
}

/* Publishes the record started by cloak_ring_begin(); len may shrink. */
static inline void cloak_ring_commit(CloakRingProducer *p,
                                     struct cloak_trace_rec *r, uint32_t len)
{
    r->size = len;
    p->head += len;
    p->records++;
    __atomic_store_n(&p->ctl->records, p->records, __ATOMIC_RELAXED);
    __atomic_store_n(&p->ctl->next_seq, p->seq, __ATOMIC_RELAXED);
    __atomic_store_n(&p->ctl->head, p->head, __ATOMIC_RELEASE);
    cloak_ring_prefetch(p);
}

/*
 * Publishes an entry that carries its return (CLOAK_TRACE_RF_RETURNED):
 * one record, two events, so the return takes the next sequence number
 * and counts in ctl.records.
 */
static inline void cloak_ring_commit_returned(CloakRingProducer *p,
                                              struct cloak_trace_rec *r,
                                              uint32_t len)
{
    p->seq++;
    p->records++;
    cloak_ring_commit(p, r, len);
}

#endif /* CLOAK_TRACE_RING_H */
