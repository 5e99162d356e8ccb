/* worker.h - the skeleton every kubus process stands on (Postfix's
 * single_server_main idea): flags, logging, signals, the supervisor link,
 * heartbeats and a clean exit. A process's main() fills a worker_hooks_t and
 * calls worker_main().
 *
 * Common flags (the supervisor passes them; every worker accepts them):
 *   --name=NAME              worker name as the supervisor knows it
 *   --generation=N           how many times the supervisor has started it (1..)
 *   --status-fd=FD           pipe to the supervisor for heartbeats (-1: none)
 *   --metrics-fd=FD          file for the process's metrics text (metricsfd.h; -1: none)
 *   --bus-dir=DIR|tcp://H:P  bus location (bus.h)
 *   --kubeconfig=PATH --master=URL
 *   --kube-api-qps=F --kube-api-burst=N
 *   --concurrent-syncs=N     this controller's --concurrent-<kind>-syncs
 *   --shard-index=I --shard-count=N
 *   --feature-gates=Name=BOOL,...  (featuregate.h; the supervisor passes the ones set)
 *   the logging flags of logcfg.h: -v=N / --v=N, --logging-format=text|json,
 *   --vmodule=PATTERN=N,..., --log-text-split-stream, --log-json-split-stream
 *   --help
 * Flags take "--flag=value" or "--flag value". Anything else is offered to
 * hooks->parse_flag; an unknown flag or bad value prints usage, exits 2.
 *
 * Heartbeats: Heartbeat envelopes, each framed by a 4-byte big-endian length,
 * written (non-blocking) to the status fd about once a second from
 * worker_tick(). The supervisor treats silence as a hang.
 *
 * Death of the supervisor: PR_SET_PDEATHSIG(SIGTERM) plus a getppid() check
 * in worker_tick(), so no worker outlives it.
 *
 * Signals: SIGTERM/SIGINT request a stop (worker_tick returns false),
 * SIGHUP requests a reload (worker_reload_requested), SIGPIPE ignored.
 */
#ifndef KUBUS_WORKER_H
#define KUBUS_WORKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bus.h"
#include "featuregate.h"
#include "log.h"
#include "logcfg.h"
#include "sbuf.h"

typedef struct worker worker_t;

typedef struct {
    char name[64];
    uint32_t generation;
    int status_fd;
    int metrics_fd;           /* --metrics-fd, -1: none */
    bus_config_t bus;
    char kubeconfig[1024];
    char master[512];
    double kube_api_qps;      /* default 20 */
    int kube_api_burst;       /* default 30 */
    int concurrent_syncs;     /* default 5 */
    int shard_index;          /* default 0 */
    int shard_count;          /* default 1 */
    logcfg_t log;
    fg_set_t feature_gates;   /* --feature-gates: ask with fg_enabled_name() */
} worker_opts_t;

/* Return values for parse_flag. `flag` is the name without its dashes
 * ("resync-period" for --resync-period=1m); `value` is the text after '=' or
 * else the next argument (set *used_value when you consumed that one). */
#define WORKER_FLAG_OK 0
#define WORKER_FLAG_UNKNOWN 1
#define WORKER_FLAG_BAD (-1)

typedef struct {
    const char *name;          /* default worker name, e.g. "informer" */
    const char *logger;        /* JSON "logger" name from the first line on (NULL: the worker name) */
    const char *usage;         /* extra usage lines for the process's own flags */
    /* value is NULL for a flag given without "=value" and with no next arg. */
    int (*parse_flag)(void *state, const char *flag, const char *value, bool *used_value);
    int (*init)(worker_t *w, void *state);   /* 0 ok; non-zero: exit 1 */
    /* The main loop. It must call worker_tick() at least every 500 ms and
     * return when it returns false. Its return value is the exit code. */
    int (*run)(worker_t *w, void *state);
    /* After run; not called when init failed (init cleans up after itself).
     * Must close every ZeroMQ socket: worker_main then terminates the context. */
    void (*fini)(worker_t *w, void *state);
    void *state;
} worker_hooks_t;

