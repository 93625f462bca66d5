/*
 * qemu-cloak: the parts of the cloak that need the x86 CPU's own types
 * (compiled per target; QEMU's target/i386 calls these).
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_CLOAK_X86_H
#define HW_CLOAK_X86_H

#include "cpu.h"

/*
 * target/i386/cpu.c, at realize: describes the profile's caches in CPUID
 * leaves 2, 4 and 0x80000005/6 in place of QEMU's legacy ones, so that
 * they agree with SMBIOS type 7.  Leaves a CPU model's own cache
 * information, -cpu host-cache-info=on and -cloak off alone.
 */
void cloak_x86_cpu_caches(X86CPU *cpu);

#endif
