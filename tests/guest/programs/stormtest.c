/*
 * stormtest: a multi-threaded system-call and page-fault storm, for the
 * traced -smp 4 test (tests/trace/test_trace_guest.py, StormTest).
 * Each of THREADS threads runs ROUNDS rounds of: getpid, open+close of
 * /dev/null, and an anonymous mapping of 16 pages written page by page,
 * then unmapped.  Prints one line when all threads are done:
 *
 *   stormtest: threads=T rounds=R syscalls=S faults=F
 *
 * Usage: stormtest [THREADS [ROUNDS]]   (cloak.args=THREADS,ROUNDS)
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw-syscall.h"

#define PAGES 16
#define PAGE 4096L
#define MAX_THREADS 64

static long rounds;

static void *storm(void *arg)
{
    static const char devnull[] = "/dev/null";
    long i, p;

    (void)arg;
    for (i = 0; i < rounds; i++) {
        long fd;
        volatile char *map;

        raw0(SYS_getpid);
        fd = raw3(SYS_open, (long)devnull, O_RDONLY, 0);
        if (fd < 0) {
            return (void *)1;
        }
        raw3(SYS_close, fd, 0, 0);
        map = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (map == MAP_FAILED) {
            return (void *)1;
        }
        for (p = 0; p < PAGES; p++) {
            map[p * PAGE] = (char)p;
        }
        munmap((void *)map, PAGES * PAGE);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    long threads = argc > 1 ? atol(argv[1]) : 4;
    pthread_t tid[MAX_THREADS];
    long i, failed = 0;

    rounds = argc > 2 ? atol(argv[2]) : 2000;
    if (threads < 1 || threads > MAX_THREADS || rounds < 1) {
        fprintf(stderr, "stormtest: bad arguments (threads 1..%d, rounds > 0)\n",
                MAX_THREADS);
        return 2;
    }
    for (i = 0; i < threads; i++) {
        if (pthread_create(&tid[i], NULL, storm, NULL)) {
            perror("stormtest: pthread_create");
            return 1;
        }
    }
    for (i = 0; i < threads; i++) {
        void *ret;

        pthread_join(tid[i], &ret);
        failed += ret != NULL;
    }
    printf("stormtest: threads=%ld rounds=%ld syscalls=%ld faults=%ld "
           "failed=%ld\n", threads, rounds, threads * rounds * 5,
           threads * rounds * PAGES, failed);
    return failed ? 1 : 0;
}
