/* Unit tests for the supervisor's pure parts: the worker state machine
 * (wstate.c), the worker table and argv (table.c), and the HTTP texts
 * (report.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tmpdir_fixture.h"

#include "components.h"
#include "config.h"
#include "report.h"
#include "table.h"
#include "wstate.h"

static void test_transitions(void **state)
{
    (void)state;
    /* The normal life: start, ready, crash, back off, start again. */
    assert_int_equal(sup_wstate_next(SUP_W_DOWN, SUP_EV_SPAWNED), SUP_W_STARTING);
    assert_int_equal(sup_wstate_next(SUP_W_STARTING, SUP_EV_READY), SUP_W_UP);
    assert_int_equal(sup_wstate_next(SUP_W_UP, SUP_EV_EXITED), SUP_W_BACKOFF);
    assert_int_equal(sup_wstate_next(SUP_W_BACKOFF, SUP_EV_BACKOFF_DONE), SUP_W_DOWN);
    /* Crash before ready; fork failure. */
    assert_int_equal(sup_wstate_next(SUP_W_STARTING, SUP_EV_EXITED), SUP_W_BACKOFF);
    assert_int_equal(sup_wstate_next(SUP_W_DOWN, SUP_EV_SPAWN_FAILED), SUP_W_BACKOFF);
    /* Hung or asked to stop: DYING until the exit is reaped. */
    assert_int_equal(sup_wstate_next(SUP_W_UP, SUP_EV_HUNG), SUP_W_DYING);
    assert_int_equal(sup_wstate_next(SUP_W_STARTING, SUP_EV_HUNG), SUP_W_DYING);
    assert_int_equal(sup_wstate_next(SUP_W_UP, SUP_EV_STOP), SUP_W_DYING);
    assert_int_equal(sup_wstate_next(SUP_W_STARTING, SUP_EV_STOP), SUP_W_DYING);
    assert_int_equal(sup_wstate_next(SUP_W_DYING, SUP_EV_EXITED), SUP_W_BACKOFF);
    /* Stopping cancels a pending restart. */
    assert_int_equal(sup_wstate_next(SUP_W_BACKOFF, SUP_EV_STOP), SUP_W_DOWN);
}

static void test_ignored_events(void **state)
{
    (void)state;
    /* Events that mean nothing in a state change nothing. */
    assert_int_equal(sup_wstate_next(SUP_W_DOWN, SUP_EV_READY), -1);
    assert_int_equal(sup_wstate_next(SUP_W_DOWN, SUP_EV_EXITED), -1);
    assert_int_equal(sup_wstate_next(SUP_W_DOWN, SUP_EV_STOP), -1);
    assert_int_equal(sup_wstate_next(SUP_W_UP, SUP_EV_READY), -1);
    assert_int_equal(sup_wstate_next(SUP_W_UP, SUP_EV_SPAWNED), -1);
    assert_int_equal(sup_wstate_next(SUP_W_DYING, SUP_EV_READY), -1);
    assert_int_equal(sup_wstate_next(SUP_W_DYING, SUP_EV_STOP), -1);
    assert_int_equal(sup_wstate_next(SUP_W_DYING, SUP_EV_HUNG), -1);
    assert_int_equal(sup_wstate_next(SUP_W_BACKOFF, SUP_EV_SPAWNED), -1);
    for (int ev = SUP_EV_SPAWNED; ev <= SUP_EV_BACKOFF_DONE; ev++)
        assert_int_equal(sup_wstate_next(SUP_W_ABSENT, (sup_wevent_t)ev), -1);
    assert_int_equal(sup_wstate_next((sup_wstate_t)42, SUP_EV_SPAWNED), -1);
}

static void test_state_names(void **state)
{
    (void)state;
    assert_string_equal(sup_wstate_name(SUP_W_UP), "up");
    assert_string_equal(sup_wstate_name(SUP_W_BACKOFF), "backoff");
    assert_string_equal(sup_wstate_name(SUP_W_ABSENT), "absent");
    assert_string_equal(sup_wstate_name((sup_wstate_t)42), "?");
    assert_true(sup_wstate_running(SUP_W_DYING));
    assert_false(sup_wstate_running(SUP_W_BACKOFF));
}

