/* gc_map.h - a string-keyed hash table (uid -> node, key -> entry).
 *
 * Owns: its copies of the keys; never the values (the caller frees those).
 * Cost: O(1) average get/put/del (FNV-1a, chaining, doubles at load 1);
 * iteration O(buckets + entries). Not thread-safe: the GC is one thread.
 * Invariant: every key appears at most once.
 */
#ifndef KUBUS_GC_MAP_H
#define KUBUS_GC_MAP_H

#include <stdbool.h>
#include <stddef.h>

typedef struct gc_map gc_map_t;

gc_map_t *gc_map_new(void);
/* Frees the table and its keys (values are the caller's). NULLs *m. */
void gc_map_destroy(gc_map_t **m);

void *gc_map_get(const gc_map_t *m, const char *key);
/* Inserts or replaces. Returns 0, or -1 when out of memory (map unchanged). */
int gc_map_put(gc_map_t *m, const char *key, void *value);
/* Removes key; returns its value (NULL if absent). */
void *gc_map_del(gc_map_t *m, const char *key);
size_t gc_map_count(const gc_map_t *m);

/* Calls fn for every entry until it returns false. fn must not change m. */
void gc_map_each(const gc_map_t *m, bool (*fn)(const char *key, void *value, void *arg), void *arg);

#endif
