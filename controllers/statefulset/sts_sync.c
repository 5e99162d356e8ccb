/* sts_sync.c - the StatefulSet controller's handlers, sync and result
 * callbacks. See sts_sync.h; decisions live in sts_plan.c and friends.
 *
 * A sync (key "ns/name"):
 *   1. read the spec (invalid: one Warning per generation, nothing else);
 *   2. wait while creates/deletes this set issued are not yet observed
 *      (expectations), so the plan never acts twice on one gap;
 *   3. claim the namespace's pods: ours and matching stay, ours and no
 *      longer matching are released, matching orphans named "<set>-<n>"
 *      are adopted (nothing else is done until the adoption is seen);
 *   4. pick the update revision (the newest revision if it holds the
 *      current template; else an older equal one, renumbered: a rollback;
 *      else a new one) and the current revision (status.currentRevision);
 *   5. run the plan and issue its steps; events come with the results;
 *   6. write status when it changed, then trim revisions beyond
 *      revisionHistoryLimit that neither the status nor a pod uses. */
#include "sts_sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/claim.h"
#include "ctrl/kobj.h"
#include "log.h"
#include "ctrl/ownerstate.h"
#include "sts_plan.h"
#include "sts_pod.h"
#include "sts_pvc.h"
#include "sts_revision.h"
#include "sts_spec.h"
#include "ctrl/satint.h"

#define STS_RESOURCE "statefulsets"
#define POD_RESOURCE "pods"
#define PVC_RESOURCE "persistentvolumeclaims"
#define REV_RESOURCE "controllerrevisions"
#define MAX_COLLISIONS 64

struct sts_ctrl {
    ctrl_adopter_t *adopter;   /* orphan pods, adopted after a live GET */
    ctrl_ostates_t *states;    /* key -> what the controller keeps of it: the warned generation */
    log_limit_t bad_log;
    log_limit_t fail_log;
};

/* ---- state ------------------------------------------------------------------ */

static void generic_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud);
static bool member_selects(const ctrl_owner_t *o, const json_t *sts, const json_t *pod);

/* StatefulSets as the owners of claims and revisions (selected by labels),
 * and of pods (selected by labels and name: upstream isMemberOf). */
static const ctrl_owner_t sts_owner = { .resource = STS_RESOURCE, .api_version = STS_API_VERSION, .kind = STS_KIND };
static const ctrl_owner_t sts_pod_owner = { .resource = STS_RESOURCE, .api_version = STS_API_VERSION,
                                            .kind = STS_KIND, .selects = member_selects };

sts_ctrl_t *sts_ctrl_new(void)
{
    sts_ctrl_t *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->adopter = ctrl_adopter_new(&(ctrl_adopter_config_t){ .owner = &sts_pod_owner, .done = generic_done, .ud = c });
    c->states = ctrl_ostates_new(&(ctrl_ostate_type_t){ .size = sizeof(ctrl_ostate_t) });
    c->bad_log = (log_limit_t)LOG_LIMIT_INIT(1, 20);
    c->fail_log = (log_limit_t)LOG_LIMIT_INIT(1, 20);
    if (!c->adopter || !c->states) sts_ctrl_destroy(&c);
    return c;
}

void sts_ctrl_destroy(sts_ctrl_t **cp)
{
    if (!cp || !*cp) return;
    ctrl_adopter_destroy(&(*cp)->adopter);
    ctrl_ostates_destroy(&(*cp)->states);
    free(*cp);
    *cp = NULL;
}

/* ---- routing events to keys ------------------------------------------------- */

static bool member_selects(const ctrl_owner_t *o, const json_t *sts, const json_t *pod)
{
    (void)o;
    return sts_member_ordinal(pod, kobj_name(sts)) >= 0 && ctrl_spec_selects(sts, pod);
}

static void on_pod(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                   const json_t *new_obj, void *ud)
{
    (void)resource;
    (void)ud;
    ctrl_route_owned(rt, &sts_pod_owner, change, old_obj, new_obj);
}

