/*
 * qemu-cloak: checks and hooks behind the device identity properties
 *
 * The device patches (IDE, NVMe, USB, PCI, EDID, HDA) add QOM properties
 * whose defaults are QEMU's stock values.  What those properties need
 * beyond a field and a DEFINE_PROP line lives here, so the patches stay a
 * few lines each.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_CLOAK_DEVICE_PROPS_H
#define HW_CLOAK_DEVICE_PROPS_H

#include "qapi/error.h"

typedef struct PCIDevice PCIDevice;
typedef struct USBDevice USBDevice;
typedef struct USBDescID USBDescID;
typedef struct qemu_edid_info qemu_edid_info;

/*
 * Check an identity string a device reports in a fixed-width ASCII field
 * (ATA IDENTIFY, SCSI INQUIRY, NVMe Identify, USB string descriptors):
 * printable ASCII and at most @max_len characters.  NULL (unset) is fine.
 * On failure set @errp naming @prop and return false.
 */
bool cloak_prop_check_text(const char *prop, const char *value,
                           size_t max_len, Error **errp);

/*
 * Check a numeric identity property: unset (@value == @unset) or at most
 * @max.  On failure set @errp naming @prop and return false.
 */
bool cloak_prop_check_id(const char *prop, uint32_t value, uint32_t unset,
                         uint32_t max, Error **errp);

/*
 * PCI (std VGA, pcie-root-port): the vendor and device ID a board identity
 * chose, set from realize; 0 keeps the model's own.  @device_step is added
 * once per PCI function number, as an Intel PCH numbers its root ports.  A
 * device with a bridge subsystem capability then names the board there
 * (the default subsystem IDs), not the model's vendor.  Vendor 0xffff,
 * which reads as "no device", is refused.
 */
bool cloak_pci_set_ids(PCIDevice *dev, uint16_t vendor, uint16_t device,
                       uint8_t device_step, Error **errp);

/*
 * USB (hw/usb/bus.c, hw/usb/desc.c).  Every emulated USB device has the
 * properties manufacturer, product, id-vendor, id-product, bcd-device;
 * unset means the device model's own descriptor value.
 *
 * cloak_usb_identity_check: before realize; checks the values.
 * cloak_usb_identity_realize: after realize (some models choose their
 * descriptors in realize); checks that the device has emulated
 * descriptors carrying the strings set, installs the string overrides and
 * fills unset properties with the effective values, so qom-get shows what
 * the guest reads.  On failure the caller unrealizes the device.
 * cloak_usb_identity_desc_id: the idVendor, idProduct, bcdDevice and
 * string indexes for the device descriptor the guest reads.
 */
bool cloak_usb_identity_check(USBDevice *dev, Error **errp);
bool cloak_usb_identity_realize(USBDevice *dev, Error **errp);
void cloak_usb_identity_desc_id(USBDevice *dev, USBDescID *id);

/*
 * EDID (display devices with DEFINE_EDID_PROPERTIES): edid-vendor must be
 * a three-letter PNP ID (A-Z), edid-name and edid-serial fit the 13-byte
 * EDID text descriptors, edid-week is 1..54 and edid-year 1990..2245
 * (0 selects QEMU's default for the numeric fields).
 */
bool cloak_edid_info_check(const qemu_edid_info *info, Error **errp);

/*
 * The serial a device gets when the user set none, or NULL for QEMU's own
 * ("QM00001", USB "28754-<path>"): the profile's per-device template
 * (disk-serial, cd-serial, usb-*-serial) expanded with the VM's seed and
 * the device's place in the machine, so each disk of each VM differs and
 * stays the same from boot to boot.  Called where IDE and USB devices
 * make their default serial; the caller owns the string.
 */
char *cloak_device_default_serial(DeviceState *dev);

#endif /* HW_CLOAK_DEVICE_PROPS_H */
