/* bench_sub.c - kubus-bench-sub: a subscriber built on lib/subscriber.c (the
 * Clone-pattern client every controller uses) that measures what it gets.
 * Callbacks keep nothing: what is measured is the bus and the subscriber
 * library (decode, ordering, JSON parse per event), not a controller's cache.
 *
 * --mode=throughput --expect=N [--ready-file=F]
 *     Follows pods; writes F once synced (the publishers wait for it), then
 *     times the live events from the first callback to the one that brings
 *     the pods seq to N. Prints PREFIX_events, _seconds, _events_per_s,
 *     _mb_per_s (object JSON bytes, 10^6 B), and the gap/resync counters.
 * --mode=latency --ns=NS [--progress-file=F]
 *     For every live pods event of namespace NS: now - WatchEvent.recv_unix_us
 *     (the informer's stamp) at the moment the subscriber calls back. The
 *     subscriber hands callbacks no recv_unix_us, so a second, raw SUB on
 *     "E/pods/" reads the stamps (of the batches' events of NS, and of single
 *     events) and they are joined by seq afterwards (same epoch, one
 *     resource: seq identifies the event). Runs until stopped
 *     (SIGTERM); F gets "EVENTS DELETED" counts every 200 ms. Prints
 *     PREFIX_events, _p50_ms, _p90_ms, _p99_ms, _max_ms.
 * --mode=snapshot
 *     Follows pods; exits once synced. Prints PREFIX_objects (SNAPSHOT events
 *     delivered), _create_to_synced_ms (subscriber_create -> synced, includes
 *     waiting for the informer's next once-a-second heartbeat),
 *     _request_to_synced_ms (from the heartbeat that let it ask, i.e. the
 *     SnapshotRequest, to synced), _rss_kib and _peak_rss_kib of this process.
 * --no-parse: the subscriber defers the objects' JSON parse (defer_parse) and
 *     the callbacks do not parse either: the bus and the subscriber's stream
 *     handling alone, without the per-event jansson parse a controller pays.
 * --prefix=P names the printed figures (default "sub").
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "bus.h"
#include "flags.h"
#include "kubus.pb-c.h"
#include "msg.h"
#include "subscriber.h"
#include "worker.h"

typedef enum { M_THROUGHPUT, M_LATENCY, M_SNAPSHOT } bench_mode_t;

typedef struct {
    uint64_t *v;
    size_t cap;
} u64map_t;   /* seq -> value, 0 = none */

typedef struct {
    /* flags */
    bench_mode_t mode;
    long expect;
    char ns[256], ready_file[1024], progress_file[1024], prefix[64];
    /* state */
    worker_t *w;
    subscriber_t *sub;
    void *raw;                /* latency: the side SUB that reads stamps */
    struct timespec t_create, t_request, t_synced, t_first, t_last;
    bool have_request, synced, have_first, done, no_parse;
    uint64_t live, snap_objects, bytes;
    u64map_t stamp, called;   /* latency: informer stamp and callback time (unix us) by seq */
    uint64_t ns_events, ns_deleted, next_progress_ms;
} bsub_t;

static bsub_t g_b;

/* ---- small helpers ---- */

