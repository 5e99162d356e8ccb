/* reflector.c - list/watch state machine of one resource. See reflector.h. */
#include "reflector.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <jansson.h>

#include "ctrl/kobj.h"
#include "hash.h"
#include "khttp.h"
#include "kubus.pb-c.h"
#include "jscan.h"
#include "sbuf.h"
#include "turnarena.h"
#include "view.h"
#include "watchparse.h"

#define BACKOFF_MIN_MS 800u
#define BACKOFF_MAX_MS 30000u
#define LIST_BODY_MAX (512u * 1024u * 1024u)  /* one page; 500 big objects fit easily */
#define ERROR_BODY_MAX (1024u * 1024u)
#define BAD_STREAMS_BEFORE_RELIST 3

typedef enum { PH_IDLE, PH_LIST, PH_WATCH } phase_t;
typedef enum { STOP_NONE, STOP_EXPIRED, STOP_STATUS, STOP_BAD } stop_t;
typedef enum { SRC_LIST, SRC_WATCH_UPSERT, SRC_WATCH_DELETE } source_t;

struct reflector {
    const kapi_resource_t *res;
    reflector_env_t env;
    objcache_t *cache;
    uint64_t seq;
    uint64_t gen;              /* list generation: entries seen by this list carry it */
    bool synced;               /* first list complete */
    bool relisting;            /* the list in progress is not the first */
    char *rv;                  /* last resourceVersion seen (list, event or bookmark) */
    char *cont;                /* continue token while paging */
    phase_t phase;
    bool need_list;            /* the next request is a LIST (else a WATCH) */
    bool stale_pending;        /* test hook armed */
    bool stale_watch;          /* the running watch is the hook's, from resourceVersion "1" */
    uint64_t due_ms, backoff_ms, started_ms;
    CURL *easy;
    struct curl_slist *headers;
    khttp_buf_t body;          /* list page, or the body of a failed watch */
    watchparse_t *wp;
    bool ctype_checked;
    stop_t stop;
    uint64_t stream_events;
    int bad_streams;
    uint64_t rng;
    reflector_stats_t stats;
    bool forget_bytes;   /* reflector_forget_bytes */
};

/* ---- small helpers ---- */

static uint64_t next_rand(reflector_t *r)
{
    r->rng ^= r->rng << 13;
    r->rng ^= r->rng >> 7;
    r->rng ^= r->rng << 17;
    return r->rng;
}

static int set_rv(reflector_t *r, const char *rv)
{
    char *s = strdup(rv);
    if (!s) return -1;
    free(r->rv);
    r->rv = s;
    return 0;
}

static void log_bad(reflector_t *r, const char *what, const char *detail)
{
    r->stats.bad_input++;
    if (!r->env.bad_log || log_limit_allow(r->env.bad_log))
        LOGW("refused bad input from the API server", "resource", r->res->resource, "what", what, "detail",
             detail ? detail : "");
}

static void u64s(char *out, size_t n, uint64_t v) { snprintf(out, n, "%" PRIu64, v); }

/* Delay before the next attempt: the current back-off with +-25% jitter,
 * at least min_ms (Retry-After); the back-off then doubles up to 30 s. */
static void schedule_retry(reflector_t *r, uint64_t now, uint64_t min_ms)
{
    uint64_t b = r->backoff_ms ? r->backoff_ms : BACKOFF_MIN_MS;
    uint64_t delay = b * 3 / 4 + next_rand(r) % (b / 2 + 1);
    if (delay < min_ms) delay = min_ms;
    r->due_ms = now + delay;
    r->backoff_ms = b * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : b * 2;
    r->stats.errors++;
}

static void restart_list(reflector_t *r)
{
    free(r->cont);
    r->cont = NULL;
    r->need_list = true;
}

/* The end of a page's or a watch chunk's window, its trees all dropped:
 * the next window reuses their memory (turnarena.h). A tree still held
 * would pin its generation, never be written over. */
static void window_end(void)
{
    turn_arena_close();
    turn_arena_rotate();
}

/* ---- objects ---- */

