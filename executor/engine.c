/* engine.c - actions to HTTP requests and back to results. See engine.h.
 *
 * A job is one admitted action. Its life:
 *   QUEUED   in the fair queue (per controller), holding no slot
 *   READY    holds a slot, waits for a token (a retry or follow-up lookup)
 *   WAITING  holds a slot, waits for a timer (back-off, Retry-After)
 *   PARKED   an Event whose aggregation key has a request in flight; holds
 *            no slot, and takes over the slot of that request when it ends
 *   RUNNING  holds a slot, its request is in the curl multi handle
 * and it ends in finish(): exactly one ActionResult, sent and journaled.
 *
 * Invariants: `started` counts the jobs holding a slot (READY + WAITING +
 * RUNNING) and never exceeds max_in_flight; a PARKED job's key is held by
 * a job that is not parked (so every parked job is woken eventually); READY jobs are served before
 * new ones (they already hold slots, finishing them frees slots); every
 * request, retries and lookups included, takes one token from the bucket
 * of the controller it serves (routing id): kube-controller-manager gives
 * every controller its own client and so its own --kube-api-qps/-burst,
 * and so does the executor; a controller out of tokens never holds up
 * another's work.
 */
#include "engine.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "evagg.h"
#include "fairq.h"
#include "journal.h"
#include "kapi.h"
#include "khttp.h"
#include "log.h"
#include "ratelimit.h"
#include "strmap.h"
#include "evcorr.h"
#include "policy.h"
#include "request.h"
#include "restmetrics.h"
#include "retry.h"
#include "worker.h"

#define JOURNAL_EXPIRE_EVERY_MS 1000u
/* One token file read serves every request that got a 401 meanwhile. */
#define TOKEN_RELOAD_MIN_MS 1000u

typedef enum { PH_MAIN = 0, PH_VERIFY, PH_EXISTING } phase_t;
typedef enum { JS_QUEUED = 0, JS_READY, JS_WAITING, JS_PARKED, JS_RUNNING } jstate_t;

typedef struct job {
    engine_t *eng;
    char *reply_to;
    const msg_action_t *a;     /* owned by the journal until finish() */
    char *owner_uid;           /* CREATE: the body's controller ownerReference uid */
    evagg_spec_t *ev;          /* EVENT: the parsed spec */
    evagg_plan_t plan;
    bool planned;              /* plan holds a request the aggregator counts as busy */
    bool key_holder;           /* has planned: parked jobs of its key wait for it */
    phase_t phase;
    jstate_t state;
    unsigned attempts;         /* requests made so far */
    uint64_t due_ms;
    request_t req;
    CURL *h;
    struct curl_slist *headers;
    khttp_buf_t resp;
    char errbuf[CURL_ERROR_SIZE];
    khttp_status_t conflict;   /* the 409 AlreadyExists behind PH_EXISTING */
    bool reauthed;             /* already retried once after a 401 */
    uint64_t token_wait_ms;    /* first refused a token (monotonic ms), 0: not waiting */
    uint64_t token_waited_ms;  /* the last request's wait for its token */
    struct job *lprev, *lnext; /* ready or waiting list */
    struct job *aprev, *anext; /* every job */
} job_t;

typedef struct {
    job_t *head, *tail;
} jlist_t;

struct engine {
    CURLM *multi;
    kubeconfig_t *kc;
    double qps;
    int burst;
    strmap_t *buckets;           /* routing id -> budget_t, made full on first use */
    fairq_t *queue;
    journal_t *journal;
    evagg_t *evagg;
    evcorr_t *evcorr;
    restmetrics_t *rest;         /* rest_client_* metrics */
    jlist_t ready, waiting, parked;
    size_t nparked;
    job_t *all;
    unsigned started, max_in_flight;
    uint64_t epoch;
    engine_send_fn send;
    void *send_ud;
    engine_stats_t st;
    uint64_t now_ms;
    uint64_t throttled_since_ms; /* 0: nothing is waiting for a token */
    uint64_t next_expire_ms;
    uint64_t token_read_ms;      /* last re-read of the token file, 0: never */
    log_limit_t bad_log;
    journal_replay_t replayed;
};

/* ---- lists ----------------------------------------------------------------- */

static void list_push(jlist_t *l, job_t *j)
{
    j->lnext = NULL;
    j->lprev = l->tail;
    if (l->tail) l->tail->lnext = j; else l->head = j;
    l->tail = j;
}

static void list_unlink(jlist_t *l, job_t *j)
{
    if (j->lprev) j->lprev->lnext = j->lnext; else l->head = j->lnext;
    if (j->lnext) j->lnext->lprev = j->lprev; else l->tail = j->lprev;
    j->lprev = j->lnext = NULL;
}

/* ---- jobs ------------------------------------------------------------------ */

static job_t *job_new(engine_t *e, const char *reply_to, const msg_action_t *a)
{
    job_t *j = calloc(1, sizeof *j);
    if (!j) return NULL;
    j->reply_to = strdup(reply_to);
    if (!j->reply_to) { free(j); return NULL; }
    j->eng = e;
    j->a = a;
    khttp_buf_init(&j->resp, ENGINE_BODY_MAX);
    j->anext = e->all;
    if (e->all) e->all->aprev = j;
    e->all = j;
    return j;
}

