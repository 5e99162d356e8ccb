/* report.h - what the supervisor says about its workers over HTTP.
 *
 * Owns: the text of /statusz (a table: NAME STATE PID GENERATION RESTARTS
 * UPTIME LAST-EXIT, one header line, whitespace-separated columns, "-" for
 * none) and /metrics (Prometheus text format). Pure: each returns a
 * malloc'd string built from the table (NULL when out of memory). The
 * health endpoints are checks.h's.
 */
#ifndef KUBUS_SUP_REPORT_H
#define KUBUS_SUP_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "featuregate.h"
#include "table.h"

char *sup_report_statusz(const sup_table_t *t, uint64_t now_ms);
char *sup_report_metrics(const sup_table_t *t);

/* Leader election as the reports show it (--leader-elect, leader.h). */
typedef struct {
    bool enabled;          /* --leader-elect */
    bool leading;          /* always true when not enabled: everything runs */
    int shard_index;
    const char *lease;     /* "namespace/name" (enabled only) */
    const char *identity;  /* ours */
    const char *holder;    /* last seen, "" if none */
    uint64_t renewed_ms;   /* monotonic: our last successful acquire or renewal */
    uint64_t lease_ms;     /* --leader-elect-lease-duration */
} sup_report_leader_t;

/* The same texts with leader election: /statusz gets a last line
 * "leader: yes|no|yes (leader election off) lease=NS/NAME identity=ID holder=ID";
 * /metrics gets kubus_leader{shard="I"} 1|0 (and upstream's
 * leader_election_master_status{name="NAME"} when enabled). ld NULL: as
 * the functions above. With gates, /metrics also has upstream's
 * kubernetes_feature_enabled{name,stage} for every known gate. /metrics
 * always has upstream's kubernetes_build_info (kubus's version, compiler and
 * platform; Go's fields empty) and running_managed_controllers{manager=
 * "kube-controller-manager",name="<upstream controller name>"}: 1 while the
 * controller's worker runs, 0 otherwise. */
char *sup_report_statusz_ex(const sup_table_t *t, uint64_t now_ms, const sup_report_leader_t *ld);
char *sup_report_metrics_ex(const sup_table_t *t, const sup_report_leader_t *ld,
                            const fg_set_t *gates);
/* The executor and the controllers: they run only on the leader. */
bool sup_worker_needs_lease(const sup_worker_t *w);
/* A worker counts as up for kubus_worker_up. */
bool sup_worker_is_up(const sup_worker_t *w);

#endif
