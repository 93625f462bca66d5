/*
 * cloak-trace event source: system calls.
 *
 * Entry: SYSCALL (64-bit and compat), SYSENTER and INT 0x80, from the TCG
 * helpers before the CPU state changes: number, six arguments (Linux
 * conventions per entry path), CR3, RIP, return RIP, user RSP and, with
 * paths=on, path arguments copied from guest memory.
 * Return: SYSRET, SYSEXIT or IRET to CPL 3 that lands where an outstanding
 * entry expects (syscall-pending.h): RAX, paired with the entry's seq.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/thread.h"
#include "cpu.h"
#include "exec/cpu-common.h"
#include "system/tcg.h"
#include "hw/boards.h"
#include "trace-plugins/cloak-trace-hooks.h"
#include "trace-plugins/syscall-pending.h"
#include "trace-plugins/cloak-syscall-table.h"

static CloakPendingTable pending;
static QemuSpin pending_lock_spin;

static void __attribute__((constructor)) cloak_trace_syscall_init(void)
{
    qemu_spin_init(&pending_lock_spin);
}

/*
 * The table is shared only when vCPUs run in threads of their own (MTTCG
 * with more than one vCPU).  One vCPU, or round-robin TCG, runs every
 * hook in one thread: no lock, whose atomic exchange perf showed as half
 * of the entry hook's time.  Decided at the first hook (the machine is
 * complete by then) and kept: reading the machine's topology per call
 * missed the cache.
 */
static int pending_shared = -1;

static inline bool pending_is_shared(void)
{
    int shared = qatomic_read(&pending_shared);

    if (unlikely(shared < 0)) {
        shared = qemu_tcg_mttcg_enabled() &&
                 current_machine->smp.max_cpus > 1;
        qatomic_set(&pending_shared, shared);
    }
    return shared;
}

static inline bool pending_lock(void)
{
    bool shared = pending_is_shared();

    if (shared) {
        qemu_spin_lock(&pending_lock_spin);
    }
    return shared;
}

static inline void pending_unlock(bool shared)
{
    if (shared) {
        qemu_spin_unlock(&pending_lock_spin);
    }
}

/*
 * The entry held unpublished (cloak_trace_hold()) in case its return is
 * the next event of its vCPU: then both go out as one record (version 3's
 * CLOAK_TRACE_RF_RETURNED), which halves the producer's work for the
 * calls that do not block.  Only one thread runs the hooks when entries
 * are held, so there is at most one.  What the return must match and the
 * pending table needs is read back from the record itself, which nobody
 * else sees until it is published.
 */
static struct {
    CPUState *cs;               /* NULL when none is held */
    struct cloak_trace_syscall_enter *rec;
    uint32_t len;               /* without the return */
} held;

static void pending_record(CPUState *cs, uint64_t cr3, uint64_t key_rip,
                           uint64_t rsp, bool fork, uint64_t child_rsp,
                           uint64_t nr, uint64_t seq, uint8_t abi,
                           bool has_task, const struct cloak_trace_task *task)
{
    bool shared = pending_lock();
    CloakPending *p = cloak_pending_claim(&pending, cr3, key_rip, rsp, fork);

    p->child_rsp = child_rsp;
    p->nr = nr;
    p->seq = seq;
    p->vcpu = cs->cpu_index;
    p->abi = abi;
    p->has_task = has_task;
    if (has_task) {
        p->task = *task;
    }
    pending_unlock(shared);
}

/*
 * Which task a vCPU runs changes only in kernel code.  So when a system
 * call has returned into its held entry, the vCPU's next system call is
 * the same task's if no other kernel entry came between: its entry takes
 * the task block again (comm re-read, cloak_trace_guest_task_again())
 * instead of reading the current task through the kernel's per-CPU area.
 * Every kernel entry forgets the returned task: a system call's
 * (task_returned()) and any other (the interrupt hook).  A parent that
 * changed meanwhile shows from the next read, as with the block cache.
 */
