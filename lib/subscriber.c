/* subscriber.c - the Clone-pattern client state machine. See subscriber.h.
 *
 * States: WAIT_HB (no heartbeat yet, or the informer went silent) -> IDLE
 * (streaming; asks for a snapshot whenever a resource needs one, else for
 * a replay whenever one lost events) -> SNAPSHOT (a request is out: its
 * events and the live events of its resources are buffered until
 * SnapshotEnd, then delivered in one go) or REPLAY (the same for a
 * ReplayRequest, subscriber_replay.c). One request is out at a time.
 * Invariant: for each resource, callbacks see seq strictly increasing by 1
 * within an epoch, with a begin/SNAPSHOT.../end bracket in between whenever
 * the stream was interrupted.
 */
#include "subscriber.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "subscriber_priv.h"
#include "turnarena.h"
#include "view.h"

#define HB_SILENCE_MS 5000u       /* informer considered gone */
#define AHEAD_GRACE_MS 2000u      /* heartbeat ahead of us this long: lost messages */
#define UNSYNCED_RETRY_MS 500u
#define REFUSED_RETRY_MS 2000u
#define LIVE_MAX_EVENTS 1000000u
#define SUB_RCVHWM BUS_SUB_RCVHWM   /* batches: 256 MiB of them, lib/bus.h */

/* ---- helpers ---- */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static const char *nz(const char *s) { return s ? s : ""; }

res_t *sub_find_res(subscriber_t *s, const char *name)
{
    for (size_t i = 0; name && i < s->nres; i++)
        if (strcmp(s->res[i].name, name) == 0) return &s->res[i];
    return NULL;
}

size_t sub_env_events(const msg_envelope_t *env, msg_event_t *const **out)
{
    if (env->body_case == KUBUS__V1__ENVELOPE__BODY_EVENT_BATCH) {
        *out = env->event_batch->events;
        return env->event_batch->n_events;
    }
    *out = &env->event;
    return env->body_case == KUBUS__V1__ENVELOPE__BODY_EVENT ? 1 : 0;
}

int sub_vec_push(envvec_t *v, msg_envelope_t *e, size_t max_events)
{
    msg_event_t *const *evs;
    size_t k = sub_env_events(e, &evs);
    if (v->n >= SUB_REPLY_MAX_MSGS || v->events + k > max_events) return -1;
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 256;
        msg_envelope_t **p = realloc(v->v, cap * sizeof *p);
        if (!p) return -1;
        v->v = p;
        v->cap = cap;
    }
    v->v[v->n++] = e;
    v->events += k;
    return 0;
}

void sub_vec_clear(envvec_t *v)
{
    for (size_t i = 0; i < v->n; i++) msg_free(v->v[i]);
    v->n = 0;
    v->events = 0;
}

static void vec_free(envvec_t *v)
{
    sub_vec_clear(v);
    free(v->v);
    v->v = NULL;
    v->cap = 0;
}

void sub_refuse(subscriber_t *s, const char *what, const char *detail)
{
    s->stats.refused++;
    if (log_limit_allow(&s->lim)) LOGW("subscriber refused a message", "subscriber", s->name, "what", what,
                                       "detail", nz(detail));
}

static void need_all(subscriber_t *s)
{
    for (size_t i = 0; i < s->nres; i++) {
        s->res[i].need = true;
        s->res[i].replay = false;
        s->res[i].have = false;
        s->res[i].seq = 0;
        s->res[i].ahead_since_ms = 0;
    }
}

/* ---- sockets ---- */

static void *open_dealer(subscriber_t *s)
{
    char ep[512];
    if (bus_endpoint(&s->bus, BUS_EP_SNAPSHOT, ep, sizeof ep) < 0) return NULL;
    void *d = zmq_socket(s->zctx, ZMQ_DEALER);
    int zero = 0;
    if (!d) return NULL;
    if (zmq_setsockopt(d, ZMQ_LINGER, &zero, sizeof zero) < 0 ||
        zmq_setsockopt(d, ZMQ_RCVHWM, &zero, sizeof zero) < 0 || bus_limit_inbound(d, MSG_MAX_BYTES) < 0 ||
        zmq_connect(d, ep) < 0) {
        zmq_close(d);
        return NULL;
    }
    return d;
}

