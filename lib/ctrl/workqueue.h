/* workqueue.h - client-go's rate-limited work queue, single-threaded.
 *
 * Owns: which keys need a sync, when, and which are in sync now.
 *   - dedup: a key is queued at most once;
 *   - processing/dirty: a key handed out by workqueue_get() is "processing"
 *     until workqueue_done(); adding it meanwhile marks it dirty and it is
 *     queued again by workqueue_done(), so a key is never synced twice at
 *     once and no add is lost;
 *   - delayed adds: a timer heap; a key already waiting keeps the earlier
 *     of its two times;
 *   - rate limiting = max(per-key exponential back-off 5 ms * 2^n capped at
 *     1000 s, overall token bucket 10 qps burst 100), as client-go's
 *     DefaultControllerRateLimiter; base, cap and the bucket are options
 *     (no_bucket: the per-key back-off alone, client-go's
 *     ItemExponentialFailureRateLimiter); workqueue_forget() resets a key's n;
 *   - concurrency: at most max_active keys processing at once
 *     (--concurrent-syncs). Our syncs are asynchronous: the runtime keeps a
 *     key processing while it has actions outstanding.
 *
 *   - metrics: once named (workqueue_set_name), upstream's workqueue_*
 *     metrics with label name="<name>" (ctrl/wqmetrics.h); unnamed queues
 *     have none, as in client-go.
 *
 * Time comes from a clock function (milliseconds, monotonic) so tests can
 * drive it. Cost: add/get/done O(1) average, delayed add O(log n).
 */
#ifndef KUBUS_CTRL_WORKQUEUE_H
#define KUBUS_CTRL_WORKQUEUE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sbuf.h"

typedef struct workqueue workqueue_t;
typedef uint64_t (*workqueue_clock_fn)(void *ud);

typedef struct {
    uint64_t base_delay_ms;   /* per-key back-off start, default 5 */
    uint64_t max_delay_ms;    /* per-key back-off cap, default 1000000 (1000 s) */
    double qps;               /* token bucket rate, default 10 */
    int burst;                /* token bucket size, default 100 */
    bool no_bucket;           /* no token bucket: the per-key back-off alone */
    int max_active;           /* keys processing at once, default 5 (>= 1) */
    workqueue_clock_fn clock; /* default now_mono_ms */
    void *clock_ud;
} workqueue_opts_t;

/* opts may be NULL (all defaults); zero fields take their default. */
workqueue_t *workqueue_new(const workqueue_opts_t *opts);
void workqueue_destroy(workqueue_t **q);

/* Queue key now (no-op if queued; dirty if processing). 0 or -1 (OOM). */
int workqueue_add(workqueue_t *q, const char *key);
/* Queue key after delay_ms (0: now). */
int workqueue_add_after(workqueue_t *q, const char *key, uint64_t delay_ms);
/* Queue key after its rate-limited delay and count one more failure. */
int workqueue_add_rate_limited(workqueue_t *q, const char *key);
/* The delay the next add_rate_limited would use, without consuming. */
uint64_t workqueue_when_peek(const workqueue_t *q, const char *key);
/* Forget a key's failures (after a successful sync). */
void workqueue_forget(workqueue_t *q, const char *key);
int workqueue_num_requeues(const workqueue_t *q, const char *key);

/* Moves due delayed keys into the queue, then hands out the next queued
 * key if fewer than max_active are processing: the returned string belongs
 * to the queue and stays valid until workqueue_done(key). NULL if none. */
const char *workqueue_get(workqueue_t *q);
/* Ends processing of key (the pointer from get or an equal string);
 * re-queues it if it was added meanwhile. */
void workqueue_done(workqueue_t *q, const char *key);
bool workqueue_is_processing(const workqueue_t *q, const char *key);

/* Keys queued now (not delayed, not processing). */
size_t workqueue_len(const workqueue_t *q);
size_t workqueue_delayed(const workqueue_t *q);
size_t workqueue_active(const workqueue_t *q);
/* Milliseconds until the earliest delayed key is due (0 if a key is ready
 * to hand out now, -1 if nothing is queued or delayed). For poll timeouts. */
int64_t workqueue_next_due_ms(workqueue_t *q);

/* Names the queue for its metrics (upstream's queue name: "replicaset",
 * "garbage_collector_attempt_to_delete", ...; [a-z0-9_-]). Counting starts
 * now. 0, or -1 on a bad name or no memory. */
int workqueue_set_name(workqueue_t *q, const char *name);
/* Appends the queue's metrics (Prometheus text); nothing when unnamed. */
void workqueue_metrics_render(const workqueue_t *q, sbuf_t *out);
/* The queue's metrics (tests set their clock), NULL when unnamed. */
struct wq_metrics *workqueue_metrics(workqueue_t *q);

#endif
