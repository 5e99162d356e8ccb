/* workqueue.c - dedup queue + processing/dirty sets + delay heap + rate
 * limiters, in the manner of client-go's workqueue. See workqueue.h.
 * Invariants: a key is in `fifo` iff it is in `dirty` and not in
 * `processing`; `delay_at` holds the earliest due time of each delayed key
 * and heap entries whose time differs from it are stale (skipped). */
#include "ctrl/workqueue.h"

#include <stdlib.h>
#include <string.h>

#include "ctrl/wqmetrics.h"
#include "strmap.h"
#include "worker.h"

typedef struct {
    uint64_t due;
    uint64_t seq;   /* FIFO among equal due times */
    char *key;
} delayed_t;

struct workqueue {
    workqueue_opts_t o;
    /* FIFO ring of owned key copies */
    char **fifo;
    size_t head, count, cap;
    strmap_t *dirty;       /* key -> NULL */
    strmap_t *processing;  /* key -> char * (the string get() returned) */
    /* delayed adds */
    delayed_t *heap;
    size_t heap_n, heap_cap;
    uint64_t heap_seq;
    strmap_t *delay_at;    /* key -> uint64_t * earliest due */
    /* rate limiting */
    strmap_t *failures;    /* key -> int * */
    double tokens;
    uint64_t tokens_at;
    wq_metrics_t *metrics;  /* upstream's workqueue_* metrics once named, else NULL */
};

static uint64_t default_clock(void *ud) { (void)ud; return now_mono_ms(); }
static uint64_t now_of(const workqueue_t *q) { return q->o.clock(q->o.clock_ud); }

workqueue_t *workqueue_new(const workqueue_opts_t *opts)
{
    workqueue_t *q = calloc(1, sizeof *q);
    if (!q) return NULL;
    if (opts) q->o = *opts;
    if (!q->o.base_delay_ms) q->o.base_delay_ms = 5;
    if (!q->o.max_delay_ms) q->o.max_delay_ms = 1000u * 1000u;
    if (q->o.qps <= 0) q->o.qps = 10;
    if (q->o.burst <= 0) q->o.burst = 100;
    if (q->o.max_active <= 0) q->o.max_active = 5;
    if (!q->o.clock) q->o.clock = default_clock;
    q->dirty = strmap_new(NULL);
    q->processing = strmap_new(free);
    q->delay_at = strmap_new(free);
    q->failures = strmap_new(free);
    q->tokens = q->o.burst;
    q->tokens_at = now_of(q);
    if (!q->dirty || !q->processing || !q->delay_at || !q->failures) workqueue_destroy(&q);
    return q;
}

void workqueue_destroy(workqueue_t **qp)
{
    if (!qp || !*qp) return;
    workqueue_t *q = *qp;
    for (size_t i = 0; i < q->count; i++) free(q->fifo[(q->head + i) % q->cap]);
    free(q->fifo);
    for (size_t i = 0; i < q->heap_n; i++) free(q->heap[i].key);
    free(q->heap);
    strmap_destroy(&q->dirty);
    strmap_destroy(&q->processing);
    strmap_destroy(&q->delay_at);
    strmap_destroy(&q->failures);
    wq_metrics_destroy(&q->metrics);
    free(q);
    *qp = NULL;
}

/* ---- FIFO ---------------------------------------------------------------- */

static int fifo_push(workqueue_t *q, const char *key)
{
    if (q->count == q->cap) {
        size_t ncap = q->cap ? q->cap * 2 : 64;
        char **n = malloc(ncap * sizeof *n);
        if (!n) return -1;
        for (size_t i = 0; i < q->count; i++) n[i] = q->fifo[(q->head + i) % q->cap];
        free(q->fifo);
        q->fifo = n;
        q->cap = ncap;
        q->head = 0;
    }
    char *k = strdup(key);
    if (!k) return -1;
    q->fifo[(q->head + q->count) % q->cap] = k;
    q->count++;
    return 0;
}

static char *fifo_pop(workqueue_t *q)
{
    if (!q->count) return NULL;
    char *k = q->fifo[q->head];
    q->head = (q->head + 1) % q->cap;
    q->count--;
    return k;
}