static const char *str_field(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Checks the metadata we key and publish by (NULL: absent or not a
 * string). Returns a reason, NULL if fine; absent uid and namespace become "". */
static const char *check_meta_fields(const reflector_t *r, const char **ns, const char **name, const char **uid,
                                     const char **rv)
{
    if (!*name || !**name) return "object without metadata.name";
    if (strchr(*name, '/')) return "metadata.name contains '/'";
    if (!*rv || !**rv) return "object without metadata.resourceVersion";
    if (!*uid) *uid = "";
    if (r->res->namespaced && (!*ns || !**ns)) return "namespaced object without metadata.namespace";
    if (!r->res->namespaced && *ns && **ns) return "cluster-scoped object with a namespace";
    if (*ns && strchr(*ns, '/')) return "metadata.namespace contains '/'";
    if (!*ns) *ns = "";
    return NULL;
}

static const char *check_meta(const reflector_t *r, const json_t *md, const char **ns, const char **name,
                              const char **uid, const char **rv)
{
    if (!json_is_object(md)) return "object without metadata";
    *name = str_field(md, "name");
    *ns = str_field(md, "namespace");
    *uid = str_field(md, "uid");
    *rv = str_field(md, "resourceVersion");
    return check_meta_fields(r, ns, name, uid, rv);
}

static bool other_shard(const reflector_t *r, const char *ns)
{
    if (r->env.shard_count <= 1 || !*ns) return false;
    return fnv1a32_str(ns) % (uint32_t)r->env.shard_count != (uint32_t)r->env.shard_index;
}

static void publish_change(reflector_t *r, const reflector_change_t *ch)
{
    int type = ch->type;
    r->seq++;
    if (r->relisting) {
        if (type == KUBUS__V1__EVENT_TYPE__ADDED) r->stats.relist_added++;
        if (type == KUBUS__V1__EVENT_TYPE__MODIFIED) r->stats.relist_modified++;
        if (type == KUBUS__V1__EVENT_TYPE__DELETED) r->stats.relist_deleted++;
    }
    r->env.sink.publish(r->env.sink.ctx, r, ch);
}

static void publish(reflector_t *r, int type, const objcache_entry_t *e)
{
    reflector_change_t ch = { .type = type, .e = e };
    publish_change(r, &ch);
}

/* List items come without kind/apiVersion; give every cached object both so
 * that subscribers see the same shape from a list and from a watch. */
static void complete_type_meta(const reflector_t *r, json_t *obj)
{
    if (!json_is_string(json_object_get(obj, "kind")))
        json_object_set_new(obj, "kind", json_string(r->res->kind));
    if (!json_is_string(json_object_get(obj, "apiVersion")))
        json_object_set_new(obj, "apiVersion", json_string(r->res->group_version));
}

static int apply_delete(reflector_t *r, const char *ns, const char *name, char *json, size_t len)
{
    objcache_entry_t *e = objcache_get(r->cache, ns, name);
    if (!e) { free(json); return 0; } /* never had it (or a duplicate delete) */
    free(e->json);           /* publish the object's final state */
    e->json = json;
    e->json_len = len;
    publish(r, KUBUS__V1__EVENT_TYPE__DELETED, e);
    objcache_del(r->cache, ns, name);
    return 0;
}

/* The keys of one object to apply (strings borrowed for the call). */
typedef struct {
    const char *ns, *name, *uid, *rv, *owner_uid;
} obj_keys_t;

/* Applies an object's (view) bytes to the cache, publishing what changed;
 * takes json. 0 applied or ignored, -1 out of memory. */
static int apply_bytes(reflector_t *r, const obj_keys_t *k, char *json, size_t len, source_t src)
{
    if (src == SRC_WATCH_DELETE) return apply_delete(r, k->ns, k->name, json, len);
    objcache_entry_t *e = objcache_get(r->cache, k->ns, k->name);
    if (e && strcmp(e->rv, k->rv) == 0) { /* unchanged (relist, or a replayed event) */
        e->mark = r->gen;
        free(json);
        return 0;
    }
    /* the previous bytes live until the change is published: subscribers
     * that read objects from the store get them in the event */
    reflector_change_t ch = { .owner_uid = k->owner_uid };
    char *old = NULL;
    if (e) {
        old = e->json;
        ch.old_len = e->json_len;
        e->json = NULL;
    }
    int created = 0;
    e = objcache_put(r->cache, k->ns, k->name, json, len, k->uid, k->rv, r->gen, &created);
    if (!e) {
        free(old);
        LOGE("out of memory caching an object", "resource", r->res->resource, "name", k->name);
        return -1;
    }
    ch.type = created ? KUBUS__V1__EVENT_TYPE__ADDED : KUBUS__V1__EVENT_TYPE__MODIFIED;
    ch.e = e;
    ch.old_json = created ? NULL : old;
    if (created) ch.old_len = 0;
    publish_change(r, &ch);
    free(old);
    if (r->forget_bytes) {
        free(e->json);
        e->json = NULL;
        e->json_len = 0;
    }
    return 0;
}

/* Validates obj and applies it to the cache, publishing what changed.
 * 0 applied or ignored, -1 refused as bad input (counted and logged). */
static int apply_object(reflector_t *r, json_t *obj, source_t src)
{
    if (!json_is_object(obj)) { log_bad(r, "object is not a JSON object", NULL); return -1; }
    json_t *md = json_object_get(obj, "metadata");
    obj_keys_t k = { 0 };
    const char *why = check_meta(r, md, &k.ns, &k.name, &k.uid, &k.rv);
    if (why) { log_bad(r, why, k.name); return -1; }
    if (other_shard(r, k.ns)) { r->stats.other_shard++; return 0; }
    json_object_del(md, "managedFields");
    complete_type_meta(r, obj);
    view_project(r->res->resource, obj);  /* after the checks: md stays valid until here */
    size_t len = 0;
    char *json = turn_arena_dump(obj, &len);   /* malloc'd: the cache keeps it past the window */
    if (!json) { log_bad(r, "object cannot be serialised", k.name); return -1; }
    k.owner_uid = kobj_controller_uid(obj);
    return apply_bytes(r, &k, json, len, src);
}

/* ---- list pages of resources with a view, read as text (no tree) ---- */

/* An item of a page, projected, applied once the whole page is read. */
typedef struct {
    char *json;
    size_t len;
    view_meta_t m;   /* spans into the page */
} page_item_t;

typedef struct {
    page_item_t *v;
    size_t n, cap;
} page_items_t;

static void page_items_free(page_items_t *items)
{
    for (size_t i = 0; i < items->n; i++) free(items->v[i].json);
    free(items->v);
    *items = (page_items_t){ 0 };
}

static bool page_items_push(page_items_t *items, const page_item_t *it)
{
    if (items->n == items->cap) {
        size_t cap = items->cap ? items->cap * 2 : 64;
        page_item_t *v = realloc(items->v, cap * sizeof *v);
        if (!v) return false;
        items->v = v;
        items->cap = cap;
    }
    items->v[items->n++] = *it;
    return true;
}

/* The items array at the cursor, each projected to its view. Items that
 * are not objects are counted and skipped; false when the text is not
 * JSON (or out of memory). */
static bool read_page_items(reflector_t *r, jscan_t *s, page_items_t *items)
{
    if (!jscan_enter_array(s)) return false;
    int rc;
    while ((rc = jscan_next_element(s)) == 1) {
        sbuf_t out = { 0 };
        page_item_t it = { 0 };
        const char *why = NULL;
        int v = view_project_text(r->res->resource, s, r->res->kind, r->res->group_version, &out, &it.m, &why);
        if (v < 0) { free(out.s); return false; }
        if (v == 0) { free(out.s); log_bad(r, why, NULL); continue; }
        it.len = out.len;
        it.json = sbuf_take(&out);
        if (!it.json || !page_items_push(items, &it)) { free(it.json); s->error = "out of memory"; return false; }
    }
    return rc == 0;
}

/* The uid of the controller among the ownerReferences at span (as
 * kobj_controller_uid reads them), copied to out; NULL when none. */
static const char *controller_uid_of(const view_span_t *span, char *out, size_t cap)
{
    if (!span->len) return NULL;
    json_t *refs = json_loadb(span->p, span->len, 0, NULL);   /* small: one or two references */
    json_t *holder = refs ? json_pack("{s:{s:o}}", "metadata", "ownerReferences", refs) : NULL;
    const char *uid = holder ? kobj_controller_uid(holder) : NULL;
    bool fits = uid && strlen(uid) < cap;
    if (fits) memcpy(out, uid, strlen(uid) + 1);
    json_decref(holder);
    return fits ? out : NULL;
}

#define KEY_MAX 1024   /* names are at most 253 bytes; longer is refused */

/* One projected item: its keys checked, then applied (takes it->json). */
static void apply_page_item(reflector_t *r, page_item_t *it)
{
    char ns[KEY_MAX], name[KEY_MAX], uid[KEY_MAX], rv[KEY_MAX], owner[KEY_MAX];
    obj_keys_t k = {
        .ns = view_span_string(&it->m.cap[VIEW_CAP_NAMESPACE], ns, sizeof ns),
        .name = view_span_string(&it->m.cap[VIEW_CAP_NAME], name, sizeof name),
        .uid = view_span_string(&it->m.cap[VIEW_CAP_UID], uid, sizeof uid),
        .rv = view_span_string(&it->m.cap[VIEW_CAP_RV], rv, sizeof rv),
    };
    char *json = it->json;
    it->json = NULL;
    const char *why = check_meta_fields(r, &k.ns, &k.name, &k.uid, &k.rv);
    if (why) { log_bad(r, why, k.name); free(json); return; }
    if (other_shard(r, k.ns)) { r->stats.other_shard++; free(json); return; }
    k.owner_uid = controller_uid_of(&it->m.cap[VIEW_CAP_OWNERS], owner, sizeof owner);
    apply_bytes(r, &k, json, it->len, SRC_LIST);
}

/* The page's members: metadata's span, items projected. false when the
 * text is not a list in JSON (s->error, or *why). */
static bool read_page_text(reflector_t *r, jscan_t *s, view_span_t *md, page_items_t *items, const char **why)
{
    jscan_str_t key;
    int rc;
    bool have_items = false;
    if (!jscan_enter_object(s)) return *why = "list response is not JSON", false;
    while ((rc = jscan_next_member(s, &key)) == 1) {
        bool is_md = jscan_str_is(&key, "metadata"), is_items = jscan_str_is(&key, "items");
        if ((is_md && md->p) || (is_items && have_items)) return *why = "duplicate object key", false;
        if (is_items) {
            have_items = true;
            if (jscan_peek(s) != '[') return *why = "list response without items or metadata.resourceVersion", false;
            if (!read_page_items(r, s, items)) return false;
        } else {
            jscan_peek(s);
            const char *start = s->p;
            if (!jscan_skip(s, is_md)) return false;
            if (is_md) *md = (view_span_t){ start, (size_t)(s->p - start) };
        }
    }
    if (rc < 0 || !jscan_at_end(s)) return *why = s->error ? s->error : "trailing data after the list", false;
    if (!have_items) return *why = "list response without items or metadata.resourceVersion", false;
    return true;
}

/* ---- requests ---- */

static size_t list_write(char *p, size_t size, size_t n, void *ud)
{
    reflector_t *r = ud;
    return khttp_buf_write(p, size, n, &r->body);
}

static int on_watch_event(void *ctx, const watchparse_event_t *ev);

static bool response_is_json(reflector_t *r)
{
    char *ct = NULL;
    if (curl_easy_getinfo(r->easy, CURLINFO_CONTENT_TYPE, &ct) != CURLE_OK || !ct) return false;
    return strncmp(ct, "application/json", 16) == 0;
}

static size_t watch_write(char *p, size_t size, size_t n, void *ud)
{
    reflector_t *r = ud;
    size_t len = size * n;
    long code = 0;
    curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &code);
    if (code != 200) return khttp_buf_write(p, size, n, &r->body); /* a Status, read at the end */
    if (!r->ctype_checked) {
        r->ctype_checked = true;
        if (!response_is_json(r)) {
            log_bad(r, "watch answered 200 with a body that is not JSON (Content-Type)", NULL);
            r->stop = STOP_BAD;
            return 0;
        }
    }
    turn_arena_open();   /* each line's tree lives only inside the feed (turnarena.h) */
    int rc = watchparse_feed(r->wp, p, len);
    window_end();
    return rc == 0 ? len : 0;
}

