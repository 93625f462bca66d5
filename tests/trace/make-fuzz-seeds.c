/*
 * Writes seed ring files for fuzz-reader into DIR: valid files holding
 * every record type (paths, LOST, PAD at a wrap), made by the real
 * producer code, so that mutation starts from deep inside the format.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ring-file.h"

static void put_pf(CloakRingProducer *p, uint64_t n)
{
    struct cloak_trace_page_fault *f =
        (void *)cloak_ring_begin(p, CLOAK_TRACE_REC_PAGE_FAULT, sizeof(*f), n);

    if (f) {
        memset((uint8_t *)f + sizeof(f->hdr), 0, sizeof(*f) - sizeof(f->hdr));
        f->cr2 = 0x1000 * n;
        f->error_code = 6;
        cloak_ring_commit(p, &f->hdr, sizeof(*f));
    }
}

static void put_call(CloakRingProducer *p, uint64_t n, const char *path)
{
    struct cloak_trace_syscall_enter *e;
    struct cloak_trace_syscall_exit *x;
    struct cloak_trace_path *pb;
    struct cloak_trace_syscall_return *r;
    uint32_t plen = strlen(path), len = sizeof(*e) + 8 + ((plen + 7) & ~7u);
    bool returned = n % 3 == 0;     /* version 3: the return in the entry */

    e = (void *)cloak_ring_begin(p, CLOAK_TRACE_REC_SYSCALL_ENTER,
                                 len + (returned ? sizeof(*r) : 0), n);
    if (e && returned) {
        memset((uint8_t *)e + sizeof(e->hdr), 0,
               len + sizeof(*r) - sizeof(e->hdr));
        e->nr = 257;
        e->abi = CLOAK_TRACE_ABI_X86_64;
        e->entry = CLOAK_TRACE_ENTRY_SYSCALL64;
        e->npaths = 1;
        e->hdr.flags = CLOAK_TRACE_RF_PATHS | CLOAK_TRACE_RF_RETURNED;
        pb = (void *)(e + 1);
        pb->arg = 1;
        pb->len = plen;
        memcpy(pb + 1, path, plen);
        r = (void *)((uint8_t *)e + len);
        r->ret = 3;
        r->ts_ns = n + 1;
        r->exit = CLOAK_TRACE_EXIT_SYSRET;
        cloak_ring_commit_returned(p, &e->hdr, len + sizeof(*r));
        return;
    }
    if (e) {
        memset((uint8_t *)e + sizeof(e->hdr), 0, len - sizeof(e->hdr));
        e->nr = 257;
        e->abi = CLOAK_TRACE_ABI_X86_64;
        e->entry = CLOAK_TRACE_ENTRY_SYSCALL64;
        e->npaths = 1;
        e->hdr.flags = CLOAK_TRACE_RF_PATHS;
        pb = (void *)(e + 1);
        pb->arg = 1;
        pb->len = plen;
        memcpy(pb + 1, path, plen);
        cloak_ring_commit(p, &e->hdr, len);
    }
    x = (void *)cloak_ring_begin(p, CLOAK_TRACE_REC_SYSCALL_EXIT, sizeof(*x),
                                 n + 1);
    if (x) {
        memset((uint8_t *)x + sizeof(x->hdr), 0, sizeof(*x) - sizeof(x->hdr));
        x->nr = 257;
        x->ret = -2;
        x->abi = CLOAK_TRACE_ABI_X86_64;
        cloak_ring_commit(p, &x->hdr, sizeof(*x));
    }
}

static void seed(const char *dir, const char *name, int variant)
{
    CloakRingLayout l;
    CloakRingProducer p[2];
    uint8_t *map;
    char path[4096];
    FILE *f;
    uint32_t i;
    uint64_t n;

    cloak_ring_layout(&l, 2, 4096);
    map = calloc(1, l.file_size);
    cloak_ring_file_init(map, &l, 3, CLOAK_TRACE_F_PATHS, 256);
    for (i = 0; i < 2; i++) {
        cloak_ring_producer_init(&p[i], cloak_ring_ctl(map, &l, i),
                                 cloak_ring_data(map, &l, i), 4096, i, false,
                                 NULL, NULL);
    }
    for (n = 0; n < (variant ? 60 : 8); n++) {
        put_call(&p[0], n, n % 2 ? "/etc/passwd" : "/tmp/\xff\xfe-not-utf8");
        put_pf(&p[1], n);
        if (variant && n % 10 == 9) {
            /* ring 0 is drained now and then, so it wraps (PAD) */
            p[0].ctl->tail = p[0].head;
        }
        if (variant && n == 50) {
            /* ring 1 was full and dropped: room again means a LOST record */
            p[1].ctl->tail = p[1].head;
        }
    }
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(map, 1, l.file_size, f) != l.file_size) {
        perror(path);
        exit(1);
    }
    fclose(f);
    free(map);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: make-fuzz-seeds DIR\n");
        return 2;
    }
    seed(argv[1], "basic.ring", 0);
    seed(argv[1], "wrapped-lost.ring", 1);
    return 0;
}
