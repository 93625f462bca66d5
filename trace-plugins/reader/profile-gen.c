/*
 * cloak-trace profile: make an OS profile (trace-plugins/os-profile.h) of
 * a Linux guest kernel from the kernel's own BTF, read with libbpf.
 *
 * The input is a Debian linux-image package, a bzImage (vmlinuz), an ELF
 * vmlinux or a raw BTF file (a copy of the guest's /sys/kernel/btf/vmlinux),
 * told apart by content.  All of it is untrusted: every size read from it is
 * bounded before use.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <archive.h>

#include "os-profile.h"
#include "profile-gen.h"

#define PREFIX "cloak-trace profile: "

/* Inputs: a package or ELF of ~70 MB, a vmlinuz of ~10, a raw BTF of ~5. */
#define INPUT_MAX       (1ull << 30)
/* The decompressed ELF: Debian's 6.1 kernel makes 66 MB. */
#define ELF_MAX         ((size_t)1 << 30)
/* Anonymous struct/union members nest a few levels in real kernels. */
#define MEMBER_DEPTH_MAX 32
/* Members looked at for one offset; task_struct has ~300 in all. */
#define MEMBER_SEARCH_MAX 100000
/* "Linux version " strings looked at in an ELF. */
#define BANNER_CANDIDATES_MAX 64

typedef enum {
    PROFILE_ERR_INPUT,          /* exit 1 */
    PROFILE_ERR_USAGE,          /* exit 2 */
} ProfileErr;

#define PROFILE_ERROR profile_error_quark()

static GQuark profile_error_quark(void)
{
    return g_quark_from_static_string("cloak-trace-profile-error-quark");
}

typedef enum {
    INPUT_DEB,
    INPUT_BZIMAGE,
    INPUT_ELF,
    INPUT_BTF,
} InputKind;

static const char *const kind_names[] = {
    [INPUT_DEB] = "Debian package",
    [INPUT_BZIMAGE] = "bzImage",
    [INPUT_ELF] = "ELF vmlinux",
    [INPUT_BTF] = "raw BTF",
};

/* libbpf's warnings, kept to explain a failed parse. */
static GString *libbpf_log;

static int libbpf_print(enum libbpf_print_level level, const char *fmt,
                        va_list ap)
{
    if (level == LIBBPF_WARN && libbpf_log && libbpf_log->len < 4096) {
        g_string_append_vprintf(libbpf_log, fmt, ap);
    }
    return 0;
}

/* The last warning libbpf gave, one line, for an error message. */
static char *libbpf_last_warning(void)
{
    g_auto(GStrv) lines = NULL;
    const char *line;
    int n;

    if (!libbpf_log || !libbpf_log->len) {
        return g_strdup("");
    }
    lines = g_strsplit(g_strstrip(libbpf_log->str), "\n", -1);
    n = g_strv_length(lines);
    if (!n) {
        return g_strdup("");
    }
    line = g_strstrip(lines[n - 1]);
    /* libbpf starts most of its lines with "libbpf: " itself. */
    return g_strdup_printf("; %s%s", g_str_has_prefix(line, "libbpf: ") ?
                           "" : "libbpf: ", line);
}

static uint16_t get_le16(const uint8_t *p)
{
    return p[0] | p[1] << 8;
}

static uint32_t get_le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A release or version given or found: what the parser will accept. */
static bool check_kernel_name(const char *what, const char *v, GError **errp)
{
    size_t len = strlen(v);
    const char *c;

    if (!len || len > CLOAK_OS_PROFILE_NAME_MAX) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: %zu bytes; a kernel names itself in 1 to %d",
                    what, len, CLOAK_OS_PROFILE_NAME_MAX);
        return false;
    }
    for (c = v; *c; c++) {
        if (*c < 0x20 || *c > 0x7e) {
            g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                        "%s: byte 0x%02x is not printable ASCII", what,
                        (unsigned char)*c);
            return false;
        }
    }
    return true;
}

/* ---- telling the inputs apart ------------------------------------------- */

static bool detect_kind(const char *path, InputKind *kind, GError **errp)
{
    g_autofree char *name = g_filename_display_name(path);
    uint8_t head[0x210] = { 0 };
    struct stat st;
    ssize_t n;
    int fd;

    /* O_NONBLOCK: a FIFO given as INPUT must not hang the open. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT, "%s: %s", name,
                    g_strerror(errno));
        return false;
    }
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: not a regular file", name);
        return false;
    }
    if ((uint64_t)st.st_size > INPUT_MAX) {
        close(fd);
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: %lld bytes; a kernel image or BTF file is at most "
                    "%llu", name, (long long)st.st_size, INPUT_MAX);
        return false;
    }
    n = pread(fd, head, sizeof(head), 0);
    close(fd);
    if (n < 0) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT, "%s: %s", name,
                    g_strerror(errno));
        return false;
    }
    if (n >= 8 && !memcmp(head, "!<arch>\n", 8)) {
        *kind = INPUT_DEB;
    } else if (n >= 0x206 && !memcmp(head + 0x202, "HdrS", 4)) {
        *kind = INPUT_BZIMAGE;
    } else if (n >= 4 && !memcmp(head, "\x7f" "ELF", 4)) {
        *kind = INPUT_ELF;
    } else if (n >= 2 && get_le16(head) == 0xeb9f) {
        *kind = INPUT_BTF;
    } else {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: %s; give a linux-image .deb, a vmlinuz (bzImage), "
                    "an ELF vmlinux or a raw BTF file (a copy of the guest's "
                    "/sys/kernel/btf/vmlinux)", name,
                    n == 0 ? "an empty file" : "not a kernel image or BTF");
        return false;
    }
    return true;
}

/* ---- Debian packages ---------------------------------------------------- */

static bool wait_child(GPid pid, const char *what, const char *log,
                       GError **errp)
{
    g_autoptr(GError) err = NULL;
    int status;

    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                        "waiting for %s: %s", what, g_strerror(errno));
            return false;
        }
    }
    if (!g_spawn_check_wait_status(status, &err)) {
        g_autofree char *text = NULL;
        char *nl;

        /* Its first line of complaint says more than an exit status. */
        g_file_get_contents(log, &text, NULL, NULL);
        if (text) {
            g_strstrip(text);
            nl = strchr(text, '\n');
            if (nl) {
                *nl = 0;
            }
            if (strlen(text) > 300) {
                strcpy(text + 296, "...");
            }
        }
        if (text && *text) {
            g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT, "%s", text);
        } else {
            g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT, "%s: %s",
                        what, err->message);
        }
        return false;
    }
    return true;
}

