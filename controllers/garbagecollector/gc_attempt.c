/* gc_attempt.c - "D/<uid>" work: upstream's attemptToDeleteItem on the bus.
 *
 * Owns: turning gc_decide's verdicts into GETs, PATCHes and DELETEs for one
 * item. The steps are asynchronous: a job snapshots the item, asks for its
 * owners (only those the graph cannot vouch for), and decides when the last
 * answer is in. Cost per item: one GET per owner not observed solid (usually
 * zero or one), then at most two mutations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gc_job.h"
#include "gc_patch.h"

/* ---- virtual nodes --------------------------------------------------------- */

static void on_verified(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)rt;
    gc_job_t *job = ud;
    const char *uid = job->key + strlen(GC_KEY_DELETE);
    int absent = gc_decide_absent_from_get(uid, res->status, res->object);
    if (absent < 0) {
        gc_job_fail(job, "owner lookup failed");
    } else if (absent) {
        LOGV(2, "owner confirmed absent by the API server", "uid", uid, "name", res->name);
        gc_graph_confirm_absent(job->ctl->graph, uid);
    } else {
        const gc_node_t *n = gc_graph_find(job->ctl->graph, uid);
        /* exists: its informer event is on the way (upstream requeues too) */
        if (n && !gc_node_observed(n) && job->kind.watched) gc_job_fail(job, "owner not observed yet");
    }
    gc_job_release(job);
}

static int verify_virtual(gc_ctl_t *c, const char *key, const gc_node_t *n)
{
    gc_kind_t k;
    if (!gc_kinds_lookup(&c->kinds, gc_node_api_version(n), gc_node_kind(n), &k) ||
        (k.namespaced && !gc_node_namespace(n)[0])) {
        gc_key_succeeded(c, key);   /* cannot be verified: its dependents stay */
        return 0;
    }
    gc_job_t *job = gc_job_new(c, key, NULL);
    if (!job) return -1;
    job->kind = k;
    gc_job_hold(job);
    gc_job_get(job, k.resource, k.namespaced ? gc_node_namespace(n) : "", gc_node_name(n),
               on_verified, job);
    gc_job_release(job);
    return 0;
}

/* ---- foreground owners ----------------------------------------------------- */

static bool push_blocking(const gc_node_t *dep, bool blocking, void *arg)
{
    gc_ctl_t *c = arg;
    if (!blocking || gc_node_deleting_dependents(dep)) return true;
    char key[GC_KEY_MAX];
    snprintf(key, sizeof key, "%s%s", GC_KEY_DELETE, gc_node_uid(dep));
    ctrl_enqueue(c->rt, key);
    return true;
}

static int finish_foreground(gc_ctl_t *c, const char *key, const gc_node_t *n)
{
    const gc_meta_t *m = gc_node_meta(n);
    gc_kind_t k;
    json_t *patch = gc_patch_remove_finalizer(m, GC_FINALIZER_FOREGROUND);
    if (!patch || !gc_kinds_lookup(&c->kinds, m->api_version, m->kind, &k)) {
        json_decref(patch);
        gc_key_succeeded(c, key);
        return 0;
    }
    gc_job_t *job = gc_job_new(c, key, m);
    if (!job) {
        json_decref(patch);
        return -1;
    }
    job->kind = k;
    LOGV(2, "no blocking dependents left, removing the foregroundDeletion finalizer", "namespace",
         m->namespace_, "name", m->name, "kind", m->kind);
    gc_job_hold(job);
    gc_job_patch(job, k.resource, m->namespace_, m->name, patch, gc_job_on_mutation, job);
    gc_job_release(job);
    return 0;
}

/* ---- owners of an item ----------------------------------------------------- */

static bool uid_asked_before(const gc_meta_t *m, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(m->refs[j].uid, m->refs[i].uid) == 0) return true;
    return false;
}

/* The API server says the graph's virtual node for this owner is gone (only
 * when the GET looked where the node lives, under its name). */
static void note_absent(gc_job_t *job, const gc_ref_t *ref)
{
    gc_kind_t k;
    const gc_node_t *o = gc_graph_find(job->ctl->graph, ref->uid);
    if (!o || gc_node_observed(o) || gc_node_confirmed_absent(o)) return;
    if (!gc_kinds_lookup(&job->ctl->kinds, ref->api_version, ref->kind, &k)) return;
    if (strcmp(gc_node_namespace(o), gc_owner_namespace(&job->item, &k)) != 0) return;
    if (strcmp(gc_node_name(o), ref->name) != 0) return;
    gc_graph_confirm_absent(job->ctl->graph, ref->uid);
}

