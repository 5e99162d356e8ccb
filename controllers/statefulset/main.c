/* main.c - kubus-statefulset: the StatefulSet controller process.
 *
 * Owns: flags and wiring only: a worker (lib/worker.h) whose run() builds
 * the controller runtime over statefulsets, pods, persistentvolumeclaims
 * and controllerrevisions and hands it sts_sync.
 * Flags: the worker's, plus --concurrent-statefulset-syncs=N (alias of
 * --concurrent-syncs, as kube-controller-manager spells it; default 5).
 */
#include <stdlib.h>
#include <string.h>

#include "ctrl/runtime.h"
#include "log.h"
#include "sts_sync.h"
#include "worker.h"

typedef struct {
    int concurrent;
    sts_ctrl_t *ctrl;
} app_t;

static int parse_flag(void *state, const char *flag, const char *value, bool *used_value)
{
    app_t *app = state;
    if (strcmp(flag, "concurrent-statefulset-syncs") != 0) return WORKER_FLAG_UNKNOWN;
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
    static const char *const resources[] = { "statefulsets", "pods", "persistentvolumeclaims",
                                             "controllerrevisions", NULL };
    app->ctrl = sts_ctrl_new();
    if (!app->ctrl) return 1;
    ctrl_config_t cfg = {
        .controller = "statefulset", .component = "statefulset-controller", .resources = resources,
        .primary = "statefulsets", .sync = sts_sync, .ud = app->ctrl, .concurrent_syncs = app->concurrent,
    };
    ctrl_runtime_t *rt = ctrl_runtime_new(w, &cfg);
    if (!rt || sts_ctrl_attach(app->ctrl, rt) < 0) {
        ctrl_runtime_destroy(&rt);
        sts_ctrl_destroy(&app->ctrl);
        return 1;
    }
    int rc = ctrl_run(rt);
    ctrl_runtime_destroy(&rt);
    sts_ctrl_destroy(&app->ctrl);
    return rc;
}

int main(int argc, char **argv)
{
    static app_t app;
    worker_hooks_t hooks = {
        .name = "statefulset",
        .usage = "  --concurrent-statefulset-syncs=N  StatefulSets synced at once (default: --concurrent-syncs, 5)\n",
        .parse_flag = parse_flag,
        .run = run,
        .state = &app,
    };
    return worker_main(argc, argv, &hooks);
}