static void release_handle(job_t *j)
{
    if (j->h) {
        curl_multi_remove_handle(j->eng->multi, j->h);
        curl_easy_cleanup(j->h);
        j->h = NULL;
    }
    curl_slist_free_all(j->headers);
    j->headers = NULL;
    request_clear(&j->req);
}

static bool holds_slot(const job_t *j) { return j->state != JS_QUEUED && j->state != JS_PARKED; }

/* The Event key `key` is free again: the first job parked on it goes next,
 * in the slot the finishing job gives up. O(parked). */
static void unpark(engine_t *e, const char *key)
{
    for (job_t *p = e->parked.head; p; p = p->lnext) {
        if (strcmp(evagg_spec_key(p->ev), key) != 0) continue;
        list_unlink(&e->parked, p);
        e->nparked--;
        p->state = JS_READY;
        list_push(&e->ready, p);
        e->started++;
        return;
    }
}

/* Frees j and whatever slot or list it held (not the journal's action). */
static void job_free(job_t *j)
{
    engine_t *e = j->eng;
    if (j->state == JS_READY) list_unlink(&e->ready, j);
    if (j->state == JS_WAITING) list_unlink(&e->waiting, j);
    if (j->state == JS_PARKED) list_unlink(&e->parked, j), e->nparked--;
    if (holds_slot(j)) e->started--;
    release_handle(j);
    if (j->aprev) j->aprev->anext = j->anext; else e->all = j->anext;
    if (j->anext) j->anext->aprev = j->aprev;
    if (j->planned) evagg_done(e->evagg, evagg_spec_key(j->ev), EVAGG_FAILED, e->now_ms);
    if (j->key_holder) unpark(e, evagg_spec_key(j->ev));
    evagg_plan_clear(&j->plan);
    evagg_spec_free(&j->ev);
    khttp_buf_free(&j->resp);
    free(j->owner_uid);
    free(j->reply_to);
    free(j);
}

/* ---- results ------------------------------------------------------------- */

typedef struct {
    uint32_t status;
    const char *reason, *message;
    const void *object;
    size_t object_len;
    char *causes[KHTTP_STATUS_CAUSES];   /* the Status's cause types */
    size_t n_causes;
} outcome_t;

static void send_result(engine_t *e, const char *reply_to, const msg_result_t *r)
{
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_ACTION_RESULT;
    env.action_result = (msg_result_t *)r;
    if (e->send(reply_to, &env, e->send_ud) < 0)
        LOGW("result not sent; the controller will re-send", "controller", reply_to);
}

static char *or_empty(const char *s) { return (char *)(s ? s : ""); }

static void fill_result(const engine_t *e, const msg_action_t *a, const outcome_t *o, msg_result_t *r)
{
    kubus__v1__action_result__init(r);
    r->id = a->id;
    r->controller = a->controller;
    r->status = o->status;
    r->reason = or_empty(o->reason);
    r->message = or_empty(o->message);
    if (o->object && o->object_len) {
        r->object.data = (uint8_t *)o->object;
        r->object.len = o->object_len;
    }
    r->causes = (char **)o->causes;
    r->n_causes = o->n_causes;
    r->executor_epoch = e->epoch;
    r->verb = a->verb;
    r->resource = a->resource;
    r->namespace_ = a->namespace_;
    r->name = a->name;
    r->owner_key = a->owner_key;
    /* The uid a DELETE targeted, also when the answer was a Status without
     * the object: a restarted controller expects it to disappear. */
    if (a->verb == KUBUS__V1__VERB__DELETE) r->uid = a->precondition_uid;
}

/* The one answer to action a: journaled, then sent, counted. Journaled
 * first: an executor that dies between the two has the result on file (its
 * successor re-sends it to a duplicate and reports it), never a controller
 * told of an effect its successor does not know. */
static void answer(engine_t *e, const char *reply_to, const msg_action_t *a, const outcome_t *o)
{
    msg_result_t r;
    fill_result(e, a, o, &r);
    msg_envelope_t *kept = NULL; /* a's envelope, which r borrows from */
    journal_complete_keep(e->journal, reply_to, &r, e->now_ms, &kept);
    send_result(e, reply_to, &r);
    e->st.done++;
    msg_free(kept);
}

static void finish(job_t *j, const outcome_t *o)
{
    answer(j->eng, j->reply_to, j->a, o);
    j->a = NULL;
    job_free(j);
}

static void finish_simple(job_t *j, uint32_t status, const char *reason, const char *message)
{
    outcome_t o = { .status = status, .reason = reason, .message = message };
    finish(j, &o);
}

/* ---- starting requests ----------------------------------------------------- */

static int build_request(job_t *j)
{
    request_clear(&j->req);
    if (j->phase != PH_MAIN) return request_build_lookup(j->a, &j->req);
    if (j->ev) return request_build_event(&j->plan, &j->req);
    return request_build(j->a, &j->req);
}

static int add_header(job_t *j, const char *line)
{
    struct curl_slist *l = curl_slist_append(j->headers, line);
    if (!l) return -1;
    j->headers = l;
    return 0;
}

