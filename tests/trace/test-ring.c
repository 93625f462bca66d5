/*
 * Ring unit tests: the producer of trace-plugins/ring.h against the
 * validating consumer of trace-plugins/reader/ring-reader.c, over real
 * shared-memory files.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ring-file.h"
#include "ring-reader.h"

static int failures, passes;
static const char *current;

#define CHECK(cond, ...) do { \
        if (!(cond)) { \
            fprintf(stderr, "FAIL %s:%d %s: %s: ", __FILE__, __LINE__, \
                    current, #cond); \
            fprintf(stderr, __VA_ARGS__); \
            fprintf(stderr, "\n"); \
            return false; \
        } \
    } while (0)

typedef struct TestRing {
    char path[64];
    int fd;
    void *map;
    CloakRingLayout l;
    CloakRingProducer prod[4];
    int stop;
} TestRing;

/* Every file made, so that a failed test leaves nothing in /dev/shm. */
static char made[64][64];
static unsigned nmade;

static bool stop_requested(void *opaque)
{
    return __atomic_load_n((int *)opaque, __ATOMIC_RELAXED);
}

static void ring_create(TestRing *t, uint32_t nr, uint64_t size, bool block)
{
    uint32_t i;

    snprintf(t->path, sizeof(t->path), "/dev/shm/test-ring.XXXXXX");
    t->fd = mkstemp(t->path);
    if (nmade < G_N_ELEMENTS(made)) {
        memcpy(made[nmade++], t->path, sizeof(t->path));
    }
    cloak_ring_layout(&t->l, nr, size);
    if (t->fd < 0 || ftruncate(t->fd, t->l.file_size) < 0) {
        perror("test ring");
        exit(1);
    }
    t->map = mmap(NULL, t->l.file_size, PROT_READ | PROT_WRITE, MAP_SHARED,
                  t->fd, 0);
    cloak_ring_file_init(t->map, &t->l, 3, block ? CLOAK_TRACE_F_BLOCK : 0,
                         CLOAK_TRACE_PATH_MAX);
    t->stop = 0;
    for (i = 0; i < nr; i++) {
        cloak_ring_producer_init(&t->prod[i], cloak_ring_ctl(t->map, &t->l, i),
                                 cloak_ring_data(t->map, &t->l, i), size, i,
                                 block, stop_requested, &t->stop);
    }
}

static void ring_destroy(TestRing *t)
{
    munmap(t->map, t->l.file_size);
    close(t->fd);
    unlink(t->path);
}

/* A page-fault event whose fields derive from n, so content can be checked. */
static bool produce_pf(CloakRingProducer *p, uint64_t n)
{
    struct cloak_trace_page_fault *f;

    f = (void *)cloak_ring_begin(p, CLOAK_TRACE_REC_PAGE_FAULT, sizeof(*f),
                                 1000 + n);
    if (!f) {
        return false;
    }
    f->cr2 = 0x7f0000000000ULL + n * 4096;
    f->cr3 = 0x1000 * (n % 7);
    f->rip = 0x400000 + n;
    f->error_code = 6;
    f->cpl = 3;
    memset(f->pad, 0, sizeof(f->pad));
    memset(&f->task, 0, sizeof(*f) - offsetof(struct cloak_trace_page_fault,
                                              task));
    cloak_ring_commit(p, &f->hdr, sizeof(*f));
    return true;
}

/* A syscall entry carrying one path of plen bytes. */
static bool produce_enter(CloakRingProducer *p, uint64_t n, unsigned plen)
{
    struct cloak_trace_syscall_enter *e;
    struct cloak_trace_path *path;
    uint32_t len = sizeof(*e) + sizeof(*path) + ((plen + 7) & ~7u);

    e = (void *)cloak_ring_begin(p, CLOAK_TRACE_REC_SYSCALL_ENTER, len, n);
    if (!e) {
        return false;
    }
    memset((uint8_t *)e + sizeof(e->hdr), 0, len - sizeof(e->hdr));
    e->nr = 257;
    e->args[1] = n;
    e->abi = CLOAK_TRACE_ABI_X86_64;
    e->entry = CLOAK_TRACE_ENTRY_SYSCALL64;
    e->npaths = 1;
    e->hdr.flags = CLOAK_TRACE_RF_PATHS;
    path = (void *)(e + 1);
    path->arg = 1;
    path->len = plen;
    memset(path + 1, 'a' + n % 26, plen);
    cloak_ring_commit(p, &e->hdr, len);
    return true;
}

