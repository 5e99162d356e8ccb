/* ds_route.c - which DaemonSets a change of a pod, revision, node or
 * DaemonSet wakes (upstream's event handlers). See ds_priv.h. */
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

/* ---- routing events to keys -------------------------------------------------------- */

const ctrl_owner_t ds_owner = { .resource = DS_RESOURCE, .api_version = "apps/v1", .kind = DS_KIND };

/* Pods and ControllerRevisions: wake their DaemonSet (old and new owner). */
static void on_owned(ctrl_runtime_t *rt, const char *resource, cache_change_t change, const json_t *old_obj,
                     const json_t *new_obj, void *ud)
{
    (void)resource;
    (void)ud;
    ctrl_route_owned(rt, &ds_owner, change, old_obj, new_obj);
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

