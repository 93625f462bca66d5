/*
 * cloak-trace producer API for event sources (syscall.c, pagefault.c, ...).
 *
 * The QOM object (cloak-trace.c) owns the shared-memory file and one ring
 * per vCPU; an event source asks for room in the calling vCPU's ring with
 * cloak_trace_begin(), fills the record in place, and publishes it with
 * cloak_trace_commit().  Both run on the vCPU's own thread.
 */
#ifndef CLOAK_TRACE_H
#define CLOAK_TRACE_H

#include "qemu/atomic.h"
#include "qemu/timer.h"
#include "hw/core/cpu.h"
#include "trace-plugins/cloak-trace-abi.h"
#include "trace-plugins/ring.h"

#define TYPE_CLOAK_TRACE "cloak-trace"

/*
 * CLOAK_TRACE_EV_* families being captured right now; 0 when tracing is
 * off, so a hook costs one load and a branch.
 */
extern uint32_t cloak_trace_active;
/* Read path arguments from guest memory (paths=on). */
extern bool cloak_trace_paths;

typedef struct CloakOsProfile CloakOsProfile;
/* The guest kernel's profile (os-profile=FILE), or NULL. */
extern const CloakOsProfile *cloak_trace_os_profile;
/* CLOAK_TRACE_ATTR_*: whether events name the guest task. */
extern uint32_t cloak_trace_attribution;
/*
 * Moves attribution to state (ON or REFUSED) and records it in the file's
 * header, with the kernel the guest was found running (may be NULL).
 */
void cloak_trace_set_attribution(uint32_t state, const char *guest_kernel);

/*
 * Bumped whenever kernel entries may go unseen (tracing paused or resumed,
 * the VM stopped: a snapshot may be loaded before it runs again): what an
 * event source remembers of a vCPU from before is stale.
 */
extern uint64_t cloak_trace_epoch;

static inline bool cloak_trace_on(uint32_t family)
{
    return unlikely(qatomic_read(&cloak_trace_active) & family);
}

/*
 * Timestamps are CLOCK_MONOTONIC nanoseconds.  Where the host TSC is
 * constant and non-stop they are computed from it (a clock_gettime() per
 * record costs several times more), calibrated against CLOCK_MONOTONIC
 * when the object is created.  Inline: every system call reads it twice.
 */
typedef struct CloakTraceClock {
    bool use_tsc;
    uint64_t tsc_base;
    uint64_t mono_base;
    uint64_t mult;              /* ns per tick, 32.32 fixed point */
} CloakTraceClock;
extern CloakTraceClock cloak_trace_clock;

/* Now, as the records' timestamps count it. */
static inline uint64_t cloak_trace_clock_ns(void)
{
    if (likely(cloak_trace_clock.use_tsc)) {
        int64_t ticks = cpu_get_host_ticks() - cloak_trace_clock.tsc_base;

        /* A core whose TSC trails the calibrating one by a few ticks. */
        ticks = MAX(ticks, 0);
        return cloak_trace_clock.mono_base +
               (uint64_t)(((unsigned __int128)ticks *
                           cloak_trace_clock.mult) >> 32);
    }
    return get_clock();
}

/*
 * A source may hold a begun record unpublished while it may still grow
 * (a system call whose return may follow at once): release() must then
 * publish it.  Any record begun on any vCPU, a VM stop, QEMU's exit and a
 * timer (within two ticks of 10 ms: the vCPU may be idle) call release()
 * first, so the file's order stays the order of events.  Only where one
 * thread runs every vCPU: release() runs in that thread or with the vCPUs
 * stopped.
 */
typedef struct CloakTraceHeld {
    void (*release)(void);      /* the holder's; NULL when none is held */
    CPUState *cpu;              /* the vCPU whose ring holds it */
    uint64_t gen;               /* odd while held, bumped at each change */
} CloakTraceHeld;
/*
 * release and cpu belong to the thread that runs the vCPUs; the timer in
 * the main loop reads only gen and, when it has not moved for a tick,
 * cpu.  Inline: hold and unhold run at nearly every system call.
 */
extern CloakTraceHeld cloak_trace_held;

static inline void cloak_trace_hold(CPUState *cs, void (*release)(void))
{
    cloak_trace_held.release = release;
    qatomic_set(&cloak_trace_held.cpu, cs);
    qatomic_set(&cloak_trace_held.gen, cloak_trace_held.gen + 1);
}

/* The holder published the record itself. */
static inline void cloak_trace_unhold(void)
{
    cloak_trace_held.release = NULL;
    qatomic_set(&cloak_trace_held.gen, cloak_trace_held.gen + 1);
}
/* Publishes the held record, if any (release() of its holder). */
void cloak_trace_release_held(void);

/*
 * The vCPUs' rings, ring i for the vCPU whose cpu_index is i, and how
 * many there are (0 until the object is complete).  The producer API
 * below is inline: it runs at every event.
 */
extern CloakRingProducer *cloak_trace_rings;
extern uint32_t cloak_trace_nr_rings;

/*
 * Room for a record of up to max_len bytes (multiple of 8) in cs's ring,
 * header filled in; NULL if the event was dropped (and counted) or cs has
 * no ring.
 */
static inline struct cloak_trace_rec *cloak_trace_begin(CPUState *cs,
                                                        uint16_t type,
                                                        uint32_t max_len)
{
    CloakRingProducer *p;

    if (unlikely(cloak_trace_held.release)) {
        cloak_trace_release_held();
    }
    if (unlikely((unsigned)cs->cpu_index >=
                 qatomic_load_acquire(&cloak_trace_nr_rings))) {
        return NULL;
    }
    p = &cloak_trace_rings[cs->cpu_index];
    p->give_up_opaque = cs;
    return cloak_ring_begin(p, type, max_len, cloak_trace_clock_ns());
}

/* Publishes the record; len <= max_len is its final size. */
static inline void cloak_trace_commit(CPUState *cs, struct cloak_trace_rec *r,
                                      uint32_t len)
{
    cloak_ring_commit(&cloak_trace_rings[cs->cpu_index], r, len);
}

/*
 * Publishes an entry that carries its return (CLOAK_TRACE_RF_RETURNED,
 * cloak-trace-abi.h), which counts as two events.
 */
static inline void cloak_trace_commit_returned(CPUState *cs,
                                               struct cloak_trace_rec *r,
                                               uint32_t len)
{
    cloak_ring_commit_returned(&cloak_trace_rings[cs->cpu_index], r, len);
}

/*
 * The target's KVM back end (kvm-debug.c) registers how to start tracing
 * under KVM: check what the host can do (Error if it cannot) and set up.
 */
typedef bool (*CloakTraceKvmStart)(uint32_t events, Error **errp);
void cloak_trace_register_kvm(CloakTraceKvmStart start);

#endif /* CLOAK_TRACE_H */
