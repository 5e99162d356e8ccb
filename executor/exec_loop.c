/* exec_loop.c - the kubus-executor worker: its flags, its sockets and its
 * one loop (main.c only hands these hooks to worker_main).
 *
 * Owns: the executor's bus I/O and its one loop. A DEALER (routing id
 * "executor") on the broker's exec socket brings [controller-id][Action] and
 * [controller-id][InflightQuery] and takes back [controller-id][ActionResult
 * / InflightReport], plus a Heartbeat every second so the broker knows we
 * are there. A PUB on events-in carries ExecutorStatus{epoch,...} on
 * H/executor every second; the epoch is random per process life, so a
 * controller can tell a restarted executor (unknown outcomes) from a slow one.
 *
 * The loop waits in curl_multi_poll with the DEALER's ZMQ_FD as an extra fd.
 * That fd is edge-triggered: it only signals a change, so ZMQ_EVENTS is
 * checked (and the socket drained) after every wake and after every send.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include "exec_loop.h"

#include "bus.h"
#include "engine.h"
#include "flags.h"
#include "khttp.h"
#include "kubeconfig.h"
#include "log.h"
#include "trusted.h"
#include "msg.h"
#include "worker.h"

#define LOOP_MAX_MS 100
#define STATUS_EVERY_MS 1000u
#define METRICS_EVERY_MS 30000u
#define DRAIN_BATCH 1000
#define EXEC_HWM 100000   /* like the broker's: hold results through a short broker pause */

#define JOURNAL_FILE "executor.journal"

const char executor_usage[] =
    "  --max-in-flight=N        actions applied at once (default 64, 1..4096)\n"
    "  --journal-dir=DIR        where the journal of pending actions and recent results\n"
    "                           survives a restart (default: the --bus-dir, or for a tcp\n"
    "                           bus $XDG_RUNTIME_DIR/kubus); one executor per journal\n";

void executor_defaults(executor_t *x)
{
    x->max_in_flight = 64;
    x->bad_log = (log_limit_t)LOG_LIMIT_INIT(1.0, 10.0);
}

int executor_parse_flag(void *state, const char *flag, const char *value, bool *used)
{
    executor_t *x = state;
    if (strcmp(flag, "journal-dir") == 0) {
        if (!value || !*value || strlen(value) >= sizeof x->journal_dir - sizeof JOURNAL_FILE - 8) {
            fprintf(stderr, "--journal-dir: need a directory path of at most %zu bytes\n",
                    sizeof x->journal_dir - sizeof JOURNAL_FILE - 9);
            return WORKER_FLAG_BAD;
        }
        snprintf(x->journal_dir, sizeof x->journal_dir, "%s", value);
        *used = true;
        return WORKER_FLAG_OK;
    }
    if (strcmp(flag, "max-in-flight") != 0) return WORKER_FLAG_UNKNOWN;
    long n;
    char err[256];
    if (flags_long(flag, value, 1, 4096, &n, err, sizeof err) < 0) {
        fprintf(stderr, "%s\n", err);
        return WORKER_FLAG_BAD;
    }
    x->max_in_flight = (unsigned)n;
    *used = true;
    return WORKER_FLAG_OK;
}

static uint64_t random_epoch(void)
{
    uint64_t v = 0;
    while (v == 0) {
        if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {
            /* Never expected on Linux >= 3.17; still unique enough per life. */
            v = ((uint64_t)getpid() << 32) ^ now_unix_ms() ^ now_mono_ms();
        }
    }
    return v;
}

/* ---- sockets ---------------------------------------------------------------- */