static CtFile *open_reader(TestRing *t, bool from_now)
{
    g_autoptr(GError) err = NULL;
    CtFile *f = ct_file_open(t->path, true, from_now, &err);

    if (!f) {
        fprintf(stderr, "open_reader: %s\n", err->message);
    }
    return f;
}

static bool test_basic(void)
{
    TestRing t;
    CtFile *f;
    CtEvent ev;
    g_autoptr(GError) err = NULL;
    uint64_t i;

    ring_create(&t, 1, 4096, false);
    for (i = 0; i < 10; i++) {
        CHECK(produce_pf(&t.prod[0], i), "event %lu dropped", i);
    }
    CHECK(produce_enter(&t.prod[0], 10, 11), "entry dropped");
    f = open_reader(&t, false);
    CHECK(f, "open");
    for (i = 0; i < 10; i++) {
        CHECK(ct_ring_next(&f->rings[0], &ev, &err) == 1, "event %lu", i);
        CHECK(ev.hdr.type == CLOAK_TRACE_REC_PAGE_FAULT && ev.hdr.seq == i &&
              ev.u.pf.cr2 == 0x7f0000000000ULL + i * 4096 &&
              ev.hdr.ts_ns == 1000 + i, "content of %lu", i);
    }
    CHECK(ct_ring_next(&f->rings[0], &ev, &err) == 1, "entry");
    CHECK(ev.npaths == 1 && ev.paths[0].len == 11 &&
          !strcmp(ev.paths[0].data, "kkkkkkkkkkk") && ev.u.enter.args[1] == 10,
          "path '%s'", ev.paths[0].data);
    CHECK(ct_ring_next(&f->rings[0], &ev, &err) == 0, "ring empty");
    ct_file_close(f);
    ring_destroy(&t);
    return true;
}

/* Many records through a small ring, mixed sizes: PAD at every wrap. */
static bool test_wraparound(void)
{
    TestRing t;
    CtFile *f;
    CtEvent ev;
    g_autoptr(GError) err = NULL;
    uint64_t produced = 0, seen = 0, wraps;

    ring_create(&t, 1, 4096, false);
    f = open_reader(&t, false);
    CHECK(f, "open");
    while (produced < 20000) {
        /* Fill in bursts of a few records, then drain. */
        for (int k = 0; k < 7; k++, produced++) {
            bool ok = produced % 3 ? produce_pf(&t.prod[0], produced)
                                   : produce_enter(&t.prod[0], produced,
                                                   produced % 200);
            CHECK(ok, "dropped %lu with a draining reader", produced);
        }
        while (ct_ring_next(&f->rings[0], &ev, &err) == 1) {
            CHECK(ev.hdr.seq == seen, "seq %lu, expected %lu", ev.hdr.seq,
                  seen);
            if (seen % 3) {
                CHECK(ev.u.pf.cr2 == 0x7f0000000000ULL + seen * 4096, "pf");
            } else {
                CHECK(ev.u.enter.args[1] == seen &&
                      ev.paths[0].len == seen % 200, "entry");
            }
            seen++;
        }
        CHECK(!err, "%s", err ? err->message : "");
        ct_ring_release(&f->rings[0]);
    }
    wraps = t.prod[0].head / 4096;
    CHECK(seen == produced && wraps > 100, "seen %lu of %lu, %lu wraps",
          seen, produced, wraps);
    CHECK(t.prod[0].lost == 0, "lost %lu", t.prod[0].lost);
    ct_file_close(f);
    ring_destroy(&t);
    return true;
}

