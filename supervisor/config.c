/* config.c - supervisor flags, the --config file and --controllers. See config.h. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "bus.h"
#include "ctrl/concurrency.h"
#include "errfmt.h"
#include "flags.h"
#include "leader.h"
#include "lease_core.h"
#include "worker.h"

#define CONFIG_FILE_MAX (1024 * 1024)

/* ---- defaults ---- */

static void default_bin_dir(char *out, size_t outlen)
{
    char exe[1024];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(out, outlen, ".");
        return;
    }
    exe[n] = '\0';
    snprintf(out, outlen, "%s", dirname(exe));
}

void sup_config_defaults(sup_config_t *c)
{
    memset(c, 0, sizeof *c);
    c->kube_api_qps = 20.0;
    c->kube_api_burst = 30;
    snprintf(c->controllers, sizeof c->controllers, "*");
    for (size_t i = 0; i < SUP_COMPONENT_COUNT; i++) {
        const sup_component_t *comp = sup_component(i);
        c->enabled[i] = comp->infra || comp->default_on;
        c->concurrency[i] = comp->default_concurrency;
    }
    logcfg_defaults(&c->log);
    fg_set_init(&c->feature_gates);
    c->enable_gc = true;
    if (worker_default_bus_dir(c->bus_dir, sizeof c->bus_dir) < 0) c->bus_dir[0] = '\0';
    c->shard_count = 1;
    snprintf(c->bind_address, sizeof c->bind_address, "127.0.0.1");
    c->port = SUP_DEFAULT_PORT;
    c->worker_timeout_ms = SUP_DEFAULT_WORKER_TIMEOUT_MS;
    c->leader_elect_lease_ms = SUP_DEFAULT_LEASE_MS;
    c->leader_elect_renew_ms = SUP_DEFAULT_RENEW_DEADLINE_MS;
    c->leader_elect_retry_ms = SUP_DEFAULT_RETRY_PERIOD_MS;
    snprintf(c->leader_elect_namespace, sizeof c->leader_elect_namespace, "kube-system");
    default_bin_dir(c->bin_dir, sizeof c->bin_dir);
}

/* ---- --controllers ---- */

int sup_controllers_parse(const char *spec, bool enabled[SUP_COMPONENT_COUNT], char *err,
                          size_t errlen)
{
    char buf[1024];
    if (strlen(spec) >= sizeof buf) return errfmt(err, errlen, "--controllers: list too long");
    snprintf(buf, sizeof buf, "%s", spec);
    bool decided[SUP_COMPONENT_COUNT] = { false };
    bool star = false;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *item = flags_trim(tok);
        if (!*item) continue;
        if (strcmp(item, "*") == 0) { star = true; continue; }
        bool off = item[0] == '-';
        int i = sup_controller_lookup(off ? item + 1 : item);
        if (i < 0)
            return errfmt(err, errlen, "--controllers: unknown controller \"%s\" (known: replicaset, "
                          "deployment, statefulset, daemonset, job, cronjob, garbagecollector, "
                          "ttl-after-finished, or their upstream -controller names)", item);
        /* Upstream semantics: the first mention of a controller wins. */
        if (decided[i]) continue;
        decided[i] = true;
        enabled[i] = !off;
    }
    for (size_t i = SUP_INFRA_COUNT; i < SUP_COMPONENT_COUNT; i++)
        if (!decided[i]) enabled[i] = star && sup_component(i)->default_on;
    return 0;
}

/* ---- one flag ---- */

/* K_SPECIAL_BOOL: a special handler for a flag that takes its value only
 * inline, like a boolean (--version, --version=raw). */
typedef enum { K_STR, K_INT, K_DOUBLE, K_BOOL, K_DURATION, K_SPECIAL, K_SPECIAL_BOOL } kind_t;
typedef int (*special_fn)(sup_config_t *c, const char *flag, const char *value, char *err, size_t errlen);

typedef struct {
    const char *name;
    kind_t kind;
    size_t off, size;          /* field in sup_config_t */
    double min, max;
    special_fn special;
} flagdef_t;

