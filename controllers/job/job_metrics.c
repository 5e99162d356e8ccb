/* job_metrics.c - the Job controller's upstream metrics. See job_metrics.h. */
#include "job_metrics.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"
#include "strmap.h"

/* upstream: metrics.ExponentialBuckets(0.004, 2, 15) */
static const double sync_buckets[] = { 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512,
                                       1.024, 2.048, 4.096, 8.192, 16.384, 32.768, 65.536 };
#define N_SYNC_BUCKETS (sizeof sync_buckets / sizeof sync_buckets[0])

static const char *const modes[2] = { "NonIndexed", "Indexed" };
static const char *const sync_results[2] = { "error", "success" };
static const char *const finish_results[2] = { "failed", "succeeded" };
static const char *const actions[JOB_ACTION_COUNT] = { "reconciling", "tracking", "pods_created", "pods_deleted" };

struct job_metrics {
    prom_hist_t sync[2][2][JOB_ACTION_COUNT];   /* [indexed][ok][action] */
    uint64_t pods[2][2];                         /* [indexed][succeeded] */
    bool pods_seen[2][2];
    strmap_t *finished;                          /* "<mode>\t<result>\t<reason>" -> uint64_t * */
    strmap_t *external;                          /* controller name -> uint64_t * */
};

job_metrics_t *job_metrics_new(void)
{
    job_metrics_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->finished = strmap_new(free);
    m->external = strmap_new(free);
    if (!m->finished || !m->external) {
        job_metrics_destroy(&m);
        return NULL;
    }
    for (int i = 0; i < 2; i++)
        for (int r = 0; r < 2; r++)
            for (int a = 0; a < JOB_ACTION_COUNT; a++) prom_hist_init(&m->sync[i][r][a], sync_buckets, N_SYNC_BUCKETS);
    return m;
}

void job_metrics_destroy(job_metrics_t **mp)
{
    if (!mp || !*mp) return;
    strmap_destroy(&(*mp)->finished);
    strmap_destroy(&(*mp)->external);
    free(*mp);
    *mp = NULL;
}

void job_metrics_sync(job_metrics_t *m, bool indexed, bool ok, job_action_t action, double seconds)
{
    if (!m || action < 0 || action >= JOB_ACTION_COUNT) return;
    prom_hist_observe(&m->sync[indexed][ok][action], seconds < 0 ? 0 : seconds);
}

/* One more under key in counts (out of memory: the count is lost). */
static void bump(strmap_t *counts, const char *key)
{
    uint64_t *n = strmap_get(counts, key);
    if (!n) {
        n = calloc(1, sizeof *n);
        if (!n || strmap_put(counts, key, n) < 0) {
            free(n);
            return;
        }
    }
    (*n)++;
}

void job_metrics_finished(job_metrics_t *m, bool indexed, bool succeeded, const char *reason)
{
    if (!m) return;
    char key[300];
    snprintf(key, sizeof key, "%s\t%s\t%s", modes[indexed], finish_results[succeeded], reason ? reason : "");
    bump(m->finished, key);
}

void job_metrics_pods_finished(job_metrics_t *m, bool indexed, bool succeeded, int64_t n)
{
    if (!m || n <= 0) return;
    m->pods[indexed][succeeded] += (uint64_t)n;
    m->pods_seen[indexed][succeeded] = true;
}

void job_metrics_external(job_metrics_t *m, const char *controller_name)
{
    if (m && controller_name) bump(m->external, controller_name);
}

static void render_sync(const job_metrics_t *m, sbuf_t *b)
{
    char labels[200];
    bool head_h = false;
    for (int i = 0; i < 2; i++)
        for (int r = 0; r < 2; r++)
            for (int a = 0; a < JOB_ACTION_COUNT; a++) {
                const prom_hist_t *h = &m->sync[i][r][a];
                if (!h->count) continue;
                if (!head_h)
                    prom_family(b, "job_controller_job_sync_duration_seconds", "histogram",
                                "[STABLE] The time it took to sync a job");
                head_h = true;
                snprintf(labels, sizeof labels, "action=\"%s\",completion_mode=\"%s\",result=\"%s\"", actions[a],
                         modes[i], sync_results[r]);
                prom_histogram(b, "job_controller_job_sync_duration_seconds", labels, h);
            }
    bool head_c = false;
    for (int i = 0; i < 2; i++)
        for (int r = 0; r < 2; r++)
            for (int a = 0; a < JOB_ACTION_COUNT; a++) {
                const prom_hist_t *h = &m->sync[i][r][a];
                if (!h->count) continue;
                if (!head_c)
                    prom_family(b, "job_controller_job_syncs_total", "counter", "[STABLE] The number of job syncs");
                head_c = true;
                snprintf(labels, sizeof labels, "action=\"%s\",completion_mode=\"%s\",result=\"%s\"", actions[a],
                         modes[i], sync_results[r]);
                prom_sample(b, "job_controller_job_syncs_total", labels, (double)h->count);
            }
}

static void render_finished(const job_metrics_t *m, sbuf_t *b)
{
    if (!strmap_size(m->finished)) return;
    prom_family(b, "job_controller_jobs_finished_total", "counter", "[STABLE] The number of finished jobs");
    strmap_iter_t it;
    strmap_iter_init(&it, m->finished);
    const char *k;
    void *v;
    while (strmap_next(&it, &k, &v)) {
        const char *t1 = strchr(k, '\t');
        const char *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2) continue;
        char reason[256], labels[400];
        prom_label_value(reason, sizeof reason, t2 + 1);
        snprintf(labels, sizeof labels, "completion_mode=\"%.*s\",reason=\"%s\",result=\"%.*s\"", (int)(t1 - k), k,
                 reason, (int)(t2 - t1 - 1), t1 + 1);
        prom_sample(b, "job_controller_jobs_finished_total", labels, (double)*(uint64_t *)v);
    }
}

static void render_pods(const job_metrics_t *m, sbuf_t *b)
{
    bool head = false;
    char labels[120];
    for (int i = 0; i < 2; i++)
        for (int s = 0; s < 2; s++) {
            if (!m->pods_seen[i][s]) continue;
            if (!head)
                prom_family(b, "job_controller_job_pods_finished_total", "counter",
                            "[STABLE] The number of finished Pods that are fully tracked");
            head = true;
            snprintf(labels, sizeof labels, "completion_mode=\"%s\",result=\"%s\"", modes[i], finish_results[s]);
            prom_sample(b, "job_controller_job_pods_finished_total", labels, (double)m->pods[i][s]);
        }
}

static void render_external(const job_metrics_t *m, sbuf_t *b)
{
    if (!strmap_size(m->external)) return;
    prom_family(b, "job_controller_jobs_by_external_controller_total", "counter",
                "[ALPHA] The number of Jobs managed by an external controller");
    strmap_iter_t it;
    strmap_iter_init(&it, m->external);
    const char *k;
    void *v;
    while (strmap_next(&it, &k, &v)) {
        char name[256], labels[300];
        prom_label_value(name, sizeof name, k);
        snprintf(labels, sizeof labels, "controller_name=\"%s\"", name);
        prom_sample(b, "job_controller_jobs_by_external_controller_total", labels, (double)*(uint64_t *)v);
    }
}

void job_metrics_render(const job_metrics_t *m, sbuf_t *b)
{
    if (!m) return;
    render_sync(m, b);
    render_finished(m, b);
    render_pods(m, b);
    render_external(m, b);
}
