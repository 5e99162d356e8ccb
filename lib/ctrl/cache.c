/* cache.c - per-resource object store with uid/namespace/owner indexes.
 * See cache.h. Invariant: every entry appears in by_uid (if it has a uid),
 * in by_ns[ns] and in by_owner[controller uid] (if it has one), and nowhere
 * else; index_add/index_del are the only writers of the indexes. */
#include "ctrl/cache.h"

#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"
#include "strmap.h"

typedef struct {
    json_t *obj;
    char *uid;        /* NULL when the object has none */
    char *owner_uid;  /* controller ownerRef uid, or NULL */
    char *ns;
    bool seen;        /* rebuild bookkeeping */
} entry_t;

struct cache {
    char *resource;
    strmap_t *objs;      /* key -> entry_t */
    strmap_t *by_uid;    /* uid -> char *key */
    strmap_t *by_ns;     /* ns -> strmap set of keys */
    strmap_t *by_owner;  /* owner uid -> strmap set of keys */
};

static void entry_free(void *p)
{
    entry_t *e = p;
    if (!e) return;
    json_decref(e->obj);
    free(e->uid);
    free(e->owner_uid);
    free(e->ns);
    free(e);
}

static void set_free(void *p)
{
    strmap_t *m = p;
    strmap_destroy(&m);
}

cache_t *cache_new(const char *resource)
{
    cache_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->resource = strdup(resource ? resource : "");
    c->objs = strmap_new(entry_free);
    c->by_uid = strmap_new(free);
    c->by_ns = strmap_new(set_free);
    c->by_owner = strmap_new(set_free);
    if (!c->resource || !c->objs || !c->by_uid || !c->by_ns || !c->by_owner) cache_destroy(&c);
    return c;
}

void cache_destroy(cache_t **cp)
{
    if (!cp || !*cp) return;
    cache_t *c = *cp;
    strmap_destroy(&c->objs);
    strmap_destroy(&c->by_uid);
    strmap_destroy(&c->by_ns);
    strmap_destroy(&c->by_owner);
    free(c->resource);
    free(c);
    *cp = NULL;
}

const char *cache_resource(const cache_t *c) { return c ? c->resource : ""; }
size_t cache_size(const cache_t *c) { return c ? strmap_size(c->objs) : 0; }

static char *dup_or_null(const char *s) { return s && *s ? strdup(s) : NULL; }

static void set_add(strmap_t *sets, const char *set_key, const char *key)
{
    strmap_t *set = strmap_get(sets, set_key);
    if (!set) {
        set = strmap_new(NULL);
        if (!set) return;
        if (strmap_put(sets, set_key, set) < 0) { strmap_destroy(&set); return; }
    }
    strmap_put(set, key, NULL);
}

static void set_del(strmap_t *sets, const char *set_key, const char *key)
{
    strmap_t *set = strmap_get(sets, set_key);
    if (!set) return;
    strmap_del(set, key);
    if (strmap_size(set) == 0) strmap_del(sets, set_key);
}

static void index_add(cache_t *c, const char *key, const entry_t *e)
{
    if (e->uid) {
        char *k = strdup(key);
        if (k && strmap_put(c->by_uid, e->uid, k) < 0) free(k);
    }
    set_add(c->by_ns, e->ns ? e->ns : "", key);
    if (e->owner_uid) set_add(c->by_owner, e->owner_uid, key);
}

static void index_del(cache_t *c, const char *key, const entry_t *e)
{
    if (e->uid) {
        const char *k = strmap_get(c->by_uid, e->uid);
        if (k && strcmp(k, key) == 0) strmap_del(c->by_uid, e->uid);
    }
    set_del(c->by_ns, e->ns ? e->ns : "", key);
    if (e->owner_uid) set_del(c->by_owner, e->owner_uid, key);
}

/* Points e at obj (taking the reference) and refreshes its derived fields. */
static int entry_fill(entry_t *e, json_t *obj)
{
    char *uid = dup_or_null(kobj_uid(obj));
    char *owner = dup_or_null(kobj_controller_uid(obj));
    char *ns = strdup(kobj_namespace(obj));
    if (!ns) { free(uid); free(owner); return -1; }
    free(e->uid); free(e->owner_uid); free(e->ns);
    e->uid = uid; e->owner_uid = owner; e->ns = ns;
    e->obj = obj;
    return 0;
}

static int apply_delete(cache_t *c, const char *key, json_t *obj, cache_change_fn fn, void *ud)
{
    entry_t *e = strmap_take(c->objs, key);
    if (e) index_del(c, key, e);
    if (fn && (obj || e)) fn(CACHE_DELETED, obj ? obj : e->obj, NULL, ud);
    entry_free(e);
    json_decref(obj);
    return 0;
}

static int apply_upsert(cache_t *c, const char *key, json_t *obj, cache_change_fn fn, void *ud)
{
    entry_t *e = strmap_get(c->objs, key);
    if (e) {
        e->seen = true;
        if (e->uid && strcmp(e->uid, kobj_uid(obj)) == 0 &&
            strcmp(kobj_resource_version(e->obj), kobj_resource_version(obj)) == 0 &&
            *kobj_resource_version(obj)) {
            json_decref(obj);
            return 0;
        }
        json_t *old = e->obj;
        index_del(c, key, e);
        if (entry_fill(e, obj) < 0) {     /* keep the old state rather than lose the key */
            index_add(c, key, e);
            json_decref(obj);
            return -1;
        }
        index_add(c, key, e);
        if (fn) fn(CACHE_MODIFIED, old, obj, ud);
        json_decref(old);
        return 0;
    }
    e = calloc(1, sizeof *e);
    if (!e || entry_fill(e, obj) < 0 || strmap_put(c->objs, key, e) < 0) {
        if (e) { e->obj = NULL; entry_free(e); }
        json_decref(obj);
        return -1;
    }
    e->seen = true;
    index_add(c, key, e);
    if (fn) fn(CACHE_ADDED, NULL, obj, ud);
    return 0;
}

