/* Unit tests for lib/subscriber.c against a scripted fake informer: a PUB
 * bound where the broker's XPUB would be and a ROUTER for snapshots and
 * replays, on a private ipc bus directory. Checks the Clone-pattern
 * contract: snapshot delivered whole and in brackets, live events (single
 * and batched) buffered and trimmed, gaps repaired by a replay or, when the
 * replay cannot, by a snapshot, epoch changes re-snapshot, unsynced and
 * refused snapshots retried, bad batches refused and repaired. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>

#include "batch.h"
#include "subscriber.h"
#include "view.h"
#include "tmpdir_fixture.h"

#define MAXLOG 64

typedef struct {
    void *zctx, *pub, *router;
    bus_config_t bus;
    char dir[64];
    uint8_t id[256];
    size_t idlen;
    uint64_t req_id;
    subscriber_t *sub;
    char log[MAXLOG][96];
    int nlog;
} fx_t;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void note(fx_t *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(fx_t *f, const char *fmt, ...)
{
    assert_true(f->nlog < MAXLOG);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->log[f->nlog++], sizeof f->log[0], fmt, ap);
    va_end(ap);
}

static void on_event(void *ctx, const subscriber_event_t *ev, json_t *obj)
{
    assert_true(json_is_object(obj));
    note(ctx, "%s %s/%s %llu", msg_event_type_name(ev->type), ev->resource, ev->name, (unsigned long long)ev->seq);
}
static void on_begin(void *ctx, const char *r, uint64_t e) { note(ctx, "begin %s %llu", r, (unsigned long long)e); }
static void on_end(void *ctx, const char *r, uint64_t e) { note(ctx, "end %s %llu", r, (unsigned long long)e); }

/* ---- the fake informer ---- */

static void send_env(void *sock, const void *first, size_t firstlen, msg_envelope_t *env)
{
    uint8_t *buf;
    size_t len;
    assert_int_equal(msg_encode(env, &buf, &len), 0);
    assert_true(zmq_send(sock, first, firstlen, ZMQ_SNDMORE) >= 0);
    assert_true(zmq_send(sock, buf, len, 0) >= 0);
    free(buf);
}

static void heartbeat(fx_t *f, uint64_t epoch, uint64_t seq)
{
    Kubus__V1__InformerStatus st;
    Kubus__V1__ResourceSeq rs, *p = &rs;
    kubus__v1__informer_status__init(&st);
    kubus__v1__resource_seq__init(&rs);
    rs.resource = "pods";
    rs.seq = seq;
    rs.synced = true;
    st.epoch = epoch;
    st.seqs = &p;
    st.n_seqs = 1;
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_INFORMER_STATUS;
    env.informer_status = &st;
    send_env(f->pub, BUS_TOPIC_INFORMER, strlen(BUS_TOPIC_INFORMER), &env);
}

/* One event, on the live stream (router NULL) or as a snapshot reply, in
 * view version `view` of its resource. */
static void event_view(fx_t *f, bool reply, uint64_t epoch, uint64_t seq, int type, const char *name,
                       const char *json, uint32_t view)
{
    msg_envelope_t env;
    msg_event_t ev;
    kubus__v1__envelope__init(&env);
    kubus__v1__watch_event__init(&ev);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_EVENT;
    env.event = &ev;
    ev.epoch = epoch;
    ev.seq = seq;
    ev.resource = "pods";
    ev.namespace_ = "ns";
    ev.name = (char *)name;
    ev.type = type;
    ev.object.data = (uint8_t *)(json ? json : "{\"kind\":\"Pod\"}");
    ev.object.len = strlen((const char *)ev.object.data);
    ev.resource_version = "1";
    ev.view = view;
    if (reply) send_env(f->router, f->id, f->idlen, &env);
    else send_env(f->pub, "E/pods/ns/", 10, &env);
}

static void event(fx_t *f, bool reply, uint64_t epoch, uint64_t seq, int type, const char *name, const char *json)
{
    event_view(f, reply, epoch, seq, type, name, json, view_version("pods"));
}

