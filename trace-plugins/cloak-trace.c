/*
 * -object cloak-trace: the shared-memory ring file that guest syscalls and
 * page faults are traced into, one single-producer ring per vCPU.
 *
 *   -object cloak-trace,id=t0,path=/dev/shm/vm1.ring,size=16M,
 *           events=syscall:pagefault,paths=on,mode=drop
 *
 * The ABI of the file is trace-plugins/cloak-trace-abi.h.  Tracing can be
 * paused and resumed at run time with qom-set on the "enabled" property.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-types-qom.h"
#include "qapi/util.h"
#include "qapi/visitor.h"
#include "qemu/cutils.h"
#include "qemu/units.h"
#include "qemu/error-report.h"
#include "qemu/notify.h"
#include "qemu/main-loop.h"
#include "qemu/timer.h"
#include "qom/object_interfaces.h"
#include "hw/boards.h"
#include "system/system.h"
#include "system/runstate.h"
#include "system/cpus.h"
#include "system/kvm.h"
#include "system/tcg.h"

#include "trace-plugins/cloak-trace.h"
#include "trace-plugins/os-profile.h"
#include "trace-plugins/ring-file.h"

OBJECT_DECLARE_SIMPLE_TYPE(CloakTrace, CLOAK_TRACE)

struct CloakTrace {
    Object parent_obj;

    /* properties */
    char *path;
    uint64_t size;              /* data bytes per vCPU ring */
    uint32_t events;
    bool paths;
    bool block;
    bool enabled;
    char *os_profile_path;
    int guest_os;               /* CloakTraceGuestOs */

    /* once complete */
    CloakOsProfile *os_profile;
    bool created;
    void *map;
    CloakRingLayout layout;
    CloakRingProducer *rings;
    Notifier exit_notifier;
    QEMUTimer *held_timer;      /* publishes a record held too long */
    uint64_t held_gen_seen;     /* cloak_trace_held.gen at the last tick */
};

uint32_t cloak_trace_active;
bool cloak_trace_paths;
const CloakOsProfile *cloak_trace_os_profile;
uint32_t cloak_trace_attribution;
uint64_t cloak_trace_epoch;

static CloakTrace *cloak_trace_instance;
CloakRingProducer *cloak_trace_rings;
uint32_t cloak_trace_nr_rings;
static CloakTraceKvmStart cloak_trace_kvm_start;

CloakTraceClock cloak_trace_clock;

static void cloak_trace_clock_init(void)
{
    g_autofree char *cpuinfo = NULL;
    uint64_t tsc0, mono0, tsc1, mono1;

    cloak_trace_clock.use_tsc = false;
#if defined(__x86_64__)
    if (!g_file_get_contents("/proc/cpuinfo", &cpuinfo, NULL, NULL) ||
        !strstr(cpuinfo, " constant_tsc") || !strstr(cpuinfo, " nonstop_tsc")) {
        return;
    }
    mono0 = get_clock();
    tsc0 = cpu_get_host_ticks();
    g_usleep(20000);
    mono1 = get_clock();
    tsc1 = cpu_get_host_ticks();
    if (tsc1 <= tsc0 || mono1 <= mono0) {
        return;
    }
    cloak_trace_clock.mult = ((mono1 - mono0) << 32) / (tsc1 - tsc0);
    cloak_trace_clock.tsc_base = tsc1;
    cloak_trace_clock.mono_base = mono1;
    cloak_trace_clock.use_tsc = true;
#endif
}

void cloak_trace_register_kvm(CloakTraceKvmStart start)
{
    cloak_trace_kvm_start = start;
}

#define DEFAULT_RING_SIZE (16 * MiB)

/* The ring's event bit of each CloakTraceEvent (qapi/qom.json). */
static const uint32_t event_bits[CLOAK_TRACE_EVENT__MAX] = {
    [CLOAK_TRACE_EVENT_SYSCALL] = CLOAK_TRACE_EV_SYSCALL,
    [CLOAK_TRACE_EVENT_PAGEFAULT] = CLOAK_TRACE_EV_PAGEFAULT,
};

/* "syscall, pagefault": the names an error message offers. */
static char *known_events(void)
{
    GString *s = g_string_new(NULL);

    for (int e = 0; e < CLOAK_TRACE_EVENT__MAX; e++) {
        g_string_append_printf(s, "%s%s", e ? ", " : "",
                               CloakTraceEvent_str(e));
    }
    return g_string_free(s, false);
}