static int set_method_and_body(job_t *j)
{
    CURL *h = j->h;
    const request_t *r = &j->req;
    if (r->body) {
        char ct[128];
        snprintf(ct, sizeof ct, "Content-Type: %s", r->content_type);
        /* No "Expect: 100-continue" round trip for bodies over 1 MiB. */
        if (add_header(j, ct) < 0 || add_header(j, "Expect:") < 0) return -1;
        if (curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body) != CURLE_OK ||
            curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len) != CURLE_OK)
            return -1;
    }
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "POST") != 0 &&
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method) != CURLE_OK)
        return -1;
    return curl_easy_setopt(h, CURLOPT_HTTPHEADER, j->headers) == CURLE_OK ? 0 : -1;
}

static int configure(job_t *j, char *err, size_t errlen)
{
    engine_t *e = j->eng;
    char url[2048];
    if (build_request(j) < 0) return snprintf(err, errlen, "cannot build the request"), -1;
    if (khttp_url(url, sizeof url, e->kc, j->req.path) < 0) return snprintf(err, errlen, "URL too long"), -1;
    j->h = khttp_easy_new(e->kc, &j->headers, err, errlen);
    if (!j->h) return -1;
    /* Name the issuing controller in the User-Agent, as upstream's clients
     * end theirs with "/<controller>": the API server's audit log can then
     * tell whose write a request was. */
    char agent[160];
    snprintf(agent, sizeof agent, "%s/%s", KHTTP_USER_AGENT, j->a->controller);
    if (curl_easy_setopt(j->h, CURLOPT_USERAGENT, agent) != CURLE_OK)
        return snprintf(err, errlen, "cannot set curl options"), -1;
    khttp_buf_reset(&j->resp);
    j->resp.overflow = false;
    j->errbuf[0] = '\0';
    if (set_method_and_body(j) < 0 ||
        curl_easy_setopt(j->h, CURLOPT_URL, url) != CURLE_OK ||
        curl_easy_setopt(j->h, CURLOPT_WRITEFUNCTION, khttp_buf_write) != CURLE_OK ||
        curl_easy_setopt(j->h, CURLOPT_WRITEDATA, &j->resp) != CURLE_OK ||
        curl_easy_setopt(j->h, CURLOPT_PRIVATE, j) != CURLE_OK ||
        curl_easy_setopt(j->h, CURLOPT_ERRORBUFFER, j->errbuf) != CURLE_OK ||
        curl_easy_setopt(j->h, CURLOPT_TIMEOUT_MS, ENGINE_REQUEST_TIMEOUT_MS) != CURLE_OK ||
        curl_easy_setopt(j->h, CURLOPT_CONNECTTIMEOUT_MS, ENGINE_CONNECT_TIMEOUT_MS) != CURLE_OK ||
        /* Wait for the connection in use to say whether it multiplexes
         * rather than opening a new one per request. */
        curl_easy_setopt(j->h, CURLOPT_PIPEWAIT, 1L) != CURLE_OK)
        return snprintf(err, errlen, "cannot set curl options"), -1;
    return 0;
}

static void start(job_t *j)
{
    char err[256] = "";
    if (configure(j, err, sizeof err) < 0 || curl_multi_add_handle(j->eng->multi, j->h) != CURLM_OK) {
        LOGE("cannot start a request", "error", err);
        release_handle(j);
        finish_simple(j, 0, "InternalError", err[0] ? err : "cannot start the request");
        return;
    }
    restmetrics_throttled(j->eng->rest, j->req.method, (double)j->token_waited_ms / 1000.0);
    j->attempts++;
    j->state = JS_RUNNING;
}

/* ---- after a request --------------------------------------------------------- */

static void wait_then_ready(job_t *j, uint64_t delay_ms)
{
    j->state = JS_WAITING;
    j->due_ms = j->eng->now_ms + delay_ms;
    list_push(&j->eng->waiting, j);
}

/* Another request for this job, if the attempt budget allows. */
static bool again(job_t *j, phase_t phase, uint64_t delay_ms)
{
    if (j->attempts >= RETRY_MAX_ATTEMPTS) return false;
    j->phase = phase;
    j->eng->st.retries++;
    wait_then_ready(j, delay_ms);
    return true;
}

static bool is_2xx(long s) { return s >= 200 && s < 300; }

typedef struct {
    long status;
    CURLcode code;
    int64_t retry_after_ms;    /* -1: none */
    khttp_status_t kst;        /* parsed when not 2xx */
    bool has_kst;
} response_t;

/* again() for a request worth sending again after rs: counted as client-go
 * counts its retries (rest_client_request_retries_total). */
static bool retry(job_t *j, const response_t *rs, phase_t phase, uint64_t delay_ms)
{
    if (j->attempts >= RETRY_MAX_ATTEMPTS) return false;
    restmetrics_retry(j->eng->rest, j->req.method, rs->status);
    return again(j, phase, delay_ms);
}

static void outcome_of(const job_t *j, const response_t *rs, outcome_t *o)
{
    memset(o, 0, sizeof *o);
    o->status = (uint32_t)rs->status;
    if (rs->status == 0) {
        o->message = j->errbuf[0] ? j->errbuf : curl_easy_strerror(rs->code);
        return;
    }
    if (rs->has_kst) {
        o->reason = rs->kst.reason;
        o->message = rs->kst.message;
        /* e.g. NamespaceTerminating under a 403, which upstream's
         * controllers tell apart by the cause, not the text */
        for (int i = 0; i < rs->kst.n_causes; i++) o->causes[o->n_causes++] = (char *)rs->kst.causes[i];
    }
    if (is_2xx(rs->status) && !j->resp.overflow && j->resp.len) {
        o->object = j->resp.data;
        o->object_len = j->resp.len;
    }
}