static void *open_dealer(void *zctx, const bus_config_t *bus)
{
    char ep[512];
    if (bus_endpoint(bus, BUS_EP_EXEC, ep, sizeof ep) < 0) return NULL;
    void *s = zmq_socket(zctx, ZMQ_DEALER);
    if (!s) return NULL;
    int zero = 0, hwm = EXEC_HWM;
    if (zmq_setsockopt(s, ZMQ_ROUTING_ID, BUS_EXECUTOR_ID, strlen(BUS_EXECUTOR_ID)) < 0 ||
        zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero) < 0 ||
        zmq_setsockopt(s, ZMQ_SNDHWM, &hwm, sizeof hwm) < 0 ||
        zmq_setsockopt(s, ZMQ_RCVHWM, &hwm, sizeof hwm) < 0 || bus_limit_inbound(s, MSG_MAX_BYTES) < 0 ||
        zmq_connect(s, ep) < 0) {
        int saved = errno;
        zmq_close(s);
        errno = saved;
        return NULL;
    }
    return s;
}

static int send_to_controller(const char *reply_to, const msg_envelope_t *env, void *ud)
{
    executor_t *x = ud;
    if (bus_send_to(x->dealer, reply_to, env, true) == 0) return 0;
    LOGV(1, "send to the broker failed", "controller", reply_to, "error", zmq_strerror(errno));
    return -1;
}

/* ---- init / fini ------------------------------------------------------------ */

/* The journal lives next to the bus it serves: --journal-dir, else the ipc
 * bus dir, else (tcp) the default bus dir. The dir is created 0700, or
 * must be ours and 0700 (trusted.h). */
static int journal_path(const executor_t *x, const bus_config_t *bus, char *out, size_t outlen)
{
    char dir[256];
    if (x->journal_dir[0]) snprintf(dir, sizeof dir, "%s", x->journal_dir);
    else if (!bus->tcp_host[0]) snprintf(dir, sizeof dir, "%s", bus->dir);
    else if (worker_default_bus_dir(dir, sizeof dir) < 0) return -1;
    char err[1200];
    int fd = trusted_dir_open(dir, true, err, sizeof err);
    if (fd < 0) return LOGE("cannot use the journal dir", "error", err), -1;
    close(fd);
    int n = snprintf(out, outlen, "%s/%s", dir, JOURNAL_FILE);
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}


/* A failed init cleans up after itself (worker.h): an open socket would
 * keep zmq_ctx_term from returning, and the process from exiting. */
static int init_or_clean(worker_t *w, void *state);
static void render_metrics(void *ud, sbuf_t *out) { engine_metrics_render(ud, out); }

int executor_init(worker_t *w, void *state)
{
    int rc = init_or_clean(w, state);
    if (rc < 0) executor_fini(w, state);
    return rc;
}

static int init_or_clean(worker_t *w, void *state)
{
    executor_t *x = state;
    const worker_opts_t *o = worker_opts(w);
    char err[512];
    if (khttp_global_init() < 0) return LOGE("curl_global_init failed"), -1;
    if (kubeconfig_load(o->kubeconfig[0] ? o->kubeconfig : NULL, o->master[0] ? o->master : NULL, &x->kc,
                        err, sizeof err) < 0) {
        LOGE("cannot load the kubeconfig", "error", err);
        return -1;
    }
    x->kc_loaded = true;
    x->epoch = random_epoch();
    char jpath[512];
    if (journal_path(x, &o->bus, jpath, sizeof jpath) < 0) return LOGE("no usable journal path"), -1;
    engine_opts_t eo = { .kc = &x->kc, .qps = o->kube_api_qps, .burst = o->kube_api_burst,
                         .max_in_flight = x->max_in_flight, .epoch = x->epoch,
                         .send = send_to_controller, .send_ud = x,
                         .journal_path = jpath, .now_ms = now_mono_ms(), .now_unix_ms = now_unix_ms() };
    x->eng = engine_new(&eo, err, sizeof err);
    if (!x->eng) return LOGE("cannot start the engine", "error", err), -1;
    if (worker_add_metrics(w, render_metrics, x->eng) < 0) LOGW("no REST client metrics");
    /* Connect only once the journal lock is ours: a second executor that
     * connected first would take over the "executor" routing id at the
     * broker and, when it then exits, leave the real one unreachable. */
    x->dealer = open_dealer(worker_zctx(w), &o->bus);
    x->pub = bus_open(worker_zctx(w), ZMQ_PUB, &o->bus, BUS_EP_EVENTS_IN, false);
    if (!x->dealer || !x->pub) {
        LOGE("cannot connect to the broker", "error", zmq_strerror(errno));
        return -1;
    }
    const journal_replay_t *rp = engine_replayed(x->eng);
    LOGFI("journal %s replayed: %zu records, %zu actions pending again, %zu recent results, %zu skipped, "
          "%zu bytes of torn tail ignored%s", jpath, rp->records, rp->pending, rp->recent, rp->skipped,
          rp->torn_bytes, rp->foreign ? "; it was written for another API server and was discarded" : "");
    char epoch[24], qps[32], burst[16], mif[16];
    snprintf(epoch, sizeof epoch, "%016llx", (unsigned long long)x->epoch);
    snprintf(qps, sizeof qps, "%g", o->kube_api_qps);
    snprintf(burst, sizeof burst, "%d", o->kube_api_burst);
    snprintf(mif, sizeof mif, "%u", x->max_in_flight);
    LOGI("executor ready", "epoch", epoch, "server", x->kc.server, "qps", qps, "burst", burst,
         "maxInFlight", mif);
    return 0;
}