/* Builds the URL for a list page or a watch; values are escaped. */
static int build_url(reflector_t *r, bool watch, char *url, size_t urllen)
{
    char query[4096], path[4608];
    int n;
    if (watch) {
        char *rv = curl_easy_escape(NULL, r->rv ? r->rv : "", 0);
        if (!rv) return -1;
        unsigned timeout = 300 + (unsigned)(next_rand(r) % 301);
        n = snprintf(query, sizeof query, "watch=true&allowWatchBookmarks=true&resourceVersion=%s&timeoutSeconds=%u",
                     rv, timeout);
        curl_free(rv);
    } else if (r->cont) {
        char *c = curl_easy_escape(NULL, r->cont, 0);
        if (!c) return -1;
        n = snprintf(query, sizeof query, "limit=%d&continue=%s", r->env.page_size, c);
        curl_free(c);
    } else {
        n = snprintf(query, sizeof query, "limit=%d", r->env.page_size);
    }
    if (n < 0 || (size_t)n >= sizeof query) return -1;
    if (kapi_path(path, sizeof path, r->res->resource, NULL, NULL, NULL, query) < 0) return -1;
    return khttp_url(url, urllen, r->env.kc, path) < 0 ? -1 : 0;
}

static void release_easy(reflector_t *r)
{
    if (r->easy) {
        curl_multi_remove_handle(r->env.multi, r->easy);
        curl_easy_cleanup(r->easy);
        r->easy = NULL;
    }
    curl_slist_free_all(r->headers);
    r->headers = NULL;
    r->phase = PH_IDLE;
}

