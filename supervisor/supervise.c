/* supervise.c - the supervisor loop. See supervise.h. */
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backoff.h"
#include "bus.h"
#include "checks.h"
#include "http.h"
#include "khttp.h"
#include "leader.h"
#include "log.h"
#include "procmetrics.h"
#include "report.h"
#include "spawn.h"
#include "table.h"
#include "worker.h"
#include "wmetrics.h"

typedef enum { MODE_RUN, MODE_RELOAD, MODE_STOP } sup_mode_t;

#define TIER_CONTROLLERS 3

typedef struct {
    sup_config_t cfg;
    sup_config_t next;          /* MODE_RELOAD: the configuration to start with */
    int argc, first;
    char **argv;
    sup_table_t t;
    sup_mode_t mode;
    int stop_tier;              /* tier being stopped; -1 when all were signalled */
    bool tier_signalled;
    uint64_t tier_ms, stop_ms;
    int sigfd, lock_fd;
    sup_http_t *http;
    log_limit_t bad_log;
    uint32_t generation_base;   /* first generation of this life, see count_life */
    sup_leader_t *leader;       /* --leader-elect: the election thread */
    bool leading;               /* executor and controllers may run */
    sup_wmetrics_t wm;          /* the workers' metrics */
    procmetrics_t pm;           /* process_* over the supervisor and its workers */
    uint64_t pm_ms;             /* when pm was read (monotonic), 0: never */
} sup_t;

static char *fmt_u64(char *buf, size_t len, uint64_t v)
{
    snprintf(buf, len, "%llu", (unsigned long long)v);
    return buf;
}

static int worker_tier(const sup_worker_t *w)
{
    if (!w->comp->infra) return TIER_CONTROLLERS;
    return (int)(w->comp - sup_component(0));
}

/* A worker that must not run now: we are a standby and it needs the lease. */
static bool held_back(const sup_t *s, const sup_worker_t *w)
{
    return !s->leading && sup_worker_needs_lease(w);
}

/* ---- actions on one worker ---- */

static void set_state(sup_worker_t *w, sup_wevent_t ev)
{
    int next = sup_wstate_next(w->state, ev);
    if (next >= 0) w->state = (sup_wstate_t)next;
}

static void signal_worker(sup_worker_t *w, int sig)
{
    if (w->pid > 0 && kill(w->pid, sig) < 0 && errno != ESRCH)
        LOGE("kill failed", "worker", w->comp->name, "error", strerror(errno));
    if (sig == SIGKILL) w->killed = true;
}

static void kill_hung(sup_worker_t *w, uint64_t now)
{
    char silent[32];
    LOGW("worker hung: no heartbeat; killing it", "worker", w->comp->name, "silent_ms",
         fmt_u64(silent, sizeof silent, now - w->heard_ms));
    set_state(w, SUP_EV_HUNG);
    w->hung = true;
    signal_worker(w, SIGKILL);
}

static void stop_worker(sup_t *s, sup_worker_t *w, uint64_t now)
{
    if (w->state == SUP_W_BACKOFF) set_state(w, SUP_EV_STOP);
    if (w->state != SUP_W_STARTING && w->state != SUP_W_UP) return;
    set_state(w, SUP_EV_STOP);
    signal_worker(w, SIGTERM);
    uint64_t kill_at = now + SUP_KILL_AFTER_MS;
    uint64_t last = s->stop_ms + SUP_STOP_DEADLINE_MS;
    w->kill_at_ms = kill_at < last ? kill_at : last;
}

static void start_worker(sup_t *s, sup_worker_t *w, uint64_t now)
{
    bool restart = w->failed;
    if (sup_spawn(w, &s->cfg, now) < 0) {
        set_state(w, SUP_EV_SPAWN_FAILED);
        w->streak = sup_backoff_streak(w->streak, 0);
        w->restart_at_ms = now + sup_backoff_delay_ms(w->streak);
        w->failed = true;
        return;
    }
    if (restart) w->restarts++;
    w->failed = false;
    set_state(w, SUP_EV_SPAWNED);
}