static void test_components(void **state)
{
    (void)state;
    assert_string_equal(sup_component(0)->name, "broker");
    assert_string_equal(sup_component(1)->name, "informer");
    assert_string_equal(sup_component(2)->name, "executor");
    int gc = sup_controller_lookup("garbage-collector-controller");
    assert_int_equal(gc, sup_controller_lookup("garbagecollector"));
    assert_string_equal(sup_component((size_t)gc)->binary, "kubus-garbagecollector");
    int ttl = sup_controller_lookup("ttl-after-finished");
    assert_string_equal(sup_component((size_t)ttl)->binary, "kubus-ttlafterfinished");
    assert_int_equal(sup_controller_lookup("broker"), -1);
    assert_int_equal(sup_controller_lookup("nodeipam-controller"), -1);
    assert_null(sup_component(SUP_COMPONENT_COUNT));
}

/* A bin dir holding an executable kubus-broker and kubus-replicaset only. */
static void make_bin_dir(char *dir, size_t len)
{
    assert_int_equal(tmpdir_make(dir, len, "test-bin"), 0);
    const char *names[] = { "kubus-broker", "kubus-replicaset" };
    for (size_t i = 0; i < 2; i++) {
        char p[256];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        FILE *f = fopen(p, "w");
        assert_non_null(f);
        fclose(f);
        assert_int_equal(chmod(p, 0755), 0);
    }
}

static void remove_bin_dir(const char *dir) { assert_int_equal(tmpdir_remove(dir), 0); }

static void load(sup_config_t *c, const char *bin_dir, const char *controllers)
{
    char f1[300], f2[300];
    snprintf(f1, sizeof f1, "--bin-dir=%s", bin_dir);
    snprintf(f2, sizeof f2, "--controllers=%s", controllers);
    char *argv[] = { "kcm", f1, f2, "--bus-dir=/tmp/kb", "--kubeconfig=/k", "-v=3",
                     "--concurrent-replicaset-syncs=8", "--kube-api-qps=12.5" };
    char err[512];
    if (sup_config_load(c, 8, argv, 1, err, sizeof err) != SUP_CONFIG_OK) fail_msg("%s", err);
}

static void test_table_build(void **state)
{
    (void)state;
    char dir[64];
    make_bin_dir(dir, sizeof dir);
    sup_config_t c;
    load(&c, dir, "replicaset,deployment");
    sup_table_t t;
    sup_table_build(&t, &c, NULL);
    assert_int_equal(t.n, 5); /* 3 infra + 2 enabled controllers, in start order */
    const char *names[] = { "broker", "informer", "executor", "replicaset", "deployment" };
    sup_wstate_t states[] = { SUP_W_DOWN, SUP_W_ABSENT, SUP_W_ABSENT, SUP_W_DOWN, SUP_W_ABSENT };
    for (size_t i = 0; i < t.n; i++) {
        assert_string_equal(t.w[i].comp->name, names[i]);
        assert_int_equal(t.w[i].state, states[i]);
        assert_int_equal(t.w[i].status_fd, -1);
        assert_true(t.w[i].initial);
    }
    assert_int_equal(t.w[3].concurrency, 8);
    /* Counters survive a rebuild (SIGHUP). */
    t.w[0].generation = 4;
    t.w[0].restarts = 2;
    t.w[0].last_exit_signal = 9;
    t.malformed_heartbeats = 3;
    sup_table_t again;
    load(&c, dir, "*,-deployment");
    sup_table_build(&again, &c, &t);
    assert_int_equal(again.n, SUP_COMPONENT_COUNT - 1);
    assert_int_equal(again.w[0].generation, 4);
    assert_int_equal(again.w[0].restarts, 2);
    assert_int_equal(again.w[0].last_exit_signal, 9);
    assert_int_equal(again.malformed_heartbeats, 3);
    remove_bin_dir(dir);
}