static int set_controllers(sup_config_t *c, const char *flag, const char *v, char *err, size_t errlen)
{
    if (flags_string(flag, v, c->controllers, sizeof c->controllers, true, err, errlen) < 0) return -1;
    return sup_controllers_parse(v, c->enabled, err, errlen);
}

static int set_bus_dir(sup_config_t *c, const char *flag, const char *v, char *err, size_t errlen)
{
    bus_config_t bus;
    if (bus_config_parse(&bus, v) < 0)
        return errfmt(err, errlen, "--%s=%s: need a directory path of at most 90 bytes or "
                      "tcp://HOST:PORT", flag, v);
    return flags_string(flag, v, c->bus_dir, sizeof c->bus_dir, false, err, errlen);
}

static int set_bind_address(sup_config_t *c, const char *flag, const char *v, char *err, size_t errlen)
{
    unsigned char addr[sizeof(struct in6_addr)];
    if (inet_pton(AF_INET, v, addr) != 1 && inet_pton(AF_INET6, v, addr) != 1)
        return errfmt(err, errlen, "--%s=%s: not an IPv4 or IPv6 address", flag, v);
    return flags_string(flag, v, c->bind_address, sizeof c->bind_address, false, err, errlen);
}

static int set_lease_namespace(sup_config_t *c, const char *flag, const char *v, char *err, size_t errlen)
{
    if (!sup_lease_dns_label(v))
        return errfmt(err, errlen, "--%s=%s: not a valid namespace name (DNS-1123 label)", flag, v);
    return flags_string(flag, v, c->leader_elect_namespace, sizeof c->leader_elect_namespace, false,
                        err, errlen);
}

static int set_lease_name(sup_config_t *c, const char *flag, const char *v, char *err, size_t errlen)
{
    if (v[0] && !sup_lease_dns_subdomain(v))
        return errfmt(err, errlen, "--%s=%s: not a valid object name (DNS-1123 subdomain)", flag, v);
    return flags_string(flag, v, c->leader_elect_name, sizeof c->leader_elect_name, true, err, errlen);
}

/* Upstream also offers endpoints/configmaps locks (long removed there too):
 * only a Lease is supported. */
static int set_lease_lock(sup_config_t *c, const char *flag, const char *v, char *err, size_t errlen)
{
    (void)c;
    if (strcmp(v, "leases") != 0)
        return errfmt(err, errlen, "--%s=%s: only \"leases\" is supported", flag, v);
    return 0;
}

static int set_bin_dir(sup_config_t *c, const char *flag, const char *v, char *err, size_t errlen)
{
    struct stat st;
    if (stat(v, &st) < 0 || !S_ISDIR(st.st_mode))
        return errfmt(err, errlen, "--%s=%s: not a directory", flag, v);
    return flags_string(flag, v, c->bin_dir, sizeof c->bin_dir, false, err, errlen);
}

static int set_feature_gates(sup_config_t *c, const char *flag, const char *v, char *err, size_t errlen)
{
    (void)flag;
    return fg_parse(&c->feature_gates, v, err, errlen);
}

/* Upstream's --version: bare or a true value prints the version, "raw" the
 * raw fields; false does nothing. (Upstream's "--version=vX.Y.Z" changes
 * the version it reports; kubus's is fixed.) */
static int set_version(sup_config_t *c, const char *flag, const char *v, char *err, size_t errlen)
{
    bool on = true;
    if (v && strcmp(v, "raw") == 0) {
        c->version = 2;
        return 0;
    }
    if (v && flags_bool(flag, v, &on, NULL, 0) < 0)
        return errfmt(err, errlen, "--%s=%s: use --version, --version=raw or --version=false "
                          "(kubus cannot report another version)", flag, v);
    c->version = on ? 1 : 0;
    return 0;
}

