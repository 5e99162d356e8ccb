/* actq.h - the broker's holding queue for actions while no executor listens.
 *
 * Owns: a bounded FIFO of (controller routing id, envelope) frame pairs. It
 * grows on demand up to max_items entries and max_bytes of payload; beyond
 * either bound the oldest entry is dropped and counted (a controller re-sends
 * an action that got no result within 30 s, so dropping the oldest loses the
 * least). Frames are moved in and out, never copied.
 */
#ifndef KUBUS_BROKER_ACTQ_H
#define KUBUS_BROKER_ACTQ_H

#include <stddef.h>
#include <stdint.h>
#include <zmq.h>

typedef struct {
    zmq_msg_t id;
    zmq_msg_t env;
    size_t bytes;              /* as pushed; the frames may be sent out since */
} broker_item_t;

typedef struct {
    broker_item_t *items;
    size_t cap, head, len;
    size_t max_items, max_bytes, bytes;
    uint64_t dropped;          /* oldest entries dropped to make room */
} broker_actq_t;

#define BROKER_ACTQ_MAX_ITEMS 200000u
#define BROKER_ACTQ_MAX_BYTES (256u * 1024u * 1024u)

void broker_actq_init(broker_actq_t *q, size_t max_items, size_t max_bytes);
/* Closes every held frame and frees the queue. */
void broker_actq_fini(broker_actq_t *q);
/* Moves *id and *env to the back (they are left empty). Drops the oldest
 * entries while over a bound. 0, or -1 (errno ENOMEM) when the message could
 * not be taken: the caller still owns it. */
int broker_actq_push(broker_actq_t *q, zmq_msg_t *id, zmq_msg_t *env);
/* The oldest entry, or NULL when empty. Its frames may be sent (moved out). */
broker_item_t *broker_actq_front(broker_actq_t *q);
/* Removes the oldest entry, closing whatever is left of its frames. */
void broker_actq_pop(broker_actq_t *q);
size_t broker_actq_len(const broker_actq_t *q);

#endif
