/* engine.h - applying actions to the API server: the executor's core loop.
 *
 * Owns: every action from arrival to its one ActionResult: admission through
 * the journal (dedup), checks, the fair queue, the token bucket, the libcurl
 * multi handle (one connection pool, HTTP/2 multiplexing, up to
 * max_in_flight actions started at once), retries and follow-up lookups,
 * Event aggregation, and the counters logged as metrics.
 *
 * Single-threaded: the caller's loop waits in engine_wait() (curl_multi_poll
 * with the caller's extra fds, e.g. the bus socket), then calls
 * engine_step(). Results leave through the send callback, which must copy
 * what it needs (the result borrows engine memory).
 */
#ifndef KUBUS_EXECUTOR_ENGINE_H
#define KUBUS_EXECUTOR_ENGINE_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "journal.h"
#include "kubeconfig.h"
#include "msg.h"
#include "sbuf.h"

#define ENGINE_MAX_QUEUED 100000u      /* actions waiting for a slot, all controllers */
/* Events, per controller: client-go's broadcaster queues at most 1000 and
 * drops what comes on top; its one writer waits for the controller's bucket
 * like each of the controller's workers (5 by default), so a busy
 * controller's Events get about one token in six. */
#define ENGINE_MAX_QUEUED_EVENTS 1000u
#define ENGINE_EVENT_SHARE 5u          /* work requests a busy controller sends per Event */
#define ENGINE_REQUEST_TIMEOUT_MS 20000L
#define ENGINE_CONNECT_TIMEOUT_MS 5000L
#define ENGINE_BODY_MAX (MSG_MAX_BYTES - 64u * 1024u) /* a result object must fit an envelope */

typedef struct engine engine_t;

/* reply_to is the controller's routing id; env holds an ActionResult or an
 * InflightReport. 0, or -1 if it could not be sent (the controller will
 * re-send or re-ask). */
typedef int (*engine_send_fn)(const char *reply_to, const msg_envelope_t *env, void *ud);

typedef struct {
    kubeconfig_t *kc;         /* borrowed for the engine's life; its token is re-read on 401 */
    double qps;
    int burst;
    unsigned max_in_flight;
    uint64_t epoch;
    engine_send_fn send;
    void *send_ud;
    /* The journal's file (journal.h), NULL: in memory only. Actions pending
     * in it are applied again at start; their results go to their
     * controllers as usual. */
    const char *journal_path;
    uint64_t now_ms, now_unix_ms; /* the clocks at start, for the replay */
} engine_opts_t;

typedef struct {
    uint64_t requests[8][6];  /* [verb][status class: 0 transport, 1..5 = 1xx..5xx] */
    uint64_t retries;
    uint64_t throttled_ms;    /* time work waited for a token */
    uint64_t done;            /* actions answered */
    uint64_t duplicates;      /* re-sent ids absorbed or answered from the journal */
    uint64_t refused;         /* answered 400 without a request */
    uint64_t forbidden;       /* answered 403: outside the controller's role (policy.h) */
    uint64_t id_reused;       /* answered 400: an id known with other content (journal.h) */
    uint64_t events_dropped;  /* Events over their object's budget (evcorr.h) or its queue */
    uint64_t event_tokens;    /* tokens Events took (the rest went to work) */
} engine_stats_t;

engine_t *engine_new(const engine_opts_t *opts, char *err, size_t errlen);
void engine_destroy(engine_t **e);

/* An Action envelope from reply_to; takes it (*env = NULL). */
void engine_submit(engine_t *e, const char *reply_to, msg_envelope_t **env, uint64_t now_ms);
/* Answers an InflightQuery through the send callback. */
void engine_query(engine_t *e, const char *reply_to, const Kubus__V1__InflightQuery *q);

/* Collects finished transfers, starts what may start, expires the journal.
 * Returns the ms until it next has something to do on its own (timers,
 * tokens), capped at max_ms. */
int engine_step(engine_t *e, uint64_t now_ms, int max_ms);
/* Waits up to timeout_ms for network activity or one of extra's fds. */
int engine_wait(engine_t *e, struct curl_waitfd *extra, unsigned n_extra, int timeout_ms);

/* What engine_new replayed from the journal file (zeros without one). */
const journal_replay_t *engine_replayed(const engine_t *e);
uint64_t engine_in_flight(const engine_t *e);
uint64_t engine_queued(const engine_t *e);
const engine_stats_t *engine_stats(const engine_t *e);
/* Its rest_client_* metrics (restmetrics.h) as Prometheus text. */
void engine_metrics_render(const engine_t *e, sbuf_t *out);

#endif