/* No reader: the ring fills; every further event is dropped and counted. */
static bool test_full_ring_drop_count(void)
{
    TestRing t;
    CtFile *f;
    CtEvent ev;
    g_autoptr(GError) err = NULL;
    uint64_t i, ok = 0, dropped = 0, got = 0, lost_rec = 0, lost_records = 0;
    uint64_t fit = 4096 / sizeof(struct cloak_trace_page_fault);

    ring_create(&t, 1, 4096, false);
    for (i = 0; i < 1000; i++) {
        if (produce_pf(&t.prod[0], i)) {
            ok++;
        } else {
            dropped++;
        }
    }
    CHECK(ok == fit && dropped == 1000 - fit, "ok %lu dropped %lu", ok,
          dropped);
    CHECK(t.prod[0].ctl->lost == dropped, "ctl lost %lu",
          (uint64_t)t.prod[0].ctl->lost);
    f = open_reader(&t, false);
    CHECK(f, "open");
    while (ct_ring_next(&f->rings[0], &ev, &err) == 1) {
        got++;
    }
    CHECK(got == fit, "got %lu", got);
    ct_ring_release(&f->rings[0]);
    /* Space again: the next event is preceded by one LOST record. */
    CHECK(produce_pf(&t.prod[0], 1000), "after drain");
    while (ct_ring_next(&f->rings[0], &ev, &err) == 1) {
        if (ev.hdr.type == CLOAK_TRACE_REC_LOST) {
            lost_rec += ev.u.lost.count;
            lost_records++;
            CHECK(ev.u.lost.first_seq == fit &&
                  ev.u.lost.last_seq == fit + dropped - 1 &&
                  ev.hdr.seq == fit + dropped, "LOST range");
        } else {
            CHECK(ev.hdr.seq == fit + dropped + 1, "seq after LOST %lu",
                  ev.hdr.seq);
        }
    }
    CHECK(!err, "%s", err ? err->message : "");
    CHECK(lost_records == 1 && lost_rec == dropped, "LOST %lu in %lu records",
          lost_rec, lost_records);
    ct_file_close(f);
    ring_destroy(&t);
    return true;
}

/* A reader that attaches after 40 records were consumed by another. */
static bool test_late_reader(void)
{
    TestRing t;
    CtFile *f;
    CtEvent ev;
    g_autoptr(GError) err = NULL;
    uint64_t i, first = UINT64_MAX, n = 0;

    ring_create(&t, 2, 8192, false);
    for (i = 0; i < 100; i++) {
        produce_pf(&t.prod[i % 2], i);
    }
    f = open_reader(&t, false);
    CHECK(f, "open 1");
    for (i = 0; i < 20; i++) {
        CHECK(ct_ring_next(&f->rings[0], &ev, &err) == 1, "r0");
        CHECK(ct_ring_next(&f->rings[1], &ev, &err) == 1, "r1");
    }
    ct_file_close(f);       /* releases what it read */
    for (i = 100; i < 110; i++) {
        produce_pf(&t.prod[i % 2], i);
    }
    f = open_reader(&t, false);
    CHECK(f, "open 2");
    while (ct_ring_next(&f->rings[0], &ev, &err) == 1) {
        first = MIN(first, ev.hdr.seq);
        n++;
    }
    CHECK(first == 20 && n == 35, "late reader saw %lu from seq %lu", n,
          first);
    ct_file_close(f);
    /* from_now: only what comes after attaching. */
    f = open_reader(&t, true);
    CHECK(f, "open 3");
    CHECK(ct_ring_next(&f->rings[1], &ev, &err) == 0, "from-now backlog");
    produce_pf(&t.prod[1], 111);
    CHECK(ct_ring_next(&f->rings[1], &ev, &err) == 1 && ev.hdr.seq == 55,
          "from-now new event seq %lu", ev.hdr.seq);
    ct_file_close(f);
    ring_destroy(&t);
    return true;
}

