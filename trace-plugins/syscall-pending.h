/*
 * Outstanding syscalls, for pairing each return with its entry.
 *
 * SYSCALL leaves RSP alone and the kernel returns to the instruction after
 * it with the same user RSP, so an entry is keyed by (CR3, return RIP,
 * user RSP); the return address of SYSENTER and of compat SYSCALL is the
 * vDSO's choice, so their entries (RIP 0) match any RIP, except a return
 * to a restart site: when Linux restarts such a call it returns to the
 * vDSO's "int $0x80", which enters the call again; the new entry then
 * replaces the old one.  The table is shared by all vCPUs (a thread may
 * enter on one vCPU and return on another); the caller serialises access
 * where vCPUs run in threads of their own.
 *
 * - Calls that never return (exit, exit_group, rt_sigreturn) are not kept.
 *   execve returns only on failure; a successful one is evicted by age.
 * - fork/vfork/clone/clone3 return twice.  The child returns 0 to the same
 *   RIP, with the parent's RSP (fork, vfork, clone without a stack) or the
 *   new stack (clone's newsp, clone3's stack + stack_size), in a new or the
 *   same address space; the parent never gets 0.  Those entries live in a
 *   small separate list until both returns were seen.
 * - Each bucket holds a few ways; the oldest entry is evicted when full
 *   (a blocked syscall that outlives thousands of others loses its pair).
 *
 * Header-only and free of QEMU headers so tests can drive it directly.
 */
#ifndef CLOAK_SYSCALL_PENDING_H
#define CLOAK_SYSCALL_PENDING_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cloak-trace-abi.h"

#define CLOAK_PENDING_BUCKETS 1024
#define CLOAK_PENDING_WAYS 4
#define CLOAK_PENDING_FORKS 64

typedef struct CloakPending {
    uint64_t cr3;
    uint64_t rip;           /* 0: any (SYSENTER, compat SYSCALL) */
    uint64_t rsp;
    uint64_t child_rsp;     /* fork family: the child's stack, 0 if none */
    uint64_t nr;
    uint64_t seq;           /* entry record's seq ... */
    uint64_t stamp;         /* insertion order, for eviction */
    /*
     * The entry's task, for the parent's return: the same thread returns
     * (its stack is the key), so the exit need not read the guest again.
     */
    struct cloak_trace_task task;
    uint32_t vcpu;          /* ... in this vCPU's ring */
    uint8_t abi;
    bool has_task;          /* task is filled in */
    bool used;
    bool fork;              /* returns twice */
    bool parent_done;
    bool child_done;
} CloakPending;

typedef struct CloakPendingTable {
    CloakPending slots[CLOAK_PENDING_BUCKETS][CLOAK_PENDING_WAYS];
    CloakPending forks[CLOAK_PENDING_FORKS];
    uint64_t stamp;
    uint64_t evicted;       /* entries dropped unpaired */
} CloakPendingTable;

static inline unsigned cloak_pending_bucket(uint64_t cr3, uint64_t rsp)
{
    uint64_t h = (cr3 >> 12) * 0x9e3779b97f4a7c15ULL ^ (rsp >> 3);

    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    return (unsigned)(h >> 40) & (CLOAK_PENDING_BUCKETS - 1);
}

static inline bool cloak_pending_same_key(const CloakPending *e,
                                          uint64_t cr3, uint64_t rip,
                                          uint64_t rsp, bool restart_site)
{
    return e->used && e->cr3 == cr3 && e->rsp == rsp &&
           (e->rip == rip || (e->rip == 0 && !restart_site));
}

/*
 * Records an entry; a stale one with the same key is replaced.  Fills the
 * key and the bookkeeping and returns the slot: the caller fills nr, seq,
 * vcpu, abi, child_rsp and the task in place (building a CloakPending on
 * the stack and copying it cost a store-forwarding stall per system call).
 */