static retry_decision_t decide(const job_t *j, const response_t *rs)
{
    retry_outcome_t ro = { .verb = j->a->verb, .patch_type = j->a->patch_type,
                           .is_lookup = j->phase != PH_MAIN, .http_status = rs->status,
                           .curl_code = (int)rs->code, .reason = rs->has_kst ? rs->kst.reason : NULL };
    return retry_classify(&ro);
}

static uint64_t delay_for(const job_t *j, const response_t *rs)
{
    return retry_delay_ms(j->attempts + 1, rs->retry_after_ms);
}

/* The create may have happened: the object exists and is ours means it did. */
static void after_lookup(job_t *j, const response_t *rs)
{
    outcome_t o;
    if (is_2xx(rs->status) && !j->resp.overflow && request_owned_by(j->resp.data, j->resp.len, j->owner_uid)) {
        outcome_of(j, rs, &o);
        o.status = 200;
        o.reason = "AlreadyExists";
        o.message = j->phase == PH_EXISTING ? j->conflict.message
                                            : "the create had succeeded; its answer was lost";
        finish(j, &o);
        return;
    }
    if (rs->status == 404 && again(j, PH_MAIN, delay_for(j, rs))) return; /* not there (any more): create it */
    if (decide(j, rs) == RETRY_AGAIN && retry(j, rs, j->phase, delay_for(j, rs))) return;
    if (j->phase == PH_EXISTING) { /* someone else's object, or we cannot tell: the 409 stands */
        finish_simple(j, 409, j->conflict.reason, j->conflict.message);
        return;
    }
    if (is_2xx(rs->status)) {
        finish_simple(j, 409, "AlreadyExists", "an object of that name exists and is not ours");
        return;
    }
    finish_simple(j, 0, "", "the create's outcome is unknown: the request failed and the object could not be looked up");
}

static void after_event(job_t *j, const response_t *rs)
{
    engine_t *e = j->eng;
    const char *key = evagg_spec_key(j->ev);
    bool ok = is_2xx(rs->status) || (!j->plan.patch && rs->status == 409); /* our POST landed earlier */
    if (ok) {
        evagg_done(e->evagg, key, EVAGG_OK, e->now_ms);
        j->planned = false;
        outcome_t o;
        outcome_of(j, rs, &o);
        if (!is_2xx(rs->status)) { /* 409 on our own POST: the Event is there */
            o.status = 200;
            o.object = NULL;
            o.object_len = 0;
        }
        finish(j, &o);
        return;
    }
    if (j->plan.patch && rs->status == 404) { /* the Event expired: record a new one */
        evagg_done(e->evagg, key, EVAGG_GONE, e->now_ms);
        j->planned = false;
        evagg_plan_clear(&j->plan);
        if (again(j, PH_MAIN, 0)) return;
    } else if (decide(j, rs) == RETRY_AGAIN && retry(j, rs, PH_MAIN, delay_for(j, rs))) {
        return; /* the same plan again: the key stays busy */
    }
    outcome_t o;
    outcome_of(j, rs, &o);
    finish(j, &o);
}

static void after_main(job_t *j, const response_t *rs)
{
    outcome_t o;
    switch (decide(j, rs)) {
    case RETRY_AGAIN:
        if (retry(j, rs, PH_MAIN, delay_for(j, rs))) return;
        break;
    case RETRY_VERIFY_CREATE:
        if (again(j, PH_VERIFY, 0)) return;
        finish_simple(j, 0, "", "the create's outcome is unknown");
        return;
    case RETRY_CHECK_EXISTING:
        j->conflict = rs->kst;
        if (j->owner_uid && again(j, PH_EXISTING, 0)) return;
        break;
    case RETRY_DONE:
        break;
    }
    outcome_of(j, rs, &o);
    finish(j, &o);
}

static int status_class(long status) { return status >= 100 && status < 600 ? (int)(status / 100) : 0; }

static void count_request(engine_t *e, const job_t *j, long status)
{
    int verb = j->phase == PH_MAIN ? j->a->verb : KUBUS__V1__VERB__GET;
    if (verb < 0 || verb > 7) verb = 0;
    e->st.requests[verb][status_class(status)]++;
}

/* A 401 with a token file: the service-account token may have been rotated.
 * True when a fresh token may be in place (worth one more try). */
static bool reauthenticate(engine_t *e)
{
    if (!e->kc->token_file) return false;
    if (e->token_read_ms && e->now_ms - e->token_read_ms < TOKEN_RELOAD_MIN_MS) return true;
    e->token_read_ms = e->now_ms ? e->now_ms : 1;
    char err[256];
    if (kubeconfig_reload_token(e->kc, err, sizeof err) < 0) {
        LOGW("401 Unauthorized and the token file cannot be re-read", "error", err);
        return false;
    }
    LOGI("401 Unauthorized: token re-read from its file", "file", e->kc->token_file);
    return true;
}

