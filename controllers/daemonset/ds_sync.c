/* ds_sync.c - the DaemonSet controller's handlers, sync and result
 * callbacks. See ds_sync.h; the decisions are in ds_core.c, ds_node.c and
 * ds_history.c.
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
#include "ctrl/strmap.h"
#include "ds_core.h"
#include "ds_history.h"
#include "ds_node.h"
#include "log.h"

#define DS_KIND "DaemonSet"
#define BACKOFF_GC_MS 60000u

typedef struct {
    char *uid;
    bool plan_active;
    ds_slowstart_t plan;
    json_t *plan_nodes;     /* node names still to create on, in order */
    char *plan_hash;
    json_t *adopt;          /* [resource, key] pairs to adopt once the live GET confirms */
    int64_t warned_generation;
} ds_state_t;

struct ds_ctrl {
    strmap_t *states;       /* key -> ds_state_t */
    strmap_t *backoff;      /* "uid/observedGeneration/node" -> ds_backoff_t */
    uint64_t last_gc_ms;
    log_limit_t bad_log, fail_log;
};

/* ---- state ------------------------------------------------------------------------ */

static void state_free(void *p)
{
    ds_state_t *s = p;
    if (!s) return;
    free(s->uid);
    json_decref(s->plan_nodes);
    free(s->plan_hash);
    json_decref(s->adopt);
    free(s);
}

ds_ctrl_t *ds_ctrl_new(void)
{
    ds_ctrl_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->states = strmap_new(state_free);
    c->backoff = strmap_new(free);
    c->bad_log = (log_limit_t)LOG_LIMIT_INIT(1, 20);
    c->fail_log = (log_limit_t)LOG_LIMIT_INIT(1, 20);
    if (!c->states || !c->backoff) {
        strmap_destroy(&c->states);
        strmap_destroy(&c->backoff);
        free(c);
        return NULL;
    }
    return c;
}

void ds_ctrl_destroy(ds_ctrl_t **cp)
{
    if (!cp || !*cp) return;
    strmap_destroy(&(*cp)->states);
    strmap_destroy(&(*cp)->backoff);
    free(*cp);
    *cp = NULL;
}

static ds_state_t *state_for(ds_ctrl_t *c, const char *key, const json_t *ds)
{
    ds_state_t *s = strmap_get(c->states, key);
    if (s && strcmp(s->uid, kobj_uid(ds)) == 0) return s;
    s = calloc(1, sizeof *s);
    if (!s || !(s->uid = strdup(kobj_uid(ds))) || strmap_put(c->states, key, s) < 0) {
        state_free(s);
        return NULL;
    }
    s->warned_generation = -1;
    return s;
}

static const json_t *current_ds(ctrl_runtime_t *rt, const ds_state_t *s, const char *key)
{
    const json_t *ds = cache_get(ctrl_cache(rt, DS_RESOURCE), key);
    return ds && strcmp(kobj_uid(ds), s->uid) == 0 ? ds : NULL;
}

static const char *result_text(const ctrl_result_t *r, char *buf, size_t len)
{
    if (r->message && *r->message) return r->message;
    snprintf(buf, len, "status %u %s", r->status, r->reason ? r->reason : "");
    return buf;
}

/* ---- routing events to keys -------------------------------------------------------- */

/* The DaemonSet a controller ref names, if cached with that uid. */
static const json_t *resolve_ref(ctrl_runtime_t *rt, const char *ns, const kobj_ownerref_t *ref)
{
    if (strcmp(ref->kind, DS_KIND) != 0 || strncmp(ref->api_version, "apps/", 5) != 0) return NULL;
    const json_t *ds = cache_get_ns(ctrl_cache(rt, DS_RESOURCE), ns, ref->name);
    return ds && strcmp(kobj_uid(ds), ref->uid) == 0 ? ds : NULL;
}

static bool ds_selects(const json_t *ds, const json_t *labels)
{
    char err[128];
    selector_t *sel = selector_compile(kobj_get(ds, "spec.selector"), err, sizeof err);
    bool hit = sel && !selector_is_empty(sel) && !selector_is_nothing(sel) && selector_matches(sel, labels);
    selector_destroy(&sel);
    return hit;
}

