/* bench_pub.c - kubus-bench-pub: a synthetic informer for the bus throughput
 * benchmark. It speaks the informer's side of the Clone pattern exactly
 * (DEVELOPERS.md, "Events") but has no API server behind it, so what the
 * benchmark measures is kubus-broker + lib/subscriber.c, not the informer:
 *
 *   PUB -> BUS_EP_EVENTS_IN   WatchEvent ADDED, one per pod, seq 1..N of one
 *                             epoch, in EventBatches under "E/pods/" built as
 *                             the informer builds them (lib/batch.h: cut at
 *                             64 KiB and at the end of every turn of 256
 *                             events). SNDHWM BUS_EVENTS_HWM like the
 *                             informer's (a full pipe drops, as there). (One
 *                             message per event, as before batches, is not
 *                             offered: the event pipes' HWMs are sized for
 *                             batches, so it would measure drops; compare with
 *                             the commit before EventBatch instead.)
 *   PUB, every second         InformerStatus{epoch, [{pods, seq, synced}]}
 *   ROUTER <- BUS_EP_SNAPSHOT SnapshotRequest -> SNAPSHOT of pods 1..seq and
 *                             SnapshotEnd{epoch, seq, count} (a subscriber that
 *                             lost messages re-snapshots and gets every pod);
 *                             ReplayRequest -> the batches after its seq and
 *                             ReplayEnd, as deep as the informer's replay ring (8 MiB by default)
 *
 * Pod i is benchobj_pod(ns, i) of --object-bytes bytes, made before the go
 * (the informer has its objects' bytes too), encoded as the informer
 * encodes (one pack per event, not pre-encoded). Nothing is
 * sent before --go-file exists (the subscriber writes it once synced), then
 * --events events go out as fast as the PUB takes them, in batches of 256
 * between heartbeats and snapshot service. It then keeps heartbeating until
 * it is stopped, and prints on stdout:
 *   pub_sent: N events
 *   pub_send_seconds: S s
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "batch.h"
#include "benchobj.h"
#include "bus.h"
#include "flags.h"
#include "kubus.pb-c.h"
#include "msg.h"
#include "view.h"
#include "worker.h"

#define PUB_SNDHWM BUS_EVENTS_HWM
#define BATCH 256
#define RESOURCE "pods"
#define REPLAY_BYTES (32u * 1024u * 1024u)   /* as INFORMER_REPLAY_BYTES */

typedef struct {
    long events, object_bytes;
    char ns[64], go_file[1024];
    worker_t *w;
    void *pub, *router;
    uint64_t epoch, seq;
    uint64_t next_hb_ms;
    bool started;
    batch_builder_t batch;
    char **objs;              /* pod i's JSON is objs[i - 1], made before the go (the informer holds its objects) */
    size_t *lens;
    uint64_t batches, replays;
    struct timespec t0, t1;
    uint64_t snapshots;
} pub_t;

static pub_t g_pub;

static int flag_rc(int rc, const char *err)
{
    if (rc < 0) fprintf(stderr, "kubus-bench-pub: %s\n", err);
    return rc < 0 ? WORKER_FLAG_BAD : WORKER_FLAG_OK;
}

static int pub_flag(void *state, const char *flag, const char *value, bool *used)
{
    pub_t *p = state;
    char err[256] = "";
    *used = value != NULL;
    if (strcmp(flag, "events") == 0) return flag_rc(flags_long(flag, value, 1, 100000000, &p->events, err, sizeof err), err);
    if (strcmp(flag, "object-bytes") == 0)
        return flag_rc(flags_long(flag, value, 1, 1 << 20, &p->object_bytes, err, sizeof err), err);
    if (strcmp(flag, "ns") == 0) return flag_rc(flags_string(flag, value, p->ns, sizeof p->ns, false, err, sizeof err), err);
    if (strcmp(flag, "go-file") == 0)
        return flag_rc(flags_string(flag, value, p->go_file, sizeof p->go_file, false, err, sizeof err), err);
    *used = false;
    return WORKER_FLAG_UNKNOWN;
}

static void *open_socket(pub_t *p, int type, bus_endpoint_t ep, bool bind)
{
    void *s = bus_open_server(worker_zctx(p->w), type, &worker_opts(p->w)->bus, ep, bind,
                              type == ZMQ_PUB ? PUB_SNDHWM : 0);
    if (!s) LOGE("cannot open bus socket", "endpoint", bus_endpoint_name(ep), "error", zmq_strerror(errno));
    return s;
}

