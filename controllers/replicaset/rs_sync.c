/* rs_sync.c - the ReplicaSet controller's handlers, sync and result
 * callbacks. See rs_sync.h; the decisions themselves are in rs_core.c.
 *
 * A sync (key "ns/name"):
 *   1. read and validate the ReplicaSet (bad spec: one Warning per generation);
 *   2. claim the namespace's active pods: owned / adopt / release;
 *   3. release mismatching owned pods; adopt orphans after a live GET shows
 *      the ReplicaSet is still this uid and not being deleted (while
 *      adoptions are in flight the sync creates and deletes nothing, so an
 *      orphan about to be ours is never replaced by a new pod);
 *   4. if expectations are satisfied and the ReplicaSet is not being
 *      deleted: create (slow start) or delete (victim order) up to 500;
 *   5. write status when it changed; come back when a ready pod becomes
 *      available.
 * The key stays in sync (runtime) until every action it issued has a
 * result; slow-start batches are issued from the results of the previous
 * batch. */
#include "rs_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/claim.h"
#include "ctrl/kobj.h"
#include "ctrl/ownerstate.h"
#include "ctrl/pending.h"
#include "log.h"
#include "rs_core.h"

#define RS_RESOURCE "replicasets"
#define POD_RESOURCE "pods"

typedef struct {
    ctrl_ostate_t base;     /* the ReplicaSet this state is about (ctrl/ownerstate.h) */
    selector_t *sel;        /* its selector (immutable in apps/v1), NULL if invalid */
    bool sel_checked;
    bool plan_active;       /* a slow-start create plan is running */
    rs_slowstart_t plan;
    int deletes_in_flight;
    bool delete_failed;
    char *err;              /* last manageReplicas error, cleared when managing works */
    bool err_create;
} rs_state_t;

struct rs_ctrl {
    ctrl_owner_t owner;     /* ReplicaSets, selecting by their cached selectors */
    ctrl_adopter_t *adopter;/* orphan pods, adopted after a live GET */
    ctrl_ostates_t *states; /* key -> rs_state_t */
    ctrl_pending_t *pending;/* status writes not yet seen back */
    log_limit_t bad_log;    /* invalid ReplicaSets */
    log_limit_t fail_log;   /* failed creates/deletes */
};

/* ---- state ------------------------------------------------------------------ */

static void state_fini(void *p)
{
    rs_state_t *s = p;
    selector_destroy(&s->sel);
    free(s->err);
}

static const ctrl_ostate_type_t rs_state_type = { .size = sizeof(rs_state_t), .fini = state_fini };

static bool selects(const ctrl_owner_t *o, const json_t *rs, const json_t *pod);
static bool still_adoptable(const json_t *rs, const json_t *pod, void *ud);

rs_ctrl_t *rs_ctrl_new(void)
{
    rs_ctrl_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->owner = (ctrl_owner_t){ .resource = RS_RESOURCE, .api_version = RS_API_VERSION, .kind = RS_KIND,
                               .selects = selects, .ud = c };
    c->adopter = ctrl_adopter_new(&(ctrl_adopter_config_t){ .owner = &c->owner, .still = still_adoptable, .ud = c });
    c->states = ctrl_ostates_new(&rs_state_type);
    c->pending = ctrl_pending_new();
    c->bad_log = (log_limit_t)LOG_LIMIT_INIT(1, 20);
    c->fail_log = (log_limit_t)LOG_LIMIT_INIT(1, 20);
    if (!c->adopter || !c->states || !c->pending) rs_ctrl_destroy(&c);
    return c;
}

void rs_ctrl_destroy(rs_ctrl_t **cp)
{
    if (!cp || !*cp) return;
    ctrl_adopter_destroy(&(*cp)->adopter);
    ctrl_ostates_destroy(&(*cp)->states);
    ctrl_pending_destroy(&(*cp)->pending);
    free(*cp);
    *cp = NULL;
}

/* The selector to route pods to rs with (NULL: rs selects nothing). */
static const selector_t *selector_of(rs_ctrl_t *c, const json_t *rs)
{
    char key[512];
    if (kobj_key(rs, key, sizeof key) < 0) return NULL;
    rs_state_t *s = ctrl_ostates_for(c->states, key, rs);
    if (!s) return NULL;
    if (!s->sel_checked) {
        char err[256];
        s->sel = selector_compile(kobj_get(rs, "spec.selector"), err, sizeof err);
        /* upstream: a nil or empty selector matches no pod when routing */
        if (s->sel && (selector_is_empty(s->sel) || selector_is_nothing(s->sel))) selector_destroy(&s->sel);
        s->sel_checked = true;
    }
    return s->sel;
}

