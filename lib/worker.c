/* worker.c - the skeleton behind worker_main: common flags, logging, signals,
 * the supervisor link (parent-death signal, heartbeats on the status pipe),
 * the process's ZeroMQ context and a clean exit. See worker.h. */
#include "worker.h"

#include <errno.h>
#include <malloc.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>
#include <zmq.h>

#include "errfmt.h"
#include "flags.h"
#include "metricsfd.h"

struct worker {
    worker_opts_t opts;
    void *zctx;
    pid_t parent;              /* the supervisor's pid; 0 when run by hand */
    bool ready;
    bool stop;
    bool hang;                 /* test hook: heartbeats stop once ready was sent */
    bool sent_ready;
    bool status_broken;        /* a write failed for good: stop writing */
    uint64_t progress;
    uint64_t next_heartbeat_ms;
    uint64_t dropped_heartbeats;
    struct { worker_metrics_fn fn; void *ud; } metrics[WORKER_METRICS_MAX];
    int n_metrics;
    bool metrics_broken;       /* a write to --metrics-fd failed for good */
};

/* Set from signal handlers; read and cleared only by the main thread. */
static volatile sig_atomic_t g_stop_signal;
static volatile sig_atomic_t g_reload;

/* ---- clocks ---- */

static uint64_t clock_ms(clockid_t id)
{
    struct timespec ts;
    if (clock_gettime(id, &ts) < 0) return 0;
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t now_mono_ms(void) { return clock_ms(CLOCK_MONOTONIC); }
uint64_t now_unix_ms(void) { return clock_ms(CLOCK_REALTIME); }

uint64_t ms_until(uint64_t due, uint64_t now)
{
    if (due <= now) return 0;
    return due - now > (uint64_t)INT_MAX ? (uint64_t)INT_MAX : due - now;
}

/* ---- options ---- */

int worker_default_bus_dir(char *out, size_t outlen)
{
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    int n;
    if (xdg && xdg[0] == '/')
        n = snprintf(out, outlen, "%s/kubus", xdg);
    else
        n = snprintf(out, outlen, "/tmp/kubus-%u", (unsigned)geteuid());
    return n < 0 || (size_t)n >= outlen ? -1 : 0;
}

void worker_opts_defaults(worker_opts_t *o, const char *name)
{
    memset(o, 0, sizeof *o);
    snprintf(o->name, sizeof o->name, "%s", name ? name : "worker");
    o->generation = 1;
    o->status_fd = -1;
    o->metrics_fd = -1;
    char dir[256];
    if (worker_default_bus_dir(dir, sizeof dir) == 0) bus_config_parse(&o->bus, dir);
    o->kube_api_qps = 20.0;
    o->kube_api_burst = 30;
    o->concurrent_syncs = 5;
    o->shard_index = 0;
    o->shard_count = 1;
    logcfg_defaults(&o->log);
    fg_set_init(&o->feature_gates);
}

/* Worker names become routing ids, metric labels and log fields. */
static bool valid_name(const char *s)
{
    if (!*s) return false;
    for (; *s; s++) {
        char c = *s;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.';
        if (!ok) return false;
    }
    return true;
}

static int parse_int_flag(const flags_arg_t *a, long min, long max, long *v, char *err, size_t errlen)
{
    if (flags_need_value(a, err, errlen) < 0) return -1;
    return flags_long(a->name, a->value, min, max, v, err, errlen);
}

/* Returns 1 if the flag was a common one (and handled), 0 if not ours,
 * -1 on a bad value. Consumes the value argument when used. */
static int parse_common(worker_opts_t *o, flags_iter_t *it, const flags_arg_t *a, char *err,
                        size_t errlen)
{
    const char *f = a->name;
    long v = 0;
    bool took = false;
    int rc = logcfg_flag(&o->log, f, a->value, a->inline_value, &took, err, errlen);
    if (rc <= 0) {
        if (rc == 0 && took) flags_iter_took_value(it, a);
        return rc < 0 ? -1 : 1;
    }
    rc = 0;
    if (strcmp(f, "name") == 0) {
        rc = flags_need_value(a, err, errlen);
        if (rc == 0) rc = flags_string(f, a->value, o->name, sizeof o->name, false, err, errlen);
        if (rc == 0 && !valid_name(o->name))
            rc = errfmt(err, errlen, "--name=%s: use letters, digits, '-', '_' or '.'", a->value);
    } else if (strcmp(f, "generation") == 0) {
        rc = parse_int_flag(a, 0, (long)UINT32_MAX, &v, err, errlen);
        o->generation = (uint32_t)v;
    } else if (strcmp(f, "status-fd") == 0) {
        rc = parse_int_flag(a, -1, INT_MAX, &v, err, errlen);
        if (rc == 0 && v >= 0 && v <= 2)
            rc = errfmt(err, errlen, "--status-fd=%ld: must not be stdin, stdout or stderr", v);
        o->status_fd = (int)v;
    } else if (strcmp(f, "metrics-fd") == 0) {
        rc = parse_int_flag(a, -1, INT_MAX, &v, err, errlen);
        if (rc == 0 && v >= 0 && v <= 2)
            rc = errfmt(err, errlen, "--metrics-fd=%ld: must not be stdin, stdout or stderr", v);
        o->metrics_fd = (int)v;
    } else if (strcmp(f, "bus-dir") == 0) {
        rc = flags_need_value(a, err, errlen);
        if (rc == 0 && bus_config_parse(&o->bus, a->value) < 0)
            rc = errfmt(err, errlen, "--bus-dir=%s: need a directory path of at most 90 bytes "
                        "or tcp://HOST:PORT", a->value);
    } else if (strcmp(f, "kubeconfig") == 0) {
        rc = flags_need_value(a, err, errlen);
        if (rc == 0) rc = flags_string(f, a->value, o->kubeconfig, sizeof o->kubeconfig, true, err, errlen);
    } else if (strcmp(f, "master") == 0) {
        rc = flags_need_value(a, err, errlen);
        if (rc == 0) rc = flags_string(f, a->value, o->master, sizeof o->master, true, err, errlen);
    } else if (strcmp(f, "kube-api-qps") == 0) {
        rc = flags_need_value(a, err, errlen);
        if (rc == 0) rc = flags_double(f, a->value, 0.01, 1e6, &o->kube_api_qps, err, errlen);
    } else if (strcmp(f, "kube-api-burst") == 0) {
        rc = parse_int_flag(a, 1, 1000000, &v, err, errlen);
        o->kube_api_burst = (int)v;
    } else if (strcmp(f, "concurrent-syncs") == 0) {
        rc = parse_int_flag(a, 1, 10000, &v, err, errlen);
        o->concurrent_syncs = (int)v;
    } else if (strcmp(f, "shard-index") == 0) {
        rc = parse_int_flag(a, 0, 65535, &v, err, errlen);
        o->shard_index = (int)v;
    } else if (strcmp(f, "shard-count") == 0) {
        rc = parse_int_flag(a, 1, 65536, &v, err, errlen);
        o->shard_count = (int)v;
    } else if (strcmp(f, "feature-gates") == 0) {
        rc = flags_need_value(a, err, errlen);
        if (rc == 0) rc = fg_parse(&o->feature_gates, a->value, err, errlen);
    } else {
        return 0;
    }
    if (rc < 0) return -1;
    flags_iter_took_value(it, a);
    return 1;
}

/* Offers a flag the skeleton does not know to the process's own parser. */
static int parse_own(const worker_hooks_t *hooks, flags_iter_t *it, const flags_arg_t *a,
                     char *err, size_t errlen)
{
    if (!hooks || !hooks->parse_flag) return errfmt(err, errlen, "unknown flag \"%s\"", a->arg);
    bool used = false;
    int rc = hooks->parse_flag(hooks->state, a->name, a->value, &used);
    if (rc == WORKER_FLAG_UNKNOWN) return errfmt(err, errlen, "unknown flag \"%s\"", a->arg);
    if (rc != WORKER_FLAG_OK) {
        if (a->value)
            return errfmt(err, errlen, "--%s=%s: invalid value", a->name, a->value);
        return errfmt(err, errlen, "--%s: missing or invalid value", a->name);
    }
    if (used) flags_iter_took_value(it, a);
    return 0;
}

int worker_opts_parse(worker_opts_t *o, int argc, char **argv, const worker_hooks_t *hooks,
                      char *err, size_t errlen)
{
    flags_iter_t it;
    flags_arg_t a;
    int rc;
    flags_iter_init(&it, argc, argv, 1);
    while ((rc = flags_iter_next(&it, &a, err, errlen)) == 1) {
        if (strcmp(a.name, "help") == 0 || strcmp(a.name, "h") == 0) return 1;
        int common = parse_common(o, &it, &a, err, errlen);
        if (common < 0) return -1;
        if (common == 0 && parse_own(hooks, &it, &a, err, errlen) < 0) return -1;
    }
    if (rc < 0) return -1;
    if (o->shard_index >= o->shard_count)
        return errfmt(err, errlen, "--shard-index=%d: must be less than --shard-count=%d",
                          o->shard_index, o->shard_count);
    return logcfg_check(&o->log, &o->feature_gates, err, errlen);
}

static void print_usage(FILE *to, const char *prog, const worker_hooks_t *hooks)
{
    fprintf(to,
            "Usage: %s [flags]\n"
            "Common flags (the supervisor passes them):\n"
            "  --name=NAME               worker name (default %s)\n"
            "  --generation=N            start count given by the supervisor (default 1)\n"
            "  --status-fd=FD            heartbeat pipe to the supervisor (default -1: none)\n"
            "  --metrics-fd=FD           file for this process's metrics text (default -1: none)\n"
            "  --bus-dir=DIR|tcp://H:P   bus location (default $XDG_RUNTIME_DIR/kubus or /tmp/kubus-UID)\n"
            "  --kubeconfig=PATH         kubeconfig file\n"
            "  --master=URL              API server URL (overrides the kubeconfig)\n"
            "  --kube-api-qps=F          API requests per second (default 20)\n"
            "  --kube-api-burst=N        API request burst (default 30)\n"
            "  --concurrent-syncs=N      objects synced in parallel (default 5)\n"
            "  --shard-index=I --shard-count=N   this process's shard (default 0 of 1)\n"
            "  --feature-gates=Name=BOOL,...  kube-controller-manager's feature gates\n"
            "  -v=N                      log verbosity (default 0)\n"
            "  --vmodule=PATTERN=N,...   per-file verbosity (text format only)\n"
            "  --logging-format=text|json\n"
            "  --log-text-split-stream, --log-json-split-stream   info on stdout, errors on\n"
            "                            stderr (needs --feature-gates=LoggingAlphaOptions=true)\n"
            "  --help\n",
            prog, hooks && hooks->name ? hooks->name : "worker");
    if (hooks && hooks->usage) fprintf(to, "Own flags:\n%s\n", hooks->usage);
}

/* ---- heartbeat framing ---- */

int worker_heartbeat_frame(const msg_heartbeat_t *hb, uint8_t *out, size_t outlen)
{
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = (msg_heartbeat_t *)hb;
    if (msg_validate(&env, NULL, 0) < 0) return -1;
    size_t n = kubus__v1__envelope__get_packed_size(&env);
    if (n == 0 || n + 4 > outlen || n + 4 > WORKER_HB_FRAME_MAX) return -1;
    if (kubus__v1__envelope__pack(&env, out + 4) != n) return -1;
    out[0] = (uint8_t)(n >> 24);
    out[1] = (uint8_t)(n >> 16);
    out[2] = (uint8_t)(n >> 8);
    out[3] = (uint8_t)n;
    return (int)(n + 4);
}

int worker_heartbeat_unframe(const uint8_t *buf, size_t len, msg_envelope_t **out, char *err,
                             size_t errlen)
{
    *out = NULL;
    if (len < 4) return 0;
    uint32_t n = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
    if (n == 0 || n > WORKER_HB_FRAME_MAX - 4)
        return errfmt(err, errlen, "heartbeat frame length %u out of range", n);
    if (len < 4 + (size_t)n) return 0;
    msg_envelope_t *env = msg_decode(buf + 4, n, err, errlen);
    if (!env) return -1;
    if (env->body_case != KUBUS__V1__ENVELOPE__BODY_HEARTBEAT) {
        errfmt(err, errlen, "status pipe carried a %s, not a heartbeat", msg_body_name(env));
        msg_free(env);
        return -1;
    }
    *out = env;
    return (int)(4 + n);
}

/* ---- heartbeats ---- */

static Kubus__V1__WorkerState current_state(const worker_t *w)
{
    if (w->stop) return KUBUS__V1__WORKER_STATE__STOPPING;
    return w->ready ? KUBUS__V1__WORKER_STATE__READY : KUBUS__V1__WORKER_STATE__STARTING;
}

/* A failed write either loses one beat (the supervisor is slow: EAGAIN) or
 * means the supervisor is gone (EPIPE), in which case we stop. */
static void heartbeat_write_failed(worker_t *w, int err)
{
    if (err == EAGAIN || err == EINTR) {
        w->dropped_heartbeats++;
        return;
    }
    w->status_broken = true;
    if (err == EPIPE) {
        LOGW("status pipe closed: the supervisor is gone; stopping");
        w->stop = true;
        return;
    }
    LOGE("status pipe write failed; no more heartbeats", "error", strerror(err));
}

/* Every source's text into --metrics-fd; a busy file (the supervisor reads
 * it now) waits for the next beat. */
static void publish_metrics(worker_t *w)
{
    if (w->opts.metrics_fd < 0 || w->metrics_broken || !w->n_metrics) return;
    sbuf_t b = { 0 };
    for (int i = 0; i < w->n_metrics; i++) w->metrics[i].fn(w->metrics[i].ud, &b);
    char *text = sbuf_take(&b);
    if (!text) return;
    if (metricsfd_publish(w->opts.metrics_fd, text, strlen(text), now_mono_ms()) < 0) {
        LOGE("cannot write --metrics-fd; no more metrics", "error", strerror(errno));
        w->metrics_broken = true;
    }
    free(text);
}

int worker_add_metrics(worker_t *w, worker_metrics_fn fn, void *ud)
{
    if (!w || !fn || w->n_metrics >= WORKER_METRICS_MAX) return -1;
    w->metrics[w->n_metrics].fn = fn;
    w->metrics[w->n_metrics++].ud = ud;
    return 0;
}

void worker_clear_metrics(worker_t *w)
{
    if (w) w->n_metrics = 0;
}

static void send_heartbeat(worker_t *w)
{
    w->next_heartbeat_ms = now_mono_ms() + WORKER_HEARTBEAT_MS;
    if (w->opts.status_fd < 0 || w->status_broken) return;
    if (w->hang && w->sent_ready) return;
    publish_metrics(w);
    msg_heartbeat_t hb;
    kubus__v1__heartbeat__init(&hb);
    hb.worker = w->opts.name;
    hb.pid = (int32_t)getpid();
    hb.generation = w->opts.generation;
    hb.sequence = w->progress;
    hb.state = current_state(w);
    hb.unix_ms = now_unix_ms();
    uint8_t buf[WORKER_HB_FRAME_MAX];
    int n = worker_heartbeat_frame(&hb, buf, sizeof buf);
    if (n < 0) {
        LOGE("cannot encode a heartbeat");
        return;
    }
    ssize_t wr = write(w->opts.status_fd, buf, (size_t)n);
    if (wr < 0) {
        heartbeat_write_failed(w, errno);
        return;
    }
    if (wr != n) {
        /* Only a non-pipe fd can take part of a frame; the stream is now
         * out of step, so stop rather than send garbage. */
        LOGE("status fd took a partial heartbeat; no more heartbeats");
        w->status_broken = true;
        return;
    }
    if (hb.state == KUBUS__V1__WORKER_STATE__READY) w->sent_ready = true;
}

/* ---- signals and the parent link ---- */

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        g_reload = 1;
    else
        g_stop_signal = sig;
}