static int compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Removes the temporary tree PATH; links are removed, never followed. */
static void remove_tree(const char *path)
{
    struct stat st;

    if (lstat(path, &st) < 0) {
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        g_autoptr(GDir) d = g_dir_open(path, 0, NULL);
        const char *entry;

        while (d && (entry = g_dir_read_name(d))) {
            g_autofree char *child = g_build_filename(path, entry, NULL);

            remove_tree(child);
        }
        g_rmdir(path);
    } else {
        g_unlink(path);
    }
}

/*
 * Extracts boot/vmlinuz-* of package DEB into DIR: dpkg-deb --fsys-tarfile
 * piped into tar, so that only the kernel (~8 MB) is written, not the
 * ~400 MB of modules `dpkg-deb -x` would unpack.
 */
static bool deb_extract_vmlinuz(const char *deb, const char *dir,
                                char **vmlinuz, GError **errp)
{
    g_autofree char *name = g_filename_display_name(deb);
    g_autofree char *root = g_build_filename(dir, "root", NULL);
    g_autofree char *boot = g_build_filename(root, "boot", NULL);
    g_autofree char *log_deb = g_build_filename(dir, "dpkg-deb.log", NULL);
    g_autofree char *log_tar = g_build_filename(dir, "tar.log", NULL);
    const char *argv_deb[] = { "dpkg-deb", "--fsys-tarfile", deb, NULL };
    const char *argv_tar[] = {
        "tar", "-x", "--no-same-owner", "-C", root, "--wildcards",
        "--no-anchored", "boot/vmlinuz-*", NULL
    };
    g_autoptr(GError) err = NULL;
    g_autoptr(GError) tar_err = NULL;
    g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GDir) d = NULL;
    GPid pid_deb, pid_tar = 0;
    int pipefd[2];
    int fd_deb, fd_tar;
    const char *entry;
    bool ok_deb, ok_tar;

    if (g_mkdir(root, 0700) < 0) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT, "%s: %s", root,
                    g_strerror(errno));
        return false;
    }
    fd_deb = open(log_deb, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    fd_tar = open(log_tar, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd_deb < 0 || fd_tar < 0 || !g_unix_open_pipe(pipefd, FD_CLOEXEC,
                                                      &err)) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "cannot set up the extraction: %s",
                    err ? err->message : g_strerror(errno));
        if (fd_deb >= 0) {
            close(fd_deb);
        }
        if (fd_tar >= 0) {
            close(fd_tar);
        }
        return false;
    }
    if (!g_spawn_async_with_pipes_and_fds(NULL, argv_deb, NULL,
            G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
            G_SPAWN_STDIN_FROM_DEV_NULL, NULL, NULL, -1, pipefd[1], fd_deb,
            NULL, NULL, 0, &pid_deb, NULL, NULL, NULL, &err)) {
        close(pipefd[0]);
        close(pipefd[1]);
        close(fd_deb);
        close(fd_tar);
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: cannot run dpkg-deb (is dpkg installed?): %s", name,
                    err->message);
        return false;
    }
    close(pipefd[1]);
    if (!g_spawn_async_with_pipes_and_fds(NULL, argv_tar, NULL,
            G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD |
            G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, pipefd[0], -1, fd_tar,
            NULL, NULL, 0, &pid_tar, NULL, NULL, NULL, &tar_err)) {
        pid_tar = 0;
    }
    /* dpkg-deb sees EPIPE (or finishes) once tar is gone. */
    close(pipefd[0]);
    close(fd_deb);
    close(fd_tar);
    ok_deb = wait_child(pid_deb, "dpkg-deb", log_deb, &err);
    if (!pid_tar) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: cannot run tar: %s", name, tar_err->message);
        return false;
    }
    ok_tar = wait_child(pid_tar, "tar", log_tar, &tar_err);
    if (!ok_deb) {
        /* When tar died first, dpkg-deb only saw a broken pipe. */
        bool tar_first = !ok_tar && (strstr(err->message, "Broken pipe") ||
                                     strstr(err->message, "signal"));

        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: not a readable Debian package (%s)", name,
                    tar_first ? tar_err->message : err->message);
        return false;
    }

    /* tar fails when nothing matched: say what is missing instead. */
    d = g_dir_open(boot, 0, NULL);
    while (d && (entry = g_dir_read_name(d))) {
        if (g_str_has_prefix(entry, "vmlinuz-")) {
            g_ptr_array_add(found, g_strdup(entry));
        }
    }
    if (!found->len) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: no boot/vmlinuz-* in the package (give a "
                    "linux-image-*.deb)", name);
        return false;
    }
    if (!ok_tar) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: extracting boot/vmlinuz-*: %s", name,
                    tar_err->message);
        return false;
    }
    if (found->len > 1) {
        g_autofree char *list = NULL;

        g_ptr_array_sort(found, compare_names);
        g_ptr_array_add(found, NULL);
        list = g_strjoinv(", boot/", (char **)found->pdata);
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: %u kernels in the package (boot/%s); give the one "
                    "the guest boots, extracted", name, found->len - 1,
                    list);
        return false;
    }
    *vmlinuz = g_build_filename(boot, g_ptr_array_index(found, 0), NULL);
    /* A link could point anywhere on this host. */
    if (g_file_test(*vmlinuz, G_FILE_TEST_IS_SYMLINK)) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: boot/%s is a symbolic link, not a kernel", name,
                    (char *)g_ptr_array_index(found, 0));
        g_clear_pointer(vmlinuz, g_free);
        return false;
    }
    return true;
}

