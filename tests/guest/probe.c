/*
 * cloak-probe: print what a guest can see of the machine it runs on.
 *
 * Runs as root in the test guest's initramfs (built static) and prints one
 * record per line:
 *
 *   PROBE-BEGIN 1
 *   PROBE <key> <value>
 *   ...
 *   PROBE-END <number of PROBE records>
 *
 * Keys contain no spaces.  Values are escaped so that a record never spans
 * lines: '\\' becomes "\\\\" and every byte outside printable ASCII becomes
 * "\xHH".  The count on the end line lets a reader detect a report that was
 * cut short.  docs/guest.md lists the keys.
 */

#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/hdreg.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#define TIMING_RUNS 1000
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_FILE (4 * 1024 * 1024)

static unsigned long record_count;

/* Print one record; the value is len bytes of arbitrary data. */
static void record_bytes(const char *key, const unsigned char *val, size_t len)
{
    size_t i;

    /* Keys come from sysfs names too: keep them one word. */
    fputs("PROBE ", stdout);
    for (i = 0; key[i]; i++) {
        int c = (unsigned char)key[i];

        putchar(isgraph(c) && c != '\\' ? c : '_');
    }
    putchar(' ');
    for (i = 0; i < len; i++) {
        unsigned char c = val[i];

        if (c == '\\') {
            fputs("\\\\", stdout);
        } else if (c >= 0x20 && c < 0x7f) {
            putchar(c);
        } else {
            printf("\\x%02x", c);
        }
    }
    putchar('\n');
    record_count++;
}

static void record(const char *key, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void record(const char *key, const char *fmt, ...)
{
    va_list ap;
    char *val;
    int len;

    va_start(ap, fmt);
    len = vasprintf(&val, fmt, ap);
    va_end(ap);
    if (len < 0) {
        abort();
    }
    record_bytes(key, (unsigned char *)val, len);
    free(val);
}

/* Read a whole file (sysfs files report a size of 4096 or 0). */
static unsigned char *read_file(const char *path, size_t *lenp)
{
    unsigned char *buf;
    size_t len = 0, cap = 65536;
    int fd;

    fd = open(path, O_RDONLY);
    if (fd < 0) {
        return NULL;
    }
    buf = malloc(cap);
    for (;;) {
        ssize_t n;

        if (len == cap) {
            if (cap >= MAX_FILE) {
                break;
            }
            cap *= 2;
            buf = realloc(buf, cap);
        }
        n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (n < 0 && len == 0) {
                free(buf);
                close(fd);
                return NULL;
            }
            break;
        }
        len += n;
    }
    close(fd);
    *lenp = len;
    return buf;
}

/* Record a small text file, without its trailing newline. */
static void record_text_file(const char *key, const char *path)
{
    unsigned char *buf;
    size_t len;

    buf = read_file(path, &len);
    if (!buf) {
        return;
    }
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\0')) {
        len--;
    }
    record_bytes(key, buf, len);
    free(buf);
}

static int name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int not_dot(const struct dirent *d)
{
    return d->d_name[0] != '.';
}

/* The entries of dir, sorted, without "." names; *n is -1 if missing. */
static struct dirent **list_dir(const char *dir, int *n)
{
    struct dirent **names = NULL;

    *n = scandir(dir, &names, not_dot, name_cmp);
    return names;
}

static void free_list(struct dirent **names, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        free(names[i]);
    }
    free(names);
}

