/* ds_revisions.c - the DaemonSet's ControllerRevisions on the runtime:
 * finding or creating the current one, renumbering after a rollback,
 * collisions, and deleting old ones past revisionHistoryLimit. See
 * ds_priv.h; the pure rules are in ds_history.c. */
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
#include "ctrl/satint.h"

/* ---- history -------------------------------------------------------------------------------- */

static void history_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)ud;
    if (res->ok || res->status == 404) return;
    LOGFV(1, "%s: controllerrevision %s failed (%u %s): will retry", res->owner_key, res->name, res->status,
          res->reason);
    ctrl_enqueue_rate_limited(rt, res->owner_key);
}

static void delete_history(ctrl_runtime_t *rt, const char *key, const json_t *cr)
{
    ctrl_action_spec_t sp = { .verb = KUBUS__V1__VERB__DELETE, .resource = DS_CR_RESOURCE,
                              .ns = kobj_namespace(cr), .name = kobj_name(cr), .precondition_uid = kobj_uid(cr),
                              .owner_key = key, .flags = CTRL_ACT_NO_EXPECT, .cb = history_done };
    ctrl_action(rt, &sp);
}

/* A revision name already taken by other content: count a collision so the
 * next hash differs (upstream bumps status.collisionCount). */
static void bump_collision(ctrl_runtime_t *rt, const char *key, const json_t *ds)
{
    json_t *copy = json_deep_copy(ds);
    json_t *st = copy ? json_object_get(copy, "status") : NULL;
    if (copy && !json_is_object(st)) {
        st = json_object();
        json_object_set_new(copy, "status", st);
    }
    if (!st) { json_decref(copy); return; }
    json_object_set_new(st, "collisionCount", json_integer(kobj_int(ds, "status.collisionCount", 0) + 1));
    ctrl_update_status(rt, key, DS_RESOURCE, &copy, ds_status_done, NULL);
}

/* upstream constructHistory. Returns the current revision, or NULL when
 * the sync has to wait (a revision is being created). *old gets the others. */
const json_t *ds_construct_history(ctrl_runtime_t *rt, const char *key, const json_t *ds, cache_list_t *all,
                                       const json_t **old, size_t *n_old)
{
    const json_t *cur = NULL;
    int64_t max_old = 0;
    *n_old = 0;
    for (size_t i = 0; i < all->n; i++) {
        const json_t *cr = all->items[i];
        if (kobj_being_deleted(cr)) continue;
        if (ds_history_matches(ds, cr)) {
            if (!cur || ds_history_revision(cr) > ds_history_revision(cur)) cur = cr;
            continue;
        }
        old[(*n_old)++] = cr;
        if (ds_history_revision(cr) > max_old) max_old = ds_history_revision(cr);
    }
    int64_t next = sat_add64(max_old, 1);
    if (cur) {
        if (ds_history_revision(cur) < next) {   /* a rollback: the revision moves to the top */
            json_t *copy = json_deep_copy(cur);
            if (copy && json_object_set_new(copy, "revision", json_integer(next)) == 0)
                ctrl_update(rt, key, DS_CR_RESOURCE, &copy, history_done, NULL);
            json_decref(copy);
        }
        return cur;
    }
    json_t *jc = kobj_get(ds, "status.collisionCount");
    int32_t collision = (int32_t)json_integer_value(jc);
    char hash[DS_HASH_MAX], name[320], id[700];
    if (ds_template_hash(kobj_get(ds, "spec.template"), json_is_integer(jc) ? &collision : NULL, hash,
                         sizeof hash) < 0)
        return NULL;
    snprintf(name, sizeof name, "%s-%s", kobj_name(ds), hash);
    expectations_create_id(id, sizeof id, DS_CR_RESOURCE, kobj_namespace(ds), name);
    if (expectations_expects_create(ctrl_expectations(rt), id)) return NULL;   /* already on its way */
    if (cache_get_ns(ctrl_cache(rt, DS_CR_RESOURCE), kobj_namespace(ds), name)) {
        bump_collision(rt, key, ds);
        return NULL;
    }
    json_t *cr = ds_history_new(ds, hash, next);
    if (cr) ctrl_create(rt, key, DS_CR_RESOURCE, &cr, history_done, NULL);
    json_decref(cr);
    return NULL;
}

void ds_cleanup_history(ctrl_runtime_t *rt, const view_t *v, const json_t **old, size_t n_old)
{
    if ((int64_t)n_old <= v->spec.revision_history_limit) return;
    json_t *live = json_object();
    const json_t **out = malloc((n_old + 1) * sizeof *out);
    if (live && out) {
        for (size_t i = 0; i < v->n_owned; i++) {
            const char *h = kobj_label(v->owned[i], DS_LABEL_HASH);
            if (h && *h) json_object_set_new(live, h, json_true());
        }
        size_t n = ds_history_to_delete(old, n_old, v->spec.revision_history_limit, live, out);
        for (size_t i = 0; i < n; i++) delete_history(rt, v->key, out[i]);
    }
    json_decref(live);
    free(out);
}

