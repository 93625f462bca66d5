/*
 * tracepaths: a guest program for the cloak-trace end-to-end test
 * (tests/trace/test_trace_guest.py) covering what tracetest does not: the
 * path-taking calls of the stat family, rename and unlink, the path
 * flags (truncated, unreadable) and the i386 ABI through INT 0x80, whose
 * return to user mode is an IRET.  Run as /bin/tracepaths in the guest
 * (kernel command line cloak.run=tracepaths).
 *
 * Like tracetest it locks its memory first, then, with raw syscalls only:
 *
 *   newfstatat(AT_FDCWD, "/tmp/cloak-tracepaths.<pid>", &st, 0) = -ENOENT
 *   openat(AT_FDCWD, that path, O_WRONLY|O_CREAT|O_EXCL, 0600) = fd
 *   close(fd)                                                  = 0
 *   newfstatat(AT_FDCWD, that path, &st, 0)                    = 0
 *   rename(that path, "<that path>.renamed")                   = 0
 *   unlink("<that path>.renamed")                              = 0
 *   openat(AT_FDCWD, LONG_PATH, O_RDONLY, 0)   = -ENAMETOOLONG (truncated)
 *   openat(AT_FDCWD, (char *)8, O_RDONLY, 0)   = -EFAULT (path unreadable)
 *   INT 0x80: getpid()                                         = pid
 *   INT 0x80: write(1, "tracepaths: int80\n", 18)              = 18
 *   INT 0x80: open("/nonexistent/cloak-tracepaths", O_RDONLY)  = -ENOENT
 *
 * The binary is static and not position independent, so its data lies
 * below 4 GiB where the i386 ABI's 32-bit pointers can reach it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "raw-syscall.h"

/* i386 system call numbers (arch/x86/entry/syscalls/syscall_32.tbl). */
#define NR32_WRITE 4
#define NR32_OPEN 5
#define NR32_GETPID 20

/* Longer than the trace's 256-byte path bound, shorter than PATH_MAX. */
#define LONG_PATH_LEN 400

static int int80(int nr, int a, int b, int c)
{
    int ret;

    /* Kernels before 4.17 clobbered r8-r11 on int $0x80 from 64-bit code. */
    __asm__ volatile("int $0x80" : "=a"(ret) : "a"(nr), "b"(a), "c"(b), "d"(c)
                     : "r8", "r9", "r10", "r11", "memory");
    return ret;
}

/* Grows the stack now, so the sequence never faults on it. */
static __attribute__((noinline)) void touch_stack(void)
{
    volatile char pad[64 * 1024];   /* volatile: the stores must happen */

    memset((char *)pad, 1, sizeof(pad));
}

static char path[64], renamed[80], long_path[LONG_PATH_LEN + 1];
static const char int80_msg[] = "tracepaths: int80\n";
static const char int80_missing[] = "/nonexistent/cloak-tracepaths";
static struct stat st;

int main(void)
{
    long pid, fd;

    pid = getpid();
    snprintf(path, sizeof(path), "/tmp/cloak-tracepaths.%ld", pid);
    snprintf(renamed, sizeof(renamed), "%s.renamed", path);
    memset(long_path, 'p', LONG_PATH_LEN);
    memcpy(long_path, "/tmp/", 5);
    printf("tracepaths: pid=%ld path=%s renamed=%s long=%d "
           "int80-write=%zu int80-missing=%s\n", pid, path, renamed,
           LONG_PATH_LEN, sizeof(int80_msg) - 1, int80_missing);
    fflush(stdout);
    if ((unsigned long)int80_msg >= 1UL << 32 ||
        (unsigned long)int80_missing >= 1UL << 32) {
        printf("tracepaths: data above 4 GiB; build without PIE\n");
        return 1;
    }
    touch_stack();
    if (mlockall(MCL_CURRENT) != 0) {
        perror("tracepaths: mlockall");
        return 1;
    }

    /* The sequence: nothing but these syscalls from here on. */
    raw4(SYS_newfstatat, AT_FDCWD, (long)path, (long)&st, 0);
    fd = raw4(SYS_openat, AT_FDCWD, (long)path, O_WRONLY | O_CREAT | O_EXCL,
              0600);
    raw3(SYS_close, fd, 0, 0);
    raw4(SYS_newfstatat, AT_FDCWD, (long)path, (long)&st, 0);
    raw3(SYS_rename, (long)path, (long)renamed, 0);
    raw3(SYS_unlink, (long)renamed, 0, 0);
    raw4(SYS_openat, AT_FDCWD, (long)long_path, O_RDONLY, 0);
    raw4(SYS_openat, AT_FDCWD, 8, O_RDONLY, 0);
    int80(NR32_GETPID, 0, 0, 0);
    int80(NR32_WRITE, 1, (int)(long)int80_msg, sizeof(int80_msg) - 1);
    int80(NR32_OPEN, (int)(long)int80_missing, O_RDONLY, 0);
    raw3(SYS_exit_group, 0, 0, 0);
    return 0;
}