static int is_regular(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The index of the newline ending the line that starts at s (or len). */
static size_t line_end(const unsigned char *buf, size_t len, size_t s)
{
    const unsigned char *nl = memchr(buf + s, '\n', len - s);

    return nl ? (size_t)(nl - buf) : len;
}

/* ---- CPUID -------------------------------------------------------------- */

struct regs {
    uint32_t eax, ebx, ecx, edx;
};

static struct regs cpuid(uint32_t leaf, uint32_t subleaf)
{
    struct regs r;

    __asm__ volatile("cpuid"
                     : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
                     : "a"(leaf), "c"(subleaf));
    return r;
}

static void record_leaf(uint32_t leaf, uint32_t subleaf, int with_subleaf)
{
    struct regs r = cpuid(leaf, subleaf);
    char key[64];

    if (with_subleaf) {
        snprintf(key, sizeof(key), "cpuid.0x%08x.%u", leaf, subleaf);
    } else {
        snprintf(key, sizeof(key), "cpuid.0x%08x", leaf);
    }
    record(key, "%08x %08x %08x %08x", r.eax, r.ebx, r.ecx, r.edx);
}

static void probe_cpuid(void)
{
    struct regs r;
    char vendor[13], brand[49], key[64];
    uint32_t leaf, max;
    int i;

    r = cpuid(0, 0);
    memcpy(vendor, &r.ebx, 4);
    memcpy(vendor + 4, &r.edx, 4);
    memcpy(vendor + 8, &r.ecx, 4);
    vendor[12] = '\0';
    record_bytes("cpuid.vendor", (unsigned char *)vendor, 12);
    max = r.eax;
    for (leaf = 0; leaf <= max && leaf < 0x20; leaf++) {
        record_leaf(leaf, 0, 0);
    }
    for (i = 1; i < 4 && max >= 7; i++) {
        record_leaf(7, i, 1);
    }
    for (i = 1; i < 4 && max >= 0xb; i++) {
        record_leaf(0xb, i, 1);
    }

    r = cpuid(1, 0);
    record("cpuid.hypervisor_bit", "%u", (r.ecx >> 31) & 1);

    /* Hypervisor leaves: every one, whatever 0x40000000 claims. */
    for (leaf = 0x40000000; leaf <= 0x400000ff; leaf++) {
        unsigned char sig[12];
        int printable = 0;

        r = cpuid(leaf, 0);
        snprintf(key, sizeof(key), "cpuid.0x%08x", leaf);
        record(key, "%08x %08x %08x %08x", r.eax, r.ebx, r.ecx, r.edx);
        memcpy(sig, &r.ebx, 4);
        memcpy(sig + 4, &r.ecx, 4);
        memcpy(sig + 8, &r.edx, 4);
        for (i = 0; i < 12; i++) {
            printable += isprint(sig[i]) && sig[i] != ' ';
        }
        if (printable >= 4) {
            snprintf(key, sizeof(key), "cpuid.0x%08x.sig", leaf);
            record_bytes(key, sig, 12);
        }
    }

    r = cpuid(0x80000000, 0);
    max = r.eax;
    for (leaf = 0x80000000; leaf <= max && leaf < 0x80000021; leaf++) {
        record_leaf(leaf, 0, 0);
    }
    if (max >= 0x80000004) {
        for (i = 0; i < 3; i++) {
            r = cpuid(0x80000002 + i, 0);
            memcpy(brand + 16 * i, &r, 16);
        }
        brand[48] = '\0';
        record_bytes("cpuid.brand", (unsigned char *)brand, strlen(brand));
    }
}

/* ---- CPUID exit timing -------------------------------------------------- */

static inline uint64_t rdtsc(void)
{
    uint32_t lo, hi;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

static int u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static void record_timing(const char *name, uint64_t *d)
{
    char key[64];

    qsort(d, TIMING_RUNS, sizeof(*d), u64_cmp);
    snprintf(key, sizeof(key), "timing.%s.median", name);
    record(key, "%llu", (unsigned long long)d[TIMING_RUNS / 2]);
    snprintf(key, sizeof(key), "timing.%s.min", name);
    record(key, "%llu", (unsigned long long)d[0]);
}

static void probe_timing(void)
{
    static uint64_t d[TIMING_RUNS];
    int i;

    record("timing.runs", "%d", TIMING_RUNS);
    for (i = 0; i < TIMING_RUNS; i++) {
        uint64_t t0 = rdtsc();
        uint64_t t1 = rdtsc();

        d[i] = t1 - t0;
    }
    record_timing("rdtsc", d);
    for (i = 0; i < TIMING_RUNS; i++) {
        uint64_t t0 = rdtsc();

        cpuid(0, 0);
        d[i] = rdtsc() - t0;
    }
    record_timing("cpuid", d);
}

/* ---- SMBIOS / DMI ------------------------------------------------------- */

static void probe_dmi_id(void)
{
    const char *dir = "/sys/class/dmi/id";
    struct dirent **names;
    char path[512], key[NAME_MAX + 16];
    int i, n;

    names = list_dir(dir, &n);
    record("dmi.present", "%d", n >= 0);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        if (!is_regular(path) || !strcmp(names[i]->d_name, "uevent") ||
            !strcmp(names[i]->d_name, "modalias")) {
            continue;
        }
        snprintf(key, sizeof(key), "dmi.%s", names[i]->d_name);
        record_text_file(key, path);
    }
    free_list(names, n);
}

static void hex_record(const char *key, const unsigned char *p, size_t len)
{
    char *hex = malloc(2 * len + 1);
    size_t i;

    for (i = 0; i < len; i++) {
        sprintf(hex + 2 * i, "%02x", p[i]);
    }
    hex[2 * len] = '\0';
    record(key, "%s", hex);
    free(hex);
}

static void probe_smbios_tables(void)
{
    unsigned char *buf;
    size_t len, off = 0;
    unsigned count = 0;
    char key[128];

    buf = read_file("/sys/firmware/dmi/tables/smbios_entry_point", &len);
    if (buf) {
        hex_record("smbios.entry_point", buf, len);
        free(buf);
    }
    buf = read_file("/sys/firmware/dmi/tables/DMI", &len);
    if (!buf) {
        record("smbios.tables", "missing");
        return;
    }
    record("smbios.tables.length", "%zu", len);
    while (off + 4 <= len) {
        unsigned type = buf[off], flen = buf[off + 1];
        unsigned handle = buf[off + 2] | buf[off + 3] << 8;
        size_t s, str_no = 1;
        char prefix[64];

        if (flen < 4 || off + flen > len) {
            record("smbios.error", "structure at offset %zu has length %u",
                   off, flen);
            break;
        }
        snprintf(prefix, sizeof(prefix), "smbios.%04x", handle);
        snprintf(key, sizeof(key), "%s.type", prefix);
        record(key, "%u", type);
        snprintf(key, sizeof(key), "%s.formatted", prefix);
        hex_record(key, buf + off, flen);

        /* The string set: NUL-terminated strings ending with an empty one. */
        s = off + flen;
        if (s + 1 < len && buf[s] == 0 && buf[s + 1] == 0) {
            s += 2;
        } else {
            while (s < len && buf[s]) {
                size_t e = s;

                while (e < len && buf[e]) {
                    e++;
                }
                snprintf(key, sizeof(key), "%s.str%zu", prefix, str_no++);
                record_bytes(key, buf + s, e - s);
                s = e + 1;
            }
            s++;
        }
        count++;
        off = s;
        if (type == 127) {
            break;
        }
    }
    record("smbios.structures", "%u", count);
    free(buf);
}

static void probe_smbios_bits(void)
{
    unsigned char *buf;
    size_t len;

    /* BIOS characteristics extension byte 2 (offset 0x13), bit 4: "VM". */
    buf = read_file("/sys/firmware/dmi/entries/0-0/raw", &len);
    if (buf) {
        if (len > 0x13 && buf[1] > 0x13) {
            record("smbios.bios.vm_bit", "%u", (buf[0x13] >> 4) & 1);
        } else {
            record("smbios.bios.vm_bit", "absent");
        }
        free(buf);
    }
    buf = read_file("/sys/firmware/dmi/entries/3-0/raw", &len);
    if (buf) {
        if (len > 5) {
            record("smbios.chassis.type", "%u", buf[5] & 0x7f);
        }
        free(buf);
    }
}

/* ---- ACPI --------------------------------------------------------------- */

static const char *const acpi_needles[] = {
    "BOCHS", "BXPC", "QEMU", "FWCF", "QEMU0002",
};

static void field(const char *key, const unsigned char *p, size_t len)
{
    record_bytes(key, p, len);
}

static uint32_t le32(const unsigned char *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

static void probe_acpi_table(const char *name, const char *path)
{
    unsigned char *buf;
    size_t len, i;
    char key[320], found[64] = "";
    int n;

    buf = read_file(path, &len);
    if (!buf) {
        return;
    }
    snprintf(key, sizeof(key), "acpi.%s.length", name);
    record(key, "%zu", len);
    /* The FACS is the one table without the common header. */
    if (len >= 36 && memcmp(buf, "FACS", 4) != 0) {
        snprintf(key, sizeof(key), "acpi.%s.signature", name);
        field(key, buf, 4);
        snprintf(key, sizeof(key), "acpi.%s.revision", name);
        record(key, "%u", buf[8]);
        snprintf(key, sizeof(key), "acpi.%s.oem_id", name);
        field(key, buf + 10, 6);
        snprintf(key, sizeof(key), "acpi.%s.oem_table_id", name);
        field(key, buf + 16, 8);
        snprintf(key, sizeof(key), "acpi.%s.oem_revision", name);
        record(key, "0x%08x", le32(buf + 24));
        snprintf(key, sizeof(key), "acpi.%s.creator_id", name);
        field(key, buf + 28, 4);
        snprintf(key, sizeof(key), "acpi.%s.creator_revision", name);
        record(key, "0x%08x", le32(buf + 32));
    }
    if (!strcmp(name, "FACP") && len > 45) {
        record("acpi.FACP.pm_profile", "%u", buf[45]);
    }
    for (n = 0; n < (int)ARRAY_SIZE(acpi_needles); n++) {
        size_t nl = strlen(acpi_needles[n]);

        for (i = 0; i + nl <= len; i++) {
            if (!memcmp(buf + i, acpi_needles[n], nl)) {
                strcat(found, found[0] ? "," : "");
                strcat(found, acpi_needles[n]);
                break;
            }
        }
    }
    snprintf(key, sizeof(key), "acpi.%s.contains", name);
    record(key, "%s", found);
    free(buf);
}

static void probe_acpi_dir(const char *dir, const char *prefix)
{
    struct dirent **names;
    char path[512], name[NAME_MAX + 16];
    int i, n;

    names = list_dir(dir, &n);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        if (!is_regular(path)) {
            continue;
        }
        snprintf(name, sizeof(name), "%s%s", prefix, names[i]->d_name);
        probe_acpi_table(name, path);
    }
    free_list(names, n);
}

static void probe_acpi(void)
{
    int n;
    struct dirent **names = list_dir("/sys/firmware/acpi/tables", &n);

    record("acpi.present", "%d", n >= 0);
    free_list(names, n);
    probe_acpi_dir("/sys/firmware/acpi/tables", "");
    probe_acpi_dir("/sys/firmware/acpi/tables/dynamic", "dynamic/");
}

/* ---- devices ------------------------------------------------------------ */

/* Record dir/<file> as prefix.<file> for each of files that exists. */
static void record_files(const char *prefix, const char *dir,
                         const char *const *files)
{
    char path[1024], key[1024];

    for (; *files; files++) {
        snprintf(path, sizeof(path), "%s/%s", dir, *files);
        snprintf(key, sizeof(key), "%s.%s", prefix, *files);
        record_text_file(key, path);
    }
}

/* prefix.driver: the name of the driver bound to the device at dir. */
static void record_driver(const char *prefix, const char *dir)
{
    char path[1024], target[1024], key[1024];
    ssize_t len;

    snprintf(path, sizeof(path), "%s/driver", dir);
    len = readlink(path, target, sizeof(target) - 1);
    if (len > 0) {
        target[len] = '\0';
        snprintf(key, sizeof(key), "%s.driver", prefix);
        record(key, "%s", basename(target));
    }
}

static void probe_pci(void)
{
    static const char *const files[] = {
        "vendor", "device", "subsystem_vendor", "subsystem_device",
        "class", "revision", NULL,
    };
    const char *dir = "/sys/bus/pci/devices";
    struct dirent **names;
    char path[1024], prefix[NAME_MAX + 16];
    int i, n;

    names = list_dir(dir, &n);
    record("pci.count", "%d", n < 0 ? 0 : n);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        snprintf(prefix, sizeof(prefix), "pci.%s", names[i]->d_name);
        record_files(prefix, path, files);
        record_driver(prefix, path);
    }
    free_list(names, n);
}