/* ---- bzImage ------------------------------------------------------------ */

/*
 * The compressions the kernel can be built with (CONFIG_KERNEL_*), by their
 * magic.  libarchive reads each; only a filter of its own library is used,
 * not one that runs an external program on this untrusted input.
 */
static const struct {
    const char *magic;
    size_t len;
    const char *name;           /* for messages */
    int code;                   /* ARCHIVE_FILTER_* */
} compressions[] = {
    { "\x1f\x8b", 2, "gzip", ARCHIVE_FILTER_GZIP },
    { "BZh", 3, "bzip2", ARCHIVE_FILTER_BZIP2 },
    { "\x5d\x00\x00", 3, "lzma", ARCHIVE_FILTER_LZMA },
    { "\xfd" "7zXZ\0", 6, "xz", ARCHIVE_FILTER_XZ },
    { "\x89LZO", 4, "LZO", ARCHIVE_FILTER_LZOP },
    { "\x02\x21\x4c\x18", 4, "LZ4", ARCHIVE_FILTER_LZ4 },     /* legacy */
    { "\x04\x22\x4d\x18", 4, "LZ4", ARCHIVE_FILTER_LZ4 },     /* frame */
    { "\x28\xb5\x2f\xfd", 4, "zstd", ARCHIVE_FILTER_ZSTD },
};

/*
 * An archive reading raw data through the filter for CODE.  NULL when this
 * libarchive has no such filter in its own code, with *why saying why: it
 * would run a program (ARCHIVE_WARN, "Using external lzop program ...") or
 * has none.
 */
static struct archive *archive_for(int code, char **why)
{
    struct archive *a = archive_read_new();
    const char *e;
    int r;

    if (!a) {
        *why = g_strdup("libarchive cannot start");
        return NULL;
    }
    r = archive_read_support_filter_by_code(a, code);
    if (r == ARCHIVE_OK) {
        r = archive_read_support_format_raw(a);
    }
    if (r == ARCHIVE_OK) {
        return a;
    }
    e = archive_error_string(a);
    if (r == ARCHIVE_WARN) {
        *why = g_strdup_printf("only by running an external program, which "
                               "cloak-trace does not do (libarchive: %s)",
                               e ? e : "no reason given");
    } else {
        *why = g_strdup_printf("not at all (libarchive: %s)",
                               e ? e : "no reason given");
    }
    archive_read_free(a);
    return NULL;
}

/* The compressions this libarchive reads itself, for messages. */
static char *readable_compressions(void)
{
    GString *s = g_string_new(NULL);
    unsigned i;

    for (i = 0; i < G_N_ELEMENTS(compressions); i++) {
        g_autofree char *why = NULL;
        struct archive *a = archive_for(compressions[i].code, &why);

        if (a) {
            archive_read_free(a);
            /* LZ4 has two entries. */
            if (i && compressions[i - 1].code == compressions[i].code) {
                continue;
            }
            g_string_append_printf(s, "%s%s", s->len ? ", " : "",
                                   compressions[i].name);
        }
    }
    if (!s->len) {
        g_string_append(s, "none");
    }
    return g_string_free(s, false);
}

static bool out_room(const char *name, GByteArray *out, GError **errp)
{
    if (out->len >= ELF_MAX) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: the payload decompresses to more than %zu MiB; no "
                    "kernel is that large", name, ELF_MAX >> 20);
        return false;
    }
    return true;
}

#define CHUNK (1u << 20)

/*
 * Decompresses IN, a payload compressed as C (an index in compressions[]),
 * into OUT.  The kernel's build appends the uncompressed size (4 bytes)
 * after the stream; the caller leaves it off, as libarchive would read it as
 * the start of a second stream.
 */
