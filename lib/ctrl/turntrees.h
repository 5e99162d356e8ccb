/* ctrl/turntrees.h - the parsed trees a cache handed out this turn.
 *
 * Owns: one reference to every tree in it, from turn_trees_keep until
 * turn_trees_release (the end of the sync or loop turn, when no caller may
 * still hold a tree it was given). The compact cache (cache.c) and the
 * store-backed cache (cache_store.c) both hand out borrowed trees parsed
 * from bytes and keep them here so they live exactly one turn.
 * Cost: amortised O(1) per keep (the array doubles from 64); release is
 * O(n) and keeps the array for the next turn.
 */
#ifndef KUBUS_CTRL_TURNTREES_H
#define KUBUS_CTRL_TURNTREES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct {
    json_t **v;
    size_t n, cap;
} turn_trees_t;   /* zero-initialised is empty */

/* Keeps t (the caller's reference moves in). false on OOM: t is not kept
 * and the caller still owns its reference. */
bool turn_trees_keep(turn_trees_t *tt, json_t *t);
/* Drops every kept reference; the array stays for the next turn. */
void turn_trees_release(turn_trees_t *tt);
/* Releases and frees the array (tt is empty and reusable afterwards). */
void turn_trees_free(turn_trees_t *tt);
/* How many trees are kept now. */
static inline size_t turn_trees_count(const turn_trees_t *tt) { return tt ? tt->n : 0; }

#endif
