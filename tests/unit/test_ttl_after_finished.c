/* Unit tests for the TTL-after-finished controller: which Jobs need
 * cleanup and when they expire (ttl_core.c), and the sync on the runtime's
 * test mode: not before the TTL (queued for later), then a live GET, and
 * only a still-expired fresh copy is deleted, Background, with its uid as
 * precondition. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/kobj.h"
#include "ctrl/runtime.h"
#include "ctrl_fixture.h"
#include "ttl_core.h"
#include "ttl_sync.h"

#define FINISH 1700000000   /* 2023-11-14T22:13:20Z */

/* The actions the controller sent since the last fx_reset. */
static fx_sent_t sent;

static json_t *job(int ttl, const char *cond_type, const char *cond_status)
{
    json_t *j = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:{}, s:{s:[{s:s, s:s, s:s}]}}", "apiVersion", "batch/v1",
                          "kind", "Job", "metadata", "name", "pi", "namespace", "ns", "uid", "j1", "resourceVersion", "1",
                          "spec", "status", "conditions", "type", cond_type, "status", cond_status,
                          "lastTransitionTime", "2023-11-14T22:13:20Z");
    if (ttl >= 0) json_object_set_new(json_object_get(j, "spec"), "ttlSecondsAfterFinished", json_integer(ttl));
    return j;
}

static void test_core(void **state)
{
    (void)state;
    json_t *j = job(10, "Complete", "True");
    int64_t left;
    assert_true(ttl_needs_cleanup(j));
    assert_int_equal(ttl_time_left_ms(j, (int64_t)FINISH * 1000 + 4000, &left), 0);
    assert_int_equal(left, 6000);
    json_decref(j);
    j = job(0, "Failed", "True");
    assert_int_equal(ttl_time_left_ms(j, (int64_t)FINISH * 1000, &left), 0);
    assert_int_equal(left, 0);
    json_decref(j);
    j = job(-1, "Complete", "True");           /* no TTL */
    assert_false(ttl_needs_cleanup(j));
    json_decref(j);
    j = job(5, "Complete", "False");           /* not finished */
    assert_false(ttl_needs_cleanup(j));
    assert_int_equal(ttl_time_left_ms(j, 0, &left), -1);
    json_decref(j);
    j = job(5, "SuccessCriteriaMet", "True");  /* interim: not finished yet */
    assert_false(ttl_needs_cleanup(j));
    json_decref(j);
}

/* The live GET's answer: obj (taken) as the server returned it. */
static void answer_get(ctrl_runtime_t *rt, const fx_action_t *s, json_t *obj)
{
    fx_answer_with(rt, s, 200, NULL, obj);
    json_decref(obj);
}

static void test_sync(void **state)
{
    (void)state;
    static const char *const res[] = { "jobs", NULL };
    ctrl_config_t cfg = { .controller = "ttl-after-finished", .resources = res, .primary = "jobs", .sync = ttl_sync,
                          .concurrent_syncs = 5 };
    ctrl_runtime_t *rt = fx_runtime_new(&cfg, &sent);
    assert_int_equal(ttl_attach(rt), 0);
    fx_runtime_ready(rt, &sent, (uint64_t)FINISH * 1000 + 3000);
    json_t *j = job(10, "Complete", "True");
    ctrl_test_apply(rt, "jobs", &j, false);
    ctrl_test_step(rt);
    assert_int_equal(sent.n, 0);                 /* 7 s to go: nothing yet */
    ctrl_test_set_unix_ms(rt, (uint64_t)FINISH * 1000 + 10000);
    ctrl_enqueue(rt, "ns/pi");
    ctrl_test_step(rt);
    assert_int_equal(sent.n, 1);
    assert_int_equal(sent.a[0].verb, KUBUS__V1__VERB__GET);
    answer_get(rt, &sent.a[0], job(60, "Complete", "True"));   /* the fresh copy has a longer TTL now */
    assert_int_equal(sent.n, 1);                 /* no delete */
    ctrl_enqueue(rt, "ns/pi");
    ctrl_test_step(rt);
    assert_int_equal(sent.n, 2);
    answer_get(rt, &sent.a[1], job(10, "Complete", "True"));
    assert_int_equal(sent.n, 3);
    assert_int_equal(sent.a[2].verb, KUBUS__V1__VERB__DELETE);
    assert_int_equal(sent.a[2].propagation, KUBUS__V1__PROPAGATION__BACKGROUND);
    assert_string_equal(sent.a[2].uid_pre, "j1");
    fx_runtime_destroy(&rt, &sent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_core),
        cmocka_unit_test(test_sync),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