static void *open_sub(subscriber_t *s)
{
    char ep[512];
    if (bus_endpoint(&s->bus, BUS_EP_EVENTS, ep, sizeof ep) < 0) return NULL;
    void *sock = zmq_socket(s->zctx, ZMQ_SUB);
    int zero = 0, hwm = SUB_RCVHWM;
    if (!sock) return NULL;
    bool ok = zmq_setsockopt(sock, ZMQ_LINGER, &zero, sizeof zero) == 0 &&
              zmq_setsockopt(sock, ZMQ_RCVHWM, &hwm, sizeof hwm) == 0 && bus_limit_inbound(sock, MSG_MAX_BYTES) == 0;
    char topic[BUS_TOPIC_MAX];
    for (size_t i = 0; ok && i < s->nres; i++)
        ok = bus_topic_resource(topic, sizeof topic, s->res[i].name) > 0 &&
             zmq_setsockopt(sock, ZMQ_SUBSCRIBE, topic, strlen(topic)) == 0;
    for (size_t i = 0; ok && s->extra[i]; i++)
        ok = zmq_setsockopt(sock, ZMQ_SUBSCRIBE, s->extra[i], strlen(s->extra[i])) == 0;
    /* Last: a heartbeat on it proves the subscriptions above have arrived too. */
    ok = ok && zmq_setsockopt(sock, ZMQ_SUBSCRIBE, BUS_TOPIC_INFORMER, strlen(BUS_TOPIC_INFORMER)) == 0 &&
         zmq_connect(sock, ep) == 0;
    if (!ok) { zmq_close(sock); return NULL; }
    return sock;
}

/* ---- delivery ---- */

static void deliver(subscriber_t *s, const msg_event_t *ev, int type, uint64_t seq)
{
    if (ev->view != view_version(ev->resource)) {   /* another build's informer: fields we read may be gone */
        s->stats.refused++;
        char got[16], want[16];
        snprintf(got, sizeof got, "%u", (unsigned)ev->view);
        snprintf(want, sizeof want, "%u", (unsigned)view_version(ev->resource));
        if (log_limit_allow(&s->lim))
            LOGW("event refused: object view version unknown", "subscriber", s->name, "resource", ev->resource,
                 "name", ev->name, "view", got, "want", want);
        return;
    }
    json_error_t jerr;
    json_t *obj = NULL;
    if (!s->defer_parse) {
        /* The tree lives for this call (a controller's caches keep bytes,
         * never the tree), so it comes from the turn arena where one is
         * installed (turnarena.h); a handler that keeps a reference pins
         * its generation, which costs memory, never correctness. */
        turn_arena_open();
        obj = json_loadb((const char *)ev->object.data, ev->object.len, JSON_REJECT_DUPLICATES, &jerr);
        turn_arena_close();
    }
    if (!s->defer_parse && !json_is_object(obj)) {
        s->stats.parse_failures++;
        if (log_limit_allow(&s->lim))
            LOGW("event object is not a JSON object", "subscriber", s->name, "resource", ev->resource, "name",
                 ev->name, "error", jerr.text);
        json_decref(obj);
        return;
    }
    subscriber_event_t e = {
        .resource = nz(ev->resource), .type = type, .ns = nz(ev->namespace_), .name = nz(ev->name),
        .uid = nz(ev->uid), .resource_version = nz(ev->resource_version), .epoch = ev->epoch, .seq = seq,
        .json = (const char *)ev->object.data, .json_len = ev->object.len,
        .old_json = ev->old_object.len ? (const char *)ev->old_object.data : NULL, .old_len = ev->old_object.len,
    };
    if (type == KUBUS__V1__EVENT_TYPE__SNAPSHOT) s->stats.snapshot_events++;
    else s->stats.events++;
    s->cb.on_event(s->cb.ctx, &e, obj);
    json_decref(obj);
}

void sub_apply_live(subscriber_t *s, res_t *r, const msg_event_t *ev)
{
    if (r->need || !r->have || r->replay) return;   /* a snapshot or a replay will cover it */
    if (ev->seq <= r->seq) return;                   /* already covered */
    if (ev->seq != r->seq + 1) {
        s->stats.gaps++;
        char why[80];
        snprintf(why, sizeof why, "sequence gap: want %llu, got %llu", (unsigned long long)r->seq + 1,
                 (unsigned long long)ev->seq);
        sub_want_replay(s, r, why);
        return;
    }
    if (ev->type < KUBUS__V1__EVENT_TYPE__ADDED || ev->type > KUBUS__V1__EVENT_TYPE__DELETED) {
        sub_refuse(s, "live event of type", msg_event_type_name(ev->type));
        r->need = true; /* the informer said something we cannot apply: start over */
        return;
    }
    r->seq = ev->seq;
    deliver(s, ev, ev->type, ev->seq);
}

