/*
 * The table that pairs syscall returns with their entries, driven without
 * a guest (trace-plugins/syscall-pending.h): the (CR3, RIP, RSP) key,
 * SYSENTER's any-RIP entries, replacement of a stale entry, eviction of
 * the oldest way, and the fork family's two returns.
 *
 * Which calls are kept at all (not exit, exit_group, rt_sigreturn) is the
 * caller's choice (syscall.c), not the table's, so it is not tested here.
 */
#include <glib.h>

#include "syscall-pending.h"

#define CR3_A       0x0000000012345000ULL
#define CR3_B       0x00000000abcde000ULL
#define RIP_A       0x00007f0000401236ULL
#define RIP_B       0x00007f0000401880ULL
#define RSP_A       0x00007ffe00001000ULL
#define RSP_B       0x00007ffe00002000ULL
#define CHILD_STACK 0x00007f00deadbe00ULL

static CloakPending entry(uint64_t cr3, uint64_t rip, uint64_t rsp,
                          uint64_t nr, uint64_t seq, uint32_t vcpu)
{
    CloakPending p = {
        .cr3 = cr3,
        .rip = rip,
        .rsp = rsp,
        .nr = nr,
        .seq = seq,
        .vcpu = vcpu,
        .abi = 1,
    };

    return p;
}

static CloakPending fork_entry(uint64_t cr3, uint64_t rip, uint64_t rsp,
                               uint64_t child_rsp, uint64_t seq)
{
    CloakPending p = entry(cr3, rip, rsp, 56, seq, 0);   /* clone */

    p.fork = true;
    p.child_rsp = child_rsp;
    return p;
}

static void add(CloakPendingTable *t, CloakPending p)
{
    cloak_pending_add(t, &p);
}

/* Matches and returns the paired entry's seq, or 0 if nothing matched. */
static uint64_t match(CloakPendingTable *t, uint64_t cr3, uint64_t rip,
                      uint64_t rsp, int64_t ret, bool *child)
{
    CloakPending out;
    bool c = false;

    memset(&out, 0xa5, sizeof(out));
    if (!cloak_pending_match(t, cr3, rip, rsp, ret, false, &out, &c)) {
        return 0;
    }
    if (child) {
        *child = c;
    }
    return out.seq;
}

static unsigned forks_in_use(const CloakPendingTable *t)
{
    unsigned i, n = 0;

    for (i = 0; i < CLOAK_PENDING_FORKS; i++) {
        n += t->forks[i].used;
    }
    return n;
}

/* n distinct 16-aligned RSPs that share one bucket under cr3. */
static void same_bucket_rsps(uint64_t cr3, uint64_t *rsp, unsigned n)
{
    unsigned bucket = cloak_pending_bucket(cr3, RSP_A), found = 0;
    uint64_t r;

    for (r = RSP_A; found < n; r += 16) {
        if (cloak_pending_bucket(cr3, r) == bucket) {
            rsp[found++] = r;
        }
        g_assert_cmpuint(r, <, RSP_A + (64ULL << 20));
    }
}

/*
 * The entry's task travels with it to the parent's return: the exit record
 * names the thread that entered without reading the guest again.
 */
static void test_task_travels(void)
{
    CloakPendingTable *t = g_new0(CloakPendingTable, 1);
    CloakPending in = entry(CR3_A, RIP_A, RSP_A, 39, 7, 0);
    const CloakPending *e;
    bool child = true;

    in.has_task = true;
    in.task.tgid = 412;
    in.task.tid = 413;
    in.task.ppid = 1;
    memcpy(in.task.comm, "dmidecode", 10);
    add(t, in);
    /* A taskless entry in another slot stays taskless. */
    add(t, entry(CR3_A, RIP_B, RSP_B, 39, 8, 0));

    e = cloak_pending_take(t, CR3_A, RIP_A, RSP_A, 412, false, &child);
    g_assert_nonnull(e);
    g_assert_false(child);
    g_assert_true(e->has_task);
    g_assert_cmpuint(e->task.tgid, ==, 412);
    g_assert_cmpuint(e->task.tid, ==, 413);
    g_assert_cmpuint(e->task.ppid, ==, 1);
    g_assert_cmpstr(e->task.comm, ==, "dmidecode");
    g_assert_false(e->used);

    e = cloak_pending_take(t, CR3_A, RIP_B, RSP_B, 0, false, &child);
    g_assert_nonnull(e);
    g_assert_false(e->has_task);
    g_assert_null(cloak_pending_take(t, CR3_A, RIP_A, RSP_A, 412, false,
                                     &child));
    g_free(t);
}