/* ADDED events "b<seq>" of pods, seqs first..last, as one batch on the live
 * stream (topic "E/pods/") or as a replay reply. */
static void batch(fx_t *f, bool reply, uint64_t epoch, uint64_t first, uint64_t last)
{
    batch_builder_t b;
    batch_builder_init(&b);
    char err[256], names[64][16];
    for (uint64_t q = first; q <= last; q++) {
        msg_event_t ev;
        kubus__v1__watch_event__init(&ev);
        snprintf(names[q % 64], sizeof names[0], "b%llu", (unsigned long long)q);
        ev.epoch = epoch;
        ev.seq = q;
        ev.resource = "pods";
        ev.namespace_ = "ns";
        ev.name = names[q % 64];
        ev.type = KUBUS__V1__EVENT_TYPE__ADDED;
        ev.object.data = (uint8_t *)"{\"kind\":\"Pod\"}";
        ev.object.len = 14;
        ev.resource_version = "1";
        ev.view = view_version("pods");
        assert_int_equal(batch_add(&b, &ev, err, sizeof err), 0);
    }
    batch_frame_t fr;
    assert_int_equal(batch_finish(&b, &fr), 0);
    void *sock = reply ? f->router : f->pub;
    if (reply) assert_true(zmq_send(sock, f->id, f->idlen, ZMQ_SNDMORE) >= 0);
    else assert_true(zmq_send(sock, "E/pods/", 7, ZMQ_SNDMORE) >= 0);
    assert_true(zmq_send(sock, batch_frame_data(&fr), fr.len, 0) >= 0);
    batch_frame_free(&fr);
    batch_builder_fini(&b);
}

/* ReplayEnd: pods replayed up to seq, or (missed) not at all. */
static void replay_end(fx_t *f, uint64_t epoch, uint64_t seq, bool missed)
{
    Kubus__V1__ReplayEnd end;
    Kubus__V1__ResourceSeq rs, *p = &rs;
    char *m = "pods";
    kubus__v1__replay_end__init(&end);
    kubus__v1__resource_seq__init(&rs);
    rs.resource = "pods";
    rs.seq = seq;
    end.epoch = epoch;
    end.request_id = f->req_id;
    end.seqs = &p;
    end.n_seqs = missed ? 0 : 1;
    end.missed = &m;
    end.n_missed = missed ? 1 : 0;
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_REPLAY_END;
    env.replay_end = &end;
    send_env(f->router, f->id, f->idlen, &env);
}

static void snapshot_end(fx_t *f, uint64_t epoch, uint64_t seq, bool synced, uint64_t count, const char *error)
{
    Kubus__V1__SnapshotEnd end;
    Kubus__V1__ResourceSeq rs, *p = &rs;
    kubus__v1__snapshot_end__init(&end);
    kubus__v1__resource_seq__init(&rs);
    rs.resource = "pods";
    rs.seq = seq;
    rs.synced = synced;
    end.epoch = epoch;
    end.request_id = f->req_id;
    end.count = count;
    end.seqs = &p;
    end.n_seqs = error ? 0 : 1;
    end.error = (char *)(error ? error : "");
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_SNAPSHOT_END;
    env.snapshot_end = &end;
    send_env(f->router, f->id, f->idlen, &env);
}

static void pump(fx_t *f, int ms)
{
    uint64_t until = now_ms() + (uint64_t)ms;
    do {
        zmq_pollitem_t items[4];
        int n = subscriber_poll_items(f->sub, items, 4);
        zmq_poll(items, n, 5);
        assert_true(subscriber_process(f->sub) >= 0);
        subscriber_tick(f->sub, now_ms());
    } while (now_ms() < until);
}

/* Until the subscriber asks for something on the snapshot socket (with
 * beat, heartbeats (epoch, seq) meanwhile); checks it is of body `want`
 * and about pods, and returns the seq a replay asks after. */