static void set_error(rs_state_t *s, bool create_side, const char *msg)
{
    free(s->err);
    s->err = strdup(msg && *msg ? msg : "unknown error");
    s->err_create = create_side;
}

static void clear_error(rs_state_t *s)
{
    free(s->err);
    s->err = NULL;
}

static const char *result_text(const ctrl_result_t *r, char *buf, size_t len)
{
    if (r->message && *r->message) return r->message;
    snprintf(buf, len, "status %u %s", r->status, r->reason ? r->reason : "");
    return buf;
}

/* ---- routing events to keys --------------------------------------------------- */

/* An orphan pod is routed to the ReplicaSets whose (cached) selector
 * matches it. */
static bool selects(const ctrl_owner_t *o, const json_t *rs, const json_t *pod)
{
    const selector_t *sel = selector_of(o->ud, rs);
    return sel && selector_matches(sel, kobj_labels(pod));
}

static void on_pod(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                   const json_t *new_obj, void *ud)
{
    rs_ctrl_t *c = ud;
    (void)resource;
    ctrl_route_owned(rt, &c->owner, change, old_obj, new_obj);
}

static void on_rs(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                  const json_t *new_obj, void *ud)
{
    rs_ctrl_t *c = ud;
    (void)resource;
    if (change == CACHE_DELETED) ctrl_pending_observe(c->pending, kobj_uid(old_obj), NULL);
    else ctrl_pending_observe(c->pending, kobj_uid(new_obj), kobj_resource_version(new_obj));
    ctrl_enqueue_obj(rt, new_obj ? new_obj : old_obj);
}

int rs_ctrl_attach(rs_ctrl_t *c, ctrl_runtime_t *rt)
{
    if (ctrl_on(rt, RS_RESOURCE, on_rs, c) < 0) return -1;
    return ctrl_on(rt, POD_RESOURCE, on_pod, c);
}

/* ---- creating (slow start) ------------------------------------------------------- */

static void create_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud);

/* The cached ReplicaSet for key if it is still the one the state is about. */
static const json_t *current_rs(ctrl_runtime_t *rt, const rs_state_t *s, const char *key)
{
    return ctrl_ostate_same(s, cache_get(ctrl_cache(rt, RS_RESOURCE), key));
}

static void issue_batch(rs_ctrl_t *c, ctrl_runtime_t *rt, rs_state_t *s, const char *key)
{
    const json_t *rs = current_rs(rt, s, key);
    if (!rs || kobj_being_deleted(rs)) {
        s->plan_active = false;    /* gone or going: nothing more to create */
        return;
    }
    int n = rs_slowstart_next(&s->plan);
    for (int i = 0; i < n; i++) {
        char prefix[300], name[320];
        snprintf(prefix, sizeof prefix, "%s-", kobj_name(rs));
        json_t *pod = ctrl_name_generate(prefix, name, sizeof name) > 0 ? rs_pod_from_template(rs, name) : NULL;
        if (!pod || ctrl_create(rt, key, POD_RESOURCE, &pod, create_done, c) == 0) {
            json_decref(pod);
            set_error(s, true, "unable to build or issue a pod create");
            rs_slowstart_result(&s->plan, false);
        }
    }
    if (rs_slowstart_done(&s->plan)) s->plan_active = false;
}

static void plan_step(rs_ctrl_t *c, ctrl_runtime_t *rt, rs_state_t *s, const char *key)
{
    if (s->plan.in_flight > 0) return;
    if (s->plan.failed > 0) {
        s->plan_active = false;
        if (s->plan.skipped > 0)
            LOGFV(2, "%s: slow-start stopped after a failure, %d creates skipped", key, s->plan.skipped);
        ctrl_enqueue_rate_limited(rt, key);
        return;
    }
    if (s->plan.remaining > 0) {
        issue_batch(c, rt, s, key);
        return;
    }
    s->plan_active = false;
    clear_error(s);
}

