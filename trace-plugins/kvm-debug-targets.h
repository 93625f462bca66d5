/*
 * cloak-trace under KVM: where the hardware breakpoints go and what a hit
 * means, derived from guest register and IDT state only.  Header-only and
 * free of QEMU headers so that tests can check every rule without a guest.
 *
 * Slot 0 (DR0) watches the 64-bit SYSCALL entry (MSR_LSTAR); slot 1 (DR1)
 * the #PF handler (IDT vector 14).  Both are instruction breakpoints on
 * linear addresses, so they fire in every address space.
 */
#ifndef CLOAK_KVM_DEBUG_TARGETS_H
#define CLOAK_KVM_DEBUG_TARGETS_H

#include <stdbool.h>
#include <stdint.h>

enum {
    CLOAK_KVM_SLOT_SYSCALL = 0,
    CLOAK_KVM_SLOT_PAGEFAULT = 1,
    CLOAK_KVM_SLOTS = 2,
};

#define CLOAK_KVM_DR6_BS   (1u << 14)   /* single-step */
#define CLOAK_KVM_PF_VECTOR 14

typedef struct CloakKvmTargets {
    uint64_t addr[CLOAK_KVM_SLOTS];
    bool valid[CLOAK_KVM_SLOTS];
} CloakKvmTargets;

/* 48-bit canonical: bits 63..47 all equal. */
static inline bool cloak_kvm_canonical(uint64_t a)
{
    uint64_t top = a >> 47;

    return top == 0 || top == 0x1ffff;
}

/*
 * The handler of a 16-byte long-mode IDT gate: present, interrupt (0xE) or
 * trap (0xF) gate type, canonical offset.  False otherwise.
 */
static inline bool cloak_kvm_idt_gate_target(const uint8_t g[16],
                                             uint64_t *target)
{
    uint8_t type_attr = g[5];
    uint64_t off = (uint64_t)g[0] | (uint64_t)g[1] << 8 |
                   (uint64_t)g[6] << 16 | (uint64_t)g[7] << 24 |
                   (uint64_t)g[8] << 32 | (uint64_t)g[9] << 40 |
                   (uint64_t)g[10] << 48 | (uint64_t)g[11] << 56;

    if (!(type_attr & 0x80)) {
        return false;                   /* not present */
    }
    if ((type_attr & 0x1f) != 0x0e && (type_attr & 0x1f) != 0x0f) {
        return false;                   /* not a 64-bit interrupt/trap gate */
    }
    if (!off || !cloak_kvm_canonical(off)) {
        return false;
    }
    *target = off;
    return true;
}

/*
 * Targets from the guest state: long mode active (EFER.LMA), LSTAR, and
 * the IDT (limit and the 16 bytes of gate 14, NULL if unreadable).
 */
static inline void cloak_kvm_derive(CloakKvmTargets *t, bool long_mode,
                                    bool syscall_enabled, uint64_t lstar,
                                    uint32_t idt_limit, const uint8_t *gate14,
                                    bool want_syscall, bool want_pf)
{
    t->valid[CLOAK_KVM_SLOT_SYSCALL] = want_syscall && long_mode &&
        syscall_enabled && lstar && cloak_kvm_canonical(lstar);
    t->addr[CLOAK_KVM_SLOT_SYSCALL] =
        t->valid[CLOAK_KVM_SLOT_SYSCALL] ? lstar : 0;
    t->valid[CLOAK_KVM_SLOT_PAGEFAULT] = false;
    t->addr[CLOAK_KVM_SLOT_PAGEFAULT] = 0;
    if (want_pf && long_mode && gate14 &&
        idt_limit >= CLOAK_KVM_PF_VECTOR * 16 + 15) {
        t->valid[CLOAK_KVM_SLOT_PAGEFAULT] =
            cloak_kvm_idt_gate_target(gate14,
                                      &t->addr[CLOAK_KVM_SLOT_PAGEFAULT]);
    }
}

/* DR7 for instruction breakpoints on the enabled slots (as QEMU's gdbstub). */
static inline uint64_t cloak_kvm_dr7(const bool enabled[CLOAK_KVM_SLOTS])
{
    uint64_t dr7 = 0x0600;      /* reserved bit 10, GE, as QEMU sets it */
    int n;

    for (n = 0; n < CLOAK_KVM_SLOTS; n++) {
        if (enabled[n]) {
            dr7 |= 2ull << (n * 2); /* G<n>; R/W=00 (execute), LEN=00 */
        }
    }
    return dr7;
}

/* Which of our armed slots a #DB exit reports in DR6, or -1. */
static inline int cloak_kvm_hit_slot(uint64_t dr6,
                                     const bool armed[CLOAK_KVM_SLOTS])
{
    int n;

    for (n = 0; n < CLOAK_KVM_SLOTS; n++) {
        if ((dr6 & (1u << n)) && armed[n]) {
            return n;
        }
    }
    return -1;
}

/*
 * The #PF frame at the handler's first instruction, as the CPU pushed it:
 * error code, RIP, CS, RFLAGS, RSP, SS (8 bytes each, from RSP up).
 */
typedef struct CloakKvmPfFrame {
    uint32_t error_code;
    uint64_t rip;
    uint8_t cpl;
} CloakKvmPfFrame;

static inline CloakKvmPfFrame cloak_kvm_pf_frame(const uint64_t frame[6])
{
    CloakKvmPfFrame f = {
        .error_code = (uint32_t)frame[0],
        .rip = frame[1],
        .cpl = (uint8_t)(frame[2] & 3),
    };
    return f;
}

#endif /* CLOAK_KVM_DEBUG_TARGETS_H */
