/* main.c - kubus-executor: the only process that writes to the API server.
 * A worker_main program; its flags, sockets and loop are exec_loop.h's. */
#include "exec_loop.h"

static executor_t g_executor;

int main(int argc, char **argv)
{
    executor_defaults(&g_executor);
    const worker_hooks_t hooks = {
        .name = "executor",
        .usage = executor_usage,
        .parse_flag = executor_parse_flag,
        .init = executor_init,
        .run = executor_run,
        .fini = executor_fini,
        .state = &g_executor,
    };
    return worker_main(argc, argv, &hooks);
}