/* ---- the status pipes ---- */

static void close_status(sup_worker_t *w)
{
    if (w->status_fd >= 0) close(w->status_fd);
    w->status_fd = -1;
    w->hblen = 0;
}

/* Its series end with its run. */
static void close_metrics(sup_worker_t *w)
{
    if (w->metrics_fd >= 0) close(w->metrics_fd);
    w->metrics_fd = -1;
}

static void note_ready(sup_worker_t *w, uint64_t now)
{
    if (w->state != SUP_W_STARTING || !w->reported_ready) return;
    set_state(w, SUP_EV_READY);
    w->ready_ms = now;
    char ms[32];
    LOGI("worker ready", "worker", w->comp->name, "after_ms", fmt_u64(ms, sizeof ms, now - w->started_ms));
}

static void read_status(sup_t *s, sup_worker_t *w, uint64_t now)
{
    uint8_t buf[4096];
    while (w->status_fd >= 0) {
        ssize_t n = read(w->status_fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno == EAGAIN) break;
        if (n <= 0) {
            /* EOF: the worker closed it or exited; its exit comes by SIGCHLD,
             * and a live worker that stays silent is caught as hung. */
            if (n < 0) LOGE("status pipe read failed", "worker", w->comp->name, "error", strerror(errno));
            close_status(w);
            break;
        }
        char err[256];
        int bad = sup_worker_feed(w, buf, (size_t)n, now, err, sizeof err);
        if (bad > 0) {
            s->t.malformed_heartbeats += (uint64_t)bad;
            if (log_limit_allow(&s->bad_log))
                LOGW("malformed heartbeat refused", "worker", w->comp->name, "reason", err);
        }
    }
    note_ready(w, now);
}

/* ---- exits ---- */

static void log_exit(const sup_worker_t *w, int status, uint64_t ran_ms)
{
    char pid[16], what[32], ran[32];
    snprintf(pid, sizeof pid, "%d", (int)w->pid);
    if (WIFSIGNALED(status))
        snprintf(what, sizeof what, "signal %d", WTERMSIG(status));
    else
        snprintf(what, sizeof what, "code %d", WEXITSTATUS(status));
    bool planned = w->state == SUP_W_DYING && !w->hung;
    if (planned)
        LOGI("worker stopped", "worker", w->comp->name, "pid", pid, "exit", what);
    else
        LOGW("worker exited", "worker", w->comp->name, "pid", pid, "exit", what, "ran_ms",
             fmt_u64(ran, sizeof ran, ran_ms));
}

static void schedule_restart(sup_worker_t *w, int status, uint64_t now)
{
    uint64_t ready_for = w->ready_ms ? now - w->ready_ms : 0;
    uint64_t delay = 0;
    if (!sup_backoff_outside_kill(status, w->killed || w->hung)) {
        w->streak = sup_backoff_streak(w->streak, ready_for);
        delay = sup_backoff_delay_ms(w->streak);
    }
    w->restart_at_ms = now + delay;
    w->failed = true;
    char d[32];
    LOGI("restarting worker", "worker", w->comp->name, "in_ms", fmt_u64(d, sizeof d, delay));
}

static void worker_exited(sup_t *s, sup_worker_t *w, int status, uint64_t now)
{
    read_status(s, w, now); /* last words first */
    close_status(w);
    close_metrics(w);
    log_exit(w, status, now - w->started_ms);
    w->last_exit_signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    w->last_exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    w->pid = 0;
    w->reported_ready = false;
    set_state(w, SUP_EV_EXITED);
    if (s->mode != MODE_RUN || held_back(s, w)) {
        set_state(w, SUP_EV_STOP);
        w->initial = true; /* a later start goes through the start gates again */
        return;
    }
    schedule_restart(w, status, now);
}

