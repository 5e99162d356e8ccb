/* dep_sync.c - one sync of one Deployment (upstream syncDeployment).
 *
 * Owns: the order of decisions in a sync: refuse what cannot be acted on
 * (invalid spec, empty selector), wait while our own writes are unseen,
 * claim ReplicaSets (dep_claim.c), gather the Deployment's ReplicaSets,
 * find the new one, then one of:
 * status only (being deleted), sync (paused, or a scaling event), Recreate,
 * RollingUpdate. Each records its decisions in the dep_sync_t; dep_write.c
 * issues them at the end, so a sync is a pure function of the caches plus
 * what it issues.
 *
 * One step per sync, as upstream: scaling up the new ReplicaSet, or scaling
 * down old ones, then the status; the next event brings the next step. A
 * sync that creates the new ReplicaSet stops there and continues once the
 * ReplicaSet is observed (creates are expectations).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"
#include "ctrl/selector.h"
#include "dep_claim.h"
#include "dep_ctrl_priv.h"
#include "dep_revision.h"
#include "dep_scale.h"
#include "dep_status.h"
#include "dep_template.h"
#include "log.h"
#include "ctrl/satint.h"

/* How soon a sync that had to wait (unobserved writes of ours) looks again. */
#define DEP_BLOCKED_RECHECK_MS 1000u

static log_limit_t invalid_log = LOG_LIMIT_INIT(1.0, 20);

/* ---- refusing --------------------------------------------------------------- */

/* Records a Warning once per generation, and marks the generation as
 * observed (there is nothing more we will do with it). Always 0: bad input
 * is not retried, the next change of the Deployment brings a new sync. */
static int report_unusable(dep_sync_t *s, const char *reason, const char *message)
{
    if (ctrl_ostate_warn_once(s->state, s->d)) {
        json_t *inv = dep_involved(s->d);
        if (inv)
            ctrl_event(s->rt, inv, "Warning", reason, "%s", message);
        json_decref(inv);
        if (log_limit_allow(&invalid_log))
            LOGW("deployment not acted on", "deployment", s->key, "reason", reason, "message",
                 message);
    }
    json_t *st = json_object_get(s->wd, "status");
    if (kobj_int(st, "observedGeneration", 0) < s->spec.generation)
        json_object_set_new(st, "observedGeneration", json_integer(s->spec.generation));
    return dep_write(s);
}

/* ---- gathering --------------------------------------------------------------- */

static int32_t count_active_pods(ctrl_runtime_t *rt, const char *rs_uid)
{
    cache_list_t l;
    int32_t n = 0;
    if (cache_list_controlled_by(ctrl_cache(rt, "pods"), rs_uid, &l) != 0)
        return 0;
    for (size_t i = 0; i < l.n; i++)
        if (kpod_is_active(l.items[i]))
            n++;
    cache_list_free(&l);
    return n;
}

/* The ReplicaSets d controls whose labels its selector matches, as views.
 * 0; 1 when one has an update of ours not yet observed (wait); -1 OOM. */
static int load_replicasets(dep_sync_t *s, const selector_t *sel)
{
    cache_list_t l;
    if (cache_list_controlled_by(ctrl_cache(s->rt, "replicasets"), kobj_uid(s->d), &l) != 0)
        return -1;
    s->views = calloc(l.n + 1, sizeof *s->views);
    s->copies = calloc(l.n + 1, sizeof *s->copies);
    s->old = calloc(l.n + 1, sizeof *s->old);
    s->all = calloc(l.n + 2, sizeof *s->all);
    s->deletes = calloc(l.n + 1, sizeof *s->deletes);
    if (!s->views || !s->copies || !s->old || !s->all || !s->deletes) {
        cache_list_free(&l);
        return -1;
    }
    uint64_t mono = now_mono_ms();
    int rc = 0;
    for (size_t i = 0; i < l.n && rc == 0; i++) {
        const json_t *rs = l.items[i];
        if (strcmp(kobj_namespace(rs), kobj_namespace(s->d)) != 0 ||
            !selector_matches(sel, kobj_labels(rs))) {
            LOGV(2, "owned ReplicaSet does not match the selector; ignored", "deployment", s->key,
                 "replicaset", kobj_name(rs));
            continue;
        }
        if (ctrl_pending_blocks(s->c->pending, kobj_uid(rs), kobj_resource_version(rs), mono)) {
            /* Our update of it is not back yet; its event wakes us, and this
             * re-check covers an event lost to a re-snapshot or the TTL. */
            ctrl_enqueue_after(s->rt, s->key, DEP_BLOCKED_RECHECK_MS);
            rc = 1;
            break;
        }
        dep_rs_t *v = &s->views[s->n++];
        dep_rs_from_json(v, rs);
        v->active_pods = count_active_pods(s->rt, v->uid);
    }
    cache_list_free(&l);
    return rc;
}

