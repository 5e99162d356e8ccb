/* sts_pvc.c - the claim retention policy as ownerReferences. See sts_pvc.h. */
#include "sts_pvc.h"

#include <string.h>

#include "ctrl/kobj.h"

typedef struct {
    const char *api_version, *kind, *name, *uid;
} owner_t;

static owner_t set_owner(const json_t *sts)
{
    return (owner_t){ "apps/v1", "StatefulSet", kobj_name(sts), kobj_uid(sts) };
}

static owner_t pod_owner(const json_t *pod)
{
    return (owner_t){ "v1", "Pod", kobj_name(pod), kobj_uid(pod) };
}

static bool matches_ref(const kobj_ownerref_t *r, const owner_t *o)
{
    return strcmp(r->api_version, o->api_version) == 0 && strcmp(r->kind, o->kind) == 0 &&
           strcmp(r->name, o->name) == 0;
}

/* A ref names o but carries another uid (o was replaced since). */
static bool has_stale_ref(const json_t *claim, const owner_t *o)
{
    kobj_ownerref_t r;
    for (size_t i = 0; i < kobj_ownerref_count(claim); i++)
        if (kobj_ownerref_at(claim, i, &r) == 0 && matches_ref(&r, o)) return strcmp(r.uid, o->uid) != 0;
    return false;
}

static bool has_ref_uid(const json_t *claim, const char *uid)
{
    kobj_ownerref_t r;
    for (size_t i = 0; i < kobj_ownerref_count(claim); i++)
        if (kobj_ownerref_at(claim, i, &r) == 0 && *uid && strcmp(r.uid, uid) == 0) return true;
    return false;
}

static bool retain_all(const sts_spec_t *spec) { return !spec->delete_when_deleted && !spec->delete_when_scaled; }

static bool unexpected_controller(const json_t *claim, const sts_spec_t *spec, const owner_t *set, const owner_t *pod)
{
    if (retain_all(spec)) return false;
    kobj_ownerref_t r;
    for (size_t i = 0; i < kobj_ownerref_count(claim); i++) {
        if (kobj_ownerref_at(claim, i, &r) < 0) continue;
        if (matches_ref(&r, set)) {
            if (strcmp(r.uid, set->uid) != 0) return true;
            continue;
        }
        if (matches_ref(&r, pod)) {
            if (strcmp(r.uid, pod->uid) != 0) return true;
            continue;
        }
        if (r.controller) return true;
    }
    return false;
}

static bool non_controller_owner(const json_t *claim, const owner_t *set, const owner_t *pod)
{
    kobj_ownerref_t r;
    for (size_t i = 0; i < kobj_ownerref_count(claim); i++) {
        if (kobj_ownerref_at(claim, i, &r) < 0) continue;
        bool ours = strcmp(r.uid, set->uid) == 0 || (*pod->uid && strcmp(r.uid, pod->uid) == 0);
        if (ours && !r.controller) return true;
    }
    return false;
}

/* Which refs the policy wants: to the set, to the pod. */
static void wanted(const sts_spec_t *spec, bool in_range, bool *want_set, bool *want_pod)
{
    *want_set = spec->delete_when_deleted && (in_range || !spec->delete_when_scaled);
    *want_pod = spec->delete_when_scaled && !in_range;
}

bool sts_claim_refs_ok(const json_t *claim, const json_t *sts, const sts_spec_t *spec, const json_t *pod,
                       bool pod_in_range)
{
    owner_t so = set_owner(sts), po = pod_owner(pod);
    if (has_stale_ref(claim, &so) || has_stale_ref(claim, &po)) return true;
    if (unexpected_controller(claim, spec, &so, &po))
        return !(has_ref_uid(claim, so.uid) || has_ref_uid(claim, po.uid));
    if (non_controller_owner(claim, &so, &po)) return false;
    bool want_set, want_pod;
    wanted(spec, pod_in_range, &want_set, &want_pod);
    /* whenDeleted=Delete, whenScaled=Retain keeps the set ref after scale-down too */
    if (spec->delete_when_deleted && !spec->delete_when_scaled) want_set = true;
    return has_ref_uid(claim, so.uid) == want_set && has_ref_uid(claim, po.uid) == want_pod;
}

static json_t *controller_ref(const owner_t *o)
{
    return json_pack("{s:s, s:s, s:s, s:s, s:b, s:b}", "apiVersion", o->api_version, "kind", o->kind, "name",
                     o->name, "uid", o->uid, "controller", 1, "blockOwnerDeletion", 1);
}

json_t *sts_claim_refs_wanted(const json_t *claim, const json_t *sts, const sts_spec_t *spec, const json_t *pod,
                              bool pod_in_range)
{
    owner_t so = set_owner(sts), po = pod_owner(pod);
    bool unexpected = unexpected_controller(claim, spec, &so, &po);
    json_t *refs = json_array(), *r;
    size_t i;
    json_array_foreach(kobj_get(claim, "metadata.ownerReferences"), i, r) {
        kobj_ownerref_t d;
        if (kobj_ownerref_at(claim, i, &d) == 0 && (matches_ref(&d, &so) || matches_ref(&d, &po))) continue;
        json_array_append(refs, r);
    }
    if (unexpected) return refs;
    bool want_set, want_pod;
    wanted(spec, pod_in_range, &want_set, &want_pod);
    if (spec->delete_when_deleted && !spec->delete_when_scaled) want_set = true;
    if (want_set) json_array_append_new(refs, controller_ref(&so));
    if (want_pod && *po.uid) json_array_append_new(refs, controller_ref(&po));
    return refs;
}
