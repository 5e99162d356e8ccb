/* batch.h - EventBatch frames: built one event at a time, header read
 * without decoding the events.
 *
 * Owns: the wire layout of an Envelope{event_batch} (proto/kubus.proto) on
 * the two paths that must not pay a full protobuf decode or re-encode:
 *  - building (the informer, kubus-bench-pub): batch_add packs each event
 *    behind a reserved head as it is published; batch_finish writes the
 *    envelope prefix and the batch header into that head, in front of the
 *    events. One pack per event, no copy of the events at the end.
 *  - checking (the broker): batch_header_read reads the envelope version and
 *    the batch header and steps over the events by their length prefixes, so
 *    a batch is checked in O(events) varint reads, not a decode.
 * Receivers (lib/subscriber.c) decode a batch whole with msg_decode, which
 * checks every event against the header (msg.c).
 *
 * A batch is flushed when the next event would take it past
 * BATCH_MAX_BYTES, so a frame is at most that big unless it holds one single
 * event larger than it (a big object: at most MSG_MAX_BYTES, refused above).
 * Cost of a batch of n events: n packs, O(1) amortised buffer growth.
 */
#ifndef KUBUS_BATCH_H
#define KUBUS_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "msg.h"

#define BATCH_MAX_BYTES (64u * 1024u)
#define BATCH_RESOURCE_MAX 63u       /* longest resource name a batch carries */

/* A resource name a batch may carry: 1..BATCH_RESOURCE_MAX of [a-z0-9.-]
 * (plural resource names are lower-case DNS labels; a '/' would forge a
 * topic). */
bool batch_resource_valid(const char *s, size_t n);

/* An encoded envelope: bytes mem[off .. off+len), mem malloc'd. */
typedef struct {
    uint8_t *mem;
    size_t off, len;
} batch_frame_t;

static inline const uint8_t *batch_frame_data(const batch_frame_t *f) { return f->mem + f->off; }
void batch_frame_free(batch_frame_t *f);

typedef struct {
    uint8_t *buf;
    size_t len, cap;                 /* len counts the reserved head */
    char resource[BATCH_RESOURCE_MAX + 1];
    uint64_t epoch, first_seq;
    uint32_t count;
} batch_builder_t;

void batch_builder_init(batch_builder_t *b);
void batch_builder_fini(batch_builder_t *b);
/* Events held (0: empty) and the frame size batch_finish would produce
 * now, give or take the header's few bytes. */
static inline uint32_t batch_count(const batch_builder_t *b) { return b->count; }
size_t batch_size(const batch_builder_t *b);
/* The size ev adds to a batch (its pack plus the field prefix). */
size_t batch_event_size(const msg_event_t *ev);

/* Appends ev. An empty builder takes ev's epoch and resource and starts at
 * its seq; after that ev must carry the same epoch and resource and seq
 * first_seq + count, and be a live change (ADDED, MODIFIED, DELETED).
 * 0, or -1 with a reason (nothing appended). */
int batch_add(batch_builder_t *b, const msg_event_t *ev, char *err, size_t errlen);
/* Closes the batch into *out (the caller owns it) and empties the builder
 * (its buffer goes with the frame, trimmed to about the frame's size).
 * -1 when empty. */
int batch_finish(batch_builder_t *b, batch_frame_t *out);

typedef struct {
    uint64_t epoch, first_seq;
    uint32_t count;
    char resource[BATCH_RESOURCE_MAX + 1];
} batch_header_t;

/* Reads buf as an Envelope. 1: it is an EventBatch whose header holds up
 * (version 1, epoch and first_seq non-zero, a resource name of
 * [a-z0-9.-], count == the number of events, seqs that do not overflow,
 * every length prefix inside the frame): h is filled. 0: another body
 * (decode it with msg_decode). -1: malformed, with a reason. Pure: any
 * bytes in, never a read outside buf. */
int batch_header_read(const uint8_t *buf, size_t len, batch_header_t *h, char *err, size_t errlen);

#endif