/* Only one consuming reader at a time. */
static bool test_exclusive(void)
{
    TestRing t;
    CtFile *a, *b;
    g_autoptr(GError) err = NULL;

    ring_create(&t, 1, 4096, false);
    a = open_reader(&t, false);
    CHECK(a, "first");
    b = ct_file_open(t.path, true, false, &err);
    CHECK(!b && g_error_matches(err, CT_ERROR, CT_ERROR_BUSY), "second");
    ct_file_close(a);
    ring_destroy(&t);
    return true;
}

typedef struct ProducerArg {
    CloakRingProducer *p;
    uint64_t n;
    uint64_t dropped;
    int stop;
} ProducerArg;

/* Produces until told to stop, pausing now and then like a guest would. */
static void *producer_thread(void *opaque)
{
    ProducerArg *a = opaque;

    while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE)) {
        if (!produce_pf(a->p, a->n)) {
            a->dropped++;
        }
        if (++a->n % 256 == 0) {
            usleep(50);
        }
    }
    return NULL;
}

/*
 * A reader process is SIGKILLed mid-stream while the producer runs; the
 * producer never stalls, and a restarted reader resumes where the dead one
 * stopped: everything is either read exactly once or counted as lost.
 */
static bool test_reader_killed(void)
{
    TestRing t;
    pthread_t th;
    ProducerArg a;
    CtFile *f;
    CtEvent ev;
    g_autoptr(GError) err = NULL;
    int pipefd[2], status;
    uint64_t child_seen = 0, seen = 0, lost = 0, last_seq = 0;
    uint64_t first_seq = UINT64_MAX, n_at_kill;
    pid_t pid;

    ring_create(&t, 1, 1 << 16, false);
    CHECK(pipe(pipefd) == 0, "pipe");
    pid = fork();
    if (pid == 0) {
        /* The reader to be killed: count what it consumed in a pipe. */
        CtFile *cf = open_reader(&t, false);
        uint64_t n = 0;

        GError *cerr = NULL;
        int crc;

        for (;;) {
            while ((crc = ct_ring_next(&cf->rings[0], &ev, &cerr)) == 1) {
                if (++n % 64 == 0) {
                    /* Release, then report what it released. */
                    uint64_t next = cf->rings[0].next_seq;

                    ct_ring_release(&cf->rings[0]);
                    if (write(pipefd[1], &next, sizeof(next)) < 0) {
                        _exit(1);
                    }
                }
            }
            if (crc < 0) {
                fprintf(stderr, "killed reader: %s\n", cerr->message);
                _exit(1);
            }
            ct_ring_release(&cf->rings[0]);
        }
    }
    close(pipefd[1]);
    memset(&a, 0, sizeof(a));
    a.p = &t.prod[0];
    pthread_create(&th, NULL, producer_thread, &a);
    /* Let the child read a while, then kill it. */
    while (child_seen < 20000) {
        CHECK(read(pipefd[0], &child_seen, sizeof(child_seen)) ==
              sizeof(child_seen), "pipe read");
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    while (read(pipefd[0], &child_seen, sizeof(child_seen)) ==
           sizeof(child_seen)) {
        /* the newest report wins */
    }
    n_at_kill = __atomic_load_n(&a.n, __ATOMIC_RELAXED);
    usleep(20000);      /* nobody reads: the producer goes on, dropping */
    CHECK(__atomic_load_n(&a.n, __ATOMIC_RELAXED) > n_at_kill + 100,
          "producer stalled while no reader was attached");
    CHECK(WIFSIGNALED(status), "child killed");
    /* The flock died with the child: a new reader attaches and resumes. */
    f = open_reader(&t, false);
    CHECK(f, "restart");
    for (;;) {
        int rc = ct_ring_next(&f->rings[0], &ev, &err);

        CHECK(rc >= 0, "%s", err ? err->message : "");
        if (rc == 1) {
            if (first_seq == UINT64_MAX) {
                first_seq = ev.hdr.type == CLOAK_TRACE_REC_LOST ?
                            ev.u.lost.first_seq : ev.hdr.seq;
            }
            if (ev.hdr.type == CLOAK_TRACE_REC_LOST) {
                lost += ev.u.lost.count;
            }
            seen++;
            last_seq = ev.hdr.seq;
            continue;
        }
        ct_ring_release(&f->rings[0]);
        if (seen > 50000) {
            __atomic_store_n(&a.stop, 1, __ATOMIC_RELEASE);
        }
        if (!pthread_tryjoin_np(th, NULL)) {
            while (ct_ring_next(&f->rings[0], &ev, &err) == 1) {
                if (ev.hdr.type == CLOAK_TRACE_REC_LOST) {
                    lost += ev.u.lost.count;
                }
                seen++;
                last_seq = ev.hdr.seq;
            }
            break;
        }
    }
    /*
     * The restarted reader continues where the killed one stopped (it had
     * released everything before seq child_seen), and from there every sequence
     * number is accounted for: read, or dropped and reported in a LOST
     * record, or dropped and still pending at the very end.
     */
    CHECK(first_seq >= child_seen, "restart began at seq %lu; the killed "
          "reader had released up to %lu", first_seq, child_seen);
    CHECK(seen + lost == t.prod[0].seq - first_seq - t.prod[0].lost_pending,
          "read %lu + lost %lu != %lu - %lu - %lu", seen, lost,
          t.prod[0].seq, first_seq, t.prod[0].lost_pending);
    CHECK(last_seq + 1 + t.prod[0].lost_pending == t.prod[0].seq,
          "last seq %lu, producer at %lu", last_seq, t.prod[0].seq);
    CHECK(a.dropped > 0, "expected drops while no reader was attached");
    ct_file_close(f);
    ring_destroy(&t);
    return true;
}

typedef struct ConsumerArg {
    CtFile *f;
    uint64_t want;
    uint64_t seen;
    bool bad;
} ConsumerArg;

static void *consumer_thread(void *opaque)
{
    ConsumerArg *c = opaque;
    CtEvent ev;

    while (c->seen < c->want) {
        int rc = ct_ring_next(&c->f->rings[0], &ev, NULL);

        if (rc < 0 || (rc == 1 && ev.hdr.seq != c->seen)) {
            c->bad = true;
            return NULL;
        }
        if (rc == 1) {
            c->seen++;
            if (c->seen % 32 == 0) {
                ct_ring_release(&c->f->rings[0]);
            }
        } else {
            ct_ring_release(&c->f->rings[0]);
            usleep(100);  /* a slow reader */
        }
    }
    return NULL;
}

/* Block mode: a slow reader, a fast producer, and not one event lost. */
static bool test_block_mode(void)
{
    TestRing t;
    pthread_t th;
    ConsumerArg c = { 0 };
    uint64_t i;

    ring_create(&t, 1, 4096, true);
    c.f = open_reader(&t, false);
    CHECK(c.f, "open");
    c.want = 20000;
    pthread_create(&th, NULL, consumer_thread, &c);
    for (i = 0; i < c.want; i++) {
        CHECK(produce_pf(&t.prod[0], i), "block mode dropped %lu", i);
    }
    pthread_join(th, NULL);
    CHECK(!c.bad && c.seen == c.want && t.prod[0].lost == 0,
          "seen %lu bad %d lost %lu", c.seen, c.bad, t.prod[0].lost);
    /* Stopping tracing releases a blocked producer (it drops). */
    t.stop = 1;
    for (i = 0; i < 200; i++) {
        produce_pf(&t.prod[0], i);
    }
    CHECK(t.prod[0].lost > 0, "stop did not turn blocking into dropping");
    ct_file_close(c.f);
    ring_destroy(&t);
    return true;
}

/* A hostile reader's tail never makes the producer overwrite or overrun. */
static bool test_hostile_tail(void)
{
    TestRing t;
    uint64_t i, bogus[] = { 1ULL << 40, 7, UINT64_MAX };
    uint8_t *after;

    ring_create(&t, 2, 4096, false);
    after = cloak_ring_data(t.map, &t.l, 1);
    for (i = 0; i < G_N_ELEMENTS(bogus); i++) {
        __atomic_store_n(&t.prod[0].ctl->tail, bogus[i], __ATOMIC_RELEASE);
        for (int k = 0; k < 500; k++) {
            produce_pf(&t.prod[0], k);
        }
        CHECK(t.prod[0].head - t.prod[0].tail_cache <= 4096,
              "head %lu tail %lu", t.prod[0].head, t.prod[0].tail_cache);
    }
    for (i = 0; i < 4096; i++) {
        CHECK(after[i] == 0, "ring 1 byte %lu written", i);
    }
    CHECK(t.prod[0].lost > 0, "bogus tails should drop");
    ring_destroy(&t);
    return true;
}

/* Corrupted and truncated files: a clear error, never a crash. */
static bool test_corrupt_files(void)
{
    TestRing t;
    g_autoptr(GError) err = NULL;
    struct cloak_trace_header *h;
    CtFile *f;
    CtEvent ev;
    struct cloak_trace_rec *r;
    int rc;

    ring_create(&t, 1, 4096, false);
    produce_pf(&t.prod[0], 0);
    produce_enter(&t.prod[0], 1, 5);
    h = t.map;

    h->magic ^= 1;
    f = ct_file_open(t.path, false, false, &err);
    CHECK(!f && strstr(err->message, "magic"), "magic: %s",
          err ? err->message : "opened");
    h->magic ^= 1;
    g_clear_error(&err);

    h->ring_size = 4095;
    f = ct_file_open(t.path, false, false, &err);
    CHECK(!f && strstr(err->message, "ring_size"), "size");
    h->ring_size = 4096;
    g_clear_error(&err);

    h->nr_rings = 1000;
    f = ct_file_open(t.path, false, false, &err);
    CHECK(!f && err, "nr_rings");
    h->nr_rings = 1;
    g_clear_error(&err);

    CHECK(ftruncate(t.fd, t.l.file_size - 100) == 0, "truncate");
    f = ct_file_open(t.path, false, false, &err);
    CHECK(!f && strstr(err->message, "truncated"), "truncated: %s",
          err ? err->message : "opened");
    g_clear_error(&err);
    CHECK(ftruncate(t.fd, 100) == 0, "truncate");
    f = ct_file_open(t.path, false, false, &err);
    CHECK(!f && strstr(err->message, "shorter"), "short: %s",
          err ? err->message : "opened");
    g_clear_error(&err);
    ring_destroy(&t);

    /* Record-level corruption. */
    ring_create(&t, 1, 4096, false);
    produce_pf(&t.prod[0], 0);
    produce_enter(&t.prod[0], 1, 5);
    r = (void *)cloak_ring_data(t.map, &t.l, 0);
    r->size = 4000;
    f = ct_file_open(t.path, false, false, &err);
    CHECK(f, "open");
    rc = ct_ring_next(&f->rings[0], &ev, &err);
    CHECK(rc == -1 && strstr(err->message, "size"), "size: %s",
          err ? err->message : "accepted");
    ct_file_close(f);
    g_clear_error(&err);
    r->size = sizeof(struct cloak_trace_page_fault);
    r = (void *)((uint8_t *)r + sizeof(struct cloak_trace_page_fault));
    ((struct cloak_trace_path *)((uint8_t *)r +
        sizeof(struct cloak_trace_syscall_enter)))->len = 200;
    f = ct_file_open(t.path, false, false, &err);
    CHECK(ct_ring_next(&f->rings[0], &ev, &err) == 1, "first is fine");
    rc = ct_ring_next(&f->rings[0], &ev, &err);
    CHECK(rc == -1 && strstr(err->message, "path"), "path: %s",
          err ? err->message : "accepted");
    ct_file_close(f);
    g_clear_error(&err);
    __atomic_store_n(&t.prod[0].ctl->head, 1 << 20, __ATOMIC_RELEASE);
    f = ct_file_open(t.path, false, false, &err);
    CHECK(!f && strstr(err->message, "inconsistent"), "head: %s",
          err ? err->message : "opened");
    ring_destroy(&t);
    return true;
}

static void run(const char *name, bool (*fn)(void))
{
    current = name;
    if (fn()) {
        printf("ok - %s\n", name);
        passes++;
    } else {
        printf("not ok - %s\n", name);
        failures++;
    }
    fflush(stdout);
}

/*
 * An entry that carries its return (version 3): reserved with room for
 * the return, published as one record, read back as the entry and its
 * exit with consecutive numbers; ctl.records counts both.
 */
static bool test_returned_entry(void)
{
    TestRing t;
    CtFile *f;
    CtEvent ev;
    g_autoptr(GError) err = NULL;
    struct cloak_trace_syscall_enter *e;
    struct cloak_trace_syscall_return *r;
    uint32_t len = sizeof(*e) + sizeof(*r);

    ring_create(&t, 1, 4096, false);
    e = (void *)cloak_ring_begin(&t.prod[0], CLOAK_TRACE_REC_SYSCALL_ENTER,
                                 len, 500);
    CHECK(e, "entry dropped");
    memset((uint8_t *)e + sizeof(e->hdr), 0, len - sizeof(e->hdr));
    e->nr = 39;
    e->ret_rip = 0x401002;
    e->rsp = 0x7ffe0000;
    e->abi = CLOAK_TRACE_ABI_X86_64;
    e->entry = CLOAK_TRACE_ENTRY_SYSCALL64;
    r = (void *)(e + 1);
    r->ret = 41;
    r->ts_ns = 520;
    r->exit = CLOAK_TRACE_EXIT_SYSRET;
    e->hdr.flags = CLOAK_TRACE_RF_RETURNED;
    cloak_ring_commit_returned(&t.prod[0], &e->hdr, len);
    CHECK(produce_pf(&t.prod[0], 3), "fault dropped");
    CHECK(t.prod[0].ctl->records == 3 && t.prod[0].ctl->next_seq == 3,
          "records %lu, next_seq %lu", (unsigned long)t.prod[0].ctl->records,
          (unsigned long)t.prod[0].ctl->next_seq);
    f = open_reader(&t, false);
    CHECK(f, "open");
    CHECK(ct_ring_next(&f->rings[0], &ev, &err) == 1, "entry");
    CHECK(ev.hdr.type == CLOAK_TRACE_REC_SYSCALL_ENTER && ev.hdr.seq == 0 &&
          ev.u.enter.nr == 39, "entry content");
    CHECK(f->rings[0].tail == 0, "tail passed the record before its exit");
    CHECK(ct_ring_next(&f->rings[0], &ev, &err) == 1, "exit");
    CHECK(ev.hdr.type == CLOAK_TRACE_REC_SYSCALL_EXIT && ev.hdr.seq == 1 &&
          ev.hdr.ts_ns == 520 && ev.u.exit.ret == 41 &&
          ev.u.exit.enter_seq == 0 && ev.u.exit.nr == 39 &&
          ev.u.exit.rip == 0x401002 && ev.u.exit.rsp == 0x7ffe0000 &&
          ev.u.exit.exit == CLOAK_TRACE_EXIT_SYSRET, "exit content");
    CHECK(f->rings[0].tail == len, "tail %lu", (unsigned long)f->rings[0].tail);
    CHECK(ct_ring_next(&f->rings[0], &ev, &err) == 1 &&
          ev.hdr.type == CLOAK_TRACE_REC_PAGE_FAULT && ev.hdr.seq == 2,
          "fault after it: %s", err ? err->message : "");
    CHECK(ct_ring_next(&f->rings[0], &ev, &err) == 0, "ring empty");
    ct_file_close(f);
    ring_destroy(&t);
    return true;
}

int main(void)
{
    run("basic", test_basic);
    run("returned_entry", test_returned_entry);
    run("wraparound", test_wraparound);
    run("full_ring_drop_count", test_full_ring_drop_count);
    run("late_reader", test_late_reader);
    run("exclusive_reader", test_exclusive);
    run("reader_killed_and_restarted", test_reader_killed);
    run("block_mode", test_block_mode);
    run("hostile_tail", test_hostile_tail);
    run("corrupt_files", test_corrupt_files);
    while (nmade) {
        unlink(made[--nmade]);
    }
    printf("%d passed, %d failed\n", passes, failures);
    return failures ? 1 : 0;
}
