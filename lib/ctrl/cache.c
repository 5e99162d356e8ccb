/* cache.c - per-resource object store with uid/namespace/owner indexes.
 * See cache.h. Invariant: every entry appears in by_uid (if it has a uid),
 * in by_ns[ns], in by_owner[controller uid] (if it has one) or else in
 * orphans[ns], and nowhere else; index_add/index_del are the only writers
 * of the indexes. A full cache's entry holds obj; a compact cache's holds
 * json (its bytes) and, for the current turn only, memo. */
#include "ctrl/cache.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/cache_store.h"
#include "ctrl/kobj.h"
#include "ctrl/turntrees.h"
#include "log.h"
#include "strmap.h"
#include "turnarena.h"

/* A compact cache keeps at most this many trees of objects it was just
 * given (handlers and the sync right after an event often read them
 * again); beyond that - a snapshot of thousands - they are freed at once,
 * so a snapshot never holds its parsed trees all together. */
#define MEMO_APPLY_MAX 256u

typedef struct {
    json_t *obj;      /* full cache: the object; compact: NULL */
    char *json;       /* compact cache: the object's JSON bytes */
    size_t len;
    json_t *memo;     /* compact: parsed in turn memo_turn (owned by parsed) */
    uint64_t memo_turn;
    char *uid;        /* NULL when the object has none */
    char *owner_uid;  /* controller ownerRef uid, or NULL */
    char *ns;
    char *rv;         /* resourceVersion ("" when none) */
    bool seen;        /* rebuild bookkeeping */
} entry_t;

struct cache {
    char *resource;
    bool compact;
    cache_store_t *st;   /* store-backed (cache_store.h): every call goes there */
    strmap_t *objs;      /* key -> entry_t */
    strmap_t *by_uid;    /* uid -> char *key */
    strmap_t *by_ns;     /* ns -> strmap set of keys */
    strmap_t *by_owner;  /* owner uid -> strmap set of keys */
    strmap_t *orphans;   /* ns -> strmap set of keys without a controller */
    turn_trees_t parsed; /* compact: trees handed out this turn */
    uint64_t turn;
    log_limit_t bad_log;
};

static void entry_free(void *p)
{
    entry_t *e = p;
    if (!e) return;
    json_decref(e->obj);
    free(e->json);
    free(e->uid);
    free(e->owner_uid);
    free(e->ns);
    free(e->rv);
    free(e);
}

static void set_free(void *p)
{
    strmap_t *m = p;
    strmap_destroy(&m);
}

static cache_t *cache_make(const char *resource, bool compact)
{
    cache_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->compact = compact;
    c->bad_log = (log_limit_t)LOG_LIMIT_INIT(1.0, 5.0);
    c->resource = strdup(resource ? resource : "");
    c->objs = strmap_new(entry_free);
    c->by_uid = strmap_new(free);
    c->by_ns = strmap_new(set_free);
    c->by_owner = strmap_new(set_free);
    c->orphans = strmap_new(set_free);
    if (!c->resource || !c->objs || !c->by_uid || !c->by_ns || !c->by_owner || !c->orphans) cache_destroy(&c);
    return c;
}

cache_t *cache_new(const char *resource) { return cache_make(resource, false); }
cache_t *cache_new_compact(const char *resource) { return cache_make(resource, true); }

cache_t *cache_new_stored(const char *resource)
{
    cache_t *c = cache_make(resource, true);
    if (c && !(c->st = cs_new(resource))) cache_destroy(&c);
    return c;
}

bool cache_is_stored(const cache_t *c) { return c && c->st; }
void cache_attach_store(cache_t *c, store_t *store) { if (c) cs_attach(c->st, store); }
store_t *cache_store(const cache_t *c) { return c ? cs_store(c->st) : NULL; }

void cache_release_parsed(cache_t *c)
{
    if (!c) return;
    cs_release(c->st);
    turn_trees_release(&c->parsed);
    c->turn++;   /* every entry's memo is stale now */
}

