/*
 * Raw x86-64 system calls for the trace workloads: no libc wrapper, so the
 * program issues exactly the calls it names, and nothing in between.
 */
#ifndef RAW_SYSCALL_H
#define RAW_SYSCALL_H

static inline long raw0(long nr)
{
    long ret;

    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
    return ret;
}

static inline long raw3(long nr, long a, long b, long c)
{
    long ret;

    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}

static inline long raw6(long nr, long a, long b, long c, long d, long e,
                        long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;

    __asm__ volatile("syscall" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c),
                     "r"(r10), "r"(r8), "r"(r9) : "rcx", "r11", "memory");
    return ret;
}

static inline long raw4(long nr, long a, long b, long c, long d)
{
    return raw6(nr, a, b, c, d, 0, 0);
}

#endif /* RAW_SYSCALL_H */
