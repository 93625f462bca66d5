/*
 * biosid: print the identity the BIOS shows in its own memory next to the
 * one the SMBIOS tables give, so that a test can check that they agree.
 *
 *   biosid
 *
 * Reads 0xF0000-0xFFFFF through /dev/mem: the release date at F000:FFF5,
 * the ACPI RSDP's OEM ID and the MP table's OEM and product IDs; and the
 * kernel's view of SMBIOS (/sys/class/dmi/id).  Output, one per line:
 *   biosid: date-fff5 "<8 characters>"
 *   biosid: rsdp-oem "<6 characters>"            (or: rsdp none)
 *   biosid: mp-oem "<8>" mp-product "<12>"       (or: mp none / mp outside)
 *   biosid: dmi-bios-date "<string>"
 *   biosid: dmi-product "<string>"
 * Exit status: 0, or 2 when /dev/mem cannot be read.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define FSEG 0xf0000UL
#define FSEG_SIZE 0x10000UL

static unsigned char fseg[FSEG_SIZE];

static void print_field(const char *label, const unsigned char *p, size_t n)
{
    size_t i;

    printf(" %s \"", label);
    for (i = 0; i < n; i++) {
        putchar(p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' ? p[i] : '?');
    }
    putchar('"');
}

static uint32_t le32(const unsigned char *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static const unsigned char *find16(const char *sig, size_t len)
{
    size_t off;

    for (off = 0; off + len <= FSEG_SIZE; off += 16) {
        if (!memcmp(fseg + off, sig, len)) {
            return fseg + off;
        }
    }
    return NULL;
}

static void print_dmi(const char *label, const char *file)
{
    char path[128], buf[256] = "";
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/sys/class/dmi/id/%s", file);
    fd = open(path, O_RDONLY);
    if (fd >= 0) {
        n = read(fd, buf, sizeof(buf) - 1);
        buf[n > 0 ? n : 0] = '\0';
        close(fd);
    }
    buf[strcspn(buf, "\n")] = '\0';
    printf("biosid: %s \"%s\"\n", label, buf);
}

int main(void)
{
    const unsigned char *rsdp, *mpf;
    size_t got = 0;
    int fd = open("/dev/mem", O_RDONLY);

    if (fd < 0) {
        printf("biosid: error /dev/mem: %s\n", strerror(errno));
        return 2;
    }
    while (got < FSEG_SIZE) {
        ssize_t n = pread(fd, fseg + got, FSEG_SIZE - got, FSEG + got);
        if (n <= 0) {
            printf("biosid: error /dev/mem: %s\n",
                   n < 0 ? strerror(errno) : "short read");
            close(fd);
            return 2;
        }
        got += (size_t)n;
    }
    close(fd);

    printf("biosid:");
    print_field("date-fff5", fseg + 0xfff5, 8);
    putchar('\n');

    rsdp = find16("RSD PTR ", 8);
    if (rsdp) {
        printf("biosid:");
        print_field("rsdp-oem", rsdp + 9, 6);
        putchar('\n');
    } else {
        printf("biosid: rsdp none\n");
    }

    mpf = find16("_MP_", 4);
    if (!mpf) {
        printf("biosid: mp none\n");
    } else {
        uint32_t table = le32(mpf + 4);

        if (table < FSEG || table + 44 > FSEG + FSEG_SIZE ||
            memcmp(fseg + (table - FSEG), "PCMP", 4)) {
            printf("biosid: mp outside 0x%x\n", table);
        } else {
            printf("biosid:");
            print_field("mp-oem", fseg + (table - FSEG) + 8, 8);
            print_field("mp-product", fseg + (table - FSEG) + 16, 12);
            putchar('\n');
        }
    }
    print_dmi("dmi-bios-date", "bios_date");
    print_dmi("dmi-product", "product_name");
    fflush(stdout);
    return 0;
}