void cache_destroy(cache_t **cp)
{
    if (!cp || !*cp) return;
    cache_t *c = *cp;
    cache_release_parsed(c);
    cs_destroy(&c->st);
    turn_trees_free(&c->parsed);
    strmap_destroy(&c->objs);
    strmap_destroy(&c->by_uid);
    strmap_destroy(&c->by_ns);
    strmap_destroy(&c->by_owner);
    strmap_destroy(&c->orphans);
    free(c->resource);
    free(c);
    *cp = NULL;
}

const char *cache_resource(const cache_t *c) { return c ? c->resource : ""; }
size_t cache_size(const cache_t *c)
{
    if (c && c->st) return cs_size(c->st);
    return c ? strmap_size(c->objs) : 0;
}

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
    else set_add(c->orphans, e->ns ? e->ns : "", key);
}

static void index_del(cache_t *c, const char *key, const entry_t *e)
{
    if (e->uid) {
        const char *k = strmap_get(c->by_uid, e->uid);
        if (k && strcmp(k, key) == 0) strmap_del(c->by_uid, e->uid);
    }
    set_del(c->by_ns, e->ns ? e->ns : "", key);
    if (e->owner_uid) set_del(c->by_owner, e->owner_uid, key);
    else set_del(c->orphans, e->ns ? e->ns : "", key);
}

/* Refreshes e's derived fields from obj. 0, or -1 on OOM (e unchanged). */
static int entry_fill(entry_t *e, const json_t *obj)
{
    char *uid = dup_or_null(kobj_uid(obj));
    char *owner = dup_or_null(kobj_controller_uid(obj));
    char *ns = strdup(kobj_namespace(obj));
    char *rv = strdup(kobj_resource_version(obj));
    if (!ns || !rv) { free(uid); free(owner); free(ns); free(rv); return -1; }
    free(e->uid); free(e->owner_uid); free(e->ns); free(e->rv);
    e->uid = uid; e->owner_uid = owner; e->ns = ns; e->rv = rv;
    return 0;
}

/* A compact entry's tree, parsed now (new reference) unless this turn's
 * memo exists (then *borrowed is set and the memo returned). NULL if its
 * bytes do not parse (never expected: they are what the cache stored). */
static json_t *parse_entry(cache_t *c, const entry_t *e, bool *borrowed)
{
    *borrowed = e->memo && e->memo_turn == c->turn;
    if (*borrowed) return e->memo;
    json_error_t jerr;
    turn_arena_open();   /* turn-long or callback-long (turnarena.h) */
    json_t *t = json_loadb(e->json, e->len, 0, &jerr);
    turn_arena_close();
    if (!json_is_object(t)) {
        json_decref(t);
        if (log_limit_allow(&c->bad_log))
            LOGW("cached object does not parse", "resource", c->resource, "error", jerr.text);
        return NULL;
    }
    return t;
}

/* The object of e as handed out: valid until cache_release_parsed. */
static const json_t *entry_obj(cache_t *c, entry_t *e)
{
    if (!c->compact) return e->obj;
    bool borrowed;
    json_t *t = parse_entry(c, e, &borrowed);
    if (!t || borrowed) return t;
    if (!turn_trees_keep(&c->parsed, t)) { json_decref(t); return NULL; }
    e->memo = t;
    e->memo_turn = c->turn;
    return t;
}

/* For a callback: e's object (a new reference the caller drops after the
 * call), without keeping it for the turn. */
static json_t *entry_ref(cache_t *c, const entry_t *e)
{
    if (!c->compact) return json_incref(e->obj);
    bool borrowed;
    json_t *t = parse_entry(c, e, &borrowed);
    return borrowed ? json_incref(t) : t;
}

/* Stores obj (its reference taken) in e: the tree itself, or (compact) its
 * bytes, keeping the tree for this turn while few are kept. 0, or -1 on
 * OOM (obj released, e's old content kept). */
static int entry_store(cache_t *c, entry_t *e, json_t *obj, const char *json, size_t len)
{
    if (!c->compact) {
        json_decref(e->obj);
        e->obj = obj;
        return 0;
    }
    char *bytes = json ? malloc(len ? len : 1) : json_dumps(obj, JSON_COMPACT);
    if (!bytes) { json_decref(obj); return -1; }
    if (json) memcpy(bytes, json, len);
    else len = strlen(bytes);
    free(e->json);
    e->json = bytes;
    e->len = len;
    e->memo = NULL;
    if (turn_trees_count(&c->parsed) < MEMO_APPLY_MAX && turn_trees_keep(&c->parsed, obj)) {
        e->memo = obj;
        e->memo_turn = c->turn;
    } else {
        json_decref(obj);
    }
    return 0;
}