static void probe_ata_identity(const char *prefix, const char *dev)
{
    struct hd_driveid id;
    char key[NAME_MAX + 64];
    int fd;

    fd = open(dev, O_RDONLY | O_NONBLOCK);
    if (fd < 0) {
        return;
    }
    if (ioctl(fd, HDIO_GET_IDENTITY, &id) == 0) {
        snprintf(key, sizeof(key), "%s.ata.model", prefix);
        record_bytes(key, id.model, sizeof(id.model));
        snprintf(key, sizeof(key), "%s.ata.serial", prefix);
        record_bytes(key, id.serial_no, sizeof(id.serial_no));
        snprintf(key, sizeof(key), "%s.ata.firmware", prefix);
        record_bytes(key, id.fw_rev, sizeof(id.fw_rev));
    }
    close(fd);
}

static void probe_block(void)
{
    static const char *const dev_files[] = {
        "vendor", "model", "rev", "serial", "firmware_rev", "wwid", NULL,
    };
    const char *dir = "/sys/block";
    struct dirent **names;
    char path[1024], prefix[NAME_MAX + 16], dev[NAME_MAX + 32];
    int i, n;

    names = list_dir(dir, &n);
    for (i = 0; i < n; i++) {
        const char *b = names[i]->d_name;

        if (!strncmp(b, "loop", 4) || !strncmp(b, "ram", 3)) {
            continue;
        }
        snprintf(prefix, sizeof(prefix), "block.%s", b);
        snprintf(path, sizeof(path), "%s/%s/size", dir, b);
        snprintf(dev, sizeof(dev), "%s.sectors", prefix);
        record_text_file(dev, path);
        snprintf(path, sizeof(path), "%s/%s/device", dir, b);
        record_files(prefix, path, dev_files);
        snprintf(dev, sizeof(dev), "/dev/%s", b);
        probe_ata_identity(prefix, dev);
    }
    free_list(names, n);
}

