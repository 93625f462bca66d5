/*
 * The KVM path's rules, checked without a running guest: breakpoint
 * targets from LSTAR and IDT gate 14, DR7 encoding, DR6 hit decoding, and
 * the #PF frame layout (trace-plugins/kvm-debug-targets.h).
 */
#include <stdio.h>
#include <string.h>

#include "kvm-debug-targets.h"

static int passes, failures;

#define CHECK(cond) do { \
        if (cond) { \
            passes++; \
        } else { \
            failures++; \
            printf("not ok - %s:%d %s\n", __FILE__, __LINE__, #cond); \
        } \
    } while (0)

/* A long-mode IDT gate as Linux builds it (idt_init_desc). */
static void gate(uint8_t g[16], uint64_t off, uint8_t type_attr)
{
    memset(g, 0, 16);
    g[0] = off;
    g[1] = off >> 8;
    g[2] = 0x10;                /* selector __KERNEL_CS */
    g[5] = type_attr;
    g[6] = off >> 16;
    g[7] = off >> 24;
    g[8] = off >> 32;
    g[9] = off >> 40;
    g[10] = off >> 48;
    g[11] = off >> 56;
}

int main(void)
{
    CloakKvmTargets t;
    uint8_t g[16];
    uint64_t target = 0, frame[6];
    CloakKvmPfFrame f;
    bool both[2] = { true, true }, first[2] = { true, false };
    bool second[2] = { false, true };
    const uint64_t asm_exc_page_fault = 0xffffffff81c00b70ULL;
    const uint64_t entry_syscall_64 = 0xffffffff81c00080ULL;

    /* Gate decoding */
    gate(g, asm_exc_page_fault, 0x8e);
    CHECK(cloak_kvm_idt_gate_target(g, &target));
    CHECK(target == asm_exc_page_fault);
    gate(g, asm_exc_page_fault, 0x8f);             /* trap gate */
    CHECK(cloak_kvm_idt_gate_target(g, &target));
    gate(g, asm_exc_page_fault, 0x0e);             /* not present */
    CHECK(!cloak_kvm_idt_gate_target(g, &target));
    gate(g, asm_exc_page_fault, 0x85);             /* task gate */
    CHECK(!cloak_kvm_idt_gate_target(g, &target));
    gate(g, 0x0000800000000000ULL, 0x8e);          /* non-canonical */
    CHECK(!cloak_kvm_idt_gate_target(g, &target));
    gate(g, 0, 0x8e);
    CHECK(!cloak_kvm_idt_gate_target(g, &target));

    /* Derivation from register state */
    gate(g, asm_exc_page_fault, 0x8e);
    cloak_kvm_derive(&t, true, true, entry_syscall_64, 4095, g, true, true);
    CHECK(t.valid[0] && t.addr[0] == entry_syscall_64);
    CHECK(t.valid[1] && t.addr[1] == asm_exc_page_fault);
    cloak_kvm_derive(&t, false, true, entry_syscall_64, 4095, g, true, true);
    CHECK(!t.valid[0] && !t.valid[1]);             /* not in long mode yet */
    cloak_kvm_derive(&t, true, false, entry_syscall_64, 4095, g, true, true);
    CHECK(!t.valid[0] && t.valid[1]);              /* EFER.SCE clear */
    cloak_kvm_derive(&t, true, true, 0, 4095, g, true, true);
    CHECK(!t.valid[0]);                            /* LSTAR not set yet */
    cloak_kvm_derive(&t, true, true, entry_syscall_64, 14 * 16 + 14, g, true,
                     true);
    CHECK(!t.valid[1]);                            /* IDT too short */
    cloak_kvm_derive(&t, true, true, entry_syscall_64, 4095, NULL, true, true);
    CHECK(!t.valid[1]);                            /* gate unreadable */
    cloak_kvm_derive(&t, true, true, entry_syscall_64, 4095, g, false, true);
    CHECK(!t.valid[0] && t.valid[1]);              /* events=pagefault */
    cloak_kvm_derive(&t, true, true, 0x00007fffffffffffULL + 1, 4095, g,
                     true, false);
    CHECK(!t.valid[0] && !t.valid[1]);

    /* DR7: global enable bits for the armed slots, execute, 1 byte */
    CHECK(cloak_kvm_dr7(both) == (0x0600 | 0x2 | 0x8));
    CHECK(cloak_kvm_dr7(first) == (0x0600 | 0x2));
    CHECK(cloak_kvm_dr7(second) == (0x0600 | 0x8));

    /* DR6 hits */
    CHECK(cloak_kvm_hit_slot(0x1, both) == 0);
    CHECK(cloak_kvm_hit_slot(0x2, both) == 1);
    CHECK(cloak_kvm_hit_slot(0x2, first) == -1);   /* not ours */
    CHECK(cloak_kvm_hit_slot(0x4, both) == -1);    /* DR2: the guest's? */
    CHECK(cloak_kvm_hit_slot(CLOAK_KVM_DR6_BS, both) == -1);

    /* #PF frame: error code, RIP, CS, RFLAGS, RSP, SS */
    frame[0] = 0x6;
    frame[1] = 0x401234;
    frame[2] = 0x33;
    frame[3] = 0x246;
    frame[4] = 0x7ffe0000;
    frame[5] = 0x2b;
    f = cloak_kvm_pf_frame(frame);
    CHECK(f.error_code == 6 && f.rip == 0x401234 && f.cpl == 3);
    frame[2] = 0x10;
    CHECK(cloak_kvm_pf_frame(frame).cpl == 0);

    printf("%d passed, %d failed\n", passes, failures);
    return failures ? 1 : 0;
}
