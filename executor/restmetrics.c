/* restmetrics.c - REST client metrics. See restmetrics.h. */
#include "restmetrics.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "promtext.h"
#include "strmap.h"

/* component-base's restclient buckets */
static const double latency_buckets[] = { 0.005, 0.025, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60 };
#define N_BUCKETS (sizeof latency_buckets / sizeof latency_buckets[0])

static const char *const methods[] = { "GET", "POST", "PUT", "PATCH", "DELETE", "OTHER" };
#define N_METHODS (sizeof methods / sizeof methods[0])

struct restmetrics {
    char host[300];                  /* escaped for a label value */
    strmap_t *requests;              /* "<code> <method>" -> uint64_t * */
    strmap_t *retries;               /* the same, of retries */
    prom_hist_t latency[N_METHODS];
    bool used[N_METHODS];
    prom_hist_t limiter[N_METHODS];
    bool limited[N_METHODS];
};

/* host[:port] of the URL, escaped as a label value (\\, \", \n). */
static void host_of(const char *url, char *out, size_t len)
{
    const char *s = strstr(url ? url : "", "://");
    s = s ? s + 3 : (url ? url : "");
    size_t o = 0;
    for (; *s && *s != '/' && o + 3 < len; s++) {
        if (*s == '\\' || *s == '"') out[o++] = '\\';
        if (*s == '\n') { out[o++] = '\\'; out[o++] = 'n'; continue; }
        out[o++] = *s;
    }
    out[o] = '\0';
}

restmetrics_t *restmetrics_new(const char *server)
{
    restmetrics_t *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    host_of(server, m->host, sizeof m->host);
    m->requests = strmap_new(free);
    m->retries = strmap_new(free);
    if (!m->requests || !m->retries) {
        restmetrics_destroy(&m);
        return NULL;
    }
    for (size_t i = 0; i < N_METHODS; i++) {
        prom_hist_init(&m->latency[i], latency_buckets, N_BUCKETS);
        prom_hist_init(&m->limiter[i], latency_buckets, N_BUCKETS);
    }
    return m;
}

void restmetrics_destroy(restmetrics_t **mp)
{
    if (!mp || !*mp) return;
    strmap_destroy(&(*mp)->requests);
    strmap_destroy(&(*mp)->retries);
    free(*mp);
    *mp = NULL;
}

static size_t method_index(const char *method)
{
    for (size_t i = 0; i + 1 < N_METHODS; i++)
        if (method && strcmp(method, methods[i]) == 0) return i;
    return N_METHODS - 1;
}

/* One more of "<code> <method>" in counts. */
static void count(strmap_t *counts, size_t mi, long status)
{
    char key[32];
    if (status >= 100 && status < 1000)
        snprintf(key, sizeof key, "%ld %s", status, methods[mi]);
    else
        snprintf(key, sizeof key, "<error> %s", methods[mi]);
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

void restmetrics_observe(restmetrics_t *m, const char *method, long status, double seconds)
{
    if (!m) return;
    size_t mi = method_index(method);
    count(m->requests, mi, status);
    prom_hist_observe(&m->latency[mi], seconds < 0 ? 0 : seconds);
    m->used[mi] = true;
}

void restmetrics_throttled(restmetrics_t *m, const char *method, double seconds)
{
    if (!m) return;
    size_t mi = method_index(method);
    prom_hist_observe(&m->limiter[mi], seconds < 0 ? 0 : seconds);
    m->limited[mi] = true;
}

void restmetrics_retry(restmetrics_t *m, const char *method, long status)
{
    if (m) count(m->retries, method_index(method), status);
}

/* Every "<code> <method>" of counts as name{code,host,<method_label>}. */
static void render_counts(const restmetrics_t *m, sbuf_t *b, const strmap_t *counts, const char *name,
                          const char *method_label)
{
    char labels[400];
    strmap_iter_t it;
    strmap_iter_init(&it, counts);
    const char *k;
    void *v;
    while (strmap_next(&it, &k, &v)) {
        const char *sp = strchr(k, ' ');
        if (!sp) continue;
        snprintf(labels, sizeof labels, "code=\"%.*s\",host=\"%s\",%s=\"%s\"", (int)(sp - k), k, m->host,
                 method_label, sp + 1);
        prom_sample(b, name, labels, (double)*(uint64_t *)v);
    }
}

void restmetrics_render(const restmetrics_t *m, sbuf_t *b)
{
    if (!m) return;
    char labels[400];
    prom_family(b, "rest_client_request_duration_seconds", "histogram",
                "[ALPHA] Request latency in seconds. Broken down by verb, and host.");
    for (size_t i = 0; i < N_METHODS; i++) {
        if (!m->used[i]) continue;
        snprintf(labels, sizeof labels, "host=\"%s\",verb=\"%s\"", m->host, methods[i]);
        prom_histogram(b, "rest_client_request_duration_seconds", labels, &m->latency[i]);
    }
    prom_family(b, "rest_client_rate_limiter_duration_seconds", "histogram",
                "[ALPHA] Client side rate limiter latency in seconds. Broken down by verb, and host.");
    for (size_t i = 0; i < N_METHODS; i++) {
        if (!m->limited[i]) continue;
        snprintf(labels, sizeof labels, "host=\"%s\",verb=\"%s\"", m->host, methods[i]);
        prom_histogram(b, "rest_client_rate_limiter_duration_seconds", labels, &m->limiter[i]);
    }
    prom_family(b, "rest_client_request_retries_total", "counter",
                "[ALPHA] Number of request retries, partitioned by status code, verb, and host.");
    render_counts(m, b, m->retries, "rest_client_request_retries_total", "verb");
    prom_family(b, "rest_client_requests_total", "counter",
                "[ALPHA] Number of HTTP requests, partitioned by status code, method, and host.");
    render_counts(m, b, m->requests, "rest_client_requests_total", "method");
}
