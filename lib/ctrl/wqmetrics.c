/* wqmetrics.c - work queue metrics. See ctrl/wqmetrics.h. */
#include "ctrl/wqmetrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "promtext.h"
#include "strmap.h"

/* Times are kept in the maps' value pointers themselves. */
_Static_assert(sizeof(uintptr_t) >= sizeof(uint64_t), "a time must fit in a pointer");

/* component-base: ExponentialBuckets(10e-9, 10, 10) */
static const double duration_buckets[] = { 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1, 10 };
#define N_BUCKETS (sizeof duration_buckets / sizeof duration_buckets[0])

struct wq_metrics {
    char name[64];
    char labels[80];               /* name="<queue>" */
    wq_metrics_clock_fn clock;
    void *clock_ud;
    int64_t depth;
    uint64_t adds, retries;
    prom_hist_t latency, work;
    strmap_t *added;               /* key -> first add time (ns) while waiting */
    strmap_t *started;             /* key -> processing start (ns) */
};

static uint64_t mono_ns(void *ud)
{
    (void)ud;
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static bool valid_name(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 63) return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

wq_metrics_t *wq_metrics_new(const char *name)
{
    if (!valid_name(name)) return NULL;
    wq_metrics_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->labels, sizeof m->labels, "name=\"%s\"", name);
    m->clock = mono_ns;
    prom_hist_init(&m->latency, duration_buckets, N_BUCKETS);
    prom_hist_init(&m->work, duration_buckets, N_BUCKETS);
    m->added = strmap_new(NULL);
    m->started = strmap_new(NULL);
    if (!m->added || !m->started) wq_metrics_destroy(&m);
    return m;
}

void wq_metrics_destroy(wq_metrics_t **mp)
{
    if (!mp || !*mp) return;
    strmap_destroy(&(*mp)->added);
    strmap_destroy(&(*mp)->started);
    free(*mp);
    *mp = NULL;
}

void wq_metrics_set_clock(wq_metrics_t *m, wq_metrics_clock_fn fn, void *ud)
{
    if (!m) return;
    m->clock = fn ? fn : mono_ns;
    m->clock_ud = ud;
}

static uint64_t now_ns(const wq_metrics_t *m) { return m->clock(m->clock_ud); }
static double seconds_since(const wq_metrics_t *m, uint64_t t)
{
    uint64_t now = now_ns(m);
    return now > t ? (double)(now - t) / 1e9 : 0.0;
}

void wq_metrics_add(wq_metrics_t *m, const char *key)
{
    if (!m) return;
    m->adds++;
    m->depth++;
    /* a map that cannot take the key only loses this key's latency */
    if (!strmap_has(m->added, key)) (void)strmap_put(m->added, key, (void *)(uintptr_t)now_ns(m));
}

void wq_metrics_get(wq_metrics_t *m, const char *key)
{
    if (!m) return;
    m->depth--;
    (void)strmap_put(m->started, key, (void *)(uintptr_t)now_ns(m));
    if (strmap_has(m->added, key)) {
        uint64_t t = (uint64_t)(uintptr_t)strmap_take(m->added, key);
        prom_hist_observe(&m->latency, seconds_since(m, t));
    }
}

void wq_metrics_done(wq_metrics_t *m, const char *key)
{
    if (!m || !strmap_has(m->started, key)) return;
    uint64_t t = (uint64_t)(uintptr_t)strmap_take(m->started, key);
    prom_hist_observe(&m->work, seconds_since(m, t));
}

void wq_metrics_retry(wq_metrics_t *m)
{
    if (m) m->retries++;
}

static void unfinished(const wq_metrics_t *m, double *total, double *oldest)
{
    *total = *oldest = 0;
    strmap_iter_t it;
    strmap_iter_init(&it, m->started);
    const char *k;
    void *v;
    while (strmap_next(&it, &k, &v)) {
        double age = seconds_since(m, (uint64_t)(uintptr_t)v);
        *total += age;
        if (age > *oldest) *oldest = age;
    }
}

void wq_metrics_render(const wq_metrics_t *m, sbuf_t *b)
{
    if (!m) return;
    double total, oldest;
    unfinished(m, &total, &oldest);
    prom_family(b, "workqueue_adds_total", "counter", "[BETA] Total number of adds handled by workqueue");
    prom_sample(b, "workqueue_adds_total", m->labels, (double)m->adds);
    prom_family(b, "workqueue_depth", "gauge", "[BETA] Current depth of workqueue");
    prom_sample(b, "workqueue_depth", m->labels, (double)m->depth);
    prom_family(b, "workqueue_longest_running_processor_seconds", "gauge",
                "[BETA] How many seconds has the longest running processor for workqueue been running.");
    prom_sample(b, "workqueue_longest_running_processor_seconds", m->labels, oldest);
    prom_family(b, "workqueue_queue_duration_seconds", "histogram",
                "[BETA] How long in seconds an item stays in workqueue before being requested.");
    prom_histogram(b, "workqueue_queue_duration_seconds", m->labels, &m->latency);
    prom_family(b, "workqueue_retries_total", "counter", "[BETA] Total number of retries handled by workqueue");
    prom_sample(b, "workqueue_retries_total", m->labels, (double)m->retries);
    prom_family(b, "workqueue_unfinished_work_seconds", "gauge",
                "[BETA] How many seconds of work has done that is in progress and hasn't been observed by "
                "work_duration. Large values indicate stuck threads. One can deduce the number of stuck "
                "threads by observing the rate at which this increases.");
    prom_sample(b, "workqueue_unfinished_work_seconds", m->labels, total);
    prom_family(b, "workqueue_work_duration_seconds", "histogram",
                "[BETA] How long in seconds processing an item from workqueue takes.");
    prom_histogram(b, "workqueue_work_duration_seconds", m->labels, &m->work);
}
