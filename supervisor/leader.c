/* leader.c - the election thread and its Lease client. See leader.h. */
#include "leader.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "errfmt.h"
#include "khttp.h"
#include "kubeconfig.h"
#include "log.h"
#include "worker.h"

#define WAIT_MAX_MS 1000

struct sup_leader {
    kubeconfig_t kc;
    CURL *curl;
    struct curl_slist *headers;
    char lease_path[SUP_LEASE_NAME_MAX + 160];      /* the Lease */
    char collection_path[SUP_LEASE_NAME_MAX + 160]; /* its namespace's leases */
    char events_path[SUP_LEASE_NAME_MAX + 160];     /* its namespace's events */
    sup_elector_t e;
    pthread_t thread;
    bool thread_started;
    int stop_r, stop_w;     /* main -> thread: stop */
    int wake_r, wake_w;     /* thread -> main: leadership changed */
    _Atomic bool abort_requests;
    pthread_mutex_t mu;     /* guards view */
    sup_leader_view_t view;
    log_limit_t fail_log;
    char last_holder[SUP_LEASE_IDENTITY_MAX];
};

/* ---- the API client ---- */

static int abort_cb(void *p, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt;
    (void)dn;
    (void)ut;
    (void)un;
    sup_leader_t *l = p;
    return atomic_load(&l->abort_requests) ? 1 : 0;
}

static void drop_handle(sup_leader_t *l)
{
    if (l->curl) curl_easy_cleanup(l->curl);
    curl_slist_free_all(l->headers);
    l->curl = NULL;
    l->headers = NULL;
}

/* One handle, kept for connection reuse; made again after a 401 (token). */
static int ensure_handle(sup_leader_t *l)
{
    if (l->curl) return 0;
    char err[256];
    l->curl = khttp_easy_new(&l->kc, &l->headers, err, sizeof err);
    if (!l->curl) {
        LOGE("leader election: cannot make an API client", "error", err);
        return -1;
    }
    struct curl_slist *h = curl_slist_append(l->headers, "Content-Type: application/json");
    if (!h || curl_easy_setopt(l->curl, CURLOPT_HTTPHEADER, h) != CURLE_OK ||
        curl_easy_setopt(l->curl, CURLOPT_NOPROGRESS, 0L) != CURLE_OK ||
        curl_easy_setopt(l->curl, CURLOPT_XFERINFOFUNCTION, abort_cb) != CURLE_OK ||
        curl_easy_setopt(l->curl, CURLOPT_XFERINFODATA, l) != CURLE_OK ||
        curl_easy_setopt(l->curl, CURLOPT_WRITEFUNCTION, khttp_buf_write) != CURLE_OK) {
        if (h) l->headers = h;
        LOGE("leader election: cannot configure the API client");
        drop_handle(l);
        return -1;
    }
    l->headers = h;
    return 0;
}

static int set_request(sup_leader_t *l, sup_lease_verb_t verb, const char *body, uint64_t timeout_ms,
                       khttp_buf_t *buf)
{
    char url[2048];
    const char *path = verb == SUP_LEASE_CREATE  ? l->collection_path
                       : verb == SUP_LEASE_EVENT ? l->events_path
                                                 : l->lease_path;
    if (khttp_url(url, sizeof url, &l->kc, path) < 0) return -1;
    CURL *h = l->curl;
    CURLcode rc = curl_easy_setopt(h, CURLOPT_URL, url);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
    if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_WRITEDATA, buf);
    if (verb == SUP_LEASE_GET) {
        if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, NULL);
        if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else {
        if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        if (rc == CURLE_OK) rc = curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, body);
        if (rc == CURLE_OK)
            rc = curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, verb == SUP_LEASE_UPDATE ? "PUT" : NULL);
    }
    return rc == CURLE_OK ? 0 : -1;
}

static void after_unauthorized(sup_leader_t *l)
{
    char err[256];
    if (!l->kc.token_file) return;
    if (kubeconfig_reload_token(&l->kc, err, sizeof err) < 0)
        LOGW("leader election: cannot re-read the token", "error", err);
    drop_handle(l);
}

static int api_call(void *ctx, sup_lease_verb_t verb, const char *body, uint64_t timeout_ms,
                    sup_lease_resp_t *out)
{
    sup_leader_t *l = ctx;
    memset(out, 0, sizeof *out);
    if (ensure_handle(l) < 0) return -1;
    khttp_buf_t buf;
    khttp_buf_init(&buf, SUP_LEASE_BODY_MAX);
    if (set_request(l, verb, body, timeout_ms, &buf) < 0) {
        khttp_buf_free(&buf);
        LOGE("leader election: cannot set up the request");
        return -1;
    }
    CURLcode rc = curl_easy_perform(l->curl);
    long code = 0;
    if (rc == CURLE_OK) curl_easy_getinfo(l->curl, CURLINFO_RESPONSE_CODE, &code);
    if (rc != CURLE_OK && log_limit_allow(&l->fail_log))
        LOGW("leader election: request failed", "lease", l->lease_path, "error",
             buf.overflow ? "answer too large" : curl_easy_strerror(rc));
    out->code = rc == CURLE_OK ? code : 0;
    out->body = buf.data; /* ownership passes to the elector */
    out->len = buf.len;
    if (code == 401) after_unauthorized(l);
    return 0;
}

