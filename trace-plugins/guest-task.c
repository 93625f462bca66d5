/*
 * cloak-trace: which guest task an event belongs to, read from outside
 * with the offsets of an OS profile (os-profile.h, docs/trace.md).
 *
 * The kernel's per-CPU area is at the GS base while the vCPU is in the
 * kernel and in MSR_KERNEL_GS_BASE while it is in user mode (SWAPGS), so
 * whichever of the two is a kernel address is it.  Its current-task
 * pointer leads to the task_struct: pid (the thread), tgid (the process),
 * comm, and real_parent's tgid.  Kernel memory is read through the
 * kernel's own page tables: under page-table isolation the user CR3 maps
 * almost none of it, and the kernel PGD is the page below the user one.
 *
 * Before the first task is trusted, the running kernel's name (its
 * uts_namespace, reached through the same offsets) must equal the
 * profile's; otherwise attribution is switched off and the file's header
 * says so, naming both kernels: a wrong name is worse than none.
 *
 * Cost: each vCPU caches host pointers of the kernel pages it read
 * (kernel mappings of the direct map and the per-CPU area do not move),
 * dropped when the guest's memory map changes; and the task block, read
 * again only when the current task (pointer and thread id) changes, so
 * most events cost three small reads (pointer, thread id, comm).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/rcu.h"
#include "qemu/thread.h"
#include "qemu/units.h"
#include "cpu.h"
#include "exec/memory.h"
#include "hw/boards.h"
#include "trace-plugins/cloak-trace-hooks.h"
#include "trace-plugins/os-profile.h"

#define KERNEL_HALF         0xffff800000000000ULL
#define CACHE_PAGES         64
/*
 * Events at which the kernel's name could not be read before deciding it
 * cannot be (with the right profile only an exiting task, whose nsproxy is
 * gone, fails; with a wrong one nearly every event does).
 */
#define VERIFY_ATTEMPTS     1000
#define TASK_COMM_LEN       sizeof(((struct cloak_trace_task *)0)->comm)

typedef struct CachedPage {
    uint64_t vpage;             /* kernel virtual page, 0 = empty */
    uint8_t *host;              /* its bytes in QEMU's memory */
} CachedPage;

typedef struct GuestTaskCache {
    FlatView *fv;               /* the memory map the pointers belong to */
    CachedPage page[CACHE_PAGES];
    uint64_t task;              /* task_struct of the cached block */
    struct cloak_trace_task block;
    const uint8_t *comm;        /* its comm in QEMU's memory, or NULL */
} GuestTaskCache;

static GuestTaskCache *caches[CLOAK_TRACE_MAX_RINGS];
static QemuMutex verify_lock;
static unsigned verify_attempts;

static void __attribute__((constructor)) guest_task_init(void)
{
    qemu_mutex_init(&verify_lock);
}

/*
 * A page-table entry, from RAM only: the guest chooses where its tables
 * point, and a read of device memory could have side effects.
 */
static bool ram_ldq(FlatView *fv, hwaddr pa, uint64_t *v)
{
    MemTxAttrs attrs = MEMTXATTRS_UNSPECIFIED;
    hwaddr xlat, len = sizeof(*v);
    MemoryRegion *mr = flatview_translate(fv, pa, &xlat, &len, false, attrs);

    if (len < sizeof(*v) || !memory_access_is_direct(mr, false, attrs)) {
        return false;
    }
    *v = ldq_le_p(qemu_map_ram_ptr(mr->ram_block, xlat));
    return true;
}

/*
 * Physical address of kernel address va through the page tables at pgd,
 * or -1.  4- or 5-level paging with 1 GiB and 2 MiB pages.
 */
static hwaddr walk(FlatView *fv, uint64_t pgd, bool la57, uint64_t va)
{
    uint64_t table = pgd & PG_ADDRESS_MASK;
    int level;

    for (level = la57 ? 5 : 4; level >= 1; level--) {
        unsigned shift = 12 + 9 * (level - 1);
        uint64_t e;

        if (!ram_ldq(fv, table + ((va >> shift) & 511) * 8, &e) ||
            !(e & PG_PRESENT_MASK)) {
            return -1;
        }
        if (level == 1 || ((level == 2 || level == 3) && (e & PG_PSE_MASK))) {
            uint64_t size = 1ULL << shift;

            return (e & PG_ADDRESS_MASK & ~(size - 1)) | (va & (size - 1));
        }
        table = e & PG_ADDRESS_MASK;
    }
    return -1;
}

