/*
 * qemu-cloak NIC addresses.  QEMU gives NICs without mac= the address
 * 52:54:00:12:34:56 (+1 per NIC), the same in every VM, and libvirt
 * generates 52:54:00:xx:xx:xx; both name QEMU.  With the machine property
 * mac-oui set (the profile's [net] oui), a NIC without mac= gets that OUI
 * and three bytes derived from the VM's seed, and a 52:54:00 address keeps
 * its low three bytes under the new OUI.  Any other mac= is left alone.
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "net/net.h"
#include "hw/cloak/cloak.h"
#include "hw/cloak/cloak-machine.h"

static const uint8_t qemu_oui[3] = { 0x52, 0x54, 0x00 };

bool cloak_net_macaddr(MACAddr *mac)
{
    static const MACAddr zero;
    static unsigned nics;
    CloakMachineState *s = cloak_machine_state();
    unsigned oui[3];

    if (!s || !s->mac_oui ||
        sscanf(s->mac_oui, "%2x:%2x:%2x", &oui[0], &oui[1], &oui[2]) != 3) {
        return false;
    }
    if (!memcmp(mac, &zero, sizeof(zero))) {
        g_autofree char *purpose = g_strdup_printf("net/mac/%u", nics++);

        cloak_derive_bytes(cloak_seed(), purpose, &mac->a[3], 3);
    } else if (memcmp(mac->a, qemu_oui, sizeof(qemu_oui))) {
        return true;    /* an explicit, non-QEMU address wins */
    }
    for (int i = 0; i < 3; i++) {
        mac->a[i] = oui[i];
    }
    return true;
}
