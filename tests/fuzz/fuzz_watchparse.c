/* libFuzzer target for lib/watchparse.c: arbitrary bytes, cut into chunks at
 * positions the input itself chooses, must never crash, leak or overrun, and
 * the held partial line must stay within the limit. */
/* The unit under test is compiled into this target so that libFuzzer's
 * coverage instrumentation (-fsanitize=fuzzer applies to this file only,
 * not to libkubus) sees its branches; the archive's copy is then not linked. */
#include "../../lib/watchparse.c"
#include "../../lib/khttp.c"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "watchparse.h"

#define FUZZ_MAX_LINE 4096

static int count(void *ctx, const watchparse_event_t *ev)
{
    size_t *n = ctx;
    (*n)++;
    if (ev->kind <= WATCHPARSE_BOOKMARK && !json_is_object(ev->object)) abort();
    if (ev->kind >= WATCHPARSE_BAD_LINE && !ev->error) abort();
    /* Sometimes stop mid-chunk, as the informer does on an error. */
    return (*n % 17 == 0) ? 1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    size_t n = 0;
    watchparse_t *p = watchparse_new(FUZZ_MAX_LINE, count, &n);
    if (!p) return 0;
    size_t step = (size_t)data[0] % 64 + 1;
    for (size_t off = 1; off < size; off += step) {
        size_t len = size - off < step ? size - off : step;
        watchparse_feed(p, data + off, len);
        if (watchparse_pending(p) > FUZZ_MAX_LINE) abort();
    }
    watchparse_destroy(&p);
    return 0;
}