/* Every pod's JSON up front: what is timed is encoding and sending, as in
 * the informer, which has its objects' bytes at hand (not making them). */
static int make_objects(pub_t *p)
{
    p->objs = calloc((size_t)p->events, sizeof *p->objs);
    p->lens = calloc((size_t)p->events, sizeof *p->lens);
    if (!p->objs || !p->lens) return -1;
    for (long i = 0; i < p->events; i++) {
        p->objs[i] = benchobj_pod(p->ns, (uint64_t)i + 1, (uint64_t)i + 2, (size_t)p->object_bytes, &p->lens[i]);
        if (!p->objs[i]) return -1;
    }
    return 0;
}

static int pub_init(worker_t *w, void *state)
{
    pub_t *p = state;
    p->w = w;
    batch_builder_init(&p->batch);
    if (!p->events) p->events = 200000;
    if (!p->object_bytes) p->object_bytes = 1024;
    if (!p->ns[0]) snprintf(p->ns, sizeof p->ns, "bench");
    if (!p->go_file[0]) { LOGE("--go-file is required"); return -1; }
    if (make_objects(p) < 0) { LOGE("out of memory making the pods"); return -1; }
    while (p->epoch == 0)
        if (getrandom(&p->epoch, sizeof p->epoch, 0) != (ssize_t)sizeof p->epoch) return -1;
    p->pub = open_socket(p, ZMQ_PUB, BUS_EP_EVENTS_IN, false);
    p->router = open_socket(p, ZMQ_ROUTER, BUS_EP_SNAPSHOT, true);
    return p->pub && p->router ? 0 : -1;
}

static void pub_fini(worker_t *w, void *state)
{
    (void)w;
    pub_t *p = state;
    if (p->pub) zmq_close(p->pub);
    if (p->router) zmq_close(p->router);
    p->pub = p->router = NULL;
    batch_builder_fini(&p->batch);
    for (long i = 0; p->objs && i < p->events; i++) free(p->objs[i]);
    free(p->objs);
    free(p->lens);
    p->objs = NULL;
    p->lens = NULL;
}

/* ---- messages ---- */

typedef struct {
    char name[32], uid[48], rv[24];
    const char *json;
} podbuf_t;

/* The WatchEvent of pod i (1-based) as event `type` (SNAPSHOT events carry
 * the current seq), its strings in pb, its JSON borrowed from p->objs. */
static int fill_event(const pub_t *p, uint64_t i, int type, uint64_t seq, podbuf_t *pb, msg_envelope_t *env,
                      msg_event_t *ev)
{
    if (i < 1 || i > (uint64_t)p->events) return -1;
    pb->json = p->objs[i - 1];
    size_t jlen = p->lens[i - 1];
    benchobj_name(pb->name, sizeof pb->name, i);
    snprintf(pb->uid, sizeof pb->uid, "00000000-0000-4000-8000-%012" PRIu64, i);
    snprintf(pb->rv, sizeof pb->rv, "%" PRIu64, i + 1);
    kubus__v1__watch_event__init(ev);
    kubus__v1__envelope__init(env);
    env->version = MSG_VERSION;
    env->body_case = KUBUS__V1__ENVELOPE__BODY_EVENT;
    env->event = ev;
    ev->epoch = p->epoch;
    ev->seq = seq;
    ev->resource = RESOURCE;
    ev->namespace_ = (char *)p->ns;
    ev->name = pb->name;
    ev->type = (Kubus__V1__EventType)type;
    ev->object.data = (uint8_t *)pb->json;
    ev->object.len = jlen;
    ev->resource_version = pb->rv;
    ev->uid = pb->uid;
    ev->view = view_version(RESOURCE);
    return 0;
}

/* Envelope of pod i as one message. */
static int encode_event(const pub_t *p, uint64_t i, int type, uint64_t seq, uint8_t **buf, size_t *len)
{
    podbuf_t pb;
    msg_envelope_t env;
    msg_event_t ev;
    if (fill_event(p, i, type, seq, &pb, &env, &ev) < 0) return -1;
    int rc = msg_encode(&env, buf, len);
    return rc;
}

