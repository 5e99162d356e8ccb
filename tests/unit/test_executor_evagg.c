/* Unit tests for executor/evagg.c: Event aggregation keys, count bumping, LRU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "evagg.h"

#define SPEC(name, reason, msg)                                                                    \
    "{\"involvedObject\":{\"kind\":\"ReplicaSet\",\"namespace\":\"ns1\",\"name\":\"" name           \
    "\",\"uid\":\"u-1\",\"apiVersion\":\"apps/v1\",\"resourceVersion\":\"7\"},"                      \
    "\"type\":\"Normal\",\"reason\":\"" reason "\",\"message\":\"" msg "\","                      \
    "\"source\":{\"component\":\"replicaset-controller\"}}"

static evagg_spec_t *parse(const char *json)
{
    char err[256];
    evagg_spec_t *s = evagg_spec_parse(json, strlen(json), "", err, sizeof err);
    if (!s) fail_msg("parse: %s", err);
    return s;
}

static const uint64_t T0 = 1795000000000000000ull; /* unix ns */

static void test_first_posts_then_patch_bumps_count(void **state)
{
    (void)state;
    evagg_t *ea = evagg_new(EVAGG_CAPACITY, EVAGG_WINDOW_MS);
    evagg_spec_t *s = parse(SPEC("web", "SuccessfulCreate", "Created pod: web-abcde"));
    evagg_plan_t p;
    assert_int_equal(evagg_plan(ea, s, 1000, T0, &p), 0);
    assert_false(p.patch);
    assert_int_equal(p.count, 1);
    assert_string_equal(p.namespace_, "ns1");
    char want[64];
    snprintf(want, sizeof want, "web.%016llx", (unsigned long long)T0);
    assert_string_equal(p.name, want);
    json_t *body = json_loads(p.body, 0, NULL);
    assert_non_null(body);
    assert_int_equal(json_integer_value(json_object_get(body, "count")), 1);
    assert_string_equal(json_string_value(json_object_get(body, "reason")), "SuccessfulCreate");
    assert_string_equal(json_string_value(json_object_get(json_object_get(body, "involvedObject"), "uid")), "u-1");
    assert_string_equal(json_string_value(json_object_get(json_object_get(body, "metadata"), "namespace")), "ns1");
    assert_non_null(json_object_get(body, "firstTimestamp"));
    json_decref(body);

    /* The same event again while the POST is in flight: wait, do not create a second one. */
    evagg_plan_t p2;
    assert_int_equal(evagg_plan(ea, s, 1001, T0 + 1, &p2), EVAGG_BUSY);
    evagg_done(ea, evagg_spec_key(s), EVAGG_OK, 1002);

    /* Now it bumps the count of the same Event. */
    assert_int_equal(evagg_plan(ea, s, 2000, T0 + 5, &p2), 0);
    assert_true(p2.patch);
    assert_int_equal(p2.count, 2);
    assert_string_equal(p2.name, want);
    body = json_loads(p2.body, 0, NULL);
    assert_int_equal(json_integer_value(json_object_get(body, "count")), 2);
    assert_non_null(json_object_get(body, "lastTimestamp"));
    json_decref(body);
    evagg_done(ea, evagg_spec_key(s), EVAGG_OK, 2001);
    evagg_plan_clear(&p2);

    assert_int_equal(evagg_plan(ea, s, 3000, T0 + 9, &p2), 0);
    assert_int_equal(p2.count, 3);
    /* A failed bump keeps the last good count. */
    evagg_done(ea, evagg_spec_key(s), EVAGG_FAILED, 3001);
    evagg_plan_clear(&p2);
    assert_int_equal(evagg_plan(ea, s, 3002, T0 + 10, &p2), 0);
    assert_int_equal(p2.count, 3);
    /* The Event expired on the server (PATCH 404): start a new one. */
    evagg_done(ea, evagg_spec_key(s), EVAGG_GONE, 3003);
    evagg_plan_clear(&p2);
    assert_int_equal(evagg_plan(ea, s, 3004, T0 + 11, &p2), 0);
    assert_false(p2.patch);
    assert_int_equal(p2.count, 1);
    evagg_plan_clear(&p2);
    evagg_plan_clear(&p);
    evagg_spec_free(&s);
    evagg_destroy(&ea);
}

static void test_window_expiry_creates_new_event(void **state)
{
    (void)state;
    evagg_t *ea = evagg_new(16, EVAGG_WINDOW_MS);
    evagg_spec_t *s = parse(SPEC("web", "R", "m"));
    evagg_plan_t p;
    assert_int_equal(evagg_plan(ea, s, 1000, T0, &p), 0);
    evagg_done(ea, evagg_spec_key(s), EVAGG_OK, 1000);
    evagg_plan_clear(&p);
    assert_int_equal(evagg_plan(ea, s, 1000 + EVAGG_WINDOW_MS + 1, T0 + 1, &p), 0);
    assert_false(p.patch);
    assert_int_equal(p.count, 1);
    evagg_done(ea, evagg_spec_key(s), EVAGG_OK, 1000 + EVAGG_WINDOW_MS + 1);
    evagg_plan_clear(&p);
    evagg_spec_free(&s);
    evagg_destroy(&ea);
}

