/* main.c - kubus-deployment: the Deployment controller process.
 *
 * Owns: flags and wiring only: a ctrl_process_t (ctrl/process.h) that builds
 * the controller runtime over deployments + replicasets + pods and hands it
 * dep_sync. Flags: the worker's, plus --concurrent-deployment-syncs=N (alias
 * of --concurrent-syncs, as kube-controller-manager spells it; default:
 * upstream's, ctrl/concurrency.h).
 */
#include "ctrl/concurrency.h"
#include "ctrl/process.h"
#include "dep_ctrl.h"

static int create(ctrl_config_t *cfg, void **state)
{
    static const char *const resources[] = { "deployments", "replicasets", "pods", NULL };
    dep_ctrl_t *c = dep_ctrl_new();
    *cfg = (ctrl_config_t){ .controller = "deployment", .resources = resources,
                            .primary = "deployments", .sync = dep_sync, .ud = c,
                            .stored_routes_only = true };   /* pod handlers route to owners only */
    *state = c;
    return c ? 0 : -1;
}

static int attach(void *state, ctrl_runtime_t *rt) { return dep_ctrl_attach(state, rt); }

static void destroy(void *state)
{
    dep_ctrl_t *c = state;
    dep_ctrl_destroy(&c);
}

int main(int argc, char **argv)
{
    static const ctrl_process_t proc = {
        .name = "deployment", .component = "deployment-controller", .queue_name = "deployment",
        .concurrent_flag = "concurrent-deployment-syncs",
        .usage = "  --concurrent-deployment-syncs=N  Deployments synced at once (default "
                 CTRL_STR(CTRL_CONCURRENT_DEPLOYMENT_SYNCS) ")\n",
        .default_concurrent = CTRL_CONCURRENT_DEPLOYMENT_SYNCS,
        .create = create, .attach = attach, .destroy = destroy,
    };
    return ctrl_process_main(argc, argv, &proc);
}
