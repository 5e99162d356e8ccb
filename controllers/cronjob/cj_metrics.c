/* cj_metrics.c - the CronJob controller's upstream metric. See cj_metrics.h. */
#include "cj_metrics.h"

static const double skew_buckets[] = { 1, 2, 4, 8, 16, 32, 64, 128, 256, 512 };

void cj_metrics_init(prom_hist_t *skew)
{
    prom_hist_init(skew, skew_buckets, sizeof skew_buckets / sizeof skew_buckets[0]);
}

void cj_metrics_created(prom_hist_t *skew, int64_t created, int64_t scheduled)
{
    if (skew && created > 0 && scheduled > 0) prom_hist_observe(skew, (double)(created - scheduled));
}

void cj_metrics_render(const prom_hist_t *skew, sbuf_t *b)
{
    if (!skew) return;
    prom_family(b, "cronjob_controller_job_creation_skew_duration_seconds", "histogram",
                "[STABLE] Time between when a cronjob is scheduled to be run, and when the corresponding job is "
                "created");
    prom_histogram(b, "cronjob_controller_job_creation_skew_duration_seconds", NULL, skew);
}
