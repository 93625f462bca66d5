/*
 * cloak-trace under KVM: the two calls target/i386/kvm/kvm.c makes into
 * kvm-debug.c (see there).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef CLOAK_TRACE_KVM_DEBUG_H
#define CLOAK_TRACE_KVM_DEBUG_H

#include <linux/kvm.h>

/* Adds our breakpoints to dbg, after the gdbstub's (it has priority). */
void cloak_trace_kvm_update_guest_debug(CPUState *cs,
                                        struct kvm_guest_debug *dbg,
                                        int gdb_hw_breakpoints);
/* A KVM_EXIT_DEBUG: true if it was our breakpoint and is handled. */
bool cloak_trace_kvm_debug_exit(CPUState *cs,
                                const struct kvm_debug_exit_arch *arch);

#endif
