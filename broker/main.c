/* main.c - kubus-broker: the bus's switchboard, as a worker_main program.
 * It has no flags of its own; see broker.h for what it forwards. */
#include <stddef.h>

#include "broker.h"
#include "worker.h"

static broker_t g_broker;

static int broker_init(worker_t *w, void *state)
{
    broker_t *b = state;
    return broker_open(b, worker_zctx(w), &worker_opts(w)->bus);
}

static int broker_loop(worker_t *w, void *state) { return broker_run(state, w); }

static void broker_fini(worker_t *w, void *state)
{
    (void)w;
    broker_close(state);
}

int main(int argc, char **argv)
{
    const worker_hooks_t hooks = {
        .name = "broker",
        .usage = "  (none: the broker takes only the common flags)",
        .parse_flag = NULL,
        .init = broker_init,
        .run = broker_loop,
        .fini = broker_fini,
        .state = &g_broker,
    };
    return worker_main(argc, argv, &hooks);
}