static bool decompress(const char *name, unsigned c, const uint8_t *in,
                       size_t len, GByteArray *out, GError **errp)
{
    const char *cname = compressions[c].name;
    g_autofree char *why = NULL;
    struct archive *a = archive_for(compressions[c].code, &why);
    struct archive_entry *entry;
    bool ok = false;

    if (!a) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: the kernel is %s-compressed, which this system's "
                    "libarchive reads %s; extract the ELF with the kernel's "
                    "scripts/extract-vmlinux and give that", name, cname,
                    why);
        return false;
    }
    if (archive_read_open_memory(a, in, len) != ARCHIVE_OK ||
        archive_read_next_header(a, &entry) != ARCHIVE_OK) {
        goto corrupt;
    }
    /* Its bidder turned the data down: it would come back undecoded. */
    if (archive_filter_count(a) < 2 ||
        archive_filter_code(a, 0) != compressions[c].code) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: corrupt %s payload (libarchive does not take it "
                    "for %s data)", name, cname, cname);
        goto out;
    }
    for (;;) {
        size_t at = out->len;
        la_ssize_t n;

        if (!out_room(name, out, errp)) {
            goto out;
        }
        g_byte_array_set_size(out, at + CHUNK);
        n = archive_read_data(a, out->data + at, CHUNK);
        g_byte_array_set_size(out, at + MAX(n, 0));
        if (n < 0) {
            goto corrupt;
        }
        if (!n) {
            break;
        }
    }
    ok = true;
    goto out;
corrupt:
    g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                "%s: corrupt %s payload (%s)", name, cname,
                archive_error_string(a) ? archive_error_string(a) :
                "libarchive gives no reason; it may end too soon");
out:
    archive_read_free(a);
    return ok;
}

/*
 * The kernel_version string of the setup header: "RELEASE (BUILDER)
 * VERSION", e.g. "6.1.0-57-amd64 (debian-kernel@lists.debian.org) #1 SMP
 * PREEMPT_DYNAMIC Debian 6.1.192-3 (2026-11-26)".
 */
static bool bzimage_names(const char *name, const uint8_t *d, size_t len,
                          char **release, char **version, GError **errp)
{
    size_t at = get_le16(d + 0x20e), end;
    g_autofree char *s = NULL;
    const char *sp, *ver;

    if (!at) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: the setup header has no kernel_version string",
                    name);
        return false;
    }
    at += 0x200;
    for (end = at; end < len && end - at < 256 && d[end]; end++) {
        /* bounded: the kernel's string is ~100 bytes */
    }
    if (end >= len || d[end]) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: the kernel_version string at byte %zu is not "
                    "terminated", name, at);
        return false;
    }
    s = g_strndup((const char *)d + at, end - at);
    sp = strchr(s, ' ');
    ver = strstr(s, ") ");
    if (!sp || sp == s || !ver || ver[2] != '#') {
        g_autofree char *shown = g_strescape(s, NULL);

        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: kernel_version '%s' is not \"RELEASE (BUILDER) "
                    "#VERSION\"", name, shown);
        return false;
    }
    *release = g_strndup(s, sp - s);
    *version = g_strdup(ver + 2);
    return true;
}

/* Decompresses the payload of bzImage D into OUT (an ELF). */
static bool bzimage_payload(const char *name, const uint8_t *d, size_t len,
                            GByteArray *out, GError **errp)
{
    g_autofree char *readable = NULL;
    unsigned setup_sects, i;
    uint16_t proto;
    uint64_t start, plen;
    const uint8_t *p;

    if (len < 0x250) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: truncated: %zu bytes, shorter than a bzImage setup "
                    "header", name, len);
        return false;
    }
    proto = get_le16(d + 0x206);
    if (proto < 0x208) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: boot protocol %u.%02u, older than 2.08: no payload "
                    "fields (use the kernel's scripts/extract-vmlinux)",
                    name, proto >> 8, proto & 0xff);
        return false;
    }
    setup_sects = d[0x1f1] ? d[0x1f1] : 4;
    start = (uint64_t)(setup_sects + 1) * 512 + get_le32(d + 0x248);
    plen = get_le32(d + 0x24c);
    if (plen < 8) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: the setup header gives a payload of %" PRIu64
                    " bytes: not a kernel", name, plen);
        return false;
    }
    if (start + plen > len) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: truncated: the payload runs from byte %" PRIu64
                    " to %" PRIu64 ", the file has %zu", name, start,
                    start + plen, len);
        return false;
    }
    p = d + start;
    if (!memcmp(p, "\x7f" "ELF", 4)) {
        /* CONFIG_KERNEL_UNCOMPRESSED */
        g_byte_array_append(out, p, plen);
        return true;
    }
    for (i = 0; i < G_N_ELEMENTS(compressions); i++) {
        if (!memcmp(p, compressions[i].magic, compressions[i].len)) {
            /* Less the size the kernel's build appends. */
            return decompress(name, i, p, plen - 4, out, errp);
        }
    }
    readable = readable_compressions();
    g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                "%s: unknown payload compression (bytes %02x %02x %02x "
                "%02x); this cloak-trace reads %s (extract the ELF with the "
                "kernel's scripts/extract-vmlinux and give that)", name,
                p[0], p[1], p[2], p[3], readable);
    return false;
}

/* ---- ELF ---------------------------------------------------------------- */

/* An x86-64 little-endian ELF: the only guest kernels profiled. */
static bool check_elf(const char *name, const uint8_t *d, size_t len,
                      GError **errp)
{
    if (len < 64 || memcmp(d, "\x7f" "ELF", 4)) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: the kernel is not an ELF file", name);
        return false;
    }
    if (d[4] != 2 || d[5] != 1 || get_le16(d + 18) != 62) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: an ELF for another machine (class %u, data %u, "
                    "machine %u); only x86-64 guest kernels are profiled",
                    name, d[4], d[5], get_le16(d + 18));
        return false;
    }
    return true;
}