static inline CloakPending *cloak_pending_claim(CloakPendingTable *t,
                                                uint64_t cr3, uint64_t rip,
                                                uint64_t rsp, bool fork)
{
    CloakPending *set, *victim = NULL;
    unsigned i, n;

    if (fork) {
        set = t->forks;
        n = CLOAK_PENDING_FORKS;
    } else {
        set = t->slots[cloak_pending_bucket(cr3, rsp)];
        n = CLOAK_PENDING_WAYS;
    }
    for (i = 0; i < n && !victim; i++) {
        /*
         * Restarted, or never returned.  A fork whose parent has returned
         * still waits for its child: a second fork from the same place
         * (a fork loop) is a new entry.
         */
        if (set[i].used && set[i].cr3 == cr3 && set[i].rsp == rsp &&
            (set[i].rip == rip || set[i].rip == 0) &&
            !set[i].parent_done) {
            victim = &set[i];
        }
    }
    for (i = 0; i < n && !victim; i++) {
        if (!set[i].used) {
            victim = &set[i];
        }
    }
    if (!victim) {
        victim = &set[0];
        for (i = 1; i < n; i++) {
            if (set[i].stamp < victim->stamp) {
                victim = &set[i];
            }
        }
        t->evicted++;
    }
    victim->cr3 = cr3;
    victim->rip = rip;
    victim->rsp = rsp;
    victim->fork = fork;
    victim->used = true;
    victim->parent_done = victim->child_done = false;
    victim->stamp = ++t->stamp;
    return victim;
}

/* cloak_pending_claim() for an entry built elsewhere (the unit tests). */
static inline void cloak_pending_add(CloakPendingTable *t,
                                     const CloakPending *in)
{
    CloakPending *e = cloak_pending_claim(t, in->cr3, in->rip, in->rsp,
                                          in->fork);

    e->child_rsp = in->child_rsp;
    e->nr = in->nr;
    e->seq = in->seq;
    e->vcpu = in->vcpu;
    e->abi = in->abi;
    e->has_task = in->has_task;
    e->task = in->task;
}

/*
 * A return to user mode at (cr3, rip, rsp) with value ret: if it ends an
 * outstanding syscall, returns that entry, says whether this is the
 * child's return of a fork, and forgets the entry once it is complete.
 * The entry stays readable until the table is next changed.
 * restart_site: the return lands on an "int $0x80" in 32-bit code, where
 * Linux restarts a call made through the vDSO; RIP-0 entries stay.
 */
static inline const CloakPending *cloak_pending_take(CloakPendingTable *t,
                                                     uint64_t cr3,
                                                     uint64_t rip,
                                                     uint64_t rsp,
                                                     int64_t ret,
                                                     bool restart_site,
                                                     bool *child)
{
    CloakPending *set = t->slots[cloak_pending_bucket(cr3, rsp)];
    CloakPending *e = NULL;
    unsigned i;

    for (i = 0; i < CLOAK_PENDING_WAYS; i++) {
        if (cloak_pending_same_key(&set[i], cr3, rip, rsp, restart_site)) {
            *child = false;
            set[i].used = false;
            return &set[i];
        }
    }
    /*
     * Children of forks from one place look alike (their address spaces
     * are new); the oldest fork's child is the likeliest to run first.
     */
    for (i = 0; i < CLOAK_PENDING_FORKS; i++) {
        CloakPending *f = &t->forks[i];
        bool fits;

        if (!f->used || (f->rip != rip && (f->rip != 0 || restart_site))) {
            continue;
        }
        if (ret == 0) {
            fits = !f->child_done &&
                   (rsp == f->rsp || (f->child_rsp && rsp == f->child_rsp));
        } else {
            fits = !f->parent_done && f->cr3 == cr3 && rsp == f->rsp;
        }
        if (fits && (!e || f->stamp < e->stamp)) {
            e = f;
        }
    }
    if (!e) {
        return NULL;
    }
    if (ret == 0) {
        e->child_done = true;
        *child = true;
    } else {
        e->parent_done = true;
        *child = false;
        if (ret < 0) {
            e->child_done = true;   /* it failed: there is no child */
        }
    }
    if (e->parent_done && e->child_done) {
        e->used = false;
    }
    return e;
}

/* cloak_pending_take() that copies the entry to *out (the unit tests). */
static inline bool cloak_pending_match(CloakPendingTable *t, uint64_t cr3,
                                       uint64_t rip, uint64_t rsp,
                                       int64_t ret, bool restart_site,
                                       CloakPending *out, bool *child)
{
    const CloakPending *e = cloak_pending_take(t, cr3, rip, rsp, ret,
                                               restart_site, child);

    if (e) {
        *out = *e;
    }
    return e != NULL;
}

#endif /* CLOAK_SYSCALL_PENDING_H */