static void test_keys(void **state)
{
    (void)state;
    evagg_spec_t *a = parse(SPEC("web", "R", "m"));
    evagg_spec_t *b = parse(SPEC("web", "R", "m"));
    evagg_spec_t *c = parse(SPEC("web", "R", "other message"));
    evagg_spec_t *d = parse(SPEC("web", "Other", "m"));
    evagg_spec_t *e = parse(SPEC("db", "R", "m"));
    /* resourceVersion is not part of the key (it changes on every update). */
    const char *rv = "{\"involvedObject\":{\"kind\":\"ReplicaSet\",\"namespace\":\"ns1\",\"name\":\"web\","
                     "\"uid\":\"u-1\",\"apiVersion\":\"apps/v1\",\"resourceVersion\":\"8\"},"
                     "\"type\":\"Normal\",\"reason\":\"R\",\"message\":\"m\","
                     "\"source\":{\"component\":\"replicaset-controller\"}}";
    evagg_spec_t *f = parse(rv);
    assert_string_equal(evagg_spec_key(a), evagg_spec_key(b));
    assert_string_equal(evagg_spec_key(a), evagg_spec_key(f));
    assert_string_not_equal(evagg_spec_key(a), evagg_spec_key(c));
    assert_string_not_equal(evagg_spec_key(a), evagg_spec_key(d));
    assert_string_not_equal(evagg_spec_key(a), evagg_spec_key(e));
    evagg_spec_free(&a); evagg_spec_free(&b); evagg_spec_free(&c);
    evagg_spec_free(&d); evagg_spec_free(&e); evagg_spec_free(&f);
}

static void test_bad_specs_refused(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "[]",
        "{\"type\":\"Normal\",\"reason\":\"R\",\"source\":{\"component\":\"c\"}}",
        "{\"involvedObject\":{\"kind\":\"Pod\"},\"type\":\"Normal\",\"reason\":\"R\",\"source\":{\"component\":\"c\"}}",
        "{\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\"},\"type\":\"Info\",\"reason\":\"R\",\"source\":{\"component\":\"c\"}}",
        "{\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\"},\"type\":\"Normal\",\"source\":{\"component\":\"c\"}}",
        "{\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\"},\"type\":\"Normal\",\"reason\":\"R\"}",
        "{\"involvedObject\":{\"kind\":\"Pod\",\"name\":7},\"type\":\"Normal\",\"reason\":\"R\",\"source\":{\"component\":\"c\"}}",
        "{\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p\"},\"type\":\"Normal\",\"reason\":\"R\",\"message\":[],\"source\":{\"component\":\"c\"}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[256] = "";
        evagg_spec_t *s = evagg_spec_parse(bad[i], strlen(bad[i]), "", err, sizeof err);
        if (s) fail_msg("accepted bad spec %zu", i);
        assert_true(strlen(err) > 0);
    }
    /* No namespace anywhere: "default"; the action's namespace next. */
    const char *nons = "{\"involvedObject\":{\"kind\":\"Node\",\"name\":\"n1\"},\"type\":\"Warning\","
                       "\"reason\":\"R\",\"source\":{\"component\":\"c\"}}";
    evagg_t *ea = evagg_new(4, EVAGG_WINDOW_MS);
    evagg_spec_t *s = evagg_spec_parse(nons, strlen(nons), "", NULL, 0);
    assert_non_null(s);
    evagg_plan_t p;
    assert_int_equal(evagg_plan(ea, s, 1, T0, &p), 0);
    assert_string_equal(p.namespace_, "default");
    evagg_plan_clear(&p);
    evagg_spec_free(&s);
    evagg_destroy(&ea);
}

/* Plans and completes one event about pod p<i>; returns whether it was a PATCH. */
static bool record(evagg_t *ea, int i, uint64_t now)
{
    char json[512];
    snprintf(json, sizeof json,
             "{\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"p%d\"},\"type\":\"Normal\","
             "\"reason\":\"R\",\"message\":\"m\",\"source\":{\"component\":\"c\"}}", i);
    evagg_spec_t *s = parse(json);
    evagg_plan_t p;
    assert_int_equal(evagg_plan(ea, s, now, T0 + now, &p), 0);
    bool patch = p.patch;
    evagg_done(ea, evagg_spec_key(s), EVAGG_OK, now);
    evagg_plan_clear(&p);
    evagg_spec_free(&s);
    return patch;
}

static void test_lru_bound(void **state)
{
    (void)state;
    evagg_t *ea = evagg_new(EVAGG_CAPACITY, EVAGG_WINDOW_MS);
    uint64_t now = 1000;
    for (int i = 0; i < EVAGG_CAPACITY + 100; i++) {
        assert_false(record(ea, i, now++));
        /* p0 is used again just before the table fills: most recent, kept. */
        if (i == EVAGG_CAPACITY - 2) assert_true(record(ea, 0, now++));
        assert_true(evagg_size(ea) <= EVAGG_CAPACITY);
    }
    assert_int_equal(evagg_size(ea), EVAGG_CAPACITY);
    assert_true(record(ea, 0, now++));                    /* survived */
    assert_true(record(ea, EVAGG_CAPACITY + 99, now++));  /* newest: still there */
    assert_false(record(ea, 1, now++));                   /* least recent: evicted */
    evagg_destroy(&ea);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_posts_then_patch_bumps_count),
        cmocka_unit_test(test_window_expiry_creates_new_event),
        cmocka_unit_test(test_keys),
        cmocka_unit_test(test_bad_specs_refused),
        cmocka_unit_test(test_lru_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
