/*
 * cloak-trace under KVM, without kernel patches: hardware breakpoints
 * (KVM_SET_GUEST_DEBUG) on the 64-bit SYSCALL entry (MSR_LSTAR) and on the
 * guest's #PF handler (IDT vector 14).  Each hit is a KVM_EXIT_DEBUG that
 * we handle on the vCPU thread before QEMU's gdbstub path: read the
 * registers, emit the event, then step over the breakpointed instruction
 * with that slot disarmed (KVM_GUESTDBG_SINGLESTEP) and re-arm it.
 *
 * - The targets are derived from guest state (kvm-debug-targets.h) and
 *   re-derived every REFRESH_MS, so a guest that sets or moves LSTAR or
 *   its IDT is followed; events in that window are missed.
 * - Only syscall entries and page faults: returns would need a breakpoint
 *   on the kernel's exit path or the user return address (see
 *   docs/trace.md).
 * - While armed, KVM keeps the guest's own DR0-3 writes but does not load
 *   them: guest hardware breakpoints do not fire.  We warn once when the
 *   guest enables any.  The gdbstub takes precedence: while it uses
 *   breakpoints or single-steps, tracing is suspended.
 * - A guest CPU with FRED enters the kernel without LSTAR or the IDT:
 *   refused at start-up.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/rcu.h"
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "cpu.h"
#include "exec/cpu-common.h"
#include "hw/boards.h"
#include "system/hw_accel.h"
#include "system/kvm.h"
#include "system/system.h"
#include <linux/kvm.h>

#include "trace-plugins/cloak-trace-hooks.h"
#include "trace-plugins/kvm-debug.h"
#include "trace-plugins/kvm-debug-targets.h"

#define REFRESH_MS 200

typedef struct CloakKvmVcpu {
    CloakKvmTargets targets;
    bool armed[CLOAK_KVM_SLOTS];
    int stepping;               /* slot being stepped over, or -1 */
    bool applied;               /* our breakpoints are in KVM */
} CloakKvmVcpu;

static CloakKvmVcpu *kvm_vcpus;
static unsigned kvm_nr_vcpus;
static uint32_t kvm_events;
static bool kvm_blockirq;
static QEMUTimer *refresh_timer;
static Notifier machine_done;

static CloakKvmVcpu *vcpu_state(CPUState *cs)
{
    if (!kvm_vcpus || cs->cpu_index < 0 ||
        (unsigned)cs->cpu_index >= kvm_nr_vcpus) {
        return NULL;
    }
    return &kvm_vcpus[cs->cpu_index];
}

void cloak_trace_kvm_update_guest_debug(CPUState *cs,
                                        struct kvm_guest_debug *dbg,
                                        int gdb_hw_breakpoints)
{
    CloakKvmVcpu *v = vcpu_state(cs);
    bool on[CLOAK_KVM_SLOTS];
    int n;

    if (!v) {
        return;
    }
    memset(v->armed, 0, sizeof(v->armed));
    v->applied = false;
    if (!qatomic_read(&cloak_trace_active)) {
        return;
    }
    if (gdb_hw_breakpoints > 0 || cs->singlestep_enabled ||
        kvm_sw_breakpoints_active(cs)) {
        warn_report_once("cloak-trace: the gdbstub is using breakpoints or "
                         "single-step; KVM tracing is suspended meanwhile");
        return;
    }
    for (n = 0; n < CLOAK_KVM_SLOTS; n++) {
        on[n] = v->targets.valid[n] && n != v->stepping;
        dbg->arch.debugreg[n] = on[n] ? v->targets.addr[n] : 0;
        v->armed[n] = on[n];
    }
    dbg->arch.debugreg[7] = cloak_kvm_dr7(on);
    dbg->control |= KVM_GUESTDBG_ENABLE | KVM_GUESTDBG_USE_HW_BP;
    if (v->stepping >= 0) {
        dbg->control |= KVM_GUESTDBG_SINGLESTEP |
                        (kvm_blockirq ? KVM_GUESTDBG_BLOCKIRQ : 0);
    }
    v->applied = true;
}

/* On the vCPU thread: re-derive the targets, push them if they changed. */
static void refresh_on_cpu(CPUState *cs, run_on_cpu_data unused)
{
    CPUX86State *env = &X86_CPU(cs)->env;
    CloakKvmVcpu *v = vcpu_state(cs);
    CloakKvmTargets t;
    uint8_t gate[16];
    bool have_gate, active = qatomic_read(&cloak_trace_active);

    if (!v || v->stepping >= 0) {
        return;
    }
    cpu_synchronize_state(cs);
    have_gate = env->idt.limit >= CLOAK_KVM_PF_VECTOR * 16 + 15 &&
        cpu_memory_rw_debug(cs, env->idt.base + CLOAK_KVM_PF_VECTOR * 16,
                            gate, sizeof(gate), false) == 0;
    cloak_kvm_derive(&t, env->hflags & HF_LMA_MASK, env->efer & MSR_EFER_SCE,
                     env->lstar, env->idt.limit, have_gate ? gate : NULL,
                     kvm_events & CLOAK_TRACE_EV_SYSCALL,
                     kvm_events & CLOAK_TRACE_EV_PAGEFAULT);
    if (env->dr[7] & 0xff) {
        warn_report_once("cloak-trace: the guest enabled its own hardware "
                         "breakpoints (DR7=0x%" PRIx64 "); they do not fire "
                         "while cloak-trace holds the debug registers",
                         (uint64_t)env->dr[7]);
    }
    if (memcmp(&t, &v->targets, sizeof(t)) || active != v->applied) {
        v->targets = t;
        kvm_update_guest_debug(cs, 0);
    }
}

