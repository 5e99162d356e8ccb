/* main.c - kubus-ttlafterfinished: the TTL-after-finished controller process.
 *
 * Owns: flags and wiring only: a worker (lib/worker.h) whose run() builds
 * the controller runtime over jobs and hands it ttl_sync.
 * Flags: the worker's, plus --concurrent-ttl-after-finished-syncs=N
 * (alias of --concurrent-syncs, as kube-controller-manager spells it;
 * default: upstream's, ctrl/concurrency.h).
 */
#include "ctrl/concurrency.h"
#include "ctrl/process.h"
#include "ttl_sync.h"

static int create(ctrl_config_t *cfg, void **state)
{
    static const char *const resources[] = { "jobs", NULL };
    *cfg = (ctrl_config_t){ .controller = "ttl-after-finished", .resources = resources,
                            .primary = "jobs", .sync = ttl_sync };
    *state = NULL;   /* stateless: the cache is all it needs */
    return 0;
}

static int attach(void *state, ctrl_runtime_t *rt)
{
    (void)state;
    return ttl_attach(rt);
}

int main(int argc, char **argv)
{
    static const ctrl_process_t proc = {
        .name = "ttl-after-finished", .component = "ttl-after-finished-controller",
        .queue_name = "ttl_jobs_to_delete",
        .concurrent_flag = "concurrent-ttl-after-finished-syncs",
        .usage = "  --concurrent-ttl-after-finished-syncs=N  finished Jobs checked at once (default "
                 CTRL_STR(CTRL_CONCURRENT_TTL_AFTER_FINISHED_SYNCS) ")\n",
        .default_concurrent = CTRL_CONCURRENT_TTL_AFTER_FINISHED_SYNCS,
        .create = create, .attach = attach,
    };
    return ctrl_process_main(argc, argv, &proc);
}
