/* dep_ctrl.c - the Deployment controller's life cycle, event handlers and
 * per-Deployment memory (see dep_ctrl.h, dep_ctrl_priv.h).
 *
 * Which Deployment to sync again (upstream's add/update/delete handlers):
 *   - any change of a Deployment: itself;
 *   - any change of a ReplicaSet: the Deployment that controls it (before
 *     and after, when the controller reference changed); for an orphan,
 *     every Deployment of its namespace that selects it (to adopt it);
 *   - a pod that goes away or stops being active: the Deployment of its
 *     ReplicaSet (Recreate waits for old pods to be gone, and the surge
 *     bound counts surplus pods until they are).
 */
#include <stdlib.h>
#include <string.h>

#include "ctrl/kobj.h"
#include "dep_claim.h"
#include "dep_ctrl_priv.h"
#include "log.h"

const ctrl_owner_t dep_owner = { .resource = "deployments", .api_version = "apps/v1", .kind = "Deployment" };

/* ReplicaSets as the owners of pods: a pod's ReplicaSet leads to its Deployment. */
static const ctrl_owner_t rs_owner = { .resource = "replicasets", .api_version = "apps/v1", .kind = "ReplicaSet" };

dep_ctrl_t *dep_ctrl_new(void)
{
    dep_ctrl_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->adopter = dep_claim_adopter_new();
    c->pending = ctrl_pending_new();
    c->states = ctrl_ostates_new(&(ctrl_ostate_type_t){ .size = sizeof(dep_state_t) });
    c->acts = strmap_new(dep_act_free);
    if (!c->adopter || !c->pending || !c->states || !c->acts) {
        dep_ctrl_destroy(&c);
        return NULL;
    }
    return c;
}

void dep_ctrl_destroy(dep_ctrl_t **cp)
{
    if (!cp || !*cp)
        return;
    dep_ctrl_t *c = *cp;
    ctrl_adopter_destroy(&c->adopter);
    ctrl_pending_destroy(&c->pending);
    ctrl_ostates_destroy(&c->states);
    strmap_destroy(&c->acts);
    free(c);
    *cp = NULL;
}

json_t *dep_involved(const json_t *d)
{
    return json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "apiVersion", "apps/v1", "kind",
                     "Deployment", "metadata", "name", kobj_name(d), "namespace",
                     kobj_namespace(d), "uid", kobj_uid(d), "resourceVersion",
                     kobj_resource_version(d));
}

/* ---- handlers --------------------------------------------------------------- */

static void on_deployment(ctrl_runtime_t *rt, const char *resource, cache_change_t change,
                          const json_t *old_obj, const json_t *new_obj, void *ud)
{
    dep_ctrl_t *c = ud;
    (void)resource;
    const json_t *d = new_obj ? new_obj : old_obj;
    if (change == CACHE_DELETED) {
        char key[DEP_KEY_MAX];
        if (kobj_key(d, key, sizeof key) > 0) {
            ctrl_ostates_forget(c->states, key);
            expectations_forget(ctrl_expectations(rt), key);
        }
        ctrl_pending_observe(c->pending, kobj_uid(d), NULL);
    } else {
        ctrl_pending_observe(c->pending, kobj_uid(d), kobj_resource_version(d));
    }
    ctrl_enqueue_obj(rt, d);
}

static void on_replicaset(ctrl_runtime_t *rt, const char *resource, cache_change_t change,
                          const json_t *old_obj, const json_t *new_obj, void *ud)
{
    dep_ctrl_t *c = ud;
    (void)resource;
    const json_t *rs = new_obj ? new_obj : old_obj;
    ctrl_pending_observe(c->pending, kobj_uid(rs),
                        change == CACHE_DELETED ? NULL : kobj_resource_version(rs));
    ctrl_enqueue_controller(rt, &dep_owner, rs);
    /* an orphan: every Deployment of its namespace that selects it may adopt it */
    if (change != CACHE_DELETED && !kobj_controller_uid(rs) && !kobj_being_deleted(rs))
        ctrl_enqueue_selecting(rt, &dep_owner, rs);
    if (change == CACHE_MODIFIED) {
        const char *before = kobj_controller_uid(old_obj), *after = kobj_controller_uid(new_obj);
        if (before && (!after || strcmp(before, after) != 0))
            ctrl_enqueue_controller(rt, &dep_owner, old_obj);
    }
}

static void on_pod(ctrl_runtime_t *rt, const char *resource, cache_change_t change,
                   const json_t *old_obj, const json_t *new_obj, void *ud)
{
    (void)resource;
    (void)ud;
    bool gone = change == CACHE_DELETED ||
                (change == CACHE_MODIFIED && kpod_is_active(old_obj) && !kpod_is_active(new_obj));
    if (!gone)
        return;
    ctrl_enqueue_controller(rt, &dep_owner, ctrl_owner_of(rt, &rs_owner, new_obj ? new_obj : old_obj));
}

int dep_ctrl_attach(dep_ctrl_t *c, ctrl_runtime_t *rt)
{
    if (!c || !rt)
        return -1;
    c->rt = rt;
    if (ctrl_on(rt, "deployments", on_deployment, c) != 0 ||
        ctrl_on(rt, "replicasets", on_replicaset, c) != 0 || ctrl_on(rt, "pods", on_pod, c) != 0)
        return -1;
    return 0;
}
