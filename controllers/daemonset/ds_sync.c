/* ds_sync.c - the DaemonSet controller's working state and its sync. See
 * ds_sync.h and ds_priv.h (the other runtime files); the decisions are in
 * ds_core.c, ds_node.c and ds_history.c.
 *
 * A sync (key "ns/name"), as upstream's syncDaemonSet:
 *   1. read the DaemonSet (a {} selector: one SelectingAll Warning per
 *      generation; nothing is done for one being deleted);
 *   2. history: find the revision holding the current template (create it,
 *      revision max+1, and wait to observe it; raise its revision after a
 *      rollback); its hash labels new pods;
 *   3. claim the namespace's pods (owned / adopt after a live GET / release)
 *      (orphaned revisions matching the selector are adopted first, so a
 *      DaemonSet re-created after an orphaning delete finds its history)
 *      and group them by target node;
 *   4. when expectations are satisfied: per node create or delete
 *      (podsShouldBeOnNode), failed pods deleted under back-off; if that
 *      issued nothing, the rolling update step; old revisions beyond
 *      revisionHistoryLimit deleted;
 *   5. write status when a count changed (observedGeneration only when step
 *      4 ran).
 * Creates go out in slow-start batches issued from the previous batch's
 * results; the key stays in sync until every action has its result. */
#include "ds_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"
#include "ds_core.h"
#include "ds_history.h"
#include "ds_node.h"
#include "ds_priv.h"
#include "log.h"
#include "strmap.h"

#define BACKOFF_GC_MS 60000u

/* ---- state ------------------------------------------------------------------------ */

static void state_fini(void *p)
{
    ds_state_t *s = p;
    json_decref(s->plan_nodes);
    free(s->plan_hash);
}

static const ctrl_ostate_type_t ds_state_type = { .size = sizeof(ds_state_t), .fini = state_fini };

ds_ctrl_t *ds_ctrl_new(void)
{
    ds_ctrl_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->adopter = ds_adopter_new(c);
    c->states = ctrl_ostates_new(&ds_state_type);
    c->backoff = strmap_new(free);
    c->bad_log = (log_limit_t)LOG_LIMIT_INIT(1, 20);
    c->fail_log = (log_limit_t)LOG_LIMIT_INIT(1, 20);
    if (!c->adopter || !c->states || !c->backoff) ds_ctrl_destroy(&c);
    return c;
}

void ds_ctrl_destroy(ds_ctrl_t **cp)
{
    if (!cp || !*cp) return;
    ctrl_adopter_destroy(&(*cp)->adopter);
    ctrl_ostates_destroy(&(*cp)->states);
    strmap_destroy(&(*cp)->backoff);
    free(*cp);
    *cp = NULL;
}

const json_t *ds_current(ctrl_runtime_t *rt, const ds_state_t *s, const char *key)
{
    return ctrl_ostate_same(s, cache_get(ctrl_cache(rt, DS_RESOURCE), key));
}


static void podvec_free(void *p)
{
    podvec_t *pv = p;
    if (!pv) return;
    free(pv->v);
    free(pv);
}

static int podvec_push(strmap_t *m, const char *node, const json_t *pod)
{
    podvec_t *pv = strmap_get(m, node);
    if (!pv) {
        pv = calloc(1, sizeof *pv);
        if (!pv || strmap_put(m, node, pv) < 0) { free(pv); return -1; }
    }
    if (pv->n == pv->cap) {
        size_t cap = pv->cap ? pv->cap * 2 : 2;
        const json_t **v = realloc(pv->v, cap * sizeof *v);
        if (!v) return -1;
        pv->v = v;
        pv->cap = cap;
    }
    pv->v[pv->n++] = pod;
    return 0;
}

static void view_free(view_t *v)
{
    ds_spec_free(&v->spec);
    cache_list_free(&v->nodes);
    cache_list_free(&v->pods);
    free(v->run);
    free(v->cont);
    strmap_destroy(&v->by_node);
    free(v->owned);
    json_decref(v->adopt);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(kobj_name(*(const json_t *const *)a), kobj_name(*(const json_t *const *)b));
}