static double secs_between(const struct timespec *a, const struct timespec *b)
{
    return (double)(b->tv_sec - a->tv_sec) + (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

static uint64_t unix_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int map_set(u64map_t *m, uint64_t k, uint64_t v)
{
    if (k >= m->cap) {
        size_t cap = m->cap ? m->cap : 4096;
        while (cap <= k) cap *= 2;
        uint64_t *p = realloc(m->v, cap * sizeof *p);
        if (!p) return -1;
        memset(p + m->cap, 0, (cap - m->cap) * sizeof *p);
        m->v = p;
        m->cap = cap;
    }
    m->v[k] = v;
    return 0;
}

static uint64_t map_get(const u64map_t *m, uint64_t k) { return k < m->cap ? m->v[k] : 0; }

/* VmRSS / VmHWM of this process in KiB (0 if unreadable). */
static long proc_status_kib(const char *key)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    long v = 0;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') v = strtol(line + kl + 1, NULL, 10);
    if (f) fclose(f);
    return v;
}

/* Writes text to path atomically (tmp + rename). */
static void write_file(const char *path, const char *text)
{
    char tmp[1100];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    bool ok = write(fd, text, strlen(text)) == (ssize_t)strlen(text);
    ok = close(fd) == 0 && ok;
    if (ok) rename(tmp, path);
    else unlink(tmp);
}

/* ---- flags ---- */

static int flag_rc(int rc, const char *err)
{
    if (rc < 0) fprintf(stderr, "kubus-bench-sub: %s\n", err);
    return rc < 0 ? WORKER_FLAG_BAD : WORKER_FLAG_OK;
}

static int bsub_flag(void *state, const char *flag, const char *value, bool *used)
{
    bsub_t *b = state;
    char err[256] = "";
    *used = value != NULL;
    if (strcmp(flag, "no-parse") == 0) {
        *used = false;
        b->no_parse = true;
        return WORKER_FLAG_OK;
    }
    if (strcmp(flag, "mode") == 0) {
        if (value && strcmp(value, "throughput") == 0) b->mode = M_THROUGHPUT;
        else if (value && strcmp(value, "latency") == 0) b->mode = M_LATENCY;
        else if (value && strcmp(value, "snapshot") == 0) b->mode = M_SNAPSHOT;
        else return flag_rc(-1, "--mode: throughput, latency or snapshot");
        return WORKER_FLAG_OK;
    }
    if (strcmp(flag, "expect") == 0) return flag_rc(flags_long(flag, value, 1, 1000000000, &b->expect, err, sizeof err), err);
    struct { const char *name; char *dst; size_t len; } strs[] = {
        { "ns", b->ns, sizeof b->ns }, { "ready-file", b->ready_file, sizeof b->ready_file },
        { "progress-file", b->progress_file, sizeof b->progress_file }, { "prefix", b->prefix, sizeof b->prefix },
    };
    for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
        if (strcmp(flag, strs[i].name) == 0)
            return flag_rc(flags_string(flag, value, strs[i].dst, strs[i].len, false, err, sizeof err), err);
    *used = false;
    return WORKER_FLAG_UNKNOWN;
}

/* ---- callbacks ---- */

static void on_event(void *ctx, const subscriber_event_t *ev, json_t *obj)
{
    (void)obj;
    bsub_t *b = ctx;
    if (ev->type == KUBUS__V1__EVENT_TYPE__SNAPSHOT) { b->snap_objects++; return; }
    b->live++;
    b->bytes += ev->json_len;
    if (b->mode == M_THROUGHPUT) {
        if (!b->have_first) { clock_gettime(CLOCK_MONOTONIC, &b->t_first); b->have_first = true; }
        if (ev->seq >= (uint64_t)b->expect) { clock_gettime(CLOCK_MONOTONIC, &b->t_last); b->done = true; }
    } else if (b->mode == M_LATENCY && strcmp(ev->ns, b->ns) == 0) {
        map_set(&b->called, ev->seq, unix_us());
        b->ns_events++;
        if (ev->type == KUBUS__V1__EVENT_TYPE__DELETED) b->ns_deleted++;
    }
}

static void on_resync_end(void *ctx, const char *resource, uint64_t epoch)
{
    (void)resource;
    (void)epoch;
    bsub_t *b = ctx;
    /* A resync after lost messages covers seqs whose events never come live. */
    if (b->mode == M_THROUGHPUT && b->expect && subscriber_seq(b->sub, "pods") >= (uint64_t)b->expect) {
        clock_gettime(CLOCK_MONOTONIC, &b->t_last);
        b->done = true;
    }
}

/* ---- the side channel (latency) ---- */

static void *open_raw(bsub_t *b)
{
    char topic[BUS_TOPIC_MAX];
    void *s = bus_open(worker_zctx(b->w), ZMQ_SUB, &worker_opts(b->w)->bus, BUS_EP_EVENTS, false);
    int hwm = BUS_EVENTS_HWM;
    /* Batches mix namespaces under the resource's topic: take it all, filter below. */
    if (!s || bus_topic_resource(topic, sizeof topic, "pods") < 0 ||
        zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm) < 0 || zmq_setsockopt(s, ZMQ_SUBSCRIBE, topic, strlen(topic)) < 0) {
        if (s) zmq_close(s);
        return NULL;
    }
    return s;
}

