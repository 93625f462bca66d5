/*
 * cloak-trace event source: page faults (#PF), with CR2, the error code,
 * the faulting RIP and CR3; from do_interrupt_all before delivery under
 * TCG, from the #PF handler breakpoint under KVM (kvm-debug.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "cpu.h"
#include "trace-plugins/cloak-trace-hooks.h"

void cloak_trace_emit_page_fault(CPUState *cs, uint64_t cr2, uint64_t cr3,
                                 uint64_t rip, uint32_t error_code,
                                 uint8_t cpl)
{
    struct cloak_trace_page_fault *f;

    f = (void *)cloak_trace_begin(cs, CLOAK_TRACE_REC_PAGE_FAULT, sizeof(*f));
    if (!f) {
        return;
    }
    f->cr2 = cr2;
    f->cr3 = cr3;
    f->rip = rip;
    f->error_code = error_code;
    f->cpl = cpl;
    memset(f->pad, 0, sizeof(f->pad));
    cloak_trace_commit(cs, &f->hdr, sizeof(*f));
}

/* TCG: do_interrupt_all, before delivery; CR2 is already set. */
void cloak_trace_page_fault(CPUX86State *env, int error_code)
{
    cloak_trace_emit_page_fault(env_cpu(env), env->cr[2], env->cr[3],
                                env->segs[R_CS].base + env->eip, error_code,
                                env->hflags & HF_CPL_MASK);
}
