/*
 * syscallbench: what a guest pays per kernel entry, for the CPU bench
 * (tests/cloak/bench_cpu.py).  Three loops, each timed with
 * CLOCK_MONOTONIC inside the guest:
 *
 *   getpid       a raw getpid system call (no vDSO, no libc cache)
 *   open-close   open("/dev/null") and close
 *   pagefault    the first write to each page of a fresh anonymous mapping
 *
 * Each loop runs ROUNDS (5) times and the fastest round is reported, so
 * that a timer interrupt or a translation-cache flush in one round does
 * not count; one line per loop:
 *
 *   syscallbench: getpid n=N ns=T
 *
 * The guest kernel's own mitigations (page-table isolation, buffer
 * clearing, ...) are what make these differ between CPU models.
 *
 * Usage: syscallbench [ITERATIONS]   (cloak.args=ITERATIONS)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "raw-syscall.h"

#define PAGE 4096L

static long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void report(const char *what, long n, long long ns)
{
    printf("syscallbench: %s n=%ld ns=%lld\n", what, n, ns);
    fflush(stdout);
}

#define ROUNDS 5

static long long getpid_loop(long n)
{
    long long t0 = now_ns();

    for (long i = 0; i < n; i++) {
        raw0(SYS_getpid);
    }
    return now_ns() - t0;
}

static long long open_close_loop(long n)
{
    static const char devnull[] = "/dev/null";
    long long t0 = now_ns();

    for (long i = 0; i < n; i++) {
        long fd = raw3(SYS_open, (long)devnull, O_RDONLY, 0);

        if (fd < 0) {
            fprintf(stderr, "syscallbench: open /dev/null: %ld\n", fd);
            exit(1);
        }
        raw3(SYS_close, fd, 0, 0);
    }
    return now_ns() - t0;
}

/* First touches of @pages fresh pages, one write each. */
static long long fault_loop(long pages)
{
    volatile char *map = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    long long t;

    if (map == MAP_FAILED) {
        perror("syscallbench: mmap");
        exit(1);
    }
    t = now_ns();
    for (long i = 0; i < pages; i++) {
        map[i * PAGE] = 1;
    }
    t = now_ns() - t;
    munmap((void *)map, pages * PAGE);
    return t;
}

static long long fastest(long long (*loop)(long), long n)
{
    long long best = loop(n);

    for (int r = 1; r < ROUNDS; r++) {
        long long t = loop(n);

        if (t < best) {
            best = t;
        }
    }
    return best;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000;
    long pages = n / 4 > 0 ? n / 4 : 1;

    if (n <= 0) {
        fprintf(stderr, "syscallbench: bad iteration count %s\n", argv[1]);
        return 2;
    }
    report("getpid", n, fastest(getpid_loop, n));
    report("open-close", n, fastest(open_close_loop, n));
    report("pagefault", pages, fastest(fault_loop, pages));
    return 0;
}
