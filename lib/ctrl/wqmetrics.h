/* wqmetrics.h - upstream's work queue metrics for one named queue.
 *
 * Owns: what client-go's work queue reports through component-base's
 * Prometheus provider, with the same names, types, help texts, label and
 * buckets: workqueue_depth, workqueue_adds_total,
 * workqueue_queue_duration_seconds and workqueue_work_duration_seconds
 * (histograms, buckets 1e-08 .. 10, ten powers of ten),
 * workqueue_unfinished_work_seconds,
 * workqueue_longest_running_processor_seconds and workqueue_retries_total,
 * each with label name="<queue>". The queue calls the hooks as client-go's
 * does: add for a key that was not waiting yet (also while it is being
 * processed), get when it is handed out, done when its processing ends,
 * retry for every delayed add. Depth is adds minus gets; the two
 * "unfinished" gauges are computed when rendered. Durations come from a
 * monotonic nanosecond clock.
 */
#ifndef KUBUS_CTRL_WQMETRICS_H
#define KUBUS_CTRL_WQMETRICS_H

#include <stdint.h>

#include "sbuf.h"

typedef struct wq_metrics wq_metrics_t;
typedef uint64_t (*wq_metrics_clock_fn)(void *ud);   /* nanoseconds, monotonic */

/* name: [a-z0-9_-], 1..63 bytes (NULL otherwise, or out of memory). */
wq_metrics_t *wq_metrics_new(const char *name);
void wq_metrics_destroy(wq_metrics_t **m);
/* For tests: the clock (NULL: CLOCK_MONOTONIC). */
void wq_metrics_set_clock(wq_metrics_t *m, wq_metrics_clock_fn fn, void *ud);

void wq_metrics_add(wq_metrics_t *m, const char *key);
void wq_metrics_get(wq_metrics_t *m, const char *key);
void wq_metrics_done(wq_metrics_t *m, const char *key);
void wq_metrics_retry(wq_metrics_t *m);

/* The seven families (Prometheus text) for this queue. */
void wq_metrics_render(const wq_metrics_t *m, sbuf_t *out);

#endif
