/* Unit tests for flag parsing: lib/flags.c, worker_opts_parse (lib/worker.c)
 * and the supervisor's configuration (supervisor/config.c), including the
 * --controllers semantics, the --config file, --feature-gates, the logging
 * flags, --version and the upstream flags kubus accepts without effect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "components.h"
#include "config.h"
#include "featuregate.h"
#include "flags.h"
#include "kcmflags.h"
#include "worker.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- lib/flags.c ---- */

static void test_iter_forms(void **state)
{
    (void)state;
    char *argv[] = { "prog", "--a=1", "--b", "2", "--concurrent_rc_syncs=3", "-v=3", "-c", "x", "--flag" };
    flags_iter_t it;
    flags_arg_t a;
    char err[128];
    flags_iter_init(&it, ARGC(argv), argv, 1);
    assert_int_equal(flags_iter_next(&it, &a, err, sizeof err), 1);
    assert_string_equal(a.name, "a");
    assert_string_equal(a.value, "1");
    assert_true(a.inline_value);
    assert_int_equal(flags_iter_next(&it, &a, err, sizeof err), 1);
    assert_string_equal(a.name, "b");
    assert_string_equal(a.value, "2");
    assert_false(a.inline_value);
    flags_iter_took_value(&it, &a);
    /* '_' reads as '-', as upstream's commands normalize it. */
    assert_int_equal(flags_iter_next(&it, &a, err, sizeof err), 1);
    assert_string_equal(a.name, "concurrent-rc-syncs");
    assert_string_equal(a.value, "3");
    assert_int_equal(flags_iter_next(&it, &a, err, sizeof err), 1);
    assert_string_equal(a.name, "v");
    assert_string_equal(a.value, "3");
    assert_int_equal(flags_iter_next(&it, &a, err, sizeof err), 1);
    assert_string_equal(a.name, "c");
    /* Not consumed: "x" comes back as the next argument and is refused. */
    assert_int_equal(flags_iter_next(&it, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "unexpected argument \"x\""));
    assert_int_equal(flags_iter_next(&it, &a, err, sizeof err), 1);
    assert_string_equal(a.name, "flag");
    assert_null(a.value);
    assert_int_equal(flags_iter_next(&it, &a, err, sizeof err), 0);
}