static void enqueue_for_obj(ctrl_runtime_t *rt, const json_t *obj)
{
    kobj_ownerref_t ref;
    if (kobj_controller_ref(obj, &ref) == 0) {
        const json_t *ds = resolve_ref(rt, kobj_namespace(obj), &ref);
        if (ds) ctrl_enqueue_obj(rt, ds);
        return;
    }
    cache_list_t l;   /* an orphan: every DaemonSet selecting it may adopt it */
    if (cache_list_namespace(ctrl_cache(rt, DS_RESOURCE), kobj_namespace(obj), &l) < 0) return;
    for (size_t i = 0; i < l.n; i++)
        if (ds_selects(l.items[i], kobj_labels(obj))) ctrl_enqueue_obj(rt, l.items[i]);
    cache_list_free(&l);
}

static bool labels_equal(const json_t *a, const json_t *b)
{
    json_t *la = kobj_labels(a), *lb = kobj_labels(b);
    if (!la || !lb) return json_object_size(la) == json_object_size(lb);
    return json_equal(la, lb);
}

/* Pods and ControllerRevisions: wake their DaemonSet (old and new owner). */
static void on_owned(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                     const json_t *new_obj, void *ud)
{
    (void)resource;
    (void)ud;
    if (change != CACHE_MODIFIED) {
        enqueue_for_obj(rt, new_obj ? new_obj : old_obj);
        return;
    }
    const char *ou = kobj_controller_uid(old_obj), *nu = kobj_controller_uid(new_obj);
    bool ref_changed = (ou == NULL) != (nu == NULL) || (ou && nu && strcmp(ou, nu) != 0);
    if (ref_changed || !labels_equal(old_obj, new_obj)) enqueue_for_obj(rt, old_obj);
    enqueue_for_obj(rt, new_obj);
}

static void on_ds(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                  const json_t *new_obj, void *ud)
{
    (void)resource;
    (void)ud;
    if (change == CACHE_DELETED) {
        char key[512];
        if (kobj_key(old_obj, key, sizeof key) > 0) expectations_forget(ctrl_expectations(rt), key);
    }
    ctrl_enqueue_obj(rt, new_obj ? new_obj : old_obj);
}

/* The template spec with the default tolerations: what eligibility is judged on. */
static json_t *eligibility_spec(const json_t *ds)
{
    json_t *spec = json_deep_copy(kobj_get(ds, "spec.template.spec"));
    if (spec && ds_add_default_tolerations(spec) < 0) {
        json_decref(spec);
        return NULL;
    }
    return spec;
}

/* Nodes: a DaemonSet is woken when the change alters whether a pod should
 * run or may stay there (upstream addNode/updateNode; a deleted node wakes
 * those that had a pod there, so desiredNumberScheduled follows). */
static void on_node(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                    const json_t *new_obj, void *ud)
{
    (void)resource;
    (void)ud;
    cache_list_t l;
    if (cache_list_all(ctrl_cache(rt, DS_RESOURCE), &l) < 0) return;
    for (size_t i = 0; i < l.n; i++) {
        json_t *spec = eligibility_spec(l.items[i]);
        if (!spec) continue;
        bool orun = false, ocont = false, nrun = false, ncont = false;
        if (old_obj) ds_node_should_run(spec, old_obj, &orun, &ocont);
        if (new_obj) ds_node_should_run(spec, new_obj, &nrun, &ncont);
        bool wake = change == CACHE_ADDED ? nrun : change == CACHE_DELETED ? (orun || ocont)
                                                                         : (orun != nrun || ocont != ncont);
        if (wake) ctrl_enqueue_obj(rt, l.items[i]);
        json_decref(spec);
    }
    cache_list_free(&l);
}

int ds_ctrl_attach(ds_ctrl_t *c, ctrl_runtime_t *rt)
{
    if (ctrl_on(rt, DS_RESOURCE, on_ds, c) < 0 || ctrl_on(rt, DS_POD_RESOURCE, on_owned, c) < 0 ||
        ctrl_on(rt, DS_CR_RESOURCE, on_owned, c) < 0)
        return -1;
    return ctrl_on(rt, DS_NODE_RESOURCE, on_node, c);
}

/* ---- the view of one DaemonSet a sync works on --------------------------------------- */

typedef struct {
    const json_t **v;
    size_t n, cap;
} podvec_t;

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