/* FindNewReplicaSet (the oldest whose template is the Deployment's) and
 * the old/all lists. 0, or -1 on OOM (not knowing the new one, a sync
 * would create it again). */
static int classify(dep_sync_t *s)
{
    const json_t *tmpl = kobj_get(s->d, "spec.template");
    dep_rs_t **byage = calloc(s->n + 1, sizeof *byage);
    s->new_rs = NULL;
    if (!byage)
        return -1;
    for (size_t i = 0; i < s->n; i++)
        byage[i] = &s->views[i];
    qsort(byage, s->n, sizeof byage[0], dep_rs_cmp_by_creation);
    for (size_t i = 0; i < s->n && !s->new_rs; i++)
        if (dep_template_equal(kobj_get(byage[i]->obj, "spec.template"), tmpl))
            s->new_rs = byage[i];
    free(byage);
    s->n_old = s->n_all = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (&s->views[i] == s->new_rs)
            continue;
        s->old[s->n_old++] = &s->views[i];
        s->all[s->n_all++] = &s->views[i];
    }
    if (s->new_rs)
        s->all[s->n_all++] = s->new_rs;
    return 0;
}

/* ---- revisions and the new ReplicaSet (getAllReplicaSetsAndSyncRevision) --------- */

static json_t *status_of(dep_sync_t *s)
{
    return json_object_get(s->wd, "status");
}

static void set_deployment_revision(dep_sync_t *s, const char *revision)
{
    json_t *ann = dep_annotations_of(s->wd);
    if (ann && revision && *revision)
        dep_set_annotation(ann, DEP_ANN_REVISION, revision);
}

static void set_progressing(dep_sync_t *s, const char *status, const char *reason,
                            const char *message)
{
    dep_cond_set(status_of(s), dep_cond_new(DEP_COND_PROGRESSING, status, reason, message,
                                            s->now_ms / 1000));
}

static void sync_existing_new_rs(dep_sync_t *s, int64_t revision)
{
    size_t i = (size_t)(s->new_rs - s->views);
    json_t *copy = dep_copy_of(s, i);
    json_t *ann = copy ? dep_annotations_of(copy) : NULL;
    if (!ann)
        return;
    bool changed = dep_set_new_rs_annotations(s->d, ann, revision, true, 0, 0);
    json_t *spec = json_object_get(copy, "spec");
    if (json_is_object(spec) && kobj_int(copy, "spec.minReadySeconds", 0) != s->spec.min_ready_seconds) {
        json_object_set_new(spec, "minReadySeconds", json_integer(s->spec.min_ready_seconds));
        changed = true;
    }
    set_deployment_revision(s, json_string_value(json_object_get(ann, DEP_ANN_REVISION)));
    if (!changed) {
        json_decref(s->copies[i]);
        s->copies[i] = NULL;
    }
    if (s->spec.has_progress_deadline && !dep_cond_get(status_of(s), DEP_COND_PROGRESSING)) {
        char msg[DEP_NAME_MAX + 32];
        snprintf(msg, sizeof msg, "Found new replica set \"%s\"", s->new_rs->name);
        set_progressing(s, "True", DEP_REASON_FOUND_NEW_RS, msg);
    }
}

static json_t *selector_with_hash(const json_t *sel, const char *hash)
{
    json_t *out = json_is_object(sel) ? json_deep_copy(sel) : json_object();
    if (!out)
        return NULL;
    json_t *ml = json_object_get(out, "matchLabels");
    if (!json_is_object(ml)) {
        ml = json_object();
        json_object_set_new(out, "matchLabels", ml);
    }
    json_object_set_new(ml, DEP_LABEL_HASH, json_string(hash));
    return out;
}