/*
 * The banner "Linux version RELEASE (BUILDER) (COMPILER) VERSION\n" in the
 * ELF's bytes.  VERSION (UTS_VERSION, uname -v) starts at the last ") #"
 * of the line, as the compiler's text has parentheses of its own.  Linux
 * 6.1 keeps a second banner without the build number ("# SMP ..."): a
 * version with one ("#1 SMP ...") wins.
 */
static bool elf_names(const char *name, const uint8_t *d, size_t len,
                      char **release, char **version, GError **errp)
{
    static const char tag[] = "Linux version ";
    const uint8_t *p = d, *end = d + len;
    unsigned tries = 0;

    while (tries++ < BANNER_CANDIDATES_MAX &&
           (p = memmem(p, end - p, tag, sizeof(tag) - 1))) {
        const uint8_t *s = p + sizeof(tag) - 1, *e = s, *v = NULL, *q;

        p = s;
        while (e < end && e - s < 512 && *e >= 0x20 && *e < 0x7f) {
            e++;
        }
        if (e >= end || *e != '\n') {
            continue;
        }
        for (q = s; q + 3 <= e; q++) {
            if (!memcmp(q, ") #", 3)) {
                v = q + 2;
            }
        }
        q = memchr(s, ' ', e - s);
        if (!v || !q || q == s) {
            continue;
        }
        if (!*release || g_ascii_isdigit(v[1])) {
            g_free(*release);
            g_free(*version);
            *release = g_strndup((const char *)s, q - s);
            *version = g_strndup((const char *)v, e - v);
            if (g_ascii_isdigit(v[1])) {
                return true;
            }
        }
    }
    if (*release) {
        return true;
    }
    g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                "%s: no \"Linux version ...\" banner in the ELF: not a Linux "
                "kernel? (give a raw BTF file with --release and --version "
                "instead)", name);
    return false;
}

static bool write_temp_elf(GByteArray *elf, char **path, GError **errp)
{
    g_autoptr(GError) err = NULL;
    size_t done = 0;
    int fd;

    fd = g_file_open_tmp("cloak-trace-vmlinux-XXXXXX", path, &err);
    if (fd < 0) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "a temporary file for the kernel ELF: %s", err->message);
        return false;
    }
    while (done < elf->len) {
        ssize_t n = write(fd, elf->data + done, elf->len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                        "%s: %s", *path, n < 0 ? g_strerror(errno)
                                               : "short write");
            close(fd);
            return false;
        }
        done += n;
    }
    if (close(fd) < 0) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT, "%s: %s", *path,
                    g_strerror(errno));
        return false;
    }
    return true;
}

static struct btf *parse_btf(const char *path, const char *name, bool elf,
                             GError **errp)
{
    struct btf *btf;
    int err;

    g_string_truncate(libbpf_log, 0);
    btf = elf ? btf__parse_elf(path, NULL) : btf__parse_raw(path);
    err = -errno;
    if (!btf) {
        g_autofree char *why = libbpf_last_warning();

        if (elf && err == -ENOENT) {
            g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                        "%s: the kernel has no BTF (.BTF section); it was "
                        "built without CONFIG_DEBUG_INFO_BTF%s", name, why);
        } else {
            g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                        "%s: libbpf cannot read its BTF: %s%s", name,
                        g_strerror(-err), why);
        }
    }
    return btf;
}

/* ---- offsets from the BTF ----------------------------------------------- */

/*
 * Finds member NAME of composite type T, looking inside anonymous struct
 * and union members as C does; *bits gets its bit offset from T's start.
 * 1 found, 0 not there, -1 out of *budget: hostile BTF can nest one
 * anonymous struct in itself many times over.
 */
static int find_member(const struct btf *btf, const struct btf_type *t,
                       const char *name, unsigned depth, unsigned *budget,
                       uint64_t *bits, const struct btf_type **owner,
                       int *index)
{
    const struct btf_member *m = btf_members(t);
    int i, n = btf_vlen(t);

    if (depth > MEMBER_DEPTH_MAX) {
        return -1;
    }
    for (i = 0; i < n; i++, m++) {
        const char *mname = btf__name_by_offset(btf, m->name_off);
        const struct btf_type *mt;
        int id, r;

        if (!(*budget)--) {
            return -1;
        }
        if (mname && !strcmp(mname, name)) {
            *bits += btf_member_bit_offset(t, i);
            *owner = t;
            *index = i;
            return 1;
        }
        if (mname && *mname) {
            continue;
        }
        id = btf__resolve_type(btf, m->type);
        mt = id > 0 ? btf__type_by_id(btf, id) : NULL;
        if (mt && btf_is_composite(mt)) {
            uint64_t inner = *bits + btf_member_bit_offset(t, i);

            r = find_member(btf, mt, name, depth + 1, budget, &inner, owner,
                            index);
            if (r) {
                *bits = inner;
                return r;
            }
        }
    }
    return 0;
}