static void probe_nvme(void)
{
    static const char *const files[] = {
        "model", "serial", "firmware_rev", "subsysnqn", NULL,
    };
    const char *dir = "/sys/class/nvme";
    struct dirent **names;
    char path[1024], prefix[NAME_MAX + 16];
    int i, n;

    names = list_dir(dir, &n);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        snprintf(prefix, sizeof(prefix), "nvme.%s", names[i]->d_name);
        record_files(prefix, path, files);
    }
    free_list(names, n);
}

static void probe_scsi(void)
{
    static const char *const files[] = {
        "vendor", "model", "rev", "type", NULL,
    };
    const char *dir = "/sys/bus/scsi/devices";
    struct dirent **names;
    unsigned char *buf;
    char path[1024], prefix[NAME_MAX + 16];
    size_t len, s = 0, e;
    int i, n, line = 0;

    names = list_dir(dir, &n);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s/vendor", dir, names[i]->d_name);
        if (!is_regular(path)) {
            continue;        /* hosts and targets, not devices */
        }
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        snprintf(prefix, sizeof(prefix), "scsi.%s", names[i]->d_name);
        record_files(prefix, path, files);
    }
    free_list(names, n);

    buf = read_file("/proc/scsi/scsi", &len);
    if (!buf) {
        return;
    }
    while (s < len) {
        e = line_end(buf, len, s);
        snprintf(prefix, sizeof(prefix), "scsi.proc.%d", line++);
        record_bytes(prefix, buf + s, e - s);
        s = e + 1;
    }
    free(buf);
}