void sub_apply_env(subscriber_t *s, res_t *r, const msg_envelope_t *env)
{
    msg_event_t *const *evs;
    size_t n = sub_env_events(env, &evs);
    for (size_t i = 0; i < n; i++) sub_apply_live(s, r, evs[i]);
}

static void reset_dealer(subscriber_t *s)
{
    for (size_t i = 0; i < s->nres; i++) {
        res_t *r = &s->res[i];
        if (r->in_replay) r->need = true;   /* a replay cut short: fall back to a snapshot */
        r->in_request = r->in_replay = false;
    }
    sub_vec_clear(&s->snap);
    sub_vec_clear(&s->live);
    if (s->dealer) zmq_close(s->dealer);
    /* A fresh identity: late replies to the old one are dropped by the informer. */
    s->dealer = open_dealer(s);
    if (!s->dealer) LOGE("cannot reopen the snapshot socket", "subscriber", s->name, "error", zmq_strerror(errno));
}

void sub_abort_request(subscriber_t *s, state_t next)
{
    if (s->state == S_SNAPSHOT || s->state == S_REPLAY) reset_dealer(s);
    s->state = next;
}

static void new_epoch(subscriber_t *s, uint64_t epoch)
{
    if (s->epoch) {
        s->stats.epoch_changes++;
        LOGI("informer epoch changed, re-snapshotting everything", "subscriber", s->name);
    }
    s->epoch = epoch;
    need_all(s);
    sub_abort_request(s, S_IDLE);
}

/* ---- inbound: events stream ---- */

static void on_status(subscriber_t *s, const Kubus__V1__InformerStatus *st, uint64_t now)
{
    s->last_hb_ms = now;
    if (s->state == S_WAIT_HB) s->state = S_IDLE;
    if (st->epoch != s->epoch && !(s->epoch == 0 && s->state == S_SNAPSHOT)) { new_epoch(s, st->epoch); return; }
    /* (During the first snapshot its SnapshotEnd settles the epoch.) */
    for (size_t i = 0; i < st->n_seqs; i++) {
        res_t *r = sub_find_res(s, st->seqs[i]->resource);
        if (!r || !r->have || r->need || r->in_request || r->replay || r->in_replay) continue;
        if (st->seqs[i]->seq <= r->seq) { r->ahead_since_ms = 0; continue; }
        if (!r->ahead_since_ms) { r->ahead_since_ms = now; continue; }
        if (now - r->ahead_since_ms > AHEAD_GRACE_MS) {
            s->stats.gaps++;
            sub_want_replay(s, r, "the informer's heartbeat is ahead of us: messages were lost");
            r->ahead_since_ms = 0;
        }
    }
}

/* Resource and epoch of a live envelope (a WatchEvent or an EventBatch). */
static void live_head(const msg_envelope_t *env, const char **resource, uint64_t *epoch)
{
    bool batch = env->body_case == KUBUS__V1__ENVELOPE__BODY_EVENT_BATCH;
    *resource = batch ? env->event_batch->resource : env->event->resource;
    *epoch = batch ? env->event_batch->epoch : env->event->epoch;
}

/* A restarted informer, or a late event of a dead one: which, only its
 * heartbeat or a SnapshotEnd can say, so do not adopt this epoch (a stale
 * event would make us flip back); re-snapshot everything. */
static void foreign_epoch(subscriber_t *s)
{
    if (log_limit_allow(&s->lim)) LOGI("event of another epoch, re-snapshotting", "subscriber", s->name);
    s->stats.gaps++;
    bool in_flight = s->state == S_SNAPSHOT;
    for (size_t i = 0; i < s->nres; i++)
        if (!(in_flight && s->res[i].in_request)) s->res[i].need = true; /* the reply in flight settles those */
}

