/* cj_core.h - the CronJob controller's decisions, as pure functions.
 *
 * Owns: what upstream's cronjob_controllerv2.go and utils.go decide,
 * without I/O:
 *   - reading a CronJob's spec (schedule, timeZone, policies, limits);
 *   - the most recent unmet schedule time, the missed-schedule count and
 *     the delay until the next one (mostRecentScheduleTime,
 *     nextScheduleTimeDuration: +100 ms of padding);
 *   - the Job a CronJob makes for a scheduled time (name
 *     "<cronjob>-<minutes since the epoch>", template labels/annotations,
 *     the scheduled-timestamp annotation, a controller ownerReference);
 *   - Job state (finished / succeeded / completion time) and the order in
 *     which history limits delete finished Jobs (oldest start time first,
 *     name as tie breaker, Jobs that never started last);
 *   - status.active editing (ObjectReferences).
 * JSON arguments are borrowed; returned JSON is a new reference.
 * Times: unix seconds unless named _ms.
 */
#ifndef KUBUS_CJ_CORE_H
#define KUBUS_CJ_CORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cj_sched.h"

#define CJ_API_VERSION "batch/v1"
#define CJ_KIND "CronJob"
#define CJ_JOB_KIND "Job"
#define CJ_SCHEDULED_ANNOTATION "batch.kubernetes.io/cronjob-scheduled-timestamp"
#define CJ_NEXT_SCHEDULE_DELTA_MS 100   /* upstream nextScheduleDelta */
#define CJ_MANY_MISSED 100              /* more than this: TooManyMissedTimes */

typedef enum { CJ_ALLOW = 0, CJ_FORBID, CJ_REPLACE } cj_concurrency_t;

typedef struct {
    const char *schedule;          /* borrowed from the object */
    const char *time_zone;         /* NULL when unset */
    bool suspend;
    cj_concurrency_t concurrency;
    bool has_deadline;
    int64_t starting_deadline;     /* seconds */
    bool has_success_limit, has_failed_limit;
    int32_t success_limit, failed_limit;
    int64_t creation;              /* metadata.creationTimestamp */
    bool has_last_schedule;
    int64_t last_schedule;         /* status.lastScheduleTime */
} cj_spec_t;

/* Reads cj. 0, or -1 with the reason (no schedule, unknown
 * concurrencyPolicy, negative limits, no jobTemplate). */
int cj_spec_read(const json_t *cj, cj_spec_t *out, char *err, size_t errlen);

/* ---- schedule times --------------------------------------------------------------- */

typedef enum { CJ_MISSED_NONE = 0, CJ_MISSED_FEW, CJ_MISSED_MANY } cj_missed_t;

typedef struct {
    int64_t earliest_ms;      /* lastScheduleTime, else creation (raised to now - deadline if asked) */
    bool has_recent;
    int64_t recent;           /* the most recent schedule time <= now */
    cj_missed_t missed;
    int64_t missed_count;
} cj_recent_t;

/* upstream mostRecentScheduleTime. -1 when two consecutive schedule times
 * are less than a second apart (a schedule that never fires, e.g. Feb 30),
 * with the reason in err. */
int cj_most_recent(const cj_sched_t *s, const cj_spec_t *spec, int64_t now_ms, bool with_deadline,
                   cj_recent_t *out, char *err, size_t errlen);

/* upstream nextScheduleTimeDuration: ms until the next schedule time after
 * the most recent one (+100 ms), never negative. */
uint64_t cj_next_delay_ms(const cj_sched_t *s, const cj_spec_t *spec, int64_t now_ms);

/* "<name>-<t / 60>" */
int cj_job_name(const char *cj_name, int64_t scheduled, char *out, size_t outlen);

/* The Job for scheduled time t (NULL on OOM or a zone that cannot be
 * loaded). zone: the spec's timeZone (NULL = UTC) for the annotation. */
json_t *cj_job_from_template(const json_t *cj, int64_t scheduled, const char *zone);

/* ---- jobs --------------------------------------------------------------------------- */

typedef enum { CJ_JOB_RUNNING = 0, CJ_JOB_COMPLETE, CJ_JOB_FAILED } cj_job_state_t;

/* From the Complete / Failed conditions with status "True". */
cj_job_state_t cj_job_state(const json_t *job);
/* status.completionTime (0 if absent). */
int64_t cj_job_completion_time(const json_t *job);

/* Sorts jobs in deletion order for the history limits (upstream
 * byJobStartTime). */
void cj_sort_by_start_time(const json_t **jobs, size_t n);

/* How many of n finished jobs a limit removes (0 when within it). */
size_t cj_history_excess(size_t n, int32_t limit);

/* ---- status.active ------------------------------------------------------------------- */

bool cj_active_has_uid(const json_t *status, const char *uid);
bool cj_active_has_name(const json_t *status, const char *ns, const char *name);
/* Removes every entry with this uid; true if one was there. */
bool cj_active_remove(json_t *status, const char *uid);
/* Appends an ObjectReference to job (kind, namespace, name, uid,
 * apiVersion, resourceVersion). 0 or -1. */
int cj_active_add(json_t *status, const json_t *job);
size_t cj_active_count(const json_t *status);

#endif