static void test_pair(void)
{
    CloakPendingTable *t = g_new0(CloakPendingTable, 1);
    CloakPending out;
    bool child = true;

    add(t, entry(CR3_A, RIP_A, RSP_A, 17, 42, 3));

    /* A return that differs in any part of the key is someone else's. */
    g_assert_false(cloak_pending_match(t, CR3_B, RIP_A, RSP_A, 5, false,
                                       &out, &child));
    g_assert_false(cloak_pending_match(t, CR3_A, RIP_B, RSP_A, 5, false,
                                       &out, &child));
    g_assert_false(cloak_pending_match(t, CR3_A, RIP_A, RSP_A + 8, 5, false,
                                       &out, &child));
    g_assert_false(cloak_pending_match(t, CR3_A, RIP_A, RSP_B, 5, false,
                                       &out, &child));

    /* ret 0 from an ordinary call (read at EOF) is not a child's return. */
    memset(&out, 0, sizeof(out));
    g_assert_true(cloak_pending_match(t, CR3_A, RIP_A, RSP_A, 0, false,
                                      &out, &child));
    g_assert_false(child);
    g_assert_cmpuint(out.seq, ==, 42);
    g_assert_cmpuint(out.vcpu, ==, 3);
    g_assert_cmpuint(out.nr, ==, 17);
    g_assert_cmpuint(out.abi, ==, 1);
    g_assert_cmpuint(out.cr3, ==, CR3_A);
    g_assert_cmpuint(out.rip, ==, RIP_A);
    g_assert_cmpuint(out.rsp, ==, RSP_A);

    /* Consumed: the same return again pairs with nothing. */
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 0, NULL), ==, 0);
    g_assert_cmpuint(t->evicted, ==, 0);
    g_free(t);
}

static void test_pair_two_threads(void)
{
    CloakPendingTable *t = g_new0(CloakPendingTable, 1);

    /* Two threads of one process: same CR3 and RIP, their own stacks. */
    add(t, entry(CR3_A, RIP_A, RSP_A, 0, 1, 0));
    add(t, entry(CR3_A, RIP_A, RSP_B, 1, 2, 1));
    /* Same RSP in another address space. */
    add(t, entry(CR3_B, RIP_A, RSP_A, 2, 3, 1));
    /* Same thread, another call site: a distinct entry, not a restart. */
    add(t, entry(CR3_A, RIP_B, RSP_A, 3, 4, 0));

    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_B, 0, NULL), ==, 2);
    g_assert_cmpuint(match(t, CR3_B, RIP_A, RSP_A, 0, NULL), ==, 3);
    g_assert_cmpuint(match(t, CR3_A, RIP_B, RSP_A, 0, NULL), ==, 4);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 0, NULL), ==, 1);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 0, NULL), ==, 0);
    g_assert_cmpuint(t->evicted, ==, 0);
    g_free(t);
}

static void test_sysenter_any_rip(void)
{
    CloakPendingTable *t = g_new0(CloakPendingTable, 1);

    add(t, entry(CR3_A, 0, RSP_A, 4, 10, 0));
    g_assert_cmpuint(match(t, CR3_B, RIP_A, RSP_A, 0, NULL), ==, 0);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_B, 0, NULL), ==, 0);
    /* Wherever the vDSO returns to, same CR3 and RSP. */
    g_assert_cmpuint(match(t, CR3_A, RIP_B, RSP_A, 0, NULL), ==, 10);
    g_assert_cmpuint(match(t, CR3_A, RIP_B, RSP_A, 0, NULL), ==, 0);

    add(t, entry(CR3_A, 0, RSP_A, 4, 11, 0));
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 0, NULL), ==, 11);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 0, NULL), ==, 0);
    g_free(t);
}

