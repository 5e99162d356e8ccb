/* process.h - main() of a controller process: one worker, one runtime.
 *
 * Owns: the shell every controller process shares - its
 * --concurrent-<kind>-syncs flag (kube-controller-manager's spelling of the
 * worker's --concurrent-syncs), building the controller's state and the
 * runtime over it, its work queue's metrics (published with the worker's
 * heartbeats, worker.h), running the loop, and tearing both down in the safe
 * order (runtime first: no result callback may reach a freed state).
 * A controller's main.c only says what it is:
 *
 *   static const ctrl_process_t proc = { .name = "replicaset", ... };
 *   int main(int argc, char **argv) { return ctrl_process_main(argc, argv, &proc); }
 */
#ifndef KUBUS_CTRL_PROCESS_H
#define KUBUS_CTRL_PROCESS_H

#include "ctrl/runtime.h"

typedef struct {
    const char *name;             /* worker name, as the supervisor knows it: "replicaset" */
    /* upstream's controller name, "replicaset-controller": the JSON logger
     * name of every line the process writes (as upstream's controllers are
     * named) and, unless create() sets another, its Events' source */
    const char *component;
    /* upstream's name of the controller's work queue, the label of its
     * workqueue_* metrics: "replicaset", "garbage_collector_attempt_to_delete"
     * (NULL: no metrics) */
    const char *queue_name;
    const char *concurrent_flag;  /* "concurrent-replicaset-syncs" (NULL: none) */
    const char *usage;            /* usage lines of that flag */
    int default_concurrent;       /* > 0: the default when neither flag is given */
    /* Builds the controller's state (*state, may stay NULL) and fills cfg;
     * cfg->concurrent_syncs is set afterwards from the flags. 0, or -1 on
     * failure (logged). */
    int (*create)(ctrl_config_t *cfg, void **state);
    /* Registers handlers on the runtime. 0 or -1. NULL: nothing to attach. */
    int (*attach)(void *state, ctrl_runtime_t *rt);
    void (*destroy)(void *state);  /* NULL: nothing to free */
} ctrl_process_t;

/* worker_main() for a controller process. Returns the exit code. */
int ctrl_process_main(int argc, char **argv, const ctrl_process_t *p);

#endif
