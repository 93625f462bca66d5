/*
 * Stand-in for QEMU's qemu/osdep.h, so that the GLib-only profile code
 * (hw-cloak/cloak-profile.c) builds outside QEMU for unit tests and the
 * fuzz target.
 */
#ifndef CLOAK_SHIM_OSDEP_H
#define CLOAK_SHIM_OSDEP_H

#include <glib.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#endif
