/* gc_decide.c - the garbage collector's decisions; see gc_decide.h. */
#include "gc_decide.h"

#include <string.h>

gc_item_work_t gc_decide_item_work(const gc_node_t *n)
{
    if (!n) return GC_ITEM_GONE;
    if (!gc_node_observed(n))
        return gc_node_confirmed_absent(n) ? GC_ITEM_SKIP : GC_ITEM_VERIFY_VIRTUAL;
    if (gc_node_deleting_dependents(n))
        return gc_node_blocking_count(n) ? GC_ITEM_WAIT_DEPENDENTS : GC_ITEM_FINISH_FOREGROUND;
    if (gc_node_being_deleted(n)) return GC_ITEM_SKIP;
    const gc_meta_t *m = gc_node_meta(n);
    return m && m->n_refs ? GC_ITEM_CLASSIFY : GC_ITEM_SKIP;
}

const char *gc_owner_namespace(const gc_meta_t *item, const gc_kind_t *kind)
{
    return kind->namespaced ? item->namespace_ : "";
}

/* The graph knows this owner as what the reference says, where the item may
 * refer to it (same namespace, or cluster-scoped). */
static bool graph_matches(const gc_node_t *o, const gc_meta_t *item, const gc_ref_t *ref)
{
    const char *ns = gc_node_namespace(o);
    if (ns[0] && strcmp(ns, item->namespace_) != 0) return false;
    if (strcmp(gc_node_name(o), ref->name) != 0) return false;
    return gc_same_group_kind(gc_node_api_version(o), gc_node_kind(o), ref->api_version, ref->kind);
}

gc_lookup_t gc_decide_lookup(const gc_graph_t *g, const gc_kinds_t *kinds, const gc_meta_t *item,
                             const gc_ref_t *ref, gc_kind_t *kind)
{
    if (!gc_kinds_lookup(kinds, ref->api_version, ref->kind, kind)) return GC_LOOKUP_UNCHECKABLE;
    if (!item->namespace_[0] && kind->namespaced) return GC_LOOKUP_INVALID;
    const gc_node_t *o = gc_graph_find(g, ref->uid);
    if (!o || !graph_matches(o, item, ref)) return GC_LOOKUP_GET;
    if (!gc_node_observed(o)) return gc_node_confirmed_absent(o) ? GC_LOOKUP_DANGLING : GC_LOOKUP_GET;
    /* Being deleted: whether it waits for us takes a fresh look. */
    return gc_node_being_deleted(o) ? GC_LOOKUP_GET : GC_LOOKUP_SOLID;
}

int gc_decide_owner_from_get(const gc_ref_t *ref, unsigned http_status, const json_t *obj,
                             gc_owner_state_t *out)
{
    if (http_status == 404) {
        *out = GC_OWNER_DANGLING;
        return 0;
    }
    if (http_status != 200) return -1;
    gc_meta_t m;
    char err[128];
    if (gc_meta_from_json(obj, ref->api_version, ref->kind, &m, err, sizeof err)) return -1;
    if (strcmp(m.uid, ref->uid) != 0) *out = GC_OWNER_DANGLING;  /* same name, another object */
    else if (gc_meta_deleting_dependents(&m)) *out = GC_OWNER_WAITING;
    else *out = GC_OWNER_SOLID;
    gc_meta_clear(&m);
    return 0;
}

int gc_decide_absent_from_get(const char *uid, unsigned http_status, const json_t *obj)
{
    if (http_status == 404) return 1;
    if (http_status != 200) return -1;
    gc_meta_t m;
    char err[128];
    if (gc_meta_from_json(obj, "v1", "Unknown", &m, err, sizeof err)) return -1;
    int absent = strcmp(m.uid, uid) != 0;
    gc_meta_clear(&m);
    return absent;
}

/* The item's own finalizers say how its deletion should propagate. */
static gc_prop_t own_propagation(const gc_meta_t *item)
{
    if (gc_meta_has_finalizer(item, GC_FINALIZER_ORPHAN)) return GC_PROP_ORPHAN;
    if (gc_meta_has_finalizer(item, GC_FINALIZER_FOREGROUND)) return GC_PROP_FOREGROUND;
    return GC_PROP_BACKGROUND;
}

gc_verdict_t gc_decide_dependent(const gc_meta_t *item, const gc_owner_state_t *states,
                                 bool has_dependents, bool dependent_deleting_dependents)
{
    gc_verdict_t v = {GC_ACT_NONE, GC_PROP_BACKGROUND};
    size_t solid = 0, dangling = 0, waiting = 0;
    for (size_t i = 0; i < item->n_refs; i++) {
        if (states[i] == GC_OWNER_SOLID) solid++;
        else if (states[i] == GC_OWNER_DANGLING) dangling++;
        else waiting++;
    }
    if (item->n_refs == 0) return v;
    if (solid) {
        if (dangling || waiting) v.act = GC_ACT_DROP_REFS;
        return v;
    }
    if (waiting && has_dependents) {
        v.act = dependent_deleting_dependents ? GC_ACT_UNBLOCK_AND_DELETE : GC_ACT_DELETE;
        v.propagation = GC_PROP_FOREGROUND;
        return v;
    }
    v.act = GC_ACT_DELETE;
    v.propagation = own_propagation(item);
    return v;
}

static bool dep_deleting(const gc_node_t *dep, bool blocking, void *arg)
{
    (void)blocking;
    if (gc_node_deleting_dependents(dep)) {
        *(bool *)arg = true;
        return false;
    }
    return true;
}

bool gc_any_dependent_deleting_dependents(const gc_node_t *n)
{
    bool found = false;
    gc_node_each_dependent(n, dep_deleting, &found);
    return found;
}

const char *gc_prop_name(gc_prop_t p)
{
    switch (p) {
    case GC_PROP_BACKGROUND: return "Background";
    case GC_PROP_FOREGROUND: return "Foreground";
    case GC_PROP_ORPHAN: return "Orphan";
    }
    return "?";
}

const char *gc_act_name(gc_act_t a)
{
    switch (a) {
    case GC_ACT_NONE: return "none";
    case GC_ACT_DROP_REFS: return "drop-refs";
    case GC_ACT_DELETE: return "delete";
    case GC_ACT_UNBLOCK_AND_DELETE: return "unblock-and-delete";
    }
    return "?";
}

const char *gc_owner_state_name(gc_owner_state_t s)
{
    switch (s) {
    case GC_OWNER_SOLID: return "solid";
    case GC_OWNER_DANGLING: return "dangling";
    case GC_OWNER_WAITING: return "waiting";
    }
    return "?";
}
