/*
 * cloak-trace ring ABI: the whole contract between the producer (QEMU's
 * cloak-trace object) and any reader of the shared-memory file.
 *
 * This header is self-contained (C99 + <stdint.h>) so that third parties
 * can build readers against it.  Everything is little-endian, naturally
 * aligned, and every record is a multiple of 8 bytes.
 *
 * File layout (all offsets from the start of the file):
 *
 *   0                    struct cloak_trace_header      (one page)
 *   ring_ctl_offset      struct cloak_trace_ring_ctl[nr_rings]
 *   data_offset          ring 0 data (ring_size bytes)
 *   data_offset + i * ring_size
 *                        ring i data; ring i belongs to vCPU i
 *
 * Ownership (as in perf's struct perf_event_mmap_page):
 *
 *   - The producer owns the header and, in every ring control block, the
 *     producer line: head, lost, next_seq, records.  A reader must never
 *     write them.
 *   - The consumer owns only `tail` and `consumer_pid` in the consumer
 *     line.  The producer never writes them (except to zero at creation).
 *   - head and tail are free-running byte counters (never wrap in 2^64);
 *     the byte offset in the data area is counter & (ring_size - 1).
 *     Bytes in [tail, head) are records the consumer has not yet released;
 *     bytes in [head, tail + ring_size) are free for the producer.
 *
 * Publication protocol (single producer, single consumer per ring):
 *
 *   producer: write the record bytes; store-release head.
 *   consumer: load-acquire head; read records in [tail, head);
 *             store-release tail once it no longer needs those bytes.
 *
 * A record never straddles the end of the data area: when the next record
 * does not fit before the end, the producer first writes a PAD record that
 * covers the rest of the area (its size field spans to the end; only its
 * first 8 bytes, size/type/flags, are meaningful) and the real record
 * starts at offset 0.
 *
 * Sequence numbers: each ring numbers its events 0, 1, 2, ... in the
 * `seq` field of every record.  An event dropped because the ring was
 * full still consumes its number, so dropped events show as gaps; once
 * there is space again the producer writes a LOST record (with its own
 * seq) that states how many were dropped and the first/last missing seq.
 * PAD records carry no sequence number.
 *
 * When the ring is full the producer, by default, drops the new event and
 * counts it (ctl.lost); the guest is never stalled.  With
 * CLOAK_TRACE_F_BLOCK the vCPU instead waits until the consumer frees
 * space (lossless).
 *
 * Late and restarted readers: the producer never overwrites unreleased
 * bytes, so a reader that attaches at any time sees every record from the
 * current tail onwards: records an earlier reader released are gone, and
 * whatever was dropped while nobody read appears as LOST records.  A
 * reader that wants only new events may set tail = head when it attaches.
 * A reader that dies leaves tail where it was; its successor continues
 * there.  One consumer per file at a time: readers take an exclusive
 * flock(2) on the file to say so (advisory; the producer does not care).
 *
 * Guest-controlled data (syscall arguments, paths) and, for a reader, the
 * whole file are untrusted: a reader must validate every field it uses.
 */
#ifndef CLOAK_TRACE_ABI_H
#define CLOAK_TRACE_ABI_H

#include <stdint.h>

#define CLOAK_TRACE_MAGIC           0x31454341525443ULL /* "CTRACE1\0" */
/*
 * Version 2 added the task block (struct cloak_trace_task) at the end of
 * the syscall and page-fault records, the faulting instruction's bytes
 * to page faults, and the guest OS and attribution fields of the header.
 * Each version-2 record is its version-1 record with fields appended, so
 * a reader of both copies the first record_size[type] bytes and finds
 * the appended fields zero in a version-1 file.
 *
 * Version 3 added the returned entry: a system call that returns before
 * anything else is recorded on its vCPU may be written as one record, its
 * entry with CLOAK_TRACE_RF_RETURNED and a struct cloak_trace_syscall_return
 * as the record's last 24 bytes.  It stands for two events: the entry
 * (seq) and its exit (seq + 1).  Half the records, half the per-record
 * work in the producer; record sizes are those of version 2.
 */
#define CLOAK_TRACE_ABI_VERSION     3
/* Bumped whenever any record structure below changes. */
#define CLOAK_TRACE_RECORD_LAYOUT   3

#define CLOAK_TRACE_HEADER_BYTES    4096  /* the header occupies one page */
#define CLOAK_TRACE_RECORD_ALIGN    8
#define CLOAK_TRACE_RING_MIN        4096ULL
#define CLOAK_TRACE_RING_MAX        (1ULL << 30)
#define CLOAK_TRACE_MAX_RINGS       1024
#define CLOAK_TRACE_PATH_MAX        256   /* bytes of one path, without NUL */

