/* wmetrics.c - reading and merging the workers' metrics. See wmetrics.h. */
#include "wmetrics.h"

#include <stdlib.h>
#include <string.h>

#include "metricsfd.h"
#include "promtext.h"

static void drop(sup_wmetrics_t *m, size_t i)
{
    free(m->text[i]);
    m->text[i] = NULL;
}

static void read_worker(sup_wmetrics_t *m, size_t i, const sup_worker_t *w, uint64_t now_ms,
                        uint64_t stale_ms)
{
    if (w->metrics_fd < 0 || !sup_wstate_running(w->state)) {
        drop(m, i);
        return;
    }
    char *text = NULL;
    uint64_t at = 0;
    int rc = metricsfd_read(w->metrics_fd, SUP_WMETRICS_MAX_BYTES, &text, &at);
    if (rc == 1) {
        /* being written now (or nothing yet): keep the last text while it is of this run and fresh */
        if (m->text[i] && (m->at[i] < w->started_ms || m->at[i] + stale_ms < now_ms)) drop(m, i);
        return;
    }
    drop(m, i);
    if (rc < 0) return;
    if (at + stale_ms < now_ms || at < w->started_ms) {
        free(text);
        return;
    }
    m->text[i] = text;
    m->at[i] = at;
}

void sup_wmetrics_refresh(sup_wmetrics_t *m, const sup_table_t *t, uint64_t now_ms, uint64_t stale_ms)
{
    if (m->read_ms && now_ms < m->read_ms + SUP_WMETRICS_PERIOD_MS) return;
    m->read_ms = now_ms;
    for (size_t i = 0; i < SUP_COMPONENT_COUNT; i++) {
        if (i < t->n)
            read_worker(m, i, &t->w[i], now_ms, stale_ms);
        else
            drop(m, i);
    }
    char *merged = prom_merge((const char *const *)m->text, SUP_COMPONENT_COUNT);
    if (!merged) return; /* out of memory: the last merge stays */
    free(m->merged);
    m->merged = merged;
}

char *sup_wmetrics_append(const sup_wmetrics_t *m, char *own)
{
    if (!own || !m->merged || !m->merged[0]) return own;
    size_t a = strlen(own), b = strlen(m->merged);
    char *r = malloc(a + b + 1);
    if (!r) return own;
    memcpy(r, own, a);
    memcpy(r + a, m->merged, b + 1);
    free(own);
    return r;
}

void sup_wmetrics_free(sup_wmetrics_t *m)
{
    for (size_t i = 0; i < SUP_COMPONENT_COUNT; i++) drop(m, i);
    free(m->merged);
    m->merged = NULL;
}