void executor_fini(worker_t *w, void *state)
{
    executor_t *x = state;
    worker_clear_metrics(w); /* they read the engine */
    engine_destroy(&x->eng);
    if (x->dealer) zmq_close(x->dealer);
    if (x->pub) zmq_close(x->pub);
    x->dealer = x->pub = NULL;
    if (x->kc_loaded) kubeconfig_free(&x->kc);
    x->kc_loaded = false;
}

/* ---- the bus ---------------------------------------------------------------- */

static void bad_input(executor_t *x, const char *what, const char *why)
{
    x->malformed++;
    if (log_limit_allow(&x->bad_log)) LOGW("refused a message from the broker", "what", what, "reason", why);
}

/* True when routing id is "<controller>.<suffix>" (DEVELOPERS.md). */
static bool speaks_for(const char *id, const char *controller)
{
    size_t n = strlen(controller);
    return n && strncmp(id, controller, n) == 0 && id[n] == '.' && id[n + 1];
}

static void on_message(executor_t *x, const char *reply_to, msg_envelope_t **env)
{
    if (!reply_to[0] || strlen(reply_to) >= BUS_ID_MAX - 1) {
        bad_input(x, msg_body_name(*env), "no usable controller routing id frame");
        return;
    }
    switch ((*env)->body_case) {
    case KUBUS__V1__ENVELOPE__BODY_ACTION:
        /* The broker checks this too; a result for another controller's id
         * would be refused on the way back, so refuse it here. */
        if (!speaks_for(reply_to, (*env)->action->controller)) {
            bad_input(x, "action", "controller field does not match the routing id");
            return;
        }
        engine_submit(x->eng, reply_to, env, now_mono_ms());
        break;
    case KUBUS__V1__ENVELOPE__BODY_INFLIGHT_QUERY:
        engine_query(x->eng, reply_to, (*env)->inflight_query);
        break;
    default:
        bad_input(x, msg_body_name(*env), "the executor takes actions and inflight queries only");
        break;
    }
}

static bool dealer_readable(executor_t *x)
{
    int events = 0;
    size_t len = sizeof events;
    if (zmq_getsockopt(x->dealer, ZMQ_EVENTS, &events, &len) < 0) return false;
    return (events & ZMQ_POLLIN) != 0;
}

/* Reads what is there (bounded, so the network side is not starved). */
static void drain(executor_t *x)
{
    for (int i = 0; i < DRAIN_BATCH && dealer_readable(x); i++) {
        char id[BUS_ID_MAX], err[256] = "";
        msg_envelope_t *env = bus_recv(x->dealer, id, sizeof id, true, err, sizeof err);
        if (!env) {
            if (errno == EAGAIN || errno == EINTR) return;
            if (errno == EPROTO) { bad_input(x, "envelope", err); continue; }
            LOGE("receive from the broker failed", "error", zmq_strerror(errno));
            return;
        }
        on_message(x, id, &env);
        msg_free(env);
    }
}

/* ---- heartbeats and metrics ---------------------------------------------------- */