typedef struct ReturnedTask {
    uint64_t cr3;               /* of the returning call; 0 = none */
    uint64_t epoch;             /* cloak_trace_epoch then */
    uint32_t tid;
} ReturnedTask;

static ReturnedTask returned_tasks[CLOAK_TRACE_MAX_RINGS];

static inline ReturnedTask *returned_of(CPUState *cs)
{
    return cs->cpu_index >= 0 && cs->cpu_index < CLOAK_TRACE_MAX_RINGS ?
           &returned_tasks[cs->cpu_index] : NULL;
}

/* At a system call's entry: is it the returned task's?  Forgets it. */
static inline bool task_returned(CPUX86State *env, uint32_t *tid)
{
    ReturnedTask *k = returned_of(env_cpu(env));
    bool same;

    if (!k || !k->cr3) {
        return false;
    }
    same = k->cr3 == env->cr[3] &&
           k->epoch == qatomic_read(&cloak_trace_epoch);
    *tid = k->tid;
    k->cr3 = 0;
    return same;
}

void cloak_trace_syscall_kernel_entry(CPUX86State *env)
{
    ReturnedTask *k = returned_of(env_cpu(env));

    if (k) {
        k->cr3 = 0;
    }
}

/* cloak_trace_hold()'s release: the entry goes out alone and waits. */
static void release_held_entry(void)
{
    struct cloak_trace_syscall_enter *e = held.rec;
    CPUState *cs = held.cs;

    if (!cs) {
        return;
    }
    held.cs = NULL;
    /* Before publishing: from then on a reader may scribble on the record. */
    pending_record(cs, e->cr3, e->ret_rip, e->rsp, false, 0, e->nr,
                   e->hdr.seq, e->abi, e->hdr.flags & CLOAK_TRACE_RF_TASK,
                   &e->task);
    cloak_trace_commit(cs, &e->hdr, held.len);
}

/* RSP as user code sees it: 32 bits wide outside 64-bit code. */
static inline uint64_t user_rsp(CPUX86State *env)
{
    return (env->hflags & HF_CS64_MASK) ? env->regs[R_ESP]
                                        : (uint32_t)env->regs[R_ESP];
}

static const CloakSyscallInfo *syscall_info(uint8_t abi, uint64_t nr)
{
    if (abi == CLOAK_TRACE_ABI_X86_64 && nr < CLOAK_SYSCALL_COUNT_X86_64) {
        return &cloak_syscalls_x86_64[nr];
    }
    if (abi == CLOAK_TRACE_ABI_I386 && nr < CLOAK_SYSCALL_COUNT_I386) {
        return &cloak_syscalls_i386[nr];
    }
    return NULL;
}

static uint64_t read_guest_u32(CPUState *cs, uint64_t addr)
{
    uint32_t v = 0;

    cpu_memory_rw_debug(cs, addr, &v, sizeof(v), false);
    return le32_to_cpu(v);
}

static uint64_t read_guest_u64(CPUState *cs, uint64_t addr)
{
    uint64_t v = 0;

    cpu_memory_rw_debug(cs, addr, &v, sizeof(v), false);
    return le64_to_cpu(v);
}

/*
 * Copies the NUL-terminated string at addr into the path block p (its
 * data follows it), at most CLOAK_TRACE_PATH_MAX bytes, a page at a time
 * through the guest's page tables.  Returns the block's padded size.
 */
static uint32_t read_path(CPUState *cs, uint64_t addr, unsigned arg,
                          struct cloak_trace_path *p)
{
    char *dst = (char *)(p + 1);
    uint32_t len = 0, padded;
    uint8_t flags = 0;