#define F(field) offsetof(sup_config_t, field), sizeof(((sup_config_t *)0)->field)
static const flagdef_t flagdefs[] = {
    { "kubeconfig", K_STR, F(kubeconfig), 0, 0, NULL },
    { "master", K_STR, F(master), 0, 0, NULL },
    { "kube-api-qps", K_DOUBLE, F(kube_api_qps), 0.01, 1e6, NULL },
    { "kube-api-burst", K_INT, F(kube_api_burst), 1, 1000000, NULL },
    { "controllers", K_SPECIAL, 0, 0, 0, 0, set_controllers },
    { "leader-elect", K_BOOL, F(leader_elect), 0, 0, NULL },
    { "leader-elect-lease-duration", K_DURATION, F(leader_elect_lease_ms), 1000, 86400000, NULL },
    { "leader-elect-renew-deadline", K_DURATION, F(leader_elect_renew_ms), 1, 86400000, NULL },
    { "leader-elect-retry-period", K_DURATION, F(leader_elect_retry_ms), 1, 86400000, NULL },
    { "leader-elect-resource-namespace", K_SPECIAL, 0, 0, 0, 0, set_lease_namespace },
    { "leader-elect-resource-name", K_SPECIAL, 0, 0, 0, 0, set_lease_name },
    { "leader-elect-resource-lock", K_SPECIAL, 0, 0, 0, 0, set_lease_lock },
    { "feature-gates", K_SPECIAL, 0, 0, 0, 0, set_feature_gates },
    { "enable-garbage-collector", K_BOOL, F(enable_gc), 0, 0, NULL },
    { "version", K_SPECIAL_BOOL, 0, 0, 0, 0, set_version },
    { "bus-dir", K_SPECIAL, 0, 0, 0, 0, set_bus_dir },
    { "shard-index", K_INT, F(shard_index), 0, 65535, NULL },
    { "shard-count", K_INT, F(shard_count), 1, 65536, NULL },
    { "bind-address", K_SPECIAL, 0, 0, 0, 0, set_bind_address },
    { "port", K_INT, F(port), 0, 65535, NULL },
    /* At least two heartbeat periods, or a healthy worker looks hung. */
    { "worker-timeout", K_DURATION, F(worker_timeout_ms), 2000, 3600000, NULL },
    { "bin-dir", K_SPECIAL, 0, 0, 0, 0, set_bin_dir },
    { "config", K_STR, F(config_file), 0, 0, NULL },
};

static int set_typed(sup_config_t *c, const flagdef_t *d, const char *v, char *err, size_t errlen)
{
    void *field = (char *)c + d->off;
    long l = 0;
    switch (d->kind) {
    case K_STR:
        return flags_string(d->name, v, field, d->size, true, err, errlen);
    case K_INT:
        if (flags_long(d->name, v, (long)d->min, (long)d->max, &l, err, errlen) < 0) return -1;
        *(int *)field = (int)l;
        return 0;
    case K_DOUBLE:
        return flags_double(d->name, v, d->min, d->max, field, err, errlen);
    case K_BOOL:
        return flags_bool(d->name, v, field, err, errlen);
    case K_DURATION:
        return flags_duration_ms(d->name, v, (uint64_t)d->min, (uint64_t)d->max, field, err, errlen);
    case K_SPECIAL:
    case K_SPECIAL_BOOL:
        return d->special(c, d->name, v, err, errlen);
    }
    return -1;
}

/* A concurrency flag of one of kubus's controllers; 1 when name is none. */
static int set_concurrency(sup_config_t *c, const char *name, const char *value, bool *took,
                           char *err, size_t errlen)
{
    for (size_t i = SUP_INFRA_COUNT; i < SUP_COMPONENT_COUNT; i++) {
        const sup_component_t *comp = sup_component(i);
        if (strcmp(name, comp->concurrency_flag) != 0) continue;
        if (!value) return errfmt(err, errlen, "--%s needs a value", name);
        long l = 0;
        if (flags_long(name, value, 1, 10000, &l, err, errlen) < 0) return -1;
        c->concurrency[i] = (int)l;
        *took = true;
        return 0;
    }
    return 1;
}