static bool cloak_trace_give_up(void *opaque)
{
    CPUState *cs = opaque;

    /* Stopped tracing, or the VM is being paused or shut down. */
    return !qatomic_read(&cloak_trace_active) || qatomic_read(&cs->stop);
}

/*
 * A vCPU waiting for room in block mode.  A page fault is raised with the
 * big QEMU lock held: keep holding it and the main loop (QMP, signals,
 * pausing the VM, qom-set enabled=false) stops until the reader catches
 * up.  So let go of it while waiting; give_up() then sees the main loop's
 * stop request or tracing switched off.
 */
static void cloak_trace_wait(void *opaque, unsigned *spins)
{
    bool locked = bql_locked();

    if (locked) {
        bql_unlock();
    }
    cloak_ring_wait_a_little(spins);
    if (locked) {
        bql_lock();
    }
}

CloakTraceHeld cloak_trace_held;
#define HELD_TICK_MS 10

void cloak_trace_release_held(void)
{
    void (*release)(void) = cloak_trace_held.release;

    if (release) {
        cloak_trace_unhold();
        release();
    }
}

static void cloak_trace_release_work(CPUState *cs, run_on_cpu_data data)
{
    cloak_trace_release_held();
}

/* A record held for a whole tick: its vCPU may be idle, so publish it. */
static void cloak_trace_held_tick(void *opaque)
{
    CloakTrace *t = opaque;
    uint64_t gen = qatomic_read(&cloak_trace_held.gen);

    if ((gen & 1) && gen == t->held_gen_seen) {
        async_run_on_cpu(qatomic_read(&cloak_trace_held.cpu),
                         cloak_trace_release_work,
                         RUN_ON_CPU_NULL);
    }
    t->held_gen_seen = gen;
    timer_mod(t->held_timer,
              qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + HELD_TICK_MS);
}

/* Stopped vCPUs are in no producer: the main loop may publish for them. */
static void cloak_trace_vm_state(void *opaque, bool running, RunState state)
{
    if (!running) {
        cloak_trace_release_held();
        qatomic_inc(&cloak_trace_epoch);
    }
}

/* The header's CLOAK_TRACE_OS_* of each CloakTraceGuestOs (qapi/qom.json). */
static const uint32_t guest_os_ids[CLOAK_TRACE_GUEST_OS__MAX] = {
    [CLOAK_TRACE_GUEST_OS_LINUX] = CLOAK_TRACE_OS_LINUX,
    [CLOAK_TRACE_GUEST_OS_WINDOWS] = CLOAK_TRACE_OS_WINDOWS,
    [CLOAK_TRACE_GUEST_OS_OTHER] = CLOAK_TRACE_OS_OTHER,
};

void cloak_trace_set_attribution(uint32_t state, const char *guest_kernel)
{
    struct cloak_trace_header *h = cloak_trace_instance->map;

    if (guest_kernel) {
        g_strlcpy(h->guest_kernel, guest_kernel, sizeof(h->guest_kernel));
    }
    __atomic_store_n(&h->attribution, state, __ATOMIC_RELEASE);
    qatomic_set(&cloak_trace_attribution, state);
}

static void cloak_trace_update_active(CloakTrace *t)
{
    uint32_t state = t->enabled ? CLOAK_TRACE_STATE_RUNNING
                                : CLOAK_TRACE_STATE_STOPPED;

    cloak_trace_paths = t->paths;
    qatomic_inc(&cloak_trace_epoch);
    qatomic_set(&cloak_trace_active, t->enabled ? t->events : 0);
    cloak_ring_file_set_state(t->map, state);
}

static bool cloak_trace_check_unset(CloakTrace *t, const char *name,
                                    Error **errp)
{
    if (t->created) {
        error_setg(errp, "cloak-trace: property '%s' cannot be changed once "
                   "the trace file exists", name);
        return false;
    }
    return true;
}

static char *get_path(Object *obj, Error **errp)
{
    return g_strdup(CLOAK_TRACE(obj)->path);
}

/* A string property that is fixed once the trace file exists. */
static void set_str_once(CloakTrace *t, const char *name, char **field,
                         const char *value, Error **errp)
{
    if (cloak_trace_check_unset(t, name, errp)) {
        g_free(*field);
        *field = g_strdup(value);
    }
}

