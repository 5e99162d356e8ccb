/* ds_claim.c - claiming: owned pods, orphans adopted after a live GET
 * (pods by strategic patch, revisions by update), pods released when their
 * labels stop matching; the mechanism is lib/ctrl/claim.h's. See ds_priv.h. */
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
        ctrl_release(rt, v->key, v->ds, DS_POD_RESOURCE, pod, ctrl_claim_done, NULL);
        return;
    }
    if (match && !kobj_being_deleted(pod)) json_array_append_new(v->adopt, json_string(kobj_uid(pod)));
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
    ctrl_update(rt, key, DS_CR_RESOURCE, &copy, ctrl_claim_done, NULL);
}

/* Once the live GET confirmed the DaemonSet (lib/ctrl/claim.h): pods by
 * patch, revisions by update. */
static void adopt_one(ctrl_runtime_t *rt, const char *key, const json_t *ds, const char *resource,
                      const json_t *obj, void *ud)
{
    (void)ud;
    if (strcmp(resource, DS_CR_RESOURCE) == 0) adopt_revision(rt, key, ds, obj);
    else ctrl_adopt(rt, key, &ds_owner, ds, resource, obj, ctrl_claim_done, NULL);
}

ctrl_adopter_t *ds_adopter_new(ds_ctrl_t *c)
{
    /* resync: a sync that found nothing left to patch has no event to wake it */
    return ctrl_adopter_new(&(ctrl_adopter_config_t){ .owner = &ds_owner, .adopt = adopt_one, .ud = c,
                                                      .resync = true });
}

/* Orphaned revisions of the namespace this DaemonSet's selector matches. */
json_t *ds_orphan_revisions(ctrl_runtime_t *rt, const json_t *ds, const selector_t *sel)
{
    cache_list_t l;
    json_t *out = json_array();
    /* (claimable with no owner: the namespace's orphans, nothing parsed else) */
    if (!out || cache_list_claimable(ctrl_cache(rt, DS_CR_RESOURCE), kobj_namespace(ds), NULL, &l) < 0) return out;
    for (size_t i = 0; i < l.n; i++) {
        const json_t *cr = l.items[i];
        if (kobj_controller_uid(cr) || kobj_being_deleted(cr) || !selector_matches(sel, kobj_labels(cr))) continue;
        json_array_append_new(out, json_string(kobj_uid(cr)));
    }
    cache_list_free(&l);
    return out;
}