/* The ReplicaSet upstream's getNewReplicaSet would create (replicas set later). */
static json_t *new_rs_body(dep_sync_t *s, const char *name, const char *hash)
{
    json_t *tmpl = json_deep_copy(kobj_get(s->d, "spec.template"));
    json_t *sel = selector_with_hash(kobj_get(s->d, "spec.selector"), hash);
    json_t *ref = kobj_new_controller_ref("apps/v1", "Deployment", s->d);
    json_t *body = NULL;
    if (!json_is_object(tmpl) || !sel || !ref)
        goto out;
    json_t *meta = json_object_get(tmpl, "metadata");
    if (!json_is_object(meta)) {
        meta = json_object();
        json_object_set_new(tmpl, "metadata", meta);
    }
    json_t *labels = json_object_get(meta, "labels");
    if (!json_is_object(labels)) {
        labels = json_object();
        json_object_set_new(meta, "labels", labels);
    }
    json_object_set_new(labels, DEP_LABEL_HASH, json_string(hash));
    body = json_pack("{s:s, s:s, s:{s:s, s:s, s:O, s:{}, s:[O]}, s:{s:i, s:i, s:O, s:O}}",
                     "apiVersion", "apps/v1", "kind", "ReplicaSet", "metadata", "name", name,
                     "namespace", kobj_namespace(s->d), "labels", labels, "annotations",
                     "ownerReferences", ref, "spec", "replicas", 0, "minReadySeconds",
                     s->spec.min_ready_seconds, "selector", sel, "template", tmpl);
out:
    json_decref(tmpl);
    json_decref(sel);
    json_decref(ref);
    return body;
}

/* Upstream bumps status.collisionCount when the name its hash gives is
 * taken by another ReplicaSet, so that the next hash differs. */
static void bump_collision_count(dep_sync_t *s, const char *name)
{
    json_t *st = status_of(s);
    int64_t cc = kobj_int(st, "collisionCount", 0);
    json_object_set_new(st, "collisionCount", json_integer(cc + 1));
    s->state->collision = false;
    LOGI("found a hash collision for deployment; bumping collisionCount to resolve it",
         "deployment", s->key, "replicaset", name);
}

/* 0: created (planned), 1: nothing created (collision recorded), -1: error. */
static int create_new_rs(dep_sync_t *s, int64_t revision)
{
    if (s->state->create_error[0]) {
        if (s->spec.has_progress_deadline)
            set_progressing(s, "False", DEP_REASON_RS_CREATE_ERROR, s->state->create_error);
        s->state->create_error[0] = '\0';
    }
    json_t *cc_json = kobj_get(s->d, "status.collisionCount");
    int32_t cc = (int32_t)json_integer_value(cc_json);
    char hash[DEP_HASH_MAX], name[DEP_NAME_MAX + DEP_HASH_MAX + 2];
    if (dep_template_hash(kobj_get(s->d, "spec.template"), json_is_integer(cc_json) ? &cc : NULL,
                          hash, sizeof hash) != 0)
        return -1;
    snprintf(name, sizeof name, "%s-%s", kobj_name(s->d), hash);
    if (s->state->collision ||
        cache_get_ns(ctrl_cache(s->rt, "replicasets"), kobj_namespace(s->d), name)) {
        bump_collision_count(s, name);
        return 1;
    }
    s->create_body = new_rs_body(s, name, hash);
    if (!s->create_body)
        return -1;
    dep_rs_t *p = &s->planned;
    memset(p, 0, sizeof *p);
    p->name = kobj_name(s->create_body);
    p->uid = "";
    p->created = s->now_ms / 1000 + 1; /* newer than anything that exists */
    s->all[s->n_all++] = p;
    s->new_rs = p;
    p->replicas = dep_new_rs_new_replicas(&s->spec, s->all, s->n_all, p);
    json_object_set_new(json_object_get(s->create_body, "spec"), "replicas",
                        json_integer(p->replicas));
    json_t *ann = dep_annotations_of(s->create_body);
    dep_set_new_rs_annotations(s->d, ann, revision, false, s->spec.replicas,
                               s->spec.replicas + s->spec.max_surge);
    char rev[24];
    snprintf(rev, sizeof rev, "%lld", (long long)revision);
    set_deployment_revision(s, rev);
    if (s->spec.has_progress_deadline) {
        char msg[DEP_NAME_MAX + 40];
        snprintf(msg, sizeof msg, "Created new replica set \"%s\"", p->name);
        set_progressing(s, "True", DEP_REASON_NEW_RS, msg);
    }
    return 0;
}

