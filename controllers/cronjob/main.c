/* main.c - kubus-cronjob: the CronJob controller process.
 *
 * Owns: flags and wiring only: a worker (lib/worker.h) whose run() builds
 * the controller runtime over cronjobs + jobs and hands it cj_sync.
 * Flags: the worker's, plus --concurrent-cron-job-syncs=N (alias of
 * --concurrent-syncs, as kube-controller-manager spells it; default:
 * upstream's, ctrl/concurrency.h).
 */
#include "ctrl/concurrency.h"
#include "ctrl/process.h"
#include "cj_sync.h"

static int create(ctrl_config_t *cfg, void **state)
{
    static const char *const resources[] = { "cronjobs", "jobs", NULL };
    cj_ctrl_t *c = cj_ctrl_new();
    *cfg = (ctrl_config_t){ .controller = "cronjob", .resources = resources,
                            .primary = "cronjobs", .sync = cj_sync, .ud = c };
    *state = c;
    return c ? 0 : -1;
}

static int attach(void *state, ctrl_runtime_t *rt) { return cj_ctrl_attach(state, rt); }

static void destroy(void *state)
{
    cj_ctrl_t *c = state;
    cj_ctrl_destroy(&c);
}

int main(int argc, char **argv)
{
    static const ctrl_process_t proc = {
        .name = "cronjob", .component = "cronjob-controller", .queue_name = "cronjob",
        .concurrent_flag = "concurrent-cron-job-syncs",
        .usage = "  --concurrent-cron-job-syncs=N  CronJobs synced at once (default "
                 CTRL_STR(CTRL_CONCURRENT_CRON_JOB_SYNCS) ")\n",
        .default_concurrent = CTRL_CONCURRENT_CRON_JOB_SYNCS,
        .create = create, .attach = attach, .destroy = destroy,
    };
    return ctrl_process_main(argc, argv, &proc);
}
