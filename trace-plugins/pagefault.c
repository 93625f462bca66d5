/*
 * cloak-trace event source: page faults (#PF), with CR2, the error code,
 * the faulting RIP and CR3; from do_interrupt_all before delivery under
 * TCG, from the #PF handler breakpoint under KVM (kvm-debug.c); with the
 * guest task and the bytes of the faulting instruction.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "cpu.h"
#include "trace-plugins/cloak-trace-hooks.h"

#define PF_INSN_FETCH (1u << 4)

/*
 * Copies up to 16 bytes at rip, a page at a time, as far as they can be
 * read through the guest's page tables; an instruction fetch that faulted
 * inside them stops there.  Returns how many.
 */
static uint8_t read_insn(CPUState *cs, uint64_t rip, uint64_t cr2,
                         uint32_t error_code, uint8_t *insn)
{
    uint64_t end = rip + 16;
    uint8_t len = 0;

    if ((error_code & PF_INSN_FETCH) && cr2 >= rip && cr2 < end) {
        end = cr2;
    }
    while (rip + len < end) {
        uint64_t at = rip + len;
        uint32_t chunk = MIN(end - at,
                             TARGET_PAGE_SIZE - (at & ~TARGET_PAGE_MASK));

        if (cpu_memory_rw_debug(cs, at, insn + len, chunk, false) != 0) {
            break;
        }
        len += chunk;
    }
    return len;
}

void cloak_trace_emit_page_fault(CPUX86State *env, uint64_t cr2, uint64_t cr3,
                                 uint64_t rip, uint32_t error_code,
                                 uint8_t cpl, bool code32)
{
    CPUState *cs = env_cpu(env);
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
    if (cloak_trace_guest_task(env, &f->task)) {
        f->hdr.flags |= CLOAK_TRACE_RF_TASK;
    } else {
        memset(&f->task, 0, sizeof(f->task));
    }
    memset(f->pad2, 0, sizeof(f->pad2));
    memset(f->insn, 0, sizeof(f->insn));
    f->insn_len = read_insn(cs, rip, cr2, error_code, f->insn);
    if (code32) {
        f->hdr.flags |= CLOAK_TRACE_RF_CODE32;
    }
    cloak_trace_commit(cs, &f->hdr, sizeof(*f));
}

/* TCG: do_interrupt_all, before delivery; CR2 is already set. */
void cloak_trace_page_fault(CPUX86State *env, int error_code)
{
    cloak_trace_emit_page_fault(env, env->cr[2], env->cr[3],
                                env->segs[R_CS].base + env->eip, error_code,
                                env->hflags & HF_CPL_MASK,
                                !(env->hflags & HF_CS64_MASK));
}