static void test_replace_same_key(void)
{
    CloakPendingTable *t = g_new0(CloakPendingTable, 1);
    uint64_t rsp[CLOAK_PENDING_WAYS + 1];
    unsigned i;

    /* Restarted many times: one way, the newest entry, no eviction. */
    for (i = 1; i <= 3 * CLOAK_PENDING_WAYS; i++) {
        add(t, entry(CR3_A, RIP_A, RSP_A, 0, i, 0));
    }
    g_assert_cmpuint(t->evicted, ==, 0);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 0, NULL), ==,
                     3 * CLOAK_PENDING_WAYS);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 0, NULL), ==, 0);

    /* Likewise for SYSENTER's any-RIP entries. */
    add(t, entry(CR3_A, 0, RSP_B, 0, 100, 0));
    add(t, entry(CR3_A, 0, RSP_B, 0, 101, 0));
    g_assert_cmpuint(match(t, CR3_A, RIP_B, RSP_B, 0, NULL), ==, 101);
    g_assert_cmpuint(match(t, CR3_A, RIP_B, RSP_B, 0, NULL), ==, 0);

    /* The replacement takes the stale way, and is young again. */
    same_bucket_rsps(CR3_B, rsp, CLOAK_PENDING_WAYS + 1);
    for (i = 0; i < CLOAK_PENDING_WAYS; i++) {
        add(t, entry(CR3_B, RIP_A, rsp[i], 0, 200 + i, 0));
    }
    add(t, entry(CR3_B, RIP_A, rsp[0], 0, 300, 0));
    g_assert_cmpuint(t->evicted, ==, 0);
    add(t, entry(CR3_B, RIP_A, rsp[CLOAK_PENDING_WAYS], 0, 400, 0));
    g_assert_cmpuint(t->evicted, ==, 1);
    g_assert_cmpuint(match(t, CR3_B, RIP_A, rsp[1], 0, NULL), ==, 0);
    g_assert_cmpuint(match(t, CR3_B, RIP_A, rsp[0], 0, NULL), ==, 300);
    for (i = 2; i < CLOAK_PENDING_WAYS; i++) {
        g_assert_cmpuint(match(t, CR3_B, RIP_A, rsp[i], 0, NULL), ==,
                         200 + i);
    }
    g_assert_cmpuint(match(t, CR3_B, RIP_A, rsp[CLOAK_PENDING_WAYS], 0,
                           NULL), ==, 400);
    g_free(t);
}

/* execve that succeeded, or a call blocked for long: evicted by age. */
static void test_evict_oldest(void)
{
    CloakPendingTable *t = g_new0(CloakPendingTable, 1);
    uint64_t rsp[CLOAK_PENDING_WAYS + 2];
    unsigned i;

    same_bucket_rsps(CR3_A, rsp, CLOAK_PENDING_WAYS + 2);
    for (i = 0; i < CLOAK_PENDING_WAYS + 2; i++) {
        g_assert_cmpuint(cloak_pending_bucket(CR3_A, rsp[i]), ==,
                         cloak_pending_bucket(CR3_A, rsp[0]));
    }

    for (i = 0; i < CLOAK_PENDING_WAYS; i++) {
        add(t, entry(CR3_A, RIP_A, rsp[i], 59, i + 1, 0));
    }
    g_assert_cmpuint(t->evicted, ==, 0);
    add(t, entry(CR3_A, RIP_A, rsp[CLOAK_PENDING_WAYS], 0,
                 CLOAK_PENDING_WAYS + 1, 0));
    g_assert_cmpuint(t->evicted, ==, 1);

    g_assert_cmpuint(match(t, CR3_A, RIP_A, rsp[0], 0, NULL), ==, 0);
    for (i = 1; i <= CLOAK_PENDING_WAYS; i++) {
        g_assert_cmpuint(match(t, CR3_A, RIP_A, rsp[i], 0, NULL), ==, i + 1);
    }

    /* A way freed by a return is reused before anything is evicted. */
    for (i = 0; i < CLOAK_PENDING_WAYS; i++) {
        add(t, entry(CR3_A, RIP_A, rsp[i], 0, 10 + i, 0));
    }
    g_assert_cmpuint(t->evicted, ==, 1);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, rsp[2], 0, NULL), ==, 12);
    add(t, entry(CR3_A, RIP_A, rsp[CLOAK_PENDING_WAYS + 1], 0, 20, 0));
    g_assert_cmpuint(t->evicted, ==, 1);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, rsp[0], 0, NULL), ==, 10);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, rsp[CLOAK_PENDING_WAYS + 1], 0,
                           NULL), ==, 20);

    /* Other buckets are untouched by this one's overflow. */
    add(t, entry(CR3_B, RIP_A, RSP_B, 0, 30, 0));
    g_assert_cmpuint(match(t, CR3_B, RIP_A, RSP_B, 0, NULL), ==, 30);
    g_assert_cmpuint(t->evicted, ==, 1);
    g_free(t);
}

