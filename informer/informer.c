/* informer.c - flags, set-up and the single-threaded loop of kubus-informer.
 * See informer.h.
 *
 * The loop, every turn (at most 100 ms apart):
 *   test hooks -> start due requests -> curl_multi_perform -> finished
 *   transfers -> flush the pending batches -> snapshot and replay requests
 *   -> heartbeat/stats -> worker_tick -> curl_multi_poll (API sockets + the
 *   ROUTER's ZMQ_FD).
 * Hooks run before transfers are read, so a watch dropped by a hook never
 * delivers what arrived while the process was stopped (the 410 e2e test).
 */
#include "informer.h"

#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <zmq.h>

#include "khttp.h"
#include "kubus.pb-c.h"
#include "msg.h"
#include "turnarena.h"
#include "view.h"

#define PUB_SNDHWM BUS_EVENTS_HWM   /* batches: see lib/bus.h for the bytes */
#define LOOP_MAX_WAIT_MS 100       /* until ready */
#define LOOP_IDLE_WAIT_MS 1000     /* once ready: the status line is due every second anyway */

/* ---- flags ---- */

static int parse_positive(const char *v, long max, long *out)
{
    if (!v || !*v) return -1;
    char *end = NULL;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (errno || !end || *end || n < 1 || n > max) return -1;
    *out = n;
    return 0;
}

static int copy_flag(char *dst, size_t dstlen, const char *v)
{
    if (!v || !*v || strlen(v) >= dstlen) return WORKER_FLAG_BAD;
    snprintf(dst, dstlen, "%s", v);
    return WORKER_FLAG_OK;
}

int informer_parse_flag(void *state, const char *flag, const char *value, bool *used_value)
{
    informer_t *in = state;
    long n;
    *used_value = value != NULL;
    if (strcmp(flag, "resources") == 0) return copy_flag(in->resources_csv, sizeof in->resources_csv, value);
    if (strcmp(flag, "stats-file") == 0) return copy_flag(in->stats_file, sizeof in->stats_file, value);
    if (strcmp(flag, "test-stale-rv-resource") == 0)
        return copy_flag(in->test_stale_rv_resource, sizeof in->test_stale_rv_resource, value);
    if (strcmp(flag, "page-size") == 0) {
        if (parse_positive(value, 100000, &n) < 0) return WORKER_FLAG_BAD;
        in->page_size = (int)n;
        return WORKER_FLAG_OK;
    }
    if (strcmp(flag, "replay-bytes") == 0) {
        if (parse_positive(value, 1L << 34, &n) < 0) return WORKER_FLAG_BAD;
        in->replay_bytes = n;
        return WORKER_FLAG_OK;
    }
    if (strcmp(flag, "test-stale-rv-after") == 0) {
        if (parse_positive(value, 86400, &n) < 0) return WORKER_FLAG_BAD;
        in->test_stale_rv_after_s = (int)n;
        return WORKER_FLAG_OK;
    }
    *used_value = false;
    return WORKER_FLAG_UNKNOWN;
}

/* ---- publishing ---- */

void informer_event_fill(const informer_t *in, const reflector_t *r, int type, const objcache_entry_t *e,
                         msg_envelope_t *env, msg_event_t *ev)
{
    kubus__v1__envelope__init(env);
    kubus__v1__watch_event__init(ev);
    env->version = MSG_VERSION;
    env->body_case = KUBUS__V1__ENVELOPE__BODY_EVENT;
    env->event = ev;
    ev->epoch = in->epoch;
    ev->seq = reflector_seq(r);
    ev->resource = (char *)reflector_resource(r);
    ev->namespace_ = (char *)e->ns;
    ev->name = (char *)e->name;
    ev->type = (Kubus__V1__EventType)type;
    ev->object.data = (uint8_t *)e->json;
    ev->object.len = e->json_len;
    ev->resource_version = e->rv;
    ev->uid = e->uid;
    ev->view = view_version(ev->resource);
}

/* ---- set-up ---- */