static uint64_t await_body(fx_t *f, int want, bool beat, uint64_t epoch, uint64_t seq)
{
    uint64_t until = now_ms() + 5000;
    while (now_ms() < until) {
        if (beat) heartbeat(f, epoch, seq);
        pump(f, 20);
        int n = zmq_recv(f->router, f->id, sizeof f->id, ZMQ_DONTWAIT);
        if (n < 0) continue;
        f->idlen = (size_t)n;
        zmq_msg_t m;
        zmq_msg_init(&m);
        assert_true(zmq_msg_recv(&m, f->router, 0) >= 0);
        msg_envelope_t *env = msg_decode(zmq_msg_data(&m), zmq_msg_size(&m), NULL, 0);
        zmq_msg_close(&m);
        assert_non_null(env);
        int got = (int)env->body_case;
        uint64_t after = 0;
        if (got == KUBUS__V1__ENVELOPE__BODY_SNAPSHOT_REQUEST) {
            assert_string_equal(env->snapshot_request->resources[0], "pods");
            f->req_id = env->snapshot_request->request_id;
        } else if (got == KUBUS__V1__ENVELOPE__BODY_REPLAY_REQUEST) {
            assert_int_equal(env->replay_request->n_after, 1);
            assert_string_equal(env->replay_request->after[0]->resource, "pods");
            assert_int_equal(env->replay_request->epoch, epoch);
            after = env->replay_request->after[0]->seq;
            f->req_id = env->replay_request->request_id;
        }
        msg_free(env);
        assert_int_equal(got, want);
        return after;
    }
    fail_msg("no request within 5 s");
    return 0;
}

static void await_request_beating(fx_t *f, bool beat, uint64_t epoch, uint64_t seq)
{
    await_body(f, KUBUS__V1__ENVELOPE__BODY_SNAPSHOT_REQUEST, beat, epoch, seq);
}

static uint64_t await_replay(fx_t *f, uint64_t epoch, uint64_t seq)
{
    return await_body(f, KUBUS__V1__ENVELOPE__BODY_REPLAY_REQUEST, true, epoch, seq);
}

static void await_request(fx_t *f, uint64_t epoch, uint64_t seq) { await_request_beating(f, true, epoch, seq); }

static bool no_request(fx_t *f, int ms)
{
    pump(f, ms);
    uint8_t id[256];
    return zmq_recv(f->router, id, sizeof id, ZMQ_DONTWAIT) < 0;
}

static void expect_log(fx_t *f, const char *const *want)
{
    int n = 0;
    while (want[n]) n++;
    for (int i = 0; i < n && i < f->nlog; i++) assert_string_equal(f->log[i], want[i]);
    assert_int_equal(f->nlog, n);
    f->nlog = 0;
}

static int setup(void **state)
{
    fx_t *f = calloc(1, sizeof *f);
    if (!f || tmpdir_make(f->dir, sizeof f->dir, "sub") < 0 || bus_config_parse(&f->bus, f->dir) < 0) return -1;
    f->zctx = zmq_ctx_new();
    f->pub = bus_open(f->zctx, ZMQ_PUB, &f->bus, BUS_EP_EVENTS, true);
    f->router = bus_open(f->zctx, ZMQ_ROUTER, &f->bus, BUS_EP_SNAPSHOT, true);
    if (!f->pub || !f->router) return -1;
    const char *res[] = { "pods", NULL };
    subscriber_config_t cfg = { .zctx = f->zctx, .bus = &f->bus, .name = "test", .resources = res,
                                .cb = { on_event, on_begin, on_end, NULL, f } };
    char err[256];
    f->sub = subscriber_create(&cfg, err, sizeof err);
    if (!f->sub) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    subscriber_destroy(&f->sub);
    zmq_close(f->pub);
    zmq_close(f->router);
    zmq_ctx_term(f->zctx);
    int rc = tmpdir_remove(f->dir);
    free(f);
    return rc;
}