    while (len < CLOAK_TRACE_PATH_MAX) {
        uint64_t at = addr + len;
        uint32_t chunk = MIN(CLOAK_TRACE_PATH_MAX - len,
                             TARGET_PAGE_SIZE - (at & ~TARGET_PAGE_MASK));
        char *nul;

        if (cpu_memory_rw_debug(cs, at, dst + len, chunk, false) != 0) {
            flags |= CLOAK_TRACE_PATH_UNREADABLE;
            break;
        }
        nul = memchr(dst + len, 0, chunk);
        if (nul) {
            len = nul - dst;
            goto done;
        }
        len += chunk;
    }
    if (!(flags & CLOAK_TRACE_PATH_UNREADABLE)) {
        uint8_t c;

        if (cpu_memory_rw_debug(cs, addr + len, &c, 1, false) != 0 || c) {
            flags |= CLOAK_TRACE_PATH_TRUNCATED;
        }
    }
done:
    padded = ROUND_UP(len, 8);
    memset(dst + len, 0, padded - len);
    p->arg = arg;
    p->flags = flags;
    p->len = len;
    p->pad = 0;
    return sizeof(*p) + padded;
}

/* The six arguments, by the conventions of the entry path (Linux's). */
static inline void syscall_args(CPUX86State *env, int entry, uint64_t rsp,
                                uint64_t *args)
{
    CPUState *cs = env_cpu(env);

    if (entry == CLOAK_TRACE_ENTRY_SYSCALL64) {
        args[0] = env->regs[R_EDI];
        args[1] = env->regs[R_ESI];
        args[2] = env->regs[R_EDX];
        args[3] = env->regs[10];
        args[4] = env->regs[8];
        args[5] = env->regs[9];
        return;
    }
    args[0] = (uint32_t)env->regs[R_EBX];
    args[1] = (uint32_t)env->regs[R_ECX];
    args[2] = (uint32_t)env->regs[R_EDX];
    args[3] = (uint32_t)env->regs[R_ESI];
    args[4] = (uint32_t)env->regs[R_EDI];
    args[5] = (uint32_t)env->regs[R_EBP];
    if (entry == CLOAK_TRACE_ENTRY_SYSENTER) {
        /* Linux vDSO: EBP holds the user stack, arg 6 is at [EBP]. */
        args[5] = read_guest_u32(cs, args[5]);
    } else if (entry == CLOAK_TRACE_ENTRY_SYSCALL32) {
        /* SYSCALL clobbers ECX: arg 2 is in EBP, arg 6 at [ESP]. */
        args[1] = (uint32_t)env->regs[R_EBP];
        args[5] = read_guest_u32(cs, rsp);
    }
}

/*
 * An entry that goes out alone at once: its return, if one is seen, is
 * paired through the pending table.  Out of line, so that the common
 * held entry zeroes no locals.
 */
static void __attribute__((noinline))
enter_alone(CPUState *cs, struct cloak_trace_syscall_enter *e, uint32_t len,
            const CloakSyscallInfo *info)
{
    bool fork = info && info->kind == CLOAK_SYSCALL_KIND_FORK;
    uint64_t cr3 = e->cr3, rsp = e->rsp, nr = e->nr, seq = e->hdr.seq;
    uint64_t key_rip = e->entry == CLOAK_TRACE_ENTRY_SYSCALL32 ? 0
                                                               : e->ret_rip;
    uint64_t arg0 = e->args[0], arg1 = e->args[1], child_rsp = 0;
    uint8_t abi = e->abi;
    bool has_task = e->hdr.flags & CLOAK_TRACE_RF_TASK;
    struct cloak_trace_task task;

    if (has_task) {
        /* From publication on, a reader may scribble on the record. */
        task = e->task;
    }
    cloak_trace_commit(cs, &e->hdr, len);
    if ((info && info->kind == CLOAK_SYSCALL_KIND_NORETURN) ||
        !tcg_enabled()) {
        return;     /* returns are only seen under TCG */
    }

    /*
     * Linux returns from both 32-bit fast entries to the vDSO's landing
     * pad, not after the instruction: SYSENTER has no return address, and
     * compat SYSCALL's is moved.  Those entries pair on any RIP (key 0).
     */
    if (fork && info->name[5] == '3') {
        /* clone3(struct clone_args *): the child starts on stack+size. */
        uint64_t stack = read_guest_u64(cs, arg0 + 40);
        uint64_t size = read_guest_u64(cs, arg0 + 48);

        child_rsp = stack ? stack + size : 0;
    } else if (fork && !strcmp(info->name, "clone")) {
        child_rsp = arg1;           /* newsp, 0 for "same stack" */
    }
    pending_record(cs, cr3, key_rip, rsp, fork, child_rsp, nr, seq, abi,
                   has_task, &task);
}

