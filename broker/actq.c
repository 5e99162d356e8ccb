/* actq.c - bounded FIFO of held actions. See actq.h. */
#include "actq.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define ACTQ_FIRST_CAP 256u

void broker_actq_init(broker_actq_t *q, size_t max_items, size_t max_bytes)
{
    memset(q, 0, sizeof *q);
    q->max_items = max_items ? max_items : 1;
    q->max_bytes = max_bytes;
}

void broker_actq_pop(broker_actq_t *q)
{
    if (q->len == 0) return;
    broker_item_t *it = &q->items[q->head];
    q->bytes -= it->bytes;
    zmq_msg_close(&it->id);
    zmq_msg_close(&it->env);
    q->head = (q->head + 1) % q->cap;
    q->len--;
}

void broker_actq_fini(broker_actq_t *q)
{
    while (q->len) broker_actq_pop(q);
    free(q->items);
    memset(q, 0, sizeof *q);
}

/* Moves every entry into a larger array, oldest first. zmq_msg_t may hold
 * its data inline, so entries are moved with zmq_msg_move, not memcpy. */
static int grow(broker_actq_t *q)
{
    size_t cap = q->cap ? q->cap * 2 : ACTQ_FIRST_CAP;
    if (cap > q->max_items) cap = q->max_items;
    broker_item_t *items = calloc(cap, sizeof *items);
    if (!items) return -1;
    for (size_t i = 0; i < q->len; i++) {
        broker_item_t *from = &q->items[(q->head + i) % q->cap];
        zmq_msg_init(&items[i].id);
        zmq_msg_init(&items[i].env);
        zmq_msg_move(&items[i].id, &from->id);
        zmq_msg_move(&items[i].env, &from->env);
        items[i].bytes = from->bytes;
        zmq_msg_close(&from->id);
        zmq_msg_close(&from->env);
    }
    free(q->items);
    q->items = items;
    q->cap = cap;
    q->head = 0;
    return 0;
}

int broker_actq_push(broker_actq_t *q, zmq_msg_t *id, zmq_msg_t *env)
{
    size_t n = zmq_msg_size(id) + zmq_msg_size(env);
    while (q->len && (q->len >= q->max_items || (q->max_bytes && q->bytes + n > q->max_bytes))) {
        broker_actq_pop(q);
        q->dropped++;
    }
    if (q->len == q->cap && grow(q) < 0) {
        errno = ENOMEM;
        return -1;
    }
    broker_item_t *it = &q->items[(q->head + q->len) % q->cap];
    zmq_msg_init(&it->id);
    zmq_msg_init(&it->env);
    zmq_msg_move(&it->id, id);
    zmq_msg_move(&it->env, env);
    it->bytes = n;
    q->len++;
    q->bytes += n;
    return 0;
}

broker_item_t *broker_actq_front(broker_actq_t *q)
{
    return q->len ? &q->items[q->head] : NULL;
}

size_t broker_actq_len(const broker_actq_t *q) { return q->len; }