static void set_path(Object *obj, const char *value, Error **errp)
{
    CloakTrace *t = CLOAK_TRACE(obj);

    set_str_once(t, "path", &t->path, value, errp);
}

static void get_size(Object *obj, Visitor *v, const char *name,
                     void *opaque, Error **errp)
{
    visit_type_size(v, name, &CLOAK_TRACE(obj)->size, errp);
}

static void set_size(Object *obj, Visitor *v, const char *name,
                     void *opaque, Error **errp)
{
    CloakTrace *t = CLOAK_TRACE(obj);
    uint64_t value;

    if (!cloak_trace_check_unset(t, name, errp) ||
        !visit_type_size(v, name, &value, errp)) {
        return;
    }
    if (value < CLOAK_TRACE_RING_MIN || value > CLOAK_TRACE_RING_MAX ||
        !is_power_of_2(value)) {
        error_setg(errp, "cloak-trace: property 'size' must be a power of "
                   "two from 4K to 1G (bytes per vCPU ring), not %" PRIu64,
                   value);
        return;
    }
    t->size = value;
}

static char *get_events(Object *obj, Error **errp)
{
    CloakTrace *t = CLOAK_TRACE(obj);
    GString *s = g_string_new(NULL);
    size_t i;

    for (i = 0; i < CLOAK_TRACE_EVENT__MAX; i++) {
        if (t->events & event_bits[i]) {
            g_string_append_printf(s, "%s%s", s->len ? ":" : "",
                                   CloakTraceEvent_str(i));
        }
    }
    return g_string_free(s, false);
}

/* "syscall:pagefault"; "," also separates (escaped as ",," on -object). */
static void set_events(Object *obj, const char *value, Error **errp)
{
    CloakTrace *t = CLOAK_TRACE(obj);
    g_auto(GStrv) names = g_strsplit_set(value, ",:+", -1);
    uint32_t events = 0;
    char **n;

    if (!cloak_trace_check_unset(t, "events", errp)) {
        return;
    }
    for (n = names; *n; n++) {
        int e = qapi_enum_parse(&CloakTraceEvent_lookup, *n, -1, NULL);

        if (e < 0) {
            g_autofree char *known = known_events();

            error_setg(errp, "cloak-trace: property 'events': unknown event "
                       "'%s' (known: %s)", *n, known);
            return;
        }
        events |= event_bits[e];
    }
    if (!events) {
        g_autofree char *known = known_events();

        error_setg(errp, "cloak-trace: property 'events' names no event "
                   "(known: %s)", known);
        return;
    }
    t->events = events;
}

static bool get_paths(Object *obj, Error **errp)
{
    return CLOAK_TRACE(obj)->paths;
}

static void set_paths(Object *obj, bool value, Error **errp)
{
    CloakTrace *t = CLOAK_TRACE(obj);

    t->paths = value;
    if (t->created) {
        cloak_trace_paths = value;
    }
}

static int get_mode(Object *obj, Error **errp)
{
    return CLOAK_TRACE(obj)->block ? CLOAK_TRACE_MODE_BLOCK
                                   : CLOAK_TRACE_MODE_DROP;
}

static void set_mode(Object *obj, int value, Error **errp)
{
    CloakTrace *t = CLOAK_TRACE(obj);

    if (!cloak_trace_check_unset(t, "mode", errp)) {
        return;
    }
    t->block = value == CLOAK_TRACE_MODE_BLOCK;
}

static char *get_os_profile(Object *obj, Error **errp)
{
    return g_strdup(CLOAK_TRACE(obj)->os_profile_path);
}

static void set_os_profile(Object *obj, const char *value, Error **errp)
{
    CloakTrace *t = CLOAK_TRACE(obj);

    set_str_once(t, "os-profile", &t->os_profile_path, value, errp);
}

static int get_guest_os(Object *obj, Error **errp)
{
    return CLOAK_TRACE(obj)->guest_os;
}

static void set_guest_os(Object *obj, int value, Error **errp)
{
    CloakTrace *t = CLOAK_TRACE(obj);

    if (!cloak_trace_check_unset(t, "guest-os", errp)) {
        return;
    }
    t->guest_os = value;
}

