/*
 * qemu-cloak: cleaned firmware in place of QEMU's stock firmware files.
 *
 * The BIOS, the VGA BIOS and the option ROMs sit in the guest's
 * 0xC0000-0xFFFFF region, where anyone with /dev/mem (or Windows'
 * "FIRM" firmware table) reads their strings: "SeaBIOS", "QEMU", "Bochs",
 * "BXPC", iPXE's banners.  `make firmware` builds cleaned copies from
 * Debian's seabios source and QEMU's option ROM source, named
 * CLOAK_FIRMWARE_PREFIX + the stock name (cloak-bios-256k.bin,
 * cloak-vgabios-stdvga.bin, cloak-linuxboot_dma.bin, ...), and installs
 * them in share/qemu-cloak/firmware.  While the cloak is on, qemu_find_file()
 * tries that name first, so every stock name the machine asks for gets the
 * cleaned copy when one exists and the stock file otherwise; with
 * "-cloak off", or for a file given by path, nothing changes.
 *
 * NIC option ROMs (iPXE) are not rebuilt.  The cloak loads none: a guest
 * that boots from its disk needs no PXE ROM, and the OS drivers do not use
 * it.  Likewise kvmvapic.bin, the TPR-patching ROM that only helps 32-bit
 * Windows XP-era guests under KVM, and whose "kvm aPiC" signature would sit
 * in the option ROM area.  See docs/firmware.md.
 *
 * Copyright (c) 2026 qemu-cloak developers
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qemu/datadir.h"
#include "qemu/error-report.h"
#include "qom/object.h"
#include "hw/boards.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/pci_ids.h"
#include "hw/cloak/cloak.h"
#include "hw/cloak/cloak-firmware.h"
#include "hw/cloak/cloak-firmware-config.h"

static bool cloak_firmware_active;

char *cloak_firmware_alias(const char *name)
{
    if (!cloak_firmware_active || strchr(name, '/') ||
        g_str_has_prefix(name, CLOAK_FIRMWARE_PREFIX)) {
        return NULL;
    }
    return g_strconcat(CLOAK_FIRMWARE_PREFIX, name, NULL);
}

/* Every NIC model with a default option ROM loads none instead. */
static void cloak_firmware_disable_nic_roms(void)
{
    GSList *list = object_class_get_list(TYPE_PCI_DEVICE, false);

    for (GSList *l = list; l; l = l->next) {
        PCIDeviceClass *pc = PCI_DEVICE_CLASS(l->data);

        if ((pc->class_id >> 8) == PCI_BASE_CLASS_NETWORK && pc->romfile) {
            object_register_sugar_prop(object_class_get_name(l->data),
                                       "romfile", "", false);
        }
    }
    g_slist_free(list);
}

/*
 * Where the cleaned images are: installed, in share/qemu-cloak/firmware,
 * found relative to the binary, so they never sit in a distribution's
 * share/qemu.  A binary run from its build tree has its data directory,
 * and every directory of --firmwarepath, relocated into the tree's
 * qemu-bundle, where the distribution's SeaBIOS, iPXE and option ROMs are
 * not: with -cloak off, -M microvm or -M isapc it found no BIOS.  Add the
 * configured firmware path as it is, and make firmware's output.
 */
static void cloak_firmware_add_dirs(void)
{
    static const char *const firmware_path[] = {
        CONFIG_QEMU_FIRMWAREPATH
        NULL
    };
    g_autofree char *datadir = get_relocated_path(CONFIG_QEMU_DATADIR);

    if (!strstr(datadir, "/qemu-bundle/")) {
        qemu_add_data_dir(get_relocated_path(CLOAK_FIRMWARE_DIR));
        return;
    }
    for (size_t i = 0; firmware_path[i]; i++) {
        qemu_add_data_dir(g_strdup(firmware_path[i]));
    }
    qemu_add_data_dir(g_strdup(CLOAK_BUILD_FIRMWARE_DIR));
}

void cloak_firmware_machine_init(MachineState *ms)
{
    g_autofree char *bios = NULL;
    g_autofree char *base = NULL;

    cloak_firmware_add_dirs();
    if (!cloak_is_enabled()) {
        return;
    }
    if (!object_dynamic_cast(OBJECT(ms), "x86-machine")) {
        return;
    }
    cloak_firmware_active = true;
    cloak_firmware_disable_nic_roms();
    object_register_sugar_prop("apic-common", "vapic", "off", true);

    if (!ms->firmware || strchr(ms->firmware, '/')) {
        return;
    }
    bios = qemu_find_file(QEMU_FILE_TYPE_BIOS, ms->firmware);
    base = bios ? g_path_get_basename(bios) : NULL;
    if (!base || !g_str_has_prefix(base, CLOAK_FIRMWARE_PREFIX)) {
        warn_report("qemu-cloak: no cleaned build of the firmware '%s' "
                    "(" CLOAK_FIRMWARE_PREFIX "%s) is installed; the guest "
                    "can read the stock firmware's strings (make firmware)",
                    ms->firmware, ms->firmware);
    }
}
