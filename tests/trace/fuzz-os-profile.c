/*
 * libFuzzer target for the OS profile parser (trace-plugins/os-profile.c),
 * which QEMU runs on a file its user names: any byte string must parse or
 * be refused with an error, never crash, hang or leak.  A profile that
 * parses must survive a round trip through the writer unchanged.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "trace-plugins/os-profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(CloakOsProfile) p =
        cloak_os_profile_parse((const char *)data, size, &err);
    g_autoptr(CloakOsProfile) back = NULL;
    g_autofree char *text = NULL;
    g_autofree char *name = NULL;

    if (!p) {
        /* Every refusal says why. */
        if (!err || !err->message[0]) {
            abort();
        }
        return 0;
    }
    if (strlen(p->release) > CLOAK_OS_PROFILE_NAME_MAX ||
        strlen(p->version) > CLOAK_OS_PROFILE_NAME_MAX) {
        abort();
    }
    name = cloak_os_profile_kernel_name(p);
    text = cloak_os_profile_to_data(p, " fuzz");
    back = cloak_os_profile_parse(text, strlen(text), NULL);
    if (!back || strcmp(back->os, p->os) ||
        strcmp(back->release, p->release) ||
        strcmp(back->version, p->version) ||
        memcmp(back->offset, p->offset, sizeof(p->offset))) {
        abort();
    }
    return 0;
}
