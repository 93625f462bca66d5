/*
 * cloak-trace ring file layout: where the header, the control blocks and
 * each ring's data go, and how a fresh file's header is filled in.  Shared
 * by QEMU's cloak-trace object and the standalone tests and bench, so they
 * all lay files out the same way.
 */
#ifndef CLOAK_TRACE_RING_FILE_H
#define CLOAK_TRACE_RING_FILE_H

#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cloak-trace-abi.h"
#include "ring.h"

typedef struct CloakRingLayout {
    uint32_t nr_rings;
    uint64_t ring_size;
    uint64_t ring_ctl_offset;
    uint64_t data_offset;
    uint64_t file_size;
} CloakRingLayout;

static inline void cloak_ring_layout(CloakRingLayout *l, uint32_t nr_rings,
                                     uint64_t ring_size)
{
    uint64_t ctl_bytes = (uint64_t)nr_rings *
                         sizeof(struct cloak_trace_ring_ctl);

    l->nr_rings = nr_rings;
    l->ring_size = ring_size;
    l->ring_ctl_offset = CLOAK_TRACE_HEADER_BYTES;
    l->data_offset = (l->ring_ctl_offset + ctl_bytes + 4095) & ~4095ULL;
    l->file_size = l->data_offset + (uint64_t)nr_rings * ring_size;
}

static inline uint64_t cloak_ring_clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Fills the header of a zeroed mapping of l->file_size bytes. */
static inline void cloak_ring_file_init(void *map, const CloakRingLayout *l,
                                        uint32_t events, uint32_t flags,
                                        uint32_t path_max)
{
    struct cloak_trace_header *h = (struct cloak_trace_header *)map;

    memset(h, 0, sizeof(*h));
    h->magic = CLOAK_TRACE_MAGIC;
    h->abi_version = CLOAK_TRACE_ABI_VERSION;
    h->record_layout = CLOAK_TRACE_RECORD_LAYOUT;
    h->header_size = sizeof(*h);
    h->ring_ctl_size = sizeof(struct cloak_trace_ring_ctl);
    h->nr_rings = l->nr_rings;
    h->record_align = CLOAK_TRACE_RECORD_ALIGN;
    h->ring_size = l->ring_size;
    h->ring_ctl_offset = l->ring_ctl_offset;
    h->data_offset = l->data_offset;
    h->file_size = l->file_size;
    h->events = events;
    h->flags = flags;
    h->clock_id = CLOAK_TRACE_CLOCK_MONOTONIC;
    h->path_max = path_max;
    h->created_realtime_ns = cloak_ring_clock_ns(CLOCK_REALTIME);
    h->created_monotonic_ns = cloak_ring_clock_ns(CLOCK_MONOTONIC);
    h->state = CLOAK_TRACE_STATE_RUNNING;
    h->producer_pid = (uint32_t)getpid();
    h->record_size[CLOAK_TRACE_REC_PAD] = 8;
    h->record_size[CLOAK_TRACE_REC_LOST] = sizeof(struct cloak_trace_lost);
    h->record_size[CLOAK_TRACE_REC_SYSCALL_ENTER] =
        sizeof(struct cloak_trace_syscall_enter);
    h->record_size[CLOAK_TRACE_REC_SYSCALL_EXIT] =
        sizeof(struct cloak_trace_syscall_exit);
    h->record_size[CLOAK_TRACE_REC_PAGE_FAULT] =
        sizeof(struct cloak_trace_page_fault);
}

static inline struct cloak_trace_ring_ctl *
cloak_ring_ctl(void *map, const CloakRingLayout *l, uint32_t i)
{
    return (struct cloak_trace_ring_ctl *)((uint8_t *)map + l->ring_ctl_offset
        + (uint64_t)i * sizeof(struct cloak_trace_ring_ctl));
}

static inline uint8_t *cloak_ring_data(void *map, const CloakRingLayout *l,
                                       uint32_t i)
{
    return (uint8_t *)map + l->data_offset + (uint64_t)i * l->ring_size;
}

static inline void cloak_ring_file_set_state(void *map, uint32_t state)
{
    struct cloak_trace_header *h = (struct cloak_trace_header *)map;

    __atomic_store_n(&h->state, state, __ATOMIC_RELEASE);
}

#endif /* CLOAK_TRACE_RING_FILE_H */