void cloak_trace_syscall_enter(CPUX86State *env, target_ulong insn_eip,
                               target_ulong ret_eip, int entry)
{
    CPUState *cs = env_cpu(env);
    uint8_t abi = entry == CLOAK_TRACE_ENTRY_SYSCALL64 ? CLOAK_TRACE_ABI_X86_64
                                                       : CLOAK_TRACE_ABI_I386;
    uint64_t rsp = user_rsp(env);
    uint64_t nr = abi == CLOAK_TRACE_ABI_X86_64 ? env->regs[R_EAX]
                                                : (uint32_t)env->regs[R_EAX];
    const CloakSyscallInfo *info = syscall_info(abi, nr);
    struct cloak_trace_syscall_enter *e;
    uint32_t tid, len, max_len;
    uint8_t *pos;
    unsigned i, npaths = 0;
    bool same_task = task_returned(env, &tid);
    bool may_hold;

    if (info && info->path_args && cloak_trace_paths) {
        npaths = ctpop8(info->path_args);
    }
    /*
     * Held for its return: a call whose return lands at a known address
     * (not a fork, whose child returns too), where one thread runs every
     * vCPU.  Returns are only seen under TCG.
     */
    may_hold = tcg_enabled() && ret_eip &&
               entry != CLOAK_TRACE_ENTRY_SYSCALL32 &&
               !(info && (info->kind == CLOAK_SYSCALL_KIND_FORK ||
                          info->kind == CLOAK_SYSCALL_KIND_NORETURN)) &&
               !pending_is_shared();
    max_len = sizeof(*e) + npaths * (sizeof(struct cloak_trace_path) +
                                     CLOAK_TRACE_PATH_MAX);
    if (may_hold) {
        max_len += sizeof(struct cloak_trace_syscall_return);
    }
    e = (void *)cloak_trace_begin(cs, CLOAK_TRACE_REC_SYSCALL_ENTER, max_len);
    if (!e) {
        return;
    }
    e->cr3 = env->cr[3];
    e->rip = insn_eip;
    e->ret_rip = ret_eip;
    e->rsp = rsp;
    e->nr = nr;
    syscall_args(env, entry, rsp, e->args);
    e->abi = abi;
    e->entry = entry;
    e->npaths = npaths;
    memset(e->pad, 0, sizeof(e->pad));
    if ((same_task && cloak_trace_guest_task_again(env, tid, &e->task)) ||
        cloak_trace_guest_task(env, &e->task)) {
        e->hdr.flags |= CLOAK_TRACE_RF_TASK;
    } else {
        memset(&e->task, 0, sizeof(e->task));
    }
    pos = (uint8_t *)(e + 1);
    for (i = 0; npaths && i < 6; i++) {
        if (info->path_args & (1u << i)) {
            uint64_t addr = abi == CLOAK_TRACE_ABI_I386 ?
                            (uint32_t)e->args[i] : e->args[i];

            pos += read_path(cs, addr, i, (void *)pos);
        }
    }
    if (npaths) {
        e->hdr.flags |= CLOAK_TRACE_RF_PATHS;
    }
    len = pos - (uint8_t *)e;
    if (may_hold) {
        held.cs = cs;
        held.rec = e;
        held.len = len;
        cloak_trace_hold(cs, release_held_entry);
        return;
    }
    enter_alone(cs, e, len, info);
}