static void test_argv(void **state)
{
    (void)state;
    char dir[64];
    make_bin_dir(dir, sizeof dir);
    sup_config_t c;
    load(&c, dir, "replicaset");
    sup_table_t t;
    sup_table_build(&t, &c, NULL);
    sup_worker_t *rs = &t.w[3];
    rs->generation = 6;
    sup_argv_t a;
    assert_int_equal(sup_argv_build(&a, &c, rs, 3), 0);
    char want0[300];
    snprintf(want0, sizeof want0, "%s/kubus-replicaset", dir);
    assert_string_equal(a.argv[0], want0);
    const char *want[] = { "--name=replicaset", "--generation=6", "--status-fd=3",
                           "--bus-dir=/tmp/kb", "--kubeconfig=/k", "--kube-api-qps=12.5",
                           "--kube-api-burst=30", "--concurrent-syncs=8", "--shard-index=0",
                           "--shard-count=1", "-v=3", "--logging-format=text" };
    assert_int_equal(a.argc, 1 + (int)(sizeof want / sizeof want[0]));
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) assert_string_equal(a.argv[i + 1], want[i]);
    assert_null(a.argv[a.argc]);
    /* Infra workers get no --concurrent-syncs; no --master when unset. */
    assert_int_equal(sup_argv_build(&a, &c, &t.w[0], 3), 0);
    for (int i = 0; i < a.argc; i++) {
        assert_null(strstr(a.argv[i], "--concurrent-syncs"));
        assert_null(strstr(a.argv[i], "--master"));
        assert_null(strstr(a.argv[i], "--feature-gates")); /* none set: none passed */
    }
    remove_bin_dir(dir);
}

/* Gates and logging flags reach every worker the way the others do. */
static void test_argv_gates_and_logging(void **state)
{
    (void)state;
    char dir[64];
    make_bin_dir(dir, sizeof dir);
    char bin[300];
    snprintf(bin, sizeof bin, "--bin-dir=%s", dir);
    char *argv[] = { "kcm", bin, "--controllers=replicaset", "--vmodule=sync=4",
                     "--feature-gates=MaxUnavailableStatefulSet=true,LoggingAlphaOptions=true",
                     "--log-text-split-stream", "--cluster-cidr=10.0.0.0/8" };
    sup_config_t c;
    char err[512];
    if (sup_config_load(&c, 7, argv, 1, err, sizeof err) != SUP_CONFIG_OK) fail_msg("%s", err);
    sup_table_t t;
    sup_table_build(&t, &c, NULL);
    for (size_t w = 0; w < t.n; w++) {
        sup_argv_t a;
        assert_int_equal(sup_argv_build(&a, &c, &t.w[w], 3), 0);
        const char *want[] = { "--vmodule=sync=4", "--log-text-split-stream=true",
                               "--feature-gates=LoggingAlphaOptions=true,MaxUnavailableStatefulSet=true" };
        for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
            bool found = false;
            for (int i = 0; i < a.argc; i++) found = found || strcmp(a.argv[i], want[k]) == 0;
            if (!found) fail_msg("%s: no %s", t.w[w].comp->name, want[k]);
        }
        /* Upstream flags without effect stay with the supervisor. */
        for (int i = 0; i < a.argc; i++) assert_null(strstr(a.argv[i], "cluster-cidr"));
        /* And the worker takes what it is given. */
        worker_opts_t o;
        worker_opts_defaults(&o, "w");
        if (worker_opts_parse(&o, a.argc, a.argv, NULL, err, sizeof err) != 0)
            fail_msg("%s: %s", t.w[w].comp->name, err);
        assert_true(fg_enabled_name(&o.feature_gates, "MaxUnavailableStatefulSet"));
        assert_true(o.log.split[LOG_FORMAT_TEXT]);
    }
    remove_bin_dir(dir);
}