/* Member M of composite type T: byte offset and size, or an error. */
static bool member_offset(const struct btf *btf, const struct btf_type *t,
                          const CloakOsProfileField *f, const char *key,
                          uint64_t base, uint64_t *off, GError **errp)
{
    const struct btf_type *owner = NULL, *mt;
    uint64_t bits = base * 8;
    unsigned budget = MEMBER_SEARCH_MAX;
    int index = 0, mtid, found;
    __s64 size;

    found = find_member(btf, t, f->member, 0, &budget, &bits, &owner, &index);
    if (found < 0) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: the BTF's struct %s nests anonymous members too "
                    "deep or too often to search for %s", key,
                    btf__name_by_offset(btf, t->name_off), f->member);
        return false;
    }
    if (!found) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: the BTF's struct %s has no member %s", key,
                    btf__name_by_offset(btf, t->name_off), f->member);
        return false;
    }
    mtid = btf__resolve_type(btf, btf_members(owner)[index].type);
    mt = mtid > 0 ? btf__type_by_id(btf, mtid) : NULL;
    if (btf_member_bitfield_size(owner, index) || bits % 8 ||
        (mt && btf_is_int(mt) &&
         btf_int_bits(mt) != (uint64_t)mt->size * 8)) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: a bitfield in this kernel; the producer reads whole "
                    "bytes", key);
        return false;
    }
    size = btf__resolve_size(btf, btf_members(owner)[index].type);
    if (size != f->size) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: %lld bytes in this kernel, the profile reads %u",
                    key, (long long)size, f->size);
        return false;
    }
    *off = bits / 8;
    return true;
}

/*
 * A per-CPU variable's offset in the per-CPU area: the VAR of that name in
 * DATASEC .data..percpu, or (Linux 6.2 and later) the member of that name
 * of the per-CPU struct pcpu_hot.
 */
static bool percpu_offset(const struct btf *btf, const CloakOsProfileField *f,
                          uint64_t *off, GError **errp)
{
    const struct btf_var_secinfo *vsi, *hot = NULL;
    const struct btf_type *sec;
    int id, i, n;

    id = btf__find_by_name_kind(btf, ".data..percpu", BTF_KIND_DATASEC);
    if (id <= 0) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: the BTF has no DATASEC .data..percpu (per-CPU "
                    "variables; pahole 1.18 or later puts them there)",
                    f->key);
        return false;
    }
    sec = btf__type_by_id(btf, id);
    vsi = btf_var_secinfos(sec);
    n = btf_vlen(sec);
    for (i = 0; i < n; i++, vsi++) {
        const struct btf_type *var = btf__type_by_id(btf, vsi->type);
        const char *vname;
        __s64 size;

        if (!var || !btf_is_var(var)) {
            continue;
        }
        vname = btf__name_by_offset(btf, var->name_off);
        if (!vname) {
            continue;
        }
        if (!strcmp(vname, "pcpu_hot")) {
            hot = vsi;
        }
        if (strcmp(vname, f->member)) {
            continue;
        }
        size = btf__resolve_size(btf, var->type);
        if (size != f->size) {
            g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                        "%s: %lld bytes in this kernel, the profile reads %u",
                        f->key, (long long)size, f->size);
            return false;
        }
        *off = vsi->offset;
        return true;
    }
    if (hot) {
        const struct btf_type *var = btf__type_by_id(btf, hot->type);
        int tid = btf__resolve_type(btf, var->type);
        const struct btf_type *t = tid > 0 ? btf__type_by_id(btf, tid) : NULL;
        g_autofree char *key = g_strdup_printf("%s (pcpu_hot.%s)", f->key,
                                               f->member);

        if (!t || !btf_is_composite(t)) {
            g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                        "%s: the per-CPU variable pcpu_hot is not a struct",
                        f->key);
            return false;
        }
        return member_offset(btf, t, f, key, hot->offset, off, errp);
    }
    g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                "%s: neither a per-CPU variable %s nor pcpu_hot.%s in the "
                "BTF's .data..percpu", f->key, f->member, f->member);
    return false;
}

static bool btf_offsets(const struct btf *btf, const char *name,
                        uint32_t *offset, GError **errp)
{
    unsigned i;

    if (btf__endianness(btf) != BTF_LITTLE_ENDIAN ||
        btf__pointer_size(btf) != 8) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "%s: the BTF of a %s-endian kernel with %zu-byte "
                    "pointers; only x86-64 guest kernels are profiled", name,
                    btf__endianness(btf) == BTF_LITTLE_ENDIAN ? "little"
                                                              : "big",
                    btf__pointer_size(btf));
        return false;
    }
    for (i = 0; i < CLOAK_OS_OFF__MAX; i++) {
        const CloakOsProfileField *f = &cloak_os_profile_fields[i];
        uint64_t off;
        uint32_t max;

        if (!strcmp(f->btf_struct, "percpu")) {
            if (!percpu_offset(btf, f, &off, errp)) {
                g_prefix_error(errp, "%s: ", name);
                return false;
            }
            max = CLOAK_OS_PROFILE_PERCPU_OFFSET_MAX;
        } else {
            int id = btf__find_by_name_kind(btf, f->btf_struct,
                                            BTF_KIND_STRUCT);

            if (id <= 0) {
                g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                            "%s: %s: the BTF has no struct %s", name, f->key,
                            f->btf_struct);
                return false;
            }
            if (!member_offset(btf, btf__type_by_id(btf, id), f, f->key, 0,
                               &off, errp)) {
                g_prefix_error(errp, "%s: ", name);
                return false;
            }
            max = CLOAK_OS_PROFILE_STRUCT_OFFSET_MAX;
        }
        if (off > max) {
            g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                        "%s: %s: offset %" PRIu64 " is beyond %u, more than "
                        "any kernel has", name, f->key, off, max);
            return false;
        }
        offset[i] = off;
    }
    return true;
}

