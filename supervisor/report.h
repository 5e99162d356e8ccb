/* report.h - what the supervisor says about its workers over HTTP.
 *
 * Owns: the text of /statusz (a table: NAME STATE PID GENERATION RESTARTS
 * UPTIME LAST-EXIT, one header line, whitespace-separated columns, "-" for
 * none), /metrics (Prometheus text format) and /readyz. Pure: each returns a
 * malloc'd string built from the table (NULL when out of memory).
 */
#ifndef KUBUS_SUP_REPORT_H
#define KUBUS_SUP_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include "table.h"

char *sup_report_statusz(const sup_table_t *t, uint64_t now_ms);
char *sup_report_metrics(const sup_table_t *t);
/* *ready: every present worker is UP and its last heartbeat said READY, and
 * the supervisor is not stopping. The text says "ok" or lists the others. */
char *sup_report_readyz(const sup_table_t *t, bool stopping, bool *ready);
/* A worker counts as up for /readyz and kubus_worker_up. */
bool sup_worker_is_up(const sup_worker_t *w);

#endif