static bool pod_terminal(const json_t *pod)
{
    const char *p = kpod_phase(pod);
    return strcmp(p, "Failed") == 0 || strcmp(p, "Succeeded") == 0;
}

static int build_view(ctrl_runtime_t *rt, view_t *v)
{
    cache_t *pods = ctrl_cache(rt, DS_POD_RESOURCE), *nodes = ctrl_cache(rt, DS_NODE_RESOURCE);
    /* Only ours and orphans can be claimed: others' pods are never looked at. */
    if (cache_list_claimable(pods, kobj_namespace(v->ds), kobj_uid(v->ds), &v->pods) < 0 ||
        cache_list_all(nodes, &v->nodes) < 0)
        return -1;
    v->by_node = strmap_new(podvec_free);
    v->owned = malloc((v->pods.n ? v->pods.n : 1) * sizeof *v->owned);
    v->adopt = json_array();
    v->run = calloc(v->nodes.n + 1, sizeof *v->run);
    v->cont = calloc(v->nodes.n + 1, sizeof *v->cont);
    if (!v->by_node || !v->owned || !v->adopt || !v->run || !v->cont) return -1;
    for (size_t i = 0; i < v->pods.n; i++) ds_claim_pod(rt, v, v->pods.items[i]);
    for (size_t i = 0; i < v->n_owned; i++) {
        const json_t *pod = v->owned[i];
        if (pod_terminal(pod) && kobj_being_deleted(pod)) continue;   /* nothing left to do with it */
        const char *node = ds_pod_target_node(pod);
        if (node && podvec_push(v->by_node, node, pod) < 0) return -1;
    }
    if (v->nodes.n > 1) qsort(v->nodes.items, v->nodes.n, sizeof *v->nodes.items, by_name);
    for (size_t i = 0; i < v->nodes.n; i++) ds_node_should_run(v->spec.podspec, v->nodes.items[i], &v->run[i], &v->cont[i]);
    return 0;
}

podvec_t *ds_pods_on(const view_t *v, const char *node)
{
    return strmap_get(v->by_node, node);
}

/* ---- manage ------------------------------------------------------------------------------ */

typedef struct {
    ds_ctrl_t *c;
    ctrl_runtime_t *rt;
    view_t *v;
    const char *node;
} terminal_ctx_t;

/* Failed pods are deleted under a per node back-off (1 s doubling to 15 min),
 * with upstream's events; succeeded ones at once. */
static bool on_terminal(const json_t *pod, bool failed, void *ud)
{
    terminal_ctx_t *t = ud;
    if (!failed) {
        ctrl_event(t->rt, t->v->ds, "Normal", "SucceededDaemonPod",
                   "Found succeeded daemon pod %s/%s on node %s, will try to delete it", kobj_namespace(pod),
                   kobj_name(pod), t->node);
        return true;
    }
    char bkey[512];
    snprintf(bkey, sizeof bkey, "%s/%lld/%s", kobj_uid(t->v->ds),
             (long long)kobj_int(t->v->ds, "status.observedGeneration", 0), t->node);
    uint64_t now = ctrl_now_unix_ms(t->rt);
    ds_backoff_t *b = strmap_get(t->c->backoff, bkey);
    if (b && ds_backoff_active(b, now)) {
        ctrl_enqueue_after(t->rt, t->v->key, b->delay_ms);
        return false;
    }
    if (!b) {
        b = calloc(1, sizeof *b);
        if (!b || strmap_put(t->c->backoff, bkey, b) < 0) { free(b); return false; }
    }
    ds_backoff_next(b, now);
    ctrl_event(t->rt, t->v->ds, "Warning", "FailedDaemonPod",
               "Found failed daemon pod %s/%s on node %s, will try to kill it", kobj_namespace(pod), kobj_name(pod),
               t->node);
    return true;
}

static void backoff_gc(ds_ctrl_t *c, uint64_t now)
{
    if (now - c->last_gc_ms < BACKOFF_GC_MS) return;
    c->last_gc_ms = now;
    strmap_iter_t it;
    const char *k;
    void *val;
    strmap_iter_init(&it, c->backoff);
    while (strmap_next(&it, &k, &val))
        if (ds_backoff_expired(val, now)) strmap_del(c->backoff, k);
}