/* Snapshot at seq 5 with live 5 (covered) and 6 (after) arriving meanwhile. */
static void first_sync(fx_t *f, uint64_t epoch)
{
    await_request(f, epoch, 5);
    assert_false(subscriber_synced(f->sub));
    event(f, false, epoch, 5, KUBUS__V1__EVENT_TYPE__MODIFIED, "a", NULL);
    event(f, false, epoch, 6, KUBUS__V1__EVENT_TYPE__ADDED, "c", NULL);
    pump(f, 50); /* both buffered, nothing delivered before the end */
    assert_int_equal(f->nlog, 0);
    event(f, true, epoch, 5, KUBUS__V1__EVENT_TYPE__SNAPSHOT, "a", NULL);
    event(f, true, epoch, 5, KUBUS__V1__EVENT_TYPE__SNAPSHOT, "b", NULL);
    snapshot_end(f, epoch, 5, true, 2, NULL);
    pump(f, 50);
}

static void test_snapshot_then_live(void **state)
{
    fx_t *f = *state;
    first_sync(f, 77);
    const char *want[] = { "begin pods 77", "SNAPSHOT pods/a 5", "SNAPSHOT pods/b 5", "end pods 77", "ADDED pods/c 6", NULL };
    expect_log(f, want);
    assert_true(subscriber_synced(f->sub));
    assert_int_equal(subscriber_seq(f->sub, "pods"), 6);
    assert_int_equal(subscriber_epoch(f->sub), 77);
    event(f, false, 77, 7, KUBUS__V1__EVENT_TYPE__DELETED, "a", NULL);
    event(f, false, 77, 7, KUBUS__V1__EVENT_TYPE__DELETED, "a", NULL); /* duplicate: dropped */
    pump(f, 50);
    const char *want2[] = { "DELETED pods/a 7", NULL };
    expect_log(f, want2);
}

/* A gap the informer's ring can no longer fill: the replay answers
 * "missed" and the subscriber falls back to a snapshot (in brackets). */
static void test_replay_miss_resnapshots(void **state)
{
    fx_t *f = *state;
    first_sync(f, 77);
    f->nlog = 0;
    event(f, false, 77, 8, KUBUS__V1__EVENT_TYPE__ADDED, "x", NULL); /* 7 was lost */
    assert_int_equal(await_replay(f, 77, 8), 6);
    assert_false(subscriber_synced(f->sub));
    replay_end(f, 77, 0, true);
    await_request(f, 77, 8);
    event(f, true, 77, 8, KUBUS__V1__EVENT_TYPE__SNAPSHOT, "x", NULL);
    snapshot_end(f, 77, 8, true, 1, NULL);
    pump(f, 50);
    const char *want[] = { "begin pods 77", "SNAPSHOT pods/x 8", "end pods 77", NULL };
    expect_log(f, want);
    subscriber_stats_t st;
    subscriber_stats(f->sub, &st);
    assert_int_equal(st.gaps, 1);
    assert_int_equal(st.replays, 1);
    assert_int_equal(st.replay_misses, 1);
    assert_int_equal(st.snapshots, 2);
    assert_true(subscriber_synced(f->sub));
}

/* A gap in a batched stream, repaired by a replay: the lost events come
 * from the ring (the first batch overlaps what we have), live batches that
 * arrive meanwhile are held and applied after; no snapshot, no brackets. */
static void test_gap_replayed(void **state)
{
    fx_t *f = *state;
    first_sync(f, 77);   /* pods at seq 6 */
    f->nlog = 0;
    batch(f, false, 77, 7, 8);
    batch(f, false, 77, 11, 12);  /* 9, 10 lost */
    assert_int_equal(await_replay(f, 77, 12), 8);
    batch(f, false, 77, 13, 13);  /* held while the replay streams */
    batch(f, true, 77, 5, 9);     /* a ring batch from before the gap */
    batch(f, true, 77, 10, 12);
    replay_end(f, 77, 12, false);
    pump(f, 50);
    const char *want[] = { "ADDED pods/b7 7", "ADDED pods/b8 8", "ADDED pods/b9 9", "ADDED pods/b10 10",
                           "ADDED pods/b11 11", "ADDED pods/b12 12", "ADDED pods/b13 13", NULL };
    expect_log(f, want);
    subscriber_stats_t st;
    subscriber_stats(f->sub, &st);
    assert_int_equal(st.gaps, 1);
    assert_int_equal(st.replays, 1);
    assert_int_equal(st.replay_hits, 1);
    assert_int_equal(st.snapshots, 1);
    assert_int_equal(st.batches, 3);
    assert_int_equal(subscriber_seq(f->sub, "pods"), 13);
    assert_true(subscriber_synced(f->sub));
}