static void on_claim(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                     const json_t *new_obj, void *ud)
{
    (void)resource;
    (void)ud;
    (void)change;
    ctrl_enqueue_selecting(rt, &sts_owner, new_obj ? new_obj : old_obj);
}

static void on_revision(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                        const json_t *new_obj, void *ud)
{
    (void)resource;
    (void)ud;
    (void)change;
    ctrl_enqueue_controller(rt, &sts_owner, new_obj ? new_obj : old_obj);
}

static void on_sts(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                   const json_t *new_obj, void *ud)
{
    (void)resource;
    (void)ud;
    (void)change;
    ctrl_enqueue_obj(rt, new_obj ? new_obj : old_obj);
}

int sts_ctrl_attach(sts_ctrl_t *c, ctrl_runtime_t *rt)
{
    if (ctrl_on(rt, STS_RESOURCE, on_sts, c) < 0 || ctrl_on(rt, POD_RESOURCE, on_pod, c) < 0 ||
        ctrl_on(rt, PVC_RESOURCE, on_claim, c) < 0 || ctrl_on(rt, REV_RESOURCE, on_revision, c) < 0)
        return -1;
    return 0;
}

/* ---- result callbacks: upstream's events ------------------------------------ */

static const json_t *owner_sts(ctrl_runtime_t *rt, const ctrl_result_t *res)
{
    return cache_get(ctrl_cache(rt, STS_RESOURCE), res->owner_key);
}

static const char *why(const ctrl_result_t *r, char *buf, size_t len)
{
    if (r->message && *r->message) return r->message;
    snprintf(buf, len, "status %u %s", r->status, r->reason ? r->reason : "");
    return buf;
}

static bool already_exists(const ctrl_result_t *r)
{
    return r->status == 409 && r->reason && strcmp(r->reason, "AlreadyExists") == 0;
}

static void retry_later(sts_ctrl_t *c, ctrl_runtime_t *rt, const ctrl_result_t *res, const char *what)
{
    char buf[128];
    if (res->status == 409 && res->reason && strcmp(res->reason, "Conflict") == 0)
        LOGFV(1, "%s: %s %s: conflict, will retry", res->owner_key, what, res->name);
    else if (log_limit_allow(&c->fail_log))
        LOGW("statefulset write failed", "statefulset", res->owner_key, "what", what, "name", res->name, "reason",
             why(res, buf, sizeof buf));
    ctrl_enqueue_rate_limited(rt, res->owner_key);
}

static void pod_created(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    const json_t *sts = owner_sts(rt, res);
    char buf[128];
    if (res->ok) {
        if (sts) ctrl_event(rt, sts, "Normal", "SuccessfulCreate", "Create Pod %s in StatefulSet %s successful",
                            res->name, kobj_name(sts));
        return;
    }
    if (!already_exists(res) && sts)
        ctrl_event(rt, sts, "Warning", "FailedCreate", "Create Pod %s in StatefulSet %s failed error: %s", res->name,
                   kobj_name(sts), why(res, buf, sizeof buf));
    retry_later(ud, rt, res, "create pod");
}

/* The pod a claim "<tmpl>-<set>-<ordinal>" belongs to: "<set>-<ordinal>". */
static void pod_of_claim(const char *claim, const json_t *sts, char *out, size_t outlen)
{
    int32_t ord = sts_name_ordinal(claim, NULL, 0);
    snprintf(out, outlen, "%s-%d", sts ? kobj_name(sts) : "", ord);
}