/* Loads os-profile=FILE; fills the header's guest and profile fields. */
static bool cloak_trace_load_os_profile(CloakTrace *t, Error **errp)
{
    g_autoptr(GError) err = NULL;

    if (!t->os_profile_path) {
        return true;
    }
    if (t->guest_os != CLOAK_TRACE_GUEST_OS_LINUX) {
        error_setg(errp, "cloak-trace: property 'os-profile' is a Linux "
                   "kernel's profile, but guest-os is '%s'",
                   CloakTraceGuestOs_str(t->guest_os));
        return false;
    }
    t->os_profile = cloak_os_profile_load(t->os_profile_path, &err);
    if (!t->os_profile) {
        error_setg(errp, "cloak-trace: property 'os-profile': %s",
                   err->message);
        return false;
    }
    return true;
}

static void cloak_trace_init_header(CloakTrace *t, void *map)
{
    struct cloak_trace_header *h = map;

    h->guest_os = guest_os_ids[t->guest_os];
    if (t->os_profile) {
        g_autofree char *name = cloak_os_profile_kernel_name(t->os_profile);

        g_strlcpy(h->profile_kernel, name, sizeof(h->profile_kernel));
        h->attribution = CLOAK_TRACE_ATTR_PENDING;
        cloak_trace_os_profile = t->os_profile;
    }
    cloak_trace_attribution = h->attribution;
}

static bool get_enabled(Object *obj, Error **errp)
{
    return CLOAK_TRACE(obj)->enabled;
}

static void set_enabled(Object *obj, bool value, Error **errp)
{
    CloakTrace *t = CLOAK_TRACE(obj);

    t->enabled = value;
    if (t->created) {
        cloak_trace_update_active(t);
    }
}

static void get_lost(Object *obj, Visitor *v, const char *name,
                     void *opaque, Error **errp)
{
    CloakTrace *t = CLOAK_TRACE(obj);
    uint64_t lost = 0;
    uint32_t i;

    for (i = 0; t->created && i < t->layout.nr_rings; i++) {
        lost += qatomic_read(&t->rings[i].ctl->lost);
    }
    visit_type_uint64(v, name, &lost, errp);
}

/*
 * May the regular file at @path be replaced?  Only a ring file whose
 * producer is gone: never another file the user had, and never the ring
 * of a running QEMU (which would trace on into an unlinked file).
 */
static bool cloak_trace_may_replace(const char *path, Error **errp)
{
    struct cloak_trace_header h;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    ssize_t n = fd < 0 ? -1 : pread(fd, &h, sizeof(h), 0);

    if (fd >= 0) {
        close(fd);
    }
    if (n != sizeof(h) || h.magic != CLOAK_TRACE_MAGIC) {
        error_setg(errp, "cloak-trace: property 'path': '%s' exists and is "
                   "not a cloak-trace ring; refusing to overwrite it (remove "
                   "it or choose another path)", path);
        return false;
    }
    if (h.state != CLOAK_TRACE_STATE_CLOSED && h.producer_pid &&
        h.producer_pid != (uint32_t)getpid() &&
        (kill(h.producer_pid, 0) == 0 || errno == EPERM)) {
        error_setg(errp, "cloak-trace: property 'path': '%s' is the ring of "
                   "a running QEMU (pid %u); give each VM its own path",
                   path, h.producer_pid);
        return false;
    }
    return true;
}

/*
 * Creates the ring file at t->path: refuses directories, symlinks and
 * other non-regular files there, and regular files that are not rings of
 * a producer that is gone (cloak_trace_may_replace), replaces an old ring
 * (rename of a fresh 0600 file from the same directory), and reserves all
 * of its memory so a full tmpfs fails here, not with SIGBUS in a vCPU.
 */