/* A replay that says it reached seq 12 but brings only up to 10: never
 * trusted, the resource is re-snapshotted. */
static void test_short_replay_resnapshots(void **state)
{
    fx_t *f = *state;
    first_sync(f, 77);
    f->nlog = 0;
    batch(f, false, 77, 9, 9);
    assert_int_equal(await_replay(f, 77, 9), 6);
    batch(f, true, 77, 7, 10);
    replay_end(f, 77, 12, false);
    await_request(f, 77, 12);
    snapshot_end(f, 77, 12, true, 0, NULL);
    pump(f, 50);
    const char *want[] = { "ADDED pods/b7 7", "ADDED pods/b8 8", "ADDED pods/b9 9", "ADDED pods/b10 10",
                           "begin pods 77", "end pods 77", NULL };
    expect_log(f, want);
    subscriber_stats_t st;
    subscriber_stats(f->sub, &st);
    assert_int_equal(st.replay_misses, 1);
    assert_int_equal(subscriber_seq(f->sub, "pods"), 12);
}

/* Sends a batch envelope built by hand (wrong counts or seqs) on "E/pods/". */
static void bad_batch(fx_t *f, uint64_t epoch, uint64_t first, uint32_t count, uint64_t seq2)
{
    msg_event_t ev[2], *evp[2] = { &ev[0], &ev[1] };
    for (int i = 0; i < 2; i++) {
        kubus__v1__watch_event__init(&ev[i]);
        ev[i].epoch = epoch;
        ev[i].seq = i ? seq2 : first;
        ev[i].resource = "pods";
        ev[i].name = "bad";
        ev[i].type = KUBUS__V1__EVENT_TYPE__ADDED;
        ev[i].object.data = (uint8_t *)"{}";
        ev[i].object.len = 2;
    }
    msg_batch_t b;
    kubus__v1__event_batch__init(&b);
    b.epoch = epoch;
    b.resource = "pods";
    b.first_seq = first;
    b.count = count;
    b.n_events = 2;
    b.events = evp;
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_EVENT_BATCH;
    env.event_batch = &b;
    uint8_t buf[512];
    size_t len = kubus__v1__envelope__pack(&env, buf);
    assert_true(zmq_send(f->pub, "E/pods/", 7, ZMQ_SNDMORE) >= 0);
    assert_true(zmq_send(f->pub, buf, len, 0) >= 0);
}

/* Batches that do not add up (count, seqs) are refused and counted, never
 * applied, and the subscriber repairs at once by a replay; a batch of a
 * resource it does not follow is refused; a truncated one like a
 * miscounted one. */
static void test_bad_batches_refused(void **state)
{
    fx_t *f = *state;
    first_sync(f, 77);   /* pods at seq 6 */
    f->nlog = 0;
    bad_batch(f, 77, 7, 3, 8);    /* count 3, 2 events */
    bad_batch(f, 77, 7, 2, 9);    /* a hole inside */
    batch_builder_t b;
    batch_builder_init(&b);
    msg_event_t ev;
    kubus__v1__watch_event__init(&ev);
    ev.epoch = 77;
    ev.seq = 7;
    ev.resource = "nodes";
    ev.name = "n";
    ev.type = KUBUS__V1__EVENT_TYPE__ADDED;
    ev.object.data = (uint8_t *)"{}";
    ev.object.len = 2;
    char err[256];
    assert_int_equal(batch_add(&b, &ev, err, sizeof err), 0);
    batch_frame_t fr;
    assert_int_equal(batch_finish(&b, &fr), 0);
    /* a nodes batch under pods' topic (the broker refuses those; a
     * subscriber must not take it either) */
    assert_true(zmq_send(f->pub, "E/pods/", 7, ZMQ_SNDMORE) >= 0);
    assert_true(zmq_send(f->pub, batch_frame_data(&fr), fr.len, 0) >= 0);
    assert_true(zmq_send(f->pub, "E/pods/", 7, ZMQ_SNDMORE) >= 0);
    assert_true(zmq_send(f->pub, batch_frame_data(&fr), fr.len / 2, 0) >= 0); /* truncated */
    batch_frame_free(&fr);
    batch_builder_fini(&b);
    assert_int_equal(await_replay(f, 77, 6), 6);  /* no heartbeat ahead needed */
    batch(f, true, 77, 7, 8);
    replay_end(f, 77, 8, false);
    pump(f, 50);
    const char *want[] = { "ADDED pods/b7 7", "ADDED pods/b8 8", NULL };
    expect_log(f, want);
    subscriber_stats_t st;
    subscriber_stats(f->sub, &st);
    assert_int_equal(st.refused, 4);
    assert_int_equal(st.replays, 1);
    assert_int_equal(st.replay_hits, 1);
    assert_int_equal(st.snapshots, 1);
}