static void on_done(engine_t *e, CURL *h, CURLcode code)
{
    char *priv = NULL;
    job_t *j = NULL;
    if (curl_easy_getinfo(h, CURLINFO_PRIVATE, &priv) == CURLE_OK) j = (job_t *)(void *)priv;
    if (!j) {
        curl_multi_remove_handle(e->multi, h);
        curl_easy_cleanup(h);
        return;
    }
    response_t rs = { .code = code, .retry_after_ms = -1 };
    if (code == CURLE_OK) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rs.status);
    if (code == CURLE_WRITE_ERROR && j->resp.overflow) curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rs.status);
    long ra = khttp_retry_after_ms(h);
    if (ra > 0) rs.retry_after_ms = ra;
    if (rs.status && !is_2xx(rs.status))
        rs.has_kst = j->resp.data && khttp_parse_status(j->resp.data, j->resp.len, &rs.kst) == 0;
    count_request(e, j, rs.status);
    curl_off_t us = 0;
    curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &us);
    restmetrics_observe(e->rest, j->req.method, rs.status, (double)us / 1e6);
    if (log_v_enabled_at(4, __FILE__)) {
        long httpv = 0;
        char st[16], proto[16];
        curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &httpv);
        snprintf(st, sizeof st, "%ld", rs.status);
        snprintf(proto, sizeof proto, "%s", httpv == CURL_HTTP_VERSION_2_0 ? "h2" : httpv ? "http/1.x" : "-");
        LOGV(4, "response", "verb", msg_verb_name(j->a->verb), "name", j->a->name, "status", st, "proto", proto,
             "reason", rs.has_kst ? rs.kst.reason : "", "error", rs.status ? "" : curl_easy_strerror(code));
    }
    release_handle(j);
    if (rs.status == 401 && !j->reauthed && reauthenticate(e)) {
        j->reauthed = true; /* a 401 is refused before anything is done: safe to re-send */
        if (again(j, j->phase, 0)) return;
    }
    if (j->phase != PH_MAIN) after_lookup(j, &rs);
    else if (j->ev) after_event(j, &rs);
    else after_main(j, &rs);
}

static void collect(engine_t *e)
{
    int running = 0, left = 0;
    curl_multi_perform(e->multi, &running);
    CURLMsg *m;
    while ((m = curl_multi_info_read(e->multi, &left)) != NULL)
        if (m->msg == CURLMSG_DONE) on_done(e, m->easy_handle, m->data.result);
}

/* ---- dispatch ---------------------------------------------------------------- */

static void wake_due(engine_t *e, int *timeout)
{
    for (job_t *j = e->waiting.head, *next; j; j = next) {
        next = j->lnext;
        uint64_t left = ms_until(j->due_ms, e->now_ms);
        if (left == 0) {
            list_unlink(&e->waiting, j);
            j->state = JS_READY;
            list_push(&e->ready, j);
        } else if (*timeout >= 0 && left < (uint64_t)*timeout) {
            *timeout = (int)left;
        }
    }
}

/* A controller's request budget: its token bucket and how many work
 * requests it sent since its last Event (ENGINE_EVENT_SHARE). */
typedef struct {
    ratelimit_t rl;
    unsigned work_since_event;
} budget_t;

/* The budget of the controller j serves (NULL only on OOM: such a job then
 * goes unthrottled rather than stuck). */
static budget_t *budget_of(engine_t *e, const job_t *j)
{
    budget_t *b = strmap_get(e->buckets, j->reply_to);
    if (b) return b;
    b = calloc(1, sizeof *b);
    if (!b) return NULL;
    ratelimit_init(&b->rl, e->qps, e->burst, e->now_ms * 1000000ull);
    b->work_since_event = ENGINE_EVENT_SHARE;   /* the first Event need not wait */
    if (strmap_put(e->buckets, j->reply_to, b) < 0) { free(b); return NULL; }
    return b;
}

/* The fair queue's lane of a job: its controller's routing id, or for an
 * Event the controller's Event lane (the id + "\x1f" "events", written into
 * lane, ENGINE_LANE_MAX bytes). Lanes are about fairness only: a routing id
 * that happens to spell another's Event lane, or one cut at the size, shares
 * a round-robin turn, never a budget (budgets are per routing id). */
#define ENGINE_LANE_MAX 256
static const char *lane_of(const char *reply_to, bool event, char *lane)
{
    if (!event) return reply_to;
    snprintf(lane, ENGINE_LANE_MAX, "%s\x1f" "events", reply_to);
    return lane;
}

/* An Event waits while its controller has work queued and has not yet sent
 * ENGINE_EVENT_SHARE work requests since its last Event: under load Events
 * get the share client-go's one event writer gets among the workers. */
static bool event_waits_for_work(engine_t *e, const job_t *j, const budget_t *b)
{
    return j->ev && b && b->work_since_event < ENGINE_EVENT_SHARE && fairq_owner_len(e->queue, j->reply_to) > 0;
}

typedef struct {
    engine_t *e;
    uint64_t min_wait_ns;        /* shortest wait of a job refused for want of a token */
} token_probe_t;