/* Takes ownership of env: a WatchEvent or an EventBatch from the SUB. */
static void on_event_msg(subscriber_t *s, msg_envelope_t *env)
{
    const char *resource;
    uint64_t epoch;
    live_head(env, &resource, &epoch);
    res_t *r = sub_find_res(s, resource);
    if (!r || (env->body_case == KUBUS__V1__ENVELOPE__BODY_EVENT && env->event->type == KUBUS__V1__EVENT_TYPE__SNAPSHOT)) {
        sub_refuse(s, r ? "SNAPSHOT event on the live stream" : "event of a resource not subscribed", resource);
        msg_free(env);
        return;
    }
    if (env->body_case == KUBUS__V1__ENVELOPE__BODY_EVENT_BATCH) s->stats.batches++;
    bool buffering = (s->state == S_SNAPSHOT && r->in_request) || (s->state == S_REPLAY && r->in_replay);
    if (s->epoch == 0 && !buffering) { msg_free(env); return; } /* not started: the snapshot will cover it */
    if (s->epoch != 0 && epoch != s->epoch) {
        foreign_epoch(s);
        msg_free(env);
        return;
    }
    if (buffering) {   /* kept until the reply's end says which epoch and seq they follow */
        if (sub_vec_push(&s->live, env, LIVE_MAX_EVENTS) < 0) {
            LOGW("too many events while a reply streams, starting over", "subscriber", s->name);
            msg_free(env);
            sub_abort_request(s, S_IDLE);
        }
        return;
    }
    sub_apply_env(s, r, env);
    msg_free(env);
}

/* A live message that was refused (undecodable, a batch whose counts or
 * seqs do not add up): if its topic names one of our resources, events of
 * it were lost, so repair at once instead of waiting for the next gap. */
static void refused_live(subscriber_t *s, const char *topic, const char *err)
{
    sub_refuse(s, "undecodable message", err);
    if (strncmp(topic, "E/", 2) != 0) return;
    const char *name = topic + 2, *slash = strchr(name, '/');
    for (size_t i = 0; slash && i < s->nres; i++) {
        res_t *r = &s->res[i];
        if (strlen(r->name) == (size_t)(slash - name) && strncmp(r->name, name, (size_t)(slash - name)) == 0 &&
            r->have && !r->need && s->epoch)
            sub_want_replay(s, r, "a refused message on its topic");
    }
}

static bool topic_is_extra(const subscriber_t *s, const char *topic)
{
    for (size_t i = 0; s->extra[i]; i++)
        if (strncmp(topic, s->extra[i], strlen(s->extra[i])) == 0) return true;
    return false;
}

/* ---- inbound: snapshot replies ---- */

static void request_snapshot(subscriber_t *s, uint64_t now)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nres; i++) n += s->res[i].need;
    if (n == 0 || !s->dealer) return;
    char **names = calloc(n, sizeof *names);
    if (!names) { s->retry_at_ms = now + UNSYNCED_RETRY_MS; return; }
    char **stored = calloc(n, sizeof *stored);
    if (!stored) { free(names); s->retry_at_ms = now + UNSYNCED_RETRY_MS; return; }
    n = 0;
    size_t n_stored = 0;
    for (size_t i = 0; i < s->nres; i++) {
        if (!s->res[i].need) continue;
        names[n++] = s->res[i].name;
        if (s->res[i].stored) stored[n_stored++] = s->res[i].name;
    }
    Kubus__V1__SnapshotRequest req;
    kubus__v1__snapshot_request__init(&req);
    req.resources = names;
    req.n_resources = n;
    req.stored = stored;
    req.n_stored = n_stored;
    req.requester = s->name;
    req.request_id = ++s->request_id;
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_SNAPSHOT_REQUEST;
    env.snapshot_request = &req;
    int rc = bus_send(s->dealer, NULL, &env, true);
    free(names);
    free(stored);
    if (rc < 0) {
        s->retry_at_ms = now + UNSYNCED_RETRY_MS;
        return;
    }
    s->stats.snapshots++;
    for (size_t i = 0; i < s->nres; i++) s->res[i].in_request = s->res[i].need;
    s->state = S_SNAPSHOT;
    s->snap_last_ms = now;
}

static const Kubus__V1__ResourceSeq *end_seq(const Kubus__V1__SnapshotEnd *end, const char *name)
{
    for (size_t i = 0; i < end->n_seqs; i++)
        if (strcmp(end->seqs[i]->resource, name) == 0) return end->seqs[i];
    return NULL;
}

