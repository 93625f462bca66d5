/*
 * qemu-cloak: the profile's caches in CPUID.
 *
 * QEMU's legacy cache descriptors (qemu64 and the named models without
 * cache information) claim a 4 MiB L2 per core and a 16 MiB L3, which no
 * part of the profiles has and which contradicts SMBIOS type 7.  The
 * profile's [cpu] cache-l1/l2/l3 sizes (KiB per core) and ways describe
 * the real part; CPUID then reports the same sizes SMBIOS does.
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/units.h"
#include "qemu/error-report.h"
#include "hw/boards.h"
#include "cpu.h"
#include "hw/cloak/cloak.h"
#include "hw/cloak/cloak-internal.h"
#include "hw/cloak/cloak-x86.h"

#define CACHE_LINE 64

static uint64_t cpu_u64(const char *key)
{
    uint64_t v = 0;

    cloak_profile_get_u64(cloak.profile, "cpu", key, &v);
    return v;
}

/*
 * One level: @kib in total (for this socket), @ways ways, 64-byte lines.
 * False when CPUID cannot describe it: no whole number of sets, fewer
 * sets than ways, or an L3 that is not a multiple of 512 KiB (AMD's
 * CPUID 0x80000006 counts it in those units).
 */
static bool fill(CPUCacheInfo *c, enum CacheType type, uint8_t level,
                 uint64_t kib, uint64_t ways, CpuTopologyLevel share)
{
    uint64_t bytes = kib * KiB;

    if (!kib || !ways || bytes > UINT32_MAX ||
        bytes % (CACHE_LINE * ways) || bytes / (CACHE_LINE * ways) <= ways ||
        (level == 3 && bytes % (512 * KiB))) {
        return false;
    }
    *c = (CPUCacheInfo) {
        .type = type,
        .level = level,
        .size = bytes,
        .line_size = CACHE_LINE,
        .associativity = ways,
        .partitions = 1,
        .sets = bytes / (CACHE_LINE * ways),
        .lines_per_tag = 1,
        .self_init = true,
        .no_invd_sharing = level < 3,
        .inclusive = level == 3,
        .complex_indexing = level == 3,
        .share_level = share,
    };
    return true;
}

void cloak_x86_cpu_caches(X86CPU *cpu)
{
    static CPUCacheInfo l1d, l1i, l2, l3;
    static bool built, usable;
    CPUX86State *env = &cpu->env;

    if (!cloak_is_enabled() || cloak.cpu_passthrough || !cpu->legacy_cache ||
        cpu->cache_info_passthrough) {
        return;
    }
    if (!built) {
        MachineState *ms = MACHINE(qdev_get_machine());
        uint64_t cores = machine_topo_get_cores_per_socket(ms);
        uint64_t l1 = cpu_u64("cache-l1"), l1d_kib = cpu_u64("cache-l1d");

        built = true;
        usable = l1d_kib && l1d_kib < l1 &&
            fill(&l1d, DATA_CACHE, 1, l1d_kib, cpu_u64("cache-l1d-ways"),
                 CPU_TOPOLOGY_LEVEL_CORE) &&
            fill(&l1i, INSTRUCTION_CACHE, 1, l1 - l1d_kib,
                 cpu_u64("cache-l1i-ways"), CPU_TOPOLOGY_LEVEL_CORE) &&
            fill(&l2, UNIFIED_CACHE, 2, cpu_u64("cache-l2"),
                 cpu_u64("cache-l2-ways"), CPU_TOPOLOGY_LEVEL_CORE) &&
            fill(&l3, UNIFIED_CACHE, 3, cpu_u64("cache-l3") * cores,
                 cpu_u64("cache-l3-ways"), CPU_TOPOLOGY_LEVEL_SOCKET);
        if (!usable && cloak_profile_get(cloak.profile, "cpu",
                                         "cache-l1d")) {
            warn_report("-cloak: profile %s: CPUID cannot describe its [cpu] "
                        "cache sizes and ways (64-byte lines, whole sets, an "
                        "L3 in 512 KiB units); CPUID keeps QEMU's caches",
                        cloak_profile_name(cloak.profile));
        }
    }
    if (!usable) {
        return;
    }
    env->cache_info_cpuid2.l1d_cache = env->cache_info_cpuid4.l1d_cache =
        env->cache_info_amd.l1d_cache = &l1d;
    env->cache_info_cpuid2.l1i_cache = env->cache_info_cpuid4.l1i_cache =
        env->cache_info_amd.l1i_cache = &l1i;
    env->cache_info_cpuid2.l2_cache = env->cache_info_cpuid4.l2_cache =
        env->cache_info_amd.l2_cache = &l2;
    env->cache_info_cpuid2.l3_cache = env->cache_info_cpuid4.l3_cache =
        env->cache_info_amd.l3_cache = &l3;
}