/* No SA_RESTART: a blocking call returns EINTR, so the main loop sees a
 * stop request at once instead of at its next timeout. */
static int install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    int sigs[] = { SIGTERM, SIGINT, SIGHUP };
    sigset_t unblock;
    sigemptyset(&unblock);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        if (sigaction(sigs[i], &sa, NULL) < 0) return -1;
        sigaddset(&unblock, sigs[i]);
    }
    sa.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &sa, NULL) < 0) return -1;
    /* A parent may have left them blocked; we rely on them arriving. */
    return sigprocmask(SIG_UNBLOCK, &unblock, NULL);
}

/* Supervised workers die with their supervisor: the kernel sends SIGTERM
 * when the parent goes, and worker_tick compares getppid() in case the
 * parent died before the prctl took effect. Hand-run workers (no status fd)
 * are left alone. */
static int link_to_supervisor(worker_t *w)
{
    if (w->opts.status_fd < 0) return 0;
    pid_t parent = getppid();
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0) {
        LOGE("prctl(PR_SET_PDEATHSIG) failed", "error", strerror(errno));
        return -1;
    }
    w->parent = parent;
    return 0;
}

static int prepare_status_fd(const worker_opts_t *o, char *err, size_t errlen)
{
    int fd = o->status_fd;
    if (fd < 0) return 0;
    int fdflags = fcntl(fd, F_GETFD);
    if (fdflags < 0) return errfmt(err, errlen, "--status-fd=%d: not an open file descriptor", fd);
    int flflags = fcntl(fd, F_GETFL);
    if (flflags < 0 || fcntl(fd, F_SETFL, flflags | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC) < 0)
        return errfmt(err, errlen, "--status-fd=%d: fcntl: %s", fd, strerror(errno));
    return 0;
}