/* ---- the command -------------------------------------------------------- */

typedef struct {
    const char *path;           /* INPUT */
    const char *release;        /* --release, or NULL */
    const char *version;        /* --version, or NULL */
} Job;

/* The offsets from the BTF of path (an ELF, or raw BTF). */
static bool offsets_of(const char *path, const char *name, bool elf,
                       CloakOsProfile *p, GError **errp)
{
    struct btf *btf = parse_btf(path, name, elf, errp);
    bool ok;

    if (!btf) {
        return false;
    }
    ok = btf_offsets(btf, name, p->offset, errp);
    btf__free(btf);
    return ok;
}

static GMappedFile *map_input(const char *path, GError **errp)
{
    g_autoptr(GError) err = NULL;
    GMappedFile *mf = g_mapped_file_new(path, FALSE, &err);

    if (!mf) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT, "%s",
                    err->message);
    }
    return mf;
}

/* The profile of a bzImage (given, or out of a package). */
static bool profile_bzimage(const char *path, const char *name,
                            CloakOsProfile *p, GError **errp)
{
    g_autoptr(GByteArray) elf = g_byte_array_new();
    g_autoptr(GMappedFile) mf = map_input(path, errp);
    g_autofree char *tmp = NULL;
    const uint8_t *d;
    size_t len;
    bool ok;

    if (!mf) {
        return false;
    }
    d = (const uint8_t *)g_mapped_file_get_contents(mf);
    len = g_mapped_file_get_length(mf);
    if (!bzimage_payload(name, d, len, elf, errp) ||
        !bzimage_names(name, d, len, &p->release, &p->version, errp) ||
        !check_elf(name, elf->data, elf->len, errp)) {
        return false;
    }
    if (!write_temp_elf(elf, &tmp, errp)) {
        if (tmp) {
            g_unlink(tmp);
        }
        return false;
    }
    g_clear_pointer(&elf, g_byte_array_unref);
    ok = offsets_of(tmp, name, true, p, errp);
    g_unlink(tmp);
    return ok;
}

static bool profile_elf(const char *path, const char *name, CloakOsProfile *p,
                        GError **errp)
{
    g_autoptr(GMappedFile) mf = map_input(path, errp);
    const uint8_t *d;
    size_t len;

    if (!mf) {
        return false;
    }
    d = (const uint8_t *)g_mapped_file_get_contents(mf);
    len = g_mapped_file_get_length(mf);
    if (!check_elf(name, d, len, errp) ||
        !elf_names(name, d, len, &p->release, &p->version, errp)) {
        return false;
    }
    g_clear_pointer(&mf, g_mapped_file_unref);
    return offsets_of(path, name, true, p, errp);
}

static bool profile_deb(const char *path, const char *name, CloakOsProfile *p,
                        GError **errp)
{
    g_autoptr(GError) err = NULL;
    g_autofree char *dir = g_dir_make_tmp("cloak-trace-profile-XXXXXX", &err);
    g_autofree char *vmlinuz = NULL;
    g_autofree char *inner = NULL;
    InputKind kind;
    bool ok = false;

    if (!dir) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                    "a temporary directory: %s", err->message);
        return false;
    }
    if (deb_extract_vmlinuz(path, dir, &vmlinuz, errp)) {
        g_autofree char *base = g_path_get_basename(vmlinuz);

        inner = g_strdup_printf("%s: boot/%s", name, base);
        if (!detect_kind(vmlinuz, &kind, NULL) || kind != INPUT_BZIMAGE) {
            g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_INPUT,
                        "%s: not a bzImage", inner);
        } else {
            ok = profile_bzimage(vmlinuz, inner, p, errp);
        }
    }
    remove_tree(dir);
    if (g_file_test(dir, G_FILE_TEST_EXISTS)) {
        fprintf(stderr, PREFIX "warning: could not remove %s\n", dir);
    }
    return ok;
}

static bool make_profile(const Job *job, CloakOsProfile *p, GError **errp)
{
    g_autofree char *name = g_filename_display_name(job->path);
    InputKind kind;

    if (!detect_kind(job->path, &kind, errp)) {
        return false;
    }
    if (kind == INPUT_BTF && !job->release) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_USAGE,
                    "%s: raw BTF names no kernel; give --release and "
                    "--version (what the guest's uname -r and uname -v "
                    "print)", name);
        return false;
    }
    if (kind != INPUT_BTF && job->release) {
        g_set_error(errp, PROFILE_ERROR, PROFILE_ERR_USAGE,
                    "%s: a %s names its kernel itself; --release and "
                    "--version are only for raw BTF", name,
                    kind_names[kind]);
        return false;
    }
    p->os = g_strdup("linux");
    switch (kind) {
    case INPUT_DEB:
        return profile_deb(job->path, name, p, errp);
    case INPUT_BZIMAGE:
        return profile_bzimage(job->path, name, p, errp);
    case INPUT_ELF:
        return profile_elf(job->path, name, p, errp);
    case INPUT_BTF:
        p->release = g_strdup(job->release);
        p->version = g_strdup(job->version);
        return offsets_of(job->path, name, false, p, errp);
    }
    g_assert_not_reached();
}