static void manage(ds_ctrl_t *c, ctrl_runtime_t *rt, ds_state_t *s, view_t *v)
{
    size_t room = v->n_owned + 1;
    const json_t **del = malloc(room * sizeof *del);
    const char **create = malloc((v->nodes.n + 1) * sizeof *create);
    const json_t **scratch = malloc(room * sizeof *scratch);
    size_t n_del = 0, n_create = 0;
    if (!del || !create || !scratch) goto out;
    int64_t now = ctrl_now_unix(rt);
    for (size_t i = 0; i < v->nodes.n; i++) {
        const char *node = kobj_name(v->nodes.items[i]);
        podvec_t *pv = ds_pods_on(v, node);
        terminal_ctx_t t = { c, rt, v, node };
        ds_node_plan_t plan = { .del = scratch };
        ds_plan_node(&v->spec, v->run[i], v->cont[i], pv ? pv->v : NULL, pv ? pv->n : 0, pv != NULL, v->hash, now,
                     on_terminal, &t, &plan);
        if (plan.create) create[n_create++] = node;
        for (size_t j = 0; j < plan.n_del && n_del < room; j++) del[n_del++] = plan.del[j];
    }
    /* unscheduled pods bound to nodes that do not exist: nobody else removes them */
    strmap_iter_t it;
    const char *node;
    void *val;
    strmap_iter_init(&it, v->by_node);
    while (strmap_next(&it, &node, &val)) {
        if (cache_get(ctrl_cache(rt, DS_NODE_RESOURCE), node)) continue;
        podvec_t *pv = val;
        for (size_t j = 0; j < pv->n && n_del < room; j++)
            if (!*kpod_node_name(pv->v[j])) del[n_del++] = pv->v[j];
    }
    ds_sync_nodes(c, rt, s, v, del, n_del, create, n_create);
out:
    free(del);
    free(create);
    free(scratch);
}

/* The rolling update's nodes: every node with pods or that should run one. */
static size_t rolling_nodes(ctrl_runtime_t *rt, const view_t *v, ds_node_pods_t *out, int32_t *desired)
{
    size_t n = 0;
    *desired = 0;
    for (size_t i = 0; i < v->nodes.n; i++) {
        const char *node = kobj_name(v->nodes.items[i]);
        podvec_t *pv = ds_pods_on(v, node);
        if (v->run[i]) (*desired)++;
        if (!pv && !v->run[i]) continue;
        out[n++] = (ds_node_pods_t){ node, pv ? pv->v : NULL, pv ? pv->n : 0, v->run[i] };
    }
    strmap_iter_t it;
    const char *node;
    void *val;
    strmap_iter_init(&it, v->by_node);
    while (strmap_next(&it, &node, &val)) {
        if (cache_get(ctrl_cache(rt, DS_NODE_RESOURCE), node)) continue;
        podvec_t *pv = val;
        out[n++] = (ds_node_pods_t){ node, pv->v, pv->n, false };
    }
    return n;
}

static void rolling_update(ds_ctrl_t *c, ctrl_runtime_t *rt, ds_state_t *s, view_t *v)
{
    size_t cap = v->nodes.n + strmap_size(v->by_node) + 1;
    ds_node_pods_t *nodes = malloc(cap * sizeof *nodes);
    const json_t **del = malloc((v->n_owned + 1) * sizeof *del);
    const char **create = malloc(cap * sizeof *create);
    if (nodes && del && create) {
        int32_t desired, max_surge, max_unavailable;
        size_t n = rolling_nodes(rt, v, nodes, &desired), n_del = 0, n_create = 0;
        ds_rolling_limits(&v->spec, desired, &max_surge, &max_unavailable);
        ds_rolling_update(&v->spec, nodes, n, v->hash, max_surge, max_unavailable, desired, ctrl_now_unix(rt), del,
                          &n_del, create, &n_create);
        ds_sync_nodes(c, rt, s, v, del, n_del, create, n_create);
    }
    free(nodes);
    free(del);
    free(create);
}

