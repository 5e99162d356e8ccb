/* wmetrics.h - the workers' metrics on the supervisor's /metrics.
 *
 * Owns: the last metrics text of each running worker, read from its
 * metrics file (metricsfd.h) at most once a second, and their merge into
 * one Prometheus text (promtext.h) that follows the supervisor's own
 * families (whose names no worker uses: kubus_worker_*, leader_*,
 * kubernetes_feature_enabled). A worker's series go when its run ends (the
 * file is closed with it) and when its text is older than the stale limit
 * (it stopped publishing: hung); a file the worker is writing just now is
 * read again next time, its last text kept meanwhile.
 */
#ifndef KUBUS_SUP_WMETRICS_H
#define KUBUS_SUP_WMETRICS_H

#include <stdint.h>

#include "table.h"

/* A worker's text larger than this is refused (and logged once a minute). */
#define SUP_WMETRICS_MAX_BYTES (4u << 20)
#define SUP_WMETRICS_PERIOD_MS 1000

typedef struct {
    char *text[SUP_COMPONENT_COUNT];   /* by table index; NULL: none */
    uint64_t at[SUP_COMPONENT_COUNT];  /* when each was written (monotonic ms) */
    char *merged;                      /* all of them, one family each */
    uint64_t read_ms;                  /* last refresh (monotonic), 0: never */
} sup_wmetrics_t;

/* Re-reads the workers' files when a period passed since the last time
 * (now_ms monotonic); texts older than stale_ms are dropped. */
void sup_wmetrics_refresh(sup_wmetrics_t *m, const sup_table_t *t, uint64_t now_ms, uint64_t stale_ms);
/* own (taken) followed by the workers' families: a malloc'd text, or own
 * itself when there is nothing to add or no memory. */
char *sup_wmetrics_append(const sup_wmetrics_t *m, char *own);
void sup_wmetrics_free(sup_wmetrics_t *m);

#endif