static void beat(executor_t *x, worker_t *w)
{
    const worker_opts_t *o = worker_opts(w);
    msg_heartbeat_t hb;
    kubus__v1__heartbeat__init(&hb);
    hb.worker = (char *)o->name;
    hb.pid = (int32_t)getpid();
    hb.generation = o->generation;
    hb.sequence = engine_stats(x->eng)->done;
    hb.state = KUBUS__V1__WORKER_STATE__READY;
    hb.unix_ms = now_unix_ms();
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    if (bus_send(x->dealer, NULL, &env, true) < 0) LOGV(1, "heartbeat to the broker not sent");

    Kubus__V1__ExecutorStatus st;
    kubus__v1__executor_status__init(&st);
    st.epoch = x->epoch;
    st.unix_ms = hb.unix_ms;
    st.in_flight = engine_in_flight(x->eng);
    st.queued = engine_queued(x->eng);
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_EXECUTOR_STATUS;
    env.executor_status = &st;
    if (bus_send(x->pub, BUS_TOPIC_EXECUTOR, &env, true) < 0) LOGV(1, "executor status not published");
}

static void log_metrics(executor_t *x)
{
    const engine_stats_t *s = engine_stats(x->eng);
    char line[2048];
    size_t n = 0;
    static const char *const classes[] = { "err", "1xx", "2xx", "3xx", "4xx", "5xx" };
    for (int v = 0; v < 8; v++)
        for (int c = 0; c < 6; c++)
            if (s->requests[v][c] && n < sizeof line)
                n += (size_t)snprintf(line + n, sizeof line - n, " %s_%s=%llu", msg_verb_name(v), classes[c],
                                      (unsigned long long)s->requests[v][c]);
    if (n >= sizeof line) n = sizeof line - 1;
    line[n] = '\0';
    LOGFV(2, "executor stats: done=%llu retries=%llu throttled_ms=%llu duplicates=%llu refused=%llu forbidden=%llu "
          "events_dropped=%llu malformed=%llu in_flight=%llu queued=%llu requests:%s",
          (unsigned long long)s->done, (unsigned long long)s->retries, (unsigned long long)s->throttled_ms,
          (unsigned long long)s->duplicates, (unsigned long long)s->refused, (unsigned long long)s->forbidden,
          (unsigned long long)s->events_dropped, (unsigned long long)x->malformed,
          (unsigned long long)engine_in_flight(x->eng), (unsigned long long)engine_queued(x->eng),
          n ? line : " none");
}

static void periodic(executor_t *x, worker_t *w, uint64_t now)
{
    if (now >= x->next_status_ms) {
        beat(x, w);
        x->next_status_ms = now + STATUS_EVERY_MS;
    }
    if (now >= x->next_metrics_ms) {
        if (x->next_metrics_ms) log_metrics(x);
        x->next_metrics_ms = now + METRICS_EVERY_MS;
    }
    worker_set_progress(w, engine_stats(x->eng)->done);
}

int executor_run(worker_t *w, void *state)
{
    executor_t *x = state;
    int fd = -1;
    size_t len = sizeof fd;
    if (zmq_getsockopt(x->dealer, ZMQ_FD, &fd, &len) < 0) {
        LOGE("cannot get the bus socket's fd", "error", zmq_strerror(errno));
        return 1;
    }
    worker_set_ready(w, true);
    while (worker_tick(w)) {
        drain(x);
        uint64_t now = now_mono_ms();
        int timeout = engine_step(x->eng, now, LOOP_MAX_MS);
        periodic(x, w, now);
        uint64_t status = ms_until(x->next_status_ms, now);
        if (status > 0 && status < (uint64_t)timeout) timeout = (int)status;
        /* Sends above may have consumed the fd's edge: look before sleeping. */
        if (dealer_readable(x)) timeout = 0;
        struct curl_waitfd wfd = { .fd = fd, .events = CURL_WAIT_POLLIN, .revents = 0 };
        if (engine_wait(x->eng, &wfd, 1, timeout) < 0) return 1;
    }
    return 0;
}
