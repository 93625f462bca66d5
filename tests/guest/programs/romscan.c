/*
 * romscan: look for virtual-machine strings in the legacy BIOS area and in
 * the PCI option ROMs, where a detector reading firmware would find them.
 *
 *   romscan            scan /dev/mem 0xC0000-0xFFFFF (the region Windows
 *                      hands out as the "FIRM" firmware table), the top
 *                      256 KiB below 4 GiB (where the whole BIOS image is
 *                      mapped, including code no longer resident below
 *                      1 MiB) and every /sys/bus/pci/devices/<bdf>/rom
 *   romscan FILE...    scan these files instead (firmware images on a host)
 *
 * Output, one record per line, meant for both people and tests:
 *   romscan: region <name> <start>-<end> bytes=<n>
 *   romscan: unreadable <name>: <reason>
 *   romscan: match <name> 0x<address> <pattern> "<context>"
 *   romscan: done regions=<n> bytes=<n> matches=<n> errors=<n>
 * Exit status: 0 nothing found, 1 something found, 2 a region could not be
 * read (a scan that missed a region must not pass as clean).
 *
 * The strings are matched case-insensitively.  The list holds what the
 * SeaBIOS, SeaVGABIOS, iPXE and QEMU option ROM images carry and what
 * firmware-scanning detectors (VMAware FIRMWARE, al-khaser) look for.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEGACY_START 0xc0000UL
#define LEGACY_END 0x100000UL
#define FLASH_START 0xfffc0000UL
#define FLASH_END 0x100000000UL
#define MAX_ROM_SIZE (16UL << 20)
#define CONTEXT_BYTES 12

static const char *const patterns[] = {
    "SeaBIOS", "SeaVGABIOS", "QEMU", "Bochs", "BXPC", "iPXE",
    "KVMKVMKVM", "kvm aPiC", "pc-q35", "Q35 +", "pc-i440fx", "OVMF", "EDK II",
    "WAET",
};

struct totals {
    unsigned regions;
    unsigned long bytes;
    unsigned matches;
    unsigned errors;
};

static int matches_at(const unsigned char *p, size_t left, const char *pat)
{
    size_t n = strlen(pat);
    size_t i;

    if (n > left) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (tolower(p[i]) != tolower((unsigned char)pat[i])) {
            return 0;
        }
    }
    return 1;
}

static void print_context(const unsigned char *buf, size_t len, size_t at)
{
    size_t from = at > CONTEXT_BYTES ? at - CONTEXT_BYTES : 0;
    size_t to = at + 3 * CONTEXT_BYTES < len ? at + 3 * CONTEXT_BYTES : len;
    size_t i;

    putchar('"');
    for (i = from; i < to; i++) {
        if (buf[i] >= 0x20 && buf[i] < 0x7f && buf[i] != '"' &&
            buf[i] != '\\') {
            putchar(buf[i]);
        } else {
            printf("\\x%02x", buf[i]);
        }
    }
    putchar('"');
}

static void scan_buffer(const char *name, unsigned long base,
                        const unsigned char *buf, size_t len,
                        struct totals *t)
{
    size_t at, k;

    printf("romscan: region %s 0x%lx-0x%lx bytes=%zu\n", name, base,
           base + (unsigned long)len - 1, len);
    t->regions++;
    t->bytes += len;
    for (at = 0; at < len; at++) {
        for (k = 0; k < sizeof(patterns) / sizeof(patterns[0]); k++) {
            if (matches_at(buf + at, len - at, patterns[k])) {
                printf("romscan: match %s 0x%lx %s ", name,
                       base + (unsigned long)at, patterns[k]);
                print_context(buf, len, at);
                putchar('\n');
                t->matches++;
            }
        }
    }
}

static void unreadable(const char *name, const char *why, struct totals *t)
{
    printf("romscan: unreadable %s: %s\n", name, why);
    t->errors++;
}

/* Reads up to @max bytes at @offset of @path; returns the count or -1. */
static long read_span(const char *path, unsigned long offset,
                      unsigned char *buf, size_t max)
{
    size_t got = 0;
    int fd = open(path, O_RDONLY);

    if (fd < 0) {
        return -1;
    }
    while (got < max) {
        ssize_t n = pread(fd, buf + got, max - got, (off_t)(offset + got));
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            close(fd);
            return -1;
        }
        if (n == 0) {
            break;
        }
        got += (size_t)n;
    }
    close(fd);
    return (long)got;
}