static void reap(sup_t *s, uint64_t now)
{
    for (;;) {
        int status = 0;
        pid_t pid = waitpid(-1, &status, WNOHANG);
        if (pid < 0 && errno == EINTR) continue;
        if (pid <= 0) return;
        sup_worker_t *w = sup_table_find_pid(&s->t, pid);
        if (w) worker_exited(s, w, status, now);
    }
}

/* ---- starting in order ---- */

/* A worker's first start in a sequence waits for the infra workers before
 * it: each must be up (or absent), or have had SUP_START_GATE_MS to get up. */
static bool gate_open(const sup_t *s, size_t i, uint64_t now)
{
    for (size_t j = 0; j < i; j++) {
        const sup_worker_t *o = &s->t.w[j];
        if (!o->comp->infra || o->state == SUP_W_ABSENT || o->state == SUP_W_UP) continue;
        if (o->initial || now - o->first_start_ms < SUP_START_GATE_MS) return false;
    }
    return true;
}

static void start_due(sup_t *s, uint64_t now)
{
    for (size_t i = 0; i < s->t.n; i++) {
        sup_worker_t *w = &s->t.w[i];
        if (w->state == SUP_W_BACKOFF && now >= w->restart_at_ms) set_state(w, SUP_EV_BACKOFF_DONE);
        if (w->state != SUP_W_DOWN || held_back(s, w)) continue;
        if (w->initial && !gate_open(s, i, now)) continue;
        start_worker(s, w, now);
    }
}

/* ---- stopping in reverse order ---- */

static bool tier_down(const sup_t *s, int tier)
{
    for (size_t i = 0; i < s->t.n; i++)
        if (worker_tier(&s->t.w[i]) == tier && sup_wstate_running(s->t.w[i].state)) return false;
    return true;
}

static bool all_down(const sup_t *s)
{
    for (size_t i = 0; i < s->t.n; i++)
        if (s->t.w[i].state != SUP_W_DOWN && s->t.w[i].state != SUP_W_ABSENT) return false;
    return true;
}

static void advance_stop(sup_t *s, uint64_t now)
{
    for (size_t i = 0; i < s->t.n; i++) /* nothing restarts while stopping */
        if (s->t.w[i].state == SUP_W_BACKOFF) set_state(&s->t.w[i], SUP_EV_STOP);
    while (s->stop_tier >= 0) {
        if (!s->tier_signalled) {
            for (size_t i = 0; i < s->t.n; i++)
                if (worker_tier(&s->t.w[i]) == s->stop_tier) stop_worker(s, &s->t.w[i], now);
            s->tier_signalled = true;
            s->tier_ms = now;
        }
        if (!tier_down(s, s->stop_tier) && now - s->tier_ms < SUP_TIER_WAIT_MS) return;
        s->stop_tier--;
        s->tier_signalled = false;
    }
}

static void begin_stop(sup_t *s, sup_mode_t mode, uint64_t now)
{
    s->mode = mode;
    s->stop_ms = now;
    s->stop_tier = TIER_CONTROLLERS;
    s->tier_signalled = false;
}

static void kill_everything(sup_t *s)
{
    for (size_t i = 0; i < s->t.n; i++)
        if (sup_wstate_running(s->t.w[i].state)) signal_worker(&s->t.w[i], SIGKILL);
}

/* ---- timers ---- */

static void check_timers(sup_t *s, uint64_t now)
{
    for (size_t i = 0; i < s->t.n; i++) {
        sup_worker_t *w = &s->t.w[i];
        bool live = w->state == SUP_W_STARTING || w->state == SUP_W_UP;
        if (live && now - w->heard_ms > s->cfg.worker_timeout_ms) kill_hung(w, now);
        if (w->state == SUP_W_DYING && !w->killed && now >= w->kill_at_ms) {
            LOGW("worker did not stop in time; killing it", "worker", w->comp->name);
            signal_worker(w, SIGKILL);
        }
    }
}

static uint64_t earliest(uint64_t a, uint64_t b) { return a < b ? a : b; }

/* Milliseconds poll() may sleep: up to the next timer, at most 1 s so
 * /healthz and the uptimes stay fresh. */