/* A batch of another epoch re-snapshots (it never switches the epoch). */
static void test_foreign_epoch_batch(void **state)
{
    fx_t *f = *state;
    first_sync(f, 77);
    f->nlog = 0;
    batch(f, false, 78, 7, 8);
    await_request(f, 77, 6);
    snapshot_end(f, 77, 6, true, 0, NULL);
    pump(f, 50);
    const char *want[] = { "begin pods 77", "end pods 77", NULL };
    expect_log(f, want);
    assert_int_equal(subscriber_epoch(f->sub), 77);
}

/* The informer's heartbeat ahead of us for over 2 s (the tail of the
 * stream was lost): a replay, not a snapshot. */
static void test_ahead_replays(void **state)
{
    fx_t *f = *state;
    first_sync(f, 77);
    f->nlog = 0;
    assert_int_equal(await_replay(f, 77, 9), 6);
    batch(f, true, 77, 7, 9);
    replay_end(f, 77, 9, false);
    pump(f, 50);
    assert_int_equal(f->nlog, 3);
    assert_int_equal(subscriber_seq(f->sub, "pods"), 9);
}

static void test_new_epoch_resnapshots(void **state)
{
    fx_t *f = *state;
    first_sync(f, 77);
    f->nlog = 0;
    await_request(f, 99, 0); /* the informer restarted */
    assert_false(subscriber_synced(f->sub));
    snapshot_end(f, 99, 0, true, 0, NULL);
    pump(f, 50);
    const char *want[] = { "begin pods 99", "end pods 99", NULL };
    expect_log(f, want);
    assert_true(subscriber_synced(f->sub));
    /* A late event of the old epoch: re-snapshot, but the epoch stays 99. */
    event(f, false, 77, 9, KUBUS__V1__EVENT_TYPE__ADDED, "old", NULL);
    await_request(f, 99, 0);
    snapshot_end(f, 99, 0, true, 0, NULL);
    pump(f, 50);
    assert_int_equal(subscriber_epoch(f->sub), 99);
    assert_true(subscriber_synced(f->sub));
    subscriber_stats_t st;
    subscriber_stats(f->sub, &st);
    assert_int_equal(st.epoch_changes, 1);
}

static void test_unsynced_and_refused_are_retried(void **state)
{
    fx_t *f = *state;
    await_request(f, 5, 3);
    event(f, true, 5, 3, KUBUS__V1__EVENT_TYPE__SNAPSHOT, "p", NULL);
    snapshot_end(f, 5, 3, false, 1, NULL); /* first list not done */
    assert_true(no_request(f, 200));       /* waits ~500 ms before asking again */
    assert_int_equal(f->nlog, 0);
    await_request(f, 5, 3);
    snapshot_end(f, 5, 0, true, 0, "unknown resource \"pods\"");
    pump(f, 50);
    assert_int_equal(f->nlog, 0);
    await_request(f, 5, 3);
    snapshot_end(f, 5, 3, true, 7, NULL); /* count does not match: refused too */
    pump(f, 50);
    assert_int_equal(f->nlog, 0);
    assert_false(subscriber_synced(f->sub));
}