static void on_owner(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)rt;
    gc_ticket_t *t = ud;
    gc_job_t *job = t->job;
    const gc_ref_t *ref = &job->item.refs[t->ref];
    gc_owner_state_t st;
    if (gc_decide_owner_from_get(ref, res->status, res->object, &st) < 0) {
        gc_job_fail(job, "owner lookup failed");
    } else {
        for (size_t j = 0; j < job->item.n_refs; j++)
            if (strcmp(job->item.refs[j].uid, ref->uid) == 0) job->states[j] = st;
        if (st == GC_OWNER_DANGLING) note_absent(job, ref);
    }
    gc_job_release(job);
}

static bool same_owner_uids(const gc_meta_t *a, const gc_meta_t *b)
{
    for (size_t i = 0; i < a->n_refs; i++)
        if (!gc_meta_ref_by_uid(b, a->refs[i].uid)) return false;
    for (size_t i = 0; i < b->n_refs; i++)
        if (!gc_meta_ref_by_uid(a, b->refs[i].uid)) return false;
    return true;
}

/* ---- deleting the item ----------------------------------------------------- */

/* The verdict's propagation, kept for a retry without the resourceVersion. */
static gc_prop_t job_prop(const gc_job_t *job)
{
    return (gc_prop_t)job->prop;
}

static void delete_uid_only(gc_job_t *job)
{
    const gc_meta_t *m = &job->item;
    gc_job_delete(job, job->kind.resource, m->namespace_, m->name, m->uid, NULL, job_prop(job),
                  gc_job_on_mutation);
}

/* Upstream's answer to a conflicted delete: the object changed since the
 * decision, but if its owners did not, the decision stands. */
static void on_item_reread(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)rt;
    gc_job_t *job = ud;
    gc_meta_t live;
    char err[128];
    if (res->status == 404) {
        job->then = NULL;   /* gone meanwhile */
    } else if (!res->ok || gc_meta_from_json(res->object, job->item.api_version, job->item.kind,
                                             &live, err, sizeof err) != 0) {
        gc_job_fail(job, "item lookup failed");
    } else {
        bool same = strcmp(live.uid, job->item.uid) == 0 && gc_meta_same_refs(&live, &job->item);
        if (same) job->then = delete_uid_only;
        else gc_job_fail(job, "owners changed since the decision");
        gc_meta_clear(&live);
    }
    gc_job_release(job);
}

static void reread_item(gc_job_t *job)
{
    const gc_meta_t *m = &job->item;
    gc_job_get(job, job->kind.resource, m->namespace_, m->name, on_item_reread, job);
}

static void on_item_deleted(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    gc_job_t *job = ud;
    if (res->status == 409) {
        job->then = reread_item;
        gc_job_release(job);
        return;
    }
    gc_job_on_mutation(rt, res, ud);
}

static void delete_item(gc_job_t *job, gc_prop_t prop)
{
    const gc_meta_t *m = &job->item;
    job->prop = (int)prop;
    gc_job_delete(job, job->kind.resource, m->namespace_, m->name, m->uid, m->resource_version, prop,
                  on_item_deleted);
}

static void delete_foreground(gc_job_t *job)
{
    delete_item(job, GC_PROP_FOREGROUND);
}

/* After making its references non-blocking, delete the item only if its
 * owners are still the ones that were classified, at the new version. */
static void on_unblocked(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)rt;
    gc_job_t *job = ud;
    gc_meta_t now;
    char err[128];
    if (!res->ok) {
        if (res->status == 404) job->then = NULL;   /* gone already */
        else gc_job_fail(job, "unblock patch failed");
    } else if (gc_meta_from_json(res->object, job->item.api_version, job->item.kind, &now, err,
                                 sizeof err) != 0) {
        gc_job_fail(job, "unblock patch returned no usable object");
    } else {
        if (!same_owner_uids(&job->item, &now)) gc_job_fail(job, "owners changed");
        char *rv = strdup(now.resource_version);
        if (rv) {
            free(job->item.resource_version);
            job->item.resource_version = rv;
        } else {
            gc_job_fail(job, "out of memory");
        }
        gc_meta_clear(&now);
    }
    gc_job_release(job);
}

static void drop_refs(gc_job_t *job)
{
    const gc_meta_t *m = &job->item;
    bool *drop = calloc(m->n_refs, sizeof *drop);
    if (!drop) {
        gc_job_fail(job, "out of memory");
        return;
    }
    for (size_t i = 0; i < m->n_refs; i++) drop[i] = job->states[i] != GC_OWNER_SOLID;
    json_t *patch = gc_patch_remove_refs(m, drop);
    free(drop);
    if (!patch) return;
    LOGV(2, "item has a solid owner; removing dangling and waiting references", "namespace",
         m->namespace_, "name", m->name, "kind", m->kind);
    gc_job_patch(job, job->kind.resource, m->namespace_, m->name, patch, gc_job_on_mutation, job);
}

