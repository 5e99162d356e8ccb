/* gc_job.c - asynchronous GC work: holds, continuations, retries. See gc_job.h. */
#include "gc_job.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kubus.pb-c.h"

#define GC_RETRY_BASE_MS 50u
#define GC_RETRY_MAX_MS (5u * 60u * 1000u)

gc_job_t *gc_job_new(gc_ctl_t *c, const char *key, const gc_meta_t *item)
{
    gc_job_t *job = calloc(1, sizeof *job);
    if (!job) return NULL;
    job->ctl = c;
    snprintf(job->key, sizeof job->key, "%s", key);
    if (item && gc_meta_copy(&job->item, item) != 0) {
        free(job);
        return NULL;
    }
    size_t n = job->item.n_refs;
    if (n) {
        job->states = calloc(n, sizeof *job->states);
        job->tickets = calloc(n, sizeof *job->tickets);
        if (!job->states || !job->tickets) {
            gc_meta_clear(&job->item);
            free(job->states);
            free(job->tickets);
            free(job);
            return NULL;
        }
        for (size_t i = 0; i < n; i++) job->tickets[i] = (gc_ticket_t){job, i};
    }
    job->next = c->jobs;
    if (c->jobs) c->jobs->prev = job;
    c->jobs = job;
    c->n_jobs++;
    return job;
}

static void job_free(gc_job_t *job)
{
    gc_ctl_t *c = job->ctl;
    if (job->prev) job->prev->next = job->next;
    else c->jobs = job->next;
    if (job->next) job->next->prev = job->prev;
    c->n_jobs--;
    gc_meta_clear(&job->item);
    strmap_destroy(&job->uids);
    free(job->states);
    free(job->tickets);
    free(job);
}

static void job_end(gc_job_t *job)
{
    if (job->failed) gc_key_failed(job->ctl, job->key, job->why ? job->why : "failed");
    else gc_key_succeeded(job->ctl, job->key);
    job_free(job);
}

void gc_job_hold(gc_job_t *job)
{
    job->pending++;
}

void gc_job_release(gc_job_t *job)
{
    if (--job->pending > 0) return;
    void (*then)(gc_job_t *) = job->then;
    job->then = NULL;
    if (job->failed || !then) {
        job_end(job);
        return;
    }
    /* The step may issue more actions (holding the job again) or end it. */
    gc_job_hold(job);
    then(job);
    gc_job_release(job);
}

void gc_job_fail(gc_job_t *job, const char *why)
{
    if (!job->failed) job->why = why;
    job->failed = true;
}

void gc_job_issue_failed(gc_job_t *job, const char *why)
{
    job->pending--;   /* never reaches 0 here: the issuer holds the job */
    gc_job_fail(job, why);
}

void gc_jobs_free_all(gc_ctl_t *c)
{
    while (c->jobs) job_free(c->jobs);
}

/* ---- work key outcomes ------------------------------------------------------ */

void gc_key_succeeded(gc_ctl_t *c, const char *key)
{
    strmap_del(c->failures, key);
}

void gc_key_failed(gc_ctl_t *c, const char *key, const char *why)
{
    int *n = strmap_get(c->failures, key);
    if (!n) {
        n = calloc(1, sizeof *n);
        if (n && strmap_put(c->failures, key, n) != 0) {
            free(n);
            n = NULL;
        }
    }
    int tries = n ? *n : 0;
    if (n && *n < 30) (*n)++;
    uint64_t delay = tries >= 13 ? GC_RETRY_MAX_MS : (uint64_t)GC_RETRY_BASE_MS << tries;
    if (delay > GC_RETRY_MAX_MS) delay = GC_RETRY_MAX_MS;
    c->stats.retries++;
    char d[32];
    snprintf(d, sizeof d, "%llu", (unsigned long long)delay);
    LOGV(2, "garbage collector will retry", "key", key, "reason", why, "delayMs", d);
    ctrl_enqueue_after(c->rt, key, delay);
}

/* ---- what was done already ------------------------------------------------- */

