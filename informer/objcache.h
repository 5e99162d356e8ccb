/* objcache.h - the informer's current state of one resource.
 *
 * Owns: objects keyed by "namespace/name" ("/name" for cluster-scoped), each
 * with its JSON (managedFields already removed; NULL for resources whose
 * bytes live in the store only, see reflector_forget_bytes), uid,
 * resourceVersion and the list generation that last saw it (mark-and-sweep
 * for relist diffs).
 *
 * Cost: a chained hash table (FNV-1a), doubled when the load passes 1, so
 * get/put/del are O(1) on average; memory is the JSON plus ~64 bytes/object.
 * Invariant: keys are unique; every string is owned by its entry.
 */
#ifndef KUBUS_INFORMER_OBJCACHE_H
#define KUBUS_INFORMER_OBJCACHE_H

#include <stddef.h>
#include <stdint.h>

typedef struct objcache_entry {
    char *key;                 /* "ns/name" */
    const char *ns, *name;     /* point into ns_name: "ns\0name\0" */
    char *ns_name;
    char *json;
    size_t json_len;
    char *uid, *rv;
    uint64_t mark;             /* list generation that last saw it */
    struct objcache_entry *next;
} objcache_entry_t;

typedef struct objcache objcache_t;

objcache_t *objcache_new(void);
void objcache_destroy(objcache_t **c);
size_t objcache_count(const objcache_t *c);

objcache_entry_t *objcache_get(const objcache_t *c, const char *ns, const char *name);
/* Inserts or replaces; takes ownership of json (malloc'd). *created tells
 * which. Returns the entry, or NULL on allocation failure (json freed). */
objcache_entry_t *objcache_put(objcache_t *c, const char *ns, const char *name, char *json, size_t json_len,
                               const char *uid, const char *rv, uint64_t mark, int *created);
/* Removes and frees the entry (no-op if absent). */
void objcache_del(objcache_t *c, const char *ns, const char *name);

/* Calls fn for every entry; fn may not modify the cache. Stops early and
 * returns fn's value when it is non-zero. */
int objcache_each(const objcache_t *c, int (*fn)(void *ctx, const objcache_entry_t *e), void *ctx);
/* Removes every entry whose mark != keep, calling fn on each first. Returns
 * how many were removed. */
size_t objcache_sweep(objcache_t *c, uint64_t keep, void (*fn)(void *ctx, const objcache_entry_t *e), void *ctx);

#endif