static void test_fork_parent_first(void)
{
    CloakPendingTable *t = g_new0(CloakPendingTable, 1);
    CloakPending p;
    bool child = true;

    add(t, fork_entry(CR3_A, RIP_A, RSP_A, 0, 7));
    g_assert_cmpuint(forks_in_use(t), ==, 1);

    /* The parent's return must be in its own address space. */
    g_assert_cmpuint(match(t, CR3_B, RIP_A, RSP_A, 1234, NULL), ==, 0);
    g_assert_cmpuint(match(t, CR3_A, RIP_B, RSP_A, 1234, NULL), ==, 0);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_B, 1234, NULL), ==, 0);

    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 1234, &child), ==, 7);
    g_assert_false(child);
    g_assert_cmpuint(forks_in_use(t), ==, 1);   /* the child is still due */
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 1234, NULL), ==, 0);

    /* The child: 0, same RIP and RSP, its own CR3. */
    g_assert_cmpuint(match(t, CR3_B, RIP_B, RSP_A, 0, NULL), ==, 0);
    g_assert_cmpuint(match(t, CR3_B, RIP_A, RSP_B, 0, NULL), ==, 0);
    child = false;
    g_assert_cmpuint(match(t, CR3_B, RIP_A, RSP_A, 0, &child), ==, 7);
    g_assert_true(child);

    /* Both seen: forgotten. */
    g_assert_cmpuint(forks_in_use(t), ==, 0);
    g_assert_cmpuint(match(t, CR3_B, RIP_A, RSP_A, 0, NULL), ==, 0);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 1234, NULL), ==, 0);
    g_assert_cmpuint(t->evicted, ==, 0);

    /*
     * The next fork from there, in the freed slot, pairs afresh; the
     * caller's used and done flags are not taken over.
     */
    p = fork_entry(CR3_A, RIP_A, RSP_A, 0, 70);
    p.used = false;
    p.parent_done = p.child_done = true;
    add(t, p);
    g_assert_cmpuint(forks_in_use(t), ==, 1);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 1235, &child), ==, 70);
    g_assert_false(child);
    g_assert_cmpuint(match(t, CR3_B, RIP_A, RSP_A, 0, &child), ==, 70);
    g_assert_true(child);
    g_assert_cmpuint(forks_in_use(t), ==, 0);
    g_free(t);
}

static void test_fork_child_first(void)
{
    CloakPendingTable *t = g_new0(CloakPendingTable, 1);
    bool child = false;

    /* vfork: the child runs (in the parent's address space) first. */
    add(t, fork_entry(CR3_A, RIP_A, RSP_A, 0, 8));
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 0, &child), ==, 8);
    g_assert_true(child);
    g_assert_cmpuint(forks_in_use(t), ==, 1);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 0, NULL), ==, 0);

    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 99, &child), ==, 8);
    g_assert_false(child);
    g_assert_cmpuint(forks_in_use(t), ==, 0);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 99, NULL), ==, 0);
    g_free(t);
}

static void test_fork_clone_stack(void)
{
    CloakPendingTable *t = g_new0(CloakPendingTable, 1);
    bool child = false;

    /* clone(CLONE_VM | ..., newsp): a thread starts on its new stack. */
    add(t, fork_entry(CR3_A, RIP_A, RSP_A, CHILD_STACK, 9));
    /* The parent never returns on the child's stack. */
    g_assert_cmpuint(match(t, CR3_A, RIP_A, CHILD_STACK, 300, NULL), ==, 0);
    g_assert_cmpuint(match(t, CR3_A, RIP_B, CHILD_STACK, 0, NULL), ==, 0);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, CHILD_STACK, 0, &child), ==, 9);
    g_assert_true(child);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, CHILD_STACK, 0, NULL), ==, 0);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 300, &child), ==, 9);
    g_assert_false(child);
    g_assert_cmpuint(forks_in_use(t), ==, 0);
    g_free(t);
}