static void drain_raw(bsub_t *b)
{
    msg_envelope_t *env;
    char prefix[BUS_TOPIC_MAX];
    while ((env = bus_recv(b->raw, prefix, sizeof prefix, true, NULL, 0)) != NULL) {
        bool batch = env->body_case == KUBUS__V1__ENVELOPE__BODY_EVENT_BATCH;
        size_t n = batch ? env->event_batch->n_events : env->body_case == KUBUS__V1__ENVELOPE__BODY_EVENT;
        for (size_t i = 0; i < n; i++) {
            const msg_event_t *ev = batch ? env->event_batch->events[i] : env->event;
            if (ev->recv_unix_us && strcmp(ev->namespace_, b->ns) == 0) map_set(&b->stamp, ev->seq, ev->recv_unix_us);
        }
        msg_free(env);
    }
}

/* ---- life ---- */

static int bsub_init(worker_t *w, void *state)
{
    bsub_t *b = state;
    static const char *const resources[] = { "pods", NULL };
    b->w = w;
    if (!b->prefix[0]) snprintf(b->prefix, sizeof b->prefix, "sub");
    if (b->mode == M_THROUGHPUT && !b->expect) { LOGE("--mode=throughput needs --expect"); return -1; }
    if (b->mode == M_LATENCY) {
        if (!b->ns[0]) { LOGE("--mode=latency needs --ns"); return -1; }
        if (!(b->raw = open_raw(b))) { LOGE("cannot open the side SUB"); return -1; }
    }
    subscriber_config_t cfg = {
        .zctx = worker_zctx(w), .bus = &worker_opts(w)->bus, .name = worker_opts(w)->name, .resources = resources,
        .cb = { .on_event = on_event, .on_resync_end = on_resync_end, .ctx = b },
        .defer_parse = b->no_parse,
    };
    char err[256];
    clock_gettime(CLOCK_MONOTONIC, &b->t_create);
    b->sub = subscriber_create(&cfg, err, sizeof err);
    if (!b->sub) { LOGE("cannot subscribe", "error", err); return -1; }
    return 0;
}

static void write_progress(bsub_t *b)
{
    uint64_t now = now_mono_ms();
    if (!b->progress_file[0] || now < b->next_progress_ms) return;
    b->next_progress_ms = now + 200;
    char text[64];
    snprintf(text, sizeof text, "%" PRIu64 " %" PRIu64 "\n", b->ns_events, b->ns_deleted);
    write_file(b->progress_file, text);
}

static void on_synced(bsub_t *b)
{
    b->synced = true;
    clock_gettime(CLOCK_MONOTONIC, &b->t_synced);
    if (b->ready_file[0]) write_file(b->ready_file, "synced\n");
    if (b->mode == M_SNAPSHOT) b->done = true;
}

static int bsub_run(worker_t *w, void *state)
{
    bsub_t *b = state;
    while (worker_tick(w) && !b->done) {
        zmq_pollitem_t items[4];
        int n = subscriber_poll_items(b->sub, items, 3);
        if (b->raw) items[n++] = (zmq_pollitem_t){ .socket = b->raw, .events = ZMQ_POLLIN };
        if (zmq_poll(items, n, 100) < 0 && zmq_errno() != EINTR) return 1;
        if (b->raw) drain_raw(b);
        if (subscriber_process(b->sub) < 0) { LOGE("bus socket failed"); return 1; }
        if (!b->have_request && subscriber_epoch(b->sub)) {
            clock_gettime(CLOCK_MONOTONIC, &b->t_request);
            b->have_request = true;
        }
        subscriber_tick(b->sub, now_mono_ms());
        if (!b->synced && subscriber_synced(b->sub)) on_synced(b);
        write_progress(b);
    }
    if (b->raw) drain_raw(b);
    return 0;
}

static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, c = *(const uint64_t *)y;
    return a < c ? -1 : a > c;
}

