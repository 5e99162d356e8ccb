/* strmap.h - a string-keyed hash map of void * values.
 *
 * Owns: the one string-keyed hash table of libkubus: the controller runtime
 * builds on it (caches, indexes, queues, expectations, action tables), and
 * so does the executor (event correlation). Keys are copied and owned
 * by the map; values are not (free them before strmap_del / destroy, or pass
 * a value destructor to strmap_new).
 *
 * Chained buckets, FNV-1a (hash.h), doubling at load 1: O(1) average get/put/del,
 * O(capacity) iteration. Iteration order is unspecified. Deleting the entry
 * the iterator stands on is allowed (strmap_next has already advanced);
 * inserting during iteration is not.
 */
#ifndef KUBUS_STRMAP_H
#define KUBUS_STRMAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct strmap strmap_t;
typedef void (*strmap_free_fn)(void *value);

strmap_t *strmap_new(strmap_free_fn value_free);   /* value_free may be NULL */
void strmap_destroy(strmap_t **m);

/* Replaces (and frees, with value_free) an existing value. 0, -1 on OOM. */
int strmap_put(strmap_t *m, const char *key, void *value);
void *strmap_get(const strmap_t *m, const char *key);
bool strmap_has(const strmap_t *m, const char *key);
/* Removes the entry, freeing its value with value_free. true if it existed. */
bool strmap_del(strmap_t *m, const char *key);
/* Removes the entry and hands its value back (not freed). NULL if absent. */
void *strmap_take(strmap_t *m, const char *key);
size_t strmap_size(const strmap_t *m);

typedef struct {
    const strmap_t *m;
    size_t bucket;
    void *next;
} strmap_iter_t;
void strmap_iter_init(strmap_iter_t *it, const strmap_t *m);
/* Next entry; false at the end. *key is the map's copy (valid while the
 * entry is), *value may be NULL to skip. */
bool strmap_next(strmap_iter_t *it, const char **key, void **value);

#endif