static void test_fork_failed(void)
{
    CloakPendingTable *t = g_new0(CloakPendingTable, 1);
    bool child = true;

    add(t, fork_entry(CR3_A, RIP_A, RSP_A, 0, 11));
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, -11, &child), ==, 11);
    g_assert_false(child);
    /* -EAGAIN: no child will come, the entry is complete. */
    g_assert_cmpuint(forks_in_use(t), ==, 0);
    g_assert_cmpuint(match(t, CR3_B, RIP_A, RSP_A, 0, NULL), ==, 0);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 0, NULL), ==, 0);
    g_free(t);
}

static void test_fork_not_in_buckets(void)
{
    CloakPendingTable *t = g_new0(CloakPendingTable, 1);
    uint64_t rsp[CLOAK_PENDING_WAYS];
    unsigned i;

    /* A fork entry does not take a way from its bucket. */
    same_bucket_rsps(CR3_A, rsp, CLOAK_PENDING_WAYS);
    for (i = 0; i < CLOAK_PENDING_WAYS; i++) {
        add(t, entry(CR3_A, RIP_B, rsp[i], 0, i + 1, 0));
    }
    add(t, fork_entry(CR3_A, RIP_A, rsp[0], 0, 50));
    g_assert_cmpuint(t->evicted, ==, 0);
    g_assert_cmpuint(forks_in_use(t), ==, 1);
    for (i = 0; i < CLOAK_PENDING_WAYS; i++) {
        g_assert_cmpuint(match(t, CR3_A, RIP_B, rsp[i], 0, NULL), ==, i + 1);
    }
    g_assert_cmpuint(match(t, CR3_A, RIP_A, rsp[0], 5, NULL), ==, 50);

    /* A restarted fork (no return seen yet) replaces its entry. */
    add(t, fork_entry(CR3_A, RIP_B, RSP_B, 0, 60));
    add(t, fork_entry(CR3_A, RIP_B, RSP_B, 0, 61));
    g_assert_cmpuint(forks_in_use(t), ==, 2);
    g_assert_cmpuint(t->evicted, ==, 0);
    g_assert_cmpuint(match(t, CR3_A, RIP_B, RSP_B, 5, NULL), ==, 61);
    g_free(t);
}

static void test_fork_list_full(void)
{
    CloakPendingTable *t = g_new0(CloakPendingTable, 1);
    bool child = false;
    unsigned i;

    for (i = 0; i < CLOAK_PENDING_FORKS; i++) {
        add(t, fork_entry(CR3_A, RIP_A, RSP_A + 0x1000 * i, 0, i + 1));
    }
    g_assert_cmpuint(forks_in_use(t), ==, CLOAK_PENDING_FORKS);
    g_assert_cmpuint(t->evicted, ==, 0);

    /* Half done still holds its place; the oldest goes regardless. */
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 100, NULL), ==, 1);
    add(t, fork_entry(CR3_A, RIP_A, RSP_B + 0x100000, 0, 1000));
    g_assert_cmpuint(t->evicted, ==, 1);
    g_assert_cmpuint(forks_in_use(t), ==, CLOAK_PENDING_FORKS);
    g_assert_cmpuint(match(t, CR3_B, RIP_A, RSP_A, 0, NULL), ==, 0);

    add(t, fork_entry(CR3_A, RIP_A, RSP_B + 0x200000, 0, 1001));
    g_assert_cmpuint(t->evicted, ==, 2);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A + 0x1000, 100, NULL), ==, 0);

    for (i = 2; i < CLOAK_PENDING_FORKS; i++) {
        g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A + 0x1000 * i, 100,
                               &child), ==, i + 1);
        g_assert_false(child);
    }
    g_assert_cmpuint(match(t, CR3_B, RIP_A, RSP_B + 0x100000, 0, &child), ==,
                     1000);
    g_assert_true(child);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_B + 0x200000, -1, NULL), ==,
                     1001);
    g_assert_cmpuint(t->evicted, ==, 2);
    g_free(t);
}

/* fork through SYSENTER: the entry has no RIP; both returns pair. */
static void test_fork_sysenter(void)
{
    CloakPendingTable *t = g_new0(CloakPendingTable, 1);
    bool child = true;

    add(t, fork_entry(CR3_A, 0, RSP_A, 0, 5));
    g_assert_cmpuint(match(t, CR3_A, RIP_B, RSP_A, 1234, &child), ==, 5);
    g_assert_false(child);
    g_assert_cmpuint(match(t, CR3_B, RIP_B, RSP_A, 0, &child), ==, 5);
    g_assert_true(child);
    g_assert_cmpuint(forks_in_use(t), ==, 0);
    g_free(t);
}

