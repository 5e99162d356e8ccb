/* main.c - kubus-statefulset: the StatefulSet controller process.
 *
 * Owns: flags and wiring only: a ctrl_process_t (ctrl/process.h) that builds
 * the controller runtime over statefulsets, pods, persistentvolumeclaims
 * and controllerrevisions and hands it sts_sync.
 * Flags: the worker's, plus --concurrent-statefulset-syncs=N (alias of
 * --concurrent-syncs, as kube-controller-manager spells it; default:
 * upstream's, ctrl/concurrency.h).
 */
#include "ctrl/concurrency.h"
#include "ctrl/process.h"
#include "sts_sync.h"

static int create(ctrl_config_t *cfg, void **state)
{
    static const char *const resources[] = { "statefulsets", "pods", "persistentvolumeclaims", "controllerrevisions", NULL };
    sts_ctrl_t *c = sts_ctrl_new();
    *cfg = (ctrl_config_t){ .controller = "statefulset", .resources = resources,
                            .primary = "statefulsets", .sync = sts_sync, .ud = c,
                            .stored_routes_only = true };   /* pod handlers route to owners only */
    *state = c;
    return c ? 0 : -1;
}

static int attach(void *state, ctrl_runtime_t *rt) { return sts_ctrl_attach(state, rt); }

static void destroy(void *state)
{
    sts_ctrl_t *c = state;
    sts_ctrl_destroy(&c);
}

int main(int argc, char **argv)
{
    static const ctrl_process_t proc = {
        .name = "statefulset", .component = "statefulset-controller", .queue_name = "statefulset",
        .concurrent_flag = "concurrent-statefulset-syncs",
        .usage = "  --concurrent-statefulset-syncs=N  StatefulSets synced at once (default "
                 CTRL_STR(CTRL_CONCURRENT_STATEFULSET_SYNCS) ")\n",
        .default_concurrent = CTRL_CONCURRENT_STATEFULSET_SYNCS,
        .create = create, .attach = attach, .destroy = destroy,
    };
    return ctrl_process_main(argc, argv, &proc);
}
