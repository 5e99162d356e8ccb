/* dep_claim.c - which ReplicaSets are a Deployment's (upstream ClaimReplicaSets).
 *
 * Owns: adopting orphans and releasing strays, before a sync looks at sizes:
 *   - a ReplicaSet the Deployment controls whose labels its selector no
 *     longer matches is released: a strategic-merge patch deleting our
 *     ownerReference, with the ReplicaSet's uid as precondition;
 *   - ReplicaSets of the namespace without a controller whose labels match
 *     are adopted, but only after a live GET shows the Deployment still
 *     exists with the same uid and is not being deleted (upstream
 *     RecheckDeletionTimestamp): a patch adding a controller
 *     ownerReference, again with the uid precondition. While an adoption
 *     is under way the sync does nothing else (the adopted ReplicaSets'
 *     pods count; the next sync sees them owned).
 * Failed patches re-queue the Deployment with back-off.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"
#include "dep_claim.h"
#include "log.h"

static json_t *adopt_patch(const json_t *d, const json_t *rs)
{
    json_t *ref = kobj_new_controller_ref("apps/v1", "Deployment", d);
    if (!ref)
        return NULL;
    return json_pack("{s:{s:[o], s:s}}", "metadata", "ownerReferences", ref, "uid", kobj_uid(rs));
}

static json_t *release_patch(const json_t *d, const json_t *rs)
{
    return json_pack("{s:{s:[{s:s, s:s}], s:s}}", "metadata", "ownerReferences", "$patch",
                     "delete", "uid", kobj_uid(d), "uid", kobj_uid(rs));
}

static void patch_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)ud;
    if (res->ok)
        return;
    /* 404/409: gone or replaced under the same name; either way look again */
    LOGW("claiming a replica set failed", "deployment", res->owner_key, "replicaset",
         res->name ? res->name : "", "reason", res->reason ? res->reason : "");
    ctrl_enqueue_rate_limited(rt, res->owner_key);
}

static void issue_patch(ctrl_runtime_t *rt, const char *key, const json_t *rs, json_t *patch)
{
    if (!patch)
        return;
    ctrl_patch(rt, key, "replicasets", kobj_namespace(rs), kobj_name(rs),
               KUBUS__V1__PATCH_TYPE__STRATEGIC, &patch, patch_done, NULL);
}

/* Orphans (no controller) of d's namespace its selector matches, still so. */
static bool adoptable(const json_t *rs, const selector_t *sel)
{
    return !kobj_being_deleted(rs) && !kobj_controller_uid(rs) &&
           selector_matches(sel, kobj_labels(rs));
}

static void adopt_after_get(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    dep_ctrl_t *c = ud;
    dep_state_t *st = strmap_get(c->states, res->owner_key);
    if (!st || !st->adopt)
        return;
    json_t *uids = st->adopt;
    st->adopt = NULL;
    const json_t *d = res->object;
    const json_t *cached = cache_get(ctrl_cache(rt, "deployments"), res->owner_key);
    if (!res->ok || !d || !cached || strcmp(kobj_uid(d), kobj_uid(cached)) != 0 ||
        kobj_being_deleted(d)) {
        LOGFI("%s: not adopting: the Deployment is gone, replaced or being deleted",
              res->owner_key);
        json_decref(uids);
        return;
    }
    char err[256];
    selector_t *sel = selector_compile(kobj_get(d, "spec.selector"), err, sizeof err);
    size_t i;
    json_t *u;
    json_array_foreach(uids, i, u) {
        const json_t *rs = cache_get_by_uid(ctrl_cache(rt, "replicasets"), json_string_value(u));
        if (sel && !selector_is_empty(sel) && rs && adoptable(rs, sel)) {
            LOGV(1, "adopting replica set", "deployment", res->owner_key, "replicaset",
                 kobj_name(rs));
            issue_patch(rt, res->owner_key, rs, adopt_patch(d, rs));
        }
    }
    selector_destroy(&sel);
    json_decref(uids);
}

static int start_adoption(dep_sync_t *s, json_t *uids)
{
    if (s->state->adopt) {
        json_decref(uids); /* one under way already */
        return 1;
    }
    s->state->adopt = uids;
    if (ctrl_get(s->rt, s->key, "deployments", kobj_namespace(s->d), kobj_name(s->d),
                 adopt_after_get, s->c) == 0) {
        json_decref(s->state->adopt);
        s->state->adopt = NULL;
        return -1;
    }
    return 1;
}

int dep_claim(dep_sync_t *s, const selector_t *sel)
{
    cache_list_t l;
    if (cache_list_namespace(ctrl_cache(s->rt, "replicasets"), kobj_namespace(s->d), &l) != 0)
        return -1;
    json_t *uids = json_array();
    if (!uids) {
        cache_list_free(&l);
        return -1;
    }
    const char *duid = kobj_uid(s->d);
    for (size_t i = 0; i < l.n; i++) {
        const json_t *rs = l.items[i];
        const char *owner = kobj_controller_uid(rs);
        if (owner && strcmp(owner, duid) == 0 && !kobj_being_deleted(rs) &&
            !selector_matches(sel, kobj_labels(rs))) {
            LOGV(1, "releasing replica set", "deployment", s->key, "replicaset", kobj_name(rs));
            issue_patch(s->rt, s->key, rs, release_patch(s->d, rs));
        } else if (!kobj_being_deleted(s->d) && adoptable(rs, sel)) {
            json_array_append_new(uids, json_string(kobj_uid(rs)));
        }
    }
    cache_list_free(&l);
    if (json_array_size(uids) == 0) {
        json_decref(uids);
        return 0;
    }
    return start_adoption(s, uids);
}

void dep_claim_handle_orphan(ctrl_runtime_t *rt, const json_t *rs)
{
    if (!rs || kobj_controller_uid(rs) || kobj_being_deleted(rs))
        return;
    cache_list_t l;
    if (cache_list_namespace(ctrl_cache(rt, "deployments"), kobj_namespace(rs), &l) != 0)
        return;
    for (size_t i = 0; i < l.n; i++) {
        char err[64];
        selector_t *sel = selector_compile(kobj_get(l.items[i], "spec.selector"), err, sizeof err);
        if (sel && !selector_is_empty(sel) && selector_matches(sel, kobj_labels(rs)))
            ctrl_enqueue_obj(rt, l.items[i]);
        selector_destroy(&sel);
    }
    cache_list_free(&l);
}