static uint64_t mono_ms(void *ctx)
{
    (void)ctx;
    return now_mono_ms();
}

static int64_t wall_us(void *ctx)
{
    (void)ctx;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* ---- the thread ---- */

static void publish(sup_leader_t *l, sup_lease_event_t ev)
{
    pthread_mutex_lock(&l->mu);
    l->view.leading = l->e.leading;
    l->view.renewed_ms = l->e.renewed_ms;
    snprintf(l->view.holder, sizeof l->view.holder, "%s", sup_elector_holder(&l->e));
    snprintf(l->view.last_error, sizeof l->view.last_error, "%s", l->e.last_error);
    l->view.bad_answers = l->e.bad_answers;
    l->view.failed_tries = l->e.failed_tries;
    if (ev == SUP_LEASE_STARTED) l->view.terms++;
    pthread_mutex_unlock(&l->mu);
    if (ev != SUP_LEASE_NOCHANGE) {
        ssize_t n;
        do n = write(l->wake_w, "x", 1);
        while (n < 0 && errno == EINTR);
    }
}

static void log_event(sup_leader_t *l, sup_lease_event_t ev)
{
    const char *holder = sup_elector_holder(&l->e);
    if (ev == SUP_LEASE_STARTED)
        LOGI("successfully acquired lease; leading: starting the executor and the controllers",
             "lease", l->view.lease, "identity", l->e.cfg.identity);
    else if (ev == SUP_LEASE_STOPPED)
        LOGW("stopped leading: stopping the executor and the controllers", "lease", l->view.lease,
             "reason", l->e.last_error[0] ? l->e.last_error : "unknown");
    if (strcmp(holder, l->last_holder) != 0) {
        if (holder[0] && strcmp(holder, l->e.cfg.identity) != 0)
            LOGI("new leader elected", "lease", l->view.lease, "holder", holder);
        snprintf(l->last_holder, sizeof l->last_holder, "%s", holder);
    }
    if (ev == SUP_LEASE_NOCHANGE && l->e.leading && l->e.last_error[0] && log_limit_allow(&l->fail_log))
        LOGW("failed to renew lease", "lease", l->view.lease, "reason", l->e.last_error);
}

static void record_event(sup_leader_t *l, const char *what)
{
    if (sup_elector_record_event(&l->e, what) < 0 && log_limit_allow(&l->fail_log))
        LOGW("leader election: could not record an Event", "lease", l->view.lease, "event", what);
}

static bool wait_or_stop(sup_leader_t *l)
{
    uint64_t now = now_mono_ms(), next = sup_elector_next_ms(&l->e);
    uint64_t left = ms_until(next, now);
    int timeout = left > WAIT_MAX_MS ? WAIT_MAX_MS : (int)left;
    struct pollfd p = { .fd = l->stop_r, .events = POLLIN };
    int rc = poll(&p, 1, timeout);
    return rc > 0 || atomic_load(&l->abort_requests);
}

static void *run(void *arg)
{
    sup_leader_t *l = arg;
    LOGI("attempting to acquire leader lease", "lease", l->view.lease, "identity", l->e.cfg.identity);
    for (;;) {
        uint64_t before = l->e.failed_tries;
        sup_lease_event_t ev = sup_elector_step(&l->e);
        if (atomic_load(&l->abort_requests)) break;
        publish(l, ev);
        if (ev != SUP_LEASE_NOCHANGE || l->e.failed_tries != before) log_event(l, ev);
        if (ev != SUP_LEASE_NOCHANGE) record_event(l, ev == SUP_LEASE_STARTED ? "became leader" : "stopped leading");
        if (wait_or_stop(l)) break;
    }
    return NULL;
}

/* ---- set-up ---- */

void sup_leader_lease_config(const sup_config_t *c, sup_lease_config_t *out)
{
    memset(out, 0, sizeof *out);
    snprintf(out->ns, sizeof out->ns, "%s", c->leader_elect_namespace);
    if (c->leader_elect_name[0])
        snprintf(out->name, sizeof out->name, "%s", c->leader_elect_name);
    else
        snprintf(out->name, sizeof out->name, "kubus-shard-%d-of-%d", c->shard_index, c->shard_count);
    out->lease_ms = c->leader_elect_lease_ms;
    out->renew_deadline_ms = c->leader_elect_renew_ms;
    out->retry_ms = c->leader_elect_retry_ms;
}

static int make_pipe(int *r, int *w)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) return -1;
    *r = p[0];
    *w = p[1];
    return 0;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