/* Host pointer to the kernel page holding va, or NULL if not plain RAM. */
static uint8_t *kernel_page_slow(CPUX86State *env, CachedPage *slot,
                                 uint64_t vpage)
{
    CPUState *cs = env_cpu(env);
    FlatView *fv = address_space_to_flatview(cs->as);
    bool la57 = env->cr[4] & CR4_LA57_MASK;
    MemTxAttrs attrs = MEMTXATTRS_UNSPECIFIED;
    MemoryRegion *mr;
    hwaddr pa, xlat, len = TARGET_PAGE_SIZE;

    pa = walk(fv, env->cr[3], la57, vpage);
    if (pa == (hwaddr)-1) {
        /* Page-table isolation: the kernel PGD is the user one minus 4K. */
        pa = walk(fv, env->cr[3] & ~(uint64_t)TARGET_PAGE_SIZE, la57, vpage);
    }
    if (pa == (hwaddr)-1) {
        return NULL;
    }
    mr = flatview_translate(fv, pa, &xlat, &len, false, attrs);
    if (len < TARGET_PAGE_SIZE || !memory_access_is_direct(mr, false, attrs)) {
        return NULL;
    }
    slot->vpage = vpage;
    slot->host = qemu_map_ram_ptr(mr->ram_block, xlat);
    return slot->host;
}

static inline uint8_t *kernel_page(CPUX86State *env, GuestTaskCache *c,
                                   uint64_t va)
{
    uint64_t vpage = va & TARGET_PAGE_MASK;
    CachedPage *slot = &c->page[(vpage >> TARGET_PAGE_BITS) % CACHE_PAGES];

    if (likely(slot->vpage == vpage)) {
        return slot->host;
    }
    return kernel_page_slow(env, slot, vpage);
}

static bool kernel_read(CPUX86State *env, GuestTaskCache *c, uint64_t va,
                        void *buf, size_t len)
{
    uint8_t *dst = buf;

    if (va < KERNEL_HALF || va + len < va) {
        return false;
    }
    while (len) {
        size_t in_page = MIN(len, TARGET_PAGE_SIZE - (va & ~TARGET_PAGE_MASK));
        uint8_t *page = kernel_page(env, c, va);

        if (!page) {
            return false;
        }
        memcpy(dst, page + (va & ~TARGET_PAGE_MASK), in_page);
        dst += in_page;
        va += in_page;
        len -= in_page;
    }
    return true;
}

/* An aligned 8- or 4-byte kernel value: the common case, inline. */
static inline bool kernel_load(CPUX86State *env, GuestTaskCache *c,
                               uint64_t va, unsigned size, uint64_t *out)
{
    uint8_t *page;

    if (unlikely(va < KERNEL_HALF || (va & (size - 1)))) {
        return false;
    }
    page = kernel_page(env, c, va);
    if (unlikely(!page)) {
        return false;
    }
    *out = size == 8 ? ldq_le_p(page + (va & ~TARGET_PAGE_MASK))
                     : ldl_le_p(page + (va & ~TARGET_PAGE_MASK));
    return true;
}

/*
 * comm, the common case: 16 bytes in one page, copied without a loop; and
 * where they lie in QEMU's memory (c->comm, NULL if across pages).
 */
static inline bool kernel_load_comm(CPUX86State *env, GuestTaskCache *c,
                                    uint64_t va, char *out)
{
    uint8_t *page;

    c->comm = NULL;
    if (unlikely(va < KERNEL_HALF ||
                 (va & ~TARGET_PAGE_MASK) > TARGET_PAGE_SIZE - TASK_COMM_LEN)) {
        return kernel_read(env, c, va, out, TASK_COMM_LEN);
    }
    page = kernel_page(env, c, va);
    if (unlikely(!page)) {
        return false;
    }
    c->comm = page + (va & ~TARGET_PAGE_MASK);
    memcpy(out, c->comm, TASK_COMM_LEN);
    return true;
}

static bool kernel_ptr(CPUX86State *env, GuestTaskCache *c, uint64_t va,
                       uint64_t *out)
{
    return kernel_load(env, c, va, 8, out) && *out >= KERNEL_HALF;
}

static bool current_task(CPUX86State *env, GuestTaskCache *c,
                         const CloakOsProfile *p, uint64_t *task)
{
    uint64_t percpu = env->segs[R_GS].base;

    if (percpu < KERNEL_HALF) {
        percpu = env->kernelgsbase;
    }
    return percpu >= KERNEL_HALF &&
           kernel_ptr(env, c, percpu +
                      p->offset[CLOAK_OS_OFF_PERCPU_CURRENT_TASK], task);
}

static bool read_block(CPUX86State *env, GuestTaskCache *c,
                       const CloakOsProfile *p, uint64_t task,
                       struct cloak_trace_task *t)
{
    uint32_t pid, tgid, ppid;
    uint64_t parent;

