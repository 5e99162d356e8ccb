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