static void destroy(sup_leader_t *l)
{
    drop_handle(l);
    kubeconfig_free(&l->kc);
    sup_elector_free(&l->e);
    close_fd(&l->stop_r);
    close_fd(&l->stop_w);
    close_fd(&l->wake_r);
    close_fd(&l->wake_w);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

static int setup(sup_leader_t *l, const sup_config_t *c, char *err, size_t errlen)
{
    sup_lease_config_t lc;
    sup_leader_lease_config(c, &lc);
    if (sup_lease_identity(lc.identity, sizeof lc.identity) < 0)
        return errfmt(err, errlen, "cannot make a leader election identity: %s", strerror(errno));
    if (sup_lease_config_check(&lc, err, errlen) < 0) return -1;
    if (kubeconfig_load(c->kubeconfig[0] ? c->kubeconfig : NULL, c->master[0] ? c->master : NULL,
                        &l->kc, err, errlen) < 0)
        return -1;
    int n1 = snprintf(l->collection_path, sizeof l->collection_path,
                      "/apis/coordination.k8s.io/v1/namespaces/%s/leases", lc.ns);
    int n2 = snprintf(l->lease_path, sizeof l->lease_path, "%s/%s", l->collection_path, lc.name);
    int n3 = snprintf(l->events_path, sizeof l->events_path, "/api/v1/namespaces/%s/events", lc.ns);
    if (n1 < 0 || n2 < 0 || n3 < 0 || (size_t)n2 >= sizeof l->lease_path ||
        (size_t)n3 >= sizeof l->events_path)
        return errfmt(err, errlen, "lease path too long");
    if (make_pipe(&l->stop_r, &l->stop_w) < 0 || make_pipe(&l->wake_r, &l->wake_w) < 0)
        return errfmt(err, errlen, "pipe2: %s", strerror(errno));
    uint64_t seed = 0;
    for (const char *p = lc.identity; *p; p++) seed = seed * 131 + (unsigned char)*p;
    sup_lease_ops_t ops = { .call = api_call, .mono_ms = mono_ms, .wall_us = wall_us, .ctx = l };
    sup_elector_init(&l->e, &lc, &ops, seed);
    snprintf(l->view.lease, sizeof l->view.lease, "%s/%s", lc.ns, lc.name);
    snprintf(l->view.identity, sizeof l->view.identity, "%s", lc.identity);
    return 0;
}

sup_leader_t *sup_leader_start(const sup_config_t *c, char *err, size_t errlen)
{
    sup_leader_t *l = calloc(1, sizeof *l);
    if (!l) {
        errfmt(err, errlen, "out of memory");
        return NULL;
    }
    l->stop_r = l->stop_w = l->wake_r = l->wake_w = -1;
    l->fail_log = (log_limit_t)LOG_LIMIT_INIT(0.2, 3.0);
    if (pthread_mutex_init(&l->mu, NULL) != 0) {
        errfmt(err, errlen, "pthread_mutex_init failed");
        free(l);
        return NULL;
    }
    if (setup(l, c, err, errlen) < 0) {
        destroy(l);
        return NULL;
    }
    if (pthread_create(&l->thread, NULL, run, l) != 0) {
        errfmt(err, errlen, "cannot start the leader election thread");
        destroy(l);
        return NULL;
    }
    l->thread_started = true;
    return l;
}

int sup_leader_fd(const sup_leader_t *l) { return l->wake_r; }

bool sup_leader_take(sup_leader_t *l)
{
    char buf[64];
    while (read(l->wake_r, buf, sizeof buf) > 0) {
    }
    pthread_mutex_lock(&l->mu);
    bool leading = l->view.leading;
    pthread_mutex_unlock(&l->mu);
    return leading;
}

void sup_leader_view(sup_leader_t *l, sup_leader_view_t *v)
{
    pthread_mutex_lock(&l->mu);
    *v = l->view;
    pthread_mutex_unlock(&l->mu);
}

void sup_leader_stop(sup_leader_t **lp)
{
    sup_leader_t *l = *lp;
    if (!l) return;
    if (l->thread_started) {
        atomic_store(&l->abort_requests, true);
        ssize_t n;
        do n = write(l->stop_w, "x", 1);
        while (n < 0 && errno == EINTR);
        pthread_join(l->thread, NULL);
        atomic_store(&l->abort_requests, false);
    }
    /* The thread is gone: the elector is ours alone now. */
    if (l->e.leading) record_event(l, "stopped leading");
    int rc = sup_elector_release(&l->e);
    if (rc < 0)
        LOGW("failed to release the lease; a standby takes over when it expires", "lease",
             l->view.lease, "reason", l->e.last_error);
    else if (rc > 0)
        LOGI("released the lease", "lease", l->view.lease);
    destroy(l);
    *lp = NULL;
}