static void test_iter_malformed(void **state)
{
    (void)state;
    char *bad[] = { "prog", "--", "-", "---x", "--=1" };
    char err[128];
    for (int i = 1; i < ARGC(bad); i++) {
        flags_iter_t it;
        flags_arg_t a;
        flags_iter_init(&it, 2, (char *[]){ "prog", bad[i] }, 1);
        assert_int_equal(flags_iter_next(&it, &a, err, sizeof err), -1);
    }
    char longname[200];
    memset(longname, 'x', sizeof longname - 1);
    longname[0] = longname[1] = '-';
    longname[sizeof longname - 1] = '\0';
    flags_iter_t it;
    flags_arg_t a;
    flags_iter_init(&it, 2, (char *[]){ "prog", longname }, 1);
    assert_int_equal(flags_iter_next(&it, &a, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown flag"));
}

static void test_values(void **state)
{
    (void)state;
    char err[128];
    long l = 0;
    double d = 0;
    bool b = false;
    uint64_t ms = 0;
    assert_int_equal(flags_long("n", "42", 0, 100, &l, err, sizeof err), 0);
    assert_int_equal(l, 42);
    assert_int_equal(flags_long("n", "4x", 0, 100, &l, err, sizeof err), -1);
    assert_non_null(strstr(err, "--n=4x: not an integer"));
    assert_int_equal(flags_long("n", "101", 0, 100, &l, err, sizeof err), -1);
    assert_non_null(strstr(err, "between 0 and 100"));
    assert_int_equal(flags_long("n", "", 0, 100, &l, err, sizeof err), -1);
    assert_int_equal(flags_long("n", "99999999999999999999999", 0, 100, &l, err, sizeof err), -1);
    assert_int_equal(flags_double("q", "2.5", 0.01, 10, &d, err, sizeof err), 0);
    assert_true(d == 2.5);
    assert_int_equal(flags_double("q", "nan", 0.01, 10, &d, err, sizeof err), -1);
    assert_int_equal(flags_double("q", "0", 0.01, 10, &d, err, sizeof err), -1);
    assert_int_equal(flags_bool("b", NULL, &b, err, sizeof err), 0);
    assert_true(b);
    assert_int_equal(flags_bool("b", "false", &b, err, sizeof err), 0);
    assert_false(b);
    assert_int_equal(flags_bool("b", "maybe", &b, err, sizeof err), -1);
    assert_int_equal(flags_duration_ms("t", "10s", 0, 60000, &ms, err, sizeof err), 0);
    assert_int_equal(ms, 10000);
    assert_int_equal(flags_duration_ms("t", "1.5s", 0, 60000, &ms, err, sizeof err), 0);
    assert_int_equal(ms, 1500);
    assert_int_equal(flags_duration_ms("t", "250ms", 0, 60000, &ms, err, sizeof err), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(flags_duration_ms("t", "2m", 0, 600000, &ms, err, sizeof err), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(flags_duration_ms("t", "3", 0, 60000, &ms, err, sizeof err), 0);
    assert_int_equal(ms, 3000);
    assert_int_equal(flags_duration_ms("t", "10x", 0, 60000, &ms, err, sizeof err), -1);
    assert_int_equal(flags_duration_ms("t", "-1s", 0, 60000, &ms, err, sizeof err), -1);
    assert_int_equal(flags_duration_ms("t", "2h", 0, 60000, &ms, err, sizeof err), -1);
    char out[4];
    char name[8] = " a b\t";
    assert_string_equal(flags_trim(name), "a b");
    assert_int_equal(flags_string("s", "abc", out, sizeof out, false, err, sizeof err), 0);
    assert_int_equal(flags_string("s", "abcd", out, sizeof out, false, err, sizeof err), -1);
    assert_non_null(strstr(err, "too long"));
    assert_int_equal(flags_string("s", "", out, sizeof out, false, err, sizeof err), -1);
    assert_int_equal(flags_string("s", "", out, sizeof out, true, err, sizeof err), 0);
}

/* Go's time.ParseDuration syntax, which upstream's duration flags take. */
static void test_go_durations(void **state)
{
    (void)state;
    char err[128];
    double ms = 0;
    uint64_t u = 0;
    static const struct { const char *in; double ms; } good[] = {
        { "1m30s", 90000 }, { "1.5h", 5400000 }, { "300ms", 300 }, { "2us", 0.002 },
        { "2\xc2\xb5s", 0.002 }, { "1500ns", 0.0015 }, { "0", 0 }, { "-1s", -1000 },
        { "+2m", 120000 }, { "1h2m3.5s", 3723500 }, { ".5s", 500 }, { "1.s", 1000 },
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        if (flags_go_duration("d", good[i].in, &ms, err, sizeof err) < 0) fail_msg("%s: %s", good[i].in, err);
        if (ms < good[i].ms - 1e-9 || ms > good[i].ms + 1e-9) fail_msg("%s: %g ms", good[i].in, ms);
    }
    static const char *bad[] = { "", "1", "s", "1x", "1s2", "--1s", "1 s", ".s", "1e3s" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (flags_go_duration("d", bad[i], &ms, err, sizeof err) == 0) fail_msg("\"%s\" accepted", bad[i]);
        assert_non_null(strstr(err, "--d"));
    }
    /* kubus's own duration flags take them too (and a bare number of seconds). */
    assert_int_equal(flags_duration_ms("t", "1m30s", 0, 600000, &u, err, sizeof err), 0);
    assert_int_equal(u, 90000);
}

/* ---- worker_opts_parse ---- */

typedef struct { int resync; int calls; } own_t;

static int own_flag(void *state, const char *flag, const char *value, bool *used)
{
    own_t *o = state;
    o->calls++;
    if (strcmp(flag, "resync") != 0) return WORKER_FLAG_UNKNOWN;
    if (!value || atoi(value) <= 0) return WORKER_FLAG_BAD;
    o->resync = atoi(value);
    *used = true;
    return WORKER_FLAG_OK;
}

static int parse_worker(worker_opts_t *o, own_t *own, int argc, char **argv, char *err, size_t len)
{
    worker_hooks_t hooks = { .name = "test", .parse_flag = own_flag, .state = own };
    worker_opts_defaults(o, "test");
    return worker_opts_parse(o, argc, argv, &hooks, err, len);
}

static void test_worker_good(void **state)
{
    (void)state;
    char *argv[] = { "w", "--name=replicaset", "--generation", "7", "--status-fd=5",
                     "--bus-dir=/tmp/kb", "--kubeconfig", "/k", "--master=https://h:6443",
                     "--kube-api-qps=50.5", "--kube-api-burst=60", "--concurrent-syncs=9",
                     "--shard-index=1", "--shard-count=3", "-v=4", "--logging-format=json",
                     "--resync", "30" };
    worker_opts_t o;
    own_t own = { 0 };
    char err[256];
    assert_int_equal(parse_worker(&o, &own, ARGC(argv), argv, err, sizeof err), 0);
    assert_string_equal(o.name, "replicaset");
    assert_int_equal(o.generation, 7);
    assert_int_equal(o.status_fd, 5);
    assert_string_equal(o.bus.dir, "/tmp/kb");
    assert_string_equal(o.kubeconfig, "/k");
    assert_string_equal(o.master, "https://h:6443");
    assert_true(o.kube_api_qps == 50.5);
    assert_int_equal(o.kube_api_burst, 60);
    assert_int_equal(o.concurrent_syncs, 9);
    assert_int_equal(o.shard_index, 1);
    assert_int_equal(o.shard_count, 3);
    assert_int_equal(o.log.verbosity, 4);
    assert_int_equal(o.log.format, LOG_FORMAT_JSON);
    assert_int_equal(own.resync, 30);
}

static void test_worker_defaults(void **state)
{
    (void)state;
    char *argv[] = { "w" };
    worker_opts_t o;
    own_t own = { 0 };
    char err[256];
    assert_int_equal(parse_worker(&o, &own, ARGC(argv), argv, err, sizeof err), 0);
    assert_string_equal(o.name, "test");
    assert_int_equal(o.generation, 1);
    assert_int_equal(o.status_fd, -1);
    assert_true(o.kube_api_qps == 20.0);
    assert_int_equal(o.kube_api_burst, 30);
    assert_int_equal(o.concurrent_syncs, 5);
    assert_int_equal(o.shard_count, 1);
    assert_true(o.bus.dir[0] == '/');
    char *help[] = { "w", "--help" };
    assert_int_equal(parse_worker(&o, &own, ARGC(help), help, err, sizeof err), 1);
}

static void expect_worker_error(char *arg, const char *want)
{
    char *argv[] = { "w", arg };
    worker_opts_t o;
    own_t own = { 0 };
    char err[256] = "";
    assert_int_equal(parse_worker(&o, &own, ARGC(argv), argv, err, sizeof err), -1);
    if (!strstr(err, want)) fail_msg("for %s: error \"%s\" lacks \"%s\"", arg, err, want);
}

static void test_worker_bad(void **state)
{
    (void)state;
    expect_worker_error("--bogus=1", "unknown flag \"--bogus=1\"");
    expect_worker_error("--generation=-1", "--generation=-1");
    expect_worker_error("--status-fd=1", "must not be stdin");
    expect_worker_error("--status-fd=abc", "not an integer");
    expect_worker_error("--kube-api-qps=fast", "--kube-api-qps=fast: not a number");
    expect_worker_error("--kube-api-burst=0", "between 1 and");
    expect_worker_error("--concurrent-syncs=0", "--concurrent-syncs=0");
    expect_worker_error("--logging-format=xml", "must be text or json");
    expect_worker_error("-v=-1", "between 0 and 2147483647");
    expect_worker_error("-v=2147483648", "between 0 and 2147483647");
    expect_worker_error("--name=a b", "--name=a b");
    expect_worker_error("--name", "needs a value");
    expect_worker_error("--bus-dir=tcp://host", "--bus-dir");
    expect_worker_error("--resync=-5", "--resync=-5: invalid value");
    expect_worker_error("positional", "unexpected argument");
    expect_worker_error("--feature-gates=Bogus=true", "unrecognized feature gate: Bogus");
    expect_worker_error("--vmodule=config", "does not have the pattern=N format");
    expect_worker_error("--log-json-split-stream", "feature LoggingAlphaOptions is disabled");
    char *argv[] = { "w", "--shard-index=2", "--shard-count=2" };
    worker_opts_t o;
    own_t own = { 0 };
    char err[256];
    assert_int_equal(parse_worker(&o, &own, ARGC(argv), argv, err, sizeof err), -1);
    assert_non_null(strstr(err, "less than --shard-count"));
}

/* What the supervisor passes down: gates and logging flags reach the worker. */
static void test_worker_gates_and_logging(void **state)
{
    (void)state;
    char *argv[] = { "w", "--feature-gates=MaxUnavailableStatefulSet=true,LoggingAlphaOptions=true",
                     "--vmodule=sync=4", "--vmodule", "cache*=2", "--log-text-split-stream=true" };
    worker_opts_t o;
    own_t own = { 0 };
    char err[256];
    if (parse_worker(&o, &own, ARGC(argv), argv, err, sizeof err) != 0) fail_msg("%s", err);
    assert_true(fg_enabled_name(&o.feature_gates, "MaxUnavailableStatefulSet"));
    assert_false(fg_enabled_name(&o.feature_gates, "AllAlpha"));
    assert_string_equal(o.log.vmodule, "sync=4,cache*=2");
    assert_true(o.log.split[LOG_FORMAT_TEXT]);
    assert_int_equal(own.calls, 0); /* none of them reached the process's own parser */
}

/* ---- supervisor configuration ---- */

static int ctl(const char *name) { return sup_controller_lookup(name); }

static void test_sup_defaults(void **state)
{
    (void)state;
    sup_config_t c;
    char err[512];
    char *argv[] = { "kcm" };
    assert_int_equal(sup_config_load(&c, ARGC(argv), argv, 1, err, sizeof err), SUP_CONFIG_OK);
    assert_true(c.kube_api_qps == 20.0);
    assert_int_equal(c.kube_api_burst, 30);
    assert_int_equal(c.port, 10267);
    assert_string_equal(c.bind_address, "127.0.0.1");
    assert_int_equal(c.worker_timeout_ms, 10000);
    assert_false(c.leader_elect);
    for (size_t i = 0; i < SUP_COMPONENT_COUNT; i++) assert_true(c.enabled[i]);
    assert_int_equal(c.concurrency[ctl("replicaset")], 5);
    assert_int_equal(c.concurrency[ctl("daemonset")], 2);
    assert_int_equal(c.concurrency[ctl("garbagecollector")], 20);
}

static void test_sup_good(void **state)
{
    (void)state;
    sup_config_t c;
    char err[512];
    char *argv[] = { "kcm", "--kubeconfig=/k", "--master", "https://m", "--kube-api-qps=5",
                     "--kube-api-burst", "7", "--concurrent-replicaset-syncs=11",
                     "--concurrent-gc-syncs", "3", "--concurrent-cron-job-syncs=4",
                     "--concurrent-ttl-after-finished-syncs=6", "--leader-elect", "-v=2",
                     "--logging-format=json", "--bus-dir=/tmp/kbx", "--shard-index=1",
                     "--shard-count=2", "--bind-address=::1", "--port=0", "--worker-timeout=2s",
                     "--bin-dir=/tmp" };
    assert_int_equal(sup_config_load(&c, ARGC(argv), argv, 1, err, sizeof err), SUP_CONFIG_OK);
    assert_string_equal(c.kubeconfig, "/k");
    assert_string_equal(c.master, "https://m");
    assert_true(c.kube_api_qps == 5.0);
    assert_int_equal(c.kube_api_burst, 7);
    assert_int_equal(c.concurrency[ctl("replicaset")], 11);
    assert_int_equal(c.concurrency[ctl("garbagecollector")], 3);
    assert_int_equal(c.concurrency[ctl("cronjob")], 4);
    assert_int_equal(c.concurrency[ctl("ttl-after-finished")], 6);
    assert_true(c.leader_elect);
    assert_int_equal(c.log.verbosity, 2);
    assert_int_equal(c.log.format, LOG_FORMAT_JSON);
    assert_string_equal(c.bus_dir, "/tmp/kbx");
    assert_int_equal(c.shard_index, 1);
    assert_int_equal(c.port, 0);
    assert_string_equal(c.bind_address, "::1");
    assert_int_equal(c.worker_timeout_ms, 2000);
    assert_string_equal(c.bin_dir, "/tmp");
}

static void expect_sup_argv_error(char **argv, int argc, const char *want)
{
    sup_config_t c;
    char err[512] = "";
    assert_int_equal(sup_config_load(&c, argc, argv, 1, err, sizeof err), SUP_CONFIG_ERROR);
    if (!strstr(err, want)) fail_msg("for %s...: error \"%s\" lacks \"%s\"", argv[1], err, want);
}

/* The supervisor refuses these flags with a message containing want. */
#define EXPECT_SUP_ERROR(want, ...) \
    expect_sup_argv_error((char *[]){ "kcm", __VA_ARGS__ }, ARGC(((char *[]){ "kcm", __VA_ARGS__ })), want)

static void expect_sup_error(char *arg, const char *want) { EXPECT_SUP_ERROR(want, arg); }

static void test_sup_bad(void **state)
{
    (void)state;
    expect_sup_error("--unknown-flag=1", "unknown flag \"--unknown-flag=1\"");
    expect_sup_error("--port=70000", "--port=70000");
    expect_sup_error("--port=http", "not an integer");
    expect_sup_error("--bind-address=localhost", "not an IPv4 or IPv6 address");
    expect_sup_error("--worker-timeout=1s", "--worker-timeout=1s");
    expect_sup_error("--worker-timeout=soon", "not a duration");
    expect_sup_error("--leader-elect=perhaps", "not a boolean");
    expect_sup_error("--concurrent-job-syncs=0", "--concurrent-job-syncs=0");
    expect_sup_error("--controllers=replicaset,nodeipam", "unknown controller \"nodeipam\"");
    expect_sup_error("--controllers=-bogus", "unknown controller \"-bogus\"");
    expect_sup_error("--bin-dir=/nonexistent/kubus", "not a directory");
    expect_sup_error("--shard-index=5", "less than --shard-count");
    expect_sup_error("--shard-count=0", "--shard-count=0: must be between 1");
    expect_sup_error("--shard-index=-1", "--shard-index=-1: must be between 0");
    expect_sup_error("--logging-format=yaml", "text or json");
    expect_sup_error("--kubeconfig", "needs a value");
    expect_sup_error("--config=/nonexistent.yaml", "/nonexistent.yaml");
    expect_sup_error("--feature-gates=NoSuchGate=true", "unrecognized feature gate: NoSuchGate");
    expect_sup_error("--feature-gates=MaxUnavailableStatefulSet", "missing bool value for "
                     "MaxUnavailableStatefulSet");
    expect_sup_error("--vmodule=a=b", "parsing verbosity in \"a=b\"");
    expect_sup_error("--version=v1.2.3", "--version=v1.2.3");
    sup_config_t c;
    char err[512];
    char *help[] = { "kcm", "--port=1", "-h" };
    assert_int_equal(sup_config_load(&c, ARGC(help), help, 1, err, sizeof err), SUP_CONFIG_HELP);
}

static sup_config_rc_t load_args(sup_config_t *c, int argc, char **argv, char *err, size_t errlen)
{
    return sup_config_load(c, argc, argv, 1, err, errlen);
}

static void test_sup_feature_gates(void **state)
{
    (void)state;
    sup_config_t c;
    char err[512] = "";
    char *argv[] = { "kcm", "--feature-gates=MaxUnavailableStatefulSet=true",
                     "--feature-gates", "WatchListClient=false" };
    if (load_args(&c, ARGC(argv), argv, err, sizeof err) != SUP_CONFIG_OK) fail_msg("%s", err);
    assert_true(fg_enabled_name(&c.feature_gates, "MaxUnavailableStatefulSet"));
    assert_false(fg_enabled_name(&c.feature_gates, "WatchListClient"));
    /* Untouched gates keep upstream's defaults. */
    assert_true(fg_enabled_name(&c.feature_gates, "LoggingBetaOptions"));
    assert_false(fg_enabled_name(&c.feature_gates, "LoggingAlphaOptions"));
}

/* component-base's logging checks, on the supervisor's command line. */
static void test_sup_logging(void **state)
{
    (void)state;
    sup_config_t c;
    char err[512] = "";
    EXPECT_SUP_ERROR("--vmodule: only supported for the text log format", "--logging-format=json",
                     "--vmodule=config=2");
    EXPECT_SUP_ERROR("--log-json-split-stream: feature LoggingAlphaOptions is disabled",
                     "--logging-format=json", "--log-json-split-stream");
    char *split_ok[] = { "kcm", "--logging-format=json", "--log-json-split-stream",
                         "--feature-gates=LoggingAlphaOptions=true", "--log-json-info-buffer-size=1Mi" };
    if (load_args(&c, ARGC(split_ok), split_ok, err, sizeof err) != SUP_CONFIG_OK) fail_msg("%s", err);
    assert_true(c.log.split[LOG_FORMAT_JSON]);
    EXPECT_SUP_ERROR("--log-text-info-buffer-size: feature LoggingAlphaOptions",
                     "--log-text-info-buffer-size=4Ki");
    char *buffer0[] = { "kcm", "--log-text-info-buffer-size=0" };
    assert_int_equal(load_args(&c, ARGC(buffer0), buffer0, err, sizeof err), SUP_CONFIG_OK);
    EXPECT_SUP_ERROR("not a quantity", "--log-json-info-buffer-size=lots");
    EXPECT_SUP_ERROR("log format json is disabled, see LoggingBetaOptions feature", "--logging-format=json",
                     "--feature-gates=LoggingBetaOptions=false");
    char *vmod[] = { "kcm", "--vmodule=config=2,supervise=4", "-v=100" };
    if (load_args(&c, ARGC(vmod), vmod, err, sizeof err) != SUP_CONFIG_OK) fail_msg("%s", err);
    assert_string_equal(c.log.vmodule, "config=2,supervise=4");
    assert_int_equal(c.log.verbosity, 100);
}

static void test_sup_version(void **state)
{
    (void)state;
    sup_config_t c;
    char err[512] = "";
    char *v[] = { "kcm", "--version" };
    assert_int_equal(load_args(&c, ARGC(v), v, err, sizeof err), SUP_CONFIG_VERSION);
    assert_int_equal(c.version, 1);
    char *raw[] = { "kcm", "--version=raw" };
    assert_int_equal(load_args(&c, ARGC(raw), raw, err, sizeof err), SUP_CONFIG_VERSION);
    assert_int_equal(c.version, 2);
    char *off[] = { "kcm", "--version=false" };
    assert_int_equal(load_args(&c, ARGC(off), off, err, sizeof err), SUP_CONFIG_OK);
    /* As upstream: every other flag is checked before the version is printed. */
    EXPECT_SUP_ERROR("unrecognized feature gate: Nope", "--version", "--feature-gates=Nope=true");
    char line[128];
    FILE *f = fmemopen(line, sizeof line, "w");
    assert_non_null(f);
    sup_config_print_version(f, false);
    assert_int_equal(fclose(f), 0);
    assert_string_equal(line, "kubus v" KUBUS_VERSION "\n");
}

/* A sample value of the type upstream gives each flag. */
static const char *sample_value(kcm_kind_t kind)
{
    switch (kind) {
    case KCM_BOOL: return "false";
    case KCM_INT: return "-3";
    case KCM_FLOAT: return "0.25";
    case KCM_DURATION: return "1m30s";
    case KCM_STRING: return "a,b=c";
    case KCM_PORT: return "10257";
    case KCM_CONTENT_TYPE: return "application/vnd.kubernetes.protobuf";
    }
    return "";
}

/* Every upstream flag kubus cannot act on is accepted with a value of its
 * type, and recorded for the notice. */
static void test_sup_kcm_flags(void **state)
{
    (void)state;
    const char *prev = "";
    for (size_t i = 0; i < KCM_IGNORED_COUNT; i++) {
        const kcm_flag_t *f = kcm_flag(i);
        assert_true(strcmp(prev, f->name) < 0); /* sorted, no repeats: bsearch finds them */
        prev = f->name;
        assert_true(f->why && f->why[0]);
        char arg[160];
        snprintf(arg, sizeof arg, "--%s=%s", f->name, sample_value(f->kind));
        char *argv[] = { "kcm", arg };
        sup_config_t c;
        char err[512] = "";
        if (load_args(&c, ARGC(argv), argv, err, sizeof err) != SUP_CONFIG_OK) fail_msg("%s: %s", arg, err);
        assert_true(c.kcm_given[i]);
        assert_int_equal(kcm_flag_lookup(f->name), (int)i);
    }
    /* The ones kubus does act on are not in the table. */
    assert_int_equal(kcm_flag_lookup("concurrent-replicaset-syncs"), -1);
    assert_int_equal(kcm_flag_lookup("bind-address"), -1);
    assert_int_equal(kcm_flag_lookup("enable-garbage-collector"), -1);
}

static void test_sup_kcm_flag_values(void **state)
{
    (void)state;
    expect_sup_error("--secure-port=70000", "--secure-port=70000");
    expect_sup_error("--profiling=maybe", "--profiling=maybe: not a boolean");
    expect_sup_error("--kube-api-content-type=text/xml", "must be application/json or "
                     "application/vnd.kubernetes.protobuf");
    expect_sup_error("--node-monitor-grace-period=soon", "not a duration");
    expect_sup_error("--concurrent-service-syncs=x", "not an integer");
    expect_sup_error("--node-eviction-rate=fast", "not a number");
    expect_sup_error("--cluster-cidr", "needs a value");
    sup_config_t c;
    char err[512] = "";
    /* A boolean does not take the next argument; a string does. */
    EXPECT_SUP_ERROR("unexpected argument \"false\"", "--profiling", "false");
    char *str_sep[] = { "kcm", "--cluster-cidr", "10.0.0.0/8", "--use-service-account-credentials",
                        "--concurrent_rc_syncs=5", "--kube-api-content-type=application/json" };
    if (load_args(&c, ARGC(str_sep), str_sep, err, sizeof err) != SUP_CONFIG_OK) fail_msg("%s", err);
    assert_true(c.kcm_given[kcm_flag_lookup("cluster-cidr")]);
    assert_true(c.kcm_given[kcm_flag_lookup("use-service-account-credentials")]);
    assert_true(c.kcm_given[kcm_flag_lookup("concurrent-rc-syncs")]);
    assert_false(c.kcm_given[kcm_flag_lookup("secure-port")]);
}

/* Upstream skips the garbage collector when it is off, whatever
 * --controllers says. */
static void test_sup_enable_gc(void **state)
{
    (void)state;
    sup_config_t c;
    char err[512] = "";
    char *argv[] = { "kcm", "--controllers=*,garbagecollector", "--enable-garbage-collector=false" };
    assert_int_equal(load_args(&c, ARGC(argv), argv, err, sizeof err), SUP_CONFIG_OK);
    assert_false(c.enabled[ctl("garbagecollector")]);
    assert_true(c.enabled[ctl("replicaset")]);
    char *on[] = { "kcm", "--enable-garbage-collector" };
    assert_int_equal(load_args(&c, ARGC(on), on, err, sizeof err), SUP_CONFIG_OK);
    assert_true(c.enabled[ctl("garbagecollector")]);
}

static void controllers(const char *spec, bool enabled[SUP_COMPONENT_COUNT])
{
    char err[512];
    for (size_t i = 0; i < SUP_COMPONENT_COUNT; i++) enabled[i] = true;
    if (sup_controllers_parse(spec, enabled, err, sizeof err) < 0) fail_msg("%s: %s", spec, err);
}

static void test_controllers_semantics(void **state)
{
    (void)state;
    bool e[SUP_COMPONENT_COUNT];
    controllers("*", e);
    for (size_t i = SUP_INFRA_COUNT; i < SUP_COMPONENT_COUNT; i++) assert_true(e[i]);
    controllers("*,-job", e);
    assert_false(e[ctl("job")]);
    assert_true(e[ctl("cronjob")]);
    controllers("replicaset-controller", e);
    assert_true(e[ctl("replicaset")]);
    assert_false(e[ctl("deployment")]);
    controllers("-garbage-collector-controller,*", e);
    assert_false(e[ctl("garbagecollector")]);
    assert_true(e[ctl("deployment")]);
    /* First mention wins, as upstream. */
    controllers("job,-job", e);
    assert_true(e[ctl("job")]);
    controllers("-job,job,*", e);
    assert_false(e[ctl("job")]);
    controllers("", e);
    for (size_t i = SUP_INFRA_COUNT; i < SUP_COMPONENT_COUNT; i++) assert_false(e[i]);
    controllers(" deployment , ttl-after-finished ,", e);
    assert_true(e[ctl("deployment")]);
    assert_true(e[ctl("ttl-after-finished-controller")]);
    assert_false(e[ctl("replicaset")]);
    /* Infra is not the list's business. */
    for (size_t i = 0; i < SUP_INFRA_COUNT; i++) assert_true(e[i]);
    char err[512];
    assert_int_equal(sup_controllers_parse("broker", e, err, sizeof err), -1);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void test_config_file(void **state)
{
    (void)state;
    char path[] = "/tmp/kubus-test-config-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    write_file(path, "# kubus\nport: 12000\ncontrollers: \"*,-job\"\nkube-api-qps: 7\n"
                     "leader-elect: true\nworker-timeout: 3s\n");
    char flag[128];
    snprintf(flag, sizeof flag, "--config=%s", path);
    sup_config_t c;
    char err[512];
    char *argv[] = { "kcm", flag, "--port=12001" };
    assert_int_equal(sup_config_load(&c, ARGC(argv), argv, 1, err, sizeof err), SUP_CONFIG_OK);
    assert_int_equal(c.port, 12001); /* the command line wins */
    assert_false(c.enabled[ctl("job")]);
    assert_true(c.kube_api_qps == 7.0);
    assert_true(c.leader_elect);
    assert_int_equal(c.worker_timeout_ms, 3000);

    write_file(path, "port: 1\nbogus: 2\n");
    assert_int_equal(sup_config_load(&c, 2, argv, 1, err, sizeof err), SUP_CONFIG_ERROR);
    assert_non_null(strstr(err, ":2: unknown key \"bogus\""));
    write_file(path, "port: [1, 2]\n");
    assert_int_equal(sup_config_load(&c, 2, argv, 1, err, sizeof err), SUP_CONFIG_ERROR);
    assert_non_null(strstr(err, "expected a mapping"));
    write_file(path, "port: 99999\n");
    assert_int_equal(sup_config_load(&c, 2, argv, 1, err, sizeof err), SUP_CONFIG_ERROR);
    assert_non_null(strstr(err, ":1: --port=99999"));
    write_file(path, "port: \"unterminated\n");
    assert_int_equal(sup_config_load(&c, 2, argv, 1, err, sizeof err), SUP_CONFIG_ERROR);
    write_file(path, "config: /etc/other\n");
    assert_int_equal(sup_config_load(&c, 2, argv, 1, err, sizeof err), SUP_CONFIG_ERROR);
    write_file(path, "version: true\n");
    assert_int_equal(sup_config_load(&c, 2, argv, 1, err, sizeof err), SUP_CONFIG_ERROR);
    /* Upstream's flags are keys too: accepted without effect, as on the command line. */
    write_file(path, "feature-gates: MaxUnavailableStatefulSet=true\nprofiling: \"false\"\n");
    assert_int_equal(sup_config_load(&c, 2, argv, 1, err, sizeof err), SUP_CONFIG_OK);
    assert_true(fg_enabled_name(&c.feature_gates, "MaxUnavailableStatefulSet"));
    assert_true(c.kcm_given[kcm_flag_lookup("profiling")]);
    write_file(path, "");
    assert_int_equal(sup_config_load(&c, 2, argv, 1, err, sizeof err), SUP_CONFIG_OK);
    unlink(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iter_forms),
        cmocka_unit_test(test_iter_malformed),
        cmocka_unit_test(test_values),
        cmocka_unit_test(test_go_durations),
        cmocka_unit_test(test_worker_good),
        cmocka_unit_test(test_worker_defaults),
        cmocka_unit_test(test_worker_bad),
        cmocka_unit_test(test_worker_gates_and_logging),
        cmocka_unit_test(test_sup_defaults),
        cmocka_unit_test(test_sup_good),
        cmocka_unit_test(test_sup_bad),
        cmocka_unit_test(test_sup_feature_gates),
        cmocka_unit_test(test_sup_logging),
        cmocka_unit_test(test_sup_version),
        cmocka_unit_test(test_sup_kcm_flags),
        cmocka_unit_test(test_sup_kcm_flag_values),
        cmocka_unit_test(test_sup_enable_gc),
        cmocka_unit_test(test_controllers_semantics),
        cmocka_unit_test(test_config_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
