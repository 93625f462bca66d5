/*
 * tracebench: a syscall-heavy guest workload for the cloak-trace bench
 * (tests/trace/bench_guest.py).  Runs ITERATIONS rounds of getppid,
 * read(/dev/zero, 64 bytes) and lseek, timed with CLOCK_MONOTONIC inside
 * the guest, and prints a line before and one after the loop, also straight
 * to /dev/console (the guest's /init holds stdout back until a program
 * ends), so that the host can sample QEMU's CPU time at those two points:
 *
 *   tracebench: start
 *   tracebench: syscalls=N ns=T
 *
 * With SEGMENTS, the loop is cut into that many equal parts, each after a
 * line "tracebench: segment I" and a pause of PAUSE_MS (default 200), in
 * which the host may switch tracing on or off (qom-set enabled) before the
 * part runs: alternating parts of one boot compare like with like.
 *
 * Usage: tracebench [ITERATIONS [SEGMENTS [PAUSE_MS]]]
 *        (cloak.args=ITERATIONS,...)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PAUSE_MS 200

static long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* To stdout and, unbuffered, to the console the host watches. */
static void mark(int console, const char *line)
{
    printf("%s", line);
    fflush(stdout);
    if (console >= 0 && write(console, line, strlen(line)) < 0) {
        /* the stdout copy is enough */
    }
}

int main(int argc, char **argv)
{
    int console = open("/dev/console", O_WRONLY | O_NOCTTY);
    char line[128];
    long iterations = argc > 1 ? atol(argv[1]) : 100000;
    long segments = argc > 2 ? atol(argv[2]) : 1;
    long pause_ms = argc > 3 ? atol(argv[3]) : DEFAULT_PAUSE_MS;
    struct timespec pause = { pause_ms / 1000, pause_ms % 1000 * 1000000L };
    char buf[64];
    long long t0, t1, paused = 0;
    long i, s;
    int fd = open("/dev/zero", O_RDONLY);

    if (fd < 0 || iterations <= 0 || segments <= 0 || pause_ms < 0) {
        fprintf(stderr, "tracebench: bad setup (fd %d, iterations %ld, "
                "segments %ld, pause %ld ms)\n", fd, iterations, segments,
                pause_ms);
        return 1;
    }
    mark(console, "tracebench: start\n");
    t0 = now_ns();
    for (s = 0; s < segments; s++) {
        if (segments > 1) {
            long long p0 = now_ns();

            snprintf(line, sizeof(line), "tracebench: segment %ld\n", s);
            mark(console, line);
            nanosleep(&pause, NULL);
            paused += now_ns() - p0;
        }
        for (i = 0; i < iterations / segments; i++) {
            syscall(SYS_getppid);
            if (read(fd, buf, sizeof(buf)) != sizeof(buf)) {
                return 1;
            }
            lseek(fd, 0, SEEK_SET);
        }
    }
    if (segments > 1) {
        mark(console, "tracebench: segment end\n");
    }
    iterations = iterations / segments * segments;
    t1 = now_ns() - paused;
    snprintf(line, sizeof(line), "tracebench: syscalls=%ld ns=%lld\n",
             iterations * 3, t1 - t0);
    mark(console, line);
    return 0;
}