static int poll_timeout(const sup_t *s, uint64_t now)
{
    uint64_t next = now + 1000;
    for (size_t i = 0; i < s->t.n; i++) {
        const sup_worker_t *w = &s->t.w[i];
        if (w->state == SUP_W_STARTING || w->state == SUP_W_UP)
            next = earliest(next, w->heard_ms + s->cfg.worker_timeout_ms + 1);
        else if (w->state == SUP_W_DYING && !w->killed)
            next = earliest(next, w->kill_at_ms);
        else if (w->state == SUP_W_BACKOFF && s->mode == MODE_RUN)
            next = earliest(next, w->restart_at_ms);
        else if (w->state == SUP_W_DOWN && s->mode == MODE_RUN && !held_back(s, w))
            next = earliest(next, now + 50); /* waiting at a start gate */
    }
    if (s->mode != MODE_RUN) next = earliest(next, s->tier_ms + SUP_TIER_WAIT_MS);
    return (int)ms_until(next, now); /* next <= now + 1000: no clamp needed */
}

/* ---- leadership ---- */

/* Lost the lease: the executor and the controllers stop now (SIGTERM, then
 * SIGKILL after SUP_KILL_AFTER_MS), well before another candidate may take
 * over (renew deadline + this grace < lease duration with the defaults). */
static void demote(sup_t *s, uint64_t now)
{
    for (size_t i = 0; i < s->t.n; i++) {
        sup_worker_t *w = &s->t.w[i];
        if (!sup_worker_needs_lease(w)) continue;
        if (w->state == SUP_W_BACKOFF) set_state(w, SUP_EV_STOP);
        w->initial = true;
        if (w->state != SUP_W_STARTING && w->state != SUP_W_UP) continue;
        set_state(w, SUP_EV_STOP);
        signal_worker(w, SIGTERM);
        w->kill_at_ms = now + SUP_KILL_AFTER_MS;
    }
}

static void on_leadership(sup_t *s, uint64_t now)
{
    bool leading = sup_leader_take(s->leader);
    if (leading == s->leading) return;
    s->leading = leading;
    if (leading) {
        for (size_t i = 0; i < s->t.n; i++)
            if (sup_worker_needs_lease(&s->t.w[i])) s->t.w[i].initial = true;
        LOGI("leading: starting the executor and the controllers");
        return;
    }
    LOGW("not leading any more: stopping the executor and the controllers");
    demote(s, now);
}

static int start_leader_election(sup_t *s)
{
    s->leading = !s->cfg.leader_elect;
    if (!s->cfg.leader_elect) return 0;
    char err[512];
    s->leader = sup_leader_start(&s->cfg, err, sizeof err);
    if (!s->leader) {
        LOGE("cannot start leader election", "error", err);
        return -1;
    }
    return 0;
}

/* The election parameters cannot change under a running election. */
static bool election_changed(const sup_config_t *a, const sup_config_t *b)
{
    sup_lease_config_t la, lb;
    sup_leader_lease_config(a, &la);
    sup_leader_lease_config(b, &lb);
    return a->leader_elect != b->leader_elect || memcmp(&la, &lb, sizeof la) != 0 ||
           strcmp(a->kubeconfig, b->kubeconfig) != 0 || strcmp(a->master, b->master) != 0;
}

/* ---- configuration ---- */

static void log_config(const sup_t *s)
{
    const sup_config_t *c = &s->cfg;
    LOGI("configuration", "bus_dir", c->bus_dir, "bin_dir", c->bin_dir, "controllers", c->controllers);
    for (size_t i = 0; i < s->t.n; i++)
        if (s->t.w[i].state == SUP_W_ABSENT)
            LOGW("worker binary not installed; skipping it", "worker", s->t.w[i].comp->name, "path",
                 s->t.w[i].path);
}