typedef struct {
    const json_t *ds;
    const char *key;
    ds_spec_t spec;
    const char *hash;
    cache_list_t nodes;          /* sorted by name */
    bool *run, *cont;            /* per node */
    strmap_t *by_node;           /* node name -> podvec_t (claimed, not deleted-terminal) */
    const json_t **owned;        /* every claimed pod (history keeps their hashes) */
    size_t n_owned;
    json_t *adopt;               /* [resource, key] of orphans to adopt */
    cache_list_t pods;
    int issued;                  /* actions this sync issued (creates + deletes) */
} view_t;

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

/* ---- claiming -------------------------------------------------------------------------- */

static void claim_patch_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)ud;
    if (res->ok || res->status == 404 || res->status == 409 || res->status == 422) return;
    LOGW("adopting/releasing a pod failed", "daemonset", res->owner_key, "pod", res->name, "reason", res->message);
    ctrl_enqueue_rate_limited(rt, res->owner_key);
}

static json_t *release_patch(const json_t *ds, const json_t *pod)
{
    return json_pack("{s:{s:[{s:s, s:s}], s:s}}", "metadata", "ownerReferences", "$patch", "delete", "uid",
                     kobj_uid(ds), "uid", kobj_uid(pod));
}

static void claim(ctrl_runtime_t *rt, view_t *v, const json_t *pod)
{
    bool match = selector_matches(v->spec.selector, kobj_labels(pod));
    kobj_ownerref_t ref;
    if (kobj_controller_ref(pod, &ref) == 0) {
        if (strcmp(ref.uid, kobj_uid(v->ds)) != 0) return;
        if (match) {
            v->owned[v->n_owned++] = pod;
            return;
        }
        json_t *patch = release_patch(v->ds, pod);
        ctrl_patch(rt, v->key, DS_POD_RESOURCE, kobj_namespace(pod), kobj_name(pod),
                   KUBUS__V1__PATCH_TYPE__STRATEGIC, &patch, claim_patch_done, NULL);
        return;
    }
    char pk[512];
    if (match && !kobj_being_deleted(pod) && kobj_key(pod, pk, sizeof pk) > 0)
        json_array_append_new(v->adopt, json_pack("[s, s]", DS_POD_RESOURCE, pk));
}

static int build_view(ctrl_runtime_t *rt, view_t *v)
{
    cache_t *pods = ctrl_cache(rt, DS_POD_RESOURCE), *nodes = ctrl_cache(rt, DS_NODE_RESOURCE);
    if (cache_list_namespace(pods, kobj_namespace(v->ds), &v->pods) < 0 || cache_list_all(nodes, &v->nodes) < 0)
        return -1;
    v->by_node = strmap_new(podvec_free);
    v->owned = malloc((v->pods.n ? v->pods.n : 1) * sizeof *v->owned);
    v->adopt = json_array();
    v->run = calloc(v->nodes.n + 1, sizeof *v->run);
    v->cont = calloc(v->nodes.n + 1, sizeof *v->cont);
    if (!v->by_node || !v->owned || !v->adopt || !v->run || !v->cont) return -1;
    for (size_t i = 0; i < v->pods.n; i++) claim(rt, v, v->pods.items[i]);
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

static podvec_t *pods_on(const view_t *v, const char *node)
{
    return strmap_get(v->by_node, node);
}

/* ---- creating (slow start) and deleting -------------------------------------------------- */

static void create_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud);

static void issue_batch(ds_ctrl_t *c, ctrl_runtime_t *rt, ds_state_t *s, const char *key)
{
    const json_t *ds = current_ds(rt, s, key);
    ds_spec_t spec;
    char err[256];
    if (!ds || kobj_being_deleted(ds) || ds_spec_read(ds, &spec, err, sizeof err) != DS_SPEC_OK) {
        s->plan_active = false;
        return;
    }
    int n = ds_slowstart_next(&s->plan);
    for (int i = 0; i < n; i++) {
        const char *node = json_string_value(json_array_get(s->plan_nodes, (size_t)(s->plan.issued - n + i)));
        char prefix[300], name[320];
        snprintf(prefix, sizeof prefix, "%s-", kobj_name(ds));
        json_t *pod = node && ctrl_name_generate(prefix, name, sizeof name) > 0
                          ? ds_pod_new(ds, &spec, s->plan_hash, node, name) : NULL;
        if (!pod || ctrl_create(rt, key, DS_POD_RESOURCE, &pod, create_done, c) == 0) {
            json_decref(pod);
            ds_slowstart_result(&s->plan, false);
        }
    }
    ds_spec_free(&spec);
    if (ds_slowstart_done(&s->plan)) s->plan_active = false;
}