static int prepare_metrics_fd(const worker_opts_t *o, char *err, size_t errlen)
{
    int fd = o->metrics_fd;
    if (fd < 0) return 0;
    int fdflags = fcntl(fd, F_GETFD);
    if (fdflags < 0) return errfmt(err, errlen, "--metrics-fd=%d: not an open file descriptor", fd);
    if (fcntl(fd, F_SETFD, fdflags | FD_CLOEXEC) < 0)
        return errfmt(err, errlen, "--metrics-fd=%d: fcntl: %s", fd, strerror(errno));
    return 0;
}

/* ---- the worker object ---- */

bool worker_tick(worker_t *w)
{
    if (g_stop_signal && !w->stop) {
        LOGI("stop requested", "signal", strsignal(g_stop_signal));
        w->stop = true;
        w->next_heartbeat_ms = 0;
    }
    if (!w->stop && w->parent && getppid() != w->parent) {
        LOGW("the supervisor went away; stopping");
        w->stop = true;
        w->next_heartbeat_ms = 0;
    }
    if (now_mono_ms() >= w->next_heartbeat_ms) send_heartbeat(w);
    return !w->stop;
}

bool worker_stopping(const worker_t *w) { return w->stop || g_stop_signal; }

uint64_t worker_ms_until_heartbeat(const worker_t *w)
{
    return w ? ms_until(w->next_heartbeat_ms, now_mono_ms()) : 0;
}

