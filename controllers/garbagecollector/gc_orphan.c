/* gc_orphan.c - "O/<uid>" work: upstream's attemptToOrphan on the bus.
 *
 * Owns: orphaning the dependents of an owner deleted with
 * propagationPolicy=Orphan (orphan finalizer + deletionTimestamp): each
 * dependent gets a JSON patch removing the reference to the owner (tested on
 * its uid), and only when all succeeded - and no dependent appeared that this
 * job did not orphan - the owner's orphan finalizer is removed, which lets the
 * API server delete it. Cost: one PATCH per dependent, one for the owner.
 */
#include <stdio.h>
#include <string.h>

#include "gc_job.h"
#include "gc_patch.h"

static const char *owner_uid(const gc_job_t *job)
{
    return job->key + strlen(GC_KEY_ORPHAN);
}

static bool orphan_one(const gc_node_t *dep, bool blocking, void *arg)
{
    (void)blocking;
    gc_job_t *job = arg;
    const gc_meta_t *m = gc_node_meta(dep);
    gc_kind_t k;
    if (!m || !gc_kinds_lookup(&job->ctl->kinds, m->api_version, m->kind, &k)) return true;
    if (strmap_put(job->uids, m->uid, NULL) != 0) {
        gc_job_fail(job, "out of memory");
        return false;
    }
    json_t *patch = gc_patch_remove_owner(m, owner_uid(job));
    if (!patch) return true;
    LOGV(2, "orphaning dependent", "namespace", m->namespace_, "name", m->name, "kind", m->kind,
         "owner", job->item.name);
    gc_job_patch(job, k.resource, m->namespace_, m->name, patch, gc_job_on_mutation, job);
    return !job->failed;
}

static bool orphaned_by_us(const gc_node_t *dep, bool blocking, void *arg)
{
    (void)blocking;
    gc_job_t *job = arg;
    if (strmap_has(job->uids, gc_node_uid(dep))) return true;
    gc_job_fail(job, "a dependent appeared while orphaning");
    return false;
}

/* The continuation once every dependent is orphaned. */
static void remove_finalizer(gc_job_t *job)
{
    const gc_node_t *n = gc_graph_find(job->ctl->graph, owner_uid(job));
    if (!n || !gc_node_orphaning(n)) return;   /* done by someone, or gone */
    gc_node_each_dependent(n, orphaned_by_us, job);
    if (job->failed) return;
    const gc_meta_t *m = gc_node_meta(n);
    gc_kind_t k;
    json_t *patch = gc_patch_remove_finalizer(m, GC_FINALIZER_ORPHAN);
    if (!patch) return;
    if (!gc_kinds_lookup(&job->ctl->kinds, m->api_version, m->kind, &k)) {
        json_decref(patch);
        return;
    }
    LOGV(2, "dependents orphaned, removing the orphan finalizer", "namespace", m->namespace_, "name",
         m->name, "kind", m->kind);
    gc_job_patch(job, k.resource, m->namespace_, m->name, patch, gc_job_on_mutation, job);
}

int gc_attempt_orphan(gc_ctl_t *c, const char *key, const char *uid)
{
    const gc_node_t *n = gc_graph_find(c->graph, uid);
    if (!n || !gc_node_orphaning(n)) {
        gc_key_succeeded(c, key);
        return 0;
    }
    gc_job_t *job = gc_job_new(c, key, gc_node_meta(n));
    if (!job) return -1;
    job->uids = strmap_new(NULL);
    if (!job->uids) gc_job_fail(job, "out of memory");
    job->then = remove_finalizer;
    gc_job_hold(job);
    if (!job->failed) gc_node_each_dependent(n, orphan_one, job);
    gc_job_release(job);
    return 0;
}
