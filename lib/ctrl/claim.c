/* claim.c - controller references: routing, adopt/release patches,
 * adoption after a live GET. See claim.h. */
#include "ctrl/claim.h"

#include <stdlib.h>
#include <string.h>

#include "ctrl/runtime.h"
#include "ctrl/selector.h"
#include "log.h"
#include "strmap.h"

/* ---- owners and routing ------------------------------------------------------ */

bool ctrl_spec_selects(const json_t *owner, const json_t *obj)
{
    char err[128];
    selector_t *sel = selector_compile(kobj_get(owner, "spec.selector"), err, sizeof err);
    bool hit = sel && !selector_is_empty(sel) && !selector_is_nothing(sel) && selector_matches(sel, kobj_labels(obj));
    selector_destroy(&sel);
    return hit;
}

bool ctrl_owner_selects(const ctrl_owner_t *o, const json_t *owner, const json_t *obj)
{
    return o->selects ? o->selects(o, owner, obj) : ctrl_spec_selects(owner, obj);
}

/* The API group of an apiVersion: "apps" of "apps/v1", "" of "v1". */
static size_t group_len(const char *api_version)
{
    const char *slash = strchr(api_version, '/');
    return slash ? (size_t)(slash - api_version) : 0;
}

static bool same_group(const char *want, const char *got)
{
    size_t n = group_len(want);
    return n == group_len(got) && strncmp(want, got, n) == 0;
}

const json_t *ctrl_owner_resolve(ctrl_runtime_t *rt, const ctrl_owner_t *o, const char *ns,
                                 const kobj_ownerref_t *ref)
{
    if (strcmp(ref->kind, o->kind) != 0 || !same_group(o->api_version, ref->api_version)) return NULL;
    cache_t *cache = ctrl_cache(rt, o->resource);
    const json_t *owner = cache ? cache_get_ns(cache, ns, ref->name) : NULL;
    return owner && strcmp(kobj_uid(owner), ref->uid) == 0 ? owner : NULL;
}

const json_t *ctrl_owner_of(ctrl_runtime_t *rt, const ctrl_owner_t *o, const json_t *obj)
{
    kobj_ownerref_t ref;
    if (!obj || kobj_controller_ref(obj, &ref) != 0) return NULL;
    return ctrl_owner_resolve(rt, o, kobj_namespace(obj), &ref);
}

/* Queues owner, after o's batch period if it has one. */
static void enqueue_owner(ctrl_runtime_t *rt, const ctrl_owner_t *o, const json_t *owner)
{
    char key[512];
    if (!o->enqueue_after_ms) ctrl_enqueue_obj(rt, owner);
    else if (kobj_key(owner, key, sizeof key) > 0) ctrl_enqueue_after(rt, key, o->enqueue_after_ms);
}

void ctrl_enqueue_controller(ctrl_runtime_t *rt, const ctrl_owner_t *o, const json_t *obj)
{
    const json_t *owner = ctrl_owner_of(rt, o, obj);
    if (owner) enqueue_owner(rt, o, owner);
}

void ctrl_enqueue_selecting(ctrl_runtime_t *rt, const ctrl_owner_t *o, const json_t *obj)
{
    cache_list_t l;
    cache_t *cache = ctrl_cache(rt, o->resource);
    if (!obj || o->no_orphans || !cache || cache_list_namespace(cache, kobj_namespace(obj), &l) < 0) return;
    for (size_t i = 0; i < l.n; i++)
        if (ctrl_owner_selects(o, l.items[i], obj)) enqueue_owner(rt, o, l.items[i]);
    cache_list_free(&l);
}

void ctrl_enqueue_owners(ctrl_runtime_t *rt, const ctrl_owner_t *o, const json_t *obj)
{
    if (kobj_controller_uid(obj)) ctrl_enqueue_controller(rt, o, obj);
    else ctrl_enqueue_selecting(rt, o, obj);
}

static bool labels_equal(const json_t *a, const json_t *b)
{
    json_t *la = kobj_labels(a), *lb = kobj_labels(b);
    if (!la || !lb) return json_object_size(la) == json_object_size(lb);
    return json_equal(la, lb);
}

