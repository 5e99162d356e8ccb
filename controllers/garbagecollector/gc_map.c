/* gc_map.c - string-keyed hash table; see gc_map.h for costs. */
#include "gc_map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *key;
    void *value;
    struct entry *next;
} entry_t;

struct gc_map {
    entry_t **buckets;
    size_t nbuckets;  /* always a power of two */
    size_t count;
};

#define GC_MAP_MIN_BUCKETS 64u

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 16777619u;
    }
    return h;
}

gc_map_t *gc_map_new(void)
{
    gc_map_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->buckets = calloc(GC_MAP_MIN_BUCKETS, sizeof *m->buckets);
    if (!m->buckets) {
        free(m);
        return NULL;
    }
    m->nbuckets = GC_MAP_MIN_BUCKETS;
    return m;
}

void gc_map_destroy(gc_map_t **mp)
{
    if (!mp || !*mp) return;
    gc_map_t *m = *mp;
    for (size_t i = 0; i < m->nbuckets; i++) {
        entry_t *e = m->buckets[i];
        while (e) {
            entry_t *next = e->next;
            free(e->key);
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    free(m);
    *mp = NULL;
}

static entry_t **slot_of(const gc_map_t *m, const char *key)
{
    entry_t **p = &m->buckets[fnv1a(key) & (m->nbuckets - 1)];
    while (*p && strcmp((*p)->key, key) != 0) p = &(*p)->next;
    return p;
}

void *gc_map_get(const gc_map_t *m, const char *key)
{
    if (!m || !key) return NULL;
    entry_t *e = *slot_of(m, key);
    return e ? e->value : NULL;
}

/* Doubling keeps chains short; a failed allocation just leaves chains longer. */
static void grow(gc_map_t *m)
{
    size_t n = m->nbuckets * 2;
    entry_t **b = calloc(n, sizeof *b);
    if (!b) return;
    for (size_t i = 0; i < m->nbuckets; i++) {
        entry_t *e = m->buckets[i];
        while (e) {
            entry_t *next = e->next;
            size_t j = fnv1a(e->key) & (n - 1);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = b;
    m->nbuckets = n;
}

int gc_map_put(gc_map_t *m, const char *key, void *value)
{
    if (!m || !key) return -1;
    entry_t **p = slot_of(m, key);
    if (*p) {
        (*p)->value = value;
        return 0;
    }
    entry_t *e = calloc(1, sizeof *e);
    if (!e) return -1;
    e->key = strdup(key);
    if (!e->key) {
        free(e);
        return -1;
    }
    e->value = value;
    *p = e;
    m->count++;
    if (m->count > m->nbuckets) grow(m);
    return 0;
}

void *gc_map_del(gc_map_t *m, const char *key)
{
    if (!m || !key) return NULL;
    entry_t **p = slot_of(m, key);
    entry_t *e = *p;
    if (!e) return NULL;
    void *v = e->value;
    *p = e->next;
    free(e->key);
    free(e);
    m->count--;
    return v;
}

size_t gc_map_count(const gc_map_t *m)
{
    return m ? m->count : 0;
}

void gc_map_each(const gc_map_t *m, bool (*fn)(const char *key, void *value, void *arg), void *arg)
{
    if (!m || !fn) return;
    for (size_t i = 0; i < m->nbuckets; i++)
        for (entry_t *e = m->buckets[i]; e; e = e->next)
            if (!fn(e->key, e->value, arg)) return;
}
