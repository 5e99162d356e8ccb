/* job_metrics.h - upstream's Job controller metrics.
 *
 * Owns: the job_controller_* families kube-controller-manager's Job
 * controller exposes, with its names, types, help texts (with the
 * stability prefix component-base adds), labels and buckets:
 *   job_controller_job_sync_duration_seconds{completion_mode,result,action}
 *     (STABLE histogram, buckets 0.004 * 2^i, i = 0..14),
 *   job_controller_job_syncs_total{completion_mode,result,action} (STABLE),
 *   job_controller_jobs_finished_total{completion_mode,result,reason} (STABLE),
 *   job_controller_job_pods_finished_total{completion_mode,result} (STABLE),
 *   job_controller_jobs_by_external_controller_total{controller_name} (ALPHA).
 * completion_mode is "Indexed" or "NonIndexed"; sync results "success" or
 * "error"; finished results "succeeded" or "failed". A family with no
 * series yet is left out, as the Go client leaves out an empty vector.
 */
#ifndef KUBUS_JOB_METRICS_H
#define KUBUS_JOB_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "sbuf.h"

typedef enum {
    JOB_ACTION_RECONCILING,     /* upstream's default: manageJob was not called */
    JOB_ACTION_TRACKING,        /* manageJob made no pods and deleted none */
    JOB_ACTION_PODS_CREATED,
    JOB_ACTION_PODS_DELETED,
    JOB_ACTION_COUNT
} job_action_t;

typedef struct job_metrics job_metrics_t;

job_metrics_t *job_metrics_new(void);
void job_metrics_destroy(job_metrics_t **m);
/* One sync that got as far as upstream's deferred observation. */
void job_metrics_sync(job_metrics_t *m, bool indexed, bool ok, job_action_t action, double seconds);
/* A Job's final condition written: succeeded (Complete) or failed, its reason. */
void job_metrics_finished(job_metrics_t *m, bool indexed, bool succeeded, const char *reason);
/* Pods newly counted by a status write (negative or zero: nothing). */
void job_metrics_pods_finished(job_metrics_t *m, bool indexed, bool succeeded, int64_t n);
/* A Job added whose spec.managedBy names another controller. */
void job_metrics_external(job_metrics_t *m, const char *controller_name);
void job_metrics_render(const job_metrics_t *m, sbuf_t *out);

#endif
