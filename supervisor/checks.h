/* checks.h - what kubus's /healthz, /livez and /readyz check.
 *
 * Owns: the named checks of each endpoint and what makes each one fail,
 * decided from the worker table and the leader election state (pure):
 *   /healthz  kube-controller-manager's set: "leaderElection" (with
 *             --leader-elect; fails like client-go's adaptor when we lead
 *             but renewed nothing for lease duration + 20 s), then one
 *             check per worker that should run, named as upstream names
 *             its controllers ("replicaset-controller"; the infra workers
 *             "broker", "informer", "executor"). A worker's check fails
 *             when it is not running, or when its heartbeats stopped for
 *             longer than ctx.stale_ms.
 *   /readyz   "shutdown" (upstream's name and reason; fails while stopping
 *             or reloading), then one check per worker that should run:
 *             up, its last heartbeat said READY, and not silent.
 *   /livez    "ping".
 * The HTTP thread adds "supervisor-loop" to all three (http.h). Workers that
 * do not run on purpose have no check, as upstream builds a controller's
 * check only when it starts the controller: a binary that is not installed,
 * or, on a standby, the workers that need the lease.
 */
#ifndef KUBUS_SUP_CHECKS_H
#define KUBUS_SUP_CHECKS_H

#include <stdbool.h>
#include <stdint.h>

#include "healthz.h"
#include "report.h"
#include "table.h"

/* Heartbeat silence that fails a worker's check: three missed beats, or
 * --worker-timeout if that is shorter. */
#define SUP_HEALTH_STALE_BEATS 3
/* client-go's NewLeaderHealthzAdaptor(20 * time.Second), as upstream uses it. */
#define SUP_LEADER_TOLERANCE_MS 20000u

typedef struct {
    uint64_t now_ms;                 /* monotonic */
    uint64_t stale_ms;
    bool stopping;                   /* stopping or reloading: workers go down on purpose */
    bool reloading;                  /* the stop is a SIGHUP reload */
    const sup_report_leader_t *ld;   /* NULL: no leader election */
} sup_checks_ctx_t;

uint64_t sup_checks_stale_ms(uint64_t worker_timeout_ms);
void sup_checks_healthz(const sup_table_t *t, const sup_checks_ctx_t *x, sup_checks_t *out);
void sup_checks_readyz(const sup_table_t *t, const sup_checks_ctx_t *x, sup_checks_t *out);
void sup_checks_livez(sup_checks_t *out);

#endif
