/* spawn.c - fork+exec of one worker. See spawn.h. */
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "log.h"
#include "metricsfd.h"

/* Closes every descriptor above last (the highest one passed on):
 * whatever the supervisor holds or inherited without close-on-exec (its
 * Lease connection, clients of its port, a descriptor its own parent
 * leaked) is none of a worker's business. close_range(2), or a loop up to
 * max_fd where the kernel lacks it (before 5.9). Async-signal-safe. */
static void close_inherited(unsigned last, unsigned max_fd)
{
    if (close_range(last + 1, ~0U, 0) == 0) return;
    for (unsigned fd = last + 1; fd < max_fd; fd++) (void)close((int)fd);
}

/* Runs in the child between fork and exec: async-signal-safe calls only. */
static void exec_child(const char *path, char *const argv[], int status_wr, int metrics, unsigned max_fd)
{
    /* out of the way first: the status pipe's dup2 may land on its number */
    int m = metrics >= 0 ? fcntl(metrics, F_DUPFD_CLOEXEC, 10) : -1;
    if (metrics >= 0 && m < 0) _exit(126);
    (void)setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    (void)sigprocmask(SIG_SETMASK, &none, NULL);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    (void)sigaction(SIGPIPE, &dfl, NULL);
    if (status_wr == SUP_STATUS_FD) {
        if (fcntl(status_wr, F_SETFD, 0) < 0) _exit(126);
    } else if (dup2(status_wr, SUP_STATUS_FD) < 0) {
        _exit(126);
    }
    if (m >= 0 && dup2(m, SUP_METRICS_FD) < 0) _exit(126);
    close_inherited(m >= 0 ? SUP_METRICS_FD : SUP_STATUS_FD, max_fd);
    execv(path, argv);
    _exit(127);
}

/* A new metrics file for this run (the last run's series go with its file). */
static void new_metrics_file(sup_worker_t *w)
{
    if (w->metrics_fd >= 0) close(w->metrics_fd);
    w->metrics_fd = metricsfd_create(w->comp->name);
    if (w->metrics_fd < 0)
        LOGW("no metrics file for the worker; it runs without metrics", "worker", w->comp->name, "error",
             strerror(errno));
}

static void drop_metrics_file(sup_worker_t *w)
{
    if (w->metrics_fd >= 0) close(w->metrics_fd);
    w->metrics_fd = -1;
}

int sup_spawn(sup_worker_t *w, const sup_config_t *c, uint64_t now_ms)
{
    sup_argv_t args;
    w->generation++;
    new_metrics_file(w);
    if (sup_argv_build(&args, c, w, SUP_STATUS_FD) < 0) {
        LOGE("worker command line too long", "worker", w->comp->name);
        w->generation--;
        drop_metrics_file(w);
        return -1;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
        LOGE("pipe2 failed", "worker", w->comp->name, "error", strerror(errno));
        w->generation--;
        drop_metrics_file(w);
        return -1;
    }
    struct rlimit rl;   /* for close_inherited's fallback: not callable after fork */
    unsigned max_fd = getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < 65536
                          ? (unsigned)rl.rlim_cur : 65536u;
    pid_t pid = fork();
    if (pid == 0) exec_child(w->path, args.argv, p[1], w->metrics_fd, max_fd);
    int saved = errno;
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        LOGE("fork failed", "worker", w->comp->name, "error", strerror(saved));
        w->generation--;
        drop_metrics_file(w);
        return -1;
    }
    w->pid = pid;
    w->status_fd = p[0];
    w->hblen = 0;
    w->started_ms = w->heard_ms = now_ms;
    w->ready_ms = 0;
    w->reported_ready = w->hung = w->killed = false;
    if (w->initial) w->first_start_ms = now_ms;
    w->initial = false;
    char spid[16], gen[16];
    snprintf(spid, sizeof spid, "%d", (int)pid);
    snprintf(gen, sizeof gen, "%u", w->generation);
    LOGI("worker started", "worker", w->comp->name, "pid", spid, "generation", gen);
    return 0;
}