/* A namespace being deleted refuses every create alike (403 with cause
 * NamespaceTerminating). Upstream counts such a create as no error: no
 * Event, no ReplicaFailure, no retry; the namespace's deletion takes the
 * ReplicaSet. We also stop issuing the plan's later batches, each of which
 * would only be refused again. */
static void create_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    rs_ctrl_t *c = ud;
    rs_state_t *s = ctrl_ostates_get(c->states, res->owner_key);
    if (!s || !s->plan_active) return;
    const json_t *rs = current_rs(rt, s, res->owner_key);
    char buf[128];
    if (res->ok) {
        if (rs) ctrl_event(rt, rs, "Normal", "SuccessfulCreate", "Created pod: %s", res->name);
        rs_slowstart_result(&s->plan, true);
    } else if (ctrl_result_namespace_terminating(res)) {
        rs_slowstart_stop(&s->plan);
    } else {
        const char *why = result_text(res, buf, sizeof buf);
        if (rs) ctrl_event(rt, rs, "Warning", "FailedCreate", "Error creating: %s", why);
        set_error(s, true, why);
        if (log_limit_allow(&c->fail_log))
            LOGW("pod create failed", "replicaset", res->owner_key, "pod", res->name, "reason", why);
        rs_slowstart_result(&s->plan, false);
    }
    plan_step(c, rt, s, res->owner_key);
}

/* ---- deleting ---------------------------------------------------------------------- */

static void delete_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    rs_ctrl_t *c = ud;
    rs_state_t *s = ctrl_ostates_get(c->states, res->owner_key);
    if (!s) return;
    const json_t *rs = current_rs(rt, s, res->owner_key);
    char buf[128];
    /* 404: already gone; 409: the uid precondition failed, so ours is gone too */
    if (res->status == 404 || res->status == 409) {
        /* nothing to report, as upstream for NotFound */
    } else if (res->ok) {
        if (rs) ctrl_event(rt, rs, "Normal", "SuccessfulDelete", "Deleted pod: %s", res->name);
    } else {
        /* upstream DeletePod: the Event says "Error deleting: <err>", the
         * error it returns (the ReplicaFailure condition's message) says
         * "unable to delete pods: <err>" */
        const char *why = result_text(res, buf, sizeof buf);
        char err[640];   /* the executor passes at most 511 bytes of message */
        snprintf(err, sizeof err, "unable to delete pods: %s", why);
        if (rs) ctrl_event(rt, rs, "Warning", "FailedDelete", "Error deleting: %s", why);
        set_error(s, false, err);
        s->delete_failed = true;
        if (log_limit_allow(&c->fail_log))
            LOGW("pod delete failed", "replicaset", res->owner_key, "pod", res->name, "reason", why);
    }
    if (s->deletes_in_flight > 0 && --s->deletes_in_flight == 0) {
        if (s->delete_failed) ctrl_enqueue_rate_limited(rt, res->owner_key);
        else clear_error(s);
    }
}

/* Pods used for the same-node rank: those selected by any ReplicaSet with
 * the same controller as rs (upstream getIndirectlyRelatedPods), or by rs. */
static size_t related_pods(rs_ctrl_t *c, ctrl_runtime_t *rt, const json_t *rs, const cache_list_t *ns_pods,
                           const json_t **out)
{
    cache_list_t sibs = { 0 };
    const char *owner = kobj_controller_uid(rs);
    if (owner) cache_list_controlled_by(ctrl_cache(rt, RS_RESOURCE), owner, &sibs);
    size_t n = 0;
    for (size_t i = 0; i < ns_pods->n; i++) {
        const json_t *pod = ns_pods->items[i];
        bool hit = false;
        if (sibs.n == 0) {
            const selector_t *sel = selector_of(c, rs);
            hit = sel && selector_matches(sel, kobj_labels(pod));
        }
        for (size_t j = 0; !hit && j < sibs.n; j++) {
            if (strcmp(kobj_namespace(sibs.items[j]), kobj_namespace(rs)) != 0) continue;
            const selector_t *sel = selector_of(c, sibs.items[j]);
            hit = sel && selector_matches(sel, kobj_labels(pod));
        }
        if (hit) out[n++] = pod;
    }
    cache_list_free(&sibs);
    return n;
}

/* Only a scale-down looks at the whole namespace (the same-node rank
 * counts related ReplicaSets' pods); every other sync reads its claimable
 * pods only. */
