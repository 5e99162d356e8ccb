/* cache_store.c - a cache that reads the shard's store. See cache_store.h. */
#include "ctrl/cache_store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/turntrees.h"
#include "log.h"
#include "strmap.h"
#include "turnarena.h"

#define KEY_MAX 512

struct cache_store {
    char *resource;
    store_t *store;       /* borrowed (the runtime's) */
    strmap_t *memo;       /* key -> json_t * (borrowed from parsed) */
    uint64_t memo_gen;    /* store read generation the memo belongs to */
    turn_trees_t parsed;  /* trees handed out since the last release */
    log_limit_t bad_log;
};

cache_store_t *cs_new(const char *resource)
{
    cache_store_t *cs = calloc(1, sizeof *cs);
    if (!cs) return NULL;
    cs->resource = strdup(resource ? resource : "");
    cs->memo = strmap_new(NULL);
    cs->bad_log = (log_limit_t)LOG_LIMIT_INIT(1.0, 5.0);
    if (!cs->resource || !cs->memo) cs_destroy(&cs);
    return cs;
}

void cs_destroy(cache_store_t **csp)
{
    if (!csp || !*csp) return;
    cache_store_t *cs = *csp;
    cs_release(cs);
    turn_trees_free(&cs->parsed);
    strmap_destroy(&cs->memo);
    free(cs->resource);
    free(cs);
    *csp = NULL;
}

void cs_attach(cache_store_t *cs, store_t *store)
{
    if (!cs) return;
    cs_release(cs);
    cs->store = store;
}

store_t *cs_store(const cache_store_t *cs) { return cs ? cs->store : NULL; }

static void drop_memo(cache_store_t *cs)
{
    if (strmap_size(cs->memo) == 0) return;
    strmap_t *fresh = strmap_new(NULL);
    if (!fresh) return;   /* keep the old one: stale for one turn at worst */
    strmap_destroy(&cs->memo);
    cs->memo = fresh;
}

void cs_release(cache_store_t *cs)
{
    if (!cs) return;
    drop_memo(cs);
    turn_trees_release(&cs->parsed);
    store_read_end(cs->store);
}

/* The read transaction for this call: begun if none, and the memo dropped
 * when it belongs to another one. false without a store. */
static bool reading(cache_store_t *cs)
{
    if (!cs->store) return false;
    char err[256];
    if (!store_reading(cs->store) && store_read_begin(cs->store, err, sizeof err) < 0) {
        if (log_limit_allow(&cs->bad_log)) LOGW("cannot read the store", "resource", cs->resource, "error", err);
        return false;
    }
    uint64_t gen = store_read_generation(cs->store);
    if (gen != cs->memo_gen) {
        drop_memo(cs);
        cs->memo_gen = gen;
    }
    return true;
}

/* rec's tree for this turn: the memo's, or parsed now and remembered.
 * NULL when its bytes are not a JSON object (the informer only stores
 * objects it parsed) or on OOM. */
static const json_t *rec_obj(cache_store_t *cs, const store_rec_t *rec)
{
    char key[KEY_MAX];
    if (rec->key_len >= sizeof key) return NULL;
    memcpy(key, rec->key, rec->key_len);
    key[rec->key_len] = '\0';
    json_t *t = strmap_get(cs->memo, key);
    if (t) return t;
    json_error_t jerr;
    turn_arena_open();   /* a turn-long tree: freed with the turn (turnarena.h) */
    t = json_loadb(rec->json, rec->json_len, 0, &jerr);
    turn_arena_close();
    if (!json_is_object(t)) {
        json_decref(t);
        if (log_limit_allow(&cs->bad_log))
            LOGW("stored object does not parse", "resource", cs->resource, "key", key, "error", jerr.text);
        return NULL;
    }
    if (!turn_trees_keep(&cs->parsed, t)) { json_decref(t); return NULL; }
    strmap_put(cs->memo, key, t);   /* a memo miss costs a parse, nothing else */
    return t;
}

const json_t *cs_get(cache_store_t *cs, const char *key)
{
    if (!cs || !key || !reading(cs)) return NULL;
    json_t *t = strmap_get(cs->memo, key);
    if (t) return t;
    store_rec_t rec;
    char err[256];
    int rc = store_get(cs->store, cs->resource, key, &rec, err, sizeof err);
    if (rc < 0 && log_limit_allow(&cs->bad_log)) LOGW("store read failed", "resource", cs->resource, "error", err);
    return rc == 1 ? rec_obj(cs, &rec) : NULL;
}

const json_t *cs_get_by_uid(cache_store_t *cs, const char *uid)
{
    char key[KEY_MAX];
    if (!cs || !uid || !reading(cs)) return NULL;
    return store_key_of_uid(cs->store, cs->resource, uid, key, sizeof key) == 1 ? cs_get(cs, key) : NULL;
}