void ctrl_route_owned(ctrl_runtime_t *rt, const ctrl_owner_t *o, cache_change_t change, const json_t *old_obj,
                      const json_t *new_obj)
{
    if (change != CACHE_MODIFIED) {
        ctrl_enqueue_owners(rt, o, new_obj ? new_obj : old_obj);
        return;
    }
    const char *ou = kobj_controller_uid(old_obj), *nu = kobj_controller_uid(new_obj);
    bool ref_changed = (ou == NULL) != (nu == NULL) || (ou && nu && strcmp(ou, nu) != 0);
    if (ref_changed || !labels_equal(old_obj, new_obj)) ctrl_enqueue_owners(rt, o, old_obj);
    ctrl_enqueue_owners(rt, o, new_obj);
}

/* ---- adopting and releasing ----------------------------------------------------- */

/* Adds {field: [finalizer]} to patch's metadata (a NULL finalizer: none).
 * patch, or NULL (freed) on OOM. */
static json_t *with_finalizer(json_t *patch, const char *field, const char *finalizer)
{
    if (!patch || !finalizer) return patch;
    if (json_object_set_new(json_object_get(patch, "metadata"), field, json_pack("[s]", finalizer)) < 0) {
        json_decref(patch);
        return NULL;
    }
    return patch;
}

json_t *ctrl_adopt_patch(const ctrl_owner_t *o, const json_t *owner, const json_t *obj)
{
    json_t *ref = kobj_new_controller_ref(o->api_version, o->kind, owner);
    if (!ref) return NULL;
    json_t *p = json_pack("{s:{s:[o], s:s}}", "metadata", "ownerReferences", ref, "uid", kobj_uid(obj));
    return with_finalizer(p, "finalizers", o->finalizer);
}

json_t *ctrl_release_patch(const json_t *owner, const json_t *obj)
{
    return json_pack("{s:{s:[{s:s, s:s}], s:s}}", "metadata", "ownerReferences", "$patch", "delete", "uid",
                     kobj_uid(owner), "uid", kobj_uid(obj));
}

json_t *ctrl_release_patch_as(const ctrl_owner_t *o, const json_t *owner, const json_t *obj)
{
    return with_finalizer(ctrl_release_patch(owner, obj), "$deleteFromPrimitiveList/finalizers", o->finalizer);
}

static uint64_t issue(ctrl_runtime_t *rt, const char *key, const char *resource, const json_t *obj, json_t *patch,
                      ctrl_result_fn cb, void *ud)
{
    if (!patch) return 0;
    return ctrl_patch(rt, key, resource, kobj_namespace(obj), kobj_name(obj), KUBUS__V1__PATCH_TYPE__STRATEGIC,
                      &patch, cb, ud);
}

uint64_t ctrl_adopt(ctrl_runtime_t *rt, const char *key, const ctrl_owner_t *o, const json_t *owner,
                    const char *resource, const json_t *obj, ctrl_result_fn cb, void *ud)
{
    return issue(rt, key, resource, obj, ctrl_adopt_patch(o, owner, obj), cb, ud);
}

uint64_t ctrl_release(ctrl_runtime_t *rt, const char *key, const json_t *owner, const char *resource,
                      const json_t *obj, ctrl_result_fn cb, void *ud)
{
    return issue(rt, key, resource, obj, ctrl_release_patch(owner, obj), cb, ud);
}

uint64_t ctrl_release_as(ctrl_runtime_t *rt, const char *key, const ctrl_owner_t *o, const json_t *owner,
                         const char *resource, const json_t *obj, ctrl_result_fn cb, void *ud)
{
    return issue(rt, key, resource, obj, ctrl_release_patch_as(o, owner, obj), cb, ud);
}

void ctrl_claim_done(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)ud;
    /* gone, or replaced under the same name (uid in the patch): nothing to claim */
    if (res->ok || res->status == 404 || res->status == 409 || res->status == 422) return;
    LOGW("adopting/releasing failed", "owner", res->owner_key, "resource", res->resource, "name", res->name,
         "reason", res->message);
    ctrl_enqueue_rate_limited(rt, res->owner_key);
}

/* ---- adoption after a live GET --------------------------------------------------- */

