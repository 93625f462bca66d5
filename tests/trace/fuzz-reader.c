/*
 * libFuzzer target: the reader's handling of an untrusted ring file.  The
 * input is a whole file image; it is opened with ct_file_from_buffer() and
 * every ring is drained and rendered, as cloak-trace would, until the
 * first error.  Any crash, overflow or undefined behaviour is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ring-reader.h"
#include "format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    GString *out = g_string_new(NULL);
    CtFile *f;
    CtEvent ev;
    uint32_t i;
    int n;

    memcpy(buf, data, size);
    f = ct_file_from_buffer(buf, size, NULL);
    for (i = 0; f && i < f->h.nr_rings; i++) {
        /* Bounded: a ring holds at most ring_size / 8 records. */
        for (n = 0; n < 100000; n++) {
            GError *err = NULL;
            int rc = ct_ring_next(&f->rings[i], &ev, &err);

            if (rc <= 0) {
                g_clear_error(&err);
                break;
            }
            g_string_truncate(out, 0);
            ct_format_json(&ev, out);
            if (ev.hdr.type == CLOAK_TRACE_REC_SYSCALL_ENTER) {
                ct_format_call(&ev, out);
            } else if (ev.hdr.type == CLOAK_TRACE_REC_SYSCALL_EXIT) {
                ct_format_ret(&ev, out);
            } else {
                ct_format_other(&ev, out);
            }
        }
    }
    ct_file_close(f);
    g_string_free(out, TRUE);
    free(buf);
    return 0;
}
