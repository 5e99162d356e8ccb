/* process.c - the shared main() of controller processes. See ctrl/process.h. */
#include "ctrl/process.h"

#include <string.h>

#include "flags.h"
#include "log.h"
#include "worker.h"

typedef struct {
    const ctrl_process_t *p;
    int concurrent;               /* 0: the worker's --concurrent-syncs */
} app_t;

static int parse_flag(void *state, const char *flag, const char *value, bool *used_value)
{
    app_t *app = state;
    if (!app->p->concurrent_flag || strcmp(flag, app->p->concurrent_flag) != 0) return WORKER_FLAG_UNKNOWN;
    long n;
    char err[256];
    if (flags_long(flag, value, 1, 10000, &n, err, sizeof err) < 0) return WORKER_FLAG_BAD;
    app->concurrent = (int)n;
    *used_value = true;
    return WORKER_FLAG_OK;
}

static void render_queue(void *ud, sbuf_t *out) { workqueue_metrics_render(ud, out); }

/* The queue's metrics from now on; a failure costs the metrics only. */
static void queue_metrics(worker_t *w, ctrl_runtime_t *rt, const char *name)
{
    if (!name) return;
    if (workqueue_set_name(ctrl_queue(rt), name) < 0 || worker_add_metrics(w, render_queue, ctrl_queue(rt)) < 0)
        LOGW("no work queue metrics", "queue", name);
}

static int run(worker_t *w, void *state)
{
    app_t *app = state;
    const ctrl_process_t *p = app->p;
    ctrl_config_t cfg = { 0 };
    void *st = NULL;
    if (p->create(&cfg, &st) < 0) {
        LOGE("cannot build the controller's state", "controller", p->name);
        return 1;
    }
    cfg.concurrent_syncs = app->concurrent;
    if (!cfg.component) cfg.component = p->component;
    ctrl_runtime_t *rt = ctrl_runtime_new(w, &cfg);
    int rc = 1;
    if (rt) queue_metrics(w, rt, p->queue_name);
    if (rt && (!p->attach || p->attach(st, rt) == 0)) rc = ctrl_run(rt);
    worker_clear_metrics(w);     /* they read the queue */
    ctrl_runtime_destroy(&rt);   /* first: no result callback may run after this */
    if (p->destroy) p->destroy(st);
    return rc;
}

/* Was --name given (as --name=V, --name V or -name...)? */
static bool flag_given(int argc, char **argv, const char *name)
{
    size_t n = strlen(name);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (*a != '-') continue;
        while (*a == '-') a++;
        if (strncmp(a, name, n) == 0 && (a[n] == '\0' || a[n] == '=')) return true;
    }
    return false;
}

int ctrl_process_main(int argc, char **argv, const ctrl_process_t *p)
{
    static app_t app;
    app.p = p;
    if (p->default_concurrent > 0 && !flag_given(argc, argv, "concurrent-syncs"))
        app.concurrent = p->default_concurrent;
    worker_hooks_t hooks = {
        .name = p->name,
        .logger = p->component,
        .usage = p->usage,
        .parse_flag = parse_flag,
        .run = run,
        .state = &app,
    };
    return worker_main(argc, argv, &hooks);
}
