/* gc_kinds.h - what the garbage collector needs to know about a kind named
 * in an ownerReference: which resource to GET/PATCH/DELETE it through, whether
 * it is namespaced, and whether the GC watches it (so its objects become
 * observed graph nodes).
 *
 * Owns: the list of resources the GC watches. The kind table itself is the
 * caller's (the process wires lib/kapi.h in; tests wire a fake), so the GC core
 * has no link-time dependency on it.
 */
#ifndef KUBUS_GC_KINDS_H
#define KUBUS_GC_KINDS_H

#include <stdbool.h>

typedef struct {
    const char *resource;     /* plural, e.g. "replicasets" */
    const char *group_version;/* "apps/v1" */
    bool namespaced;
    bool watched;
} gc_kind_t;

/* Fills out for apiVersion+kind (versions of one group are the same kind);
 * false for a kind the GC cannot look up. */
typedef bool (*gc_kind_lookup_fn)(void *arg, const char *api_version, const char *kind,
                                  gc_kind_t *out);

typedef struct {
    gc_kind_lookup_fn lookup;
    void *arg;
} gc_kinds_t;

/* The resources whose objects the GC tracks, NULL-terminated. */
extern const char *const gc_watched_resources[];
bool gc_resource_watched(const char *resource);

/* kinds->lookup with NULL checks; false if kinds or the function is NULL. */
bool gc_kinds_lookup(const gc_kinds_t *kinds, const char *api_version, const char *kind,
                     gc_kind_t *out);

#endif
