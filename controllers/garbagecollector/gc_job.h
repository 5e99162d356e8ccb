/* gc_job.h - one unit of asynchronous GC work (internal to the controller).
 *
 * Owns: a job's snapshot of the item it works on, its per-reference state,
 * and the counting that turns a batch of actions into one continuation:
 * every action issued holds the job; when the last answer releases it, the
 * job's `then` step runs (or, if something failed, the job ends and its key
 * is retried with back-off). The issuing code holds the job itself while it
 * issues, so an answer can never end a batch that is still being built.
 * Jobs live in the controller's list until they end, so those whose answers
 * never come (shutdown) are still freed.
 */
#ifndef KUBUS_GC_JOB_H
#define KUBUS_GC_JOB_H

#include <stdbool.h>

#include "ctrl/runtime.h"
#include "gc_ctl.h"
#include "gc_decide.h"
#include "gc_kinds.h"
#include "gc_meta.h"
#include "log.h"
#include "strmap.h"

#define GC_KEY_MAX (GC_MAX_UID + 8)
#define GC_KEY_DELETE "D/"
#define GC_KEY_ORPHAN "O/"

typedef struct gc_job gc_job_t;

/* Per-reference context handed to GET callbacks. */
typedef struct {
    gc_job_t *job;
    size_t ref;
} gc_ticket_t;

struct gc_job {
    gc_ctl_t *ctl;
    char key[GC_KEY_MAX];
    gc_meta_t item;            /* the item as the decision saw it */
    gc_kind_t kind;            /* the item's resource */
    gc_owner_state_t *states;  /* per item.refs[i] */
    gc_ticket_t *tickets;      /* per item.refs[i] */
    int pending;               /* holds: actions in flight + the issuer */
    bool failed;
    const char *why;           /* reason of the failure, for logs */
    strmap_t *uids;            /* orphaning: the dependents this job patched */
    int prop;                  /* the item's delete propagation (gc_prop_t) */
    void (*then)(gc_job_t *job);
    gc_job_t *prev, *next;
};

struct gc_ctl {
    ctrl_runtime_t *rt;
    gc_graph_t *graph;
    gc_kinds_t kinds;
    strmap_t *failures;        /* work key -> int* consecutive failures */
    strmap_t *acted;           /* uid -> the resourceVersion the GC changed it at */
    gc_job_t *jobs;
    size_t n_jobs;
    log_limit_t bad_input;
    gc_stats_t stats;
};

/* A job for key about item (copied; may be NULL). NULL on OOM. */
gc_job_t *gc_job_new(gc_ctl_t *c, const char *key, const gc_meta_t *item);
void gc_job_hold(gc_job_t *job);
/* Drops one hold; at zero runs `then`, or ends the job if it failed or has
 * no `then`. */
void gc_job_release(gc_job_t *job);
/* Marks the job failed (first reason wins). */
void gc_job_fail(gc_job_t *job, const char *why);
/* An action could not be issued: undo its hold and fail. */
void gc_job_issue_failed(gc_job_t *job, const char *why);

/* Work key outcome bookkeeping: success forgets failures; failure requeues
 * the key after 50 ms * 2^n (capped at 5 min). */
void gc_key_succeeded(gc_ctl_t *c, const char *key);
void gc_key_failed(gc_ctl_t *c, const char *key, const char *why);

/* What the GC already did to a version of an object: after a successful
 * DELETE or PATCH of a job's item, nothing more is to be done to it until
 * the informer shows a newer version (re-examining the stale one would only
 * send the same request again and get a 409/422 back). */
void gc_acted_record(gc_ctl_t *c, const char *uid, const char *rv);
/* True while the graph still shows the version m the GC acted on. */
bool gc_acted_pending(const gc_ctl_t *c, const gc_meta_t *m);
/* A newer version of uid (or its deletion) was observed. */
void gc_acted_observed(gc_ctl_t *c, const char *uid, const char *rv);

/* Frees every job (shutdown). */
void gc_jobs_free_all(gc_ctl_t *c);

/* Issuing helpers: each holds the job for its answer, counts the action,
 * and fails the job if it cannot be issued. patch is taken. */
void gc_job_get(gc_job_t *job, const char *resource, const char *ns, const char *name,
                ctrl_result_fn cb, void *ud);
void gc_job_patch(gc_job_t *job, const char *resource, const char *ns, const char *name,
                  json_t *patch, ctrl_result_fn cb, void *ud);
void gc_job_delete(gc_job_t *job, const char *resource, const char *ns, const char *name,
                   const char *uid, const char *rv, gc_prop_t prop, ctrl_result_fn cb);

/* Callback for a mutation whose success ends the work: ok (or a PATCH 404,
 * the object being gone) releases; anything else fails the job. */
void gc_job_on_mutation(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud);

/* The two kinds of work (gc_attempt.c, gc_orphan.c). Return 0, or -1 when
 * not even a job could be started (the runtime retries). */
int gc_attempt_delete(gc_ctl_t *c, const char *key, const char *uid);
int gc_attempt_orphan(gc_ctl_t *c, const char *key, const char *uid);

#endif
