/*
 * powerwait: stay up until the ACPI power button is pressed, then power off.
 *
 * `virsh shutdown` presses the virtual power button; a guest with no handler
 * ignores it.  This program is that handler, so the libvirt test can check a
 * clean, guest-initiated shutdown.
 *
 * Prints "powerwait: ready device=/dev/input/eventN" once it listens, and
 * "powerwait: power button pressed" before it powers the guest off.  It
 * writes to /dev/console, not stdout: /init holds a program's output back
 * until it exits, but the host must see "ready" before it presses, and
 * nothing would be printed after the power-off.  Needs the kernel's ACPI
 * button driver and evdev (modules button, evdev).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdarg.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/reboot.h>
#include <unistd.h>

/* One line on the console (stdout when there is no /dev/console). */
static void say(const char *fmt, ...)
{
    va_list ap;
    int fd = open("/dev/console", O_WRONLY | O_NOCTTY);

    va_start(ap, fmt);
    if (fd >= 0) {
        vdprintf(fd, fmt, ap);
        close(fd);
    } else {
        vprintf(fmt, ap);
    }
    va_end(ap);
}

static int open_power_button(char *path, size_t len)
{
    struct dirent *d;
    DIR *dir;
    int tries;

    for (tries = 0; tries < 30; tries++) {
        dir = opendir("/sys/class/input");
        while (dir && (d = readdir(dir)) != NULL) {
            char name_path[300];
            char name[128] = "";
            FILE *f;

            if (strncmp(d->d_name, "event", 5) != 0) {
                continue;
            }
            snprintf(name_path, sizeof(name_path), "/sys/class/input/%s/device/name",
                     d->d_name);
            f = fopen(name_path, "r");
            if (!f) {
                continue;
            }
            if (!fgets(name, sizeof(name), f)) {
                name[0] = '\0';
            }
            fclose(f);
            if (strncmp(name, "Power Button", 12) == 0) {
                int fd;

                snprintf(path, len, "/dev/input/%s", d->d_name);
                fd = open(path, O_RDONLY);
                closedir(dir);
                return fd < 0 ? -errno : fd;
            }
        }
        if (dir) {
            closedir(dir);
        }
        usleep(100 * 1000);
    }
    return -ENOENT;
}

int main(void)
{
    struct input_event ev;
    char path[300];
    int fd;

    setvbuf(stdout, NULL, _IONBF, 0);
    fd = open_power_button(path, sizeof(path));
    if (fd == -ENOENT) {
        say("powerwait: no power button input device (modules button and evdev loaded?)\n");
        return 1;
    }
    if (fd < 0) {
        say("powerwait: cannot open %s: %s\n", path, strerror(-fd));
        return 1;
    }
    say("powerwait: ready device=%s\n", path);
    for (;;) {
        ssize_t n = read(fd, &ev, sizeof(ev));

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n != (ssize_t)sizeof(ev)) {
            say("powerwait: read %s: %s\n", path, n < 0 ? strerror(errno) : "short read");
            return 1;
        }
        if (ev.type == EV_KEY && ev.code == KEY_POWER && ev.value == 1) {
            break;
        }
    }
    say("powerwait: power button pressed\n");
    sync();
    reboot(RB_POWER_OFF);
    say("powerwait: poweroff failed: %s\n", strerror(errno));
    return 1;
}