static void test_bad_messages_counted(void **state)
{
    fx_t *f = *state;
    first_sync(f, 77);
    f->nlog = 0;
    event(f, false, 77, 7, KUBUS__V1__EVENT_TYPE__ADDED, "j", "not json");
    assert_true(zmq_send(f->pub, "E/pods/ns/", 10, ZMQ_SNDMORE) >= 0);
    assert_true(zmq_send(f->pub, "garbage", 7, 0) >= 0);
    event(f, false, 77, 8, KUBUS__V1__EVENT_TYPE__ADDED, "k", NULL);
    /* the garbage on pods' topic may have been an event: repaired at once */
    assert_int_equal(await_replay(f, 77, 8), 7);
    batch(f, true, 77, 8, 8);
    replay_end(f, 77, 8, false);
    pump(f, 100);
    const char *want[] = { "ADDED pods/b8 8", NULL };
    expect_log(f, want);
    subscriber_stats_t st;
    subscriber_stats(f->sub, &st);
    assert_int_equal(st.parse_failures, 1);
    assert_int_equal(st.refused, 1);
    assert_int_equal(st.gaps, 0);
}

/* A fresh subscriber asks at once, before any heartbeat (ready without
 * waiting), keeps the live events that arrive while the first snapshot
 * streams, and takes its epoch from the SnapshotEnd; a heartbeat that
 * arrives meanwhile does not abort it. */
static void test_first_snapshot_without_heartbeat(void **state)
{
    fx_t *f = *state;
    uint64_t t0 = now_ms();
    await_request_beating(f, false, 0, 0);
    assert_true(now_ms() - t0 < 1000);
    event(f, false, 42, 3, KUBUS__V1__EVENT_TYPE__ADDED, "c", NULL);   /* after the snapshot's seq 2 */
    event(f, false, 42, 2, KUBUS__V1__EVENT_TYPE__MODIFIED, "a", NULL); /* covered by it */
    heartbeat(f, 42, 3);
    pump(f, 50);
    assert_int_equal(f->nlog, 0);
    event(f, true, 42, 2, KUBUS__V1__EVENT_TYPE__SNAPSHOT, "a", NULL);
    snapshot_end(f, 42, 2, true, 1, NULL);
    pump(f, 50);
    const char *want[] = { "begin pods 42", "SNAPSHOT pods/a 2", "end pods 42", "ADDED pods/c 3", NULL };
    expect_log(f, want);
    assert_true(subscriber_synced(f->sub));
    assert_int_equal(subscriber_epoch(f->sub), 42);
    subscriber_stats_t st;
    subscriber_stats(f->sub, &st);
    assert_int_equal(st.snapshots, 1);
    assert_int_equal(st.gaps, 0);
}

/* A pod in a view version this build does not know (another build's
 * informer) never reaches the callbacks: refused and counted; the stream
 * goes on in order. */
static void test_unknown_view_refused(void **state)
{
    fx_t *f = *state;
    first_sync(f, 77);
    f->nlog = 0;
    event_view(f, false, 77, 7, KUBUS__V1__EVENT_TYPE__ADDED, "whole", NULL, 0);
    event_view(f, false, 77, 8, KUBUS__V1__EVENT_TYPE__ADDED, "future", NULL, VIEW_POD_VERSION + 1);
    event(f, false, 77, 9, KUBUS__V1__EVENT_TYPE__ADDED, "k", NULL);
    pump(f, 100);
    const char *want[] = { "ADDED pods/k 9", NULL };
    expect_log(f, want);
    subscriber_stats_t st;
    subscriber_stats(f->sub, &st);
    assert_int_equal(st.refused, 2);
    assert_int_equal(st.gaps, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_snapshot_then_live, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replay_miss_resnapshots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gap_replayed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_short_replay_resnapshots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_batches_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_epoch_batch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ahead_replays, setup, teardown),
        cmocka_unit_test_setup_teardown(test_new_epoch_resnapshots, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unsynced_and_refused_are_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_messages_counted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_view_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_first_snapshot_without_heartbeat, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