static int check_profile(const char *path)
{
    g_autoptr(GError) err = NULL;
    g_autoptr(CloakOsProfile) p = cloak_os_profile_load(path, &err);
    g_autofree char *kname = NULL;

    if (!p) {
        fprintf(stderr, PREFIX "%s\n", err->message);
        return 1;
    }
    kname = cloak_os_profile_kernel_name(p);
    printf("%s\n", kname);
    return 0;
}

int ct_profile_main(int argc, char **argv)
{
    g_autofree char *output = NULL;
    g_autofree char *release = NULL;
    g_autofree char *version = NULL;
    g_autofree char *check = NULL;
    g_auto(GStrv) inputs = NULL;
    GOptionEntry entries[] = {
        { "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
          "Write the profile to FILE (atomically), not standard output",
          "FILE" },
        { "release", 0, 0, G_OPTION_ARG_STRING, &release,
          "For raw BTF: the kernel release (the guest's uname -r)", "R" },
        { "version", 0, 0, G_OPTION_ARG_STRING, &version,
          "For raw BTF: the kernel version (the guest's uname -v)", "V" },
        { "check", 0, 0, G_OPTION_ARG_FILENAME, &check,
          "Validate the profile FILE and print the kernel it is for", "FILE" },
        { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &inputs,
          NULL, NULL },
        { NULL }
    };
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("INPUT - make an OS profile of a Linux guest "
                             "kernel");
    g_autoptr(GError) err = NULL;
    g_autoptr(CloakOsProfile) p = g_new0(CloakOsProfile, 1);
    g_autoptr(CloakOsProfile) back = NULL;
    g_autofree char *input_name = NULL;
    g_autofree char *comment = NULL;
    g_autofree char *text = NULL;
    Job job = { 0 };

    g_set_prgname("cloak-trace profile");
    g_option_context_set_summary(ctx,
        "Makes the OS profile that QEMU's cloak-trace object reads\n"
        "(os-profile=FILE) from the guest kernel's own BTF.  INPUT is told\n"
        "apart by content: a linux-image .deb, a vmlinuz (bzImage, its\n"
        "payload read with libarchive: gzip, bzip2, lzma, xz, LZ4, zstd),\n"
        "an ELF vmlinux, or raw BTF (a copy of the guest's\n"
        "/sys/kernel/btf/vmlinux, with --release and --version).");
    g_option_context_set_description(ctx,
        "Exit status: 0 done, 1 bad input, 2 bad usage.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, PREFIX "%s\n", err->message);
        return 2;
    }
    if (check) {
        if (inputs || output || release || version) {
            fprintf(stderr, PREFIX "--check takes a profile FILE and no "
                    "other option or INPUT\n");
            return 2;
        }
        return check_profile(check);
    }
    if (!inputs || !inputs[0] || inputs[1]) {
        fprintf(stderr, PREFIX "give exactly one INPUT (see cloak-trace "
                "profile --help)\n");
        return 2;
    }
    if (!release != !version) {
        fprintf(stderr, PREFIX "give both --release and --version, or "
                "neither\n");
        return 2;
    }
    if (release && (!check_kernel_name("--release", release, &err) ||
                    !check_kernel_name("--version", version, &err))) {
        fprintf(stderr, PREFIX "%s\n", err->message);
        return 2;
    }

    libbpf_log = g_string_new(NULL);
    libbpf_set_print(libbpf_print);
    job.path = inputs[0];
    job.release = release;
    job.version = version;
    if (!make_profile(&job, p, &err)) {
        fprintf(stderr, PREFIX "%s\n", err->message);
        g_string_free(g_steal_pointer(&libbpf_log), TRUE);
        return err->code == PROFILE_ERR_USAGE ? 2 : 1;
    }
    g_string_free(g_steal_pointer(&libbpf_log), TRUE);
    input_name = g_filename_display_basename(job.path);
    if (!check_kernel_name("release", p->release, &err) ||
        !check_kernel_name("version", p->version, &err)) {
        fprintf(stderr, PREFIX "%s: the kernel's %s\n", input_name,
                err->message);
        return 1;
    }

    comment = g_strdup_printf(" made by cloak-trace profile from %s",
                              input_name);
    text = cloak_os_profile_to_data(p, comment);
    /* What QEMU will read must parse: never write a profile that doesn't. */
    back = cloak_os_profile_parse(text, strlen(text), &err);
    if (!back) {
        fprintf(stderr, PREFIX "%s: internal error, the profile made does "
                "not parse: %s\n", input_name, err->message);
        return 1;
    }
    if (output) {
        struct stat ost;

        /*
         * A regular file (or none yet) is replaced atomically; anything
         * else (/dev/null, a FIFO, a symlink) is written through, as the
         * shell's '>' would: renaming over it would replace the device
         * or the link itself.
         */
        if (lstat(output, &ost) == 0 && !S_ISREG(ost.st_mode)) {
            FILE *f = fopen(output, "w");

            if (!f || fputs(text, f) == EOF || fclose(f) == EOF) {
                fprintf(stderr, PREFIX "%s: %s\n", output, g_strerror(errno));
                return 1;
            }
        } else if (!g_file_set_contents(output, text, -1, &err)) {
            fprintf(stderr, PREFIX "%s\n", err->message);
            return 1;
        }
    } else if (fputs(text, stdout) == EOF || fflush(stdout) == EOF) {
        fprintf(stderr, PREFIX "standard output: %s\n", g_strerror(errno));
        return 1;
    }
    return 0;
}