/* Event families, header.events (a bit mask). */
#define CLOAK_TRACE_EV_SYSCALL      (1u << 0)
#define CLOAK_TRACE_EV_PAGEFAULT    (1u << 1)

/* header.flags */
#define CLOAK_TRACE_F_BLOCK         (1u << 0)  /* lossless: vCPU waits */
#define CLOAK_TRACE_F_PATHS         (1u << 1)  /* path arguments captured */

/* header.state, written by the producer */
#define CLOAK_TRACE_STATE_RUNNING   1  /* events are being produced */
#define CLOAK_TRACE_STATE_STOPPED   2  /* tracing paused (QMP); may resume */
#define CLOAK_TRACE_STATE_CLOSED    3  /* producer is gone; nothing more */

/* header.clock_id: timestamps are CLOCK_MONOTONIC nanoseconds. */
#define CLOAK_TRACE_CLOCK_MONOTONIC 1

/*
 * header.guest_os: whose system call numbers the records carry.  Only a
 * Linux guest's numbers may be named from Linux's tables.
 */
#define CLOAK_TRACE_OS_LINUX        0  /* also every version-1 file */
#define CLOAK_TRACE_OS_WINDOWS      1
#define CLOAK_TRACE_OS_OTHER        2

/*
 * header.attribution, written by the producer: whether records carry the
 * guest task (struct cloak_trace_task).
 */
#define CLOAK_TRACE_ATTR_OFF        0  /* no OS profile given */
#define CLOAK_TRACE_ATTR_PENDING    1  /* profile given, kernel not yet seen */
#define CLOAK_TRACE_ATTR_ON         2  /* guest kernel is the profiled one */
#define CLOAK_TRACE_ATTR_REFUSED    3  /* guest runs another kernel: off */

#define CLOAK_TRACE_KERNEL_MAX      144  /* bytes of a kernel name, with NUL */

struct cloak_trace_header {
    uint64_t magic;             /* CLOAK_TRACE_MAGIC */
    uint32_t abi_version;       /* CLOAK_TRACE_ABI_VERSION */
    uint32_t record_layout;     /* CLOAK_TRACE_RECORD_LAYOUT */
    uint32_t header_size;       /* sizeof(struct cloak_trace_header) */
    uint32_t ring_ctl_size;     /* sizeof(struct cloak_trace_ring_ctl) */
    uint32_t nr_rings;          /* one per possible vCPU, 1..MAX_RINGS */
    uint32_t record_align;      /* CLOAK_TRACE_RECORD_ALIGN */
    uint64_t ring_size;         /* data bytes per ring, power of two */
    uint64_t ring_ctl_offset;   /* file offset of ring_ctl[0] */
    uint64_t data_offset;       /* file offset of ring 0's data */
    uint64_t file_size;         /* total bytes of the file */
    uint32_t events;            /* CLOAK_TRACE_EV_* requested */
    uint32_t flags;             /* CLOAK_TRACE_F_* */
    uint32_t clock_id;          /* CLOAK_TRACE_CLOCK_* */
    uint32_t path_max;          /* longest path captured, bytes */
    uint64_t created_realtime_ns;  /* CLOCK_REALTIME at creation */
    uint64_t created_monotonic_ns; /* CLOCK_MONOTONIC at creation */
    uint32_t state;             /* CLOAK_TRACE_STATE_*, producer-updated */
    uint32_t producer_pid;      /* QEMU's pid */
    uint16_t record_size[8];    /* fixed size of each record type, by type */
    /* Version 2: */
    uint32_t guest_os;          /* CLOAK_TRACE_OS_* */
    uint32_t attribution;       /* CLOAK_TRACE_ATTR_*, producer-updated */
    /*
     * The profiled kernel ("6.1.0-57-amd64 #1 SMP ... Debian 6.1.192-3
     * (2026-11-26)": release, a space, version), and, written once with
     * attribution, the kernel the guest was found running.  NUL-padded;
     * guest-controlled, so untrusted like every other byte.
     */
    char profile_kernel[CLOAK_TRACE_KERNEL_MAX];
    char guest_kernel[CLOAK_TRACE_KERNEL_MAX];
    uint8_t reserved[3680];     /* zero */
};

/*
 * Per-ring control block: two cache lines, one per side, so that the
 * producer and the consumer never write the same line.
 */
struct cloak_trace_ring_ctl {
    /* Producer line: written only by the producer. */
    uint64_t head;              /* bytes produced; store-release */
    uint64_t lost;              /* events dropped because the ring was full */
    uint64_t next_seq;          /* sequence number of the next event */
    uint64_t records;           /* events written (LOST included, PAD not) */
    uint8_t producer_pad[32];
    /* Consumer line: written only by the consumer. */
    uint64_t tail;              /* bytes released; store-release */
    uint64_t consumer_pid;      /* pid of the attached reader, 0 if none */
    uint8_t consumer_pad[48];
};

