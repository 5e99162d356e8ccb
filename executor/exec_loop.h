/* exec_loop.h - the kubus-executor worker's hooks (exec_loop.c): its flags,
 * its init and fini, and the one loop, for main.c to hand to worker_main. */
#ifndef KUBUS_EXEC_LOOP_H
#define KUBUS_EXEC_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "engine.h"
#include "kubeconfig.h"
#include "log.h"
#include "worker.h"

typedef struct {
    unsigned max_in_flight;
    char journal_dir[256];     /* --journal-dir; empty: the default */
    kubeconfig_t kc;
    bool kc_loaded;
    void *dealer, *pub;
    engine_t *eng;
    uint64_t epoch;
    uint64_t next_status_ms, next_metrics_ms;
    uint64_t malformed;
    log_limit_t bad_log;
} executor_t;

/* The executor's own flags, as worker_hooks_t.usage shows them. */
extern const char executor_usage[];

/* Sets the defaults the flags then change: call before worker_main. */
void executor_defaults(executor_t *x);

/* worker_hooks_t's parse_flag, init, run and fini; state is an executor_t. */
int executor_parse_flag(void *state, const char *flag, const char *value, bool *used);
int executor_init(worker_t *w, void *state);
int executor_run(worker_t *w, void *state);
void executor_fini(worker_t *w, void *state);

#endif