static bool cloak_trace_create_file(CloakTrace *t, Error **errp)
{
    g_autofree char *tmp = g_strdup_printf("%s.XXXXXX", t->path);
    struct stat st;
    int fd, err;
    void *map;

    if (lstat(t->path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            error_setg(errp, "cloak-trace: property 'path': '%s' is a "
                       "directory; give a file name", t->path);
            return false;
        }
        if (!S_ISREG(st.st_mode)) {
            error_setg(errp, "cloak-trace: property 'path': '%s' exists and "
                       "is not a regular file (a symlink or device?); "
                       "refusing to replace it", t->path);
            return false;
        }
        if (!cloak_trace_may_replace(t->path, errp)) {
            return false;
        }
    } else if (errno != ENOENT) {
        error_setg_errno(errp, errno, "cloak-trace: property 'path': "
                         "cannot inspect '%s'", t->path);
        return false;
    }
    fd = g_mkstemp_full(tmp, O_RDWR | O_CLOEXEC, 0600);
    if (fd < 0) {
        error_setg_errno(errp, errno, "cloak-trace: property 'path': cannot "
                         "create a file next to '%s'", t->path);
        return false;
    }
    err = posix_fallocate(fd, 0, t->layout.file_size);
    if (err) {
        error_setg_errno(errp, err, "cloak-trace: cannot reserve %" PRIu64
                         " bytes for '%s' (property 'size' too large for "
                         "the file system?)", t->layout.file_size, t->path);
        goto fail;
    }
    /* Populated now, so vCPUs never take a first-touch fault on the ring. */
    map = mmap(NULL, t->layout.file_size, PROT_READ | PROT_WRITE,
               MAP_SHARED | MAP_POPULATE, fd, 0);
    if (map == MAP_FAILED) {
        error_setg_errno(errp, errno, "cloak-trace: cannot map '%s'",
                         t->path);
        goto fail;
    }
    cloak_ring_file_init(map, &t->layout, t->events,
                         (t->block ? CLOAK_TRACE_F_BLOCK : 0) |
                         (t->paths ? CLOAK_TRACE_F_PATHS : 0),
                         CLOAK_TRACE_PATH_MAX);
    cloak_trace_init_header(t, map);
    if (rename(tmp, t->path) < 0) {
        error_setg_errno(errp, errno, "cloak-trace: property 'path': cannot "
                         "create '%s'", t->path);
        munmap(map, t->layout.file_size);
        goto fail;
    }
    close(fd);
    t->map = map;
    return true;

fail:
    unlink(tmp);
    close(fd);
    return false;
}

static void cloak_trace_at_exit(Notifier *n, void *data)
{
    CloakTrace *t = container_of(n, CloakTrace, exit_notifier);

    qatomic_set(&cloak_trace_active, 0);
    if (!runstate_is_running()) {
        cloak_trace_release_held();
    }
    cloak_ring_file_set_state(t->map, CLOAK_TRACE_STATE_CLOSED);
}

static void cloak_trace_complete(UserCreatable *uc, Error **errp)
{
    CloakTrace *t = CLOAK_TRACE(uc);
    MachineState *ms = current_machine;
    uint32_t i, nr;

    if (cloak_trace_instance) {
        error_setg(errp, "cloak-trace: only one cloak-trace object is "
                   "supported per VM");
        return;
    }
    if (!t->path || !*t->path) {
        error_setg(errp, "cloak-trace: property 'path' is required (the "
                   "shared-memory file to create, e.g. /dev/shm/vm1.ring)");
        return;
    }
    if (!tcg_enabled() && !kvm_enabled()) {
        error_setg(errp, "cloak-trace: guest tracing needs -accel tcg or "
                   "-accel kvm");
        return;
    }
    if (kvm_enabled()) {
        if (!cloak_trace_kvm_start) {
            error_setg(errp, "cloak-trace: tracing under KVM is not "
                       "available for this target; use -accel tcg");
            return;
        }
        if (!cloak_trace_kvm_start(t->events, errp)) {
            return;
        }
    }
    nr = ms->smp.max_cpus;
    if (nr < 1 || nr > CLOAK_TRACE_MAX_RINGS) {
        error_setg(errp, "cloak-trace: %u vCPUs; at most %d can be traced",
                   nr, CLOAK_TRACE_MAX_RINGS);
        return;
    }
    if (!cloak_trace_load_os_profile(t, errp)) {
        return;
    }
    cloak_ring_layout(&t->layout, nr, t->size);
    cloak_trace_clock_init();
    if (!cloak_trace_create_file(t, errp)) {
        return;
    }
    t->rings = g_new0(CloakRingProducer, nr);
    for (i = 0; i < nr; i++) {
        cloak_ring_producer_init(&t->rings[i],
                                 cloak_ring_ctl(t->map, &t->layout, i),
                                 cloak_ring_data(t->map, &t->layout, i),
                                 t->size, i, t->block, cloak_trace_give_up,
                                 NULL);
        t->rings[i].wait = cloak_trace_wait;
    }
    t->created = true;
    cloak_trace_instance = t;
    cloak_trace_rings = t->rings;
    qatomic_store_release(&cloak_trace_nr_rings, nr);
    t->exit_notifier.notify = cloak_trace_at_exit;
    qemu_add_exit_notifier(&t->exit_notifier);
    if (tcg_enabled()) {
        qemu_add_vm_change_state_handler(cloak_trace_vm_state, t);
        t->held_timer = timer_new_ms(QEMU_CLOCK_REALTIME,
                                     cloak_trace_held_tick, t);
        timer_mod(t->held_timer,
                  qemu_clock_get_ms(QEMU_CLOCK_REALTIME) + HELD_TICK_MS);
    }
    cloak_trace_update_active(t);
}

