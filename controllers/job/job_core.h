/* job_core.h - the Job controller's decisions, as pure functions.
 *
 * Owns: what upstream's pkg/controller/job decides without any I/O, so
 * each rule is unit-tested on its own:
 *   - reading and checking a Job's spec (API defaults applied when absent);
 *   - what a pod is to its Job: tracked (has the job-tracking finalizer),
 *     failed, terminating, its finish time;
 *   - the pod-failure back-off record (10 s doubling, capped at 10 min,
 *     reset by a success) and the time left before the next pod may start;
 *   - how many pods the Job wants active;
 *   - the Job's conditions (find, ensure with upstream's rules);
 *   - the order in which surplus active pods are deleted;
 *   - the pod a Job's template makes.
 * Everything borrows its JSON arguments; functions returning JSON return a
 * new reference the caller owns.
 */
#ifndef KUBUS_JOB_CORE_H
#define KUBUS_JOB_CORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctrl/selector.h"

#define JOB_API_VERSION "batch/v1"
#define JOB_KIND "Job"
#define JOB_TRACKING_FINALIZER "batch.kubernetes.io/job-tracking"
#define JOB_MANAGED_BY_DEFAULT "kubernetes.io/job-controller"
#define JOB_COMPLETION_INDEX_KEY "batch.kubernetes.io/job-completion-index"
/* backoffLimitPerIndex: the failures of the pod's index before it (job_bpi.h) */
#define JOB_INDEX_FAILURE_COUNT_KEY "batch.kubernetes.io/job-index-failure-count"
#define JOB_INDEX_IGNORED_FAILURE_COUNT_KEY "batch.kubernetes.io/job-index-ignored-failure-count"
/* upstream DefaultJobPodFailureBackOff / MaxJobPodFailureBackOff */
#define JOB_POD_BACKOFF_BASE_MS 10000
#define JOB_POD_BACKOFF_MAX_MS (10 * 60 * 1000)
/* upstream MaxPodCreateDeletePerSync and MaxUncountedPods */
#define JOB_MAX_CREATE_DELETE 500
#define JOB_MAX_UNCOUNTED 500
/* upstream syncJobBatchPeriod: pod events and status-only Job updates */
#define JOB_SYNC_BATCH_MS 1000

/* ---- spec ---------------------------------------------------------------- */

typedef struct {
    int32_t parallelism;          /* default 1 */
    bool has_completions;         /* false: "any success completes" */
    int32_t completions;
    int32_t backoff_limit;        /* default 6; MaxInt32 with backoffLimitPerIndex, as the API defaults it */
    bool has_bpi;                 /* spec.backoffLimitPerIndex set (Indexed only) */
    int32_t backoff_limit_per_index;
    bool has_max_failed;          /* spec.maxFailedIndexes set (needs backoffLimitPerIndex) */
    int32_t max_failed_indexes;
    bool has_deadline;
    int64_t active_deadline_s;
    bool suspend;
    bool indexed;                 /* completionMode Indexed */
    bool only_replace_failed;     /* podReplacementPolicy Failed (or a podFailurePolicy) */
    bool has_pfp;                 /* a podFailurePolicy (job_pfp.h) decides how failures count */
    bool restart_on_failure;      /* template restartPolicy OnFailure */
    selector_t *selector;         /* owned */
} job_spec_t;

/* Reads and checks job. 0, or -1 with a reason in err (negative counts, a
 * missing/invalid/empty selector, an unknown completionMode, Indexed
 * without completions, backoffLimitPerIndex/maxFailedIndexes outside the
 * API's rules, a malformed podFailurePolicy). Nothing to free on error. */
int job_spec_read(const json_t *job, job_spec_t *out, char *err, size_t errlen);
void job_spec_free(job_spec_t *s);

/* spec.managedBy names another controller: the Job is not ours to sync. */
bool job_managed_elsewhere(const json_t *job);

/* ---- conditions ------------------------------------------------------------ */

/* The condition of this type in job.status.conditions, or NULL. */
const json_t *job_condition(const json_t *job, const char *type);
/* The condition of this type exists with status "True". */
bool job_condition_true(const json_t *job, const char *type);
/* upstream IsJobFinished: Complete or Failed is True. */
bool job_is_finished(const json_t *job);
/* A condition object {type, status, reason?, message?, lastProbeTime,
 * lastTransitionTime} (empty reason/message are left out). */