/* ---- sync ---------------------------------------------------------------------------------------- */

static void warn_once(ds_ctrl_t *c, ctrl_runtime_t *rt, ds_state_t *s, const json_t *ds, ds_spec_rc_t rc,
                      const char *why)
{
    if (!ctrl_ostate_warn_once(s, ds)) return;
    if (rc == DS_SPEC_SELECTS_ALL) {
        ctrl_event(rt, ds, "Warning", "SelectingAll",
                   "This daemon set is selecting all pods. A non-empty selector is required.");
        return;
    }
    if (log_limit_allow(&c->bad_log))
        LOGW("DaemonSet refused: invalid spec", "namespace", kobj_namespace(ds), "name", kobj_name(ds), "reason", why);
}

int ds_sync(ctrl_runtime_t *rt, const char *key, void *ud)
{
    ds_ctrl_t *c = ud;
    const json_t *ds = cache_get(ctrl_cache(rt, DS_RESOURCE), key);
    if (!ds) {
        expectations_forget(ctrl_expectations(rt), key);
        ctrl_ostates_forget(c->states, key);
        return 0;
    }
    ds_state_t *s = ctrl_ostates_for(c->states, key, ds);
    if (!s) return -1;
    backoff_gc(c, ctrl_now_unix_ms(rt));
    view_t v = { .ds = ds, .key = key };
    char why[320];
    ds_spec_rc_t src = ds_spec_read(ds, &v.spec, why, sizeof why);
    if (src != DS_SPEC_OK) {
        warn_once(c, rt, s, ds, src, why);
        return 0;   /* retrying cannot help: the next edit re-queues it */
    }
    int rc = 0;
    cache_list_t crs = { 0 };
    const json_t **old = NULL;
    size_t n_old = 0;
    /* being deleted: its history may be half gone, so upstream leaves it (and its status) alone */
    if (kobj_being_deleted(ds)) goto out;
    json_t *orphans = ds_orphan_revisions(rt, ds, v.spec.selector);
    if (json_array_size(orphans) > 0) {
        ctrl_adopter_start(c->adopter, rt, key, ds, DS_CR_RESOURCE, &orphans);   /* the patches' events wake us */
        ctrl_enqueue_after(rt, key, 1000);                 /* and if they do not: look again */
        goto out;
    }
    json_decref(orphans);
    if (cache_list_controlled_by(ctrl_cache(rt, DS_CR_RESOURCE), kobj_uid(ds), &crs) < 0 ||
        !(old = malloc((crs.n + 1) * sizeof *old))) {
        rc = -1;
        goto out;
    }
    const json_t *cur = ds_construct_history(rt, key, ds, &crs, old, &n_old);
    if (!cur) {   /* the revision's creation wakes us; the re-check covers a wake-up that never comes */
        ctrl_enqueue_after(rt, key, 1000);
        goto out;
    }
    v.hash = ds_history_hash(cur);
    if (build_view(rt, &v) < 0) {
        rc = -1;
        goto out;
    }
    bool satisfied = expectations_satisfied(ctrl_expectations(rt), key) && !s->plan_active;
    if (json_array_size(v.adopt) > 0) {
        ctrl_adopter_start(c->adopter, rt, key, ds, DS_POD_RESOURCE, &v.adopt);
        satisfied = false;   /* count the adopted pods first */
    }
    if (satisfied) {
        manage(c, rt, s, &v);
        if (v.issued == 0 && v.spec.strategy == DS_ROLLING_UPDATE) rolling_update(c, rt, s, &v);
        ds_cleanup_history(rt, &v, old, n_old);
    }
    ds_update_status(c, rt, &v, satisfied);
    /* not settled (adoption, expectations, a create plan): a wake-up we wait
     * for may already have come and gone; look again in a second */
    if (!satisfied) ctrl_enqueue_after(rt, key, 1000);
out:
    free(old);
    cache_list_free(&crs);
    view_free(&v);
    return rc;
}