void gc_acted_record(gc_ctl_t *c, const char *uid, const char *rv)
{
    if (!uid || !uid[0] || !rv || !rv[0]) return;
    char *v = strdup(rv);
    if (v && strmap_put(c->acted, uid, v) != 0) free(v);
}

bool gc_acted_pending(const gc_ctl_t *c, const gc_meta_t *m)
{
    const char *rv = m ? strmap_get(c->acted, m->uid) : NULL;
    return rv && strcmp(rv, m->resource_version) == 0;
}

void gc_acted_observed(gc_ctl_t *c, const char *uid, const char *rv)
{
    const char *was = strmap_get(c->acted, uid);
    if (was && (!rv || strcmp(was, rv) != 0)) strmap_del(c->acted, uid);
}

/* ---- issuing ---------------------------------------------------------------- */

void gc_job_get(gc_job_t *job, const char *resource, const char *ns, const char *name,
                ctrl_result_fn cb, void *ud)
{
    gc_job_hold(job);
    job->ctl->stats.gets++;
    if (!ctrl_get(job->ctl->rt, job->key, resource, ns, name, cb, ud))
        gc_job_issue_failed(job, "GET could not be issued");
}

void gc_job_patch(gc_job_t *job, const char *resource, const char *ns, const char *name,
                  json_t *patch, ctrl_result_fn cb, void *ud)
{
    gc_job_hold(job);
    job->ctl->stats.patches++;
    if (!ctrl_patch(job->ctl->rt, job->key, resource, ns, name, KUBUS__V1__PATCH_TYPE__JSON_PATCH,
                    &patch, cb, ud))
        gc_job_issue_failed(job, "PATCH could not be issued");
}

static int wire_propagation(gc_prop_t p)
{
    switch (p) {
    case GC_PROP_FOREGROUND: return KUBUS__V1__PROPAGATION__FOREGROUND;
    case GC_PROP_ORPHAN: return KUBUS__V1__PROPAGATION__ORPHAN;
    case GC_PROP_BACKGROUND: break;
    }
    return KUBUS__V1__PROPAGATION__BACKGROUND;
}

void gc_job_delete(gc_job_t *job, const char *resource, const char *ns, const char *name,
                   const char *uid, const char *rv, gc_prop_t prop, ctrl_result_fn cb)
{
    ctrl_action_spec_t spec = {
        .verb = KUBUS__V1__VERB__DELETE,
        .resource = resource,
        .ns = ns,
        .name = name,
        .propagation = wire_propagation(prop),
        .precondition_uid = uid,
        .precondition_rv = rv && rv[0] ? rv : NULL,
        .owner_key = job->key,
        .flags = CTRL_ACT_NO_EXPECT,   /* the GC waits on the graph, not on expectations */
        .cb = cb,
        .ud = job,
    };
    gc_job_hold(job);
    job->ctl->stats.deletes++;
    LOGV(2, "deleting object", "resource", resource, "namespace", ns, "name", name, "uid", uid,
         "propagationPolicy", gc_prop_name(prop));
    if (!ctrl_action(job->ctl->rt, &spec)) gc_job_issue_failed(job, "DELETE could not be issued");
}

void gc_job_on_mutation(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)rt;
    gc_job_t *job = ud;
    bool gone = res->status == 404;   /* the object went away by itself: nothing left to do */
    if (!res->ok && !gone) {
        char st[16];
        snprintf(st, sizeof st, "%u", (unsigned)res->status);
        LOGV(2, "garbage collector action refused", "key", job->key, "verb", msg_verb_name(res->verb),
             "name", res->name, "status", st, "reason", res->reason);
        gc_job_fail(job, res->status == 409 ? "conflict" : res->status == 422 ? "stale patch" : "action failed");
    } else if (res->ok && job->item.uid && strcmp(res->name, job->item.name) == 0 &&
               strcmp(res->ns, job->item.namespace_) == 0 && job->kind.resource &&
               strcmp(res->resource, job->kind.resource) == 0) {
        gc_acted_record(job->ctl, job->item.uid, job->item.resource_version);
    }
    gc_job_release(job);
}