static void delete_victims(rs_ctrl_t *c, ctrl_runtime_t *rt, rs_state_t *s, const char *key, const json_t *rs,
                           const json_t **owned, size_t n_owned, int count)
{
    cache_list_t ns_pods;
    if (cache_list_namespace(ctrl_cache(rt, POD_RESOURCE), kobj_namespace(rs), &ns_pods) < 0) return;
    const json_t **related = malloc((ns_pods.n ? ns_pods.n : 1) * sizeof *related);
    if (!related) { cache_list_free(&ns_pods); return; }
    size_t n_rel = related_pods(c, rt, rs, &ns_pods, related);
    int rc = (size_t)count < n_owned ? rs_sort_victims(owned, n_owned, related, n_rel,
                                                       (int64_t)ctrl_now_unix_ms(rt) * 1000) : 0;
    free(related);
    cache_list_free(&ns_pods);
    if (rc < 0) return;
    s->delete_failed = false;
    for (int i = 0; i < count && (size_t)i < n_owned; i++) {
        if (ctrl_delete(rt, key, POD_RESOURCE, kobj_namespace(owned[i]), kobj_name(owned[i]), kobj_uid(owned[i]),
                        delete_done, c) != 0)
            s->deletes_in_flight++;
    }
}

static void manage_replicas(rs_ctrl_t *c, ctrl_runtime_t *rt, rs_state_t *s, const char *key, const json_t *rs,
                            const rs_spec_t *spec, const json_t **owned, size_t n_owned)
{
    int diff = rs_diff(n_owned, spec->replicas, RS_BURST_REPLICAS);
    if (diff > 0) {
        LOGFV(2, "%s: too few replicas (need %d, have %zu): creating %d", key, spec->replicas, n_owned, diff);
        rs_slowstart_init(&s->plan, diff);
        s->plan_active = true;
        issue_batch(c, rt, s, key);
    } else if (diff < 0) {
        LOGFV(2, "%s: too many replicas (need %d, have %zu): deleting %d", key, spec->replicas, n_owned, -diff);
        delete_victims(c, rt, s, key, rs, owned, n_owned, -diff);
    } else {
        clear_error(s);
    }
}

/* ---- adopting and releasing ------------------------------------------------------ */

/* The re-check before adopting (lib/ctrl/claim.h checks orphan, deletion
 * and selector): only active pods are claimed (upstream FilterActivePods). */
static bool still_adoptable(const json_t *rs, const json_t *pod, void *ud)
{
    (void)rs;
    (void)ud;
    return kpod_is_active(pod);
}

/* ---- status ------------------------------------------------------------------------ */

/* The write is over: unless it made a new version (whose event unblocks
 * the next status write), stop waiting for one. */
static void status_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    rs_ctrl_t *c = ud;
    cache_t *cache = ctrl_cache(rt, RS_RESOURCE);
    const json_t *cur = cache && res->owner_key ? cache_get(cache, res->owner_key) : NULL;
    if (cur && (!res->ok || !res->object ||
                strcmp(kobj_resource_version(res->object), kobj_resource_version(cur)) == 0))
        ctrl_pending_drop(c->pending, kobj_uid(cur));
    if (res->ok || res->status == 404) return;
    LOGFV(1, "%s: status update failed (%u %s): will retry", res->owner_key, res->status, res->reason);
    ctrl_enqueue_rate_limited(rt, res->owner_key);
}

/* Status is written from the cached ReplicaSet. Until our previous write
 * shows up in the cache, a new one would be computed from (and carry) the
 * version before it: a 409. The write's own event queues the key again;
 * the 1 s re-check only covers an event that never comes. */
static void update_status(rs_ctrl_t *c, ctrl_runtime_t *rt, rs_state_t *s, const char *key, const json_t *rs,
                          const rs_spec_t *spec, const json_t **owned, size_t n_owned, int32_t terminating)
{
    uint64_t mono = now_mono_ms();
    if (ctrl_pending_blocks(c->pending, kobj_uid(rs), kobj_resource_version(rs), mono)) {
        ctrl_enqueue_after(rt, key, 1000);
        return;
    }
    rs_manage_err_t merr = { s->err, s->err_create };
    int64_t now = ctrl_now_unix(rt), next = 0;
    json_t *st = rs_status_compute(rs, spec, owned, n_owned, &merr, now, &next);
    if (!st) return;
    rs_status_set_terminating(st, terminating);
    if (next > now) ctrl_enqueue_after(rt, key, (uint64_t)(next - now) * 1000u);
    json_t *cur = kobj_get(rs, "status");
    if (rs_status_equal(cur, st)) {
        json_decref(st);
        return;
    }
    json_t *copy = json_deep_copy(rs);
    if (!copy) { json_decref(st); return; }
    json_object_set_new(copy, "status", st);
    if (ctrl_update_status(rt, key, RS_RESOURCE, &copy, status_done, c) != 0)
        (void)ctrl_pending_add(c->pending, kobj_uid(rs), kobj_resource_version(rs), mono);
}

