/* main.c - kubus-daemonset: the DaemonSet controller process.
 *
 * Owns: flags and wiring only: a ctrl_process_t (ctrl/process.h) that builds
 * the controller runtime over daemonsets + pods + nodes +
 * controllerrevisions and hands it ds_sync.
 * Flags: the worker's, plus --concurrent-daemonset-syncs=N (alias of
 * --concurrent-syncs, as kube-controller-manager spells it; default:
 * upstream's, ctrl/concurrency.h).
 */
#include "ctrl/concurrency.h"
#include "ctrl/process.h"
#include "ds_sync.h"

static int create(ctrl_config_t *cfg, void **state)
{
    static const char *const resources[] = { DS_RESOURCE, DS_POD_RESOURCE, DS_NODE_RESOURCE, DS_CR_RESOURCE, NULL };
    ds_ctrl_t *c = ds_ctrl_new();
    *cfg = (ctrl_config_t){ .controller = "daemonset", .resources = resources,
                            .primary = DS_RESOURCE, .sync = ds_sync, .ud = c,
                            .stored_routes_only = true };   /* pod handlers route to owners only */
    *state = c;
    return c ? 0 : -1;
}

static int attach(void *state, ctrl_runtime_t *rt) { return ds_ctrl_attach(state, rt); }

static void destroy(void *state)
{
    ds_ctrl_t *c = state;
    ds_ctrl_destroy(&c);
}

int main(int argc, char **argv)
{
    static const ctrl_process_t proc = {
        .name = "daemonset", .component = "daemonset-controller", .queue_name = "daemonset",
        .concurrent_flag = "concurrent-daemonset-syncs",
        .usage = "  --concurrent-daemonset-syncs=N  DaemonSets synced at once (default "
                 CTRL_STR(CTRL_CONCURRENT_DAEMONSET_SYNCS) ")\n",
        .default_concurrent = CTRL_CONCURRENT_DAEMONSET_SYNCS,
        .create = create, .attach = attach, .destroy = destroy,
    };
    return ctrl_process_main(argc, argv, &proc);
}
