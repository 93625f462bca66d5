/*
 * Ring throughput bench: one producer thread (the QEMU-side code of
 * trace-plugins/ring.h) and one reader thread (the validating consumer of
 * cloak-trace, ring-reader.c) on one 16 MiB ring in /dev/shm, in lossless
 * (block) mode so every event crosses.  Prints events/s end to end and the
 * producer's cost per event, for page-fault records (64 B) and syscall
 * entry records (128 B), with QEMU's default 16 MiB ring and with a
 * cache-sized 256 KiB one.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ring-file.h"
#include "ring-reader.h"

static uint64_t RING_BYTES = 16u << 20;

typedef struct Bench {
    CloakRingProducer p;
    CtFile *f;
    uint64_t n;
    uint16_t type;
    uint64_t produce_ns;
    uint64_t consumed;
    bool bad;
} Bench;

static uint64_t now_ns(void)
{
    return cloak_ring_clock_ns(CLOCK_MONOTONIC);
}

static inline void produce_one(Bench *b, uint64_t i)
{
        if (b->type == CLOAK_TRACE_REC_PAGE_FAULT) {
            struct cloak_trace_page_fault *f = (void *)cloak_ring_begin(
                &b->p, CLOAK_TRACE_REC_PAGE_FAULT, sizeof(*f), i);

            f->cr2 = i << 12;
            f->cr3 = 0x1000;
            f->rip = 0x400000;
            f->error_code = 6;
            f->cpl = 3;
            cloak_ring_commit(&b->p, &f->hdr, sizeof(*f));
        } else {
            struct cloak_trace_syscall_enter *e = (void *)cloak_ring_begin(
                &b->p, CLOAK_TRACE_REC_SYSCALL_ENTER, sizeof(*e), i);

            e->cr3 = 0x1000;
            e->rip = 0x400000;
            e->ret_rip = 0x400002;
            e->rsp = 0x7ffe0000;
            e->nr = 39;
            memset(e->args, 0, sizeof(e->args));
            e->abi = CLOAK_TRACE_ABI_X86_64;
            e->entry = CLOAK_TRACE_ENTRY_SYSCALL64;
            e->npaths = 0;
            cloak_ring_commit(&b->p, &e->hdr, sizeof(*e));
        }
}

static void *producer(void *opaque)
{
    Bench *b = opaque;
    uint64_t i, t0 = now_ns();

    for (i = 0; i < b->n; i++) {
        produce_one(b, i);
    }
    b->produce_ns = now_ns() - t0;
    return NULL;
}

/*
 * The same work on one thread: produce a burst that fits, then drain it.
 * This is the CPU cost of the two sides without any scheduling between
 * threads (on a loaded 2-core machine the threaded figure mostly measures
 * the scheduler).
 */
static void one_thread(Bench *b)
{
    CtRing *r = &b->f->rings[0];
    CtEvent ev;
    uint64_t i = 0, burst = RING_BYTES / 256, t0, t_prod = 0;

    while (i < b->n) {
        uint64_t end = MIN(i + burst, b->n);

        t0 = now_ns();
        for (; i < end; i++) {
            produce_one(b, i);
        }
        t_prod += now_ns() - t0;
        while (ct_ring_next(r, &ev, NULL) == 1) {
            b->consumed++;
        }
        ct_ring_release(r);
    }
    b->produce_ns = t_prod;
}

static void *consumer(void *opaque)
{
    Bench *b = opaque;
    CtRing *r = &b->f->rings[0];
    CtEvent ev;
    unsigned batch = 0;

    while (b->consumed < b->n) {
        int rc = ct_ring_next(r, &ev, NULL);

        if (rc < 0) {
            b->bad = true;
            return NULL;
        }
        if (rc == 0) {
            ct_ring_release(r);
            continue;
        }
        b->consumed++;
        if (++batch == 512) {
            batch = 0;
            ct_ring_release(r);
        }
    }
    ct_ring_release(r);
    return NULL;
}

static double run(uint16_t type, uint64_t n, bool threads,
                  double *ns_per_event)
{
    char path[] = "/dev/shm/cloak-bench.XXXXXX";
    int fd = mkstemp(path);
    CloakRingLayout l;
    void *map;
    Bench b = { .n = n, .type = type };
    pthread_t tp, tc;
    uint64_t t0, t1;
    g_autoptr(GError) err = NULL;

    cloak_ring_layout(&l, 1, RING_BYTES);
    if (fd < 0 || ftruncate(fd, l.file_size) < 0) {
        perror("bench file");
        exit(1);
    }
    map = mmap(NULL, l.file_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    memset(map, 0, l.file_size);        /* fault the pages in up front */
    cloak_ring_file_init(map, &l, 3, CLOAK_TRACE_F_BLOCK, 256);
    cloak_ring_producer_init(&b.p, cloak_ring_ctl(map, &l, 0),
                             cloak_ring_data(map, &l, 0), RING_BYTES, 0, true,
                             NULL, NULL);
    b.f = ct_file_open(path, true, false, &err);
    if (!b.f) {
        fprintf(stderr, "bench-ring: %s\n", err->message);
        exit(1);
    }
    t0 = now_ns();
    if (threads) {
        pthread_create(&tc, NULL, consumer, &b);
        pthread_create(&tp, NULL, producer, &b);
        pthread_join(tp, NULL);
        pthread_join(tc, NULL);
    } else {
        one_thread(&b);
    }
    t1 = now_ns();
    if (b.bad || b.consumed != n || b.p.lost) {
        fprintf(stderr, "bench-ring: consumed %lu of %lu (lost %lu, bad %d)\n",
                b.consumed, n, b.p.lost, b.bad);
        exit(1);
    }
    ct_file_close(b.f);
    munmap(map, l.file_size);
    close(fd);
    unlink(path);
    *ns_per_event = (double)b.produce_ns / n;
    return n / ((t1 - t0) / 1e9);
}

int main(int argc, char **argv)
{
    uint64_t n = argc > 1 ? strtoull(argv[1], NULL, 0) : 30000000;
    static const uint64_t sizes[] = { 16u << 20, 256u << 10 };
    static const struct {
        uint16_t type;
        const char *what;
    } kinds[] = {
        { CLOAK_TRACE_REC_PAGE_FAULT, "page-fault records (64 B)   " },
        { CLOAK_TRACE_REC_SYSCALL_ENTER, "syscall-entry records (128 B)" },
    };
    unsigned k;

    unsigned z;

    printf("ring throughput, producer -> validating reader (cloak-trace's "
           "consumer), %lu events per line, lossless:\n", n);
    for (z = 0; z < 2; z++)
    for (k = 0; k < 2; k++) {
        RING_BYTES = sizes[z];
        double ns2, ns1;
        double two = run(kinds[k].type, n, true, &ns2);
        double one = run(kinds[k].type, n, false, &ns1);

        printf("  %5lu KiB ring, %s  two threads %6.1f M events/s | one "
               "thread produce+drain %6.1f M events/s (producer %.1f "
               "ns/event)\n", RING_BYTES >> 10, kinds[k].what, two / 1e6,
               one / 1e6, ns1);
    }
    return 0;
}