static int add_resources(informer_t *in, const reflector_env_t *env)
{
    char csv[sizeof in->resources_csv], *save = NULL;
    snprintf(csv, sizeof csv, "%s", in->resources_csv[0] ? in->resources_csv : INFORMER_DEFAULT_RESOURCES);
    for (char *tok = strtok_r(csv, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        const kapi_resource_t *res = kapi_resource(tok);
        if (!res) { LOGE("--resources: unknown resource", "resource", tok); return -1; }
        if (informer_find(in, tok)) { LOGE("--resources: listed twice", "resource", tok); return -1; }
        if (in->nrefl == INFORMER_MAX_RESOURCES) { LOGE("--resources: too many"); return -1; }
        in->refl[in->nrefl] = reflector_new(res, env);
        if (!in->refl[in->nrefl]) { LOGE("out of memory"); return -1; }
        in->nrefl++;
    }
    if (in->nrefl == 0) { LOGE("--resources: empty list"); return -1; }
    return 0;
}

static void *open_socket(informer_t *in, int type, bus_endpoint_t ep, bool bind)
{
    void *s = bus_open_server(worker_zctx(in->w), type, &worker_opts(in->w)->bus, ep, bind,
                              type == ZMQ_PUB ? PUB_SNDHWM : 0);
    if (!s) LOGE("cannot open bus socket", "endpoint", bus_endpoint_name(ep), "error", zmq_strerror(errno));
    return s;
}

static int pick_epoch(informer_t *in)
{
    do {
        if (getrandom(&in->epoch, sizeof in->epoch, 0) != (ssize_t)sizeof in->epoch) return -1;
    } while (in->epoch == 0);
    return 0;
}

/* On an ipc bus the resources that travel as views (view.h) are kept in
 * the shard's store too, which the controllers map instead of caching
 * copies (store.h). A tcp bus may reach other machines: no store there.
 * An informer that cannot create its store does not start. */
static int open_store(informer_t *in, const bus_config_t *bus)
{
    if (bus->tcp_host[0]) return 0;
    const char *names[INFORMER_MAX_RESOURCES + 1];
    int n = 0;
    for (int i = 0; i < in->nrefl; i++) {
        in->stored[i] = view_version(reflector_resource(in->refl[i])) != 0;
        if (!in->stored[i]) continue;
        names[n++] = reflector_resource(in->refl[i]);
        reflector_forget_bytes(in->refl[i]);   /* one copy: the store's */
    }
    names[n] = NULL;
    if (n == 0) return 0;
    char err[512];
    in->store = store_create(bus->dir, in->epoch, names, err, sizeof err);
    if (!in->store) {
        LOGE("cannot create the store", "error", err);
        return -1;
    }
    return 0;
}

int informer_init(worker_t *w, void *state)
{
    informer_t *in = state;
    const worker_opts_t *o = worker_opts(w);
    char err[1024];
    in->w = w;
    turn_arena_install();   /* the page and watch windows' trees (reflector.c) */
    in->bad_log = (log_limit_t)LOG_LIMIT_INIT(1.0, 20.0);
    if (in->page_size == 0) in->page_size = 500;
    if (pick_epoch(in) < 0) { LOGE("getrandom failed", "error", strerror(errno)); return -1; }
    if (kubeconfig_load(o->kubeconfig[0] ? o->kubeconfig : NULL, o->master[0] ? o->master : NULL, &in->kc, err,
                        sizeof err) < 0) {
        LOGE("cannot load kubeconfig", "error", err);
        return -1;
    }
    if (khttp_global_init() < 0 || !(in->multi = curl_multi_init())) { LOGE("cannot initialise libcurl"); return -1; }
    reflector_env_t env = { .multi = in->multi, .kc = &in->kc, .page_size = in->page_size,
                            .shard_index = o->shard_index, .shard_count = o->shard_count,
                            .sink = { informer_publish_event, in }, .bad_log = &in->bad_log };
    if (add_resources(in, &env) < 0) return -1;
    for (int i = 0; i < in->nrefl; i++) batch_builder_init(&in->live[i]);
    in->ring = replay_ring_new(in->replay_bytes ? (size_t)in->replay_bytes : INFORMER_REPLAY_BYTES, in->nrefl);
    if (!in->ring) { LOGE("out of memory"); return -1; }
    if (in->test_stale_rv_after_s && !informer_find(in, in->test_stale_rv_resource[0] ? in->test_stale_rv_resource
                                                                                       : reflector_resource(in->refl[0]))) {
        LOGE("--test-stale-rv-resource is not among --resources");
        return -1;
    }
    if (open_store(in, &o->bus) < 0) return -1;
    in->pub = open_socket(in, ZMQ_PUB, BUS_EP_EVENTS_IN, false);
    in->router = open_socket(in, ZMQ_ROUTER, BUS_EP_SNAPSHOT, true);
    if (!in->pub || !in->router) return -1;
    char ep[32], shard[32];
    snprintf(ep, sizeof ep, "%" PRIu64, in->epoch);
    snprintf(shard, sizeof shard, "%d/%d", o->shard_index, o->shard_count);
    LOGI("informer starting", "epoch", ep, "server", in->kc.server, "source", in->kc.source, "shard", shard);
    return 0;
}

void informer_fini(worker_t *w, void *state)
{
    (void)w;
    informer_t *in = state;
    if (in->stats_file[0] && in->nrefl) informer_write_stats(in); /* final counters, while they exist */
    for (int i = 0; i < in->nrefl; i++) {
        reflector_destroy(&in->refl[i]); /* removes their handles */
        batch_builder_fini(&in->live[i]);
    }
    replay_ring_destroy(&in->ring);
    store_close(&in->store);
    in->nrefl = 0;
    if (in->multi) curl_multi_cleanup(in->multi);
    in->multi = NULL;
    if (in->pub) zmq_close(in->pub);
    if (in->router) zmq_close(in->router);
    in->pub = in->router = NULL;
    kubeconfig_free(&in->kc);
    curl_global_cleanup();
}

reflector_t *informer_find(const informer_t *in, const char *resource)
{
    for (int i = 0; i < in->nrefl; i++)
        if (strcmp(reflector_resource(in->refl[i]), resource) == 0) return in->refl[i];
    return NULL;
}

/* ---- the loop ---- */

static void run_test_hooks(informer_t *in, uint64_t now)
{
    if (!in->test_stale_rv_after_s || in->test_stale_done) return;
    if (now - in->started_ms < (uint64_t)in->test_stale_rv_after_s * 1000u) return;
    in->test_stale_done = true;
    const char *res = in->test_stale_rv_resource[0] ? in->test_stale_rv_resource : reflector_resource(in->refl[0]);
    reflector_test_stale_rv(informer_find(in, res), now);
}

static void finish_transfers(informer_t *in, uint64_t now)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(in->multi, &left))) {
        if (m->msg != CURLMSG_DONE) continue;
        reflector_t *r = NULL;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        CURLcode result = m->data.result;
        CURL *easy = m->easy_handle; /* m is invalid once the handle is removed */
        if (r) reflector_done(r, easy, result, now);
    }
}

