/*
 * qemu-cloak: checks and hooks behind the device identity properties
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/pci_device.h"
#include "hw/usb.h"
#include "hw/usb/desc.h"
#include "hw/display/edid.h"
#include "hw/cloak/device-identity.h"
#include "hw/cloak/device-props.h"

/* A USB string descriptor holds at most 126 UTF-16 code units. */
#define USB_STRING_MAX_LEN 126

/* EDID text descriptors (monitor name, serial) hold 13 bytes. */
#define EDID_TEXT_MAX_LEN 13

bool cloak_prop_check_text(const char *prop, const char *value,
                           size_t max_len, Error **errp)
{
    const char *p;

    if (!value) {
        return true;
    }
    if (strlen(value) > max_len) {
        error_setg(errp, "property '%s': \"%s\" is longer than %zu characters",
                   prop, value, max_len);
        return false;
    }
    for (p = value; *p; p++) {
        if (*p < 0x20 || *p > 0x7e) {
            error_setg(errp, "property '%s': \"%s\" has a character that is "
                       "not printable ASCII at offset %td", prop, value,
                       p - value);
            return false;
        }
    }
    return true;
}

bool cloak_prop_check_id(const char *prop, uint32_t value, uint32_t unset,
                         uint32_t max, Error **errp)
{
    if (value != unset && value > max) {
        error_setg(errp, "property '%s': 0x%" PRIx32 " is out of range "
                   "(at most 0x%" PRIx32 ")", prop, value, max);
        return false;
    }
    return true;
}

/* ---------------------------------------------------------------- PCI */

bool cloak_pci_set_ids(PCIDevice *dev, uint16_t vendor, uint16_t device,
                       uint8_t device_step, Error **errp)
{
    uint8_t ssvid = pci_find_capability(dev, PCI_CAP_ID_SSVID);

    if (vendor == 0xffff) {
        error_setg(errp, "pci-vendor-id 0xffff reads as no device");
        return false;
    }
    if (vendor) {
        pci_config_set_vendor_id(dev->config, vendor);
        if (ssvid) {
            pci_set_word(dev->config + ssvid + PCI_SSVID_VENDOR_ID,
                         dev->default_sub_vendor_id);
            pci_set_word(dev->config + ssvid + PCI_SSVID_DEVICE_ID,
                         dev->default_sub_device_id);
        }
    }
    if (device) {
        pci_config_set_device_id(dev->config,
                                 device + device_step * PCI_FUNC(dev->devfn));
    }
    return true;
}

/* ---------------------------------------------------------------- USB */

bool cloak_usb_identity_check(USBDevice *dev, Error **errp)
{
    return cloak_prop_check_text("manufacturer", dev->manufacturer,
                                 USB_STRING_MAX_LEN, errp) &&
           cloak_prop_check_text("product", dev->product,
                                 USB_STRING_MAX_LEN, errp) &&
           cloak_prop_check_id("id-vendor", dev->id_vendor, UINT32_MAX,
                               UINT16_MAX, errp) &&
           cloak_prop_check_id("id-product", dev->id_product, UINT32_MAX,
                               UINT16_MAX, errp) &&
           cloak_prop_check_id("bcd-device", dev->bcd_device, UINT32_MAX,
                               UINT16_MAX, errp);
}

bool cloak_usb_identity_realize(USBDevice *dev, Error **errp)
{
    /* Known only now: some models pick their descriptors in realize. */
    const USBDesc *desc = usb_device_get_usb_desc(dev);
    const char *type = object_get_typename(OBJECT(dev));

    if (!desc) {
        /* Pass-through devices report the real device's descriptors. */
        if (dev->manufacturer || dev->product || dev->id_vendor != UINT32_MAX ||
            dev->id_product != UINT32_MAX || dev->bcd_device != UINT32_MAX) {
            error_setg(errp, "%s has no emulated USB descriptors: its "
                       "manufacturer, product, id-vendor, id-product and "
                       "bcd-device cannot be set", type);
            return false;
        }
        return true;
    }
    if (dev->manufacturer && !desc->id.iManufacturer) {
        error_setg(errp, "%s has no manufacturer string to replace", type);
        return false;
    }
    if (dev->product && !desc->id.iProduct) {
        error_setg(errp, "%s has no product string to replace", type);
        return false;
    }

    if (dev->manufacturer) {
        usb_desc_set_string(dev, desc->id.iManufacturer, dev->manufacturer);
    } else if (desc->id.iManufacturer) {
        dev->manufacturer = g_strdup(desc->str[desc->id.iManufacturer]);
    }
    if (dev->product) {
        usb_desc_set_string(dev, desc->id.iProduct, dev->product);
    } else if (desc->id.iProduct) {
        dev->product = g_strdup(desc->str[desc->id.iProduct]);
    }
    if (dev->id_vendor == UINT32_MAX) {
        dev->id_vendor = desc->id.idVendor;
    }
    if (dev->id_product == UINT32_MAX) {
        dev->id_product = desc->id.idProduct;
    }
    if (dev->bcd_device == UINT32_MAX) {
        dev->bcd_device = desc->id.bcdDevice;
    }
    return true;
}

void cloak_usb_identity_desc_id(USBDevice *dev, USBDescID *id)
{
    *id = usb_device_get_usb_desc(dev)->id;
    if (dev->id_vendor <= UINT16_MAX) {
        id->idVendor = dev->id_vendor;
    }
    if (dev->id_product <= UINT16_MAX) {
        id->idProduct = dev->id_product;
    }
    if (dev->bcd_device <= UINT16_MAX) {
        id->bcdDevice = dev->bcd_device;
    }
}

/* ---------------------------------------------------------------- EDID */

bool cloak_edid_info_check(const qemu_edid_info *info, Error **errp)
{
    const char *v = info->vendor;

    if (v && (strlen(v) != 3 || !g_ascii_isupper(v[0]) ||
              !g_ascii_isupper(v[1]) || !g_ascii_isupper(v[2]))) {
        error_setg(errp, "property 'edid-vendor': \"%s\" is not a "
                   "three-letter PNP ID (A-Z)", v);
        return false;
    }
    if (!cloak_prop_check_text("edid-name", info->name, EDID_TEXT_MAX_LEN,
                               errp) ||
        !cloak_prop_check_text("edid-serial", info->serial, EDID_TEXT_MAX_LEN,
                               errp)) {
        return false;
    }
    if (info->week > 54) {
        error_setg(errp, "property 'edid-week': %u is not a week (1..54, "
                   "0 for QEMU's default)", info->week);
        return false;
    }
    if (info->year && (info->year < 1990 || info->year > 2245)) {
        error_setg(errp, "property 'edid-year': %u is outside 1990..2245 "
                   "(0 for QEMU's default)", info->year);
        return false;
    }
    return true;
}

char *cloak_device_default_serial(DeviceState *dev)
{
    return cloak_device_identity_serial(dev);
}