/* An upstream flag kubus accepts without effect; 1 when name is none. */
static int set_kcm_flag(sup_config_t *c, const char *name, const char *value, bool inline_value,
                        bool *took, char *err, size_t errlen)
{
    int i = kcm_flag_lookup(name);
    if (i < 0) return 1;
    if (kcm_flag_check((size_t)i, value, inline_value, took, err, errlen) < 0) return -1;
    c->kcm_given[i] = true;
    return 0;
}

/* Sets one flag. value is the candidate (inline or next argument); *took is
 * set when the value was used. 1: not a known flag; 0: set; -1: bad value. */
static int set_flag(sup_config_t *c, const char *name, const char *value, bool inline_value,
                    bool *took, char *err, size_t errlen)
{
    *took = false;
    for (size_t i = 0; i < sizeof flagdefs / sizeof flagdefs[0]; i++) {
        const flagdef_t *d = &flagdefs[i];
        if (strcmp(name, d->name) != 0) continue;
        /* A boolean takes only "=value": "--leader-elect next-arg" is two things. */
        if ((d->kind == K_BOOL || d->kind == K_SPECIAL_BOOL) && !inline_value) value = NULL;
        else if (!value && d->kind != K_SPECIAL_BOOL)
            return errfmt(err, errlen, "--%s needs a value", name);
        if (set_typed(c, d, value, err, errlen) < 0) return -1;
        *took = value != NULL;
        return 0;
    }
    int rc = logcfg_flag(&c->log, name, value, inline_value, took, err, errlen);
    if (rc == 1) rc = set_concurrency(c, name, value, took, err, errlen);
    if (rc == 1) rc = set_kcm_flag(c, name, value, inline_value, took, err, errlen);
    return rc;
}

/* ---- command line ---- */

static sup_config_rc_t apply_args(sup_config_t *c, int argc, char **argv, int first, char *err,
                                  size_t errlen)
{
    flags_iter_t it;
    flags_arg_t a;
    int rc;
    flags_iter_init(&it, argc, argv, first);
    while ((rc = flags_iter_next(&it, &a, err, errlen)) == 1) {
        if (strcmp(a.name, "help") == 0 || strcmp(a.name, "h") == 0) return SUP_CONFIG_HELP;
        bool took = false;
        int s = set_flag(c, a.name, a.value, a.inline_value, &took, err, errlen);
        if (s == 1) {
            errfmt(err, errlen, "unknown flag \"%s\"", a.arg);
            return SUP_CONFIG_ERROR;
        }
        if (s < 0) return SUP_CONFIG_ERROR;
        if (took) flags_iter_took_value(&it, &a);
    }
    return rc < 0 ? SUP_CONFIG_ERROR : SUP_CONFIG_OK;
}

/* ---- --config FILE ---- */

