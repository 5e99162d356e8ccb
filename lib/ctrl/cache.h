/* cache.h - the controller's local copy of one resource, fed by the bus.
 *
 * Owns: the current object of every key "ns/name" (json_t *, owned by the
 * cache), and three indexes kept in step with it: uid -> key, namespace ->
 * keys, controller-owner uid -> keys. Nothing else in a controller keeps
 * object pointers across events.
 *
 * Objects handed out are borrowed: valid until the next cache_apply() /
 * cache_clear() / cache_release_parsed() of the same cache, which in a
 * single-threaded controller means "for the rest of this callback or sync"
 * (the runtime releases after every sync and every loop turn). Never
 * modify them; copy (json_deep_copy) to build a changed version.
 *
 * A compact cache (cache_new_compact) keeps each object as its JSON bytes
 * and parses it when it is handed out: memory is the bytes (a pod's view,
 * ~0.55 KiB) plus the indexes, instead of a jansson tree (~5 KiB), for the
 * price of one parse (~2-3 us) per object per sync that reads it. Parsed
 * trees are kept until cache_release_parsed(), so a sync sees one pointer
 * per object.
 *
 * Cost: apply O(1) average plus O(ownerRefs); lookup O(1); listing a
 * namespace or an owner O(matches) (plus a parse each, compact). Memory ~
 * the objects' JSON trees, or their bytes when compact.
 */
#ifndef KUBUS_CTRL_CACHE_H
#define KUBUS_CTRL_CACHE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

typedef struct cache cache_t;

typedef enum {
    CACHE_ADDED = 1,    /* new key (old == NULL) */
    CACHE_MODIFIED = 2, /* existing key replaced (old, new both set) */
    CACHE_DELETED = 3,  /* key removed (old = the last state, new == NULL) */
} cache_change_t;

cache_t *cache_new(const char *resource);
/* A cache that keeps objects as JSON bytes, parsed on demand (above). */
cache_t *cache_new_compact(const char *resource);
/* A cache that holds nothing itself and reads the shard's store
 * (store.h, cache_store.h): lookups and lists as below, read through a
 * transaction that cache_release_parsed ends. It is never applied to
 * (cache_apply refuses; rebuilds are no-ops): the runtime hands events to
 * handlers itself. Empty until a store is attached. */
typedef struct store store_t;
cache_t *cache_new_stored(const char *resource);
bool cache_is_stored(const cache_t *c);
/* Attaches (NULL: detaches) the store it reads; borrowed. */
void cache_attach_store(cache_t *c, store_t *store);
store_t *cache_store(const cache_t *c);
/* Frees the trees a compact cache parsed since the last call (no-op for a
 * full cache): every object pointer it handed out is dead after this. */
void cache_release_parsed(cache_t *c);
void cache_destroy(cache_t **c);
const char *cache_resource(const cache_t *c);

/* Stores obj (taking ownership, *obj set to NULL) under its "ns/name", or
 * removes the key when deleted is true (obj then is the final state; it is
 * consumed too). Objects without a name are refused (-1, obj freed).
 * Before the old object is released, on_change (may be NULL) is called with
 * (change, old, new) so handlers see both states; both pointers are valid
 * only during the call. A delete of an absent key calls on_change with
 * old = the given final state (a delete we never saw added).
 * An update carrying the same uid and resourceVersion as the stored object
 * is a no-op (no callback): 0 returned and *obj freed. Returns 0 or -1. */
typedef void (*cache_change_fn)(cache_change_t change, const json_t *old_obj,
                                const json_t *new_obj, void *ud);
int cache_apply(cache_t *c, json_t **obj, bool deleted, cache_change_fn on_change, void *ud);
/* The same when the object's JSON bytes are at hand (json, len: what obj
 * was parsed from): a compact cache keeps them instead of serialising obj
 * again. json NULL: as cache_apply. */
int cache_apply_json(cache_t *c, json_t **obj, const char *json, size_t len, bool deleted,
                     cache_change_fn on_change, void *ud);

/* Lookups; NULL when absent. */
const json_t *cache_get(const cache_t *c, const char *key);
const json_t *cache_get_ns(const cache_t *c, const char *ns, const char *name);
const json_t *cache_get_by_uid(const cache_t *c, const char *uid);
/* Whether an object with this uid is there, from the uid index alone:
 * nothing is parsed or handed out (a compact or stored cache's lookup
 * costs a parse). For a filter that needs only existence. */
bool cache_has_uid(cache_t *c, const char *uid);
size_t cache_size(const cache_t *c);

/* A borrowed snapshot of some objects: an array the caller frees with
 * cache_list_free (the objects stay the cache's). */
typedef struct {
    const json_t **items;
    size_t n;
} cache_list_t;
void cache_list_free(cache_list_t *l);
/* All objects / those of one namespace / those whose controller ownerRef has
 * this uid. 0, or -1 on OOM (l is then empty). Order unspecified. */
int cache_list_all(const cache_t *c, cache_list_t *l);
int cache_list_namespace(const cache_t *c, const char *ns, cache_list_t *l);
int cache_list_controlled_by(const cache_t *c, const char *owner_uid, cache_list_t *l);
/* What a controller can claim in ns: the objects controlled by owner_uid
 * and those of ns with no controller at all (adoption candidates); never
 * the objects other controllers own. Same result as filtering
 * cache_list_namespace, at O(owned + orphans) instead of O(namespace). */
int cache_list_claimable(const cache_t *c, const char *ns, const char *owner_uid, cache_list_t *l);

/* Calls fn on every object (stop early by returning false). Do not change
 * the cache from fn. */
typedef bool (*cache_visit_fn)(const char *key, const json_t *obj, void *ud);
void cache_foreach(const cache_t *c, cache_visit_fn fn, void *ud);
/* The same with the keys alone ("ns/name", or "name" cluster-scoped),
 * parsing no object: what queueing every primary needs. */
typedef bool (*cache_key_fn)(const char *key, void *ud);
void cache_foreach_key(const cache_t *c, cache_key_fn fn, void *ud);

/* Marks the start of a rebuild: every key is flagged unseen. Applying
 * objects clears the flag; cache_rebuild_end() then deletes the keys still
 * unseen, calling on_change(CACHE_DELETED) for each. This turns a fresh
 * snapshot into the add/update/delete changes it implies (what client-go's
 * Replace does). */
void cache_rebuild_begin(cache_t *c);
void cache_rebuild_end(cache_t *c, cache_change_fn on_change, void *ud);
/* Drops everything without callbacks. */
void cache_clear(cache_t *c);

#endif
