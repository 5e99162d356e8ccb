/* gc_ctl.c - the GC on the controller runtime: caches -> graph -> work keys ->
 * jobs. See gc_ctl.h. */
#include "gc_ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"
#include "gc_job.h"
#include "kapi.h"

/* ---- kinds, from lib/kapi ------------------------------------------------ */

/* An ownerReference may name any served version of a kind ("apps/v1beta2");
 * the resource is the same, so match on group + kind. */
static bool kapi_kind(void *arg, const char *api_version, const char *kind, gc_kind_t *out)
{
    (void)arg;
    const kapi_resource_t *r = kapi_resource_by_kind(api_version, kind);
    for (const kapi_resource_t *const *all = kapi_resources(); !r && *all; all++)
        if (gc_same_group_kind((*all)->group_version, (*all)->kind, api_version, kind)) r = *all;
    if (!r) return false;
    out->resource = r->resource;
    out->group_version = r->group_version;
    out->namespaced = r->namespaced;
    out->watched = gc_resource_watched(r->resource);
    return true;
}

/* ---- graph -> work keys ---------------------------------------------------- */

static void enqueue(gc_ctl_t *c, const char *prefix, const char *uid)
{
    char key[GC_KEY_MAX];
    int n = snprintf(key, sizeof key, "%s%s", prefix, uid);
    if (n > 0 && (size_t)n < sizeof key && c->rt) ctrl_enqueue(c->rt, key);
}

static void sink_delete(void *ctx, const char *uid)
{
    enqueue(ctx, GC_KEY_DELETE, uid);
}

static void sink_orphan(void *ctx, const char *uid)
{
    enqueue(ctx, GC_KEY_ORPHAN, uid);
}

/* ---- caches -> graph ------------------------------------------------------- */

static void refused(gc_ctl_t *c, const kapi_resource_t *r, const char *ns, const char *name, const char *why)
{
    c->stats.objects_refused++;
    if (log_limit_allow(&c->bad_input))
        LOGW("object refused: malformed metadata", "resource", r->resource, "namespace", ns, "name", name,
             "reason", why);
}

/* Takes *m into the graph (what names it in a log line: the caller's). */
static void observe_meta(gc_ctl_t *c, gc_meta_t **m, const char *what)
{
    if (gc_graph_observe(c->graph, m) != 0) LOGW("graph update incomplete (out of memory)", "name", what);
}

static void observe(gc_ctl_t *c, const kapi_resource_t *r, const json_t *obj)
{
    char err[256];
    gc_meta_t *m = gc_meta_new_from_json(obj, r->group_version, r->kind, err, sizeof err);
    if (!m) refused(c, r, kobj_namespace(obj), kobj_name(obj), err);
    else observe_meta(c, &m, kobj_name(obj));
}

static void on_object(ctrl_runtime_t *rt, const char *resource, cache_change_t change,
                      const json_t *old_obj, const json_t *new_obj, void *ud)
{
    (void)rt;
    gc_ctl_t *c = ud;
    const kapi_resource_t *r = kapi_resource(resource);
    if (!r) return;
    bool replaced = change == CACHE_MODIFIED && strcmp(kobj_uid(old_obj), kobj_uid(new_obj)) != 0;
    if (change == CACHE_DELETED || replaced) gc_acted_observed(c, kobj_uid(old_obj), NULL);
    if (new_obj) gc_acted_observed(c, kobj_uid(new_obj), kobj_resource_version(new_obj));
    switch (change) {
    case CACHE_ADDED:
        observe(c, r, new_obj);
        break;
    case CACHE_MODIFIED:
        /* same name, another object: the old one was deleted */
        if (replaced) gc_graph_observe_delete(c->graph, kobj_uid(old_obj));
        observe(c, r, new_obj);
        break;
    case CACHE_DELETED:
        gc_graph_observe_delete(c->graph, kobj_uid(old_obj));
        break;
    }
}

