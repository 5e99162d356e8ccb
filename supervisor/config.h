/* config.h - kubus-controller-manager's configuration: flags and --config file.
 *
 * Owns: every supervisor flag (named after kube-controller-manager's where one
 * exists), its default and its checks, the --controllers list semantics, and
 * the optional YAML file whose keys are the flag names. Precedence: defaults,
 * then the file, then the command line. Loading is pure apart from reading
 * the file and looking at --bin-dir, so SIGHUP can simply load again.
 *
 * --controllers (upstream semantics): a comma list where "*" enables every
 * controller that is on by default, "foo" enables foo and "-foo" disables it;
 * the first mention of a controller wins; names are upstream's
 * ("replicaset-controller") or the short alias ("replicaset"); an unknown
 * name is an error. Default "*".
 *
 * Every other kube-controller-manager v1.36 flag is accepted too: the ones
 * kubus cannot act on are checked by type and noted (kcmflags.h). Flag
 * names may use '_' for '-', as upstream's do.
 */
#ifndef KUBUS_SUP_CONFIG_H
#define KUBUS_SUP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "components.h"
#include "featuregate.h"
#include "kcmflags.h"
#include "logcfg.h"

#define SUP_DEFAULT_PORT 10267
#define SUP_DEFAULT_WORKER_TIMEOUT_MS 10000u
#define SUP_DEFAULT_LEASE_MS 15000u
#define SUP_DEFAULT_RENEW_DEADLINE_MS 10000u
#define SUP_DEFAULT_RETRY_PERIOD_MS 2000u

typedef struct {
    char kubeconfig[1024];
    char master[512];
    double kube_api_qps;
    int kube_api_burst;
    char controllers[1024];                 /* as given */
    bool enabled[SUP_COMPONENT_COUNT];      /* infra: always true */
    int concurrency[SUP_COMPONENT_COUNT];   /* controllers only */
    bool leader_elect;
    uint64_t leader_elect_lease_ms;         /* --leader-elect-lease-duration */
    uint64_t leader_elect_renew_ms;         /* --leader-elect-renew-deadline */
    uint64_t leader_elect_retry_ms;         /* --leader-elect-retry-period */
    char leader_elect_namespace[64];        /* --leader-elect-resource-namespace */
    char leader_elect_name[254];            /* --leader-elect-resource-name; "": kubus-shard-I-of-N */
    logcfg_t log;                           /* -v, --logging-format, --vmodule, ... */
    fg_set_t feature_gates;                 /* --feature-gates, passed on to every worker */
    bool enable_gc;                         /* --enable-garbage-collector (default true) */
    int version;                            /* --version: 0 no, 1 yes, 2 raw */
    bool kcm_given[KCM_IGNORED_COUNT];      /* upstream flags accepted without effect */
    char bus_dir[256];
    int shard_index, shard_count;
    char bind_address[64];
    int port;                               /* 0: no HTTP */
    uint64_t worker_timeout_ms;
    char bin_dir[1024];
    char config_file[1024];
} sup_config_t;

typedef enum {
    SUP_CONFIG_OK = 0,
    SUP_CONFIG_HELP = 1,
    SUP_CONFIG_VERSION = 2,     /* --version or --version=raw: print it and exit 0 */
    SUP_CONFIG_ERROR = -1,
} sup_config_rc_t;

/* Fills defaults ($XDG_RUNTIME_DIR/kubus or /tmp/kubus-UID, the directory of
 * /proc/self/exe for --bin-dir). */
void sup_config_defaults(sup_config_t *c);
/* Defaults, then --config FILE (if given), then argv[first..argc). On error
 * the message in err names the flag (or file and line) and says why. */
sup_config_rc_t sup_config_load(sup_config_t *c, int argc, char **argv, int first, char *err,
                                size_t errlen);
/* Applies a --controllers value to enabled[] (controllers only). 0 or -1. */
int sup_controllers_parse(const char *spec, bool enabled[SUP_COMPONENT_COUNT], char *err,
                          size_t errlen);
void sup_config_usage(FILE *to, const char *prog);
/* Logs what the configuration accepted without acting on it, one line
 * each: upstream flags kubus ignores (kcmflags.h) and the feature gates
 * set (with upstream's warning for GA and deprecated ones). */
void sup_config_log_notices(const sup_config_t *c);
/* --version's line, "kubus v0.1.0" (raw: the fields, as upstream's raw). */
void sup_config_print_version(FILE *to, bool raw);
/* What --version=raw names: the compiler ("gcc 12.2.0") and the platform ("linux/amd64"). */
const char *sup_config_compiler(void);
const char *sup_config_platform(void);

#endif