static void probe_input(void)
{
    unsigned char *buf;
    size_t len, s = 0, e;
    char key[64];
    int dev = 0, seen_line = 0;

    buf = read_file("/proc/bus/input/devices", &len);
    if (!buf) {
        return;
    }
    /* Blocks of "X: ..." lines separated by blank lines. */
    while (s < len) {
        e = line_end(buf, len, s);
        if (e == s) {
            dev += seen_line;
            seen_line = 0;
        } else if (e - s > 3 && buf[s + 1] == ':') {
            const char *what = NULL;

            static const char *const kinds[][2] = {
                { "I", "id" }, { "N", "name" }, { "P", "phys" },
                { "S", "sysfs" }, { "H", "handlers" },
            };
            size_t k;

            for (k = 0; k < ARRAY_SIZE(kinds); k++) {
                if (buf[s] == kinds[k][0][0]) {
                    what = kinds[k][1];
                }
            }
            if (what) {
                size_t vs = s + 3, ve = e;

                /* N: Name="..." */
                if (buf[s] == 'N' && ve - vs >= 7 &&
                    !memcmp(buf + vs, "Name=\"", 6) && buf[ve - 1] == '"') {
                    vs += 6;
                    ve--;
                }
                snprintf(key, sizeof(key), "input.%d.%s", dev, what);
                record_bytes(key, buf + vs, ve - vs);
            }
            seen_line = 1;
        }
        s = e + 1;
    }
    record("input.count", "%d", dev + seen_line);
    free(buf);
}

