/* objcache.c - hash table of one resource's objects. See objcache.h. */
#include "objcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"

struct objcache {
    objcache_entry_t **buckets;
    size_t nbuckets;           /* power of two */
    size_t count;
};

/* "ns/name": '/' cannot occur in either part, so the key is unambiguous. */
static char *make_key(const char *ns, const char *name)
{
    char *k = NULL;
    return asprintf(&k, "%s/%s", ns ? ns : "", name) < 0 ? NULL : k;
}

objcache_t *objcache_new(void)
{
    objcache_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->nbuckets = 64;
    c->buckets = calloc(c->nbuckets, sizeof *c->buckets);
    if (!c->buckets) { free(c); return NULL; }
    return c;
}

static void entry_free(objcache_entry_t *e)
{
    free(e->key);
    free(e->ns_name);
    free(e->json);
    free(e->uid);
    free(e->rv);
    free(e);
}

void objcache_destroy(objcache_t **pc)
{
    if (!pc || !*pc) return;
    objcache_t *c = *pc;
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (objcache_entry_t *e = c->buckets[i], *n; e; e = n) {
            n = e->next;
            entry_free(e);
        }
    }
    free(c->buckets);
    free(c);
    *pc = NULL;
}

size_t objcache_count(const objcache_t *c) { return c->count; }

static objcache_entry_t **slot(const objcache_t *c, const char *key)
{
    objcache_entry_t **p = &c->buckets[fnv1a32_str(key) & (c->nbuckets - 1)];
    while (*p && strcmp((*p)->key, key) != 0) p = &(*p)->next;
    return p;
}

objcache_entry_t *objcache_get(const objcache_t *c, const char *ns, const char *name)
{
    char *key = make_key(ns, name);
    if (!key) return NULL;
    objcache_entry_t *e = *slot(c, key);
    free(key);
    return e;
}

/* Doubling keeps chains short; a failed grow just leaves them longer. */
static void maybe_grow(objcache_t *c)
{
    if (c->count < c->nbuckets) return;
    size_t n = c->nbuckets * 2;
    objcache_entry_t **b = calloc(n, sizeof *b);
    if (!b) return;
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (objcache_entry_t *e = c->buckets[i], *next; e; e = next) {
            next = e->next;
            objcache_entry_t **head = &b[fnv1a32_str(e->key) & (n - 1)];
            e->next = *head;
            *head = e;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

static int set_str(char **dst, const char *src)
{
    if (*dst && strcmp(*dst, src) == 0) return 0;
    char *s = strdup(src);
    if (!s) return -1;
    free(*dst);
    *dst = s;
    return 0;
}

static objcache_entry_t *entry_new(const char *key, const char *ns, const char *name)
{
    objcache_entry_t *e = calloc(1, sizeof *e);
    if (!e) return NULL;
    size_t nl = strlen(ns ? ns : ""), ml = strlen(name);
    e->key = strdup(key);
    e->ns_name = malloc(nl + ml + 2);
    if (!e->key || !e->ns_name) { entry_free(e); return NULL; }
    memcpy(e->ns_name, ns ? ns : "", nl + 1);
    memcpy(e->ns_name + nl + 1, name, ml + 1);
    e->ns = e->ns_name;
    e->name = e->ns_name + nl + 1;
    return e;
}

objcache_entry_t *objcache_put(objcache_t *c, const char *ns, const char *name, char *json, size_t json_len,
                               const char *uid, const char *rv, uint64_t mark, int *created)
{
    char *key = make_key(ns, name);
    if (!key) { free(json); return NULL; }
    objcache_entry_t **p = slot(c, key), *e = *p;
    *created = e == NULL;
    if (!e) {
        e = entry_new(key, ns, name);
        if (!e) { free(key); free(json); return NULL; }
        *p = e;
        c->count++;
    }
    free(key);
    if (set_str(&e->uid, uid) < 0 || set_str(&e->rv, rv) < 0) {
        free(json);
        objcache_del(c, ns, name); /* never keep an entry with stale fields */
        return NULL;
    }
    free(e->json);
    e->json = json;
    e->json_len = json_len;
    e->mark = mark;
    if (*created) maybe_grow(c);
    return e;
}

void objcache_del(objcache_t *c, const char *ns, const char *name)
{
    char *key = make_key(ns, name);
    if (!key) return;
    objcache_entry_t **p = slot(c, key), *e = *p;
    free(key);
    if (!e) return;
    *p = e->next;
    entry_free(e);
    c->count--;
}

int objcache_each(const objcache_t *c, int (*fn)(void *ctx, const objcache_entry_t *e), void *ctx)
{
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (const objcache_entry_t *e = c->buckets[i]; e; e = e->next) {
            int rc = fn(ctx, e);
            if (rc) return rc;
        }
    }
    return 0;
}

size_t objcache_sweep(objcache_t *c, uint64_t keep, void (*fn)(void *ctx, const objcache_entry_t *e), void *ctx)
{
    size_t removed = 0;
    for (size_t i = 0; i < c->nbuckets; i++) {
        objcache_entry_t **p = &c->buckets[i];
        while (*p) {
            objcache_entry_t *e = *p;
            if (e->mark == keep) { p = &e->next; continue; }
            if (fn) fn(ctx, e);
            *p = e->next;
            entry_free(e);
            c->count--;
            removed++;
        }
    }
    return removed;
}