/* fairq_pop_if's test: may this job's controller send a request now? */
static bool has_token(void *item, void *arg)
{
    token_probe_t *p = arg;
    job_t *j = item;
    budget_t *b = budget_of(p->e, j);
    if (event_waits_for_work(p->e, j, b)) return false;   /* the work takes this token */
    uint64_t wait = b ? ratelimit_wait_ns(&b->rl, p->e->now_ms * 1000000ull) : 0;
    if (wait && wait < p->min_wait_ns) p->min_wait_ns = wait;
    if (wait && !j->token_wait_ms) j->token_wait_ms = p->e->now_ms ? p->e->now_ms : 1;
    return wait == 0;
}

/* Takes j's token, noting the wait since its first refusal (start() reports
 * it as rest_client_rate_limiter_duration_seconds, once the method is known). */
static void take_token(engine_t *e, job_t *j)
{
    budget_t *b = budget_of(e, j);
    if (b) {
        ratelimit_try_take(&b->rl, e->now_ms * 1000000ull);
        if (j->ev) {
            b->work_since_event = 0;
            e->st.event_tokens++;
        }
        else if (b->work_since_event < ENGINE_EVENT_SHARE) b->work_since_event++;
    }
    j->token_waited_ms = j->token_wait_ms && e->now_ms > j->token_wait_ms ? e->now_ms - j->token_wait_ms : 0;
    j->token_wait_ms = 0;
}

/* The next job that may take a token: follow-ups first (they hold slots),
 * then new work in round-robin order, each only when its controller has a
 * token. The job is not yet taken off its list. */
static job_t *next_ready(engine_t *e, token_probe_t *p)
{
    for (job_t *j = e->ready.head; j; j = j->lnext)
        if (has_token(j, p)) return j;
    return NULL;
}

/* Marks j (off the ready list, or just popped from the fair queue) as
 * taken. */
static void take_job(engine_t *e, job_t *j)
{
    if (j->state == JS_READY) list_unlink(&e->ready, j);
    else e->started++;
    j->state = JS_RUNNING; /* transiently: start() or a wait sets the real state */
}

/* Events: one request per aggregation key at a time. false: try later. */
static bool plan_event(job_t *j)
{
    engine_t *e = j->eng;
    if (!j->ev || j->phase != PH_MAIN || j->planned) return true;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t unix_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
    int rc = evagg_plan(e->evagg, j->ev, e->now_ms, unix_ns, &j->plan);
    if (rc == EVAGG_BUSY) { /* wait for the key's request without holding a slot */
        e->started--;
        j->state = JS_PARKED;
        list_push(&e->parked, j);
        e->nparked++;
        return false;
    }
    if (rc < 0) {
        j->key_holder = true; /* so that job_free wakes the next one of its key */
        finish_simple(j, 0, "InternalError", "out of memory planning the event");
        return false;
    }
    j->planned = true;
    j->key_holder = true;
    return true;
}

static void note_throttle(engine_t *e, bool throttled)
{
    if (throttled && !e->throttled_since_ms) e->throttled_since_ms = e->now_ms ? e->now_ms : 1;
    if (!throttled && e->throttled_since_ms) {
        e->st.throttled_ms += e->now_ms - e->throttled_since_ms;
        e->throttled_since_ms = 0;
    }
}

static void dispatch(engine_t *e, int *timeout)
{
    token_probe_t p = { .e = e, .min_wait_ns = UINT64_MAX };
    for (;;) {
        job_t *j = next_ready(e, &p);
        if (!j && e->started < e->max_in_flight) j = fairq_pop_if(e->queue, has_token, &p);
        if (!j) break;
        take_job(e, j);
        if (!plan_event(j)) continue;
        take_token(e, j);
        start(j);
    }
    bool throttled = p.min_wait_ns != UINT64_MAX;
    note_throttle(e, throttled);
    if (throttled) {
        uint64_t ms = (p.min_wait_ns + 999999) / 1000000;
        if (*timeout < 0 || ms < (uint64_t)*timeout) *timeout = (int)(ms > INT32_MAX ? INT32_MAX : ms);
    }
}

int engine_step(engine_t *e, uint64_t now_ms, int max_ms)
{
    e->now_ms = now_ms;
    int timeout = max_ms;
    collect(e);
    wake_due(e, &timeout);
    dispatch(e, &timeout);
    int running = 0;
    curl_multi_perform(e->multi, &running); /* get the new transfers going */
    if (now_ms >= e->next_expire_ms) {
        journal_expire(e->journal, now_ms);
        e->next_expire_ms = now_ms + JOURNAL_EXPIRE_EVERY_MS;
    }
    return timeout < 0 ? 0 : timeout;
}

int engine_wait(engine_t *e, struct curl_waitfd *extra, unsigned n_extra, int timeout_ms)
{
    int numfds = 0;
    CURLMcode rc = curl_multi_poll(e->multi, extra, n_extra, timeout_ms, &numfds);
    if (rc != CURLM_OK) {
        LOGE("curl_multi_poll failed", "error", curl_multi_strerror(rc));
        return -1;
    }
    return numfds;
}

/* ---- admission ------------------------------------------------------------ */

static void refuse_as(engine_t *e, job_t *j, uint32_t status, const char *reason, const char *why)
{
    if (log_limit_allow(&e->bad_log))
        LOGW("action refused", "controller", j->reply_to, "verb", msg_verb_name(j->a->verb),
             "resource", j->a->resource, "name", j->a->name, "reason", why);
    finish_simple(j, status, reason, why);
}

