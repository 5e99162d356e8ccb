/* checks.c - the checks behind /healthz, /livez and /readyz. See checks.h. */
#include "checks.h"

#include <string.h>

#include "worker.h"

uint64_t sup_checks_stale_ms(uint64_t worker_timeout_ms)
{
    uint64_t beats = (uint64_t)SUP_HEALTH_STALE_BEATS * WORKER_HEARTBEAT_MS;
    return worker_timeout_ms < beats ? worker_timeout_ms : beats;
}

/* Upstream's check names: the controller's --controllers name. */
static const char *check_name(const sup_worker_t *w)
{
    return w->comp->long_name ? w->comp->long_name : w->comp->name;
}

/* A worker that does not run on purpose has no check. */
static bool has_check(const sup_worker_t *w, const sup_checks_ctx_t *x)
{
    if (w->state == SUP_W_ABSENT) return false;
    bool standby = x->ld && !x->ld->leading;
    return !(standby && sup_worker_needs_lease(w));
}

static uint64_t silence(const sup_worker_t *w, const sup_checks_ctx_t *x)
{
    return x->now_ms > w->heard_ms ? x->now_ms - w->heard_ms : 0;
}

static bool running(const sup_worker_t *w)
{
    return w->state == SUP_W_STARTING || w->state == SUP_W_UP;
}

/* Why a worker that is not running fails. */
static void add_not_running(sup_checks_t *out, const sup_worker_t *w)
{
    const char *name = check_name(w);
    if (w->state == SUP_W_DYING)
        sup_checks_add(out, name, false, "%s", w->hung ? "killed: its heartbeats stopped" : "stopping");
    else if (w->state == SUP_W_BACKOFF)
        sup_checks_add(out, name, false, "exited (restart %llu); waiting to restart",
                       (unsigned long long)w->restarts + 1);
    else
        sup_checks_add(out, name, false, "not started yet");
}

/* A worker's check: healthy is running and heard from lately; ready also
 * needs its last heartbeat to have said READY. */
static void add_worker(sup_checks_t *out, const sup_worker_t *w, const sup_checks_ctx_t *x, bool ready)
{
    if (!running(w)) {
        add_not_running(out, w);
        return;
    }
    const char *name = check_name(w);
    uint64_t quiet = silence(w, x);
    if (quiet > x->stale_ms)
        sup_checks_add(out, name, false, "no heartbeat for %llu ms (pid %d)", (unsigned long long)quiet,
                       (int)w->pid);
    else if (ready && w->state != SUP_W_UP)
        sup_checks_add(out, name, false, "starting: no READY heartbeat yet");
    else if (ready && !w->reported_ready)
        sup_checks_add(out, name, false, "its last heartbeat said not ready");
    else
        sup_checks_add(out, name, true, "%s", "");
}

/* client-go's leader election healthz adaptor. */
static void add_leader_election(sup_checks_t *out, const sup_checks_ctx_t *x)
{
    const sup_report_leader_t *ld = x->ld;
    uint64_t since = x->now_ms > ld->renewed_ms ? x->now_ms - ld->renewed_ms : 0;
    bool stale = ld->leading && since > ld->lease_ms + SUP_LEADER_TOLERANCE_MS;
    sup_checks_add(out, "leaderElection", !stale, "failed election to renew leadership on lease %s",
                   ld->lease ? ld->lease : "");
}

void sup_checks_healthz(const sup_table_t *t, const sup_checks_ctx_t *x, sup_checks_t *out)
{
    out->n = 0;
    if (x->ld && x->ld->enabled) add_leader_election(out, x);
    for (size_t i = 0; i < t->n; i++)
        if (has_check(&t->w[i], x)) add_worker(out, &t->w[i], x, false);
}

void sup_checks_readyz(const sup_table_t *t, const sup_checks_ctx_t *x, sup_checks_t *out)
{
    out->n = 0;
    sup_checks_add(out, "shutdown", !x->stopping, "%s",
                   x->reloading ? "restarting every worker with the re-read configuration"
                                : "process is shutting down");
    for (size_t i = 0; i < t->n; i++)
        if (has_check(&t->w[i], x)) add_worker(out, &t->w[i], x, true);
}

void sup_checks_livez(sup_checks_t *out)
{
    out->n = 0;
    sup_checks_add(out, "ping", true, "%s", "");
}