static int start_http(sup_t *s)
{
    if (s->cfg.port == 0) return 0;
    char err[256];
    s->http = sup_http_start(s->cfg.bind_address, s->cfg.port, err, sizeof err);
    if (!s->http) {
        LOGE("cannot serve HTTP", "error", err);
        return -1;
    }
    return 0;
}

static void begin_reload(sup_t *s, uint64_t now)
{
    if (s->mode != MODE_RUN) {
        LOGW("SIGHUP ignored: already stopping or reloading");
        return;
    }
    char err[512];
    if (sup_config_load(&s->next, s->argc, s->argv, s->first, err, sizeof err) != SUP_CONFIG_OK) {
        LOGE("SIGHUP: configuration refused; keeping the current one", "error", err);
        return;
    }
    if (strcmp(s->next.bus_dir, s->cfg.bus_dir) != 0) {
        LOGE("SIGHUP: --bus-dir cannot change without a restart; keeping the current configuration");
        return;
    }
    if (election_changed(&s->next, &s->cfg)) {
        LOGE("SIGHUP: --leader-elect*, --kubeconfig and --master cannot change without a restart; "
             "keeping the current configuration");
        return;
    }
    LOGI("SIGHUP: restarting every worker with the re-read configuration");
    begin_stop(s, MODE_RELOAD, now);
}

static void finish_reload(sup_t *s)
{
    bool http_changed = s->next.port != s->cfg.port ||
                        strcmp(s->next.bind_address, s->cfg.bind_address) != 0;
    s->cfg = s->next;
    logcfg_apply(&s->cfg.log, "");
    sup_config_log_notices(&s->cfg);
    if (http_changed) {
        sup_http_stop(&s->http);
        (void)start_http(s); /* logged; supervision goes on without HTTP */
    }
    sup_table_t prev = s->t;
    sup_table_build(&s->t, &s->cfg, &prev);
    s->mode = MODE_RUN;
    log_config(s);
    LOGI("configuration reloaded");
}

/* ---- signals ---- */

static void on_stop_signal(sup_t *s, int sig, uint64_t now)
{
    if (s->mode == MODE_STOP) {
        LOGW("second stop signal: killing every worker now", "signal", strsignal(sig));
        kill_everything(s);
        return;
    }
    LOGI("stopping: controllers first, then executor, informer, broker", "signal", strsignal(sig));
    if (s->mode == MODE_RELOAD) {
        s->mode = MODE_STOP; /* keep the stop already under way */
        return;
    }
    begin_stop(s, MODE_STOP, now);
}

static void read_signals(sup_t *s, uint64_t now)
{
    struct signalfd_siginfo si;
    for (;;) {
        ssize_t n = read(s->sigfd, &si, sizeof si);
        if (n < 0 && errno == EINTR) continue;
        if (n != (ssize_t)sizeof si) return;
        switch (si.ssi_signo) {
        case SIGCHLD: reap(s, now); break;
        case SIGTERM:
        case SIGINT: on_stop_signal(s, (int)si.ssi_signo, now); break;
        case SIGHUP: begin_reload(s, now); break;
        default: break;
        }
    }
}

/* ---- one iteration ---- */

/* own (taken) followed by process_*, re-read from /proc at most once a second. */
static char *with_process_metrics(sup_t *s, uint64_t now, char *own)
{
    if (!own) return NULL;
    if (!s->pm_ms || now >= s->pm_ms + SUP_WMETRICS_PERIOD_MS) {
        pid_t pids[SUP_COMPONENT_COUNT];
        size_t n = 0;
        for (size_t i = 0; i < s->t.n && n < SUP_COMPONENT_COUNT; i++)
            if (s->t.w[i].pid > 0) pids[n++] = s->t.w[i].pid;
        procmetrics_read(pids, n, &s->pm);
        s->pm_ms = now ? now : 1;
    }
    sbuf_t b = { 0 };
    sbuf_put(&b, own, strlen(own));
    free(own);
    procmetrics_render(&s->pm, &b);
    return sbuf_take(&b);
}