static void report_latency(const bsub_t *b)
{
    const char *p = b->prefix;
    uint64_t *lat = malloc((b->called.cap ? b->called.cap : 1) * sizeof *lat);
    size_t n = 0, unstamped = 0;
    for (size_t s = 0; lat && s < b->called.cap; s++) {
        uint64_t cb = b->called.v[s], st = map_get(&b->stamp, s);
        if (!cb) continue;
        if (!st) { unstamped++; continue; }
        lat[n++] = cb > st ? cb - st : 0;
    }
    printf("%s_events: %zu events\n", p, n);
    if (b->live) printf("%s_avg_object_bytes: %" PRIu64 " B\n", p, b->bytes / b->live);
    if (unstamped) printf("%s_events_without_stamp: %zu events\n", p, unstamped);
    if (n) {
        qsort(lat, n, sizeof *lat, cmp_u64);
        printf("%s_p50: %.3f ms\n", p, (double)lat[(n - 1) * 50 / 100] / 1000.0);
        printf("%s_p90: %.3f ms\n", p, (double)lat[(n - 1) * 90 / 100] / 1000.0);
        printf("%s_p99: %.3f ms\n", p, (double)lat[(n - 1) * 99 / 100] / 1000.0);
        printf("%s_max: %.3f ms\n", p, (double)lat[n - 1] / 1000.0);
    }
    free(lat);
}

static void report(const bsub_t *b)
{
    subscriber_stats_t st;
    subscriber_stats(b->sub, &st);
    const char *p = b->prefix;
    if (b->mode == M_THROUGHPUT) {
        if (!b->done) printf("%s_incomplete: pods seq %" PRIu64 " of %ld\n", p, subscriber_seq(b->sub, "pods"), b->expect);
        double s = b->done && b->have_first ? secs_between(&b->t_first, &b->t_last) : 0;
        printf("%s_events: %" PRIu64 " events\n", p, st.events);
        if (s > 0) {
            printf("%s_seconds: %.3f s\n", p, s);
            printf("%s_events_per_s: %.0f events/s\n", p, (double)(st.events - 1) / s);
            printf("%s_mb_per_s: %.1f MB/s\n", p, (double)b->bytes / s / 1e6);
        }
    } else if (b->mode == M_LATENCY) {
        report_latency(b);
    } else if (b->synced) {
        printf("%s_objects: %" PRIu64 " objects\n", p, b->snap_objects);
        printf("%s_create_to_synced: %.1f ms\n", p, secs_between(&b->t_create, &b->t_synced) * 1e3);
        if (b->have_request) printf("%s_request_to_synced: %.1f ms\n", p, secs_between(&b->t_request, &b->t_synced) * 1e3);
        printf("%s_rss: %ld KiB\n", p, proc_status_kib("VmRSS"));
        printf("%s_peak_rss: %ld KiB\n", p, proc_status_kib("VmHWM"));
    }
    printf("%s_gaps: %" PRIu64 "\n", p, st.gaps);
    printf("%s_resyncs_after_first: %" PRIu64 "\n", p, st.resyncs_done ? st.resyncs_done - 1 : 0);
    if (st.refused || st.parse_failures) printf("%s_refused: %" PRIu64 "\n", p, st.refused + st.parse_failures);
    fflush(stdout);
}

static void bsub_fini(worker_t *w, void *state)
{
    (void)w;
    bsub_t *b = state;
    if (b->sub) report(b);
    subscriber_destroy(&b->sub);
    if (b->raw) zmq_close(b->raw);
    b->raw = NULL;
    free(b->stamp.v);
    free(b->called.v);
}

int main(int argc, char **argv)
{
    const worker_hooks_t hooks = {
        .name = "bench-sub",
        .usage = "  --mode=throughput|latency|snapshot\n"
                 "  --expect=N             throughput: stop when the pods seq reaches N\n"
                 "  --ready-file=PATH      written once synced\n"
                 "  --ns=NS                latency: the namespace whose events count\n"
                 "  --progress-file=PATH   latency: \"EVENTS DELETED\" of NS, every 200 ms\n"
                 "  --prefix=P             name of the printed figures (default sub)\n"
                 "  --no-parse             defer the objects' JSON parse (and skip it)\n",
        .parse_flag = bsub_flag,
        .init = bsub_init,
        .run = bsub_run,
        .fini = bsub_fini,
        .state = &g_b,
    };
    return worker_main(argc, argv, &hooks);
}
