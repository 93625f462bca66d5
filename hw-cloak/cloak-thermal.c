/*
 * qemu-cloak: a thermal sensor that follows the guest's CPU load
 *
 * The profile's ACPI thermal zone reads its temperature from here (see
 * include/hw/cloak/cloak-thermal.h).  Load is the share of time the
 * vCPU threads were runnable (on a CPU or waiting for one, from
 * /proc/self/task/<tid>/schedstat): a halted vCPU sleeps, a busy one is
 * runnable whether or not the host gives it a core, so the figure is the
 * guest's own load.  It is smoothed like a heat sink (time constant
 * THERMAL_TAU_S) and mapped into the profile's thermal-low..thermal-high
 * range, with a slow drift and a little sensor noise on top.
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include <math.h>
#include "qemu/timer.h"
#include "qemu/guest-random.h"
#include "exec/address-spaces.h"
#include "exec/memory.h"
#include "hw/core/cpu.h"
#include "hw/cloak/cloak.h"
#include "hw/cloak/cloak-profile.h"
#include "hw/cloak/cloak-thermal.h"

#define THERMAL_TAU_S       10.0    /* seconds to 63% of a load step */
#define THERMAL_DRIFT_MS    107000  /* period of the slow drift */
#define THERMAL_TICK_MS     1000

typedef struct {
    MemoryRegion io;
    QEMUTimer *timer;
    uint8_t index;
    int latched_dk;         /* the sample whose high byte was read last */
    int low_c, high_c;
    double load;            /* smoothed, 0..1 */
    int64_t last_wall_ns;
    int64_t last_busy_ns;   /* summed over the vCPU threads */
} CloakThermal;

static CloakThermal *thermal;

/* Tenths of a kelvin for @load (0..1) at @vclock_ms, plus @jitter. */
static int deci_kelvin(int low_c, int high_c, double load,
                       int64_t vclock_ms, int jitter)
{
    double phase = (double)(vclock_ms % THERMAL_DRIFT_MS) / THERMAL_DRIFT_MS;
    double drift = phase < 0.5 ? 2 * phase : 2 - 2 * phase;
    double span = (high_c - low_c) * 10.0;
    double dk;

    load = MIN(MAX(load, 0.0), 1.0);
    /* load moves three quarters of the range, the drift one quarter */
    dk = 2732 + low_c * 10.0 + span * (0.75 * load + 0.25 * drift) + jitter;
    return MIN(MAX((int)(dk + 0.5), 2732 + low_c * 10 - 2),
               2732 + high_c * 10 + 2);
}

/* Runnable nanoseconds of one thread, or -1 when /proc cannot say. */
static int64_t thread_runnable_ns(int tid)
{
    g_autofree char *path = g_strdup_printf("/proc/self/task/%d/schedstat",
                                            tid);
    g_autofree char *text = NULL;
    unsigned long long on_cpu, waiting;

    if (!g_file_get_contents(path, &text, NULL, NULL) ||
        sscanf(text, "%llu %llu", &on_cpu, &waiting) != 2) {
        return -1;
    }
    return on_cpu + waiting;
}

/* Summed over the vCPU threads (several vCPUs may share one). */
static int64_t vcpus_runnable_ns(unsigned *threads)
{
    g_autoptr(GHashTable) seen = g_hash_table_new(NULL, NULL);
    int64_t sum = 0;
    CPUState *cpu;

    CPU_FOREACH(cpu) {
        int64_t ns;

        if (cpu->thread_id <= 0 ||
            !g_hash_table_add(seen, GINT_TO_POINTER(cpu->thread_id))) {
            continue;
        }
        ns = thread_runnable_ns(cpu->thread_id);
        if (ns < 0) {
            return -1;
        }
        sum += ns;
    }
    *threads = g_hash_table_size(seen);
    return sum;
}

static void thermal_tick(void *opaque)
{
    CloakThermal *t = opaque;
    int64_t wall = qemu_clock_get_ns(QEMU_CLOCK_REALTIME);
    unsigned threads = 0;
    int64_t busy = vcpus_runnable_ns(&threads);

    if (busy >= 0 && threads && t->last_wall_ns && wall > t->last_wall_ns) {
        double dt = wall - t->last_wall_ns;
        double now = (busy - t->last_busy_ns) / dt / threads;

        now = MIN(MAX(now, 0.0), 1.0);
        t->load += (now - t->load) *
                   (1.0 - exp(-dt / (THERMAL_TAU_S * NANOSECONDS_PER_SECOND)));
    }
    t->last_wall_ns = wall;
    t->last_busy_ns = busy;
    timer_mod(t->timer,
              qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL) + THERMAL_TICK_MS);
}

static int thermal_now(CloakThermal *t)
{
    uint8_t noise = 0;

    qemu_guest_getrandom_nofail(&noise, 1);
    return deci_kelvin(t->low_c, t->high_c, t->load,
                       qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL), noise % 5 - 2);
}

static uint64_t thermal_read(void *opaque, hwaddr addr, unsigned size)
{
    CloakThermal *t = opaque;
    int dk;

    if (addr == 0) {
        return t->index;
    }
    switch (t->index) {
    case CLOAK_HWM_REG_TEMP1:
        dk = thermal_now(t);
        return (dk - 2732 + 5) / 10;
    /*
     * Reading the high byte latches the sample the low byte then gives,
     * as sensor chips do: two samples a 256 boundary apart (3328 dK is
     * 59.6 C) would otherwise read as one 25.6 degrees off.
     */
    case CLOAK_HWM_REG_DK_HIGH:
        t->latched_dk = thermal_now(t);
        return t->latched_dk >> 8;
    case CLOAK_HWM_REG_DK_LOW:
        return t->latched_dk & 0xff;
    default:
        return 0;
    }
}

static void thermal_write(void *opaque, hwaddr addr, uint64_t val,
                          unsigned size)
{
    CloakThermal *t = opaque;

    if (addr == 0) {
        t->index = val;
    }
    /* the sensor's registers are read-only */
}

static const MemoryRegionOps thermal_ops = {
    .read = thermal_read,
    .write = thermal_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid.min_access_size = 1,
    .valid.max_access_size = 1,
};

void cloak_thermal_init(void)
{
    CloakThermal *t;

    if (thermal || !cloak_is_enabled() ||
        !cloak_value("acpi", "thermal-zone")) {
        return;
    }
    t = thermal = g_new0(CloakThermal, 1);
    t->low_c = cloak_value_number("acpi", "thermal-low", 30);
    t->high_c = MAX(cloak_value_number("acpi", "thermal-high", 45),
                    t->low_c);
    t->latched_dk = 2732 + t->low_c * 10;
    memory_region_init_io(&t->io, NULL, &thermal_ops, t, "cloak-hwm",
                          CLOAK_HWM_DATA_PORT - CLOAK_HWM_INDEX_PORT + 1);
    memory_region_add_subregion(get_system_io(), CLOAK_HWM_INDEX_PORT,
                                &t->io);
    t->timer = timer_new_ms(QEMU_CLOCK_VIRTUAL, thermal_tick, t);
    timer_mod(t->timer, qemu_clock_get_ms(QEMU_CLOCK_VIRTUAL));
}