static bool namespace_terminating(const ctrl_result_t *res)
{
    return res->status == 403 && res->message && strstr(res->message, "because it is being terminated");
}

static void create_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    ds_ctrl_t *c = ud;
    ds_state_t *s = strmap_get(c->states, res->owner_key);
    if (!s || !s->plan_active) return;
    const json_t *ds = current_ds(rt, s, res->owner_key);
    char buf[160];
    if (res->ok) {
        if (ds) ctrl_event(rt, ds, "Normal", "SuccessfulCreate", "Created pod: %s", res->name);
        ds_slowstart_result(&s->plan, true);
    } else if (namespace_terminating(res)) {
        ds_slowstart_result(&s->plan, false);   /* every create would fail alike: quietly */
    } else {
        const char *why = result_text(res, buf, sizeof buf);
        if (ds) ctrl_event(rt, ds, "Warning", "FailedCreate", "Error creating: %s", why);
        if (log_limit_allow(&c->fail_log))
            LOGW("pod create failed", "daemonset", res->owner_key, "pod", res->name, "reason", why);
        ds_slowstart_result(&s->plan, false);
    }
    if (s->plan.in_flight > 0) return;
    if (s->plan.failed > 0) {
        s->plan_active = false;
        ctrl_enqueue_rate_limited(rt, res->owner_key);
    } else if (s->plan.issued < s->plan.total) {
        issue_batch(c, rt, s, res->owner_key);
    } else {
        s->plan_active = false;
    }
}

static void delete_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    ds_ctrl_t *c = ud;
    ds_state_t *s = strmap_get(c->states, res->owner_key);
    const json_t *ds = s ? current_ds(rt, s, res->owner_key) : NULL;
    char buf[160];
    if (res->status == 404 || res->status == 409) return;   /* already gone (or replaced) */
    if (res->ok) {
        if (ds) ctrl_event(rt, ds, "Normal", "SuccessfulDelete", "Deleted pod: %s", res->name);
        return;
    }
    const char *why = result_text(res, buf, sizeof buf);
    if (ds) ctrl_event(rt, ds, "Warning", "FailedDelete", "Error deleting: %s", why);
    if (log_limit_allow(&c->fail_log))
        LOGW("pod delete failed", "daemonset", res->owner_key, "pod", res->name, "reason", why);
    ctrl_enqueue_rate_limited(rt, res->owner_key);
}

/* upstream syncNodes: deletes and creates, each capped at the burst. */
static void sync_nodes(ds_ctrl_t *c, ctrl_runtime_t *rt, ds_state_t *s, view_t *v, const json_t **del, size_t n_del,
                       const char **create, size_t n_create)
{
    if (n_del > DS_BURST_REPLICAS) n_del = DS_BURST_REPLICAS;
    if (n_create > DS_BURST_REPLICAS) n_create = DS_BURST_REPLICAS;
    for (size_t i = 0; i < n_del; i++) {
        if (ctrl_delete(rt, v->key, DS_POD_RESOURCE, kobj_namespace(del[i]), kobj_name(del[i]), kobj_uid(del[i]),
                        delete_done, c) != 0)
            v->issued++;
    }
    if (n_create == 0) return;
    json_t *nodes = json_array();
    char *hash = strdup(v->hash);
    for (size_t i = 0; nodes && i < n_create; i++) json_array_append_new(nodes, json_string(create[i]));
    if (!nodes || !hash) {
        json_decref(nodes);
        free(hash);
        return;
    }
    json_decref(s->plan_nodes);
    free(s->plan_hash);
    s->plan_nodes = nodes;
    s->plan_hash = hash;
    ds_slowstart_init(&s->plan, (int)n_create);
    s->plan_active = true;
    v->issued += (int)n_create;
    LOGFV(2, "%s: creating %zu daemon pods", v->key, n_create);
    issue_batch(c, rt, s, v->key);
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
        podvec_t *pv = pods_on(v, node);
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
    sync_nodes(c, rt, s, v, del, n_del, create, n_create);
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
        podvec_t *pv = pods_on(v, node);
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
        sync_nodes(c, rt, s, v, del, n_del, create, n_create);
    }
    free(nodes);
    free(del);
    free(create);
}

/* ---- history -------------------------------------------------------------------------------- */