static void send_status(pub_t *p)
{
    Kubus__V1__InformerStatus st;
    Kubus__V1__ResourceSeq rs, *rsp = &rs;
    kubus__v1__informer_status__init(&st);
    kubus__v1__resource_seq__init(&rs);
    rs.resource = RESOURCE;
    rs.seq = p->seq;
    rs.synced = true;
    st.epoch = p->epoch;
    st.unix_ms = now_unix_ms();
    st.n_seqs = 1;
    st.seqs = &rsp;
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_INFORMER_STATUS;
    env.informer_status = &st;
    bus_send(p->pub, BUS_TOPIC_INFORMER, &env, true);
}

static int send_routed(pub_t *p, const zmq_msg_t *id, const uint8_t *buf, size_t len)
{
    return zmq_send(p->router, zmq_msg_data((zmq_msg_t *)id), zmq_msg_size((zmq_msg_t *)id), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
                   zmq_send(p->router, buf, len, ZMQ_DONTWAIT) < 0
               ? -1
               : 0;
}

static void send_routed_env(pub_t *p, const zmq_msg_t *id, const msg_envelope_t *env)
{
    uint8_t *buf = NULL;
    size_t len = 0;
    if (msg_encode(env, &buf, &len) == 0) send_routed(p, id, buf, len);
    free(buf);
}

static void answer(pub_t *p, const zmq_msg_t *id, const Kubus__V1__SnapshotRequest *req)
{
    Kubus__V1__SnapshotEnd end;
    Kubus__V1__ResourceSeq rs, *rsp = &rs;
    kubus__v1__snapshot_end__init(&end);
    kubus__v1__resource_seq__init(&rs);
    bool ok = req->n_resources == 1 && strcmp(req->resources[0], RESOURCE) == 0;
    for (uint64_t i = 1; ok && i <= p->seq; i++) {
        uint8_t *buf = NULL;
        size_t len = 0;
        ok = encode_event(p, i, KUBUS__V1__EVENT_TYPE__SNAPSHOT, p->seq, &buf, &len) == 0 &&
             send_routed(p, id, buf, len) == 0;
        free(buf);
        end.count = i;
    }
    end.epoch = p->epoch;
    end.request_id = req->request_id;
    end.error = ok ? "" : "kubus-bench-pub serves only \"pods\"";
    rs.resource = RESOURCE;
    rs.seq = p->seq;
    rs.synced = true;
    end.n_seqs = ok ? 1 : 0;
    end.seqs = &rsp;
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_SNAPSHOT_END;
    env.snapshot_end = &end;
    send_routed_env(p, id, &env);
    p->snapshots++;
}

/* Sends the batch in b: to the PUB (id NULL) as the informer's flush does,
 * or to a requester on the ROUTER as a replay. */
static void flush_to(pub_t *p, batch_builder_t *b, const zmq_msg_t *id)
{
    char topic[BUS_TOPIC_MAX];
    batch_frame_t f;
    if (batch_count(b) == 0 || batch_finish(b, &f) < 0) return;
    bus_topic_resource(topic, sizeof topic, RESOURCE);
    if (id) send_routed(p, id, batch_frame_data(&f), f.len);
    else bus_send_raw(p->pub, topic, batch_frame_data(&f), f.len, true);   /* a drop is a gap, as there */
    batch_frame_free(&f);
    if (!id) p->batches++;
}

static void flush(pub_t *p) { flush_to(p, &p->batch, NULL); }

/* Pod i into b, cut at BATCH_MAX_BYTES as the informer does. */
static int add_event(pub_t *p, batch_builder_t *b, uint64_t i, const zmq_msg_t *id)
{
    podbuf_t pb;
    msg_envelope_t env;
    msg_event_t ev;
    char err[256];
    if (fill_event(p, i, KUBUS__V1__EVENT_TYPE__ADDED, i, &pb, &env, &ev) < 0) return -1;
    if (batch_count(b) && batch_size(b) + batch_event_size(&ev) > BATCH_MAX_BYTES) flush_to(p, b, id);
    int rc = batch_add(b, &ev, err, sizeof err);
    return rc;
}

/* A ReplayRequest, answered by rebuilding the batches after its seq, as
 * far back as the informer's ring would reach (INFORMER_REPLAY_BYTES of
 * such events); further back: missed, as there. */
static void answer_replay(pub_t *p, const zmq_msg_t *id, const Kubus__V1__ReplayRequest *req)
{
    Kubus__V1__ReplayEnd end;
    Kubus__V1__ResourceSeq rs, *rsp = &rs;
    char *missed = RESOURCE;
    kubus__v1__replay_end__init(&end);
    kubus__v1__resource_seq__init(&rs);
    uint64_t after = req->n_after == 1 ? req->after[0]->seq : UINT64_MAX;
    uint64_t reach = REPLAY_BYTES / ((uint64_t)p->object_bytes + 128);
    bool ok = req->epoch == p->epoch && req->n_after == 1 && strcmp(req->after[0]->resource, RESOURCE) == 0 &&
              after <= p->seq && p->seq - after <= reach;
    batch_builder_t b;
    batch_builder_init(&b);
    for (uint64_t i = after + 1; ok && i <= p->seq; i++) ok = add_event(p, &b, i, id) == 0;
    flush_to(p, &b, id);
    batch_builder_fini(&b);
    end.epoch = p->epoch;
    end.request_id = req->request_id;
    rs.resource = RESOURCE;
    rs.seq = p->seq;
    end.seqs = &rsp;
    end.n_seqs = ok ? 1 : 0;
    end.missed = &missed;
    end.n_missed = ok ? 0 : 1;
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_REPLAY_END;
    env.replay_end = &end;
    send_routed_env(p, id, &env);
    p->replays++;
}

static void serve_snapshots(pub_t *p)
{
    for (;;) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, p->router, ZMQ_DONTWAIT) < 0) { zmq_msg_close(&id); return; }
        zmq_msg_init(&body);
        msg_envelope_t *env = NULL;
        if (zmq_msg_more(&id) && zmq_msg_recv(&body, p->router, 0) >= 0 && !zmq_msg_more(&body))
            env = msg_decode(zmq_msg_data(&body), zmq_msg_size(&body), NULL, 0);
        if (env && env->body_case == KUBUS__V1__ENVELOPE__BODY_SNAPSHOT_REQUEST) answer(p, &id, env->snapshot_request);
        if (env && env->body_case == KUBUS__V1__ENVELOPE__BODY_REPLAY_REQUEST) answer_replay(p, &id, env->replay_request);
        msg_free(env);
        zmq_msg_close(&body);
        zmq_msg_close(&id);
    }
}