static void test_reports(void **state)
{
    (void)state;
    char dir[64];
    make_bin_dir(dir, sizeof dir);
    sup_config_t c;
    load(&c, dir, "replicaset");
    sup_table_t t;
    sup_table_build(&t, &c, NULL);
    sup_worker_t *b = &t.w[0], *rs = &t.w[3];
    b->state = SUP_W_UP;
    b->reported_ready = true;
    b->pid = 4242;
    b->generation = 3;
    b->restarts = 2;
    b->started_ms = 1000;
    b->progress = 77;
    b->last_exit_signal = 9;
    rs->state = SUP_W_BACKOFF;
    rs->generation = 5;
    rs->last_exit_code = 1;
    t.malformed_heartbeats = 4;

    char *s = sup_report_statusz(&t, 66000);
    assert_non_null(s);
    assert_true(strncmp(s, "NAME ", 5) == 0);
    char name[64], st[16], pid[16], up[16], last[32];
    unsigned gen;
    unsigned long long restarts;
    const char *row = strstr(s, "\nbroker");
    assert_non_null(row);
    assert_int_equal(sscanf(row, "%63s %15s %15s %u %llu %15s %31s", name, st, pid, &gen, &restarts, up, last), 7);
    assert_string_equal(st, "up");
    assert_string_equal(pid, "4242");
    assert_int_equal(gen, 3);
    assert_int_equal(restarts, 2);
    assert_string_equal(up, "1m5s");
    assert_string_equal(last, "signal=9");
    row = strstr(s, "\nreplicaset");
    assert_non_null(row);
    assert_int_equal(sscanf(row, "%63s %15s %15s %u %llu %15s %31s", name, st, pid, &gen, &restarts, up, last), 7);
    assert_string_equal(st, "backoff");
    assert_string_equal(pid, "-");
    assert_string_equal(last, "code=1");
    assert_non_null(strstr(s, "\ninformer             absent"));
    free(s);

    s = sup_report_metrics(&t);
    assert_non_null(s);
    assert_non_null(strstr(s, "kubus_worker_up{worker=\"broker\"} 1\n"));
    assert_non_null(strstr(s, "kubus_worker_up{worker=\"replicaset\"} 0\n"));
    assert_non_null(strstr(s, "kubus_worker_restarts_total{worker=\"broker\"} 2\n"));
    assert_non_null(strstr(s, "kubus_worker_generation{worker=\"replicaset\"} 5\n"));
    assert_non_null(strstr(s, "kubus_worker_last_exit_code{worker=\"replicaset\"} 1\n"));
    assert_non_null(strstr(s, "kubus_worker_last_exit_signal{worker=\"broker\"} 9\n"));
    assert_non_null(strstr(s, "kubus_worker_progress{worker=\"broker\"} 77\n"));
    assert_non_null(strstr(s, "# TYPE kubus_worker_restarts_total counter\n"));
    assert_non_null(strstr(s, "kubus_supervisor_malformed_heartbeats_total 4\n"));
    /* controller-manager's gauge: controllers only, 0 while not running */
    assert_non_null(strstr(s, "\n# TYPE running_managed_controllers gauge\n"));
    assert_non_null(strstr(s, "\nrunning_managed_controllers{manager=\"kube-controller-manager\",name=\"replicaset-controller\"} 0\n"));
    assert_null(strstr(s, "running_managed_controllers{manager=\"kube-controller-manager\",name=\"broker\"}"));
    assert_non_null(strstr(s, "\n# TYPE kubernetes_build_info gauge\n"));
    assert_non_null(strstr(s, ",git_version=\"v" KUBUS_VERSION "\",go_version=\"\",major=\""));
    free(s);

    /* With the gates: upstream's feature metric for every known gate. */
    fg_set_t gates;
    fg_set_init(&gates);
    char err[256];
    assert_int_equal(fg_parse(&gates, "MaxUnavailableStatefulSet=true", err, sizeof err), 0);
    s = sup_report_metrics_ex(&t, NULL, &gates);
    assert_non_null(s);
    assert_non_null(strstr(s, "\n# TYPE kubernetes_feature_enabled gauge\n"));
    assert_non_null(strstr(s, "\nkubernetes_feature_enabled{name=\"MaxUnavailableStatefulSet\",stage=\"BETA\"} 1\n"));
    assert_non_null(strstr(s, "\nkubernetes_feature_enabled{name=\"InOrderInformers\",stage=\"\"} 1\n"));
    assert_non_null(strstr(s, "\nkubernetes_feature_enabled{name=\"AllAlpha\",stage=\"ALPHA\"} 0\n"));
    free(s);
    remove_bin_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_transitions),
        cmocka_unit_test(test_ignored_events),
        cmocka_unit_test(test_state_names),
        cmocka_unit_test(test_components),
        cmocka_unit_test(test_table_build),
        cmocka_unit_test(test_argv),
        cmocka_unit_test(test_argv_gates_and_logging),
        cmocka_unit_test(test_reports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