static void history_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)ud;
    if (res->ok || res->status == 404) return;
    LOGFV(1, "%s: controllerrevision %s failed (%u %s): will retry", res->owner_key, res->name, res->status,
          res->reason);
    ctrl_enqueue_rate_limited(rt, res->owner_key);
}

static void delete_history(ctrl_runtime_t *rt, const char *key, const json_t *cr)
{
    ctrl_action_spec_t sp = { .verb = KUBUS__V1__VERB__DELETE, .resource = DS_CR_RESOURCE,
                              .ns = kobj_namespace(cr), .name = kobj_name(cr), .precondition_uid = kobj_uid(cr),
                              .owner_key = key, .flags = CTRL_ACT_NO_EXPECT, .cb = history_done };
    ctrl_action(rt, &sp);
}

static void status_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud);

/* A revision name already taken by other content: count a collision so the
 * next hash differs (upstream bumps status.collisionCount). */
static void bump_collision(ctrl_runtime_t *rt, const char *key, const json_t *ds)
{
    json_t *copy = json_deep_copy(ds);
    json_t *st = copy ? json_object_get(copy, "status") : NULL;
    if (copy && !json_is_object(st)) {
        st = json_object();
        json_object_set_new(copy, "status", st);
    }
    if (!st) { json_decref(copy); return; }
    json_object_set_new(st, "collisionCount", json_integer(kobj_int(ds, "status.collisionCount", 0) + 1));
    ctrl_update_status(rt, key, DS_RESOURCE, &copy, status_done, NULL);
}

/* upstream constructHistory. Returns the current revision, or NULL when
 * the sync has to wait (a revision is being created). *old gets the others. */
static const json_t *construct_history(ctrl_runtime_t *rt, const char *key, const json_t *ds, cache_list_t *all,
                                       const json_t **old, size_t *n_old)
{
    const json_t *cur = NULL;
    int64_t max_old = 0;
    *n_old = 0;
    for (size_t i = 0; i < all->n; i++) {
        const json_t *cr = all->items[i];
        if (kobj_being_deleted(cr)) continue;
        if (ds_history_matches(ds, cr)) {
            if (!cur || ds_history_revision(cr) > ds_history_revision(cur)) cur = cr;
            continue;
        }
        old[(*n_old)++] = cr;
        if (ds_history_revision(cr) > max_old) max_old = ds_history_revision(cr);
    }
    if (cur) {
        if (ds_history_revision(cur) < max_old + 1) {   /* a rollback: the revision moves to the top */
            json_t *copy = json_deep_copy(cur);
            if (copy && json_object_set_new(copy, "revision", json_integer(max_old + 1)) == 0)
                ctrl_update(rt, key, DS_CR_RESOURCE, &copy, history_done, NULL);
            json_decref(copy);
        }
        return cur;
    }
    json_t *jc = kobj_get(ds, "status.collisionCount");
    int32_t collision = (int32_t)json_integer_value(jc);
    char hash[DS_HASH_MAX], name[320], id[700];
    if (ds_template_hash(kobj_get(ds, "spec.template"), json_is_integer(jc) ? &collision : NULL, hash,
                         sizeof hash) < 0)
        return NULL;
    snprintf(name, sizeof name, "%s-%s", kobj_name(ds), hash);
    expectations_create_id(id, sizeof id, DS_CR_RESOURCE, kobj_namespace(ds), name);
    if (expectations_expects_create(ctrl_expectations(rt), id)) return NULL;   /* already on its way */
    if (cache_get_ns(ctrl_cache(rt, DS_CR_RESOURCE), kobj_namespace(ds), name)) {
        bump_collision(rt, key, ds);
        return NULL;
    }
    json_t *cr = ds_history_new(ds, hash, max_old + 1);
    if (cr) ctrl_create(rt, key, DS_CR_RESOURCE, &cr, history_done, NULL);
    json_decref(cr);
    return NULL;
}

static void cleanup_history(ctrl_runtime_t *rt, const view_t *v, const json_t **old, size_t n_old)
{
    if ((int64_t)n_old <= v->spec.revision_history_limit) return;
    json_t *live = json_object();
    const json_t **out = malloc((n_old + 1) * sizeof *out);
    if (live && out) {
        for (size_t i = 0; i < v->n_owned; i++) {
            const char *h = kobj_label(v->owned[i], DS_LABEL_HASH);
            if (h && *h) json_object_set_new(live, h, json_true());
        }
        size_t n = ds_history_to_delete(old, n_old, v->spec.revision_history_limit, live, out);
        for (size_t i = 0; i < n; i++) delete_history(rt, v->key, out[i]);
    }
    json_decref(live);
    free(out);
}