void worker_request_stop(worker_t *w)
{
    if (w->stop) return;
    w->stop = true;
    w->next_heartbeat_ms = 0;
}

bool worker_reload_requested(worker_t *w)
{
    (void)w;
    if (!g_reload) return false;
    g_reload = 0;
    return true;
}

void worker_set_ready(worker_t *w, bool ready)
{
    if (w->ready == ready) return;
    w->ready = ready;
    send_heartbeat(w); /* tell the supervisor now, not at the next beat */
}

void worker_set_progress(worker_t *w, uint64_t sequence) { w->progress = sequence; }
void *worker_zctx(worker_t *w) { return w->zctx; }
const worker_opts_t *worker_opts(const worker_t *w) { return &w->opts; }

static bool env_names_us(const char *var, const char *name)
{
    const char *v = getenv(var);
    return v && strcmp(v, name) == 0;
}

static void *new_zctx(void)
{
    void *z = zmq_ctx_new();
    if (!z) return NULL;
    /* Linger 0 on every socket by default, so zmq_ctx_term never waits for
     * unsent messages to a peer that is gone. */
    if (zmq_ctx_set(z, ZMQ_BLOCKY, 0) < 0) {
        zmq_ctx_term(z);
        return NULL;
    }
    return z;
}

static const char *base_name(const char *path)
{
    const char *s = path ? strrchr(path, '/') : NULL;
    return s ? s + 1 : (path ? path : "kubus");
}

