/* fairq.c - per-owner FIFOs served round-robin. See fairq.h.
 *
 * Invariant: the ring holds exactly the owners with at least one item;
 * `cursor` is the owner served next (NULL iff the queue is empty). An owner
 * whose FIFO drains is unlinked and freed, so ids that come and go (one per
 * controller restart) cost nothing once their work is done. */
#include "fairq.h"

#include <stdlib.h>
#include <string.h>

typedef struct fq_node {
    void *item;
    struct fq_node *next;
} fq_node_t;

typedef struct fq_owner {
    char *name;
    fq_node_t *head, *tail;
    size_t len;
    struct fq_owner *next, *prev; /* ring of owners with work */
} fq_owner_t;

struct fairq {
    fq_owner_t *cursor;
    size_t len;
};

fairq_t *fairq_new(void) { return calloc(1, sizeof(fairq_t)); }

static fq_owner_t *find_owner(const fairq_t *q, const char *name)
{
    fq_owner_t *o = q->cursor;
    if (!o) return NULL;
    do {
        if (strcmp(o->name, name) == 0) return o;
        o = o->next;
    } while (o != q->cursor);
    return NULL;
}

/* A new owner joins at the end of the current round (just before cursor). */
static fq_owner_t *add_owner(fairq_t *q, const char *name)
{
    fq_owner_t *o = calloc(1, sizeof *o);
    if (!o) return NULL;
    o->name = strdup(name);
    if (!o->name) { free(o); return NULL; }
    if (!q->cursor) {
        o->next = o->prev = o;
        q->cursor = o;
    } else {
        o->next = q->cursor;
        o->prev = q->cursor->prev;
        o->prev->next = o;
        q->cursor->prev = o;
    }
    return o;
}

static void remove_owner(fairq_t *q, fq_owner_t *o)
{
    if (o->next == o) {
        q->cursor = NULL;
    } else {
        o->prev->next = o->next;
        o->next->prev = o->prev;
        if (q->cursor == o) q->cursor = o->next;
    }
    free(o->name);
    free(o);
}

int fairq_push(fairq_t *q, const char *owner, void *item)
{
    fq_node_t *n = calloc(1, sizeof *n);
    if (!n) return -1;
    n->item = item;
    fq_owner_t *o = find_owner(q, owner);
    if (!o && !(o = add_owner(q, owner))) { free(n); return -1; }
    if (o->tail) o->tail->next = n; else o->head = n;
    o->tail = n;
    o->len++;
    q->len++;
    return 0;
}

void *fairq_peek(const fairq_t *q)
{
    return q->cursor ? q->cursor->head->item : NULL;
}

void *fairq_pop(fairq_t *q)
{
    fq_owner_t *o = q->cursor;
    if (!o) return NULL;
    fq_node_t *n = o->head;
    void *item = n->item;
    o->head = n->next;
    if (!o->head) o->tail = NULL;
    o->len--;
    q->len--;
    free(n);
    if (o->len == 0) remove_owner(q, o); /* moves cursor on */
    else q->cursor = o->next;
    return item;
}

void *fairq_pop_if(fairq_t *q, bool (*ok)(void *item, void *arg), void *arg)
{
    fq_owner_t *start = q->cursor, *o = start;
    if (!o) return NULL;
    do {
        if (ok(o->head->item, arg)) {
            q->cursor = o;   /* the owners skipped keep their turn for the next round */
            void *item = fairq_pop(q);
            if (start != o) q->cursor = start;   /* start still queues: only o can have left the ring */
            return item;
        }
        o = o->next;
    } while (o != start);
    return NULL;
}

size_t fairq_len(const fairq_t *q) { return q->len; }

size_t fairq_owner_len(const fairq_t *q, const char *owner)
{
    const fq_owner_t *o = find_owner(q, owner);
    return o ? o->len : 0;
}

void fairq_each(const fairq_t *q, const char *owner, void (*fn)(void *item, void *arg), void *arg)
{
    const fq_owner_t *o = find_owner(q, owner);
    for (const fq_node_t *n = o ? o->head : NULL; n; n = n->next) fn(n->item, arg);
}

void fairq_destroy(fairq_t **qp, void (*free_item)(void *item))
{
    if (!qp || !*qp) return;
    fairq_t *q = *qp;
    while (q->cursor) {
        void *item = fairq_pop(q);
        if (free_item) free_item(item);
    }
    free(q);
    *qp = NULL;
}