/* ---- status ------------------------------------------------------------------------------------ */

static void status_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)ud;
    if (res->ok || res->status == 404) return;
    LOGFV(1, "%s: status update failed (%u %s): will retry", res->owner_key, res->status, res->reason);
    ctrl_enqueue_rate_limited(rt, res->owner_key);
}

static void update_status(ctrl_runtime_t *rt, view_t *v, bool observe)
{
    ds_node_pods_t *nodes = malloc((v->nodes.n + 1) * sizeof *nodes);
    if (!nodes) return;
    for (size_t i = 0; i < v->nodes.n; i++) {
        podvec_t *pv = pods_on(v, kobj_name(v->nodes.items[i]));
        nodes[i] = (ds_node_pods_t){ kobj_name(v->nodes.items[i]), pv ? pv->v : NULL, pv ? pv->n : 0, v->run[i] };
    }
    ds_counts_t cnt;
    ds_status_count(&v->spec, nodes, v->nodes.n, v->hash, ctrl_now_unix(rt), &cnt);
    free(nodes);
    /* come back when ready pods should have become available */
    if (v->spec.min_ready_seconds > 0 && cnt.ready != cnt.available)
        ctrl_enqueue_after(rt, v->key, (uint64_t)v->spec.min_ready_seconds * 1000u);
    if (ds_status_unchanged(v->ds, &cnt)) return;
    json_t *st = ds_status_build(v->ds, &cnt, observe);
    json_t *copy = st ? json_deep_copy(v->ds) : NULL;
    if (!copy) {
        json_decref(st);
        return;
    }
    json_object_set_new(copy, "status", st);
    ctrl_update_status(rt, v->key, DS_RESOURCE, &copy, status_done, NULL);
}

/* ---- adoption ------------------------------------------------------------------------------------ */

/* A revision is adopted by an update of the cached object (resourceVersion
 * as precondition) rather than a patch: its data is compared byte for byte
 * on every write, and a patch re-encodes it on the server, while our copy
 * sends back exactly what was stored. */
static void adopt_revision(ctrl_runtime_t *rt, const char *key, const json_t *ds, const json_t *cr)
{
    json_t *copy = json_deep_copy(cr);
    json_t *meta = copy ? json_object_get(copy, "metadata") : NULL;
    json_t *ref = kobj_new_controller_ref("apps/v1", DS_KIND, ds);
    json_t *refs = meta ? json_object_get(meta, "ownerReferences") : NULL;
    if (meta && !json_is_array(refs)) {
        refs = json_array();
        json_object_set_new(meta, "ownerReferences", refs);
    }
    if (!ref || !refs) {
        json_decref(ref);
        json_decref(copy);
        return;
    }
    if (json_array_append_new(refs, ref) < 0) {   /* takes ref either way */
        json_decref(copy);
        return;
    }
    ctrl_update(rt, key, DS_CR_RESOURCE, &copy, claim_patch_done, NULL);
}

/* upstream RecheckDeletionTimestamp: adopt only if a live read shows the
 * same DaemonSet, not being deleted. */
static void adopt_after_get(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    ds_ctrl_t *c = ud;
    ds_state_t *s = strmap_get(c->states, res->owner_key);
    if (!s || !s->adopt) return;
    json_t *items = s->adopt;
    s->adopt = NULL;
    const json_t *ds = current_ds(rt, s, res->owner_key);
    if (!res->ok || !res->object) {
        if (res->status != 404) ctrl_enqueue_rate_limited(rt, res->owner_key);
    } else if (ds && strcmp(kobj_uid(res->object), s->uid) == 0 && !kobj_being_deleted(res->object)) {
        char err[128];
        selector_t *sel = selector_compile(kobj_get(ds, "spec.selector"), err, sizeof err);
        size_t i;
        json_t *it;
        json_array_foreach(items, i, it) {
            const char *resource = json_string_value(json_array_get(it, 0));
            cache_t *cache = resource ? ctrl_cache(rt, resource) : NULL;
            const json_t *obj = cache ? cache_get(cache, json_string_value(json_array_get(it, 1))) : NULL;
            if (!sel || !obj || kobj_controller_uid(obj) || kobj_being_deleted(obj) ||
                !selector_matches(sel, kobj_labels(obj)))
                continue;   /* changed meanwhile */
            if (strcmp(resource, DS_CR_RESOURCE) == 0) {
                adopt_revision(rt, res->owner_key, ds, obj);
                continue;
            }
            json_t *ref = kobj_new_controller_ref("apps/v1", DS_KIND, ds);
            json_t *patch = ref ? json_pack("{s:{s:[o], s:s}}", "metadata", "ownerReferences", ref, "uid",
                                            kobj_uid(obj)) : NULL;
            if (patch)
                ctrl_patch(rt, res->owner_key, resource, kobj_namespace(obj), kobj_name(obj),
                           KUBUS__V1__PATCH_TYPE__STRATEGIC, &patch, claim_patch_done, c);
        }
        selector_destroy(&sel);
    }
    json_decref(items);
}

