/*
 * qemu-cloak: make the VM look like a real PC of a profile's class.
 *
 * This is the interface between QEMU's own files (the thin hooks in
 * patches/) and the cloak code in hw/cloak.  Everything the cloak sets is
 * a default: explicit -machine, -cpu, -smbios, -device and -global
 * settings win.  "-cloak off" leaves QEMU exactly as upstream built it.
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_CLOAK_H
#define HW_CLOAK_H

#include "hw/cloak/cloak-profile.h"

struct smbios_structure_header;

/* The -cloak option. */
extern QemuOptsList qemu_cloak_opts;

/* Parses one -cloak argument; "-cloak help" lists the profiles and exits. */
void cloak_option_parse(const char *optarg);

/*
 * True once the cloak is active for this VM: not "-cloak off", and the
 * machine is an x86 PC (not "-machine none", as libvirt uses to probe).
 */
bool cloak_is_enabled(void);

/* The profile in use, or NULL when the cloak is off. */
const CloakProfile *cloak_profile(void);

/*
 * A profile value with its per-VM templates expanded for this VM, or
 * NULL when the profile lacks it.  The string lives as long as QEMU.
 */
const char *cloak_value(const char *group, const char *key);

/*
 * A [cpu] value of the model the profile chose for this VM's topology:
 * KEY-<C>c<T>t where the profile sets it for that model, else KEY.
 */
const char *cloak_cpu_value(const char *key);

/* A numeric profile value (validated on load), or @dflt when absent. */
uint64_t cloak_value_number(const char *group, const char *key,
                            uint64_t dflt);

/* The seed per-VM values derive from (-uuid, else -name), or "". */
const char *cloak_seed(void);

/*
 * vl.c hooks, in this order:
 *  1. right after the machine object exists, before -machine options are
 *     applied: loads the profile, sets the machine property defaults and
 *     the device identity defaults;
 *  2. right before -cpu is parsed (its features register after ours and
 *     so win): registers the CPU property defaults.
 */
void cloak_machine_created(MachineState *ms, Error **errp);
void cloak_register_cpu_defaults(MachineState *ms, const char *cpu_option,
                                 Error **errp);

/* net/net.c: assigns or rewrites a NIC's MAC; false leaves it to QEMU. */
bool cloak_net_macaddr(MACAddr *mac);

/* hw/acpi/aml-build.c: header fields after OEM ID and OEM table ID. */
void cloak_acpi_header_ids(uint32_t *oem_rev, const char **creator_id,
                           uint32_t *creator_rev);

/* hw/i386/acpi-build.c: DMA, PIT, PIC, FPU and speaker in @scope. */
void cloak_acpi_build_legacy_devices(Aml *scope);

/*
 * hw/i386/acpi-build.c, hw/isa: the DSDT name of the PCI function at
 * @devfn on @bus: a firmware-style name by its class (GFX0, HDEF, SAT0,
 * ...) under the cloak, QEMU's "Sxx" otherwise.  Stable for a given bus.
 */
const char *cloak_acpi_pci_name(const PCIBus *bus, int devfn);

/*
 * hw/i386/acpi-build.c: the profile's platform devices (buttons, WMI,
 * thermal zone, fans, battery, AC adapter, lid) into the DSDT, and its
 * further tables (WSMT); nothing when the cloak is off.
 */
struct BIOSLinker;
void cloak_acpi_build_platform_devices(Aml *dsdt);
void cloak_acpi_build_tables(GArray *table_offsets, GArray *tables_blob,
                             struct BIOSLinker *linker, const char *oem_id,
                             const char *oem_table_id);

/*
 * hw/i386/fw_cfg.c: sets the SMBIOS defaults from the profile in place of
 * QEMU's "QEMU"/"Standard PC (...)"/"pc-q35-10.0"; false when the cloak
 * is off.
 */
bool cloak_smbios_set_defaults(MachineState *ms);

/* hw/smbios: adjusts a structure just built; called for every one. */
void cloak_smbios_fixup(struct smbios_structure_header *hdr);

/* hw/smbios: builds the structures QEMU has no code for (type 7). */
void cloak_smbios_build_extra(MachineState *ms);


#endif