static void publish(sup_t *s, uint64_t now)
{
    if (!s->http) return;
    static sup_leader_view_t v; /* large; main thread only */
    static sup_http_health_t health;
    sup_report_leader_t ld = { .enabled = s->cfg.leader_elect, .leading = s->leading,
                               .shard_index = s->cfg.shard_index,
                               .lease_ms = s->cfg.leader_elect_lease_ms };
    if (s->leader) {
        sup_leader_view(s->leader, &v);
        ld.lease = v.lease;
        ld.identity = v.identity;
        ld.holder = v.holder;
        ld.renewed_ms = v.renewed_ms;
    }
    sup_checks_ctx_t x = { .now_ms = now, .stale_ms = sup_checks_stale_ms(s->cfg.worker_timeout_ms),
                           .stopping = s->mode != MODE_RUN, .reloading = s->mode == MODE_RELOAD,
                           .ld = &ld };
    sup_checks_healthz(&s->t, &x, &health.healthz);
    sup_checks_livez(&health.livez);
    sup_checks_readyz(&s->t, &x, &health.readyz);
    sup_wmetrics_refresh(&s->wm, &s->t, now, x.stale_ms);
    sup_http_publish(s->http, sup_report_statusz_ex(&s->t, now, &ld),
                     sup_wmetrics_append(&s->wm, with_process_metrics(s, now, sup_report_metrics_ex(
                                                          &s->t, &ld, &s->cfg.feature_gates))),
                     &health);
    sup_http_alive(s->http, now);
}

static int wait_events(sup_t *s, uint64_t now)
{
    struct pollfd fds[2 + SUP_COMPONENT_COUNT];
    sup_worker_t *owner[2 + SUP_COMPONENT_COUNT];
    nfds_t n = 0;
    fds[n] = (struct pollfd){ .fd = s->sigfd, .events = POLLIN };
    owner[n++] = NULL;
    fds[n] = (struct pollfd){ .fd = s->leader ? sup_leader_fd(s->leader) : -1, .events = POLLIN };
    owner[n++] = NULL;
    for (size_t i = 0; i < s->t.n; i++) {
        if (s->t.w[i].status_fd < 0) continue;
        fds[n] = (struct pollfd){ .fd = s->t.w[i].status_fd, .events = POLLIN };
        owner[n++] = &s->t.w[i];
    }
    if (poll(fds, n, poll_timeout(s, now)) < 0) {
        if (errno == EINTR) return 0;
        LOGE("poll failed", "error", strerror(errno));
        return -1;
    }
    now = now_mono_ms();
    /* Heartbeats before exits, so a worker's last words are not lost. */
    for (nfds_t i = 2; i < n; i++)
        if (fds[i].revents) read_status(s, owner[i], now);
    if (fds[1].revents & POLLIN) on_leadership(s, now);
    if (fds[0].revents & POLLIN) read_signals(s, now);
    return 0;
}

static int loop(sup_t *s)
{
    for (;;) {
        uint64_t now = now_mono_ms();
        check_timers(s, now);
        if (s->mode == MODE_RUN) {
            start_due(s, now);
        } else {
            advance_stop(s, now);
            if (all_down(s)) {
                if (s->mode == MODE_STOP) return 0;
                finish_reload(s);
                continue;
            }
        }
        publish(s, now);
        if (wait_events(s, now) < 0) return 1;
    }
}

/* ---- set-up ---- */

/* Workers inherit fds 0-2; if we were started without them, a pipe or
 * socket could land there and be scribbled on. (These stay inheritable.) */
static void ensure_stdio(void)
{
    for (int fd = 0; fd <= 2; fd++) {
        if (fcntl(fd, F_GETFD) >= 0) continue;
        int nul = open("/dev/null", O_RDWR);
        if (nul >= 0 && nul != fd) close(nul);
    }
}

/* Blocks the signals we read from the signalfd in every thread (the HTTP
 * thread starts after this and inherits the mask). */
