/* main.c - kubus-garbagecollector: cascading deletion by ownerReferences
 * (upstream's garbage-collector-controller), one process on the kubus bus.
 *
 * Owns: the process shell - flags, the runtime's construction and teardown.
 * Everything else is in gc_ctl.c and the core it drives.
 * --concurrent-syncs (the supervisor passes --concurrent-gc-syncs as it)
 * defaults to 20 here, upstream's default for the garbage collector.
 */
#include "ctrl/process.h"
#include "gc_ctl.h"

static int create(ctrl_config_t *cfg, void **state)
{
    gc_ctl_t *gc = gc_ctl_new();
    if (gc) gc_ctl_config(gc, cfg, 0);
    *state = gc;
    return gc ? 0 : -1;
}

static int attach(void *state, ctrl_runtime_t *rt) { return gc_ctl_attach(state, rt); }

static void destroy(void *state)
{
    gc_ctl_t *gc = state;
    gc_ctl_destroy(&gc);
}

int main(int argc, char **argv)
{
    static const ctrl_process_t proc = {
        .name = GC_CONTROLLER, .component = GC_COMPONENT, .concurrent_flag = "concurrent-gc-syncs",
        .queue_name = "garbage_collector_attempt_to_delete",
        .usage = "  --concurrent-gc-syncs=N   same as --concurrent-syncs (default 20 here)\n",
        .default_concurrent = GC_DEFAULT_CONCURRENT_SYNCS,
        .create = create, .attach = attach, .destroy = destroy,
    };
    return ctrl_process_main(argc, argv, &proc);
}
