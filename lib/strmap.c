/* strmap.c - chained string hash map. See strmap.h. */
#include "strmap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

typedef struct entry {
    struct entry *next;
    uint32_t hash;
    void *value;
    char key[];
} entry_t;

struct strmap {
    entry_t **buckets;
    size_t cap;   /* power of two */
    size_t size;
    strmap_free_fn value_free;
};

strmap_t *strmap_new(strmap_free_fn value_free)
{
    strmap_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->cap = 16;
    m->buckets = calloc(m->cap, sizeof *m->buckets);
    if (!m->buckets) { free(m); return NULL; }
    m->value_free = value_free;
    return m;
}

void strmap_destroy(strmap_t **mp)
{
    if (!mp || !*mp) return;
    strmap_t *m = *mp;
    for (size_t i = 0; i < m->cap; i++) {
        entry_t *e = m->buckets[i];
        while (e) {
            entry_t *next = e->next;
            if (m->value_free && e->value) m->value_free(e->value);
            free(e);
            e = next;
        }
    }
    free(m->buckets);
    free(m);
    *mp = NULL;
}

static entry_t **find_slot(const strmap_t *m, const char *key, uint32_t h)
{
    entry_t **pp = &m->buckets[h & (m->cap - 1)];
    while (*pp && ((*pp)->hash != h || strcmp((*pp)->key, key) != 0)) pp = &(*pp)->next;
    return pp;
}

/* Doubling keeps chains short; a failed grow only costs speed. */
static void grow(strmap_t *m)
{
    size_t ncap = m->cap * 2;
    entry_t **nb = calloc(ncap, sizeof *nb);
    if (!nb) return;
    for (size_t i = 0; i < m->cap; i++) {
        entry_t *e = m->buckets[i];
        while (e) {
            entry_t *next = e->next;
            size_t b = e->hash & (ncap - 1);
            e->next = nb[b];
            nb[b] = e;
            e = next;
        }
    }
    free(m->buckets);
    m->buckets = nb;
    m->cap = ncap;
}

int strmap_put(strmap_t *m, const char *key, void *value)
{
    if (!m || !key) return -1;
    uint32_t h = fnv1a32_str(key);
    entry_t **pp = find_slot(m, key, h);
    if (*pp) {
        if (m->value_free && (*pp)->value && (*pp)->value != value) m->value_free((*pp)->value);
        (*pp)->value = value;
        return 0;
    }
    size_t kl = strlen(key);
    entry_t *e = malloc(sizeof *e + kl + 1);
    if (!e) return -1;
    memcpy(e->key, key, kl + 1);
    e->hash = h;
    e->value = value;
    e->next = NULL;
    *pp = e;
    m->size++;
    if (m->size > m->cap) grow(m);
    return 0;
}

void *strmap_get(const strmap_t *m, const char *key)
{
    if (!m || !key) return NULL;
    entry_t **pp = find_slot(m, key, fnv1a32_str(key));
    return *pp ? (*pp)->value : NULL;
}

bool strmap_has(const strmap_t *m, const char *key)
{
    if (!m || !key) return false;
    return *find_slot(m, key, fnv1a32_str(key)) != NULL;
}

void *strmap_take(strmap_t *m, const char *key)
{
    if (!m || !key) return NULL;
    entry_t **pp = find_slot(m, key, fnv1a32_str(key));
    entry_t *e = *pp;
    if (!e) return NULL;
    *pp = e->next;
    void *v = e->value;
    free(e);
    m->size--;
    return v;
}

bool strmap_del(strmap_t *m, const char *key)
{
    if (!m || !key) return false;
    entry_t **pp = find_slot(m, key, fnv1a32_str(key));
    entry_t *e = *pp;
    if (!e) return false;
    *pp = e->next;
    if (m->value_free && e->value) m->value_free(e->value);
    free(e);
    m->size--;
    return true;
}

size_t strmap_size(const strmap_t *m) { return m ? m->size : 0; }

void strmap_iter_init(strmap_iter_t *it, const strmap_t *m)
{
    it->m = m;
    it->bucket = 0;
    it->next = (m && m->cap) ? m->buckets[0] : NULL;
}

bool strmap_next(strmap_iter_t *it, const char **key, void **value)
{
    const strmap_t *m = it->m;
    if (!m) return false;
    while (!it->next) {
        if (++it->bucket >= m->cap) return false;
        it->next = m->buckets[it->bucket];
    }
    entry_t *e = it->next;
    it->next = e->next;   /* advance first: the caller may delete e */
    if (key) *key = e->key;
    if (value) *value = e->value;
    return true;
}
