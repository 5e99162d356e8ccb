/* cache_store.h - the store-backed mode of a cache (cache.h), private to
 * lib/ctrl/cache.c, which dispatches to it.
 *
 * Owns: for one resource kept in the shard's store (store.h), the trees
 * handed out since the last release and a key -> tree memo, so a sync sees
 * one pointer per object (as with a compact cache). It holds no objects of
 * its own: every lookup reads the store through the store's read
 * transaction, begun on the first read after a release and ended by the
 * release (the runtime releases after every sync and loop turn). The
 * store itself (store_t) is borrowed: attached by the runtime for the
 * epoch it follows, NULL while it has none (then the resource looks
 * empty; the runtime does not sync until it is attached).
 *
 * Invariant: a memo entry is valid only for the read generation it was
 * made in (store_read_generation): a renewed transaction may see newer
 * objects, so the memo is dropped (its trees live on until the release).
 * Cost: a lookup is a B-tree read plus one JSON parse per object per
 * generation; memory is the trees of this turn only.
 */
#ifndef KUBUS_CTRL_CACHE_STORE_H
#define KUBUS_CTRL_CACHE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "ctrl/cache.h"
#include "store.h"

typedef struct cache_store cache_store_t;

cache_store_t *cs_new(const char *resource);
void cs_destroy(cache_store_t **cs);
void cs_attach(cache_store_t *cs, store_t *store);
store_t *cs_store(const cache_store_t *cs);
/* Frees this turn's trees and ends the read transaction. */
void cs_release(cache_store_t *cs);

const json_t *cs_get(cache_store_t *cs, const char *key);
const json_t *cs_get_by_uid(cache_store_t *cs, const char *uid);
/* The uid index alone (no parse): false when absent or unreadable. */
bool cs_has_uid(cache_store_t *cs, const char *uid);
size_t cs_size(cache_store_t *cs);

typedef enum { CS_ALL, CS_NAMESPACE, CS_OWNED, CS_CLAIMABLE } cs_scope_t;
/* Objects of the scope (ns: CS_NAMESPACE, CS_CLAIMABLE; owner_uid:
 * CS_OWNED, CS_CLAIMABLE) into l. 0, or -1 (l empty). */
int cs_list(cache_store_t *cs, cs_scope_t scope, const char *ns, const char *owner_uid, cache_list_t *l);
void cs_foreach(cache_store_t *cs, cache_visit_fn fn, void *ud);
void cs_foreach_key(cache_store_t *cs, cache_key_fn fn, void *ud);

#endif