/* Record types */
enum {
    CLOAK_TRACE_REC_PAD = 1,
    CLOAK_TRACE_REC_LOST = 2,
    CLOAK_TRACE_REC_SYSCALL_ENTER = 3,
    CLOAK_TRACE_REC_SYSCALL_EXIT = 4,
    CLOAK_TRACE_REC_PAGE_FAULT = 5,
    CLOAK_TRACE_REC_MAX = 5,
};

/* Common record header (32 bytes). */
struct cloak_trace_rec {
    uint32_t size;              /* bytes of the whole record, multiple of 8 */
    uint16_t type;              /* CLOAK_TRACE_REC_* */
    uint16_t flags;             /* per-type CLOAK_TRACE_RF_* */
    uint64_t seq;               /* per-ring sequence number (not for PAD) */
    uint64_t ts_ns;             /* CLOCK_MONOTONIC ns (QEMU derives them from
                                   the host TSC when it is constant) */
    uint32_t vcpu;              /* index of the vCPU (= ring index) */
    uint32_t reserved;
};

struct cloak_trace_lost {
    struct cloak_trace_rec hdr;
    uint64_t count;             /* events dropped */
    uint64_t first_seq;         /* seq of the first dropped event */
    uint64_t last_seq;          /* seq of the last dropped event */
};

/* How the guest entered or left the kernel. */
enum {
    CLOAK_TRACE_ENTRY_SYSCALL64 = 1,   /* SYSCALL from 64-bit code */
    CLOAK_TRACE_ENTRY_SYSCALL32 = 2,   /* SYSCALL from compat code */
    CLOAK_TRACE_ENTRY_SYSENTER = 3,
    CLOAK_TRACE_ENTRY_INT80 = 4,
    CLOAK_TRACE_EXIT_SYSRET = 5,
    CLOAK_TRACE_EXIT_SYSEXIT = 6,
    CLOAK_TRACE_EXIT_IRET = 7,
};

/* Syscall ABI of the numbers and arguments. */
enum {
    CLOAK_TRACE_ABI_X86_64 = 1,  /* Linux x86-64 numbers; RDI RSI RDX R10 R8 R9 */
    CLOAK_TRACE_ABI_I386 = 2,    /* Linux i386 numbers; EBX ECX EDX ESI EDI EBP */
};

/* Syscall entry record flags */
#define CLOAK_TRACE_RF_PATHS        (1u << 0)  /* path blocks follow */
/* The call's return is in this record (version 3, see below). */
#define CLOAK_TRACE_RF_RETURNED     (1u << 1)
/* Syscall entry, exit and page-fault records: the task block is filled in. */
#define CLOAK_TRACE_RF_TASK         (1u << 15)
/* Page-fault record: the faulting code is 32-bit (insn decodes as such). */
#define CLOAK_TRACE_RF_CODE32       (1u << 14)

/*
 * The guest task that was current when the event happened (version 2),
 * read by the producer from the guest kernel's task_struct with the
 * offsets of an OS profile.  Zero without RF_TASK.  Written by the guest
 * kernel, so as far as the guest is trusted.
 */
struct cloak_trace_task {
    uint32_t tgid;              /* process id (what getpid returns) */
    uint32_t tid;               /* thread id (what gettid returns) */
    uint32_t ppid;              /* tgid of the real parent */
    uint32_t reserved;
    char comm[16];              /* command name, NUL-padded, may be unterminated */
};

struct cloak_trace_syscall_enter {
    struct cloak_trace_rec hdr;
    uint64_t cr3;
    uint64_t rip;               /* address of the syscall instruction */
    uint64_t ret_rip;           /* where the return lands; 0 if unknown */
    uint64_t rsp;               /* user stack pointer at entry */
    uint64_t nr;                /* syscall number (RAX/EAX) */
    uint64_t args[6];
    uint8_t abi;                /* CLOAK_TRACE_ABI_* */
    uint8_t entry;              /* CLOAK_TRACE_ENTRY_* */
    uint8_t npaths;             /* path blocks after this struct */
    uint8_t pad[5];
    struct cloak_trace_task task;   /* version 2 */
    /* followed by npaths struct cloak_trace_path blocks */
};

/*
 * The last 24 bytes of an entry with CLOAK_TRACE_RF_RETURNED (version 3),
 * after its path blocks: the return, which the producer saw before any
 * other event of this vCPU.  The exit event it stands for has seq =
 * entry seq + 1, vcpu, cr3, rsp, nr, abi and task of the entry,
 * rip = ret_rip, enter_seq = entry seq, and no CLOAK_TRACE_RF_CHILD (a
 * fork's returns are never written this way).  The producer publishes such
 * an entry when it returns, or unreturned (as a plain entry) at the next
 * event of its vCPU, when the VM stops, or within about 20 ms.
 */