/* A record of the shard's store after a resync: what on_object does with
 * it as ADDED, its metadata read from the text (gc_meta_parse), no tree. */
static void replay_record(ctrl_runtime_t *rt, const char *resource, const store_rec_t *rec, void *ud)
{
    (void)rt;
    gc_ctl_t *c = ud;
    const kapi_resource_t *r = kapi_resource(resource);
    if (!r) return;
    char err[256], key[GC_MAX_STR + 1];
    snprintf(key, sizeof key, "%.*s", (int)(rec->key_len < GC_MAX_STR ? rec->key_len : GC_MAX_STR), rec->key);
    gc_meta_t *m = gc_meta_new_parsed(rec->json, rec->json_len, r->group_version, r->kind, err, sizeof err);
    if (!m) {
        refused(c, r, "", key, err);   /* key: "ns/name" */
        return;
    }
    gc_acted_observed(c, m->uid, m->resource_version);
    observe_meta(c, &m, key);
}

/* ---- life cycle --------------------------------------------------------------- */

static void free_int(void *p)
{
    free(p);
}

gc_ctl_t *gc_ctl_new(void)
{
    gc_ctl_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->kinds = (gc_kinds_t){kapi_kind, NULL};
    gc_sink_t sink = {sink_delete, sink_orphan, c};
    c->graph = gc_graph_new(&c->kinds, &sink);
    c->failures = strmap_new(free_int);
    c->acted = strmap_new(free);
    c->bad_input = (log_limit_t)LOG_LIMIT_INIT(1.0, 10.0);
    if (!c->graph || !c->failures || !c->acted) gc_ctl_destroy(&c);
    return c;
}

void gc_ctl_destroy(gc_ctl_t **cp)
{
    if (!cp || !*cp) return;
    gc_ctl_t *c = *cp;
    gc_jobs_free_all(c);
    gc_graph_destroy(&c->graph);
    strmap_destroy(&c->failures);
    strmap_destroy(&c->acted);
    free(c);
    *cp = NULL;
}

void gc_ctl_config(gc_ctl_t *c, ctrl_config_t *cfg, int concurrent_syncs)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->controller = GC_CONTROLLER;
    cfg->component = GC_COMPONENT;
    cfg->resources = gc_watched_resources;
    cfg->primary = NULL;   /* work keys come from the graph, not from one resource */
    cfg->sync = gc_ctl_sync;
    cfg->ud = c;
    cfg->concurrent_syncs = concurrent_syncs;
    cfg->metadata_only = true;   /* the graph reads ownerReferences, finalizers, deletion state only */
    cfg->stored_replay = replay_record;
}

int gc_ctl_attach(gc_ctl_t *c, ctrl_runtime_t *rt)
{
    if (!c || !rt) return -1;
    c->rt = rt;
    for (size_t i = 0; gc_watched_resources[i]; i++)
        if (ctrl_on(rt, gc_watched_resources[i], on_object, c) != 0) return -1;
    return 0;
}

int gc_ctl_sync(ctrl_runtime_t *rt, const char *key, void *ud)
{
    (void)rt;
    gc_ctl_t *c = ud;
    size_t dl = strlen(GC_KEY_DELETE), ol = strlen(GC_KEY_ORPHAN);
    if (strncmp(key, GC_KEY_DELETE, dl) == 0 && key[dl]) return gc_attempt_delete(c, key, key + dl);
    if (strncmp(key, GC_KEY_ORPHAN, ol) == 0 && key[ol]) return gc_attempt_orphan(c, key, key + ol);
    return 0;   /* not ours (a key some other code queued): nothing to do */
}

const gc_graph_t *gc_ctl_graph(const gc_ctl_t *c)
{
    return c ? c->graph : NULL;
}

void gc_ctl_stats(const gc_ctl_t *c, gc_stats_t *out)
{
    if (c && out) *out = c->stats;
}

size_t gc_ctl_jobs(const gc_ctl_t *c)
{
    return c ? c->n_jobs : 0;
}
