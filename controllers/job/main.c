/* main.c - kubus-job: the Job controller process.
 *
 * Owns: flags and wiring only: a worker (lib/worker.h) whose run() builds
 * the controller runtime from job_ctrl_config (jobs + pods, job_sync,
 * the Job controller's queue back-off).
 * Flags: the worker's, plus --concurrent-job-syncs=N (alias of
 * --concurrent-syncs, as kube-controller-manager spells it; default 5).
 */
#include "ctrl/process.h"
#include "job_sync.h"

static int create(ctrl_config_t *cfg, void **state)
{
    job_ctrl_t *c = job_ctrl_new();
    if (c) job_ctrl_config(c, cfg);
    *state = c;
    return c ? 0 : -1;
}

static int attach(void *state, ctrl_runtime_t *rt) { return job_ctrl_attach(state, rt); }

static void destroy(void *state)
{
    job_ctrl_t *c = state;
    job_ctrl_destroy(&c);
}

int main(int argc, char **argv)
{
    static const ctrl_process_t proc = {
        .name = "job", .component = "job-controller", .queue_name = "job",
        .concurrent_flag = "concurrent-job-syncs",
        .usage = "  --concurrent-job-syncs=N  Jobs synced at once (default: --concurrent-syncs, 5)\n",
        .create = create, .attach = attach, .destroy = destroy,
    };
    return ctrl_process_main(argc, argv, &proc);
}