/* NULL if the snapshot can be applied, else why not. */
static const char *check_end(subscriber_t *s, const Kubus__V1__SnapshotEnd *end, bool *unsynced)
{
    *unsynced = false;
    if (end->error && end->error[0]) return end->error;
    if (end->epoch == 0) return "SnapshotEnd without epoch";
    if (end->count != s->snap.events) return "SnapshotEnd count differs from the events received";
    for (size_t i = 0; i < s->nres; i++) {
        if (!s->res[i].in_request) continue;
        const Kubus__V1__ResourceSeq *rs = end_seq(end, s->res[i].name);
        if (!rs) return "SnapshotEnd lacks a requested resource";
        if (!rs->synced) *unsynced = true;
    }
    for (size_t i = 0; i < s->snap.n; i++) {
        const msg_event_t *ev = s->snap.v[i]->event;
        res_t *r = sub_find_res(s, ev->resource);
        if (ev->epoch != end->epoch || !r || !r->in_request) return "snapshot event of another epoch or resource";
    }
    return NULL;
}

void sub_apply_held_live(subscriber_t *s)
{
    for (size_t k = 0; k < s->live.n; k++) {
        const char *resource;
        uint64_t epoch;
        live_head(s->live.v[k], &resource, &epoch);
        res_t *r = sub_find_res(s, resource);
        if (r && epoch == s->epoch) sub_apply_env(s, r, s->live.v[k]);
    }
}

static void deliver_snapshot(subscriber_t *s, const Kubus__V1__SnapshotEnd *end)
{
    for (size_t i = 0; i < s->nres; i++) {
        res_t *r = &s->res[i];
        if (!r->in_request) continue;
        uint64_t seq = end_seq(end, r->name)->seq;
        if (s->cb.on_resync_begin) s->cb.on_resync_begin(s->cb.ctx, r->name, s->epoch);
        for (size_t k = 0; k < s->snap.n; k++) {
            const msg_event_t *ev = s->snap.v[k]->event;
            if (strcmp(ev->resource, r->name) == 0) deliver(s, ev, KUBUS__V1__EVENT_TYPE__SNAPSHOT, seq);
        }
        r->seq = seq;
        r->have = true;
        r->need = false;
        r->replay = false;
        r->in_request = false;
        r->ahead_since_ms = 0;
        s->stats.resyncs_done++;
        if (s->cb.on_resync_end) s->cb.on_resync_end(s->cb.ctx, r->name, s->epoch);
    }
    /* Then what arrived meanwhile, minus what the snapshot already holds. */
    sub_apply_held_live(s);
}

static void on_snapshot_end(subscriber_t *s, const Kubus__V1__SnapshotEnd *end, uint64_t now)
{
    if (s->state != S_SNAPSHOT || end->request_id != s->request_id) return; /* a stale reply */
    bool unsynced;
    const char *why = check_end(s, end, &unsynced);
    if (why || unsynced) {
        if (why) LOGW("snapshot refused", "subscriber", s->name, "why", why);
        s->retry_at_ms = now + (why ? REFUSED_RETRY_MS : UNSYNCED_RETRY_MS);
        sub_vec_clear(&s->snap);
        sub_vec_clear(&s->live);
        for (size_t i = 0; i < s->nres; i++) s->res[i].in_request = false;
        s->state = S_IDLE;
        return;
    }
    if (end->epoch != s->epoch) { /* restarted between its heartbeat and our request */
        if (s->epoch) s->stats.epoch_changes++;
        s->epoch = end->epoch;
        for (size_t i = 0; i < s->nres; i++)
            if (!s->res[i].in_request) {
                s->res[i].need = true;
                s->res[i].replay = false;
                s->res[i].have = false;
                s->res[i].seq = 0;
            }
    }
    deliver_snapshot(s, end);
    sub_vec_clear(&s->snap);
    sub_vec_clear(&s->live);
    s->state = S_IDLE;
}

