/* main.c - kubus-garbagecollector: cascading deletion by ownerReferences
 * (upstream's garbage-collector-controller), one process on the kubus bus.
 *
 * Owns: the process shell - flags, the runtime's construction and teardown.
 * Everything else is in gc_ctl.c and the core it drives.
 * --concurrent-syncs (the supervisor passes --concurrent-gc-syncs as it)
 * defaults to 20 here, upstream's default for the garbage collector.
 */
#include <stdlib.h>
#include <string.h>

#include "ctrl/runtime.h"
#include "gc_ctl.h"
#include "log.h"
#include "worker.h"

typedef struct {
    int concurrent;   /* 0: the worker's --concurrent-syncs */
} gc_main_t;

/* --concurrent-gc-syncs is accepted too, for people starting the process by hand. */
static int parse_flag(void *state, const char *flag, const char *value, bool *used_value)
{
    gc_main_t *st = state;
    if (strcmp(flag, "concurrent-gc-syncs") != 0) return WORKER_FLAG_UNKNOWN;
    if (!value) return WORKER_FLAG_BAD;
    char *end = NULL;
    long v = strtol(value, &end, 10);
    if (!end || *end || v < 1 || v > 10000) return WORKER_FLAG_BAD;
    st->concurrent = (int)v;
    *used_value = true;
    return WORKER_FLAG_OK;
}

static int run(worker_t *w, void *state)
{
    gc_main_t *st = state;
    gc_ctl_t *gc = gc_ctl_new();
    if (!gc) {
        LOGE("garbage collector: out of memory");
        return 1;
    }
    ctrl_config_t cfg;
    gc_ctl_config(gc, &cfg, st->concurrent);
    ctrl_runtime_t *rt = ctrl_runtime_new(w, &cfg);
    int rc = 1;
    if (rt && gc_ctl_attach(gc, rt) == 0) rc = ctrl_run(rt);
    ctrl_runtime_destroy(&rt);   /* first: no result callback may run after this */
    gc_ctl_destroy(&gc);
    return rc;
}

static bool flag_given(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        while (*a == '-') a++;
        if (strncmp(a, name, n) == 0 && (a[n] == '\0' || a[n] == '=')) return true;
    }
    return false;
}

int main(int argc, char **argv)
{
    gc_main_t st = {0};
    if (!flag_given(argc, argv, "concurrent-syncs")) st.concurrent = GC_DEFAULT_CONCURRENT_SYNCS;
    worker_hooks_t hooks = {
        .name = GC_CONTROLLER,
        .usage = "  --concurrent-gc-syncs=N   same as --concurrent-syncs (default 20 here)\n",
        .parse_flag = parse_flag,
        .run = run,
        .state = &st,
    };
    return worker_main(argc, argv, &hooks);
}