/* 0: go on; 1: stop planning (a create or collision is this sync's step);
 * -1: error. */
static int sync_revision(dep_sync_t *s, bool create)
{
    int64_t revision = sat_add64(dep_max_revision(s->old, s->n_old), 1);
    if (s->new_rs) {
        sync_existing_new_rs(s, revision);
        return 0;
    }
    if (!create)
        return 0;
    int rc = create_new_rs(s, revision);
    return rc == 0 ? 1 : rc;
}

/* ---- status --------------------------------------------------------------------- */

static void set_status(dep_sync_t *s, json_t *st)
{
    if (st)
        json_object_set_new(s->wd, "status", st);
}

/* syncRolloutStatus */
static void rollout_status(dep_sync_t *s)
{
    set_status(s, dep_rollout_status(&s->spec, status_of(s), s->all, s->n_all, s->new_rs,
                                     kobj_name(s->d), s->now_ms, &s->requeue_ms));
}

/* syncDeploymentStatus */
static void plain_status(dep_sync_t *s)
{
    set_status(s, dep_calc_status(&s->spec, status_of(s), s->all, s->n_all, s->new_rs,
                                  s->now_ms / 1000));
}

/* cleanupDeployment */
static void cleanup_history(dep_sync_t *s)
{
    dep_rs_t **old = calloc(s->n_old + 1, sizeof *old);
    if (!old)
        return;
    memcpy(old, s->old, s->n_old * sizeof *old);
    s->n_deletes = dep_history_to_delete(&s->spec, old, s->n_old, s->deletes);
    free(old);
}

/* ---- strategies ------------------------------------------------------------------ */

static size_t active_old(dep_sync_t *s, dep_rs_t **out)
{
    return dep_filter_active(s->old, s->n_old, out);
}

static void rollout_rolling(dep_sync_t *s)
{
    int rc = sync_revision(s, true);
    if (rc != 0 || !s->new_rs) {
        rollout_status(s);
        return;
    }
    if (dep_plan_rolling_new(&s->spec, s->all, s->n_all, s->new_rs)) {
        rollout_status(s);
        return;
    }
    dep_rs_t **act = calloc(s->n_old + 1, sizeof *act);
    if (!act)
        return;
    size_t k = active_old(s, act);
    int32_t down = dep_plan_rolling_old(&s->spec, s->all, s->n_all, act, k, s->new_rs);
    free(act);
    if (down == 0 && dep_deployment_complete(&s->spec, status_of(s)))
        cleanup_history(s);
    rollout_status(s);
}

/* Recreate waits until no pod of an old ReplicaSet is left that may run. */
static bool old_pods_running(dep_sync_t *s)
{
    if (dep_sum_status_replicas(s->old, s->n_old) > 0)
        return true;
    for (size_t i = 0; i < s->n_old; i++) {
        cache_list_t l;
        if (cache_list_controlled_by(ctrl_cache(s->rt, "pods"), s->old[i]->uid, &l) != 0)
            return true; /* cannot tell: assume so */
        bool running = false;
        for (size_t j = 0; j < l.n && !running; j++) {
            const char *phase = kpod_phase(l.items[j]);
            running = strcmp(phase, "Failed") != 0 && strcmp(phase, "Succeeded") != 0;
        }
        cache_list_free(&l);
        if (running)
            return true;
    }
    return false;
}

static void rollout_recreate(dep_sync_t *s)
{
    if (sync_revision(s, false) < 0)
        return;
    dep_rs_t **act = calloc(s->n_old + 1, sizeof *act);
    if (!act)
        return;
    size_t k = active_old(s, act);
    bool scaled = dep_plan_recreate_down(act, k);
    free(act);
    if (scaled || old_pods_running(s)) {
        rollout_status(s);
        return;
    }
    if (!s->new_rs) {
        /* created at full size: nothing else to do in this sync */
        sync_revision(s, true);
        rollout_status(s);
        return;
    }
    dep_scale_to(s->new_rs, s->spec.replicas);
    if (dep_deployment_complete(&s->spec, status_of(s)))
        cleanup_history(s);
    rollout_status(s);
}