/*
 * A fork loop: the parent forks again from the same place before the
 * first child ran.  The first entry still waits for its child; each child
 * pairs with its own fork, the oldest first.
 */
static void test_fork_loop(void)
{
    CloakPendingTable *t = g_new0(CloakPendingTable, 1);
    bool child = false;

    add(t, fork_entry(CR3_A, RIP_A, RSP_A, 0, 10));
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 100, NULL), ==, 10);
    add(t, fork_entry(CR3_A, RIP_A, RSP_A, 0, 20));
    g_assert_cmpuint(forks_in_use(t), ==, 2);
    g_assert_cmpuint(t->evicted, ==, 0);
    g_assert_cmpuint(match(t, CR3_B, RIP_A, RSP_A, 0, &child), ==, 10);
    g_assert_true(child);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 101, NULL), ==, 20);
    g_assert_cmpuint(match(t, CR3_B + 0x1000, RIP_A, RSP_A, 0, NULL), ==, 20);
    g_assert_cmpuint(forks_in_use(t), ==, 0);
    g_free(t);
}

/*
 * Linux restarts a call entered through the vDSO by returning to its
 * "int $0x80", which enters it again: that return is no pairing, and the
 * new entry replaces the old one.
 */
static void test_vdso_restart(void)
{
    CloakPendingTable *t = g_new0(CloakPendingTable, 1);
    CloakPending out;
    bool child;

    add(t, entry(CR3_A, 0, RSP_A, 3, 30, 0));           /* read, SYSENTER */
    g_assert_false(cloak_pending_match(t, CR3_A, RIP_A - 2, RSP_A, 3, true,
                                       &out, &child));
    add(t, entry(CR3_A, RIP_A, RSP_A, 3, 31, 0));       /* read, INT 0x80 */
    g_assert_cmpuint(t->evicted, ==, 0);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 10, NULL), ==, 31);
    g_assert_cmpuint(match(t, CR3_A, RIP_B, RSP_A, 10, NULL), ==, 0);

    /* A fork restarted the same way. */
    add(t, fork_entry(CR3_A, 0, RSP_A, 0, 40));
    g_assert_false(cloak_pending_match(t, CR3_A, RIP_A - 2, RSP_A, 2, true,
                                       &out, &child));
    add(t, fork_entry(CR3_A, RIP_A, RSP_A, 0, 41));
    g_assert_cmpuint(forks_in_use(t), ==, 1);
    g_assert_cmpuint(match(t, CR3_A, RIP_A, RSP_A, 100, NULL), ==, 41);
    g_assert_cmpuint(match(t, CR3_B, RIP_A, RSP_A, 0, NULL), ==, 41);
    g_assert_cmpuint(forks_in_use(t), ==, 0);
    g_free(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/syscall-pending/pair", test_pair);
    g_test_add_func("/syscall-pending/task-travels", test_task_travels);
    g_test_add_func("/syscall-pending/pair-two-threads",
                    test_pair_two_threads);
    g_test_add_func("/syscall-pending/sysenter-any-rip",
                    test_sysenter_any_rip);
    g_test_add_func("/syscall-pending/replace-same-key",
                    test_replace_same_key);
    g_test_add_func("/syscall-pending/evict-oldest", test_evict_oldest);
    g_test_add_func("/syscall-pending/fork/parent-first",
                    test_fork_parent_first);
    g_test_add_func("/syscall-pending/fork/child-first",
                    test_fork_child_first);
    g_test_add_func("/syscall-pending/fork/clone-stack",
                    test_fork_clone_stack);
    g_test_add_func("/syscall-pending/fork/failed", test_fork_failed);
    g_test_add_func("/syscall-pending/fork/not-in-buckets",
                    test_fork_not_in_buckets);
    g_test_add_func("/syscall-pending/fork/list-full", test_fork_list_full);
    g_test_add_func("/syscall-pending/fork/sysenter", test_fork_sysenter);
    g_test_add_func("/syscall-pending/fork/loop", test_fork_loop);
    g_test_add_func("/syscall-pending/vdso-restart", test_vdso_restart);
    return g_test_run();
}