struct cloak_trace_syscall_return {
    int64_t ret;                /* RAX (sign-extended for i386) */
    uint64_t ts_ns;             /* when it returned */
    uint8_t exit;               /* CLOAK_TRACE_EXIT_* */
    uint8_t pad[7];
};

/* Path block flags */
#define CLOAK_TRACE_PATH_TRUNCATED  (1u << 0)  /* longer than path_max */
#define CLOAK_TRACE_PATH_UNREADABLE (1u << 1)  /* guest memory not readable */

/* A path argument read from guest memory at entry; 8 + len bytes padded to 8. */
struct cloak_trace_path {
    uint8_t arg;                /* which argument (0..5) held the pointer */
    uint8_t flags;              /* CLOAK_TRACE_PATH_* */
    uint16_t len;               /* bytes in data, no NUL, <= path_max */
    uint32_t pad;
    /* char data[len], then zero bytes up to the next multiple of 8 */
};

/* Syscall exit record flags */
#define CLOAK_TRACE_RF_CHILD        (1u << 0)  /* return in a fork/clone child */

struct cloak_trace_syscall_exit {
    struct cloak_trace_rec hdr;
    uint64_t cr3;
    uint64_t rip;               /* user RIP the kernel returned to */
    uint64_t rsp;               /* user RSP after the return */
    uint64_t nr;                /* syscall number, from the paired entry */
    int64_t ret;                /* RAX (sign-extended for i386) */
    uint64_t enter_seq;         /* seq of the paired entry ... */
    uint32_t enter_vcpu;        /* ... in the ring of this vCPU */
    uint8_t abi;                /* CLOAK_TRACE_ABI_* of the entry */
    uint8_t exit;               /* CLOAK_TRACE_EXIT_* */
    uint8_t pad[2];
    struct cloak_trace_task task;   /* version 2 */
};

struct cloak_trace_page_fault {
    struct cloak_trace_rec hdr;
    uint64_t cr2;               /* faulting linear address */
    uint64_t cr3;
    uint64_t rip;               /* faulting instruction */
    uint32_t error_code;        /* P W U RSVD I/D PK SS ... as pushed */
    uint8_t cpl;                /* privilege level at the fault */
    uint8_t pad[3];
    struct cloak_trace_task task;   /* version 2 */
    /*
     * Version 2: up to 16 bytes at rip, as far as they were readable
     * (0 for an instruction-fetch fault on rip itself).
     */
    uint8_t insn_len;
    uint8_t pad2[7];
    uint8_t insn[16];
};

/* Sizes of the version-1 records, which lack the fields marked above. */
#define CLOAK_TRACE_V1_SYSCALL_ENTER_SIZE   128
#define CLOAK_TRACE_V1_SYSCALL_EXIT_SIZE    88
#define CLOAK_TRACE_V1_PAGE_FAULT_SIZE      64

#ifdef __cplusplus
#define CLOAK_TRACE_STATIC_ASSERT(c, m) static_assert(c, m)
#else
#define CLOAK_TRACE_STATIC_ASSERT(c, m) _Static_assert(c, m)
#endif
CLOAK_TRACE_STATIC_ASSERT(sizeof(struct cloak_trace_header) == 4096, "header");
CLOAK_TRACE_STATIC_ASSERT(sizeof(struct cloak_trace_ring_ctl) == 128, "ctl");
CLOAK_TRACE_STATIC_ASSERT(sizeof(struct cloak_trace_rec) == 32, "rec");
CLOAK_TRACE_STATIC_ASSERT(sizeof(struct cloak_trace_lost) == 56, "lost");
CLOAK_TRACE_STATIC_ASSERT(sizeof(struct cloak_trace_task) == 32, "task");
CLOAK_TRACE_STATIC_ASSERT(sizeof(struct cloak_trace_syscall_enter) == 160,
                          "enter");
CLOAK_TRACE_STATIC_ASSERT(sizeof(struct cloak_trace_path) == 8, "path");
CLOAK_TRACE_STATIC_ASSERT(sizeof(struct cloak_trace_syscall_return) == 24,
                          "return");
CLOAK_TRACE_STATIC_ASSERT(sizeof(struct cloak_trace_syscall_exit) == 120,
                          "exit");
CLOAK_TRACE_STATIC_ASSERT(sizeof(struct cloak_trace_page_fault) == 120, "pf");

#endif /* CLOAK_TRACE_ABI_H */
