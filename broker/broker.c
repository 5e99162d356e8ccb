/* broker.c - the broker's sockets and forwarding loop. See broker.h. */
#include "broker.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>
#include <zmq.h>

#include "route.h"

#define MAX_FRAMES 3
#define BATCH 1000           /* messages per socket per poll round: keeps paths fair */
#define FLUSH_BATCH 10000

typedef struct { int option; int value; } sockopt_t;


/* ---- sockets ---- */

static void *open_bound(void *zctx, int type, const bus_config_t *bus, bus_endpoint_t ep,
                        const sockopt_t *opts, size_t nopts, size_t maxmsg)
{
    char endpoint[512];
    if (bus_endpoint(bus, ep, endpoint, sizeof endpoint) < 0) {
        LOGE("bus endpoint name too long");
        return NULL;
    }
    void *s = zmq_socket(zctx, type);
    if (!s) {
        LOGE("zmq_socket failed", "error", zmq_strerror(errno));
        return NULL;
    }
    /* Options first: high-water marks apply to pipes made after they are set. */
    for (size_t i = 0; i < nopts; i++) {
        if (zmq_setsockopt(s, opts[i].option, &opts[i].value, sizeof opts[i].value) < 0) {
            LOGE("zmq_setsockopt failed", "endpoint", endpoint, "error", zmq_strerror(errno));
            zmq_close(s);
            return NULL;
        }
    }
    if (bus_limit_inbound(s, maxmsg) < 0) {
        LOGE("zmq_setsockopt(ZMQ_MAXMSGSIZE) failed", "endpoint", endpoint, "error", zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    if (zmq_bind(s, endpoint) < 0) {
        LOGE("cannot bind", "endpoint", endpoint, "error", zmq_strerror(errno));
        zmq_close(s);
        return NULL;
    }
    LOGV(1, "bound", "endpoint", endpoint);
    return s;
}

#define NOPTS(a) (sizeof(a) / sizeof((a)[0]))

/* ZeroMQ lets a second bind of an ipc endpoint silently take it over, so
 * two brokers on one bus directory would split the bus. A lock file held for
 * the process's life refuses the second one; the kernel drops it on death. */
static int lock_bus_dir(broker_t *b, const bus_config_t *bus)
{
    if (bus->tcp_host[0]) return 0; /* tcp: the second bind fails by itself */
    char err[1200];
    b->lock_fd = bus_open_file(bus, "broker.lock", O_RDWR | O_CREAT, err, sizeof err);
    if (b->lock_fd < 0) {
        LOGE("cannot open the broker lock", "error", err);
        return -1;
    }
    if (flock(b->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        LOGE("another broker serves this bus directory", "dir", bus->dir, "error", strerror(errno));
        return -1;
    }
    return 0;
}

int broker_open(broker_t *b, void *zctx, const bus_config_t *bus)
{
    memset(b, 0, sizeof *b);
    b->lock_fd = -1;
    if (lock_bus_dir(b, bus) < 0) {
        broker_close(b);
        return -1;
    }
    broker_actq_init(&b->held, BROKER_ACTQ_MAX_ITEMS, BROKER_ACTQ_MAX_BYTES);
    b->bad_log = (log_limit_t)LOG_LIMIT_INIT(1.0, 10.0);
    const sockopt_t pub[] = { { ZMQ_LINGER, 0 }, { ZMQ_SNDHWM, BUS_EVENTS_HWM }, { ZMQ_RCVHWM, BUS_EVENTS_HWM } };
    /* HANDOVER: a restarted peer with the same routing id takes over the
     * route at once. MANDATORY: an unroutable send fails (EHOSTUNREACH)
     * instead of vanishing, so actions can be held and results counted. */
    const sockopt_t router[] = { { ZMQ_LINGER, 0 }, { ZMQ_SNDHWM, BROKER_HWM },
                                 { ZMQ_RCVHWM, BROKER_HWM }, { ZMQ_ROUTER_HANDOVER, 1 },
                                 { ZMQ_ROUTER_MANDATORY, 1 } };
    /* Inbound limits, per frame (libzmq checks each): publishers' and
     * routed envelopes, subscribers' [0|1][prefix]. */
    b->xsub = open_bound(zctx, ZMQ_XSUB, bus, BUS_EP_EVENTS_IN, pub, NOPTS(pub), MSG_MAX_BYTES);
    b->xpub = open_bound(zctx, ZMQ_XPUB, bus, BUS_EP_EVENTS, pub, NOPTS(pub), BUS_TOPIC_MAX + 1);
    b->actions = open_bound(zctx, ZMQ_ROUTER, bus, BUS_EP_ACTIONS, router, NOPTS(router), MSG_MAX_BYTES);
    b->exec = open_bound(zctx, ZMQ_ROUTER, bus, BUS_EP_EXEC, router, NOPTS(router), MSG_MAX_BYTES);
    if (!b->xsub || !b->xpub || !b->actions || !b->exec) {
        broker_close(b);
        return -1;
    }
    return 0;
}

void broker_close(broker_t *b)
{
    void **socks[] = { &b->xsub, &b->xpub, &b->actions, &b->exec };
    for (size_t i = 0; i < NOPTS(socks); i++) {
        if (*socks[i]) zmq_close(*socks[i]);
        *socks[i] = NULL;
    }
    broker_actq_fini(&b->held);
    if (b->lock_fd >= 0) close(b->lock_fd);
    b->lock_fd = -1;
}

uint64_t broker_progress(const broker_t *b)
{
    return b->c.events + b->c.actions + b->c.results;
}

/* ---- frames ---- */

typedef struct {
    zmq_msg_t f[MAX_FRAMES];
    int n;                    /* frames held in f */
    int total;                /* frames the message had */
} frames_t;

static void frames_close(frames_t *m)
{
    for (int i = 0; i < m->n; i++) zmq_msg_close(&m->f[i]);
    m->n = 0;
}

/* Receives one whole message without waiting. Frames beyond MAX_FRAMES are
 * read and discarded (m->total tells). 1: got one; 0: nothing waiting; -1: error. */
static int frames_recv(void *sock, frames_t *m)
{
    m->n = 0;
    m->total = 0;
    for (;;) {
        zmq_msg_t tmp;
        zmq_msg_t *f = m->n < MAX_FRAMES ? &m->f[m->n] : &tmp;
        zmq_msg_init(f);
        if (zmq_msg_recv(f, sock, m->total ? 0 : ZMQ_DONTWAIT) < 0) {
            int e = errno;
            zmq_msg_close(f);
            frames_close(m);
            errno = e;
            return e == EAGAIN && m->total == 0 ? 0 : -1;
        }
        m->total++;
        int more = zmq_msg_more(f);
        if (f == &tmp)
            zmq_msg_close(&tmp);
        else
            m->n++;
        if (!more) return 1;
    }
}

static const void *fdata(frames_t *m, int i) { return zmq_msg_data(&m->f[i]); }
static size_t fsize(frames_t *m, int i) { return zmq_msg_size(&m->f[i]); }

static msg_envelope_t *decode_frame(frames_t *m, int i, char *err, size_t errlen)
{
    return msg_decode(fdata(m, i), fsize(m, i), err, errlen);
}

static void refuse(broker_t *b, const char *from, const char *why)
{
    b->c.malformed++;
    if (log_limit_allow(&b->bad_log)) LOGW("dropped a malformed message", "from", from, "reason", why);
}

/* ---- events and subscriptions ---- */

static void publish(broker_t *b, frames_t *m)
{
    if (zmq_msg_send(&m->f[0], b->xpub, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
        zmq_msg_send(&m->f[1], b->xpub, ZMQ_DONTWAIT) < 0) {
        LOGE("cannot forward to subscribers", "error", zmq_strerror(errno));
        return;
    }
    b->c.events++;
}

/* [topic][envelope]: a batch by its header, anything else decoded whole. */
static void check_and_publish(broker_t *b, frames_t *m)
{
    char err[256];
    batch_header_t h;
    int batch = batch_header_read(fdata(m, 1), fsize(m, 1), &h, err, sizeof err);
    if (batch == 1 && broker_check_batch(fdata(m, 0), fsize(m, 0), &h, err, sizeof err) == 0) {
        b->c.batch_events += h.count;
        publish(b, m);
        return;
    }
    if (batch != 0) {
        refuse(b, "publisher", err);
        return;
    }
    msg_envelope_t *env = decode_frame(m, 1, err, sizeof err);
    if (!env || broker_check_publish(fdata(m, 0), fsize(m, 0), env, err, sizeof err) < 0)
        refuse(b, "publisher", err);
    else
        publish(b, m);
    msg_free(env);
}

static int on_published(broker_t *b)
{
    frames_t m;
    int rc = frames_recv(b->xsub, &m);
    if (rc <= 0) return rc;
    if (m.total != 2) {
        char err[64];
        snprintf(err, sizeof err, "%d frames, want [topic][envelope]", m.total);
        refuse(b, "publisher", err);
    } else {
        check_and_publish(b, &m);
    }
    frames_close(&m);
    return 1;
}

static int on_subscription(broker_t *b)
{
    frames_t m;
    int rc = frames_recv(b->xpub, &m);
    if (rc <= 0) return rc;
    if (m.total != 1 || !broker_is_subscription(fdata(&m, 0), fsize(&m, 0)))
        refuse(b, "subscriber", "not a subscription message");
    else if (zmq_msg_send(&m.f[0], b->xsub, ZMQ_DONTWAIT) < 0)
        LOGE("cannot pass a subscription upstream", "error", zmq_strerror(errno));
    else
        b->c.subscriptions++;
    frames_close(&m);
    return 1;
}

/* ---- actions towards the executor ---- */

static void executor_lost(broker_t *b, const char *why)
{
    if (!b->exec_up) return;
    b->exec_up = false;
    char held[32];
    snprintf(held, sizeof held, "%zu", broker_actq_len(&b->held));
    LOGW("executor unavailable; holding actions", "reason", why, "held", held);
}

static void executor_heard(broker_t *b)
{
    b->exec_seen_ms = now_mono_ms();
    if (b->exec_up) return;
    b->exec_up = true;
    char held[32];
    snprintf(held, sizeof held, "%zu", broker_actq_len(&b->held));
    LOGI("executor connected", "held", held);
}

/* 0: sent; -1: not taken (EAGAIN or EHOSTUNREACH in errno; frames still
 * ours); -2: lost half-way (cannot happen once the first frame went, but a
 * failure there must not leave the caller re-sending a half message). */
static int send_to_executor(broker_t *b, zmq_msg_t *id, zmq_msg_t *env)
{
    if (zmq_send(b->exec, BUS_EXECUTOR_ID, strlen(BUS_EXECUTOR_ID), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return -1;
    if (zmq_msg_send(id, b->exec, ZMQ_SNDMORE) < 0 || zmq_msg_send(env, b->exec, 0) < 0) {
        LOGE("action lost while sending to the executor", "error", zmq_strerror(errno));
        return -2;
    }
    b->c.actions++;
    return 0;
}

static void hold(broker_t *b, zmq_msg_t *id, zmq_msg_t *env)
{
    uint64_t dropped = b->held.dropped;
    if (broker_actq_push(&b->held, id, env) < 0) {
        LOGE("out of memory holding an action; dropped");
        return;
    }
    b->c.queued++;
    if (b->held.dropped != dropped && log_limit_allow(&b->bad_log))
        LOGW("action queue full; dropped the oldest");
}

/* Sends held actions in order while the executor takes them. */
static void flush_held(broker_t *b)
{
    for (int i = 0; i < FLUSH_BATCH && b->exec_up; i++) {
        broker_item_t *it = broker_actq_front(&b->held);
        if (!it) return;
        int rc = send_to_executor(b, &it->id, &it->env);
        if (rc == -1) {
            if (errno == EHOSTUNREACH) executor_lost(b, "not connected");
            return;
        }
        broker_actq_pop(&b->held);
    }
}

static void route_action(broker_t *b, frames_t *m)
{
    /* Keep order: nothing overtakes what is already held. */
    if (b->exec_up && broker_actq_len(&b->held) == 0) {
        int rc = send_to_executor(b, &m->f[0], &m->f[1]);
        if (rc != -1) return;
        if (errno == EHOSTUNREACH) executor_lost(b, "not connected");
    }
    hold(b, &m->f[0], &m->f[1]);
}

static int on_action(broker_t *b)
{
    frames_t m;
    int rc = frames_recv(b->actions, &m);
    if (rc <= 0) return rc;
    char err[256];
    if (m.total != 2) {
        snprintf(err, sizeof err, "%d frames, want [envelope] from a DEALER", m.total - 1);
        refuse(b, "controller", err);
    } else {
        msg_envelope_t *env = decode_frame(&m, 1, err, sizeof err);
        if (!env || broker_check_from_controller(fdata(&m, 0), fsize(&m, 0), env, err, sizeof err) < 0)
            refuse(b, "controller", err);
        else
            route_action(b, &m);
        msg_free(env);
    }
    frames_close(&m);
    return 1;
}

/* ---- results towards controllers ---- */

static void deliver_result(broker_t *b, frames_t *m)
{
    if (zmq_msg_send(&m->f[1], b->actions, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0) {
        /* The controller is gone or not draining; it re-asks after a restart
         * (InflightQuery) or re-sends after 30 s, so dropping is safe. */
        b->c.undeliverable++;
        LOGV(1, "result undeliverable", "error", zmq_strerror(errno));
        return;
    }
    if (zmq_msg_send(&m->f[2], b->actions, 0) < 0) {
        b->c.undeliverable++;
        return;
    }
    b->c.results++;
}

static void on_executor_message(broker_t *b, frames_t *m)
{
    char err[256];
    int last = m->total - 1;
    msg_envelope_t *env = decode_frame(m, last, err, sizeof err);
    if (!env) {
        refuse(b, "executor", err);
        return;
    }
    if (m->total == 2 && env->body_case == KUBUS__V1__ENVELOPE__BODY_HEARTBEAT) {
        executor_heard(b);
    } else if (m->total == 3 &&
               broker_check_to_controller(fdata(m, 1), fsize(m, 1), env, err, sizeof err) == 0) {
        executor_heard(b);
        deliver_result(b, m);
    } else {
        if (m->total != 3) snprintf(err, sizeof err, "%s in %d frames", msg_body_name(env), m->total);
        refuse(b, "executor", err);
    }
    msg_free(env);
}

static int on_exec(broker_t *b)
{
    frames_t m;
    int rc = frames_recv(b->exec, &m);
    if (rc <= 0) return rc;
    if (m.total < 2 || m.total > 3)
        refuse(b, "executor", "want [envelope] or [controller-id][envelope]");
    else if (fsize(&m, 0) != strlen(BUS_EXECUTOR_ID) ||
             memcmp(fdata(&m, 0), BUS_EXECUTOR_ID, fsize(&m, 0)) != 0)
        refuse(b, "exec socket", "peer is not the executor (routing id)");
    else
        on_executor_message(b, &m);
    frames_close(&m);
    return 1;
}

/* ---- the loop ---- */

static int drain(broker_t *b, int (*one)(broker_t *))
{
    for (int i = 0; i < BATCH; i++) {
        int rc = one(b);
        if (rc < 0) {
            if (errno == EINTR) return 0;
            LOGE("receive failed", "error", zmq_strerror(errno));
            return -1;
        }
        if (rc == 0) break;
    }
    return 0;
}

static void log_stats(broker_t *b, uint64_t now)
{
    if (now < b->next_stats_ms) return;
    b->next_stats_ms = now + BROKER_STATS_MS;
    if (!log_v_enabled_at(2, __FILE__)) return;
    LOGFV(2, "broker stats: events=%llu batch_events=%llu subscriptions=%llu actions=%llu results=%llu "
          "malformed=%llu queued=%llu held=%zu held_dropped=%llu undeliverable=%llu executor_up=%d",
          (unsigned long long)b->c.events, (unsigned long long)b->c.batch_events,
          (unsigned long long)b->c.subscriptions,
          (unsigned long long)b->c.actions, (unsigned long long)b->c.results,
          (unsigned long long)b->c.malformed, (unsigned long long)b->c.queued,
          broker_actq_len(&b->held), (unsigned long long)b->held.dropped,
          (unsigned long long)b->c.undeliverable, b->exec_up ? 1 : 0);
}

/* How long the broker may sleep: until the first thing due (the worker's
 * heartbeat, the executor's silence deadline, the stats line), at most 1 s;
 * 10 ms while held actions wait on a busy executor (EAGAIN). Sleeping to
 * the due time instead of a fixed 250 ms is what keeps an idle shard idle. */
static long poll_timeout_ms(const broker_t *b, const worker_t *w)
{
    if (b->exec_up && broker_actq_len(&b->held)) return 10;
    uint64_t now = now_mono_ms(), t = 1000, hb = worker_ms_until_heartbeat(w);
    if (hb < t) t = hb;
    if (b->exec_up) {
        uint64_t left = ms_until(b->exec_seen_ms + BROKER_EXEC_SILENCE_MS + 1, now);
        if (left < t) t = left;
    }
    uint64_t stats = ms_until(b->next_stats_ms, now);
    if (stats < t) t = stats;
    return (long)t;
}

static int poll_once(broker_t *b, const worker_t *w)
{
    zmq_pollitem_t items[] = {
        { b->xsub, 0, ZMQ_POLLIN, 0 },
        { b->xpub, 0, ZMQ_POLLIN, 0 },
        { b->actions, 0, ZMQ_POLLIN, 0 },
        { b->exec, 0, ZMQ_POLLIN, 0 },
    };
    if (zmq_poll(items, 4, poll_timeout_ms(b, w)) < 0) {
        if (errno == EINTR) return 0;
        LOGE("zmq_poll failed", "error", zmq_strerror(errno));
        return -1;
    }
    int (*handlers[])(broker_t *) = { on_published, on_subscription, on_action, on_exec };
    for (int i = 0; i < 4; i++)
        if ((items[i].revents & ZMQ_POLLIN) && drain(b, handlers[i]) < 0) return -1;
    return 0;
}

int broker_run(broker_t *b, worker_t *w)
{
    b->next_stats_ms = now_mono_ms() + BROKER_STATS_MS;
    worker_set_ready(w, true);
    while (worker_tick(w)) {
        if (poll_once(b, w) < 0) return 1;
        uint64_t now = now_mono_ms();
        if (b->exec_up && now - b->exec_seen_ms > BROKER_EXEC_SILENCE_MS)
            executor_lost(b, "no heartbeat for 3s");
        flush_held(b);
        worker_set_progress(w, broker_progress(b));
        log_stats(b, now);
    }
    return 0;
}
