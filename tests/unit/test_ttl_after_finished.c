/* Unit tests for the TTL-after-finished controller: which Jobs need
 * cleanup and when they expire (ttl_core.c), and the sync on the runtime's
 * test mode: not before the TTL (queued for later), then a live GET, and
 * only a still-expired fresh copy is deleted, Foreground (the Job goes
 * after its pods, as upstream), with its uid as precondition; a finished
 * Job without a finish time is retried with back-off, never kept. */
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
    /* a TTL at the int64 limit: "never", not an overflow */
    json_object_set_new(json_object_get(j, "spec"), "ttlSecondsAfterFinished", json_integer(INT64_MAX));
    assert_int_equal(ttl_time_left_ms(j, (int64_t)FINISH * 1000, &left), 0);
    assert_true(left > (int64_t)1 << 62);
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

/* A ready test runtime with the controller attached, 3 s after FINISH. */
static ctrl_runtime_t *ttl_runtime(void)
{
    static const char *const res[] = { "jobs", NULL };
    ctrl_config_t cfg = { .controller = "ttl-after-finished", .resources = res, .primary = "jobs", .sync = ttl_sync,
                          .concurrent_syncs = 5 };
    ctrl_runtime_t *rt = fx_runtime_new(&cfg, &sent);
    assert_int_equal(ttl_attach(rt), 0);
    fx_runtime_ready(rt, &sent, (uint64_t)FINISH * 1000 + 3000);
    return rt;
}

static void test_sync(void **state)
{
    (void)state;
    ctrl_runtime_t *rt = ttl_runtime();
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
    assert_int_equal(sent.a[2].propagation, KUBUS__V1__PROPAGATION__FOREGROUND);
    assert_string_equal(sent.a[2].uid_pre, "j1");
    fx_runtime_destroy(&rt, &sent);
}

/* The Job of job() whose finish condition has no lastTransitionTime. */
static json_t *job_without_finish_time(int ttl)
{
    json_t *j = job(ttl, "Complete", "True");
    json_object_del(json_array_get(kobj_get(j, "status.conditions"), 0), "lastTransitionTime");
    return j;
}

/* upstream: no finish time is an error: retried with back-off (5 ms,
 * 10 ms, ... as the default controller rate limiter), not dropped. */
static void test_no_finish_time_retried(void **state)
{
    (void)state;
    ctrl_runtime_t *rt = ttl_runtime();
    json_t *j = job_without_finish_time(10);
    int64_t finish;
    assert_true(ttl_needs_cleanup(j));
    assert_int_equal(ttl_finish_time(j, &finish), -1);
    ctrl_test_apply(rt, "jobs", &j, false);
    ctrl_test_step(rt);
    workqueue_t *q = ctrl_queue(rt);
    assert_int_equal(workqueue_num_requeues(q, "ns/pi"), 1);
    assert_int_equal(workqueue_delayed(q), 1);       /* waiting for its back-off */
    assert_int_equal(sent.n, 0);
    /* the cache now shows it expired, but the fresh copy has no finish
     * time either: an error too */
    json_t *later = job(0, "Complete", "True");
    json_object_set_new(json_object_get(later, "metadata"), "resourceVersion", json_string("2"));
    fx_apply(rt, "jobs", later);
    ctrl_test_step(rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__GET, "jobs"), 1);
    answer_get(rt, fx_find(&sent, KUBUS__V1__VERB__GET, "jobs"), job_without_finish_time(0));
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, "jobs"), 0);
    assert_int_equal(workqueue_num_requeues(q, "ns/pi"), 2);   /* backing off further */
    assert_int_equal(workqueue_delayed(q), 1);
    fx_runtime_destroy(&rt, &sent);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_core),
        cmocka_unit_test(test_sync),
        cmocka_unit_test(test_no_finish_time_retried),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