/* Takes ownership of env. */
static void on_dealer_msg(subscriber_t *s, msg_envelope_t *env, uint64_t now)
{
    if (s->state == S_SNAPSHOT || s->state == S_REPLAY) s->snap_last_ms = now;
    if (env->body_case == KUBUS__V1__ENVELOPE__BODY_EVENT_BATCH) {
        sub_on_replay_batch(s, env, now);
        return;
    }
    if (env->body_case == KUBUS__V1__ENVELOPE__BODY_EVENT && env->event->type == KUBUS__V1__EVENT_TYPE__SNAPSHOT) {
        if (s->state != S_SNAPSHOT) { msg_free(env); return; }
        if (sub_vec_push(&s->snap, env, SUB_REPLY_MAX_MSGS) < 0) {
            LOGW("snapshot too large to buffer, starting over", "subscriber", s->name);
            msg_free(env);
            sub_abort_request(s, S_IDLE);
            s->retry_at_ms = now + REFUSED_RETRY_MS;
        }
        return;
    }
    if (env->body_case == KUBUS__V1__ENVELOPE__BODY_SNAPSHOT_END) on_snapshot_end(s, env->snapshot_end, now);
    else if (env->body_case == KUBUS__V1__ENVELOPE__BODY_REPLAY_END) sub_on_replay_end(s, env->replay_end, now);
    else sub_refuse(s, "unexpected message on the snapshot socket", msg_body_name(env));
    msg_free(env);
}

/* ---- the public loop interface ---- */

static int drain(subscriber_t *s, void *sock, bool is_sub, uint64_t now)
{
    int n = 0;
    while (sock) {
        char prefix[BUS_TOPIC_MAX], err[256];
        msg_envelope_t *env = bus_recv(sock, prefix, sizeof prefix, true, err, sizeof err);
        if (!env) {
            if (errno == EAGAIN) return n;
            if (errno == EPROTO) {
                n++;
                if (is_sub) refused_live(s, prefix, err);
                else sub_refuse(s, "undecodable message on the snapshot socket", err);
                continue;
            }
            if (errno == EINTR) continue;
            return -1;
        }
        n++;
        if (!is_sub) { on_dealer_msg(s, env, now); sock = s->dealer; continue; } /* may have been replaced */
        if (strcmp(prefix, BUS_TOPIC_INFORMER) == 0 &&
            env->body_case == KUBUS__V1__ENVELOPE__BODY_INFORMER_STATUS) {
            on_status(s, env->informer_status, now);
        } else if ((env->body_case == KUBUS__V1__ENVELOPE__BODY_EVENT ||
                    env->body_case == KUBUS__V1__ENVELOPE__BODY_EVENT_BATCH) && strncmp(prefix, "E/", 2) == 0) {
            on_event_msg(s, env);
            continue; /* owned */
        } else if (topic_is_extra(s, prefix)) {
            if (s->cb.on_other) s->cb.on_other(s->cb.ctx, prefix, env);
        } else {
            sub_refuse(s, "message does not match its topic", prefix);
        }
        msg_free(env);
    }
    return n;
}

/* The first snapshot is asked for at once, without waiting for a heartbeat:
 * its SnapshotEnd brings the epoch, and live events lost while our
 * subscriptions travel to the informer (the slow joiner) show up as a
 * sequence gap or as a heartbeat ahead of us, both of which re-snapshot.
 * So a (re)started controller is ready as soon as its state is complete.
 * After that, a lost informer (silence) is waited for by heartbeat. */
static void maybe_request(subscriber_t *s, uint64_t now)
{
    if (now < s->retry_at_ms || s->state == S_SNAPSHOT || s->state == S_REPLAY) return;
    if (s->epoch != 0 && s->state != S_IDLE) return;
    request_snapshot(s, now);
    if (s->state == S_IDLE && s->epoch != 0) sub_request_replay(s, now);
}

int subscriber_process(subscriber_t *s)
{
    uint64_t now = mono_ms();
    int a = drain(s, s->sub, true, now);
    int b = drain(s, s->dealer, false, now);
    maybe_request(s, now);
    return a < 0 || b < 0 ? -1 : a + b;
}

void subscriber_tick(subscriber_t *s, uint64_t now)
{
    if (s->state != S_WAIT_HB && s->last_hb_ms && now - s->last_hb_ms > HB_SILENCE_MS) {
        LOGW("no informer heartbeat for 5 s: treating the informer as gone", "subscriber", s->name);
        sub_abort_request(s, S_WAIT_HB);
    }
    if ((s->state == S_SNAPSHOT || s->state == S_REPLAY) && now - s->snap_last_ms > SUB_STALL_MS) {
        LOGW(s->state == S_SNAPSHOT ? "snapshot stalled, asking again" : "replay stalled, re-snapshotting",
             "subscriber", s->name);
        sub_abort_request(s, S_IDLE);
    }
    maybe_request(s, now);
}

