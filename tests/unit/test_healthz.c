/* Unit tests for the health endpoints: the responses as k8s.io/apiserver's
 * healthz package writes them (supervisor/healthz.c) and which checks fail
 * when (supervisor/checks.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "checks.h"
#include "components.h"
#include "healthz.h"

/* ---- rendering ---- */

static sup_checks_t two_checks(bool second_ok)
{
    sup_checks_t l = { .n = 0 };
    sup_checks_add(&l, "broker", true, "%s", "");
    sup_checks_add(&l, "replicaset-controller", second_ok, "no heartbeat for %d ms", 3200);
    return l;
}

static void expect_reply(sup_healthz_reply_t r, int status, const char *body)
{
    assert_non_null(r.body);
    if (r.status != status || strcmp(r.body, body) != 0)
        fail_msg("got %d \"%s\", want %d \"%s\"", r.status, r.body, status, body);
    free(r.body);
}

static void test_root(void **state)
{
    (void)state;
    sup_checks_t ok = two_checks(true), bad = two_checks(false);
    sup_healthz_query_t q = { 0 };
    expect_reply(sup_healthz_root(&ok, "healthz", &q), 200, "ok");
    q.verbose = true;
    expect_reply(sup_healthz_root(&ok, "livez", &q), 200,
                 "[+]broker ok\n[+]replicaset-controller ok\nlivez check passed\n");
    /* A failure lists every check, verbose or not, and withholds the reason. */
    q.verbose = false;
    expect_reply(sup_healthz_root(&bad, "healthz", &q), 500,
                 "[+]broker ok\n[-]replicaset-controller failed: reason withheld\nhealthz check failed\n");
    sup_checks_t none = { .n = 0 };
    expect_reply(sup_healthz_root(&none, "readyz", &q), 200, "ok");
}

static void test_exclude(void **state)
{
    (void)state;
    sup_checks_t bad = two_checks(false);
    sup_healthz_query_t q = { .nexclude = 1, .exclude = { "replicaset-controller" } };
    expect_reply(sup_healthz_root(&bad, "healthz", &q), 200, "ok");
    q.verbose = true;
    expect_reply(sup_healthz_root(&bad, "healthz", &q), 200,
                 "[+]broker ok\n[+]replicaset-controller excluded: ok\nhealthz check passed\n");
    /* Names that match nothing: sorted, once, Go-quoted. */
    sup_healthz_query_t q2 = { .verbose = true, .nexclude = 4,
                               .exclude = { "zeta", "broker", "al\"pha", "zeta" } };
    expect_reply(sup_healthz_root(&bad, "readyz", &q2), 500,
                 "[+]broker excluded: ok\n[-]replicaset-controller failed: reason withheld\n"
                 "warn: some health checks cannot be excluded: no matches for \"al\\\"pha\",\"zeta\"\n"
                 "readyz check failed\n");
}

static void test_one(void **state)
{
    (void)state;
    sup_checks_t bad = two_checks(false);
    expect_reply(sup_healthz_one(&bad, "broker"), 200, "ok");
    expect_reply(sup_healthz_one(&bad, "replicaset-controller"), 500,
                 "internal server error: no heartbeat for 3200 ms\n");
    expect_reply(sup_healthz_one(&bad, "nope"), 404, "404 page not found\n");
    expect_reply(sup_healthz_one(&bad, ""), 404, "404 page not found\n");
}

/* ---- which checks, and when they fail ---- */

static sup_table_t table_of(const char *const *names, size_t n)
{
    sup_table_t t = { .n = 0 };
    for (size_t i = 0; i < n; i++) {
        sup_worker_t *w = &t.w[t.n++];
        memset(w, 0, sizeof *w);
        w->comp = sup_component((size_t)sup_component_by_name(names[i]));
        w->state = SUP_W_UP;
        w->reported_ready = true;
        w->pid = 100 + (int)i;
        w->heard_ms = 10000;
    }
    return t;
}

