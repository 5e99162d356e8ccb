/* Unit tests for controllers/deployment/dep_spec.c: reading a Deployment's
 * spec, the rolling-update fenceposts (upstream TestResolveFenceposts and
 * MaxSurge/MaxUnavailable rules) and refusal of invalid input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dep_spec.h"

static json_t *deployment(const char *json)
{
    json_error_t e;
    json_t *d = json_loads(json, 0, &e);
    assert_non_null(d);
    return d;
}

static int parse(const char *json, dep_spec_t *s, char *err, size_t errlen)
{
    json_t *d = deployment(json);
    int rc = dep_spec_parse(d, s, err, errlen);
    json_decref(d);
    return rc;
}

static int resolve(const char *surge, const char *unavail, int32_t desired, int32_t *s, int32_t *u)
{
    kobj_intstr_t a, b;
    json_t *js = json_string(surge), *ju = json_string(unavail);
    int rc = -1;
    if (kobj_intstr_parse(js, &a, NULL, 0) == 0 && kobj_intstr_parse(ju, &b, NULL, 0) == 0)
        rc = dep_resolve_fenceposts(&a, &b, desired, s, u);
    json_decref(js);
    json_decref(ju);
    return rc;
}

/* upstream TestResolveFenceposts, restated */
static void test_fenceposts_table(void **state)
{
    (void)state;
    int32_t s = -1, u = -1;
    /* both round to zero: one pod may be unavailable */
    assert_int_equal(resolve("0%", "0%", 0, &s, &u), 0);
    assert_int_equal(s, 0);
    assert_int_equal(u, 1);
    /* surge rounds up, unavailable down */
    assert_int_equal(resolve("39%", "39%", 10, &s, &u), 0);
    assert_int_equal(s, 4);
    assert_int_equal(u, 3);
    assert_int_equal(resolve("oops", "39%", 10, &s, &u), -1);
    assert_int_equal(resolve("55%", "urg", 10, &s, &u), -1);
    /* the tutorial's mydeploy: 10 replicas, 25%/25% -> at most 13 pods, at least 8 available */
    assert_int_equal(resolve("25%", "25%", 10, &s, &u), 0);
    assert_int_equal(s, 3);
    assert_int_equal(u, 2);
    /* 1% of 2 rounds down to 0, surge 0% -> unavailable 1 */
    assert_int_equal(resolve("0%", "1%", 2, &s, &u), 0);
    assert_int_equal(s, 0);
    assert_int_equal(u, 1);
}

static void test_defaults(void **state)
{
    (void)state;
    dep_spec_t s;
    char err[256];
    assert_int_equal(parse("{\"metadata\":{\"generation\":3},\"spec\":{}}", &s, err, sizeof err), 0);
    assert_int_equal(s.replicas, 1);
    assert_int_equal(s.strategy, DEP_ROLLING_UPDATE);
    /* 25% of 1: surge rounds up to 1, unavailable down to 0 */
    assert_int_equal(s.max_surge, 1);
    assert_int_equal(s.max_unavailable, 0);
    assert_true(s.has_history_limit);
    assert_int_equal(s.history_limit, 10);
    assert_true(s.has_progress_deadline);
    assert_int_equal(s.progress_deadline, 600);
    assert_false(s.paused);
    assert_int_equal(s.generation, 3);
    assert_int_equal(dep_min_available(&s), 1);
}

static void test_mydeploy(void **state)
{
    (void)state;
    dep_spec_t s;
    char err[256];
    assert_int_equal(parse("{\"spec\":{\"replicas\":10,\"strategy\":{\"type\":\"RollingUpdate\","
                           "\"rollingUpdate\":{\"maxSurge\":\"25%\",\"maxUnavailable\":\"25%\"}},"
                           "\"minReadySeconds\":5,\"paused\":true}}",
                           &s, err, sizeof err),
                     0);
    assert_int_equal(s.max_surge, 3);
    assert_int_equal(s.max_unavailable, 2);
    assert_int_equal(dep_min_available(&s), 8);
    assert_int_equal(s.min_ready_seconds, 5);
    assert_true(s.paused);
}