static void probe_usb(void)
{
    static const char *const files[] = {
        "idVendor", "idProduct", "bcdDevice", "manufacturer", "product",
        "serial", "speed", NULL,
    };
    const char *dir = "/sys/bus/usb/devices";
    struct dirent **names;
    char path[1024], prefix[NAME_MAX + 16];
    int i, n;

    names = list_dir(dir, &n);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s/idVendor", dir, names[i]->d_name);
        if (!is_regular(path)) {
            continue;        /* interfaces */
        }
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
        snprintf(prefix, sizeof(prefix), "usb.%s", names[i]->d_name);
        record_files(prefix, path, files);
    }
    free_list(names, n);
}

static void probe_net(void)
{
    const char *dir = "/sys/class/net";
    struct dirent **names;
    char path[1024], key[NAME_MAX + 16];
    int i, n;

    names = list_dir(dir, &n);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s/address", dir, names[i]->d_name);
        snprintf(key, sizeof(key), "net.%s.mac", names[i]->d_name);
        record_text_file(key, path);
        snprintf(path, sizeof(path), "%s/%s/device", dir, names[i]->d_name);
        snprintf(key, sizeof(key), "net.%s", names[i]->d_name);
        record_driver(key, path);
    }
    free_list(names, n);
}

/* HDA codecs: /proc/asound/cardN/codec#M, "Key: value" lines. */
static void probe_sound(void)
{
    static const char *const fields[][2] = {
        { "Codec: ", "codec" },
        { "Vendor Id: ", "vendor_id" },
        { "Subsystem Id: ", "subsystem_id" },
        { "Revision Id: ", "revision_id" },
    };
    const char *dir = "/proc/asound";
    struct dirent **cards, **codecs;
    char path[1024], key[2 * NAME_MAX + 32];
    int c, n_cards, k, n_codecs;

    record_text_file("sound.cards", "/proc/asound/cards");
    cards = list_dir(dir, &n_cards);
    for (c = 0; c < n_cards; c++) {
        if (strncmp(cards[c]->d_name, "card", 4)) {
            continue;
        }
        snprintf(path, sizeof(path), "%s/%s", dir, cards[c]->d_name);
        codecs = list_dir(path, &n_codecs);
        for (k = 0; k < n_codecs; k++) {
            unsigned char *buf;
            size_t len, s = 0, e, f;

            if (strncmp(codecs[k]->d_name, "codec#", 6)) {
                continue;
            }
            snprintf(path, sizeof(path), "%s/%s/%s", dir, cards[c]->d_name,
                     codecs[k]->d_name);
            buf = read_file(path, &len);
            while (buf && s < len) {
                e = line_end(buf, len, s);
                for (f = 0; f < ARRAY_SIZE(fields); f++) {
                    size_t fl = strlen(fields[f][0]);

                    if (e - s > fl && !memcmp(buf + s, fields[f][0], fl)) {
                        snprintf(key, sizeof(key), "sound.%s.%s.%s",
                                 cards[c]->d_name, codecs[k]->d_name + 6,
                                 fields[f][1]);
                        record_bytes(key, buf + s + fl, e - s - fl);
                    }
                }
                s = e + 1;
            }
            free(buf);
        }
        free_list(codecs, n_codecs);
    }
    free_list(cards, n_cards);
}