int cache_apply(cache_t *c, json_t **objp, bool deleted, cache_change_fn fn, void *ud)
{
    if (!objp) return -1;
    json_t *obj = *objp;
    *objp = NULL;
    char key[512];
    if (!c || !json_is_object(obj) || kobj_key(obj, key, sizeof key) < 0) {
        json_decref(obj);
        return -1;
    }
    return deleted ? apply_delete(c, key, obj, fn, ud) : apply_upsert(c, key, obj, fn, ud);
}

const json_t *cache_get(const cache_t *c, const char *key)
{
    entry_t *e = c ? strmap_get(c->objs, key) : NULL;
    return e ? e->obj : NULL;
}

const json_t *cache_get_ns(const cache_t *c, const char *ns, const char *name)
{
    char key[512];
    int n = ns && *ns ? snprintf(key, sizeof key, "%s/%s", ns, name) : snprintf(key, sizeof key, "%s", name);
    if (n < 0 || (size_t)n >= sizeof key) return NULL;
    return cache_get(c, key);
}

const json_t *cache_get_by_uid(const cache_t *c, const char *uid)
{
    const char *key = c && uid ? strmap_get(c->by_uid, uid) : NULL;
    return key ? cache_get(c, key) : NULL;
}

void cache_list_free(cache_list_t *l)
{
    if (!l) return;
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

static int list_keys(const cache_t *c, const strmap_t *set, cache_list_t *l)
{
    l->items = NULL;
    l->n = 0;
    size_t n = strmap_size(set);
    if (n == 0) return 0;
    l->items = malloc(n * sizeof *l->items);
    if (!l->items) return -1;
    strmap_iter_t it;
    const char *key;
    strmap_iter_init(&it, set);
    while (strmap_next(&it, &key, NULL)) {
        const json_t *o = cache_get(c, key);
        if (o) l->items[l->n++] = o;
    }
    return 0;
}

int cache_list_all(const cache_t *c, cache_list_t *l)
{
    l->items = NULL;
    l->n = 0;
    if (!c) return 0;
    size_t n = strmap_size(c->objs);
    if (n == 0) return 0;
    l->items = malloc(n * sizeof *l->items);
    if (!l->items) return -1;
    strmap_iter_t it;
    void *v;
    strmap_iter_init(&it, c->objs);
    while (strmap_next(&it, NULL, &v)) l->items[l->n++] = ((entry_t *)v)->obj;
    return 0;
}

int cache_list_namespace(const cache_t *c, const char *ns, cache_list_t *l)
{
    return list_keys(c, c ? strmap_get(c->by_ns, ns ? ns : "") : NULL, l);
}

int cache_list_controlled_by(const cache_t *c, const char *owner_uid, cache_list_t *l)
{
    return list_keys(c, c && owner_uid ? strmap_get(c->by_owner, owner_uid) : NULL, l);
}

void cache_foreach(const cache_t *c, cache_visit_fn fn, void *ud)
{
    if (!c || !fn) return;
    strmap_iter_t it;
    const char *key;
    void *v;
    strmap_iter_init(&it, c->objs);
    while (strmap_next(&it, &key, &v))
        if (!fn(key, ((entry_t *)v)->obj, ud)) return;
}

void cache_rebuild_begin(cache_t *c)
{
    if (!c) return;
    strmap_iter_t it;
    void *v;
    strmap_iter_init(&it, c->objs);
    while (strmap_next(&it, NULL, &v)) ((entry_t *)v)->seen = false;
}

void cache_rebuild_end(cache_t *c, cache_change_fn fn, void *ud)
{
    if (!c) return;
    /* Collect first: deleting while iterating is only safe for the entry
     * the iterator stands on, and callbacks must see a consistent cache. */
    size_t n = strmap_size(c->objs), k = 0;
    char **gone = n ? calloc(n, sizeof *gone) : NULL;
    if (n && !gone) return;
    strmap_iter_t it;
    const char *key;
    void *v;
    strmap_iter_init(&it, c->objs);
    while (strmap_next(&it, &key, &v))
        if (!((entry_t *)v)->seen && (gone[k] = strdup(key)) != NULL) k++;
    for (size_t i = 0; i < k; i++) {
        apply_delete(c, gone[i], NULL, fn, ud);
        free(gone[i]);
    }
    free(gone);
}

void cache_clear(cache_t *c)
{
    if (!c) return;
    strmap_t *fresh_objs = strmap_new(entry_free), *fresh_uid = strmap_new(free);
    strmap_t *fresh_ns = strmap_new(set_free), *fresh_owner = strmap_new(set_free);
    if (!fresh_objs || !fresh_uid || !fresh_ns || !fresh_owner) {
        strmap_destroy(&fresh_objs); strmap_destroy(&fresh_uid);
        strmap_destroy(&fresh_ns); strmap_destroy(&fresh_owner);
        return;
    }
    strmap_destroy(&c->objs); strmap_destroy(&c->by_uid);
    strmap_destroy(&c->by_ns); strmap_destroy(&c->by_owner);
    c->objs = fresh_objs; c->by_uid = fresh_uid; c->by_ns = fresh_ns; c->by_owner = fresh_owner;
}