static int start_request(reflector_t *r, bool watch, uint64_t now)
{
    char url[8192], err[256];
    if (build_url(r, watch, url, sizeof url) < 0) {
        LOGE("cannot build the request URL (continue token or resourceVersion too long?)", "resource",
             r->res->resource);
        return -1;
    }
    r->easy = khttp_easy_new(r->env.kc, &r->headers, err, sizeof err);
    if (!r->easy) { LOGE("cannot create a request", "resource", r->res->resource, "error", err); return -1; }
    khttp_buf_reset(&r->body);
    r->body.max = watch ? ERROR_BODY_MAX : LIST_BODY_MAX;
    r->stop = STOP_NONE;
    r->stale_watch = false;
    r->ctype_checked = false;
    r->stream_events = 0;
    watchparse_reset(r->wp);
    bool ok = curl_easy_setopt(r->easy, CURLOPT_URL, url) == CURLE_OK &&
              curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r) == CURLE_OK &&
              curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, watch ? watch_write : list_write) == CURLE_OK &&
              curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r) == CURLE_OK &&
              /* a list page may be big but must not hang forever; a watch ends by timeoutSeconds */
              curl_easy_setopt(r->easy, CURLOPT_TIMEOUT_MS, watch ? 0L : 300000L) == CURLE_OK &&
              curl_multi_add_handle(r->env.multi, r->easy) == CURLM_OK;
    if (!ok) {
        LOGE("cannot start a request", "resource", r->res->resource);
        release_easy(r);
        return -1;
    }
    r->phase = watch ? PH_WATCH : PH_LIST;
    r->started_ms = now;
    if (watch) r->stats.watches++; else r->stats.lists++;
    LOGV(2, watch ? "watch" : "list", "resource", r->res->resource, "url", url);
    return 0;
}