static void claim_created(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    const json_t *sts = owner_sts(rt, res);
    char pod[320], buf[128];
    pod_of_claim(res->name, sts, pod, sizeof pod);
    if (res->ok) {
        if (sts) ctrl_event(rt, sts, "Normal", "SuccessfulCreate", "Create Claim %s Pod %s in StatefulSet %s success",
                            res->name, pod, kobj_name(sts));
        return;
    }
    if (already_exists(res)) return;   /* upstream sinks it: the next sync sees the claim */
    if (sts) {
        const char *w = why(res, buf, sizeof buf);
        ctrl_event(rt, sts, "Warning", "FailedCreate", "Create Claim %s for Pod %s in StatefulSet %s failed error: %s",
                   res->name, pod, kobj_name(sts), w);
        ctrl_event(rt, sts, "Warning", "FailedCreate",
                   "Create Pod %s in StatefulSet %s failed error: failed to create PVC %s: %s", pod, kobj_name(sts),
                   res->name, w);
    }
    retry_later(ud, rt, res, "create claim");
}

static void pod_deleted(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    const json_t *sts = owner_sts(rt, res);
    char buf[128];
    if (res->status == 404 || res->status == 409) return;   /* already gone, or replaced */
    if (res->ok) {
        if (sts) ctrl_event(rt, sts, "Normal", "SuccessfulDelete", "Delete Pod %s in StatefulSet %s successful",
                            res->name, kobj_name(sts));
        return;
    }
    if (sts) ctrl_event(rt, sts, "Warning", "FailedDelete", "Delete Pod %s in StatefulSet %s failed error: %s",
                        res->name, kobj_name(sts), why(res, buf, sizeof buf));
    retry_later(ud, rt, res, "delete pod");
}

static void pod_updated(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    const json_t *sts = owner_sts(rt, res);
    char buf[128];
    if (res->status == 404) return;
    if (res->ok) {
        if (sts) ctrl_event(rt, sts, "Normal", "SuccessfulUpdate", "Update Pod %s in StatefulSet %s successful",
                            res->name, kobj_name(sts));
        return;
    }
    if (sts) ctrl_event(rt, sts, "Warning", "FailedUpdate", "Update Pod %s in StatefulSet %s failed error: %s",
                        res->name, kobj_name(sts), why(res, buf, sizeof buf));
    retry_later(ud, rt, res, "update pod");
}

static void generic_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    if (res->ok || res->status == 404) return;
    retry_later(ud, rt, res, res->resource);
}

/* ---- issuing steps ---------------------------------------------------------- */

typedef struct {
    sts_ctrl_t *c;
    ctrl_runtime_t *rt;
    const char *key;
    const json_t *sts;
    const sts_spec_t *spec;
    const char *cur_name, *upd_name;
    const json_t *cur_tmpl, *upd_tmpl;
} sync_t;

static const json_t *claim_get(void *ud, const char *name)
{
    sync_t *s = ud;
    return cache_get_ns(ctrl_cache(s->rt, PVC_RESOURCE), kobj_namespace(s->sts), name);
}

static void issue_create_claim(sync_t *s, const sts_step_t *st)
{
    json_t *claim = sts_claim_new(s->sts, json_array_get(s->spec->claim_templates, st->tmpl), st->ordinal);
    if (!claim) return;
    if (s->spec->delete_when_deleted) {
        json_t *ref = kobj_new_controller_ref(STS_API_VERSION, STS_KIND, s->sts);
        if (ref) json_object_set_new(json_object_get(claim, "metadata"), "ownerReferences", json_pack("[o]", ref));
    }
    ctrl_create(s->rt, s->key, PVC_RESOURCE, &claim, claim_created, s->c);
}

static void issue_create_pod(sync_t *s, const sts_step_t *st)
{
    const json_t *tmpl = st->use_current ? s->cur_tmpl : s->upd_tmpl;
    const char *rev = st->use_current ? s->cur_name : s->upd_name;
    json_t *pod = sts_pod_new(s->sts, tmpl, s->spec->service_name, st->ordinal, rev);
    if (!pod) {
        LOGW("cannot build the pod", "statefulset", s->key, "ordinal", "?");
        return;
    }
    ctrl_create(s->rt, s->key, POD_RESOURCE, &pod, pod_created, s->c);
}