int subscriber_poll_items(subscriber_t *s, zmq_pollitem_t *items, int max)
{
    int n = 0;
    if (n < max && s->sub) items[n++] = (zmq_pollitem_t){ .socket = s->sub, .events = ZMQ_POLLIN };
    if (n < max && s->dealer) items[n++] = (zmq_pollitem_t){ .socket = s->dealer, .events = ZMQ_POLLIN };
    return n;
}

bool subscriber_synced(const subscriber_t *s)
{
    for (size_t i = 0; i < s->nres; i++)
        if (!s->res[i].have || s->res[i].need || s->res[i].replay) return false;
    return s->nres > 0;
}

bool subscriber_quiet(const subscriber_t *s)
{
    return s->state == S_IDLE && mono_ms() >= s->retry_at_ms && subscriber_synced(s);
}

uint64_t subscriber_epoch(const subscriber_t *s) { return s->epoch; }

uint64_t subscriber_seq(const subscriber_t *s, const char *resource)
{
    for (size_t i = 0; resource && i < s->nres; i++)
        if (strcmp(s->res[i].name, resource) == 0) return s->res[i].seq;
    return 0;
}

void subscriber_stats(const subscriber_t *s, subscriber_stats_t *out) { *out = s->stats; }

/* ---- life ---- */

static char **copy_list(const char *const *list, size_t *n)
{
    size_t k = 0;
    while (list && list[k]) k++;
    char **out = calloc(k + 1, sizeof *out);
    for (size_t i = 0; out && i < k; i++) {
        out[i] = strdup(list[i]);
        if (!out[i]) {
            for (size_t j = 0; j < i; j++) free(out[j]);
            free(out);
            return NULL;
        }
    }
    if (n) *n = k;
    return out;
}

subscriber_t *subscriber_create(const subscriber_config_t *cfg, char *err, size_t errlen)
{
    if (!cfg || !cfg->zctx || !cfg->bus || !cfg->resources || !cfg->resources[0] || !cfg->cb.on_event) {
        snprintf(err, errlen, "subscriber: zctx, bus, resources and on_event are required");
        return NULL;
    }
    subscriber_t *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, errlen, "out of memory"); return NULL; }
    s->zctx = cfg->zctx;
    s->bus = *cfg->bus;
    s->cb = cfg->cb;
    s->defer_parse = cfg->defer_parse;
    s->lim = (log_limit_t)LOG_LIMIT_INIT(1.0, 10.0);
    s->name = strdup(cfg->name ? cfg->name : "subscriber");
    size_t n = 0;
    char **names = copy_list(cfg->resources, &n);
    s->extra = copy_list(cfg->extra_topics, NULL);
    s->res = calloc(n, sizeof *s->res);
    if (!s->name || !names || !s->extra || !s->res) {
        snprintf(err, errlen, "out of memory");
        if (names) for (size_t i = 0; i < n; i++) free(names[i]);
        free(names);
        subscriber_destroy(&s);
        return NULL;
    }
    for (size_t i = 0; i < n; i++) s->res[i] = (res_t){ .name = names[i], .need = true };
    s->nres = n;
    free(names);
    for (size_t i = 0; cfg->stored && cfg->stored[i]; i++) {
        res_t *r = sub_find_res(s, cfg->stored[i]);
        if (!r) {
            snprintf(err, errlen, "subscriber: stored resource %s is not among the resources", cfg->stored[i]);
            subscriber_destroy(&s);
            return NULL;
        }
        r->stored = true;
    }
    s->sub = open_sub(s);
    s->dealer = open_dealer(s);
    if (!s->sub || !s->dealer) {
        snprintf(err, errlen, "subscriber: cannot open bus sockets: %s", zmq_strerror(errno));
        subscriber_destroy(&s);
        return NULL;
    }
    return s;
}

void subscriber_destroy(subscriber_t **ps)
{
    if (!ps || !*ps) return;
    subscriber_t *s = *ps;
    if (s->sub) zmq_close(s->sub);
    if (s->dealer) zmq_close(s->dealer);
    vec_free(&s->snap);
    vec_free(&s->live);
    for (size_t i = 0; i < s->nres; i++) free(s->res[i].name);
    free(s->res);
    for (size_t i = 0; s->extra && s->extra[i]; i++) free(s->extra[i]);
    free(s->extra);
    free(s->name);
    free(s);
    *ps = NULL;
}