/* vCPU threads may be inside a producer at any time: no object-del. */
static bool cloak_trace_can_be_deleted(UserCreatable *uc)
{
    return !CLOAK_TRACE(uc)->created;
}

static void cloak_trace_instance_init(Object *obj)
{
    CloakTrace *t = CLOAK_TRACE(obj);

    t->size = DEFAULT_RING_SIZE;
    t->events = CLOAK_TRACE_EV_SYSCALL | CLOAK_TRACE_EV_PAGEFAULT;
    t->enabled = true;
}

static void cloak_trace_finalize(Object *obj)
{
    CloakTrace *t = CLOAK_TRACE(obj);

    g_free(t->path);
    g_free(t->os_profile_path);
    if (!t->created) {
        cloak_os_profile_free(t->os_profile);
    }
}

static void cloak_trace_class_init(ObjectClass *oc, void *data)
{
    UserCreatableClass *ucc = USER_CREATABLE_CLASS(oc);

    ucc->complete = cloak_trace_complete;
    ucc->can_be_deleted = cloak_trace_can_be_deleted;

    object_class_property_add_str(oc, "path", get_path, set_path);
    object_class_property_set_description(oc, "path",
        "Shared-memory file to create (mode 0600), e.g. /dev/shm/vm1.ring");
    object_class_property_add(oc, "size", "size", get_size, set_size,
                              NULL, NULL);
    object_class_property_set_description(oc, "size",
        "Bytes per vCPU ring, a power of two from 4K to 1G (default 16M)");
    object_class_property_add_str(oc, "events", get_events, set_events);
    object_class_property_set_description(oc, "events",
        "Event families: syscall, pagefault, separated by ':' (or ',,')");
    object_class_property_add_bool(oc, "paths", get_paths, set_paths);
    object_class_property_set_description(oc, "paths",
        "Copy path arguments (open, execve, stat, ...) from guest memory");
    object_class_property_add_enum(oc, "mode", "CloakTraceMode",
                                   &CloakTraceMode_lookup, get_mode, set_mode);
    object_class_property_set_description(oc, "mode",
        "drop (default: a full ring drops and counts) or block (the vCPU "
        "waits for the reader)");
    object_class_property_add_bool(oc, "enabled", get_enabled, set_enabled);
    object_class_property_set_description(oc, "enabled",
        "Tracing on or off; can be changed at run time with qom-set");
    object_class_property_add_str(oc, "os-profile", get_os_profile,
                                  set_os_profile);
    object_class_property_set_description(oc, "os-profile",
        "The guest kernel's OS profile (made by 'cloak-trace profile'): "
        "events then name the guest process and thread");
    object_class_property_add_enum(oc, "guest-os", "CloakTraceGuestOs",
                                   &CloakTraceGuestOs_lookup, get_guest_os,
                                   set_guest_os);
    object_class_property_set_description(oc, "guest-os",
        "linux (default), windows or other: whose system call numbers the "
        "trace holds; only Linux's are named by the reader");
    object_class_property_add(oc, "lost", "uint64", get_lost, NULL, NULL,
                              NULL);
    object_class_property_set_description(oc, "lost",
        "Events dropped so far because a ring was full (read-only)");
}

static const TypeInfo cloak_trace_info = {
    .name = TYPE_CLOAK_TRACE,
    .parent = TYPE_OBJECT,
    .instance_size = sizeof(CloakTrace),
    .instance_init = cloak_trace_instance_init,
    .instance_finalize = cloak_trace_finalize,
    .class_init = cloak_trace_class_init,
    .interfaces = (InterfaceInfo[]) {
        { TYPE_USER_CREATABLE },
        { }
    },
};

static void cloak_trace_register_types(void)
{
    type_register_static(&cloak_trace_info);
}

type_init(cloak_trace_register_types);