    if (!kernel_read(env, c, task + p->offset[CLOAK_OS_OFF_TASK_PID],
                     &pid, 4) ||
        !kernel_read(env, c, task + p->offset[CLOAK_OS_OFF_TASK_TGID],
                     &tgid, 4) ||
        !kernel_load_comm(env, c, task + p->offset[CLOAK_OS_OFF_TASK_COMM],
                          t->comm)) {
        return false;
    }
    ppid = 0;
    if (kernel_ptr(env, c, task + p->offset[CLOAK_OS_OFF_TASK_REAL_PARENT],
                   &parent) &&
        kernel_read(env, c, parent + p->offset[CLOAK_OS_OFF_TASK_TGID],
                    &ppid, 4)) {
        ppid = le32_to_cpu(ppid);
    }
    t->tgid = le32_to_cpu(tgid);
    t->tid = le32_to_cpu(pid);
    t->ppid = ppid;
    t->reserved = 0;
    return true;
}

/* A NUL-terminated copy of a utsname field, or false if unreadable. */
static bool read_uts_field(CPUX86State *env, GuestTaskCache *c,
                           uint64_t name, uint32_t off, char *out)
{
    if (!kernel_read(env, c, name + off, out, 65)) {
        return false;
    }
    out[64] = 0;
    return true;
}

/* Guest text is untrusted: keep it printable for messages and the file. */
static char *printable(char *s)
{
    char *c;

    for (c = s; *c; c++) {
        if (*c < 0x20 || *c > 0x7e) {
            *c = '?';
        }
    }
    return s;
}

/*
 * "Linux version R (...) (...) V", the banner in the kernel image and the
 * log, anywhere in guest RAM below 4 GiB (RAM only, never device memory):
 * "R V", or NULL.
 */
static char *find_banner(CPUX86State *env)
{
    static const char needle[] = "Linux version ";
    CPUState *cs = env_cpu(env);
    FlatView *fv = address_space_to_flatview(cs->as);
    uint64_t ram = MIN(current_machine->ram_size, 4 * GiB);
    hwaddr chunk = 2 * MiB, pa;

    for (pa = 0; pa < ram; pa += chunk) {
        hwaddr xlat, len = chunk;
        MemoryRegion *mr = flatview_translate(fv, pa, &xlat, &len, false,
                                              MEMTXATTRS_UNSPECIFIED);
        uint8_t *buf, *hit, *from;

        if (len < chunk ||
            !memory_access_is_direct(mr, false, MEMTXATTRS_UNSPECIFIED)) {
            continue;
        }
        buf = qemu_map_ram_ptr(mr->ram_block, xlat);
        from = buf;
        while ((hit = memmem(from, buf + chunk - from, needle,
                             sizeof(needle) - 1))) {
            g_autofree char *line = g_strndup((char *)hit,
                                              MIN(buf + chunk - hit, 512));
            char *nl = strchr(line, '\n'), *rel, *ver, *sp;

            from = hit + 1;
            if (!nl) {
                continue;
            }
            *nl = 0;
            rel = line + sizeof(needle) - 1;
            sp = strchr(rel, ' ');
            ver = g_strrstr(rel, ") #");
            /*
             * Linux 6.1 also keeps a banner without the build number
             * ("# SMP"); the kernel's own name has it ("#1 SMP").
             */
            if (sp && ver && sp < ver && g_ascii_isdigit(ver[3])) {
                *sp = 0;
                return printable(g_strdup_printf("%s %s", rel, ver + 2));
            }
        }
    }
    return NULL;
}

static void refuse(CPUX86State *env, const CloakOsProfile *p,
                   const char *seen, const char *why)
{
    g_autofree char *want = cloak_os_profile_kernel_name(p);
    g_autofree char *banner = find_banner(env);
    const char *guest = banner ? banner : seen ? seen : "unknown";

    cloak_trace_set_attribution(CLOAK_TRACE_ATTR_REFUSED, guest);
    warn_report("cloak-trace: os-profile is for kernel '%s' but the guest "
                "runs '%s'%s; events will not name processes", want, guest,
                why);
}

/* Called with verify_lock held. */
static void verify_failed(CPUX86State *env, const CloakOsProfile *p)
{
    if (++verify_attempts == VERIFY_ATTEMPTS) {
        refuse(env, p, NULL, " (its name cannot be read through the "
               "profile's offsets)");
    }
}

/*
 * PENDING -> ON or REFUSED, once: does the running kernel name itself as
 * the profile does?
 */