/* ---- sync ------------------------------------------------------------------------- */

static void warn_invalid(rs_ctrl_t *c, ctrl_runtime_t *rt, rs_state_t *s, const json_t *rs, const char *why)
{
    if (!ctrl_ostate_warn_once(s, rs)) return;
    if (log_limit_allow(&c->bad_log))
        LOGW("ReplicaSet refused: invalid spec", "namespace", kobj_namespace(rs), "name", kobj_name(rs), "reason", why);
    ctrl_event(rt, rs, "Warning", "InvalidSpec", "ReplicaSet not managed: %s", why);
}

typedef struct {
    const json_t **owned;
    size_t n_owned;
    int32_t terminating; /* owned pods being deleted (status.terminatingReplicas) */
    json_t *adopt;      /* pod uids */
} claims_t;

static int claim_all(ctrl_runtime_t *rt, const char *key, const json_t *rs, const rs_spec_t *spec,
                     const cache_list_t *pods, claims_t *out)
{
    out->owned = malloc((pods->n ? pods->n : 1) * sizeof *out->owned);
    out->adopt = json_array();
    out->n_owned = 0;
    out->terminating = 0;
    if (!out->owned || !out->adopt) return -1;
    for (size_t i = 0; i < pods->n; i++) {
        const json_t *pod = pods->items[i];
        if (rs_pod_terminating(rs, spec->selector, pod)) out->terminating++;
        switch (rs_claim(rs, spec->selector, pod)) {
        case RS_CLAIM_OWNED: out->owned[out->n_owned++] = pod; break;
        case RS_CLAIM_RELEASE: ctrl_release(rt, key, rs, POD_RESOURCE, pod, ctrl_claim_done, NULL); break;
        case RS_CLAIM_ADOPT: json_array_append_new(out->adopt, json_string(kobj_uid(pod))); break;
        default: break;
        }
    }
    return 0;
}

int rs_sync(ctrl_runtime_t *rt, const char *key, void *ud)
{
    rs_ctrl_t *c = ud;
    const json_t *rs = cache_get(ctrl_cache(rt, RS_RESOURCE), key);
    if (!rs) {
        expectations_forget(ctrl_expectations(rt), key);
        ctrl_ostates_forget(c->states, key);
        return 0;
    }
    rs_state_t *s = ctrl_ostates_for(c->states, key, rs);
    if (!s) return -1;
    rs_spec_t spec;
    char why[320];
    if (rs_spec_read(rs, &spec, why, sizeof why) < 0) {
        warn_invalid(c, rt, s, rs, why);
        return 0;   /* retrying cannot help: the next edit re-queues it */
    }
    bool needs_sync = expectations_satisfied(ctrl_expectations(rt), key);
    cache_list_t pods;
    claims_t cl = { 0 };
    int rc = 0;
    if (cache_list_claimable(ctrl_cache(rt, POD_RESOURCE), kobj_namespace(rs), kobj_uid(rs), &pods) < 0 ||
        claim_all(rt, key, rs, &spec, &pods, &cl) < 0) {
        rc = -1;
        goto out;
    }
    if (json_array_size(cl.adopt) > 0 && !kobj_being_deleted(rs)) {
        ctrl_adopter_start(c->adopter, rt, key, rs, POD_RESOURCE, &cl.adopt);
        needs_sync = false;   /* count the adopted pods first: the next sync manages */
    }
    if (needs_sync && !kobj_being_deleted(rs))
        manage_replicas(c, rt, s, key, rs, &spec, cl.owned, cl.n_owned);
    update_status(c, rt, s, key, rs, &spec, cl.owned, cl.n_owned, cl.terminating);
out:
    json_decref(cl.adopt);
    free(cl.owned);
    cache_list_free(&pods);
    rs_spec_free(&spec);
    return rc;
}