static void start_adoption(ds_ctrl_t *c, ctrl_runtime_t *rt, ds_state_t *s, const char *key, const json_t *ds,
                           json_t **items)
{
    json_decref(s->adopt);
    s->adopt = *items;
    *items = NULL;
    if (ctrl_get(rt, key, DS_RESOURCE, kobj_namespace(ds), kobj_name(ds), adopt_after_get, c) == 0) {
        json_decref(s->adopt);
        s->adopt = NULL;
        ctrl_enqueue_rate_limited(rt, key);
    }
}

/* Orphaned revisions of the namespace this DaemonSet's selector matches. */
static json_t *orphan_revisions(ctrl_runtime_t *rt, const json_t *ds, const selector_t *sel)
{
    cache_list_t l;
    json_t *out = json_array();
    if (!out || cache_list_namespace(ctrl_cache(rt, DS_CR_RESOURCE), kobj_namespace(ds), &l) < 0) return out;
    for (size_t i = 0; i < l.n; i++) {
        char k[512];
        const json_t *cr = l.items[i];
        if (kobj_controller_uid(cr) || kobj_being_deleted(cr) || !selector_matches(sel, kobj_labels(cr))) continue;
        if (kobj_key(cr, k, sizeof k) > 0) json_array_append_new(out, json_pack("[s, s]", DS_CR_RESOURCE, k));
    }
    cache_list_free(&l);
    return out;
}

/* ---- sync ---------------------------------------------------------------------------------------- */

static void warn_once(ds_ctrl_t *c, ctrl_runtime_t *rt, ds_state_t *s, const json_t *ds, ds_spec_rc_t rc,
                      const char *why)
{
    int64_t gen = kobj_generation(ds);
    if (s->warned_generation == gen) return;
    s->warned_generation = gen;
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
        strmap_del(c->states, key);
        return 0;
    }
    ds_state_t *s = state_for(c, key, ds);
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
    json_t *orphans = orphan_revisions(rt, ds, v.spec.selector);
    if (json_array_size(orphans) > 0) {
        start_adoption(c, rt, s, key, ds, &orphans);   /* the patches' events wake us */
        goto out;
    }
    json_decref(orphans);
    if (cache_list_controlled_by(ctrl_cache(rt, DS_CR_RESOURCE), kobj_uid(ds), &crs) < 0 ||
        !(old = malloc((crs.n + 1) * sizeof *old))) {
        rc = -1;
        goto out;
    }
    const json_t *cur = construct_history(rt, key, ds, &crs, old, &n_old);
    if (!cur) goto out;   /* the revision's creation wakes us */
    v.hash = ds_history_hash(cur);
    if (build_view(rt, &v) < 0) {
        rc = -1;
        goto out;
    }
    bool satisfied = expectations_satisfied(ctrl_expectations(rt), key) && !s->plan_active;
    if (json_array_size(v.adopt) > 0) {
        start_adoption(c, rt, s, key, ds, &v.adopt);
        satisfied = false;   /* count the adopted pods first */
    }
    if (satisfied) {
        manage(c, rt, s, &v);
        if (v.issued == 0 && v.spec.strategy == DS_ROLLING_UPDATE) rolling_update(c, rt, s, &v);
        cleanup_history(rt, &v, old, n_old);
    }
    update_status(rt, &v, satisfied);
out:
    free(old);
    cache_list_free(&crs);
    view_free(&v);
    return rc;
}