void reflector_tick(reflector_t *r, uint64_t now)
{
    if (r->phase != PH_IDLE || now < r->due_ms) return;
    if (r->need_list && !r->cont) {
        r->gen++;            /* a new list: only what it sees survives its sweep */
        r->relisting = r->synced;
        if (r->relisting) r->stats.relists++;
    }
    bool stale = !r->need_list && r->stale_pending;
    if (stale) {
        r->stale_pending = false;
        set_rv(r, "1");
        LOGW("test hook: watching from resourceVersion 1", "resource", r->res->resource);
    }
    if (start_request(r, !r->need_list, now) < 0) schedule_retry(r, now, 0);
    else r->stale_watch = stale;
}

/* ---- list completion ---- */

static void on_swept(void *ctx, const objcache_entry_t *e)
{
    publish(ctx, KUBUS__V1__EVENT_TYPE__DELETED, e);
}

static void finish_list(reflector_t *r, const char *rv, uint64_t now)
{
    size_t gone = objcache_sweep(r->cache, r->gen, on_swept, r);
    khttp_buf_free(&r->body);   /* a page's buffer (up to MiBs) is not needed while watching */
    set_rv(r, rv);
    bool first = !r->synced;
    r->synced = true;
    r->relisting = false;
    r->need_list = false;
    r->backoff_ms = 0;
    r->bad_streams = 0;
    r->due_ms = now;
    char n[24], g[24];
    u64s(n, sizeof n, objcache_count(r->cache));
    u64s(g, sizeof g, gone);
    LOGI(first ? "initial list complete" : "relist complete", "resource", r->res->resource, "objects", n,
         "vanished", g, "resourceVersion", rv);
}

