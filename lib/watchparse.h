/* watchparse.h - incremental parser for a Kubernetes watch stream.
 *
 * Owns: turning the bytes of a watch response (newline-delimited JSON
 * objects {"type":..., "object":{...}}, cut into chunks anywhere) into
 * classified events. An event split across chunks is reassembled; several
 * events in one chunk come out one by one.
 *
 * Everything that is not a well-formed event is reported as what it is, never
 * skipped silently: a line that is not JSON, lacks "type"/"object" or has them
 * of the wrong type (BAD_LINE), an unknown type (UNKNOWN_TYPE), an ERROR event
 * or a bare Status object (STATUS; EXPIRED when it says 410 / Expired / Gone,
 * meaning "your resourceVersion is too old: relist"), and a line longer than
 * the limit (TOO_LONG, after which the parser resynchronises at the next
 * newline). Empty lines are ignored.
 *
 * Cost: O(bytes); a line that arrives whole inside one chunk is parsed in
 * place, a split one is copied once into a buffer bounded by max_line.
 */
#ifndef KUBUS_WATCHPARSE_H
#define KUBUS_WATCHPARSE_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "khttp.h"

#define WATCHPARSE_MAX_LINE (16u * 1024u * 1024u)

typedef enum {
    WATCHPARSE_ADDED = 1,        /* values 1..4 match kubus.proto's EventType */
    WATCHPARSE_MODIFIED = 2,
    WATCHPARSE_DELETED = 3,
    WATCHPARSE_BOOKMARK = 4,
    WATCHPARSE_STATUS = 10,      /* ERROR event / Status line, not a 410 */
    WATCHPARSE_EXPIRED = 11,     /* ERROR 410 Expired/Gone: relist */
    WATCHPARSE_BAD_LINE = 20,
    WATCHPARSE_UNKNOWN_TYPE = 21,
    WATCHPARSE_TOO_LONG = 22,
} watchparse_kind_t;

typedef struct {
    watchparse_kind_t kind;
    json_t *object;              /* ADDED..BOOKMARK: "object", borrowed for the call */
    khttp_status_t status;       /* STATUS, EXPIRED */
    const char *error;           /* BAD_LINE, UNKNOWN_TYPE, TOO_LONG: what was wrong */
    size_t line_len;
} watchparse_event_t;

/* Returns 0 to go on; anything else stops watchparse_feed, which drops the
 * rest of its data and any partial line and returns that value. */
typedef int (*watchparse_cb)(void *ctx, const watchparse_event_t *ev);

typedef struct watchparse watchparse_t;

/* max_line 0 means WATCHPARSE_MAX_LINE. NULL on allocation failure. */
watchparse_t *watchparse_new(size_t max_line, watchparse_cb cb, void *ctx);
void watchparse_destroy(watchparse_t **p);
/* Feeds a chunk. 0, or the callback's non-zero return. */
int watchparse_feed(watchparse_t *p, const void *data, size_t len);
/* Forgets any partial line (a new stream begins). */
void watchparse_reset(watchparse_t *p);
/* Bytes of an unfinished line held (non-zero at the end of a stream means
 * the stream was cut inside an event). */
size_t watchparse_pending(const watchparse_t *p);
const char *watchparse_kind_name(watchparse_kind_t kind);

#endif