/* The held entry's return, written into its record and published. */
static void return_into_held(CPUX86State *env, int64_t ret, int exit)
{
    struct cloak_trace_syscall_enter *e = held.rec;
    struct cloak_trace_syscall_return *r = (void *)((uint8_t *)e + held.len);
    CPUState *cs = held.cs;

    r->ret = e->abi == CLOAK_TRACE_ABI_I386 ? (int32_t)ret : ret;
    r->ts_ns = cloak_trace_clock_ns();
    r->exit = exit;
    memset(r->pad, 0, sizeof(r->pad));
    e->hdr.flags |= CLOAK_TRACE_RF_RETURNED;
    if (e->hdr.flags & CLOAK_TRACE_RF_TASK) {
        ReturnedTask *k = returned_of(held.cs);

        if (k) {
            k->tid = e->task.tid;
            k->epoch = qatomic_read(&cloak_trace_epoch);
            k->cr3 = env->cr[3];
        }
    }
    held.cs = NULL;
    cloak_trace_unhold();
    cloak_trace_commit_returned(cs, &e->hdr, held.len + sizeof(*r));
}

/*
 * A return that is not the held entry's: paired through the pending table
 * into an exit record of its own.  Out of line, so that the common return
 * into the held entry zeroes no locals.
 */
static void __attribute__((noinline)) return_alone(CPUX86State *env, int exit,
                                                   uint64_t rip, uint64_t rsp)
{
    CPUState *cs = env_cpu(env);
    bool long64 = env->hflags & HF_CS64_MASK;
    int64_t ret = env->regs[R_EAX];
    struct cloak_trace_syscall_exit *x;
    const CloakPending *e;
    struct cloak_trace_task task;
    uint64_t nr, seq;
    uint32_t vcpu;
    uint8_t abi;
    bool child, has_task, restart_site, shared;

    /* Only 32-bit code is restarted through the vDSO's int $0x80 (CD 80). */
    restart_site = !long64 && (read_guest_u32(cs, rip) & 0xffff) == 0x80cd;
    shared = pending_lock();
    e = cloak_pending_take(&pending, env->cr[3], rip, rsp,
                           long64 ? ret : (int32_t)ret, restart_site, &child);
    if (!e) {
        pending_unlock(shared);
        return;
    }
    /* The fields this exit needs (a whole copy cost a zeroed local). */
    nr = e->nr;
    seq = e->seq;
    vcpu = e->vcpu;
    abi = e->abi;
    has_task = !child && e->has_task;
    if (has_task) {
        task = e->task;
    }
    pending_unlock(shared);
    x = (void *)cloak_trace_begin(cs, CLOAK_TRACE_REC_SYSCALL_EXIT,
                                  sizeof(*x));
    if (!x) {
        return;
    }
    x->cr3 = env->cr[3];
    x->rip = rip;
    x->rsp = rsp;
    x->nr = nr;
    x->ret = abi == CLOAK_TRACE_ABI_I386 ? (int32_t)ret : ret;
    x->enter_seq = seq;
    x->enter_vcpu = vcpu;
    x->abi = abi;
    x->exit = exit;
    memset(x->pad, 0, sizeof(x->pad));
    if (has_task) {
        /* The thread that entered returns: no guest read needed. */
        x->task = task;
        x->hdr.flags |= CLOAK_TRACE_RF_TASK;
    } else if (cloak_trace_guest_task(env, &x->task)) {
        x->hdr.flags |= CLOAK_TRACE_RF_TASK;
    } else {
        memset(&x->task, 0, sizeof(x->task));
    }
    if (child) {
        x->hdr.flags |= CLOAK_TRACE_RF_CHILD;
    }
    cloak_trace_commit(cs, &x->hdr, sizeof(*x));
}

void cloak_trace_syscall_return(CPUX86State *env, int exit)
{
    uint64_t rsp = user_rsp(env);
    uint64_t rip = env->eip;

    if (held.cs) {
        if (held.cs == env_cpu(env) && held.rec->ret_rip == rip &&
            held.rec->rsp == rsp && held.rec->cr3 == env->cr[3]) {
            return_into_held(env, env->regs[R_EAX], exit);
            return;
        }
        cloak_trace_release_held();
    }
    return_alone(env, exit, rip, rsp);
}