static void update_readiness(informer_t *in)
{
    uint64_t total = 0, lists = 0;
    bool all = true;
    for (int i = 0; i < in->nrefl; i++) {
        total += reflector_seq(in->refl[i]);
        lists += reflector_stats(in->refl[i])->relists;
        all = all && reflector_synced(in->refl[i]);
    }
    worker_set_progress(in->w, total);
    /* A list passes every page through jansson trees and leaves the heap
     * fragmented: give the free pages back once the lists are done, so the
     * process's memory is its state, not that peak (a few ms). */
    if (all && (!in->ready || lists != in->trimmed_relists)) {
        in->trimmed_relists = lists;
        malloc_trim(0);
    }
    if (all && !in->ready) {
        in->ready = true;
        worker_set_ready(in->w, true);
        LOGI("every resource has completed its first list: ready");
    }
}

static void periodic(informer_t *in, uint64_t now)
{
    update_readiness(in);
    if (now >= in->next_status_ms) {
        store_reap_readers(in->store);   /* a reader killed mid-transaction pins pages */
        informer_send_status(in);
        if (in->stats_file[0]) informer_write_stats(in);
        in->next_status_ms = now + 1000;
    }
    if (now >= in->next_log_ms) {
        if (in->next_log_ms) informer_log_stats(in);
        in->next_log_ms = now + 30000;
    }
}