static char *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        errfmt(err, errlen, "--config=%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = malloc(CONFIG_FILE_MAX + 1);
    size_t n = buf ? fread(buf, 1, CONFIG_FILE_MAX + 1, f) : 0;
    bool bad = !buf || ferror(f) || n > CONFIG_FILE_MAX;
    fclose(f);
    if (bad) {
        errfmt(err, errlen, "--config=%s: unreadable or larger than 1 MiB", path);
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

typedef struct {
    yaml_parser_t p;
    const char *path;
    char key[FLAGS_NAME_MAX];
    bool have_key;
    int depth;
} yaml_walk_t;

/* One parser event of a flat "flag: value" mapping. 1: go on; 0: done; -1: error. */
static int yaml_step(yaml_walk_t *y, sup_config_t *c, yaml_event_t *ev, char *err, size_t errlen)
{
    unsigned long line = (unsigned long)ev->start_mark.line + 1;
    switch (ev->type) {
    case YAML_STREAM_START_EVENT:
    case YAML_DOCUMENT_START_EVENT:
    case YAML_DOCUMENT_END_EVENT:
        return 1;
    case YAML_STREAM_END_EVENT:
        return 0;
    case YAML_MAPPING_START_EVENT:
        if (++y->depth == 1) return 1;
        break;
    case YAML_MAPPING_END_EVENT:
        y->depth--;
        return 1;
    case YAML_SCALAR_EVENT: {
        const char *s = (const char *)ev->data.scalar.value;
        if (y->depth != 1) break;
        if (!y->have_key) {
            /* --config and --version belong on the command line only. */
            if (flags_string("config key", s, y->key, sizeof y->key, false, err, errlen) < 0 ||
                strcmp(y->key, "config") == 0 || strcmp(y->key, "version") == 0)
                return errfmt(err, errlen, "%s:%lu: key \"%s\" is not a flag", y->path, line, s);
            y->have_key = true;
            return 1;
        }
        y->have_key = false;
        bool took;
        char why[512];
        int rc = set_flag(c, y->key, s, true, &took, why, sizeof why);
        if (rc == 1) return errfmt(err, errlen, "%s:%lu: unknown key \"%s\"", y->path, line, y->key);
        if (rc < 0) return errfmt(err, errlen, "%s:%lu: %s", y->path, line, why);
        return 1;
    }
    default:
        break;
    }
    return errfmt(err, errlen, "%s:%lu: expected a mapping of flag names to plain values",
                  y->path, line);
}

static int apply_file(sup_config_t *c, const char *path, char *err, size_t errlen)
{
    size_t len = 0;
    char *text = read_file(path, &len, err, errlen);
    if (!text) return -1;
    yaml_walk_t y = { .path = path };
    int rc = -1;
    if (!yaml_parser_initialize(&y.p)) {
        errfmt(err, errlen, "--config: cannot initialise the YAML parser");
        free(text);
        return -1;
    }
    yaml_parser_set_input_string(&y.p, (const unsigned char *)text, len);
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&y.p, &ev)) {
            errfmt(err, errlen, "%s:%lu: %s", path, (unsigned long)y.p.problem_mark.line + 1,
                   y.p.problem ? y.p.problem : "YAML error");
            rc = -1;
            break;
        }
        rc = yaml_step(&y, c, &ev, err, errlen);
        yaml_event_delete(&ev);
        if (rc <= 0) break;
    }
    yaml_parser_delete(&y.p);
    free(text);
    return rc;
}

/* ---- load ---- */

/* Like upstream, the durations are checked only when election is on. */
static int check_leader_election(const sup_config_t *c, char *err, size_t errlen)
{
    if (!c->leader_elect) return 0;
    sup_lease_config_t lc;
    sup_leader_lease_config(c, &lc);
    snprintf(lc.identity, sizeof lc.identity, "check");
    return sup_lease_config_check(&lc, err, errlen);
}

static int check_whole(sup_config_t *c, char *err, size_t errlen)
{
    /* Upstream skips the garbage collector when this is false, whatever
     * --controllers says. */
    if (!c->enable_gc) c->enabled[sup_controller_lookup("garbagecollector")] = false;
    if (logcfg_check(&c->log, &c->feature_gates, err, errlen) < 0) return -1;
    if (c->shard_index >= c->shard_count)
        return errfmt(err, errlen, "--shard-index=%d: must be less than --shard-count=%d",
                      c->shard_index, c->shard_count);
    if (!c->bus_dir[0])
        return errfmt(err, errlen, "--bus-dir: the default path is too long; give one");
    return check_leader_election(c, err, errlen);
}

sup_config_rc_t sup_config_load(sup_config_t *c, int argc, char **argv, int first, char *err,
                                size_t errlen)
{
    /* A first pass finds --config (and refuses bad flags early); the file
     * then goes under the command line, which is applied again on top. */
    sup_config_defaults(c);
    sup_config_rc_t rc = apply_args(c, argc, argv, first, err, errlen);
    if (rc != SUP_CONFIG_OK) return rc;
    if (c->config_file[0]) {
        char path[sizeof c->config_file];
        snprintf(path, sizeof path, "%s", c->config_file);
        sup_config_defaults(c);
        if (apply_file(c, path, err, errlen) < 0) return SUP_CONFIG_ERROR;
        rc = apply_args(c, argc, argv, first, err, errlen);
        if (rc != SUP_CONFIG_OK) return rc;
    }
    if (check_whole(c, err, errlen) < 0) return SUP_CONFIG_ERROR;
    /* As upstream: --version answers only once every flag was accepted. */
    return c->version ? SUP_CONFIG_VERSION : SUP_CONFIG_OK;
}