static void refuse(engine_t *e, job_t *j, const char *why)
{
    e->st.refused++;
    refuse_as(e, j, 400, "BadRequest", why);
}

/* Outside the issuing controller's role (policy.h): 403, as the API server
 * would answer that controller's own service account. */
static void forbid(engine_t *e, job_t *j, const char *why)
{
    e->st.forbidden++;
    refuse_as(e, j, 403, "Forbidden", why);
}

static bool check_event(job_t *j, char *err, size_t errlen)
{
    const msg_action_t *a = j->a;
    j->ev = evagg_spec_parse(a->body.data, a->body.len, a->namespace_, err, errlen);
    if (!j->ev) return false;
    char path[REQUEST_PATH_MAX];
    if (kapi_path(path, sizeof path, "events", evagg_spec_namespace(j->ev), NULL, NULL, NULL) < 0) {
        snprintf(err, errlen, "event spec: bad namespace");
        return false;
    }
    return true;
}

static void admit_new(engine_t *e, const char *reply_to, const msg_action_t *a)
{
    job_t *j = job_new(e, reply_to, a);
    if (!j) {
        outcome_t o = { .reason = "InternalError", .message = "executor out of memory" };
        answer(e, reply_to, a, &o);
        return;
    }
    char err[512];
    if (request_check(a, &j->owner_uid, err, sizeof err) < 0 ||
        (a->verb == KUBUS__V1__VERB__EVENT && !check_event(j, err, sizeof err))) {
        refuse(e, j, err);
        return;
    }
    if (policy_check(a, err, sizeof err) < 0) {
        forbid(e, j, err);
        return;
    }
    if (j->ev && evcorr_admit(e->evcorr, j->ev, e->now_ms) == EVCORR_DROP) {
        /* over its object's budget, as client-go's spam filter would have it */
        e->st.events_dropped++;
        finish_simple(j, 200, "Filtered", "event dropped: its object's event budget is spent");
        return;
    }
    char lane[ENGINE_LANE_MAX];
    const char *q = lane_of(reply_to, j->ev != NULL, lane);
    if (j->ev && fairq_owner_len(e->queue, q) >= ENGINE_MAX_QUEUED_EVENTS) {
        /* as client-go's broadcaster drops an Event its full queue cannot take */
        e->st.events_dropped++;
        finish_simple(j, 200, "Filtered", "event dropped: the controller's event queue is full");
        return;
    }
    if (fairq_len(e->queue) >= ENGINE_MAX_QUEUED) {
        finish_simple(j, 429, "TooManyRequests", "the executor's queue is full");
        return;
    }
    if (fairq_push(e->queue, q, j) < 0) finish_simple(j, 0, "InternalError", "executor out of memory");
}

/* A controller name that cannot be used (it reaches logs and an HTTP
 * header): answered 400 before the journal sees the action. */
static bool bad_controller(engine_t *e, const char *reply_to, const msg_action_t *a)
{
    char err[160];
    if (policy_name_check(a->controller, err, sizeof err) == 0) return false;
    e->st.refused++;
    if (log_limit_allow(&e->bad_log)) LOGW("action refused", "reason", err);
    outcome_t o = { .status = 400, .reason = "BadRequest", .message = err };
    msg_result_t r;
    fill_result(e, a, &o, &r);
    r.controller = ""; /* not echoed back */
    send_result(e, reply_to, &r);
    return true;
}

/* An id this controller already used for another action (another life drew
 * the same id): answered 400 and not applied. Re-sending the other action's
 * result would tell the controller that this one was done. */
static void id_reused(engine_t *e, const char *reply_to, const msg_action_t *a)
{
    char err[200];
    snprintf(err, sizeof err,
             "action id %" PRIx64 " was already used by controller %s for another action: refused, not applied "
             "(issue it again under a new id)", a->id, reply_to);
    e->st.refused++;
    e->st.id_reused++;
    if (log_limit_allow(&e->bad_log)) LOGW("action refused", "reason", err);
    outcome_t o = { .status = 400, .reason = "BadRequest", .message = err };
    msg_result_t r;
    fill_result(e, a, &o, &r);
    send_result(e, reply_to, &r);
}

void engine_submit(engine_t *e, const char *reply_to, msg_envelope_t **env, uint64_t now_ms)
{
    e->now_ms = now_ms;
    const msg_action_t *a = (*env)->action;
    const msg_result_t *done = NULL;
    if (bad_controller(e, reply_to, a)) {
        msg_free(*env);
        *env = NULL;
        return;
    }
    switch (journal_admit(e->journal, reply_to, env, now_ms, &done)) {
    case JOURNAL_ADMITTED:
        admit_new(e, reply_to, a);
        return;
    case JOURNAL_DUP_PENDING:
        e->st.duplicates++;
        LOGV(2, "duplicate of an action in flight: one result will follow", "controller", reply_to);
        break;
    case JOURNAL_DUP_DONE:
        e->st.duplicates++;
        LOGV(2, "duplicate of a finished action: result re-sent", "controller", reply_to);
        send_result(e, reply_to, done);
        break;
    case JOURNAL_ID_REUSED:
        id_reused(e, reply_to, a);
        break;
    case JOURNAL_ERROR:
        LOGE("journal out of memory: action dropped (the controller re-sends it)", "controller", reply_to);
        break;
    }
    msg_free(*env);
    *env = NULL;
}