json_t *job_condition_new(const char *type, const char *status, const char *reason, const char *message,
                          int64_t now_sec);
/* upstream ensureJobConditionStatus on status.conditions (status: the
 * Job's status object, modified): replaces a condition of the type whose
 * status/reason/message differ, appends a missing one unless its status is
 * "False". True if the list changed. */
bool job_condition_ensure(json_t *status, const char *type, const char *cstatus, const char *reason,
                          const char *message, int64_t now_sec);

/* ---- pods ------------------------------------------------------------------- */

bool job_pod_tracked(const json_t *pod);                 /* has the job-tracking finalizer */
/* upstream isPodFailed: phase Failed; or, unless only failed pods are
 * replaced, being deleted without having succeeded. */
bool job_pod_failed(const json_t *pod, bool only_replace_failed);
/* Being deleted and not Succeeded/Failed (upstream IsPodTerminating). */
bool job_pod_terminating(const json_t *pod);
bool job_pod_succeeded(const json_t *pod);
/* upstream getFinishedTime, in unix ms: the latest container finishedAt
 * (when every container terminated, sidecars - restartable init
 * containers - included), else the Ready=False condition's
 * lastTransitionTime, else deletionTimestamp - grace period, else the
 * creation time. */
int64_t job_pod_finish_ms(const json_t *pod);
/* Sum of restartCounts (init and regular) of Running/Pending pods, for
 * restartPolicy OnFailure (upstream pastBackoffLimitOnFailure). */
bool job_past_backoff_on_failure(const job_spec_t *spec, const json_t *const *pods, size_t n);

/* ---- pod-failure back-off ----------------------------------------------------- */

typedef struct {
    int32_t failures;          /* consecutive failures since the last success */
    int64_t last_failure_ms;   /* finish time of the latest of them (0: none) */
} job_backoff_t;

/* upstream newBackoffRecord: folds the newly finished pods (not yet
 * counted) into prev. Arrays may be reordered. */
job_backoff_t job_backoff_update(job_backoff_t prev, const json_t **succeeded, size_t n_succeeded,
                                 const json_t **failed, size_t n_failed);
/* Ms to wait before creating pods again (0: now). */
int64_t job_backoff_remaining_ms(const job_backoff_t *b, int64_t now_ms);

/* ---- how many pods --------------------------------------------------------------- */

/* upstream manageJob's wantActive. */
int32_t job_want_active(const job_spec_t *spec, int32_t succeeded, int32_t active);
/* The job is complete with these counts (upstream: succeeded reached and
 * nothing active). */
bool job_complete(const job_spec_t *spec, int32_t succeeded, int32_t active);

/* Sorts active pods so the first are deleted first (upstream
 * controller.ActivePods): unscheduled < scheduled; Pending < Unknown <
 * Running; not ready < ready; ready for less time; more restarts; newer. */
void job_sort_for_removal(const json_t **pods, size_t n);

/* ---- Indexed -------------------------------------------------------------------- */

/* The pod's completion index (annotation), or -1 if absent/invalid. */
int32_t job_pod_index(const json_t *pod);
/* "1,3-5,7" for the set bits of done[0..n), as upstream writes it (a run
 * of two is "8,9", not "8-9"). Length written (truncated). */
int job_indexes_format(const bool *done, int32_t n, char *out, size_t outlen);
/* Parses "1,3-5" into done[0..n) (indexes >= n ignored). 0 or -1. */
int job_indexes_parse(const char *s, bool *done, int32_t n);

/* ---- the pod a Job makes ---------------------------------------------------------- */

/* generateName of the Job's pods: "<job>-", or "<job>-<index>-" with the
 * job name cut so the whole stays within 58 characters (upstream
 * podGenerateNameWithIndex). Length written. */
int job_pod_prefix(const json_t *job, int32_t index, char *out, size_t outlen);

/* Template labels/annotations/finalizers (+ the tracking finalizer), the
 * controller ownerReference, generateName "<job>-" ("<job>-<index>-" for
 * Indexed, index >= 0, with the completion index annotation/label, the
 * hostname and JOB_COMPLETION_INDEX env). NULL on OOM or no template. */
json_t *job_pod_from_template(const json_t *job, const char *name, int32_t index);
/* upstream addIndexFailureCountAnnotation on a pod from the template: the
 * failure count always, the ignored count only when above 0. 0 or -1 (OOM). */
int job_pod_set_index_failures(json_t *pod, int32_t failures, int32_t ignored);

#endif