void sup_config_usage(FILE *to, const char *prog)
{
    fprintf(to,
        "Usage: %s [flags]\n"
        "       %s status [--port=N] [--bind-address=ADDR]   print the workers' status table\n"
        "\n"
        "Runs kubus's workers (broker, informer, executor, one process per controller),\n"
        "restarts them with back-off, and serves /healthz /readyz /metrics /statusz.\n"
        "\n"
        "Flags:\n"
        "  --kubeconfig=PATH            kubeconfig passed to every worker\n"
        "  --master=URL                 API server URL (overrides the kubeconfig)\n"
        "  --controllers=LIST           '*' = all on by default, 'foo' enables, '-foo' disables\n"
        "                               (default *). Known: replicaset-controller, deployment-controller,\n"
        "                               statefulset-controller, daemonset-controller, job-controller,\n"
        "                               cronjob-controller, garbage-collector-controller,\n"
        "                               ttl-after-finished-controller, or the short aliases replicaset,\n"
        "                               deployment, statefulset, daemonset, job, cronjob,\n"
        "                               garbagecollector, ttl-after-finished\n"
        "  --kube-api-qps=F             API requests per second (default 20)\n"
        "  --kube-api-burst=N           API request burst (default 30)\n"
        "  --concurrent-replicaset-syncs=N (" CTRL_STR(CTRL_CONCURRENT_REPLICASET_SYNCS) ")   "
        "--concurrent-deployment-syncs=N (" CTRL_STR(CTRL_CONCURRENT_DEPLOYMENT_SYNCS) ")\n"
        "  --concurrent-statefulset-syncs=N (" CTRL_STR(CTRL_CONCURRENT_STATEFULSET_SYNCS) ")  "
        "--concurrent-daemonset-syncs=N (" CTRL_STR(CTRL_CONCURRENT_DAEMONSET_SYNCS) ")\n"
        "  --concurrent-job-syncs=N (" CTRL_STR(CTRL_CONCURRENT_JOB_SYNCS) ")          "
        "--concurrent-cron-job-syncs=N (" CTRL_STR(CTRL_CONCURRENT_CRON_JOB_SYNCS) ")\n"
        "  --concurrent-gc-syncs=N (" CTRL_STR(CTRL_CONCURRENT_GC_SYNCS) ")          "
        "--concurrent-ttl-after-finished-syncs=N (" CTRL_STR(CTRL_CONCURRENT_TTL_AFTER_FINISHED_SYNCS) ")\n"
        "  --leader-elect[=BOOL]        take part in leader election on a Lease (one per shard);\n"
        "                               only the leader runs the executor and the controllers,\n"
        "                               a standby keeps the broker and informer warm (default false)\n"
        "  --leader-elect-lease-duration=DURATION   how long a standby waits after the last\n"
        "                               renewal it saw before taking over (default 15s)\n"
        "  --leader-elect-renew-deadline=DURATION   a leader that could not renew for this long\n"
        "                               stops its controllers (default 10s)\n"
        "  --leader-elect-retry-period=DURATION     time between tries (default 2s)\n"
        "  --leader-elect-resource-namespace=NS     the Lease's namespace (default kube-system)\n"
        "  --leader-elect-resource-name=NAME        the Lease (default kubus-shard-<index>-of-<count>)\n"
        "  --leader-elect-resource-lock=leases      the only lock kind supported\n"
        "  --enable-garbage-collector=BOOL   false: do not run the garbage collector (default true)\n"
        "  --feature-gates=Name=BOOL,...     kube-controller-manager v1.36's gates (unknown ones are\n"
        "                               refused); passed on to every worker\n"
        "  -v=N                         log verbosity (default 0)\n"
        "  --vmodule=PATTERN=N,...      per-file verbosity, PATTERN matched against the source file\n"
        "                               name without .c (text format only)\n"
        "  --logging-format=text|json   (default text; json as component-base writes it)\n"
        "  --log-text-split-stream, --log-json-split-stream   info lines on stdout, errors on\n"
        "                               stderr (needs --feature-gates=LoggingAlphaOptions=true)\n"
        "  --bus-dir=DIR|tcp://H:P      bus location (default $XDG_RUNTIME_DIR/kubus or /tmp/kubus-UID)\n"
        "  --shard-index=I --shard-count=N   this supervisor's shard (default 0 of 1)\n"
        "  --bind-address=ADDR          HTTP address (default 127.0.0.1)\n"
        "  --port=N                     HTTP port for /healthz /livez /readyz /metrics /statusz\n"
        "                               (default %d; 0 disables)\n"
        "  --worker-timeout=DURATION    heartbeat silence before a worker counts as hung and is\n"
        "                               killed (default 10s; at least 2s)\n"
        "  --bin-dir=DIR                where the worker binaries are (default: this program's dir)\n"
        "  --config=FILE                YAML mapping of the flags above (\"port: 10267\");\n"
        "                               the command line wins. Re-read on SIGHUP.\n"
        "  --version[=raw]              print the version and exit\n"
        "  --help\n"
        "\n"
        "Every other kube-controller-manager v1.36 flag (--secure-port, --profiling,\n"
        "--use-service-account-credentials, --kube-api-content-type, --cluster-cidr, ...) is\n"
        "accepted, checked and logged as having no effect in kubus.\n"
        "\n"
        "Signals: SIGTERM/SIGINT stop every worker (controllers first) and exit;\n"
        "SIGHUP re-reads the configuration and restarts every worker with it.\n",
        prog, prog, SUP_DEFAULT_PORT);
}

