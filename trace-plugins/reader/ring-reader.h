/*
 * Consumer side of the cloak-trace ring: open a ring file, validate its
 * header, and take validated records out of each ring.  The file is
 * untrusted: every field is checked before use and every record is copied
 * out of the shared mapping before it is decoded.
 */
#ifndef CLOAK_TRACE_RING_READER_H
#define CLOAK_TRACE_RING_READER_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "cloak-trace-abi.h"

#define CT_ERROR ct_error_quark()
GQuark ct_error_quark(void);

enum {
    CT_ERROR_IO,        /* open/stat/mmap failed */
    CT_ERROR_HEADER,    /* the file header is invalid */
    CT_ERROR_RING,      /* a ring's control block is inconsistent */
    CT_ERROR_RECORD,    /* a record is malformed */
    CT_ERROR_BUSY,      /* another reader holds the file */
};

/* Largest record a producer of this ABI writes (entry with two paths). */
#define CT_RECORD_MAX 1024
#define CT_MAX_PATHS 6

typedef struct CtPath {
    uint8_t arg;
    uint8_t flags;
    uint16_t len;
    char data[CLOAK_TRACE_PATH_MAX + 1];    /* NUL-terminated copy */
} CtPath;

/* One validated event, copied out of the ring. */
typedef struct CtEvent {
    struct cloak_trace_rec hdr;
    union {
        struct cloak_trace_lost lost;
        struct cloak_trace_syscall_enter enter;
        struct cloak_trace_syscall_exit exit;
        struct cloak_trace_page_fault pf;
    } u;
    unsigned npaths;
    CtPath paths[CT_MAX_PATHS];
} CtEvent;

typedef struct CtRing {
    struct cloak_trace_ring_ctl *ctl;   /* in the mapping */
    const uint8_t *data;                /* in the mapping */
    uint64_t size;
    uint32_t index;
    uint32_t path_max;
    const uint16_t *record_size;        /* by type, for the file's version */
    uint32_t version;                   /* the file's abi_version */
    uint64_t tail;                      /* private read position */
    uint64_t head;                      /* last head loaded */
    uint64_t released;                  /* last tail published */
    bool consume;                       /* publish tail to the producer */
    bool seq_known;
    uint64_t next_seq;
    uint64_t lost_in_records;           /* sum of LOST record counts seen */
    uint64_t events;                    /* events returned */
    /*
     * A returned entry (CLOAK_TRACE_RF_RETURNED) is two events: its exit,
     * rebuilt here, comes next, and only then does tail pass the record.
     */
    bool exit_next;
    uint32_t exit_next_size;            /* bytes of the returned entry */
    struct cloak_trace_syscall_exit exit_of_returned;
} CtRing;

typedef struct CtFile {
    int fd;                             /* -1 for a memory buffer */
    uint8_t *map;
    size_t map_size;
    bool owns_map;
    struct cloak_trace_header h;        /* validated copy */
    CtRing *rings;
} CtFile;

/* Checks a header copy against the real size of the file. */
bool ct_header_check(const struct cloak_trace_header *h, uint64_t real_size,
                     GError **errp);

/*
 * Opens a ring file.  consume: map it shared and release records back to
 * the producer (taking the one-reader lock); otherwise map a private copy
 * and leave the producer's view untouched.  from_now: start at head
 * (skip the backlog) instead of at the producer-visible tail.
 */
CtFile *ct_file_open(const char *path, bool consume, bool from_now,
                     GError **errp);
/* Same over a memory buffer (fuzzing, tests); the buffer must outlive it. */
CtFile *ct_file_from_buffer(uint8_t *buf, size_t len, GError **errp);
void ct_file_close(CtFile *f);

/* Returns 1 and fills ev, 0 if the ring is empty now, -1 on a bad record. */
int ct_ring_next(CtRing *r, CtEvent *ev, GError **errp);
/* Publishes the read position to the producer (no-op without consume). */
void ct_ring_release(CtRing *r);

/* Producer state (CLOAK_TRACE_STATE_*), read live from the file. */
uint32_t ct_file_state(CtFile *f);
/* False with an error if the file shrank under the mapping. */
bool ct_file_still_whole(CtFile *f, GError **errp);

#endif