static void test_max_unavailable_rules(void **state)
{
    (void)state;
    dep_spec_t s;
    char err[256];
    /* never more unavailable than the whole deployment */
    assert_int_equal(parse("{\"spec\":{\"replicas\":3,\"strategy\":{\"rollingUpdate\":"
                           "{\"maxSurge\":0,\"maxUnavailable\":7}}}}",
                           &s, err, sizeof err),
                     0);
    assert_int_equal(s.max_unavailable, 3);
    /* nothing unavailable of nothing */
    assert_int_equal(parse("{\"spec\":{\"replicas\":0,\"strategy\":{\"rollingUpdate\":"
                           "{\"maxSurge\":\"0%\",\"maxUnavailable\":\"0%\"}}}}",
                           &s, err, sizeof err),
                     0);
    assert_int_equal(s.max_unavailable, 0);
    /* Recreate: no fenceposts at all, rollingUpdate ignored */
    assert_int_equal(parse("{\"spec\":{\"replicas\":4,\"strategy\":{\"type\":\"Recreate\","
                           "\"rollingUpdate\":{\"maxSurge\":\"abc%\"}}}}",
                           &s, err, sizeof err),
                     0);
    assert_int_equal(s.strategy, DEP_RECREATE);
    assert_int_equal(s.max_surge, 0);
    assert_int_equal(s.max_unavailable, 0);
    assert_int_equal(dep_min_available(&s), 0);
}

static void test_unlimited(void **state)
{
    (void)state;
    dep_spec_t s;
    char err[256];
    assert_int_equal(parse("{\"spec\":{\"revisionHistoryLimit\":2147483647,"
                           "\"progressDeadlineSeconds\":2147483647}}",
                           &s, err, sizeof err),
                     0);
    assert_false(s.has_history_limit);
    assert_false(s.has_progress_deadline);
    assert_int_equal(parse("{\"spec\":{\"revisionHistoryLimit\":0}}", &s, err, sizeof err), 0);
    assert_true(s.has_history_limit);
    assert_int_equal(s.history_limit, 0);
}

static void expect_invalid(const char *json, const char *field)
{
    dep_spec_t s;
    char err[256] = "";
    assert_int_equal(parse(json, &s, err, sizeof err), -1);
    if (!strstr(err, field))
        fail_msg("error \"%s\" does not name %s", err, field);
}

static void test_invalid_input(void **state)
{
    (void)state;
    expect_invalid("{\"spec\":{\"strategy\":{\"rollingUpdate\":{\"maxSurge\":\"abc%\"}}}}",
                   "maxSurge");
    expect_invalid("{\"spec\":{\"strategy\":{\"rollingUpdate\":{\"maxUnavailable\":\"5\"}}}}",
                   "maxUnavailable");
    expect_invalid("{\"spec\":{\"strategy\":{\"rollingUpdate\":{\"maxUnavailable\":-1}}}}",
                   "maxUnavailable");
    expect_invalid("{\"spec\":{\"strategy\":{\"rollingUpdate\":{\"maxSurge\":true}}}}", "maxSurge");
    expect_invalid("{\"spec\":{\"revisionHistoryLimit\":-1}}", "revisionHistoryLimit");
    expect_invalid("{\"spec\":{\"replicas\":-2}}", "replicas");
    expect_invalid("{\"spec\":{\"replicas\":\"ten\"}}", "replicas");
    expect_invalid("{\"spec\":{\"replicas\":4294967296}}", "replicas");
    expect_invalid("{\"spec\":{\"progressDeadlineSeconds\":-5}}", "progressDeadlineSeconds");
    expect_invalid("{\"spec\":{\"minReadySeconds\":-5}}", "minReadySeconds");
    expect_invalid("{\"spec\":{\"strategy\":{\"type\":\"BlueGreen\"}}}", "strategy.type");
    expect_invalid("{\"spec\":{\"paused\":\"yes\"}}", "paused");
    expect_invalid("{\"spec\":{\"replicas\":2147483647,\"strategy\":{\"rollingUpdate\":"
                   "{\"maxSurge\":5}}}}",
                   "maxSurge");
    dep_spec_t s;
    char err[64];
    assert_int_equal(dep_spec_parse(NULL, &s, err, sizeof err), -1);
    json_t *arr = json_array();
    assert_int_equal(dep_spec_parse(arr, &s, err, sizeof err), -1);
    json_decref(arr);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fenceposts_table),   cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_mydeploy),           cmocka_unit_test(test_max_unavailable_rules),
        cmocka_unit_test(test_unlimited),          cmocka_unit_test(test_invalid_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
