/*
 * tracecompat: a 32-bit guest program for the cloak-trace end-to-end test
 * (tests/trace/test_trace_guest.py).  It makes its system calls through
 * the vDSO's __kernel_vsyscall, as 32-bit libc does: Linux picks SYSENTER
 * there on Intel CPUs and SYSCALL (from compat mode) on AMD ones, the two
 * entries a 64-bit program cannot reach.  Built with -m32 -static; run as
 * /bin/tracecompat (kernel command line cloak.run=tracecompat).
 *
 * After locking its memory, with no other system calls in between:
 *
 *   getpid()                                            = pid
 *   write(1, "tracecompat: vsyscall\n", 22)             = 22
 *   open("/nonexistent/cloak-tracecompat", O_RDONLY)    = -ENOENT
 *   mmap2(0x10000, 0, 3, 0x22, -1, 0x12345)             = -EINVAL
 *   exit_group(0)
 *
 * The failing mmap2 has six distinct arguments: the sixth travels on the
 * user stack for both entries, where the trace must find it.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <unistd.h>

/* i386 system call numbers (arch/x86/entry/syscalls/syscall_32.tbl). */
#define NR32_WRITE 4
#define NR32_OPEN 5
#define NR32_GETPID 20
#define NR32_MMAP2 192
#define NR32_EXIT_GROUP 252

#define MMAP2_PGOFF 0x12345

static unsigned long vsyscall;

/*
 * __kernel_vsyscall takes the i386 convention: number in EAX, arguments
 * in EBX, ECX, EDX, ESI, EDI, EBP.  EBP is the frame pointer, so it is
 * saved and loaded by hand; what the asm needs besides the argument
 * registers is read through EAX, so no operand the compiler chose is
 * relative to the ESP the pushes move.
 */
static long vsys6(long nr, long a, long b, long c, long d, long e, long f)
{
    long frame[3] = { f, (long)vsyscall, nr };
    long ret;

    __asm__ volatile("push %%ebp\n\t"
                     "mov 0(%%eax), %%ebp\n\t"
                     "push 4(%%eax)\n\t"
                     "mov 8(%%eax), %%eax\n\t"
                     "call *(%%esp)\n\t"
                     "add $4, %%esp\n\t"
                     "pop %%ebp"
                     : "=a"(ret)
                     : "a"(frame), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e)
                     : "memory");
    return ret;
}

static __attribute__((noinline)) void touch_stack(void)
{
    volatile char pad[64 * 1024];   /* volatile: the stores must happen */

    memset((char *)pad, 1, sizeof(pad));
}

static const char msg[] = "tracecompat: vsyscall\n";
static const char missing[] = "/nonexistent/cloak-tracecompat";

int main(void)
{
    vsyscall = getauxval(AT_SYSINFO);
    if (!vsyscall) {
        printf("tracecompat: no AT_SYSINFO (no 32-bit vDSO)\n");
        return 1;
    }
    printf("tracecompat: pid=%d write=%zu missing=%s pgoff=0x%x "
           "vsyscall=0x%lx\n", getpid(), sizeof(msg) - 1, missing,
           MMAP2_PGOFF, vsyscall);
    fflush(stdout);
    touch_stack();
    if (mlockall(MCL_CURRENT) != 0) {
        perror("tracecompat: mlockall");
        return 1;
    }

    /* The sequence: nothing but these syscalls from here on. */
    vsys6(NR32_GETPID, 0, 0, 0, 0, 0, 0);
    vsys6(NR32_WRITE, 1, (long)msg, sizeof(msg) - 1, 0, 0, 0);
    vsys6(NR32_OPEN, (long)missing, O_RDONLY, 0, 0, 0, 0);
    vsys6(NR32_MMAP2, 0x10000, 0, PROT_READ | PROT_WRITE,
          MAP_PRIVATE | MAP_ANONYMOUS, -1, MMAP2_PGOFF);
    vsys6(NR32_EXIT_GROUP, 0, 0, 0, 0, 0, 0);
    return 0;
}