void sup_config_log_notices(const sup_config_t *c)
{
    for (size_t i = 0; i < KCM_IGNORED_COUNT; i++) {
        if (!c->kcm_given[i]) continue;
        const kcm_flag_t *f = kcm_flag(i);
        char flag[FLAGS_NAME_MAX + 2];
        snprintf(flag, sizeof flag, "--%s", f->name);
        LOGI("kube-controller-manager flag accepted; it has no effect in kubus", "flag", flag, "reason",
             f->why);
    }
    for (int i = 0; i < FG_GATE_COUNT; i++) {
        if (c->feature_gates.value[i] < 0) continue;
        const char *name = fg_gates[i].name, *v = c->feature_gates.value[i] ? "true" : "false";
        /* Upstream's warnings, word for word. */
        if (fg_gates[i].stage == FG_DEPRECATED)
            LOGI("Warning: setting deprecated feature gate. It will be removed in a future release.",
                 "featureGate", name, "value", v);
        else if (fg_gates[i].stage == FG_GA)
            LOGI("Warning: setting GA feature gate. It will be removed in a future release.",
                 "featureGate", name, "value", v);
        else
            LOGI("feature gate set", "featureGate", name, "value", v);
    }
}

#ifdef __clang__
#define COMPILER "clang " __clang_version__
#else
#define COMPILER "gcc " __VERSION__
#endif

/* The platform as Go names it (GOOS/GOARCH), for the raw version. */
static const char *platform(void)
{
#if defined(__x86_64__)
    return "linux/amd64";
#elif defined(__aarch64__)
    return "linux/arm64";
#else
    return "linux/unknown";
#endif
}

const char *sup_config_compiler(void) { return COMPILER; }
const char *sup_config_platform(void) { return platform(); }

void sup_config_print_version(FILE *to, bool raw)
{
    if (!raw) {
        fprintf(to, "kubus v%s\n", KUBUS_VERSION);
        return;
    }
    unsigned major = 0, minor = 0;
    if (sscanf(KUBUS_VERSION, "%u.%u", &major, &minor) != 2) major = minor = 0;
    fprintf(to, "version.Info{Major:\"%u\", Minor:\"%u\", GitVersion:\"v%s\", Compiler:\"%s\", "
                "Platform:\"%s\"}\n", major, minor, KUBUS_VERSION, COMPILER, platform());
}
