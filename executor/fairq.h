/* fairq.h - fair queueing of work between controllers.
 *
 * Owns: one FIFO per owner (controller routing id) and the round-robin order
 * between owners whose FIFO is not empty. fairq_pop() serves the owners in
 * turn, one item each, so a controller with 10000 queued actions delays a
 * controller with one by at most one request per other busy owner.
 *
 * Cost: push and pop are O(number of owners with queued work), which is the
 * number of controllers (tens); item order inside an owner is FIFO.
 * Items are opaque pointers the queue does not own.
 */
#ifndef KUBUS_EXECUTOR_FAIRQ_H
#define KUBUS_EXECUTOR_FAIRQ_H

#include <stdbool.h>
#include <stddef.h>

typedef struct fairq fairq_t;

fairq_t *fairq_new(void);
/* Frees the queue; each remaining item is passed to free_item (may be NULL). */
void fairq_destroy(fairq_t **q, void (*free_item)(void *item));

/* Appends item to owner's FIFO. 0, or -1 when out of memory. */
int fairq_push(fairq_t *q, const char *owner, void *item);
/* Takes the head of the next owner's FIFO in round-robin order; NULL when
 * empty. The owner's name is not returned: items carry their own. */
void *fairq_pop(fairq_t *q);
/* Like fairq_pop, but skips the owners whose head item ok() refuses (a
 * controller out of tokens must not hold up the others): takes the head of
 * the first owner in round-robin order that ok accepts, or returns NULL
 * when ok refuses every owner's head. O(owners). */
void *fairq_pop_if(fairq_t *q, bool (*ok)(void *item, void *arg), void *arg);
/* The item fairq_pop would return, without taking it. */
void *fairq_peek(const fairq_t *q);

size_t fairq_len(const fairq_t *q);
size_t fairq_owner_len(const fairq_t *q, const char *owner);
/* Calls fn for every queued item of owner, in FIFO order. */
void fairq_each(const fairq_t *q, const char *owner, void (*fn)(void *item, void *arg), void *arg);

#endif
