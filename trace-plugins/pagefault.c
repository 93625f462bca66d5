/*
 * cloak-trace event source: page faults (#PF), from do_interrupt_all
 * before delivery, with CR2, the error code, the faulting RIP and CR3.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "cpu.h"
#include "trace-plugins/cloak-trace-hooks.h"

void cloak_trace_page_fault(CPUX86State *env, int error_code)
{
    CPUState *cs = env_cpu(env);
    struct cloak_trace_page_fault *f;

    f = (void *)cloak_trace_begin(cs, CLOAK_TRACE_REC_PAGE_FAULT, sizeof(*f));
    if (!f) {
        return;
    }
    f->cr2 = env->cr[2];
    f->cr3 = env->cr[3];
    f->rip = env->segs[R_CS].base + env->eip;
    f->error_code = error_code;
    f->cpl = env->hflags & HF_CPL_MASK;
    memset(f->pad, 0, sizeof(f->pad));
    cloak_trace_commit(cs, &f->hdr, sizeof(*f));
}