int worker_main(int argc, char **argv, const worker_hooks_t *hooks);

/* Heartbeat when due; false once a stop was requested (signal or orphaned). */
bool worker_tick(worker_t *w);
/* Ms until the next heartbeat is due (0: now): the longest a loop may wait
 * before its next worker_tick. */
uint64_t worker_ms_until_heartbeat(const worker_t *w);
bool worker_stopping(const worker_t *w);
void worker_request_stop(worker_t *w);
/* True once per SIGHUP received. */
bool worker_reload_requested(worker_t *w);

void worker_set_ready(worker_t *w, bool ready);

/* Metrics: with --metrics-fd, every source's Prometheus text (promtext.h)
 * is published there with each heartbeat, sources in the order added (at
 * most WORKER_METRICS_MAX; -1 beyond). worker_clear_metrics drops them all
 * (before what they render is freed). */
#define WORKER_METRICS_MAX 8
typedef void (*worker_metrics_fn)(void *ud, sbuf_t *out);
int worker_add_metrics(worker_t *w, worker_metrics_fn fn, void *ud);
void worker_clear_metrics(worker_t *w);
void worker_set_progress(worker_t *w, uint64_t sequence);

void *worker_zctx(worker_t *w);          /* the process's one ZeroMQ context */
const worker_opts_t *worker_opts(const worker_t *w);

/* Monotonic clock helpers every process uses for timers. */
uint64_t now_mono_ms(void);
uint64_t now_unix_ms(void);
/* Milliseconds from now until due: 0 once it is past, and at most INT_MAX,
 * so any result is a valid poll timeout (an unset UINT64_MAX "never"
 * included). Callers cap it themselves. */
uint64_t ms_until(uint64_t due, uint64_t now);

/* ---- The supervisor link and option parsing, exposed for the supervisor
 * and for tests. ---- */

#define WORKER_HEARTBEAT_MS 1000
/* Largest heartbeat frame (length prefix included). A pipe write of at most
 * PIPE_BUF bytes is atomic, so a frame is never interleaved or split. */
#define WORKER_HB_FRAME_MAX 1024

/* Every option at its default; name as given (may be NULL). */
void worker_opts_defaults(worker_opts_t *o, const char *name);
/* Parses argv[1..] the way worker_main does (common flags first, the rest
 * offered to hooks->parse_flag; hooks may be NULL). Checks the values but not
 * that --status-fd is open. Returns 0, 1 when --help was asked for, or -1
 * with a message in err that names the flag and says why. */
int worker_opts_parse(worker_opts_t *o, int argc, char **argv, const worker_hooks_t *hooks,
                      char *err, size_t errlen);
/* The default --bus-dir: $XDG_RUNTIME_DIR/kubus, else /tmp/kubus-<uid>.
 * 0, or -1 if it would not fit. */
int worker_default_bus_dir(char *out, size_t outlen);

/* Heartbeat framing on the status pipe: [4-byte big-endian length][Envelope].
 * worker_heartbeat_frame writes one frame into out and returns its size, or
 * -1 if hb is invalid or it would not fit.
 * worker_heartbeat_unframe looks at the start of buf: returns the bytes one
 * complete frame takes (> 0) and sets *out to its envelope (a heartbeat;
 * free with msg_free), 0 when more bytes are needed, or -1 when the bytes
 * are not a heartbeat frame (reason in err; the stream cannot be trusted). */
int worker_heartbeat_frame(const msg_heartbeat_t *hb, uint8_t *out, size_t outlen);
int worker_heartbeat_unframe(const uint8_t *buf, size_t len, msg_envelope_t **out, char *err,
                             size_t errlen);

/* Test hooks, read from the environment by worker_main (integration tests):
 *   KUBUS_TEST_CRASH_AT_START=<name>  the worker of that name exits 1 at start
 *   KUBUS_TEST_HANG=<name>            it stops heartbeating once it is ready */
#define WORKER_ENV_CRASH_AT_START "KUBUS_TEST_CRASH_AT_START"
#define WORKER_ENV_HANG "KUBUS_TEST_HANG"

#endif