void engine_query(engine_t *e, const char *reply_to, const Kubus__V1__InflightQuery *q)
{
    Kubus__V1__InflightReport rep;
    if (journal_report(e->journal, reply_to, e->epoch, &rep) < 0) {
        LOGE("cannot build an inflight report", "controller", reply_to);
        return;
    }
    rep.controller = q->controller;
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_INFLIGHT_REPORT;
    env.inflight_report = &rep;
    if (e->send(reply_to, &env, e->send_ud) < 0)
        LOGW("inflight report not sent; the controller asks again", "controller", reply_to);
    journal_report_clear(&rep);
}

/* ---- life ------------------------------------------------------------------ */

typedef struct {
    struct resumed { char *controller; const msg_action_t *a; } *v;
    size_t n, cap;
    bool oom;
} resume_list_t;

static void collect_pending(const char *controller, const msg_action_t *a, void *ud)
{
    resume_list_t *l = ud;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        struct resumed *v = realloc(l->v, cap * sizeof *v);
        if (!v) { l->oom = true; return; }
        l->v = v;
        l->cap = cap;
    }
    char *c = strdup(controller);
    if (!c) { l->oom = true; return; }
    l->v[l->n].controller = c;
    l->v[l->n++].a = a;
}

/* Actions pending at the previous executor's death: their outcome is
 * unknown, so they are applied again, as any re-sent action would be
 * (creates by name, deletes with uid preconditions, updates with their
 * resourceVersion). Their controllers get the results as usual and dedupe
 * by id; a controller that re-sends one meanwhile is absorbed as a duplicate. */
static int resume_pending(engine_t *e)
{
    resume_list_t l = { 0 };
    journal_foreach_pending(e->journal, collect_pending, &l);
    for (size_t i = 0; i < l.n; i++) {
        if (!l.oom) admit_new(e, l.v[i].controller, l.v[i].a); /* may complete at once: collected first */
        free(l.v[i].controller);
    }
    free(l.v);
    return l.oom ? -1 : 0;
}

engine_t *engine_new(const engine_opts_t *o, char *err, size_t errlen)
{
    engine_t *e = calloc(1, sizeof *e);
    if (!e) return snprintf(err, errlen, "out of memory"), NULL;
    e->kc = o->kc;
    e->max_in_flight = o->max_in_flight ? o->max_in_flight : 1;
    e->epoch = o->epoch;
    e->send = o->send;
    e->send_ud = o->send_ud;
    e->bad_log = (log_limit_t)LOG_LIMIT_INIT(1.0, 10.0);
    e->qps = o->qps;
    e->burst = o->burst;
    e->buckets = strmap_new(free);
    e->multi = curl_multi_init();
    e->queue = fairq_new();
    e->journal = journal_new(JOURNAL_MAX_RECENT, JOURNAL_MAX_RECENT_BYTES, JOURNAL_RECENT_MS);
    e->evagg = evagg_new(EVAGG_CAPACITY, EVAGG_WINDOW_MS);
    e->evcorr = evcorr_new(EVCORR_CAPACITY);
    e->rest = restmetrics_new(o->kc ? o->kc->server : NULL);
    if (!e->buckets || !e->multi || !e->queue || !e->journal || !e->evagg || !e->evcorr || !e->rest ||
        curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX) != CURLM_OK ||
        curl_multi_setopt(e->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, (long)e->max_in_flight) != CURLM_OK) {
        snprintf(err, errlen, "cannot set up libcurl multi or the executor's tables");
        engine_destroy(&e);
        return NULL;
    }
    if (o->journal_path) {
        e->now_ms = o->now_ms;
        if (journal_open_file(e->journal, o->journal_path, e->kc && e->kc->server ? e->kc->server : "", o->now_ms, o->now_unix_ms, &e->replayed,
                              err, errlen) < 0 ||
            (resume_pending(e) < 0 && snprintf(err, errlen, "out of memory resuming the journal's actions"))) {
            engine_destroy(&e);
            return NULL;
        }
    }
    return e;
}

void engine_destroy(engine_t **ep)
{
    if (!ep || !*ep) return;
    engine_t *e = *ep;
    while (e->all) job_free(e->all);
    fairq_destroy(&e->queue, NULL); /* its items were the jobs just freed */
    strmap_destroy(&e->buckets);
    journal_destroy(&e->journal);
    evagg_destroy(&e->evagg);
    evcorr_destroy(&e->evcorr);
    restmetrics_destroy(&e->rest);
    if (e->multi) curl_multi_cleanup(e->multi);
    free(e);
    *ep = NULL;
}

const journal_replay_t *engine_replayed(const engine_t *e) { return &e->replayed; }
uint64_t engine_in_flight(const engine_t *e) { return e->started; }
uint64_t engine_queued(const engine_t *e) { return fairq_len(e->queue) + e->nparked; }
const engine_stats_t *engine_stats(const engine_t *e) { return &e->st; }
void engine_metrics_render(const engine_t *e, sbuf_t *out) { if (e) restmetrics_render(e->rest, out); }
