/* cj_metrics.h - upstream's CronJob controller metric.
 *
 * Owns: cronjob_controller_job_creation_skew_duration_seconds (STABLE
 * histogram without labels, buckets 1, 2, 4, ... 512 s: upstream's
 * ExponentialBuckets(1, 2, 10)): for every Job the controller created,
 * its creationTimestamp minus the schedule time it was made for. As
 * upstream's plain histogram it is shown from the start, with zero counts.
 */
#ifndef KUBUS_CJ_METRICS_H
#define KUBUS_CJ_METRICS_H

#include <stdint.h>

#include "promtext.h"
#include "sbuf.h"

void cj_metrics_init(prom_hist_t *skew);
/* A Job created at created (unix s) for the schedule time scheduled (unix s). */
void cj_metrics_created(prom_hist_t *skew, int64_t created, int64_t scheduled);
void cj_metrics_render(const prom_hist_t *skew, sbuf_t *out);

#endif