typedef struct {
    char *uid;        /* the owner's when the adoption started */
    char *resource;   /* of the orphans */
    json_t *uids;     /* the orphans' */
} pending_t;

struct ctrl_adopter {
    ctrl_adopter_config_t cfg;
    strmap_t *pending;   /* owner key -> pending_t, while the GET is out */
};

static void pending_free(void *v)
{
    pending_t *p = v;
    if (!p) return;
    free(p->uid);
    free(p->resource);
    json_decref(p->uids);
    free(p);
}

ctrl_adopter_t *ctrl_adopter_new(const ctrl_adopter_config_t *cfg)
{
    ctrl_adopter_t *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->cfg = *cfg;
    if (!a->cfg.done) a->cfg.done = ctrl_claim_done;
    a->pending = strmap_new(pending_free);
    if (!a->pending) {
        free(a);
        return NULL;
    }
    return a;
}

void ctrl_adopter_destroy(ctrl_adopter_t **ap)
{
    if (!ap || !*ap) return;
    strmap_destroy(&(*ap)->pending);
    free(*ap);
    *ap = NULL;
}

static void adopt_all(ctrl_adopter_t *a, ctrl_runtime_t *rt, const char *key, const json_t *owner,
                      const pending_t *p)
{
    const ctrl_adopter_config_t *c = &a->cfg;
    cache_t *cache = ctrl_cache(rt, p->resource);
    size_t i;
    json_t *u;
    json_array_foreach(p->uids, i, u) {
        const json_t *obj = cache ? cache_get_by_uid(cache, json_string_value(u)) : NULL;
        if (!obj || kobj_controller_uid(obj) || kobj_being_deleted(obj) || !ctrl_owner_selects(c->owner, owner, obj) ||
            (c->still && !c->still(owner, obj, c->ud)))
            continue;   /* changed meanwhile */
        LOGV(1, "adopting", "owner", key, "resource", p->resource, "name", kobj_name(obj));
        if (c->adopt) c->adopt(rt, key, owner, p->resource, obj, c->ud);
        else ctrl_adopt(rt, key, c->owner, owner, p->resource, obj, c->done, c->ud);
    }
}

static void after_get(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    ctrl_adopter_t *a = ud;
    pending_t *p = strmap_take(a->pending, res->owner_key);
    if (!p) return;
    if (!res->ok || !res->object) {
        if (res->status != 404) ctrl_enqueue_rate_limited(rt, res->owner_key);
        pending_free(p);
        return;
    }
    cache_t *cache = ctrl_cache(rt, a->cfg.owner->resource);
    const json_t *owner = cache ? cache_get(cache, res->owner_key) : NULL;
    if (!owner || strcmp(kobj_uid(owner), p->uid) != 0 || strcmp(kobj_uid(res->object), p->uid) != 0 ||
        kobj_being_deleted(res->object)) {
        LOGFI("%s: not adopting: the %s is gone, replaced or being deleted", res->owner_key, a->cfg.owner->kind);
    } else {
        /* resync: whatever changed meanwhile (already adopted, relabelled),
         * look again; a sync that finds nothing left to patch has no event
         * to wake it */
        if (a->cfg.resync) ctrl_enqueue(rt, res->owner_key);
        adopt_all(a, rt, res->owner_key, owner, p);
    }
    pending_free(p);
}

int ctrl_adopter_start(ctrl_adopter_t *a, ctrl_runtime_t *rt, const char *key, const json_t *owner,
                       const char *resource, json_t **uids)
{
    pending_t *p = calloc(1, sizeof *p);
    if (p) {
        p->uids = *uids;
        p->uid = strdup(kobj_uid(owner));
        p->resource = strdup(resource);
    } else {
        json_decref(*uids);
    }
    *uids = NULL;
    if (!p || !p->uid || !p->resource || strmap_put(a->pending, key, p) < 0) {
        pending_free(p);
        ctrl_enqueue_rate_limited(rt, key);
        return -1;
    }
    if (ctrl_get(rt, key, a->cfg.owner->resource, kobj_namespace(owner), kobj_name(owner), after_get, a) == 0) {
        strmap_del(a->pending, key);
        ctrl_enqueue_rate_limited(rt, key);
        return -1;
    }
    return 0;
}
