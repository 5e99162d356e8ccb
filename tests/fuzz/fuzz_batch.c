/* libFuzzer target for lib/batch.c, the broker's header-only reader of
 * EventBatch frames, against the full decoder (lib/msg.c):
 *  - batch_header_read never reads outside its input, whatever the bytes;
 *  - a frame both accept as a batch has the same header in both (what the
 *    broker checked is what subscribers read); the header reader may refuse
 *    more (duplicate fields, over-long varints: protobuf-c takes the last or
 *    truncates), never less;
 *  - a batch never passes the header reader as "not a batch" (0), which
 *    would send it down the broker's other path;
 *  - the decoded events rebuilt through the builder read back to the same
 *    header (builder and readers agree on the layout).
 * The units under test are compiled into this target so that coverage
 * instrumentation sees their branches (as in fuzz_msg.c). */
#include "../../lib/batch.c"
#include "../../lib/msg.c"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static int same(const batch_header_t *h, const msg_batch_t *b)
{
    return h->epoch == b->epoch && h->first_seq == b->first_seq && h->count == b->count &&
           strcmp(h->resource, b->resource) == 0;
}

/* Rebuilds the decoded batch with the builder and reads its header back. */
static void rebuild(const msg_batch_t *b)
{
    batch_builder_t bb;
    batch_builder_init(&bb);
    char err[256];
    for (size_t i = 0; i < b->n_events; i++)
        if (batch_add(&bb, b->events[i], err, sizeof err) < 0) abort();
    batch_frame_t f;
    if (batch_finish(&bb, &f) < 0) abort();
    batch_header_t h;
    if (batch_header_read(batch_frame_data(&f), f.len, &h, err, sizeof err) != 1 || !same(&h, b)) abort();
    batch_frame_free(&f);
    batch_builder_fini(&bb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: ASan then catches any read past the end. */
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    char err[256];
    batch_header_t h;
    int rc = batch_header_read(buf, size, &h, err, sizeof err);
    msg_envelope_t *env = msg_decode(buf, size, err, sizeof err);
    if (env && env->body_case == KUBUS__V1__ENVELOPE__BODY_EVENT_BATCH) {
        if (rc == 0 || (rc == 1 && !same(&h, env->event_batch))) abort();
        rebuild(env->event_batch);
    }
    msg_free(env);
    free(buf);
    return 0;
}