static void issue_claim_refs(sync_t *s, const sts_step_t *st)
{
    char name[512];
    const char *tn = kobj_name(json_array_get(s->spec->claim_templates, st->tmpl));
    if (sts_claim_name(name, sizeof name, tn, kobj_name(s->sts), st->ordinal) < 0) return;
    const json_t *claim = claim_get(s, name);
    if (!claim) return;
    json_t *refs = sts_claim_refs_wanted(claim, s->sts, s->spec, st->pod, st->in_range);
    json_t *patch = refs ? json_pack("{s:{s:o, s:s}}", "metadata", "ownerReferences", refs, "resourceVersion",
                                     kobj_resource_version(claim))
                         : NULL;
    if (patch)
        ctrl_patch(s->rt, s->key, PVC_RESOURCE, kobj_namespace(claim), name, KUBUS__V1__PATCH_TYPE__MERGE, &patch,
                   generic_done, s->c);
}

static void issue_fix_identity(sync_t *s, const sts_step_t *st)
{
    char idx[16];
    snprintf(idx, sizeof idx, "%d", st->ordinal);
    json_t *patch = json_pack("{s:{s:{s:s, s:s}, s:s}}", "metadata", "labels", STS_LABEL_POD_NAME,
                              kobj_name(st->pod), STS_LABEL_POD_INDEX, idx, "uid", kobj_uid(st->pod));
    if (patch)
        ctrl_patch(s->rt, s->key, POD_RESOURCE, kobj_namespace(st->pod), kobj_name(st->pod),
                   KUBUS__V1__PATCH_TYPE__STRATEGIC, &patch, pod_updated, s->c);
}

static void issue_steps(sync_t *s, const sts_plan_t *p)
{
    for (size_t i = 0; i < p->n; i++) {
        const sts_step_t *st = &p->steps[i];
        switch (st->kind) {
        case STS_STEP_CREATE_CLAIM: issue_create_claim(s, st); break;
        case STS_STEP_CREATE_POD: issue_create_pod(s, st); break;
        case STS_STEP_DELETE_POD:
            ctrl_delete(s->rt, s->key, POD_RESOURCE, kobj_namespace(st->pod), kobj_name(st->pod), kobj_uid(st->pod),
                        pod_deleted, s->c);
            break;
        case STS_STEP_FIX_IDENTITY: issue_fix_identity(s, st); break;
        case STS_STEP_CLAIM_REFS: issue_claim_refs(s, st); break;
        case STS_STEP_CLAIM_DELETING: {
            char name[512];
            sts_claim_name(name, sizeof name, kobj_name(json_array_get(s->spec->claim_templates, st->tmpl)),
                           kobj_name(s->sts), st->ordinal);
            ctrl_event(s->rt, s->sts, "Warning", "FailedCreate",
                       "Create Pod %s-%d in StatefulSet %s failed error: pvc %s is being deleted", kobj_name(s->sts),
                       st->ordinal, kobj_name(s->sts), name);
            ctrl_enqueue_rate_limited(s->rt, s->key);
            break;
        }
        }
    }
}

/* ---- claiming pods ---------------------------------------------------------- */

typedef struct {
    const json_t **owned;
    size_t n_owned;
    bool adopting;
    json_t *adopt;      /* orphan pod uids (adopted after the live re-check) */
} claims_t;

static int claim_pods(sync_t *s, claims_t *out)
{
    cache_list_t l;
    /* Only ours and orphans can be claimed: others' pods are never looked at. */
    if (cache_list_claimable(ctrl_cache(s->rt, POD_RESOURCE), kobj_namespace(s->sts), kobj_uid(s->sts), &l) < 0)
        return -1;
    out->owned = malloc((l.n ? l.n : 1) * sizeof *out->owned);
    if (!out->owned) { cache_list_free(&l); return -1; }
    const char *uid = kobj_uid(s->sts);
    for (size_t i = 0; i < l.n; i++) {
        const json_t *pod = l.items[i];
        bool member = sts_member_ordinal(pod, kobj_name(s->sts)) >= 0;
        bool match = member && selector_matches(s->spec->selector, kobj_labels(pod));
        const char *cu = kobj_controller_uid(pod);
        if (cu && strcmp(cu, uid) == 0) {
            if (match) { out->owned[out->n_owned++] = pod; continue; }
            if (!kobj_being_deleted(pod)) ctrl_release(s->rt, s->key, s->sts, POD_RESOURCE, pod, generic_done, s->c);
        } else if (!cu && match && !kobj_being_deleted(pod) && !kobj_being_deleted(s->sts)) {
            if (!out->adopt) out->adopt = json_array();
            json_array_append_new(out->adopt, json_string(kobj_uid(pod)));
            out->adopting = true;
        }
    }
    cache_list_free(&l);
    return 0;
}

