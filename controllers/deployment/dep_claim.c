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

#include "ctrl/claim.h"
#include "ctrl/kobj.h"
#include "dep_claim.h"
#include "log.h"

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

/* Orphans (no controller) of d's namespace its selector matches, still so. */
static bool adoptable(const json_t *rs, const selector_t *sel)
{
    return !kobj_being_deleted(rs) && !kobj_controller_uid(rs) &&
           selector_matches(sel, kobj_labels(rs));
}

ctrl_adopter_t *dep_claim_adopter_new(void)
{
    return ctrl_adopter_new(&(ctrl_adopter_config_t){ .owner = &dep_owner, .done = patch_done });
}

int dep_claim(dep_sync_t *s, const selector_t *sel)
{
    cache_list_t l;
    /* ours and the orphans only: a parse per ReplicaSet of the namespace on
     * every sync cost a rollout of 100 Deployments in one namespace most of
     * its CPU (profiled) */
    if (cache_list_claimable(ctrl_cache(s->rt, "replicasets"), kobj_namespace(s->d), kobj_uid(s->d), &l) != 0)
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
            ctrl_release(s->rt, s->key, s->d, "replicasets", rs, patch_done, NULL);
        } else if (!kobj_being_deleted(s->d) && adoptable(rs, sel)) {
            json_array_append_new(uids, json_string(kobj_uid(rs)));
        }
    }
    cache_list_free(&l);
    if (json_array_size(uids) == 0) {
        json_decref(uids);
        return 0;
    }
    ctrl_adopter_start(s->c->adopter, s->rt, s->key, s->d, "replicasets", &uids);
    return 1; /* a failed start re-queued the key */
}
