/* spawn.h - starting one worker process.
 *
 * Owns: fork+exec of a worker with its status pipe. The pipe is made with
 * pipe2(O_CLOEXEC|O_NONBLOCK); in the child its write end is dup2'ed to
 * SUP_STATUS_FD and a new metrics file (metricsfd.h) to SUP_METRICS_FD
 * (dup2 clears close-on-exec; without a memfd the worker runs without
 * metrics) and every descriptor above them is closed (close_range), so a
 * worker inherits stdio, its status pipe and its metrics file only,
 * whatever the supervisor holds or inherited; the signal mask and SIGPIPE disposition are
 * reset (both survive exec), and the child gets its own process group so a
 * terminal's Ctrl-C reaches only the supervisor, which stops workers in
 * order. Between fork and exec only async-signal-safe calls are made: the
 * argv is built before the fork. Call from the main thread only.
 */
#ifndef KUBUS_SUP_SPAWN_H
#define KUBUS_SUP_SPAWN_H

#include <stdint.h>

#include "config.h"
#include "table.h"

#define SUP_STATUS_FD 3
_Static_assert(SUP_METRICS_FD == SUP_STATUS_FD + 1, "table.h's SUP_METRICS_FD");

/* Increments w's generation and starts it. On success sets pid, status_fd,
 * metrics_fd and the start timers and returns 0; -1 (logged) if nothing was started. */
int sup_spawn(sup_worker_t *w, const sup_config_t *c, uint64_t now_ms);

#endif