/* ---- revisions -------------------------------------------------------------- */

typedef struct {
    cache_list_t list;     /* our revisions, sorted */
    char upd_name[300];
    const json_t *cur;     /* current revision object (NULL: = update) */
    int32_t collision;
} revs_t;

/* upstream ListControllerRevisions + AdoptOrphanRevisions: the namespace's
 * revisions the selector matches that are ours, or orphans (adopted now). */
static int list_revisions(sync_t *s, revs_t *r)
{
    /* ours and the orphans: the others' revisions are never parsed */
    if (cache_list_claimable(ctrl_cache(s->rt, REV_RESOURCE), kobj_namespace(s->sts), kobj_uid(s->sts), &r->list) < 0)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < r->list.n; i++) {
        const json_t *rev = r->list.items[i];
        const char *cu = kobj_controller_uid(rev);
        if (!selector_matches(s->spec->selector, kobj_labels(rev))) continue;
        if (cu && strcmp(cu, kobj_uid(s->sts)) != 0) continue;
        if (!cu) {
            if (kobj_being_deleted(s->sts)) continue;
            ctrl_adopt(s->rt, s->key, &sts_owner, s->sts, REV_RESOURCE, rev, generic_done, s->c);
        }
        r->list.items[k++] = rev;
    }
    r->list.n = k;
    sts_revisions_sort(r->list.items, r->list.n);
    return 0;
}

static void renumber(sync_t *s, const json_t *rev, int64_t next)
{
    json_t *copy = json_deep_copy(rev);
    if (!copy) return;
    json_object_set_new(copy, "revision", json_integer(next));
    ctrl_update(s->rt, s->key, REV_RESOURCE, &copy, generic_done, s->c);
}

/* A new revision for data, named around collisions with other data. */
static int create_revision(sync_t *s, revs_t *r, const json_t *data, int64_t next)
{
    for (int tries = 0; tries < MAX_COLLISIONS; tries++) {
        char hash[STS_HASH_MAX];
        if (sts_revision_hash(data, r->collision, hash, sizeof hash) < 0 ||
            sts_revision_name(r->upd_name, sizeof r->upd_name, kobj_name(s->sts), hash) < 0)
            return -1;
        const json_t *same = cache_get_ns(ctrl_cache(s->rt, REV_RESOURCE), kobj_namespace(s->sts), r->upd_name);
        if (same && !json_equal(json_object_get(same, "data"), data)) {
            r->collision++;
            continue;
        }
        if (same) return 0;   /* ours-to-be or an orphan with our data */
        json_t *rev = sts_revision_new(s->sts, data, r->upd_name, hash, next);
        if (!rev || ctrl_create(s->rt, s->key, REV_RESOURCE, &rev, generic_done, s->c) == 0) {
            json_decref(rev);
            return -1;
        }
        return 0;
    }
    return -1;
}