bool cs_has_uid(cache_store_t *cs, const char *uid)
{
    char key[KEY_MAX];
    if (!cs || !uid || !reading(cs)) return false;
    int rc = store_key_of_uid(cs->store, cs->resource, uid, key, sizeof key);
    if (rc < 0 && log_limit_allow(&cs->bad_log)) LOGW("store uid lookup failed", "resource", cs->resource, "uid", uid);
    return rc == 1;
}

size_t cs_size(cache_store_t *cs) { return cs && reading(cs) ? store_count(cs->store, cs->resource) : 0; }

typedef struct {
    cache_store_t *cs;
    cache_list_t *l;
    size_t cap;
    bool oom;
} collect_t;

static bool collect(const store_rec_t *rec, void *ud)
{
    collect_t *c = ud;
    const json_t *o = rec_obj(c->cs, rec);
    if (!o) return true;
    if (c->l->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 16;
        const json_t **p = realloc(c->l->items, cap * sizeof *p);
        if (!p) { c->oom = true; return false; }
        c->l->items = p;
        c->cap = cap;
    }
    c->l->items[c->l->n++] = o;
    return true;
}

int cs_list(cache_store_t *cs, cs_scope_t scope, const char *ns, const char *owner_uid, cache_list_t *l)
{
    l->items = NULL;
    l->n = 0;
    if (!cs || !reading(cs)) return 0;
    collect_t c = { cs, l, 0, false };
    char err[256];
    int rc;
    switch (scope) {
    case CS_ALL: rc = store_scan(cs->store, cs->resource, NULL, collect, &c, err, sizeof err); break;
    case CS_NAMESPACE: rc = store_scan(cs->store, cs->resource, ns ? ns : "", collect, &c, err, sizeof err); break;
    case CS_OWNED:
        if (!owner_uid || !*owner_uid) return 0;
        rc = store_scan_owned(cs->store, cs->resource, owner_uid, NULL, collect, &c, err, sizeof err);
        break;
    case CS_CLAIMABLE:   /* an owner's dependents live in its namespace, as the orphans it may adopt */
        rc = owner_uid && *owner_uid
                 ? store_scan_owned(cs->store, cs->resource, owner_uid, ns ? ns : "", collect, &c, err, sizeof err)
                 : 0;
        if (rc == 0 && !c.oom)
            rc = store_scan_owned(cs->store, cs->resource, "", ns ? ns : "", collect, &c, err, sizeof err);
        break;
    default: rc = -1; break;
    }
    if (rc < 0 || c.oom) {
        if (rc < 0 && log_limit_allow(&cs->bad_log)) LOGW("store scan failed", "resource", cs->resource, "error", err);
        cache_list_free(l);
        return -1;
    }
    return 0;
}

typedef struct {
    cache_store_t *cs;
    cache_visit_fn fn;
    void *ud;
} visit_t;

static bool visit(const store_rec_t *rec, void *ud)
{
    visit_t *v = ud;
    const json_t *o = rec_obj(v->cs, rec);
    if (!o) return true;
    char key[KEY_MAX];
    if (rec->key_len >= sizeof key) return true;
    memcpy(key, rec->key, rec->key_len);
    key[rec->key_len] = '\0';
    return v->fn(key, o, v->ud);
}

void cs_foreach(cache_store_t *cs, cache_visit_fn fn, void *ud)
{
    if (!cs || !fn || !reading(cs)) return;
    visit_t v = { cs, fn, ud };
    char err[256];
    if (store_scan(cs->store, cs->resource, NULL, visit, &v, err, sizeof err) < 0 && log_limit_allow(&cs->bad_log))
        LOGW("store scan failed", "resource", cs->resource, "error", err);
}

typedef struct {
    cache_key_fn fn;
    void *ud;
} key_visit_t;

static bool visit_key(const store_rec_t *rec, void *ud)
{
    key_visit_t *v = ud;
    char key[KEY_MAX];
    if (rec->key_len >= sizeof key) return true;
    memcpy(key, rec->key, rec->key_len);
    key[rec->key_len] = '\0';
    return v->fn(key, v->ud);
}

void cs_foreach_key(cache_store_t *cs, cache_key_fn fn, void *ud)
{
    if (!cs || !fn || !reading(cs)) return;
    key_visit_t v = { fn, ud };
    char err[256];
    if (store_scan(cs->store, cs->resource, NULL, visit_key, &v, err, sizeof err) < 0 && log_limit_allow(&cs->bad_log))
        LOGW("store scan failed", "resource", cs->resource, "error", err);
}
