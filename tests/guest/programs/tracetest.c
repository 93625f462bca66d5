/*
 * tracetest: a guest program that performs a known sequence of system
 * calls and page faults for the cloak-trace end-to-end test
 * (tests/trace/test_trace_guest.py).  Run as /bin/tracetest in the guest
 * (kernel command line cloak.run=tracetest).
 *
 * Before the sequence it prints its parameters and locks its memory in
 * (mlockall), so that the sequence itself causes no page faults except
 * the ones it makes on purpose.  The sequence, with raw syscalls only:
 *
 *   openat(AT_FDCWD, "/tmp/cloak-tracetest.<pid>", O_WRONLY|O_CREAT|
 *          O_TRUNC|O_CLOEXEC, 0600)                    = fd
 *   write(fd, buf, WRITE_BYTES)                       = WRITE_BYTES
 *   getpid() x GETPIDS                                = pid
 *   mmap(NULL, PAGES * 4096, PROT_READ|PROT_WRITE,
 *        MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)            = addr
 *   one write to addr + i * 4096 + 8 * i, i < PAGES   (PAGES page faults)
 *   open("/nonexistent/cloak-tracetest.<pid>", O_RDONLY) = -ENOENT
 *   execve("/bin/tracetest", ["tracetest", "child"], envp)
 *
 * The exec'd image ("child") writes one line and exits.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw-syscall.h"

#define WRITE_BYTES 1000
#define GETPIDS 5
#define PAGES 4

/* Grows the stack now, so the sequence never faults on it. */
static __attribute__((noinline)) void touch_stack(void)
{
    volatile char pad[64 * 1024];

    memset((char *)pad, 1, sizeof(pad));
}

static char buf[WRITE_BYTES];

int main(int argc, char **argv, char **envp)
{
    char path[64], missing[80];
    char *child_argv[] = { "tracetest", "child", NULL };
    volatile char *map;
    long pid, fd, i;

    if (argc > 1 && !strcmp(argv[1], "child")) {
        static const char msg[] = "tracetest: child image running\n";

        raw3(SYS_write, 1, (long)msg, sizeof(msg) - 1);
        return 0;
    }
    pid = getpid();
    snprintf(path, sizeof(path), "/tmp/cloak-tracetest.%ld", pid);
    snprintf(missing, sizeof(missing), "/nonexistent/cloak-tracetest.%ld",
             pid);
    memset(buf, 'x', sizeof(buf));
    printf("tracetest: pid=%ld path=%s missing=%s write=%d getpids=%d "
           "pages=%d\n", pid, path, missing, WRITE_BYTES, GETPIDS, PAGES);
    fflush(stdout);
    touch_stack();
    if (mlockall(MCL_CURRENT) != 0) {
        perror("tracetest: mlockall");
        return 1;
    }

    /* The sequence: nothing but these syscalls and faults from here on. */
    fd = raw4(SYS_openat, AT_FDCWD, (long)path,
              O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    raw3(SYS_write, fd, (long)buf, WRITE_BYTES);
    for (i = 0; i < GETPIDS; i++) {
        raw0(SYS_getpid);
    }
    map = (volatile char *)raw6(SYS_mmap, 0, PAGES * 4096,
                                PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    for (i = 0; i < PAGES; i++) {
        map[i * 4096 + 8 * i] = 1;
    }
    raw3(SYS_open, (long)missing, O_RDONLY, 0);
    raw3(SYS_execve, (long)"/bin/tracetest", (long)child_argv, (long)envp);
    /* Only if execve failed. */
    printf("tracetest: execve failed\n");
    return 1;
}
