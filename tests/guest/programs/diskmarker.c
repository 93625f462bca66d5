/*
 * diskmarker: read, and optionally write, a marker on the guest's first disk.
 *
 * The layered-image tests boot a guest that writes a marker into the top
 * layer, reset the layer from the host, and boot again: the second boot must
 * not find the marker.  No filesystem is involved: the marker is one sector
 * at a fixed offset of the raw disk.
 *
 *   diskmarker [dev=/dev/vda] [write NONCE]
 *
 * Prints "diskmarker: found nonce=N" or "diskmarker: found none", then, when
 * asked to write, "diskmarker: wrote nonce=N" once the marker is on the disk
 * and reads back.  Without dev=, the first of /dev/vda, /dev/sda, /dev/nvme0n1
 * that exists is used.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MARKER_OFFSET (1024 * 1024)
#define SECTOR 512
#define MAGIC "CLOAK-DISKMARKER v1 nonce="

static const char *const default_disks[] = { "/dev/vda", "/dev/sda", "/dev/nvme0n1" };

static const char *find_disk(void)
{
    size_t i;
    int tries;

    /* The driver may still be probing the disk when we start. */
    for (tries = 0; tries < 50; tries++) {
        for (i = 0; i < sizeof(default_disks) / sizeof(default_disks[0]); i++) {
            if (access(default_disks[i], F_OK) == 0) {
                return default_disks[i];
            }
        }
        usleep(100 * 1000);
    }
    return NULL;
}

static int read_marker(int fd, const char *dev, char *nonce, size_t len)
{
    char buf[SECTOR];
    ssize_t n;

    /* Drop cached blocks so the read comes from the (virtual) disk. */
    ioctl(fd, BLKFLSBUF, 0);
    n = pread(fd, buf, sizeof(buf), MARKER_OFFSET);
    if (n != (ssize_t)sizeof(buf)) {
        printf("diskmarker: cannot read %s at %d: %s\n", dev, MARKER_OFFSET,
               n < 0 ? strerror(errno) : "short read");
        return -1;
    }
    if (memcmp(buf, MAGIC, strlen(MAGIC)) != 0) {
        nonce[0] = '\0';
        return 0;
    }
    buf[SECTOR - 1] = '\0';
    snprintf(nonce, len, "%s", buf + strlen(MAGIC));
    nonce[strcspn(nonce, "\n")] = '\0';
    return 0;
}

static int write_marker(int fd, const char *dev, const char *nonce)
{
    char buf[SECTOR];

    memset(buf, 0, sizeof(buf));
    snprintf(buf, sizeof(buf), MAGIC "%s\n", nonce);
    if (pwrite(fd, buf, sizeof(buf), MARKER_OFFSET) != (ssize_t)sizeof(buf)) {
        printf("diskmarker: cannot write %s: %s\n", dev, strerror(errno));
        return -1;
    }
    if (fsync(fd) != 0) {
        printf("diskmarker: cannot flush %s: %s\n", dev, strerror(errno));
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *dev = NULL;
    const char *new_nonce = NULL;
    char found[SECTOR];
    int fd;
    int i;

    setvbuf(stdout, NULL, _IONBF, 0);
    for (i = 1; i < argc; i++) {
        if (strncmp(argv[i], "dev=", 4) == 0) {
            dev = argv[i] + 4;
        } else if (strcmp(argv[i], "write") == 0 && i + 1 < argc) {
            new_nonce = argv[++i];
        } else {
            printf("diskmarker: unknown argument '%s'\n"
                   "usage: diskmarker [dev=DEVICE] [write NONCE]\n", argv[i]);
            return 2;
        }
    }
    if (new_nonce && (strlen(new_nonce) == 0 || strlen(new_nonce) > 200 ||
                      strchr(new_nonce, '\n'))) {
        printf("diskmarker: nonce must be 1-200 characters on one line\n");
        return 2;
    }
    if (!dev) {
        dev = find_disk();
        if (!dev) {
            printf("diskmarker: no disk found (looked for /dev/vda, /dev/sda, /dev/nvme0n1)\n");
            return 1;
        }
    }
    fd = open(dev, new_nonce ? O_RDWR : O_RDONLY);
    if (fd < 0) {
        printf("diskmarker: cannot open %s: %s\n", dev, strerror(errno));
        return 1;
    }
    if (read_marker(fd, dev, found, sizeof(found)) < 0) {
        return 1;
    }
    printf("diskmarker: device %s\n", dev);
    if (found[0]) {
        printf("diskmarker: found nonce=%s\n", found);
    } else {
        printf("diskmarker: found none\n");
    }
    if (new_nonce) {
        if (write_marker(fd, dev, new_nonce) < 0 ||
            read_marker(fd, dev, found, sizeof(found)) < 0) {
            return 1;
        }
        if (strcmp(found, new_nonce) != 0) {
            printf("diskmarker: wrote nonce=%s but read back '%s'\n", new_nonce, found);
            return 1;
        }
        printf("diskmarker: wrote nonce=%s\n", new_nonce);
    }
    close(fd);
    return 0;
}
