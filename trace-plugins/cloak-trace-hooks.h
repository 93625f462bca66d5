/*
 * cloak-trace hooks called from the i386 TCG helpers (seg_helper.c).
 *
 * Each hook is inline and costs one load and a branch while tracing is
 * off; the work happens out of line in the event source of its family:
 * syscall.c (SYSCALL, SYSENTER, INT 0x80, SYSRET, SYSEXIT, IRET) and
 * pagefault.c (#PF).  A new family is a new file and a new hook here.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CLOAK_TRACE_HOOKS_H
#define CLOAK_TRACE_HOOKS_H

#include "trace-plugins/cloak-trace.h"

#ifdef CONFIG_USER_ONLY
/* Tracing is a system-emulation feature: user-mode builds compile it out. */
#define cloak_trace_hook_syscall(env, next_eip_addend) do { } while (0)
#define cloak_trace_hook_sysenter(env) do { } while (0)
#define cloak_trace_hook_interrupt(env, intno, is_int, error_code, next_eip) \
    do { } while (0)
#define cloak_trace_hook_return(env, exit) do { } while (0)
#else

/* syscall.c: insn_eip is the syscall instruction, ret_eip where it returns */
void cloak_trace_syscall_enter(CPUX86State *env, target_ulong insn_eip,
                               target_ulong ret_eip, int entry);
void cloak_trace_syscall_return(CPUX86State *env, int exit);
/* Any kernel entry but a system call's: interrupts and exceptions. */
void cloak_trace_syscall_kernel_entry(CPUX86State *env);
/*
 * guest-task.c: fills t with the task current on env's vCPU, if an OS
 * profile is given and the guest runs its kernel.  Call inside an RCU
 * read-side section (TCG helpers are).
 */
bool cloak_trace_guest_task(CPUX86State *env, struct cloak_trace_task *t);
/*
 * The task the vCPU's last cloak_trace_guest_task() found, if its thread
 * id is tid, with its comm read again: for a caller that knows the vCPU
 * has run no kernel code since.  false if it cannot tell.
 */
bool cloak_trace_guest_task_again(CPUX86State *env, uint32_t tid,
                                  struct cloak_trace_task *t);
/* pagefault.c */
void cloak_trace_page_fault(CPUX86State *env, int error_code);
void cloak_trace_emit_page_fault(CPUX86State *env, uint64_t cr2, uint64_t cr3,
                                 uint64_t rip, uint32_t error_code,
                                 uint8_t cpl, bool code32);

/* helper_syscall, after the EFER.SCE check, before any state changes. */
static inline void cloak_trace_hook_syscall(CPUX86State *env,
                                            int next_eip_addend)
{
    if (cloak_trace_on(CLOAK_TRACE_EV_SYSCALL)) {
        cloak_trace_syscall_enter(env, env->eip, env->eip + next_eip_addend,
                                  (env->hflags & HF_CS64_MASK) ?
                                  CLOAK_TRACE_ENTRY_SYSCALL64 :
                                  CLOAK_TRACE_ENTRY_SYSCALL32);
    }
}

/* helper_sysenter, after the SYSENTER_CS check, before any state changes. */
static inline void cloak_trace_hook_sysenter(CPUX86State *env)
{
    if (cloak_trace_on(CLOAK_TRACE_EV_SYSCALL)) {
        cloak_trace_syscall_enter(env, env->eip, 0,
                                  CLOAK_TRACE_ENTRY_SYSENTER);
    }
}

/* do_interrupt_all, before delivery: INT 0x80 and #PF. */
static inline void cloak_trace_hook_interrupt(CPUX86State *env, int intno,
                                              int is_int, int error_code,
                                              target_ulong next_eip)
{
    if (likely(!qatomic_read(&cloak_trace_active))) {
        return;
    }
    cloak_trace_syscall_kernel_entry(env);
    if (intno == EXCP0E_PAGE && !is_int) {
        if (cloak_trace_on(CLOAK_TRACE_EV_PAGEFAULT)) {
            cloak_trace_page_fault(env, error_code);
        }
    } else if (intno == 0x80 && is_int) {
        if (cloak_trace_on(CLOAK_TRACE_EV_SYSCALL)) {
            cloak_trace_syscall_enter(env, env->eip, next_eip,
                                      CLOAK_TRACE_ENTRY_INT80);
        }
    }
}

/* End of SYSRET, SYSEXIT and IRET: a return to CPL 3 may end a syscall. */
static inline void cloak_trace_hook_return(CPUX86State *env, int exit)
{
    if (cloak_trace_on(CLOAK_TRACE_EV_SYSCALL) &&
        (env->hflags & HF_CPL_MASK) == 3) {
        cloak_trace_syscall_return(env, exit);
    }
}

#endif /* CONFIG_USER_ONLY */
#endif /* CLOAK_TRACE_HOOKS_H */