static void log_verdict(const gc_job_t *job, gc_verdict_t v)
{
    if (!log_v_enabled_at(2, __FILE__)) return;
    char states[256] = "";
    size_t used = 0;
    for (size_t i = 0; i < job->item.n_refs && used < sizeof states; i++)
        used += (size_t)snprintf(states + used, sizeof states - used, "%s%s=%s", i ? "," : "",
                                 job->item.refs[i].name, gc_owner_state_name(job->states[i]));
    LOGV(2, "classified owners", "namespace", job->item.namespace_, "name", job->item.name, "kind",
         job->item.kind, "owners", states, "action", gc_act_name(v.act), "propagation",
         gc_prop_name(v.propagation));
}

/* The continuation once every owner is classified. */
static void decide(gc_job_t *job)
{
    const gc_node_t *n = gc_graph_find(job->ctl->graph, job->item.uid);
    if (!n || !gc_node_observed(n)) return;   /* gone meanwhile */
    gc_verdict_t v = gc_decide_dependent(&job->item, job->states, gc_node_dependent_count(n) > 0,
                                         gc_any_dependent_deleting_dependents(n));
    log_verdict(job, v);
    const gc_meta_t *m = &job->item;
    json_t *patch;
    switch (v.act) {
    case GC_ACT_NONE:
        return;
    case GC_ACT_DROP_REFS:
        drop_refs(job);
        return;
    case GC_ACT_DELETE:
        delete_item(job, v.propagation);
        return;
    case GC_ACT_UNBLOCK_AND_DELETE:
        patch = gc_patch_unblock_refs(m);
        if (!patch) {
            delete_foreground(job);
            return;
        }
        job->then = delete_foreground;
        gc_job_patch(job, job->kind.resource, m->namespace_, m->name, patch, on_unblocked, job);
        return;
    }
}

static int classify(gc_ctl_t *c, const char *key, const gc_node_t *n)
{
    gc_job_t *job = gc_job_new(c, key, gc_node_meta(n));
    if (!job) return -1;
    if (!gc_kinds_lookup(&c->kinds, job->item.api_version, job->item.kind, &job->kind))
        job->kind.resource = NULL;
    job->then = job->kind.resource ? decide : NULL;
    gc_job_hold(job);
    for (size_t i = 0; i < job->item.n_refs && job->then; i++) {
        const gc_ref_t *ref = &job->item.refs[i];
        if (uid_asked_before(&job->item, i)) continue;
        gc_kind_t k;
        switch (gc_decide_lookup(c->graph, &c->kinds, &job->item, ref, &k)) {
        case GC_LOOKUP_SOLID:
        case GC_LOOKUP_UNCHECKABLE:
            job->states[i] = GC_OWNER_SOLID;
            break;
        case GC_LOOKUP_DANGLING:
            job->states[i] = GC_OWNER_DANGLING;
            break;
        case GC_LOOKUP_INVALID:
            /* will not resolve by retrying (upstream forgets the item) */
            LOGV(2, "cluster-scoped item refers to a namespaced owner; leaving it alone", "name",
                 job->item.name, "kind", job->item.kind, "owner", ref->name);
            job->then = NULL;
            break;
        case GC_LOOKUP_GET:
            gc_job_get(job, k.resource, gc_owner_namespace(&job->item, &k), ref->name, on_owner,
                       &job->tickets[i]);
            break;
        }
    }
    /* states of duplicate references follow their first */
    for (size_t i = 0; i < job->item.n_refs; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(job->item.refs[j].uid, job->item.refs[i].uid) == 0) job->states[i] = job->states[j];
    gc_job_release(job);
    return 0;
}

int gc_attempt_delete(gc_ctl_t *c, const char *key, const char *uid)
{
    const gc_node_t *n = gc_graph_find(c->graph, uid);
    if (n && gc_acted_pending(c, gc_node_meta(n))) {
        gc_key_succeeded(c, key);   /* our last change to it is not observed yet */
        return 0;
    }
    switch (gc_decide_item_work(n)) {
    case GC_ITEM_GONE:
    case GC_ITEM_SKIP:
        break;
    case GC_ITEM_WAIT_DEPENDENTS:
        gc_node_each_dependent(n, push_blocking, c);
        break;
    case GC_ITEM_VERIFY_VIRTUAL:
        return verify_virtual(c, key, n);
    case GC_ITEM_FINISH_FOREGROUND:
        return finish_foreground(c, key, n);
    case GC_ITEM_CLASSIFY:
        return classify(c, key, n);
    }
    gc_key_succeeded(c, key);
    return 0;
}