/* How long the loop may sleep: until the first thing due (a reflector's
 * next request, the status and stats lines, the worker's heartbeat), at
 * most 1 s once ready (100 ms before, and while a test hook waits). A fixed
 * 100 ms woke an idle informer 10 times a second for nothing. libcurl
 * shortens the wait itself for its own timers (curl_multi_poll). */
static long wait_budget_ms(const informer_t *in, uint64_t now)
{
    bool hook = in->test_stale_rv_after_s && !in->test_stale_done;
    uint64_t t = in->ready && !hook ? LOOP_IDLE_WAIT_MS : LOOP_MAX_WAIT_MS;
    uint64_t due[] = { in->next_status_ms, in->next_log_ms };
    for (size_t i = 0; i < sizeof due / sizeof due[0]; i++) {
        uint64_t left = ms_until(due[i], now);
        if (left < t) t = left;
    }
    for (int i = 0; i < in->nrefl; i++) {   /* UINT64_MAX (nothing due) ends far past the cap */
        uint64_t left = ms_until(reflector_due_ms(in->refl[i]), now);
        if (left < t) t = left;
    }
    uint64_t hb = worker_ms_until_heartbeat(in->w);
    return (long)(hb < t ? hb : t);
}

/* The wait, woken by API traffic or by the ROUTER. Its ZMQ_FD is
 * edge-triggered and a send on the socket (a snapshot reply) can take the
 * edge of a request that arrived meanwhile: when ZMQ_EVENTS already shows
 * input, the loop does not sleep at all. */
static void wait_for_work(informer_t *in)
{
    int events = 0;
    size_t evlen = sizeof events;
    if (zmq_getsockopt(in->router, ZMQ_EVENTS, &events, &evlen) == 0 && (events & ZMQ_POLLIN)) return;
    int fd = -1;
    size_t fdlen = sizeof fd;
    struct curl_waitfd extra = { .events = CURL_WAIT_POLLIN };
    unsigned n = 0;
    if (zmq_getsockopt(in->router, ZMQ_FD, &fd, &fdlen) == 0 && fd >= 0) {
        extra.fd = fd;
        n = 1;
    }
    curl_multi_poll(in->multi, n ? &extra : NULL, n, (int)wait_budget_ms(in, now_mono_ms()), NULL);
}

/* A reflector ready to start its next request (say, the next list page)
 * should not wait for the poll timeout. */
static bool reflectors_due(const informer_t *in, uint64_t now)
{
    for (int i = 0; i < in->nrefl; i++)
        if (reflector_due_ms(in->refl[i]) <= now) return true;
    return false;
}

int informer_run(worker_t *w, void *state)
{
    informer_t *in = state;
    in->started_ms = now_mono_ms();
    while (worker_tick(w)) {
        uint64_t now = now_mono_ms();
        run_test_hooks(in, now);
        for (int i = 0; i < in->nrefl; i++) reflector_tick(in->refl[i], now);
        int running = 0;
        CURLMcode mc = curl_multi_perform(in->multi, &running);
        if (mc != CURLM_OK) LOGE("curl_multi_perform failed", "error", curl_multi_strerror(mc));
        finish_transfers(in, now_mono_ms());
        informer_flush_live(in);   /* before snapshots and replays: they are valid at the seqs published */
        informer_serve_snapshots(in);
        periodic(in, now);
        if (!reflectors_due(in, now_mono_ms())) wait_for_work(in);
    }
    return in->fatal ? 1 : 0;
}