/* Flags, logging, test hooks and the OS-level set-up; exits on bad input. */
static void worker_setup(worker_t *w, int argc, char **argv, const worker_hooks_t *hooks)
{
    char err[512];
    worker_opts_defaults(&w->opts, hooks->name);
    int rc = worker_opts_parse(&w->opts, argc, argv, hooks, err, sizeof err);
    if (rc == 1) {
        print_usage(stdout, base_name(argv[0]), hooks);
        exit(0);
    }
    if (rc == 0) rc = prepare_status_fd(&w->opts, err, sizeof err);
    if (rc == 0) rc = prepare_metrics_fd(&w->opts, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "%s: %s\n", base_name(argv[0]), err);
        print_usage(stderr, base_name(argv[0]), hooks);
        exit(2);
    }
    logcfg_apply(&w->opts.log, hooks->logger ? hooks->logger : w->opts.name);
    if (install_signals() < 0 || link_to_supervisor(w) < 0) {
        LOGE("cannot set up signals", "error", strerror(errno));
        exit(1);
    }
    if (env_names_us(WORKER_ENV_CRASH_AT_START, w->opts.name)) {
        LOGE("test hook " WORKER_ENV_CRASH_AT_START ": exiting at start");
        exit(1);
    }
    w->hang = env_names_us(WORKER_ENV_HANG, w->opts.name);
    if (w->hang) LOGW("test hook " WORKER_ENV_HANG ": heartbeats stop once ready");
}