static void refresh_all(void *opaque)
{
    CPUState *cs;

    CPU_FOREACH(cs) {
        async_run_on_cpu(cs, refresh_on_cpu, RUN_ON_CPU_NULL);
    }
    timer_mod(refresh_timer,
              qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + REFRESH_MS);
}

static void emit(CPUState *cs, int slot)
{
    CPUX86State *env = &X86_CPU(cs)->env;

    /* The producer reads guest RAM through host pointers, as TCG does. */
    RCU_READ_LOCK_GUARD();

    if (slot == CLOAK_KVM_SLOT_SYSCALL) {
        /* First instruction of the LSTAR handler: RCX = return RIP. */
        uint64_t rcx = env->regs[R_ECX];

        if (cloak_trace_on(CLOAK_TRACE_EV_SYSCALL)) {
            cloak_trace_syscall_enter(env, rcx - 2, rcx,
                                      CLOAK_TRACE_ENTRY_SYSCALL64);
        }
    } else if (cloak_trace_on(CLOAK_TRACE_EV_PAGEFAULT)) {
        /* First instruction of the #PF handler: the CPU's frame at RSP. */
        uint64_t frame[6];
        CloakKvmPfFrame f;

        if (cpu_memory_rw_debug(cs, env->regs[R_ESP], frame, sizeof(frame),
                                false) != 0) {
            return;
        }
        f = cloak_kvm_pf_frame(frame);
        cloak_trace_emit_page_fault(env, env->cr[2], env->cr[3], f.rip,
                                    f.error_code, f.cpl, false);
    }
}

bool cloak_trace_kvm_debug_exit(CPUState *cs,
                                const struct kvm_debug_exit_arch *arch)
{
    CloakKvmVcpu *v = vcpu_state(cs);
    int slot;

    if (!v || arch->exception != EXCP01_DB) {
        return false;
    }
    if (v->stepping >= 0 && (arch->dr6 & CLOAK_KVM_DR6_BS)) {
        /* Stepped past the breakpointed instruction: re-arm. */
        v->stepping = -1;
        kvm_update_guest_debug(cs, 0);
        return true;
    }
    slot = cloak_kvm_hit_slot(arch->dr6, v->armed);
    if (slot < 0 || arch->pc != v->targets.addr[slot]) {
        return false;       /* not ours: QEMU's usual handling */
    }
    cpu_synchronize_state(cs);
    emit(cs, slot);
    /*
     * Setting RFLAGS.RF did not step past a host-owned breakpoint on the
     * KVM measured here, so disarm the slot for one single-step instead.
     */
    v->stepping = slot;
    kvm_update_guest_debug(cs, 0);
    return true;
}

static void cloak_trace_kvm_machine_done(Notifier *n, void *opaque)
{
    CPUState *cs = first_cpu;

    if (cs && (X86_CPU(cs)->env.features[FEAT_7_1_EAX] &
               CPUID_7_1_EAX_FRED)) {
        error_report("cloak-trace: the guest CPU has FRED, which enters the "
                     "kernel without LSTAR or the IDT, so KVM tracing cannot "
                     "see its syscalls and page faults; add ',-fred' to "
                     "-cpu or use -accel tcg");
        exit(1);
    }
    refresh_timer = timer_new_ms(QEMU_CLOCK_REALTIME, refresh_all, NULL);
    refresh_all(NULL);
}

static bool cloak_trace_kvm_start(uint32_t events, Error **errp)
{
    unsigned i;

    if (kvm_check_extension(kvm_state, KVM_CAP_SET_GUEST_DEBUG) <= 0) {
        error_setg(errp, "cloak-trace: this KVM cannot set guest debug "
                   "registers (no KVM_CAP_SET_GUEST_DEBUG); tracing under "
                   "KVM needs it, or use -accel tcg");
        return false;
    }
    kvm_blockirq = kvm_check_extension(kvm_state, KVM_CAP_SET_GUEST_DEBUG2) &
                   KVM_GUESTDBG_BLOCKIRQ;
    kvm_nr_vcpus = current_machine->smp.max_cpus;
    kvm_vcpus = g_new0(CloakKvmVcpu, kvm_nr_vcpus);
    for (i = 0; i < kvm_nr_vcpus; i++) {
        kvm_vcpus[i].stepping = -1;
    }
    kvm_events = events;
    machine_done.notify = cloak_trace_kvm_machine_done;
    qemu_add_machine_init_done_notifier(&machine_done);
    return true;
}

static void cloak_trace_kvm_register(void)
{
    cloak_trace_register_kvm(cloak_trace_kvm_start);
}

type_init(cloak_trace_kvm_register);
