/*
 * qemu-cloak: device identities from the profile's [devices] group
 *
 * A profile names the disk, CD-ROM, NVMe, USB, PCI subsystem, monitor
 * (EDID) and audio codec identities of the machine it describes.  Each
 * key of its [devices] group maps to one or more QOM properties (added by
 * patches 0030-0049, or stock ones such as ide-hd.model) and is
 * registered as a global property default the way QEMU registers its own
 * option sugar, so that -global and explicit -device properties still win.
 * docs/device-identity.md lists every key and property.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */

#ifndef HW_CLOAK_DEVICE_IDENTITY_H
#define HW_CLOAK_DEVICE_IDENTITY_H

#include "qapi/error.h"

#include "hw/cloak/cloak-profile.h"

/* The profile group this file reads. */
#define CLOAK_DEVICE_IDENTITY_GROUP "devices"

/*
 * Every key of the [devices] group, NULL-terminated, so the profile
 * validator can reject keys that are not in this list.
 */
extern const char *const cloak_device_identity_keys[];

/*
 * cloak_device_identity_validate:
 * Check the value of every [devices] key @profile sets (text length and
 * character set, number range, PNP ID format), after expanding per-VM
 * templates such as {D:8} with a fixed seed (expansions have the same
 * length whatever the seed).  Unknown keys are the validator's business
 * (see cloak_device_identity_keys) and ignored here.  Returns false and
 * sets @errp naming the key and the reason for the first bad value.
 */
bool cloak_device_identity_validate(const CloakProfile *profile,
                                    Error **errp);

/*
 * cloak_device_identity_register:
 * Expand every [devices] value @profile sets with the VM's @seed (see
 * cloak_profile_expand), validate it as above, then register it as a
 * default of the properties its key maps to.  Serial keys (disk-serial,
 * cd-serial, usb-*-serial) are templates expanded per device instead (see
 * cloak_device_default_serial in device-props.h); @profile must then
 * outlive the machine.  Nothing is registered when
 * a value is bad; then returns false and sets @errp.  Must run before the
 * machine creates its devices (objects created earlier miss global
 * defaults, as with -global); the order relative to the user's -global
 * options does not matter: those always take precedence, and so do
 * properties given on -device.
 */
bool cloak_device_identity_register(const CloakProfile *profile,
                                    const char *seed, Error **errp);

/*
 * cloak_device_identity_serial:
 * The default serial of @dev from the registered profile's per-device
 * template (disk-serial, cd-serial, usb-*-serial), or NULL when no key
 * covers @dev.  What cloak_device_default_serial() (device-props.h), the
 * IDE and USB hook, returns.
 */
char *cloak_device_identity_serial(DeviceState *dev);

/*
 * cloak_device_identity_set:
 * Register one key's value, validated as above; for values the cloak code
 * derives per VM rather than reads from the profile (e.g. edid-serial).
 * A later call for the same key wins.  Returns false and sets @errp for an
 * unknown key or a bad value.
 */
bool cloak_device_identity_set(const char *key, const char *value,
                               Error **errp);

/*
 * cloak_device_identity_leaks:
 * Walk every realized device of the current machine and list each device
 * identity the guest can read that still is QEMU's own: a QEMU string or
 * ID left at its stock value (or naming QEMU), a default per-VM serial
 * ("QM00001", USB "28754-..."), QEMU's default PCI subsystem 1af4:1100,
 * and device models that are QEMU's by choice (virtio and other
 * 1af4/1b36 devices, std VGA 1234:1111, pvpanic, vmgenid, ...).
 *
 * Returns one string per leak, "<qom-path> (<type>): <what> <value>:
 * <remedy>", where the remedy names the [devices] key that sets the value
 * when there is one; an empty array when nothing leaks.  The caller frees
 * the array (g_ptr_array_unref; it frees its strings).
 *
 * Call it once the machine is complete, e.g. from a machine-init-done
 * notifier (strict mode); devices hot-plugged later are not covered.
 */
GPtrArray *cloak_device_identity_leaks(void);

/*
 * cloak_device_identity_check:
 * The same walk.  Returns true when nothing leaks; otherwise returns false
 * and sets @errp to "N device identities are still QEMU's", with one hint
 * line per leak (printed by error_report_err()).
 */
bool cloak_device_identity_check(Error **errp);

#endif /* HW_CLOAK_DEVICE_IDENTITY_H */