static void test_health_checks(void **state)
{
    (void)state;
    static const char *const names[] = { "broker", "informer", "executor", "replicaset",
                                         "garbagecollector" };
    sup_table_t t = table_of(names, 5);
    sup_checks_ctx_t x = { .now_ms = 11000, .stale_ms = 3000 };
    sup_checks_t l;
    sup_checks_healthz(&t, &x, &l);
    /* Upstream's names: the --controllers name of each controller. */
    static const char *const want[] = { "broker", "informer", "executor", "replicaset-controller",
                                        "garbage-collector-controller" };
    assert_int_equal(l.n, 5);
    for (size_t i = 0; i < l.n; i++) {
        assert_string_equal(l.c[i].name, want[i]);
        assert_true(l.c[i].ok);
    }
    /* Heartbeats stopped 3.5 s ago: that worker fails, with the reason. */
    t.w[3].heard_ms = 7500;
    sup_checks_healthz(&t, &x, &l);
    assert_false(l.c[3].ok);
    assert_string_equal(l.c[3].reason, "no heartbeat for 3500 ms (pid 103)");
    assert_true(l.c[2].ok);
    /* Not running: fails; not installed: no check at all. */
    t.w[2].state = SUP_W_BACKOFF;
    t.w[1].state = SUP_W_ABSENT;
    sup_checks_healthz(&t, &x, &l);
    assert_int_equal(l.n, 4);
    assert_null(sup_checks_find(&l, "informer"));
    assert_false(sup_checks_find(&l, "executor")->ok);
    assert_non_null(strstr(sup_checks_find(&l, "executor")->reason, "waiting to restart"));
    assert_int_equal(sup_checks_stale_ms(10000), 3000);
    assert_int_equal(sup_checks_stale_ms(2000), 2000);
}

static void test_leader_election_check(void **state)
{
    (void)state;
    static const char *const names[] = { "broker", "executor", "replicaset" };
    sup_table_t t = table_of(names, 3);
    sup_report_leader_t ld = { .enabled = true, .leading = true, .lease = "kube-system/kubus-shard-0-of-1",
                               .renewed_ms = 10000, .lease_ms = 15000 };
    sup_checks_ctx_t x = { .now_ms = 11000, .stale_ms = 3000, .ld = &ld };
    sup_checks_t l;
    sup_checks_healthz(&t, &x, &l);
    assert_string_equal(l.c[0].name, "leaderElection");
    assert_true(l.c[0].ok);
    /* Leading, but nothing renewed for lease duration + 20 s: client-go's adaptor fails. */
    x.now_ms = 10000 + 15000 + 20001;
    for (size_t i = 0; i < t.n; i++) t.w[i].heard_ms = x.now_ms;
    sup_checks_healthz(&t, &x, &l);
    assert_false(l.c[0].ok);
    assert_string_equal(l.c[0].reason,
                        "failed election to renew leadership on lease kube-system/kubus-shard-0-of-1");
    /* A standby is never unhealthy for the election, and has no checks for
     * the workers it does not run. */
    ld.leading = false;
    sup_checks_healthz(&t, &x, &l);
    assert_int_equal(l.n, 2);
    assert_true(l.c[0].ok);
    assert_string_equal(l.c[1].name, "broker");
}

static void test_ready_checks(void **state)
{
    (void)state;
    static const char *const names[] = { "broker", "replicaset" };
    sup_table_t t = table_of(names, 2);
    sup_checks_ctx_t x = { .now_ms = 11000, .stale_ms = 3000 };
    sup_checks_t l;
    sup_checks_readyz(&t, &x, &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.c[0].name, "shutdown");
    for (size_t i = 0; i < l.n; i++) assert_true(l.c[i].ok);
    t.w[1].reported_ready = false;
    sup_checks_readyz(&t, &x, &l);
    assert_false(l.c[2].ok);
    assert_string_equal(l.c[2].reason, "its last heartbeat said not ready");
    t.w[1].reported_ready = true;
    t.w[1].state = SUP_W_STARTING;
    sup_checks_readyz(&t, &x, &l);
    assert_string_equal(l.c[2].reason, "starting: no READY heartbeat yet");
    /* Silent: not ready either, whatever its last heartbeat said. */
    t.w[1].state = SUP_W_UP;
    t.w[0].heard_ms = 1000;
    sup_checks_readyz(&t, &x, &l);
    assert_false(l.c[1].ok);
    x.stopping = true;
    sup_checks_readyz(&t, &x, &l);
    assert_false(l.c[0].ok);
    assert_string_equal(l.c[0].reason, "process is shutting down");
    sup_checks_livez(&l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.c[0].name, "ping");
    assert_true(l.c[0].ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_root),
        cmocka_unit_test(test_exclude),
        cmocka_unit_test(test_one),
        cmocka_unit_test(test_health_checks),
        cmocka_unit_test(test_leader_election_check),
        cmocka_unit_test(test_ready_checks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
