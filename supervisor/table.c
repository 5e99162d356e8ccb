/* table.c - worker records, their argv and their heartbeats. See table.h. */
#include "table.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "errfmt.h"

static void worker_reset(sup_worker_t *w, const sup_component_t *comp)
{
    memset(w, 0, sizeof *w);
    w->comp = comp;
    w->status_fd = -1;
    w->metrics_fd = -1;
    w->last_exit_code = -1;
    w->initial = true;
}

static const sup_worker_t *find_name(const sup_table_t *t, const char *name)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (strcmp(t->w[i].comp->name, name) == 0) return &t->w[i];
    return NULL;
}

void sup_table_build(sup_table_t *t, const sup_config_t *c, const sup_table_t *prev)
{
    uint64_t malformed = prev ? prev->malformed_heartbeats : 0;
    memset(t, 0, sizeof *t);
    t->malformed_heartbeats = malformed;
    for (size_t i = 0; i < SUP_COMPONENT_COUNT; i++) {
        const sup_component_t *comp = sup_component(i);
        if (!c->enabled[i]) continue;
        sup_worker_t *w = &t->w[t->n++];
        worker_reset(w, comp);
        const sup_worker_t *old = find_name(prev, comp->name);
        if (old) {
            w->generation = old->generation;
            w->restarts = old->restarts;
            w->streak = old->streak;
            w->last_exit_code = old->last_exit_code;
            w->last_exit_signal = old->last_exit_signal;
        }
        w->concurrency = c->concurrency[i];
        int n = snprintf(w->path, sizeof w->path, "%s/%s", c->bin_dir, comp->binary);
        bool fits = n > 0 && (size_t)n < sizeof w->path;
        w->state = fits && access(w->path, X_OK) == 0 ? SUP_W_DOWN : SUP_W_ABSENT;
    }
}

sup_worker_t *sup_table_find_pid(sup_table_t *t, pid_t pid)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->w[i].pid == pid && pid > 0) return &t->w[i];
    return NULL;
}

/* ---- argv ---- */

static int add_arg(sup_argv_t *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int add_arg(sup_argv_t *a, const char *fmt, ...)
{
    if (a->argc >= SUP_ARGV_MAX) return -1;
    size_t room = sizeof a->buf - a->used;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(a->buf + a->used, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) return -1;
    a->argv[a->argc++] = a->buf + a->used;
    a->argv[a->argc] = NULL;
    a->used += (size_t)n + 1;
    return 0;
}

static int add_plain(void *ctx, const char *arg) { return add_arg(ctx, "%s", arg); }

/* --feature-gates with the gates set (none: no flag). */
static int add_gates(sup_argv_t *a, const sup_config_t *c)
{
    char gates[FG_FORMAT_MAX];
    if (fg_format(&c->feature_gates, gates, sizeof gates) < 0) return -1;
    return gates[0] ? add_arg(a, "--feature-gates=%s", gates) : 0;
}

int sup_argv_build(sup_argv_t *a, const sup_config_t *c, const sup_worker_t *w, int status_fd)
{
    memset(a, 0, sizeof *a);
    int rc = 0;
    rc |= add_arg(a, "%s", w->path);
    rc |= add_arg(a, "--name=%s", w->comp->name);
    rc |= add_arg(a, "--generation=%u", w->generation);
    rc |= add_arg(a, "--status-fd=%d", status_fd);
    if (w->metrics_fd >= 0) rc |= add_arg(a, "--metrics-fd=%d", SUP_METRICS_FD);
    rc |= add_arg(a, "--bus-dir=%s", c->bus_dir);
    if (c->kubeconfig[0]) rc |= add_arg(a, "--kubeconfig=%s", c->kubeconfig);
    if (c->master[0]) rc |= add_arg(a, "--master=%s", c->master);
    rc |= add_arg(a, "--kube-api-qps=%g", c->kube_api_qps);
    rc |= add_arg(a, "--kube-api-burst=%d", c->kube_api_burst);
    if (!w->comp->infra) rc |= add_arg(a, "--concurrent-syncs=%d", w->concurrency);
    rc |= add_arg(a, "--shard-index=%d", c->shard_index);
    rc |= add_arg(a, "--shard-count=%d", c->shard_count);
    rc |= logcfg_args(&c->log, add_plain, a);
    rc |= add_gates(a, c);
    return rc ? -1 : 0;
}

/* ---- heartbeats ---- */

static int check_heartbeat(const sup_worker_t *w, const msg_heartbeat_t *hb, char *err, size_t errlen)
{
    if (strcmp(hb->worker, w->comp->name) != 0)
        return errfmt(err, errlen, "heartbeat names worker \"%s\"", hb->worker);
    if (hb->pid != (int32_t)w->pid)
        return errfmt(err, errlen, "heartbeat from pid %d, expected %d", (int)hb->pid, (int)w->pid);
    if (hb->generation != w->generation)
        return errfmt(err, errlen, "heartbeat of generation %u, expected %u", hb->generation,
                      w->generation);
    return 0;
}

static void apply_heartbeat(sup_worker_t *w, const msg_heartbeat_t *hb, uint64_t now_ms)
{
    w->heard_ms = now_ms;
    w->progress = hb->sequence;
    w->reported_ready = hb->state == KUBUS__V1__WORKER_STATE__READY;
}

int sup_worker_feed(sup_worker_t *w, const uint8_t *data, size_t n, uint64_t now_ms, char *err,
                    size_t errlen)
{
    int malformed = 0;
    while (n > 0) {
        size_t take = sizeof w->hb - w->hblen;
        if (take > n) take = n;
        memcpy(w->hb + w->hblen, data, take);
        w->hblen += take;
        data += take;
        n -= take;
        size_t off = 0;
        for (;;) {
            msg_envelope_t *env = NULL;
            int used = worker_heartbeat_unframe(w->hb + off, w->hblen - off, &env, err, errlen);
            if (used == 0) break;
            if (used < 0) {
                malformed++;
                off = w->hblen; /* cannot find the next frame boundary: drop all */
                break;
            }
            if (check_heartbeat(w, env->heartbeat, err, errlen) == 0)
                apply_heartbeat(w, env->heartbeat, now_ms);
            else
                malformed++;
            msg_free(env);
            off += (size_t)used;
        }
        memmove(w->hb, w->hb + off, w->hblen - off);
        w->hblen -= off;
    }
    return malformed;
}