/* sync(): scaling events and paused Deployments. */
static void sync_scale(dep_sync_t *s)
{
    if (sync_revision(s, false) < 0)
        return;
    dep_rs_t **old = calloc(s->n_old + 1, sizeof *old);
    if (!old)
        return;
    memcpy(old, s->old, s->n_old * sizeof *old);
    dep_plan_scale(&s->spec, (int32_t)kobj_int(s->d, "status.replicas", 0), s->new_rs, old,
                   s->n_old);
    free(old);
    if (s->spec.paused)
        cleanup_history(s);
    plain_status(s);
}

static void sync_status_only(dep_sync_t *s)
{
    if (sync_revision(s, false) < 0)
        return;
    plain_status(s);
}

static void decide(dep_sync_t *s)
{
    if (kobj_being_deleted(s->d)) {
        sync_status_only(s);
        return;
    }
    /* Pausing/resuming shows as Progressing Unknown, so that a Deployment
     * resumed after its deadline is not judged stuck at once. */
    dep_check_paused_conditions(&s->spec, status_of(s), s->now_ms / 1000);
    if (s->spec.paused || dep_is_scaling_event(&s->spec, s->new_rs, s->old, s->n_old))
        sync_scale(s);
    else if (s->spec.strategy == DEP_RECREATE)
        rollout_recreate(s);
    else
        rollout_rolling(s);
}

/* ---- the sync ---------------------------------------------------------------------- */

static void sync_free(dep_sync_t *s)
{
    for (size_t i = 0; i < s->n && s->copies; i++)
        json_decref(s->copies[i]);
    free(s->copies);
    free(s->views);
    free(s->old);
    free(s->all);
    free(s->deletes);
    json_decref(s->create_body);
    json_decref(s->wd);
}

static int sync_selected(dep_sync_t *s, const selector_t *sel)
{
    if (!expectations_satisfied(ctrl_expectations(s->rt), s->key)) {
        /* A create or delete of ours is not observed yet. Look again soon:
         * an expectation that is never observed only expires, and no event
         * would wake this key then. */
        ctrl_enqueue_after(s->rt, s->key, DEP_BLOCKED_RECHECK_MS);
        return 0;
    }
    int rc = dep_claim(s, sel);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    rc = load_replicasets(s, sel);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (classify(s) != 0)
        return -1;
    decide(s);
    return dep_write(s);
}

static int sync_deployment(dep_sync_t *s)
{
    char err[256];
    if (dep_spec_parse(s->d, &s->spec, err, sizeof err) != 0) {
        s->spec.generation = kobj_generation(s->d);
        return report_unusable(s, "InvalidSpec", err);
    }
    selector_t *sel = selector_compile(kobj_get(s->d, "spec.selector"), err, sizeof err);
    if (!sel) {
        char msg[300];
        snprintf(msg, sizeof msg, "spec.selector: %s", err);
        return report_unusable(s, "InvalidSelector", msg);
    }
    int rc;
    if (selector_is_empty(sel))
        rc = report_unusable(s, "SelectingAll",
                             "This deployment is selecting all pods. A non-empty selector is "
                             "required.");
    else if (selector_is_nothing(sel))
        rc = report_unusable(s, "InvalidSelector", "spec.selector: required");
    else
        rc = sync_selected(s, sel);
    selector_destroy(&sel);
    return rc;
}

int dep_sync(ctrl_runtime_t *rt, const char *key, void *ud)
{
    dep_ctrl_t *c = ud;
    const json_t *d = cache_get(ctrl_cache(rt, "deployments"), key);
    if (!d) {
        ctrl_ostates_forget(c->states, key);
        return 0;
    }
    if (ctrl_pending_blocks(c->pending, kobj_uid(d), kobj_resource_version(d), now_mono_ms())) {
        ctrl_enqueue_after(rt, key, DEP_BLOCKED_RECHECK_MS); /* our status write is not back yet */
        return 0;
    }
    dep_sync_t s;
    memset(&s, 0, sizeof s);
    s.c = c;
    s.rt = rt;
    s.key = key;
    s.d = d;
    s.requeue_ms = -1;
    s.now_ms = (int64_t)ctrl_now_unix_ms(rt);
    s.state = ctrl_ostates_for(c->states, key, d);
    s.wd = json_deep_copy(d);
    if (!s.state || !s.wd) {
        json_decref(s.wd);
        return -1;
    }
    if (!json_is_object(json_object_get(s.wd, "status")))
        json_object_set_new(s.wd, "status", json_object());
    int rc = sync_deployment(&s);
    sync_free(&s);
    return rc;
}