/* ---- heap ------------------------------------------------------------------ */

static bool heap_less(const delayed_t *a, const delayed_t *b)
{
    return a->due != b->due ? a->due < b->due : a->seq < b->seq;
}

static void heap_swap(workqueue_t *q, size_t i, size_t j)
{
    delayed_t t = q->heap[i];
    q->heap[i] = q->heap[j];
    q->heap[j] = t;
}

static int heap_push(workqueue_t *q, const char *key, uint64_t due)
{
    if (q->heap_n == q->heap_cap) {
        size_t ncap = q->heap_cap ? q->heap_cap * 2 : 64;
        delayed_t *n = realloc(q->heap, ncap * sizeof *n);
        if (!n) return -1;
        q->heap = n;
        q->heap_cap = ncap;
    }
    char *k = strdup(key);
    if (!k) return -1;
    size_t i = q->heap_n++;
    q->heap[i] = (delayed_t){ due, q->heap_seq++, k };
    while (i > 0 && heap_less(&q->heap[i], &q->heap[(i - 1) / 2])) {
        heap_swap(q, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
    return 0;
}

static delayed_t heap_pop(workqueue_t *q)
{
    delayed_t top = q->heap[0];
    q->heap[0] = q->heap[--q->heap_n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->heap_n && heap_less(&q->heap[l], &q->heap[m])) m = l;
        if (r < q->heap_n && heap_less(&q->heap[r], &q->heap[m])) m = r;
        if (m == i) break;
        heap_swap(q, i, m);
        i = m;
    }
    return top;
}

/* Moves due delayed keys to the queue; drops stale heap entries. */
static void promote_due(workqueue_t *q)
{
    uint64_t now = now_of(q);
    while (q->heap_n && q->heap[0].due <= now) {
        delayed_t d = heap_pop(q);
        uint64_t *at = strmap_get(q->delay_at, d.key);
        if (at && *at == d.due) {
            strmap_del(q->delay_at, d.key);
            workqueue_add(q, d.key);
        }
        free(d.key);
    }
}

/* ---- adding ------------------------------------------------------------- */

int workqueue_add(workqueue_t *q, const char *key)
{
    if (!q || !key) return -1;
    if (strmap_has(q->dirty, key)) return 0;
    if (strmap_put(q->dirty, key, NULL) < 0) return -1;
    wq_metrics_add(q->metrics, key);
    if (strmap_has(q->processing, key)) return 0;   /* re-queued by done() */
    if (fifo_push(q, key) < 0) {
        strmap_del(q->dirty, key);
        return -1;
    }
    return 0;
}

int workqueue_add_after(workqueue_t *q, const char *key, uint64_t delay_ms)
{
    if (!q || !key) return -1;
    wq_metrics_retry(q->metrics);   /* client-go counts every AddAfter as a retry */
    if (delay_ms == 0) return workqueue_add(q, key);
    uint64_t due = now_of(q) + delay_ms;
    uint64_t *at = strmap_get(q->delay_at, key);
    if (at && *at <= due) return 0;       /* already waiting, and sooner */
    if (!at) {
        at = malloc(sizeof *at);
        if (!at || strmap_put(q->delay_at, key, at) < 0) { free(at); return -1; }
    }
    *at = due;
    return heap_push(q, key, due);
}

static int *failures_of(const workqueue_t *q, const char *key)
{
    return strmap_get(q->failures, key);
}

static uint64_t backoff_for(const workqueue_t *q, int n)
{
    /* base * 2^n, capped; past 40 doublings the shift could overflow, and
     * any base of 1 ms or more has long reached any cap by then */
    if (n > 40) return q->o.max_delay_ms;
    uint64_t d = q->o.base_delay_ms << n;
    return d > q->o.max_delay_ms ? q->o.max_delay_ms : d;
}

static void refill(workqueue_t *q, uint64_t now)
{
    if (now > q->tokens_at) {
        q->tokens += (double)(now - q->tokens_at) * q->o.qps / 1000.0;
        if (q->tokens > q->o.burst) q->tokens = q->o.burst;
    }
    q->tokens_at = now;
}

/* Delay until a token is free if one is taken now (can go negative: a
 * reservation, like x/time/rate's Reserve). */
static uint64_t bucket_delay(const workqueue_t *q, double tokens_after)
{
    if (q->o.no_bucket || tokens_after >= 0) return 0;
    double ms = -tokens_after * 1000.0 / q->o.qps;
    return (uint64_t)(ms + 0.999);
}

uint64_t workqueue_when_peek(const workqueue_t *q, const char *key)
{
    int *f = failures_of(q, key);
    uint64_t item = backoff_for(q, f ? *f : 0);
    double tokens = q->tokens;
    uint64_t now = now_of(q);
    if (now > q->tokens_at) {
        tokens += (double)(now - q->tokens_at) * q->o.qps / 1000.0;
        if (tokens > q->o.burst) tokens = q->o.burst;
    }
    uint64_t bucket = bucket_delay(q, tokens - 1);
    return item > bucket ? item : bucket;
}

int workqueue_add_rate_limited(workqueue_t *q, const char *key)
{
    if (!q || !key) return -1;
    int *f = failures_of(q, key);
    if (!f) {
        f = calloc(1, sizeof *f);
        if (!f || strmap_put(q->failures, key, f) < 0) { free(f); return -1; }
    }
    uint64_t item = backoff_for(q, *f);
    if (*f < 1000) (*f)++;
    uint64_t bucket = 0;
    if (!q->o.no_bucket) {
        refill(q, now_of(q));
        q->tokens -= 1;
        bucket = bucket_delay(q, q->tokens);
    }
    return workqueue_add_after(q, key, item > bucket ? item : bucket);
}

void workqueue_forget(workqueue_t *q, const char *key)
{
    if (q && key) strmap_del(q->failures, key);
}

int workqueue_num_requeues(const workqueue_t *q, const char *key)
{
    int *f = q && key ? failures_of(q, key) : NULL;
    return f ? *f : 0;
}

/* ---- processing ----------------------------------------------------------- */

const char *workqueue_get(workqueue_t *q)
{
    if (!q) return NULL;
    promote_due(q);
    if (strmap_size(q->processing) >= (size_t)q->o.max_active) return NULL;
    char *k = fifo_pop(q);
    if (!k) return NULL;
    strmap_del(q->dirty, k);
    if (strmap_put(q->processing, k, k) < 0) {
        /* cannot track it: put it back rather than lose it */
        workqueue_add(q, k);
        free(k);
        return NULL;
    }
    wq_metrics_get(q->metrics, k);
    return k;
}

void workqueue_done(workqueue_t *q, const char *key)
{
    if (!q || !key) return;
    char *own = strmap_take(q->processing, key);
    if (!own) return;
    wq_metrics_done(q->metrics, own);
    if (strmap_has(q->dirty, own) && fifo_push(q, own) < 0) strmap_del(q->dirty, own);
    free(own);
}

bool workqueue_is_processing(const workqueue_t *q, const char *key)
{
    return q && key && strmap_has(q->processing, key);
}

size_t workqueue_len(const workqueue_t *q) { return q ? q->count : 0; }
size_t workqueue_delayed(const workqueue_t *q) { return q ? strmap_size(q->delay_at) : 0; }
size_t workqueue_active(const workqueue_t *q) { return q ? strmap_size(q->processing) : 0; }

int64_t workqueue_next_due_ms(workqueue_t *q)
{
    if (!q) return -1;
    promote_due(q);
    if (q->count && strmap_size(q->processing) < (size_t)q->o.max_active) return 0;
    if (!q->heap_n) return -1;
    return (int64_t)ms_until(q->heap[0].due, now_of(q));
}

int workqueue_set_name(workqueue_t *q, const char *name)
{
    if (!q) return -1;
    wq_metrics_t *m = wq_metrics_new(name);
    if (!m) return -1;
    wq_metrics_destroy(&q->metrics);
    q->metrics = m;
    return 0;
}

void workqueue_metrics_render(const workqueue_t *q, sbuf_t *out)
{
    if (q) wq_metrics_render(q->metrics, out);
}

struct wq_metrics *workqueue_metrics(workqueue_t *q) { return q ? q->metrics : NULL; }
