/* main.c - kubus-informer: list+watch the API server, publish every change on
 * the bus, serve snapshots. A worker_main program; see informer.h. */
#include "informer.h"

static informer_t g_informer;

int main(int argc, char **argv)
{
    const worker_hooks_t hooks = {
        .name = "informer",
        .usage = "  --resources=LIST           resources to watch (default " INFORMER_DEFAULT_RESOURCES ")\n"
                 "  --page-size=N              list page size (default 500)\n"
                 "  --stats-file=PATH          write request/sequence counters as JSON every second\n"
                 "  --replay-bytes=N           replay ring budget, all resources (default 33554432)\n",
        .parse_flag = informer_parse_flag,
        .init = informer_init,
        .run = informer_run,
        .fini = informer_fini,
        .state = &g_informer,
    };
    return worker_main(argc, argv, &hooks);
}