static int apply_delete(cache_t *c, const char *key, json_t *obj, cache_change_fn fn, void *ud)
{
    entry_t *e = strmap_take(c->objs, key);
    if (e) index_del(c, key, e);
    json_t *last = obj ? obj : e ? entry_ref(c, e) : NULL;
    if (fn && last) fn(CACHE_DELETED, last, NULL, ud);
    if (!obj) json_decref(last);
    entry_free(e);
    json_decref(obj);
    return 0;
}

static int apply_upsert(cache_t *c, const char *key, json_t *obj, const char *json, size_t len,
                        cache_change_fn fn, void *ud)
{
    entry_t *e = strmap_get(c->objs, key);
    if (e) {
        e->seen = true;
        if (e->uid && strcmp(e->uid, kobj_uid(obj)) == 0 && *e->rv &&
            strcmp(e->rv, kobj_resource_version(obj)) == 0) {
            json_decref(obj);
            return 0;
        }
        json_t *old = entry_ref(c, e);
        index_del(c, key, e);
        if (entry_fill(e, obj) < 0) {     /* keep the old state rather than lose the key */
            index_add(c, key, e);
            json_decref(obj);
            json_decref(old);
            return -1;
        }
        index_add(c, key, e);
        json_incref(obj);                 /* for the callback, whatever entry_store keeps */
        int rc = entry_store(c, e, obj, json, len);
        if (fn && old) fn(CACHE_MODIFIED, old, obj, ud);
        json_decref(obj);
        json_decref(old);
        return rc;
    }
    e = calloc(1, sizeof *e);
    if (!e || entry_fill(e, obj) < 0 || strmap_put(c->objs, key, e) < 0) {
        entry_free(e);
        json_decref(obj);
        return -1;
    }
    e->seen = true;
    index_add(c, key, e);
    json_incref(obj);
    int rc = entry_store(c, e, obj, json, len);
    if (rc < 0) {   /* no bytes for it: do not keep an empty entry */
        index_del(c, key, e);
        strmap_del(c->objs, key);
        json_decref(obj);
        return -1;
    }
    if (fn) fn(CACHE_ADDED, NULL, obj, ud);
    json_decref(obj);
    return 0;
}

int cache_apply_json(cache_t *c, json_t **objp, const char *json, size_t len, bool deleted,
                     cache_change_fn fn, void *ud)
{
    if (!objp) return -1;
    json_t *obj = *objp;
    *objp = NULL;
    char key[512];
    if (!c || c->st || !json_is_object(obj) || kobj_key(obj, key, sizeof key) < 0) {
        json_decref(obj);
        return -1;
    }
    return deleted ? apply_delete(c, key, obj, fn, ud) : apply_upsert(c, key, obj, json, len, fn, ud);
}

int cache_apply(cache_t *c, json_t **objp, bool deleted, cache_change_fn fn, void *ud)
{
    return cache_apply_json(c, objp, NULL, 0, deleted, fn, ud);
}

/* Handing an object out parses and remembers it in a compact cache: the
 * cache changes, the objects do not, hence the const interface. */
const json_t *cache_get(const cache_t *c, const char *key)
{
    if (c && c->st) return cs_get(c->st, key);
    entry_t *e = c ? strmap_get(c->objs, key) : NULL;
    return e ? entry_obj((cache_t *)c, e) : NULL;
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
    if (c && c->st) return cs_get_by_uid(c->st, uid);
    const char *key = c && uid ? strmap_get(c->by_uid, uid) : NULL;
    return key ? cache_get(c, key) : NULL;
}