/* Monitor identity from the EDID of each DRM connector. */
static void probe_edid(void)
{
    const char *dir = "/sys/class/drm";
    struct dirent **names;
    char path[1024], key[NAME_MAX + 32];
    int i, n;

    names = list_dir(dir, &n);
    for (i = 0; i < n; i++) {
        unsigned char *e;
        size_t len, d;

        snprintf(path, sizeof(path), "%s/%s/edid", dir, names[i]->d_name);
        e = read_file(path, &len);
        if (!e) {
            continue;
        }
        if (len >= 128) {
            unsigned id = e[8] << 8 | e[9];
            char vendor[4] = {
                '@' + ((id >> 10) & 31), '@' + ((id >> 5) & 31),
                '@' + (id & 31), 0,
            };

            snprintf(key, sizeof(key), "edid.%s.vendor", names[i]->d_name);
            record(key, "%s", vendor);
            snprintf(key, sizeof(key), "edid.%s.product", names[i]->d_name);
            record(key, "0x%04x", e[10] | e[11] << 8);
            snprintf(key, sizeof(key), "edid.%s.serial", names[i]->d_name);
            record(key, "0x%08x", le32(e + 12));
            /* Descriptors 0xfc (name) and 0xff (serial text). */
            for (d = 54; d + 18 <= 126; d += 18) {
                if (e[d] == 0 && e[d + 1] == 0 &&
                    (e[d + 3] == 0xfc || e[d + 3] == 0xff)) {
                    size_t l = 0;

                    while (l < 13 && e[d + 5 + l] != '\n') {
                        l++;
                    }
                    snprintf(key, sizeof(key), "edid.%s.%s", names[i]->d_name,
                             e[d + 3] == 0xfc ? "name" : "serial_text");
                    record_bytes(key, e + d + 5, l);
                }
            }
        }
        snprintf(key, sizeof(key), "edid.%s.raw", names[i]->d_name);
        hex_record(key, e, len);
        free(e);
    }
    free_list(names, n);
}

static void probe_platform(void)
{
    record("fwcfg.visible", "%d",
           access("/sys/firmware/qemu_fw_cfg", F_OK) == 0);
    record_text_file("fwcfg.rev", "/sys/firmware/qemu_fw_cfg/rev");
    record_text_file("clocksource.current",
        "/sys/devices/system/clocksource/clocksource0/current_clocksource");
    record_text_file("clocksource.available",
        "/sys/devices/system/clocksource/clocksource0/available_clocksource");
    record_text_file("hypervisor.type", "/sys/hypervisor/type");
    record("cpu.online", "%ld", sysconf(_SC_NPROCESSORS_ONLN));
    record("mem.pages", "%ld", sysconf(_SC_PHYS_PAGES));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    printf("PROBE-BEGIN 1\n");
    probe_cpuid();
    probe_timing();
    probe_dmi_id();
    probe_smbios_tables();
    probe_smbios_bits();
    probe_acpi();
    probe_pci();
    probe_block();
    probe_nvme();
    probe_scsi();
    probe_input();
    probe_usb();
    probe_net();
    probe_sound();
    probe_edid();
    probe_platform();
    printf("PROBE-END %lu\n", record_count);
    return fflush(stdout) == 0 ? 0 : 1;
}