/* After a page: the next page, or the sweep when it was the last. -1 on
 * OOM. */
static int page_done(reflector_t *r, const char *rv, const char *cont, uint64_t now)
{
    if (cont && *cont) {
        char *c = strdup(cont);
        free(r->cont);
        r->cont = c;
        if (!c) return -1;
        r->due_ms = now;
    } else {
        free(r->cont);
        r->cont = NULL;
        finish_list(r, rv, now);
    }
    return 0;
}

/* A page of a resource with a view, read as text: every item projected
 * first, applied only when the whole page is a well-formed list (as the
 * tree path: a bad page applies nothing). */
static int process_page_text(reflector_t *r, uint64_t now)
{
    jscan_t s;
    jscan_init(&s, r->body.data ? r->body.data : "", r->body.len);
    view_span_t md_span = { 0 };
    page_items_t items = { 0 };
    const char *why = NULL;
    turn_arena_open();   /* the small trees below (metadata, ownerReferences) */
    bool ok = read_page_text(r, &s, &md_span, &items, &why);
    json_t *md = ok && md_span.len ? json_loadb(md_span.p, md_span.len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    const char *rv = str_field(md, "resourceVersion"), *cont = str_field(md, "continue");
    int rc = -1;
    if (!ok || !rv || !*rv) {
        log_bad(r, ok ? "list response without items or metadata.resourceVersion" : "list response is not JSON",
                ok ? NULL : (why ? why : s.error));
    } else {
        for (size_t i = 0; i < items.n; i++) apply_page_item(r, &items.v[i]);
        rc = page_done(r, rv, cont, now);
    }
    json_decref(md);
    window_end();
    page_items_free(&items);   /* sbuf's (malloc), not the arena's */
    return rc;
}

/* One page: every item applied, then the next page or the sweep.
 * -1 when the body is not a list (nothing of it applied). */
static int process_page(reflector_t *r, uint64_t now)
{
    if (view_version(r->res->resource)) return process_page_text(r, now);
    json_error_t jerr;
    turn_arena_open();   /* the page's trees die with the window (turnarena.h) */
    json_t *root = json_loadb(r->body.data ? r->body.data : "", r->body.len, JSON_REJECT_DUPLICATES, &jerr);
    json_t *items = json_object_get(root, "items"), *md = json_object_get(root, "metadata");
    const char *rv = str_field(md, "resourceVersion"), *cont = str_field(md, "continue");
    if (!json_is_array(items) || !rv || !*rv) {
        log_bad(r, root ? "list response without items or metadata.resourceVersion" : "list response is not JSON",
                root ? NULL : jerr.text);
        json_decref(root);
        window_end();
        return -1;
    }
    size_t i;
    json_t *item;
    json_array_foreach(items, i, item) apply_object(r, item, SRC_LIST); /* bad items are counted and skipped */
    int rc = page_done(r, rv, cont, now);
    json_decref(root);
    window_end();
    return rc;
}

static void log_status(reflector_t *r, const char *what, long code)
{
    khttp_status_t st;
    bool has = khttp_parse_status(r->body.data, r->body.len, &st) == 0;
    char c[16];
    snprintf(c, sizeof c, "%ld", code);
    if (!r->env.bad_log || log_limit_allow(r->env.bad_log))
        LOGW(what, "resource", r->res->resource, "code", c, "reason", has ? st.reason : "",
             "message", has ? st.message : "(no Status body)");
}

/* Statuses every request handles the same way. True if handled. */
static bool common_status(reflector_t *r, long code, uint64_t now)
{
    if (code == 429) {
        schedule_retry(r, now, (uint64_t)khttp_retry_after_ms(r->easy));
        return true;
    }
    if (code == 401) {
        char err[256];
        if (kubeconfig_reload_token(r->env.kc, err, sizeof err) < 0)
            LOGW("cannot re-read the token file", "error", err);
        log_status(r, "unauthorized", code);
        schedule_retry(r, now, 0);
        return true;
    }
    return false;
}

static void list_done(reflector_t *r, CURLcode result, long code, uint64_t now)
{
    if (result != CURLE_OK) {
        LOGW("list failed", "resource", r->res->resource, "error",
             r->body.overflow ? "page larger than the limit" : curl_easy_strerror(result));
        restart_list(r);
        schedule_retry(r, now, 0);
        return;
    }
    if (code == 200) {
        if (process_page(r, now) < 0) {
            restart_list(r);
            schedule_retry(r, now, 0);
        }
        return;
    }
    if (code == 410 && r->cont) { /* the continue token expired: a fresh list */
        r->stats.expired++;
        LOGI("continue token expired, restarting the list", "resource", r->res->resource);
        restart_list(r);
        r->due_ms = now;
        return;
    }
    if (!common_status(r, code, now)) {
        log_status(r, "list refused", code);
        schedule_retry(r, now, 0);
    }
    restart_list(r);
}

/* ---- watch ---- */

static int on_watch_event(void *ctx, const watchparse_event_t *ev)
{
    reflector_t *r = ctx;
    if (r->stale_watch && ev->kind != WATCHPARSE_EXPIRED) {
        /* The test hook asked from resourceVersion "1" expecting 410, but this
         * server still has that history and replays it. Those are old states:
         * never apply them; take the 410 we asked for. */
        LOGW("test hook: server replays history from resourceVersion 1, treating it as 410",
             "resource", r->res->resource);
        r->stop = STOP_EXPIRED;
        return 1;
    }
    switch (ev->kind) {
    case WATCHPARSE_ADDED:
    case WATCHPARSE_MODIFIED:
    case WATCHPARSE_DELETED: {
        source_t src = ev->kind == WATCHPARSE_DELETED ? SRC_WATCH_DELETE : SRC_WATCH_UPSERT;
        if (apply_object(r, ev->object, src) < 0) { r->stop = STOP_BAD; return 1; }
        const char *rv = str_field(json_object_get(ev->object, "metadata"), "resourceVersion");
        if (rv) set_rv(r, rv);
        r->stream_events++;
        return 0;
    }
    case WATCHPARSE_BOOKMARK: {
        const char *rv = str_field(json_object_get(ev->object, "metadata"), "resourceVersion");
        if (!rv || !*rv) { log_bad(r, "BOOKMARK without resourceVersion", NULL); r->stop = STOP_BAD; return 1; }
        set_rv(r, rv);
        r->stream_events++;
        return 0;
    }
    case WATCHPARSE_EXPIRED:
        r->stop = STOP_EXPIRED;
        return 1;
    case WATCHPARSE_STATUS:
        if (!r->env.bad_log || log_limit_allow(r->env.bad_log))
            LOGW("watch ended with an error Status", "resource", r->res->resource, "reason", ev->status.reason,
                 "message", ev->status.message);
        r->stop = STOP_STATUS;
        return 1;
    default:
        log_bad(r, watchparse_kind_name(ev->kind), ev->error);
        r->stop = STOP_BAD;
        return 1;
    }
}

static void relist_now(reflector_t *r, uint64_t now, const char *why)
{
    r->stats.expired++;
    LOGI("resourceVersion expired, relisting", "resource", r->res->resource, "why", why,
         "resourceVersion", r->rv ? r->rv : "");
    restart_list(r);
    r->due_ms = now;
}

static void watch_done(reflector_t *r, CURLcode result, long code, uint64_t now)
{
    stop_t stop = r->stop;
    if (stop == STOP_EXPIRED || code == 410) { relist_now(r, now, "410 Gone"); return; }
    if (stop == STOP_BAD) {
        if (++r->bad_streams >= BAD_STREAMS_BEFORE_RELIST) {
            LOGW("repeated bad watch streams, relisting", "resource", r->res->resource);
            restart_list(r);
        }
        schedule_retry(r, now, 0);
        return;
    }
    if (stop == STOP_STATUS) { schedule_retry(r, now, 0); return; }
    if (code == 200 && watchparse_pending(r->wp) > 0) {
        /* Cut inside an event: nothing of it was applied, the re-watch replays it. */
        log_bad(r, "watch stream ended inside an event", NULL);
    }
    if (code == 200 && result == CURLE_OK) {
        bool quick_and_empty = now - r->started_ms < 1000 && r->stream_events == 0;
        r->bad_streams = 0;
        if (quick_and_empty) {
            schedule_retry(r, now, 0); /* a server that ends watches at once must not make us spin */
        } else {
            r->backoff_ms = 0;
            r->due_ms = now;
        }
        return;
    }
    if (code == 200 || result != CURLE_OK) {
        LOGW("watch broke", "resource", r->res->resource, "error", curl_easy_strerror(result));
        schedule_retry(r, now, 0);
        return;
    }
    if (!common_status(r, code, now)) {
        log_status(r, "watch refused", code);
        schedule_retry(r, now, 0);
    }
}

void reflector_done(reflector_t *r, CURL *easy, CURLcode result, uint64_t now)
{
    if (easy != r->easy) return;
    long code = 0;
    curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
    phase_t ph = r->phase;
    if (ph == PH_LIST) list_done(r, result, code, now);
    else if (ph == PH_WATCH) watch_done(r, result, code, now);
    release_easy(r);
}

void reflector_test_stale_rv(reflector_t *r, uint64_t now)
{
    r->stale_pending = true;
    if (r->phase == PH_WATCH) { /* drop the live watch without reading what it holds */
        release_easy(r);
        r->need_list = false;
        r->due_ms = now;
    }
}

/* ---- life ---- */

reflector_t *reflector_new(const kapi_resource_t *res, const reflector_env_t *env)
{
    reflector_t *r = calloc(1, sizeof *r);
    if (!r) return NULL;
    r->res = res;
    r->env = *env;
    r->cache = objcache_new();
    r->wp = watchparse_new(0, on_watch_event, r);
    if (!r->cache || !r->wp || getrandom(&r->rng, sizeof r->rng, 0) != (ssize_t)sizeof r->rng) {
        reflector_destroy(&r);
        return NULL;
    }
    r->rng |= 1;
    khttp_buf_init(&r->body, LIST_BODY_MAX);
    r->need_list = true;
    return r;
}

void reflector_destroy(reflector_t **pr)
{
    if (!pr || !*pr) return;
    reflector_t *r = *pr;
    release_easy(r);
    objcache_destroy(&r->cache);
    watchparse_destroy(&r->wp);
    khttp_buf_free(&r->body);
    free(r->rv);
    free(r->cont);
    free(r);
    *pr = NULL;
}

const char *reflector_resource(const reflector_t *r) { return r->res->resource; }
const kapi_resource_t *reflector_kapi(const reflector_t *r) { return r->res; }
uint64_t reflector_seq(const reflector_t *r) { return r->seq; }
uint64_t reflector_due_ms(const reflector_t *r) { return r->phase == PH_IDLE ? r->due_ms : UINT64_MAX; }
bool reflector_synced(const reflector_t *r) { return r->synced; }
const objcache_t *reflector_cache(const reflector_t *r) { return r->cache; }
void reflector_forget_bytes(reflector_t *r)
{
    if (r) r->forget_bytes = true;
}

const reflector_stats_t *reflector_stats(const reflector_t *r) { return &r->stats; }