static int setup_signals(sup_t *s)
{
    sigset_t set;
    sigemptyset(&set);
    int sigs[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP };
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaddset(&set, sigs[i]);
    if (sigprocmask(SIG_BLOCK, &set, NULL) < 0) return -1;
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    if (sigaction(SIGPIPE, &ign, NULL) < 0) return -1;
    s->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    return s->sigfd < 0 ? -1 : 0;
}

/* Generations tell a worker's lives apart (heartbeats, logs); action ids
 * carry a random part of their own (lib/ctrl/actions.h), but a new
 * supervisor on the same bus dir (a restart, a standby that returns) still
 * should not start its workers at generation 1 again. The lock file (ours alone while we hold the
 * lock) counts the lives on this bus dir; life N starts generations at
 * N << 16 (the first life at 0, as before). Failures cost only the count. */
static void count_life(sup_t *s)
{
    char buf[32] = { 0 };
    ssize_t n = pread(s->lock_fd, buf, sizeof buf - 1, 0);
    unsigned long lives = 0;
    if (n > 0 && sscanf(buf, "lives=%lu", &lives) != 1) lives = 0;
    int len = snprintf(buf, sizeof buf, "lives=%lu\n", (lives + 1) & 0xffff);
    if (ftruncate(s->lock_fd, 0) < 0 || pwrite(s->lock_fd, buf, (size_t)len, 0) != len)
        LOGW("cannot count supervisor lives in the lock file", "error", strerror(errno));
    s->generation_base = (uint32_t)(lives & 0xffff) << 16;
}

/* One supervisor per bus: a second one would start a second broker. */
static int lock_bus(sup_t *s)
{
    bus_config_t bus;
    char err[1200] = "not a bus dir or tcp:// address";
    if (bus_config_parse(&bus, s->cfg.bus_dir) < 0 || bus_dir_prepare(&bus, err, sizeof err) < 0) {
        LOGE("cannot prepare the bus directory", "dir", s->cfg.bus_dir, "error", err);
        return -1;
    }
    if (bus.tcp_host[0]) return 0;
    s->lock_fd = bus_open_file(&bus, "supervisor.lock", O_RDWR | O_CREAT, err, sizeof err);
    if (s->lock_fd < 0) {
        LOGE("cannot open the supervisor lock", "error", err);
        return -1;
    }
    if (flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
        LOGE("another kubus-controller-manager is using this --bus-dir", "dir", bus.dir, "error",
             strerror(errno));
        return -1;
    }
    count_life(s);
    return 0;
}

static void teardown(sup_t *s)
{
    sup_leader_stop(&s->leader); /* workers are down: release the lease */
    sup_http_stop(&s->http);
    for (size_t i = 0; i < s->t.n; i++) {
        close_status(&s->t.w[i]);
        close_metrics(&s->t.w[i]);
    }
    sup_wmetrics_free(&s->wm);
    if (s->sigfd >= 0) close(s->sigfd);
    if (s->lock_fd >= 0) close(s->lock_fd);
}

int sup_supervise(const sup_config_t *cfg, int argc, char **argv, int first)
{
    static sup_t sup; /* large (two configs, the table): keep it off the stack */
    sup_t *s = &sup;
    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    s->argc = argc;
    s->argv = argv;
    s->first = first;
    s->sigfd = s->lock_fd = -1;
    s->bad_log = (log_limit_t)LOG_LIMIT_INIT(1.0, 10.0);
    ensure_stdio();
    int code = 1;
    if (setup_signals(s) < 0) {
        LOGE("cannot set up signal handling", "error", strerror(errno));
    } else if (s->cfg.leader_elect && khttp_global_init() < 0) {
        LOGE("cannot initialise libcurl");
    } else if (lock_bus(s) == 0 && start_http(s) == 0 && start_leader_election(s) == 0) {
        sup_table_build(&s->t, &s->cfg, NULL);
        for (size_t i = 0; i < s->t.n; i++) s->t.w[i].generation = s->generation_base;
        log_config(s);
        code = loop(s);
        LOGI("stopped", "code", code ? "1" : "0");
    }
    teardown(s);
    return code;
}