static bool verify(CPUX86State *env, GuestTaskCache *c,
                   const CloakOsProfile *p, uint64_t task)
{
    char release[65], version[65];
    uint64_t nsproxy, uts;
    bool ok;

    QEMU_LOCK_GUARD(&verify_lock);
    if (qatomic_read(&cloak_trace_attribution) != CLOAK_TRACE_ATTR_PENDING) {
        return qatomic_read(&cloak_trace_attribution) == CLOAK_TRACE_ATTR_ON;
    }
    ok = kernel_ptr(env, c, task + p->offset[CLOAK_OS_OFF_TASK_NSPROXY],
                    &nsproxy) &&
         kernel_ptr(env, c, nsproxy + p->offset[CLOAK_OS_OFF_NSPROXY_UTS_NS],
                    &uts);
    if (ok) {
        uint64_t name = uts + p->offset[CLOAK_OS_OFF_UTS_NAMESPACE_NAME];

        ok = read_uts_field(env, c, name,
                            p->offset[CLOAK_OS_OFF_NEW_UTSNAME_RELEASE],
                            release) &&
             read_uts_field(env, c, name,
                            p->offset[CLOAK_OS_OFF_NEW_UTSNAME_VERSION],
                            version);
    }
    if (!ok) {
        verify_failed(env, p);
        return false;
    }
    if (strcmp(release, p->release) || strcmp(version, p->version)) {
        g_autofree char *seen = g_strdup_printf("%s %s", release, version);

        refuse(env, p, printable(seen), "");
        return false;
    }
    cloak_trace_set_attribution(CLOAK_TRACE_ATTR_ON, NULL);
    return true;
}

bool cloak_trace_guest_task(CPUX86State *env, struct cloak_trace_task *t)
{
    const CloakOsProfile *p = cloak_trace_os_profile;
    CPUState *cs = env_cpu(env);
    GuestTaskCache *c;
    FlatView *fv;
    uint32_t state = qatomic_read(&cloak_trace_attribution);
    uint64_t task, pid;

    if (state != CLOAK_TRACE_ATTR_ON && state != CLOAK_TRACE_ATTR_PENDING) {
        return false;
    }
    if (!(env->hflags & HF_LMA_MASK) || cs->cpu_index < 0 ||
        cs->cpu_index >= CLOAK_TRACE_MAX_RINGS) {
        return false;
    }
    c = caches[cs->cpu_index];
    if (unlikely(!c)) {
        /* Only this vCPU's thread uses its cache. */
        c = caches[cs->cpu_index] = g_new0(GuestTaskCache, 1);
    }
    /* The host pointers belong to one memory map (callers hold RCU). */
    fv = address_space_to_flatview(cs->as);
    if (unlikely(c->fv != fv)) {
        memset(c->page, 0, sizeof(c->page));
        c->comm = NULL;
        c->fv = fv;
    }
    if (!current_task(env, c, p, &task)) {
        if (state == CLOAK_TRACE_ATTR_PENDING) {
            QEMU_LOCK_GUARD(&verify_lock);
            if (qatomic_read(&cloak_trace_attribution) ==
                CLOAK_TRACE_ATTR_PENDING) {
                verify_failed(env, p);
            }
        }
        return false;
    }
    if (state == CLOAK_TRACE_ATTR_PENDING && !verify(env, c, p, task)) {
        return false;
    }
    /*
     * The block read last is reused while the task is the same: the same
     * task_struct may hold a new task after the old one exited (slab
     * reuse), so the thread id must match too.  comm is read every time:
     * a successful execve renames the task but never returns to where its
     * return could be seen.
     */
    if (task != c->task ||
        !kernel_load(env, c, task + p->offset[CLOAK_OS_OFF_TASK_PID], 4,
                     &pid) || pid != c->block.tid ||
        !kernel_load_comm(env, c, task + p->offset[CLOAK_OS_OFF_TASK_COMM],
                          c->block.comm)) {
        if (!read_block(env, c, p, task, &c->block)) {
            c->task = 0;
            return false;
        }
        c->task = task;
    }
    *t = c->block;
    return true;
}

bool cloak_trace_guest_task_again(CPUX86State *env, uint32_t tid,
                                  struct cloak_trace_task *t)
{
    CPUState *cs = env_cpu(env);
    GuestTaskCache *c;

    if (qatomic_read(&cloak_trace_attribution) != CLOAK_TRACE_ATTR_ON ||
        cs->cpu_index < 0 || cs->cpu_index >= CLOAK_TRACE_MAX_RINGS) {
        return false;
    }
    c = caches[cs->cpu_index];
    /* c->comm belongs to the memory map the cache was filled under. */
    if (!c || !c->task || c->block.tid != tid || !c->comm ||
        c->fv != address_space_to_flatview(cs->as)) {
        return false;
    }
    memcpy(c->block.comm, c->comm, TASK_COMM_LEN);
    *t = c->block;
    return true;
}
