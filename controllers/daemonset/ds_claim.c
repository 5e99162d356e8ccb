/* ds_claim.c - claiming: owned pods, orphans adopted after a live GET
 * (pods by strategic patch, revisions by update), pods released when their
 * labels stop matching. See ds_priv.h. */
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

void ds_claim_pod(ctrl_runtime_t *rt, view_t *v, const json_t *pod)
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
    const json_t *ds = ds_current(rt, s, res->owner_key);
    if (!res->ok || !res->object) {
        if (res->status != 404) ctrl_enqueue_rate_limited(rt, res->owner_key);
    } else if (ds && strcmp(kobj_uid(res->object), s->uid) == 0 && !kobj_being_deleted(res->object)) {
        /* whatever changed meanwhile (already adopted, relabelled), look again:
         * a sync that found nothing left to patch has no event to wake it */
        ctrl_enqueue(rt, res->owner_key);
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

void ds_start_adoption(ds_ctrl_t *c, ctrl_runtime_t *rt, ds_state_t *s, const char *key, const json_t *ds,
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
json_t *ds_orphan_revisions(ctrl_runtime_t *rt, const json_t *ds, const selector_t *sel)
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