static int pick_revisions(sync_t *s, revs_t *r)
{
    r->collision = (int32_t)kobj_int(s->sts, "status.collisionCount", 0);
    json_t *data = sts_revision_data(s->sts);
    if (!data || list_revisions(s, r) < 0) { json_decref(data); return -1; }
    size_t n = r->list.n;
    int64_t next = n ? sat_add64(kobj_int(r->list.items[n - 1], "revision", 0), 1) : 1;
    ssize_t eq = -1;
    for (size_t i = 0; i < n; i++)
        if (json_equal(json_object_get(r->list.items[i], "data"), data)) eq = (ssize_t)i;
    int rc = 0;
    if (eq >= 0) {
        snprintf(r->upd_name, sizeof r->upd_name, "%s", kobj_name(r->list.items[eq]));
        if ((size_t)eq != n - 1) renumber(s, r->list.items[eq], next);   /* a rollback */
    } else {
        rc = create_revision(s, r, data, next);
    }
    json_decref(data);
    const char *cur = kobj_str(s->sts, "status.currentRevision");
    for (size_t i = 0; cur && i < n; i++)
        if (strcmp(kobj_name(r->list.items[i]), cur) == 0) r->cur = r->list.items[i];
    return rc;
}

/* upstream truncateHistory: non-live revisions beyond the limit, oldest first. */
static void trim_history(sync_t *s, const revs_t *r, const claims_t *cl, const char *cur_name)
{
    if (s->spec->history_limit < 0) return;
    size_t n_hist = 0;
    const json_t **hist = malloc((r->list.n ? r->list.n : 1) * sizeof *hist);
    if (!hist) return;
    for (size_t i = 0; i < r->list.n; i++) {
        const char *name = kobj_name(r->list.items[i]);
        bool live = strcmp(name, cur_name) == 0 || strcmp(name, r->upd_name) == 0;
        for (size_t j = 0; !live && j < cl->n_owned; j++) live = strcmp(sts_pod_revision(cl->owned[j]), name) == 0;
        if (!live) hist[n_hist++] = r->list.items[i];
    }
    for (size_t i = 0; n_hist > (size_t)s->spec->history_limit && i < n_hist - (size_t)s->spec->history_limit; i++)
        ctrl_delete(s->rt, s->key, REV_RESOURCE, kobj_namespace(hist[i]), kobj_name(hist[i]), kobj_uid(hist[i]),
                    generic_done, s->c);
    free(hist);
}

/* ---- status ----------------------------------------------------------------- */

static bool status_differs(const json_t *cur, const json_t *st)
{
    static const char *const ints[] = { "observedGeneration", "replicas", "readyReplicas", "currentReplicas",
                                        "updatedReplicas", "availableReplicas", "collisionCount", NULL };
    for (int i = 0; ints[i]; i++)
        if (kobj_int(cur, ints[i], 0) != kobj_int(st, ints[i], 0)) return true;
    static const char *const strs[] = { "currentRevision", "updateRevision", NULL };
    for (int i = 0; strs[i]; i++) {
        const char *a = kobj_str(cur, strs[i]), *b = kobj_str(st, strs[i]);
        if (strcmp(a ? a : "", b ? b : "") != 0) return true;
    }
    return false;
}

static void write_status(sync_t *s, const sts_plan_t *p, const revs_t *r, const char *cur_name)
{
    json_t *cur = kobj_get(s->sts, "status");
    json_t *st = json_is_object(cur) ? json_deep_copy(cur) : json_object();
    if (!st) return;
    int32_t current = p->current;
    const char *cur_rev = cur_name;
    /* upstream completeRollingUpdate */
    if (!s->spec->on_delete && p->updated == s->spec->replicas && p->ready == s->spec->replicas &&
        p->replicas == s->spec->replicas) {
        current = p->updated;
        cur_rev = r->upd_name;
    }
    json_object_set_new(st, "observedGeneration", json_integer(kobj_generation(s->sts)));
    json_object_set_new(st, "replicas", json_integer(p->replicas));
    json_object_set_new(st, "readyReplicas", json_integer(p->ready));
    json_object_set_new(st, "currentReplicas", json_integer(current));
    json_object_set_new(st, "updatedReplicas", json_integer(p->updated));
    json_object_set_new(st, "availableReplicas", json_integer(p->available));
    json_object_set_new(st, "currentRevision", json_string(cur_rev));
    json_object_set_new(st, "updateRevision", json_string(r->upd_name));
    json_object_set_new(st, "collisionCount", json_integer(r->collision));
    if (!status_differs(cur, st) && kobj_get(s->sts, "status.collisionCount")) {
        json_decref(st);
        return;
    }
    json_t *copy = json_deep_copy(s->sts);
    if (!copy) { json_decref(st); return; }
    json_object_set_new(copy, "status", st);
    ctrl_update_status(s->rt, s->key, STS_RESOURCE, &copy, generic_done, s->c);
}

