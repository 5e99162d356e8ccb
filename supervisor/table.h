/* table.h - the supervisor's record of its workers.
 *
 * Owns: one entry per worker (infra in start order, then the enabled
 * controllers): its state, process, generation, restart streak, timers and
 * last exit; building the table from the configuration (keeping counters
 * across a reload); the argv a worker is started with; and turning the bytes
 * of a worker's status pipe into checked heartbeats.
 */
#ifndef KUBUS_SUP_TABLE_H
#define KUBUS_SUP_TABLE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "components.h"
#include "config.h"
#include "worker.h"
#include "wstate.h"

typedef struct {
    const sup_component_t *comp;
    char path[1280];               /* bin-dir/binary */
    int concurrency;               /* controllers: --concurrent-syncs */
    sup_wstate_t state;
    pid_t pid;                     /* 0 when no process */
    int status_fd;                 /* our end of its status pipe, -1 */
    int metrics_fd;                /* its metrics file (metricsfd.h) for this run, -1 */
    uint8_t hb[2 * WORKER_HB_FRAME_MAX];
    size_t hblen;
    uint32_t generation;           /* starts so far; passed as --generation */
    uint64_t restarts;             /* starts that followed an exit or a hang */
    unsigned streak;               /* backoff.h */
    bool initial;                  /* not started yet in this start sequence */
    bool failed;                   /* the last run ended unplanned: next start is a restart */
    bool reported_ready;           /* its last heartbeat said READY */
    bool hung;                     /* the current DYING is a SIGKILL for silence */
    bool killed;                   /* SIGKILL sent to the current process */
    uint64_t started_ms, ready_ms, heard_ms;  /* monotonic; 0 = never */
    uint64_t first_start_ms;       /* first start in this start sequence */
    uint64_t restart_at_ms;        /* BACKOFF: when to start again */
    uint64_t kill_at_ms;           /* DYING: when to escalate to SIGKILL */
    int last_exit_code;            /* -1: none (or killed by a signal) */
    int last_exit_signal;          /* 0: none */
    uint64_t progress;             /* sequence of its last heartbeat */
} sup_worker_t;

typedef struct {
    sup_worker_t w[SUP_COMPONENT_COUNT];
    size_t n;
    uint64_t malformed_heartbeats;
} sup_table_t;

/* Fills t from c: infra always, controllers when enabled; a worker whose
 * binary is not executable is ABSENT. Counters (generation, restarts,
 * streak, last exit) carry over from prev (may be NULL) by name. */
void sup_table_build(sup_table_t *t, const sup_config_t *c, const sup_table_t *prev);
sup_worker_t *sup_table_find_pid(sup_table_t *t, pid_t pid);

#define SUP_ARGV_MAX 24
typedef struct {
    char *argv[SUP_ARGV_MAX + 1];  /* NULL-terminated, pointing into buf */
    int argc;
    char buf[16384];               /* room for every gate and a long --vmodule */
    size_t used;
} sup_argv_t;

/* The fd a worker finds its metrics file at (--metrics-fd). */
#define SUP_METRICS_FD 4

/* The command line for w's next start (its generation must already be the
 * new one; --metrics-fd when w has a metrics file). 0, or -1 if it would not fit. */
int sup_argv_build(sup_argv_t *a, const sup_config_t *c, const sup_worker_t *w, int status_fd);

/* Feeds bytes read from w's status pipe. Every complete, valid heartbeat
 * (right worker name, pid and generation) updates heard_ms, progress and
 * reported_ready. Returns the number of malformed frames seen (the buffer
 * is discarded on one, since the stream cannot be re-synchronised), with
 * the last reason in err. */
int sup_worker_feed(sup_worker_t *w, const uint8_t *data, size_t n, uint64_t now_ms, char *err,
                    size_t errlen);

#endif
