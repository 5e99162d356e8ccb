/* main.c - kubus-daemonset: the DaemonSet controller process.
 *
 * Owns: flags and wiring only: a worker (lib/worker.h) whose run() builds
 * the controller runtime over daemonsets + pods + nodes +
 * controllerrevisions and hands it ds_sync.
 * Flags: the worker's, plus --concurrent-daemonset-syncs=N (alias of
 * --concurrent-syncs, as kube-controller-manager spells it; default 2).
 */
#include <stdlib.h>
#include <string.h>

#include "ctrl/runtime.h"
#include "ds_sync.h"
#include "log.h"
#include "worker.h"

typedef struct {
    int concurrent;   /* 0: upstream's default, 2 */
    ds_ctrl_t *ctrl;
} app_t;

static int parse_flag(void *state, const char *flag, const char *value, bool *used_value)
{
    app_t *app = state;
    if (strcmp(flag, "concurrent-daemonset-syncs") != 0) return WORKER_FLAG_UNKNOWN;
    if (!value) return WORKER_FLAG_BAD;
    char *end = NULL;
    long n = strtol(value, &end, 10);
    if (!end || *end || n < 1 || n > 10000) return WORKER_FLAG_BAD;
    app->concurrent = (int)n;
    *used_value = true;
    return WORKER_FLAG_OK;
}

static int run(worker_t *w, void *state)
{
    app_t *app = state;
    static const char *const resources[] = { DS_RESOURCE, DS_POD_RESOURCE, DS_NODE_RESOURCE, DS_CR_RESOURCE, NULL };
    app->ctrl = ds_ctrl_new();
    if (!app->ctrl) return 1;
    ctrl_config_t cfg = {
        .controller = "daemonset", .component = "daemonset-controller", .resources = resources,
        .primary = DS_RESOURCE, .sync = ds_sync, .ud = app->ctrl, .concurrent_syncs = app->concurrent,
    };
    ctrl_runtime_t *rt = ctrl_runtime_new(w, &cfg);
    if (!rt || ds_ctrl_attach(app->ctrl, rt) < 0) {
        ctrl_runtime_destroy(&rt);
        ds_ctrl_destroy(&app->ctrl);
        return 1;
    }
    int rc = ctrl_run(rt);
    ctrl_runtime_destroy(&rt);
    ds_ctrl_destroy(&app->ctrl);
    return rc;
}

int main(int argc, char **argv)
{
    static app_t app;
    worker_hooks_t hooks = {
        .name = "daemonset",
        .usage = "  --concurrent-daemonset-syncs=N  DaemonSets synced at once (default: --concurrent-syncs)\n",
        .parse_flag = parse_flag,
        .run = run,
        .state = &app,
    };
    return worker_main(argc, argv, &hooks);
}