static int worker_run(worker_t *w, const worker_hooks_t *hooks)
{
    char err[1200];
    if (bus_dir_prepare(&w->opts.bus, err, sizeof err) < 0) {
        LOGE("cannot prepare the bus directory", "dir", w->opts.bus.dir, "error", err);
        return 1;
    }
    w->zctx = new_zctx();
    if (!w->zctx) {
        LOGE("cannot create the ZeroMQ context", "error", zmq_strerror(errno));
        return 1;
    }
    char gen[16];
    snprintf(gen, sizeof gen, "%u", w->opts.generation);
    LOGI("starting", "generation", gen);
    send_heartbeat(w);
    int code = 1;
    /* fini undoes a successful init only: a failed init cleans up after itself. */
    if (!hooks->init || hooks->init(w, hooks->state) == 0) {
        code = hooks->run(w, hooks->state);
        if (hooks->fini) hooks->fini(w, hooks->state);
    } else {
        LOGE("initialisation failed");
    }
    w->stop = true;
    send_heartbeat(w);
    /* fini must have closed every socket; with ZMQ_BLOCKY off nothing lingers. */
    zmq_ctx_term(w->zctx);
    w->zctx = NULL;
    return code;
}

int worker_main(int argc, char **argv, const worker_hooks_t *hooks)
{
    if (!hooks || !hooks->run) {
        fprintf(stderr, "worker_main: no run hook\n");
        return 1;
    }
    /* No fastbins: a process here frees whole JSON trees (a list page, a
     * pod cut down to its view) and then asks for a large buffer, and
     * glibc consolidated the fastbins on every such request: perf showed
     * malloc_consolidate + unlink_chunk at ~25% of the informer's start;
     * without fastbins its CPU to sync 10k pods went from 1.8-2.0 s to
     * 1.25 s (bench scale). tcache still serves the small sizes. Under
     * ASan (its own allocator) mallopt does nothing and says so: a tuning,
     * not a requirement, so its answer is not checked. */
    (void)mallopt(M_MXFAST, 0);
    /* One worker per process; static so an early exit() leaks nothing. */
    static worker_t worker;
    worker_t *w = &worker;
    memset(w, 0, sizeof *w);
    worker_setup(w, argc, argv, hooks);
    int code = worker_run(w, hooks);
    char c[16];
    snprintf(c, sizeof c, "%d", code);
    LOGI("exiting", "code", c);
    return code;
}