static void publish_batched(pub_t *p)
{
    for (int k = 0; k < BATCH && p->seq < (uint64_t)p->events; k++) {
        if (add_event(p, &p->batch, p->seq + 1, NULL) < 0) { LOGE("batch_add failed"); return; }
        p->seq++;
    }
    flush(p);
    if (p->seq == (uint64_t)p->events) clock_gettime(CLOCK_MONOTONIC, &p->t1);
}

static int pub_run(worker_t *w, void *state)
{
    pub_t *p = state;
    while (worker_tick(w)) {
        uint64_t now = now_mono_ms();
        if (now >= p->next_hb_ms) {
            send_status(p);
            p->next_hb_ms = now + 1000;
        }
        serve_snapshots(p);
        if (!p->started && access(p->go_file, F_OK) == 0) {
            p->started = true;
            clock_gettime(CLOCK_MONOTONIC, &p->t0);
        }
        if (p->started && p->seq < (uint64_t)p->events) {
            publish_batched(p);
            continue;
        }
        zmq_pollitem_t it = { p->router, 0, ZMQ_POLLIN, 0 };
        zmq_poll(&it, 1, p->started ? 100 : 10);
    }
    double secs = (double)(p->t1.tv_sec - p->t0.tv_sec) + (double)(p->t1.tv_nsec - p->t0.tv_nsec) / 1e9;
    printf("pub_sent: %" PRIu64 " events\n", p->seq);
    if (p->seq == (uint64_t)p->events) printf("pub_send_seconds: %.3f s\n", secs);
    printf("pub_snapshots_served: %" PRIu64 "\n", p->snapshots);
    printf("pub_batches: %" PRIu64 "\n", p->batches);
    printf("pub_replays_served: %" PRIu64 "\n", p->replays);
    fflush(stdout);
    return 0;
}

int main(int argc, char **argv)
{
    const worker_hooks_t hooks = {
        .name = "bench-pub",
        .usage = "  --events=N           events to publish (default 200000)\n"
                 "  --object-bytes=N     object JSON size (default 1024)\n"
                 "  --ns=NS              namespace of the pods (default bench)\n"
                 "  --go-file=PATH       start publishing once this file exists (required)\n",
        .parse_flag = pub_flag,
        .init = pub_init,
        .run = pub_run,
        .fini = pub_fini,
        .state = &g_pub,
    };
    return worker_main(argc, argv, &hooks);
}