/* ---- sync ------------------------------------------------------------------- */

static void warn_invalid(sts_ctrl_t *c, ctrl_runtime_t *rt, ctrl_ostate_t *st, const json_t *sts, const char *why_s)
{
    if (!ctrl_ostate_warn_once(st, sts)) return;
    if (log_limit_allow(&c->bad_log))
        LOGW("StatefulSet refused: invalid spec", "namespace", kobj_namespace(sts), "name", kobj_name(sts), "reason",
             why_s);
    ctrl_event(rt, sts, "Warning", "InvalidSpec", "StatefulSet not managed: %s", why_s);
}

static int run_plan(sync_t *s, const claims_t *cl, revs_t *r)
{
    sts_plan_in_t in = { .sts = s->sts, .spec = s->spec, .current_rev = s->cur_name, .update_rev = s->upd_name,
                         .pods = cl->owned, .n_pods = cl->n_owned, .claim_get = claim_get, .claim_ud = s,
                         .now = ctrl_now_unix(s->rt) };
    sts_plan_t p;
    if (sts_plan_make(&in, &p) < 0) return -1;
    if (!cl->adopting) issue_steps(s, &p);
    write_status(s, &p, r, s->cur_name);
    int64_t now = ctrl_now_unix(s->rt);
    if (p.recheck_at > now) ctrl_enqueue_after(s->rt, s->key, (uint64_t)(p.recheck_at - now) * 1000u + 100u);
    else if (s->spec->min_ready_seconds > 0 && p.available != s->spec->replicas)
        ctrl_enqueue_after(s->rt, s->key, (uint64_t)s->spec->min_ready_seconds * 1000u);
    sts_plan_free(&p);
    return 0;
}

int sts_sync(ctrl_runtime_t *rt, const char *key, void *ud)
{
    sts_ctrl_t *c = ud;
    const json_t *sts = cache_get(ctrl_cache(rt, STS_RESOURCE), key);
    if (!sts) {
        expectations_forget(ctrl_expectations(rt), key);
        ctrl_ostates_forget(c->states, key);
        return 0;
    }
    ctrl_ostate_t *state = ctrl_ostates_for(c->states, key, sts);
    if (!state) return -1;
    sts_spec_t spec;
    char err[320];
    if (sts_spec_read(sts, &spec, err, sizeof err) < 0) {
        warn_invalid(c, rt, state, sts, err);
        return 0;
    }
    int rc = 0;
    claims_t cl = { 0 };
    revs_t r = { 0 };
    if (!expectations_satisfied(ctrl_expectations(rt), key)) goto out;   /* observed events re-queue us */
    sync_t s = { .c = c, .rt = rt, .key = key, .sts = sts, .spec = &spec };
    if (claim_pods(&s, &cl) < 0 || pick_revisions(&s, &r) < 0) {
        rc = -1;
        goto out;
    }
    if (cl.adopt) ctrl_adopter_start(c->adopter, rt, key, sts, POD_RESOURCE, &cl.adopt);
    s.upd_name = r.upd_name;
    s.upd_tmpl = kobj_get(sts, "spec.template");
    s.cur_name = r.cur ? kobj_name(r.cur) : r.upd_name;
    s.cur_tmpl = r.cur && sts_revision_template(r.cur) ? sts_revision_template(r.cur) : s.upd_tmpl;
    if (run_plan(&s, &cl, &r) < 0) rc = -1;
    else trim_history(&s, &r, &cl, s.cur_name);
out:
    cache_list_free(&r.list);
    json_decref(cl.adopt);
    free(cl.owned);
    sts_spec_free(&spec);
    return rc;
}
