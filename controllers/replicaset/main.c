/* main.c - kubus-replicaset: the ReplicaSet controller process.
 *
 * Owns: flags and wiring only: a ctrl_process_t (ctrl/process.h) that builds
 * the controller runtime over replicasets + pods and hands it rs_sync.
 * Flags: the worker's, plus --concurrent-replicaset-syncs=N (alias of
 * --concurrent-syncs, as kube-controller-manager spells it; default:
 * upstream's, ctrl/concurrency.h).
 */
#include "ctrl/concurrency.h"
#include "ctrl/process.h"
#include "rs_sync.h"

static int create(ctrl_config_t *cfg, void **state)
{
    static const char *const resources[] = { "replicasets", "pods", NULL };
    rs_ctrl_t *c = rs_ctrl_new();
    *cfg = (ctrl_config_t){ .controller = "replicaset", .resources = resources,
                            .primary = "replicasets", .sync = rs_sync, .ud = c,
                            .stored_routes_only = true };   /* pod handlers route to owners only */
    *state = c;
    return c ? 0 : -1;
}

static int attach(void *state, ctrl_runtime_t *rt) { return rs_ctrl_attach(state, rt); }

static void destroy(void *state)
{
    rs_ctrl_t *c = state;
    rs_ctrl_destroy(&c);
}

int main(int argc, char **argv)
{
    static const ctrl_process_t proc = {
        .name = "replicaset", .component = "replicaset-controller", .queue_name = "replicaset",
        .concurrent_flag = "concurrent-replicaset-syncs",
        .usage = "  --concurrent-replicaset-syncs=N  ReplicaSets synced at once (default "
                 CTRL_STR(CTRL_CONCURRENT_REPLICASET_SYNCS) ")\n",
        .default_concurrent = CTRL_CONCURRENT_REPLICASET_SYNCS,
        .create = create, .attach = attach, .destroy = destroy,
    };
    return ctrl_process_main(argc, argv, &proc);
}
