/*
 * syscallbench: what a guest pays per kernel entry, for the CPU bench
 * (tests/cloak/bench_cpu.py).  Three loops, each timed with
 * CLOCK_MONOTONIC inside the guest:
 *
 *   getpid       a raw getpid system call (no vDSO, no libc cache)
 *   open-close   open("/dev/null") and close
 *   pagefault    the first write to each page of a fresh anonymous mapping
 *
 * and one line per loop:
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

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 20000;
    long pages = n / 4 > 0 ? n / 4 : 1;
    static const char devnull[] = "/dev/null";
    volatile char *map;
    long long t0;
    long i;

    if (n <= 0) {
        fprintf(stderr, "syscallbench: bad iteration count %s\n", argv[1]);
        return 2;
    }
    t0 = now_ns();
    for (i = 0; i < n; i++) {
        raw0(SYS_getpid);
    }
    report("getpid", n, now_ns() - t0);

    t0 = now_ns();
    for (i = 0; i < n; i++) {
        long fd = raw3(SYS_open, (long)devnull, O_RDONLY, 0);

        if (fd < 0) {
            fprintf(stderr, "syscallbench: open /dev/null: %ld\n", fd);
            return 1;
        }
        raw3(SYS_close, fd, 0, 0);
    }
    report("open-close", n, now_ns() - t0);

    map = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (map == MAP_FAILED) {
        perror("syscallbench: mmap");
        return 1;
    }
    t0 = now_ns();
    for (i = 0; i < pages; i++) {
        map[i * PAGE] = 1;
    }
    report("pagefault", pages, now_ns() - t0);
    return 0;
}