/*
 * Copies physical memory through an mmap of /dev/mem: read() stops at the
 * end of RAM (valid_phys_addr_range), the BIOS flash mapping lies above it.
 */
static long map_span(unsigned long start, unsigned char *buf, size_t len)
{
    int fd = open("/dev/mem", O_RDONLY | O_SYNC);
    void *p;

    if (fd < 0) {
        return -1;
    }
    p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, (off_t)start);
    close(fd);
    if (p == MAP_FAILED) {
        return -1;
    }
    memcpy(buf, p, len);
    munmap(p, len);
    return (long)len;
}

static void scan_mem(const char *name, unsigned long start, unsigned long end,
                     struct totals *t)
{
    size_t len = end - start;
    unsigned char *buf = malloc(len);
    long got;

    if (!buf) {
        unreadable(name, "out of memory", t);
        return;
    }
    got = map_span(start, buf, len);
    if (got < 0) {
        unreadable(name, strerror(errno), t);
    } else if ((size_t)got != len) {
        unreadable(name, "short read", t);
    } else {
        scan_buffer(name, start, buf, len, t);
    }
    free(buf);
}

static int write_word(const char *path, const char *word)
{
    int fd = open(path, O_WRONLY);
    int ok;

    if (fd < 0) {
        return -1;
    }
    ok = write(fd, word, strlen(word)) == (ssize_t)strlen(word);
    close(fd);
    return ok ? 0 : -1;
}

/*
 * A device's ROM BAR reads as all ones or nothing until enabled through
 * sysfs; devices without a ROM have no "rom" file at all.
 */
static void scan_pci_rom(const char *bdf, struct totals *t)
{
    char path[300], name[300];
    unsigned char *buf;
    long got;

    snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/rom", bdf);
    if (access(path, F_OK) != 0) {
        return;
    }
    snprintf(name, sizeof(name), "rom:%s", bdf);
    if (write_word(path, "1") != 0) {
        unreadable(name, strerror(errno), t);
        return;
    }
    buf = malloc(MAX_ROM_SIZE);
    if (!buf) {
        unreadable(name, "out of memory", t);
    } else {
        got = read_span(path, 0, buf, MAX_ROM_SIZE);
        if (got < 0) {
            unreadable(name, strerror(errno), t);
        } else {
            scan_buffer(name, 0, buf, (size_t)got, t);
        }
        free(buf);
    }
    write_word(path, "0");
}

static void scan_pci_roms(struct totals *t)
{
    DIR *d = opendir("/sys/bus/pci/devices");
    struct dirent *e;

    if (!d) {
        unreadable("pci", strerror(errno), t);
        return;
    }
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] != '.') {
            scan_pci_rom(e->d_name, t);
        }
    }
    closedir(d);
}

static void scan_file(const char *path, struct totals *t)
{
    struct stat st;
    unsigned char *buf;
    long got;

    if (stat(path, &st) != 0) {
        unreadable(path, strerror(errno), t);
        return;
    }
    buf = malloc(st.st_size > 0 ? (size_t)st.st_size : 1);
    if (!buf) {
        unreadable(path, "out of memory", t);
        return;
    }
    got = read_span(path, 0, buf, (size_t)st.st_size);
    if (got < 0) {
        unreadable(path, strerror(errno), t);
    } else {
        scan_buffer(path, 0, buf, (size_t)got, t);
    }
    free(buf);
}

int main(int argc, char **argv)
{
    struct totals t = { 0 };
    int i;

    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("usage: romscan [FILE...]\n"
               "Without FILE, scans /dev/mem 0xC0000-0xFFFFF and the PCI "
               "option ROMs.\n");
        return 0;
    }
    if (argc > 1) {
        for (i = 1; i < argc; i++) {
            scan_file(argv[i], &t);
        }
    } else {
        scan_mem("mem", LEGACY_START, LEGACY_END, &t);
        scan_mem("flash", FLASH_START, FLASH_END, &t);
        scan_pci_roms(&t);
    }
    printf("romscan: done regions=%u bytes=%lu matches=%u errors=%u\n",
           t.regions, t.bytes, t.matches, t.errors);
    fflush(stdout);
    if (t.errors) {
        return 2;
    }
    return t.matches ? 1 : 0;
}