bool cache_has_uid(cache_t *c, const char *uid)
{
    if (!c || !uid) return false;
    if (c->st) return cs_has_uid(c->st, uid);
    return strmap_get(c->by_uid, uid) != NULL;   /* every entry with a uid is there (invariant above) */
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
    if (c->st) return cs_list(c->st, CS_ALL, NULL, NULL, l);
    size_t n = strmap_size(c->objs);
    if (n == 0) return 0;
    l->items = malloc(n * sizeof *l->items);
    if (!l->items) return -1;
    strmap_iter_t it;
    void *v;
    strmap_iter_init(&it, c->objs);
    while (strmap_next(&it, NULL, &v)) {
        const json_t *o = entry_obj((cache_t *)c, v);
        if (o) l->items[l->n++] = o;
    }
    return 0;
}

int cache_list_namespace(const cache_t *c, const char *ns, cache_list_t *l)
{
    if (c && c->st) return cs_list(c->st, CS_NAMESPACE, ns, NULL, l);
    return list_keys(c, c ? strmap_get(c->by_ns, ns ? ns : "") : NULL, l);
}

int cache_list_controlled_by(const cache_t *c, const char *owner_uid, cache_list_t *l)
{
    if (c && c->st) return cs_list(c->st, CS_OWNED, NULL, owner_uid, l);
    return list_keys(c, c && owner_uid ? strmap_get(c->by_owner, owner_uid) : NULL, l);
}

int cache_list_claimable(const cache_t *c, const char *ns, const char *owner_uid, cache_list_t *l)
{
    l->items = NULL;
    l->n = 0;
    if (!c) return 0;
    if (c->st) return cs_list(c->st, CS_CLAIMABLE, ns, owner_uid, l);
    const strmap_t *owned = owner_uid ? strmap_get(c->by_owner, owner_uid) : NULL;
    const strmap_t *orphans = strmap_get(c->orphans, ns ? ns : "");
    size_t n = strmap_size(owned) + strmap_size(orphans);
    if (n == 0) return 0;
    l->items = malloc(n * sizeof *l->items);
    if (!l->items) return -1;
    const strmap_t *sets[2] = { owned, orphans };
    for (int s = 0; s < 2; s++) {
        if (!sets[s]) continue;
        strmap_iter_t it;
        const char *key;
        strmap_iter_init(&it, sets[s]);
        while (strmap_next(&it, &key, NULL)) {
            entry_t *e = strmap_get(c->objs, key);
            if (!e || strcmp(e->ns, ns ? ns : "") != 0) continue;   /* an owner's dependents live in its namespace */
            const json_t *o = entry_obj((cache_t *)c, e);
            if (o) l->items[l->n++] = o;
        }
    }
    return 0;
}

void cache_foreach(const cache_t *c, cache_visit_fn fn, void *ud)
{
    if (!c || !fn) return;
    if (c->st) { cs_foreach(c->st, fn, ud); return; }
    strmap_iter_t it;
    const char *key;
    void *v;
    strmap_iter_init(&it, c->objs);
    while (strmap_next(&it, &key, &v)) {
        const json_t *o = entry_obj((cache_t *)c, v);
        if (o && !fn(key, o, ud)) return;
    }
}

void cache_foreach_key(const cache_t *c, cache_key_fn fn, void *ud)
{
    if (!c || !fn) return;
    if (c->st) { cs_foreach_key(c->st, fn, ud); return; }
    strmap_iter_t it;
    const char *key;
    strmap_iter_init(&it, c->objs);
    while (strmap_next(&it, &key, NULL))
        if (!fn(key, ud)) return;
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
    strmap_t *fresh_orphans = strmap_new(set_free);
    if (!fresh_objs || !fresh_uid || !fresh_ns || !fresh_owner || !fresh_orphans) {
        strmap_destroy(&fresh_objs); strmap_destroy(&fresh_uid);
        strmap_destroy(&fresh_ns); strmap_destroy(&fresh_owner); strmap_destroy(&fresh_orphans);
        return;
    }
    cache_release_parsed(c);
    strmap_destroy(&c->objs); strmap_destroy(&c->by_uid);
    strmap_destroy(&c->by_ns); strmap_destroy(&c->by_owner); strmap_destroy(&c->orphans);
    c->objs = fresh_objs; c->by_uid = fresh_uid; c->by_ns = fresh_ns; c->by_owner = fresh_owner;
    c->orphans = fresh_orphans;
}
