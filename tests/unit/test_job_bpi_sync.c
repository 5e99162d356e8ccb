/* Unit tests for backoffLimitPerIndex in the Job sync (runtime test mode,
 * no bus): the first pods carry failure count 0 and failedIndexes is
 * written as ""; a failed pod keeps its tracking finalizer until its
 * replacement exists, which comes after the per-index back-off (not the
 * Job-wide one) and carries count 1; a bad count reads 0; an index past
 * its limit gets no replacement and goes to failedIndexes; the Job fails
 * with FailedIndexes (FailureTarget, then Failed, the Warning event) once
 * every index succeeded or failed, with MaxFailedIndexesExceeded (its
 * running pods deleted) once too many failed; a FailIndex rule fails the
 * index at once. */
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
#include "job_bpi.h"
#include "job_core.h"
#include "job_sync.h"

#define NOW_MS 1700000000000ull   /* 2023-11-14T22:13:20Z */
#define START "2023-11-14T22:12:00Z"

static fx_sent_t sent;

typedef struct {
    ctrl_runtime_t *rt;
    job_ctrl_t *jc;
    const char *fields;   /* the spec of the Job under test */
} fx_t;

static int setup(void **state)
{
    static fx_t fx;
    fx.jc = job_ctrl_new();
    ctrl_config_t cfg;
    job_ctrl_config(fx.jc, &cfg);
    cfg.concurrent_syncs = 5;
    fx.rt = fx_runtime_new(&cfg, &sent);
    assert_int_equal(job_ctrl_attach(fx.jc, fx.rt), 0);
    fx_runtime_ready(fx.rt, &sent, NOW_MS);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    fx_runtime_destroy(&fx->rt, &sent);
    job_ctrl_destroy(&fx->jc);
    return 0;
}

/* The Indexed Job "ns/pi" with fx->fields at rv and status (taken; NULL: {startTime}). */
static void put_job(fx_t *fx, const char *rv, json_t *status)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"pi\",\"namespace\":\"ns\","
             "\"uid\":\"j1\",\"generation\":1,\"resourceVersion\":\"%s\"},\"spec\":{\"completionMode\":\"Indexed\",%s,"
             "\"selector\":{\"matchLabels\":{\"batch.kubernetes.io/controller-uid\":\"j1\"}},"
             "\"template\":{\"metadata\":{\"labels\":{\"batch.kubernetes.io/controller-uid\":\"j1\"}},"
             "\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
             rv, fx->fields);
    json_t *o = json_loads(buf, 0, NULL);
    assert_non_null(o);
    json_object_set_new(o, "status", status ? status : json_pack("{s:s}", "startTime", START));
    fx_apply(fx->rt, "jobs", o);
}

/* A tracked pod of index ix in phase; a failed or succeeded one ended
 * (container c, exit code) at finished; count: its failure-count
 * annotation (NULL: none). */
static void put_pod(fx_t *fx, const char *uid, int ix, const char *phase, int exit_code, const char *finished,
                    const char *count)
{
    char name[32], ixs[16];
    snprintf(name, sizeof name, "pi-%d-%s", ix, uid);
    snprintf(ixs, sizeof ixs, "%d", ix);
    json_t *p = json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s}, s:[{s:s, s:s, s:s, s:s, s:b}], s:[s]},"
                          " s:{s:s}}",
                          "metadata", "name", name, "namespace", "ns", "uid", uid, "resourceVersion", "1",
                          "creationTimestamp", "2023-11-14T22:12:30Z", "labels", "batch.kubernetes.io/controller-uid",
                          "j1", JOB_COMPLETION_INDEX_KEY, ixs, "annotations", JOB_COMPLETION_INDEX_KEY, ixs,
                          "ownerReferences", "apiVersion", "batch/v1", "kind", "Job", "name", "pi", "uid", "j1",
                          "controller", 1, "finalizers", JOB_TRACKING_FINALIZER, "status", "phase", phase);
    assert_non_null(p);
    if (count) json_object_set_new(kobj_get(p, "metadata.annotations"), JOB_INDEX_FAILURE_COUNT_KEY, json_string(count));
    if (finished)
        json_object_set_new(json_object_get(p, "status"), "containerStatuses",
                            json_pack("[{s:s, s:{s:{s:i, s:s}}}]", "name", "c", "state", "terminated", "exitCode",
                                      exit_code, "finishedAt", finished));
    fx_apply(fx->rt, "pods", p);
}

static void sync_now(fx_t *fx)
{
    fx_reset(&sent);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
}

static json_t *last_status(void)
{
    const fx_action_t *u = fx_last(&sent, KUBUS__V1__VERB__UPDATE_STATUS);
    if (!u) fail_msg("no status write: %s", fx_actions_text(&sent));
    return json_object_get(u->body, "status");
}

/* Answers the last status write and puts the Job back at rv with it, as
 * the watch would show our write. */
static void status_lands(fx_t *fx, const char *rv)
{
    json_t *st = json_deep_copy(last_status());
    fx_answer(fx->rt, fx_last(&sent, KUBUS__V1__VERB__UPDATE_STATUS), 200);
    put_job(fx, rv, st);
}

static const char *cond_field(const json_t *status, const char *type, const char *field)
{
    size_t i;
    json_t *c;
    json_array_foreach(json_object_get(status, "conditions"), i, c)
        if (strcmp(json_string_value(json_object_get(c, "type")), type) == 0)
            return json_string_value(json_object_get(c, field));
    return NULL;
}

static bool uncounted_failed_has(const json_t *status, const char *uid)
{
    size_t i;
    json_t *v;
    json_array_foreach(kobj_get(status, "uncountedTerminatedPods.failed"), i, v)
        if (strcmp(json_string_value(v), uid) == 0) return true;
    return false;
}

static void test_first_pods_count_zero(void **state)
{
    fx_t *fx = *state;
    fx->fields = "\"completions\":2,\"parallelism\":2,\"backoffLimitPerIndex\":1";
    put_job(fx, "1", NULL);
    sync_now(fx);
    const fx_action_t *c = fx_find(&sent, KUBUS__V1__VERB__CREATE, "pods");
    assert_string_equal(kobj_annotation(c->body, JOB_COMPLETION_INDEX_KEY), "0");
    assert_string_equal(kobj_annotation(c->body, JOB_INDEX_FAILURE_COUNT_KEY), "0");
    assert_null(kobj_annotation(c->body, JOB_INDEX_IGNORED_FAILURE_COUNT_KEY));
    /* upstream writes failedIndexes "" (not absent) with a per-index limit */
    assert_string_equal(json_string_value(json_object_get(last_status(), "failedIndexes")), "");
}

static void test_replacement_after_per_index_backoff(void **state)
{
    fx_t *fx = *state;
    fx->fields = "\"completions\":2,\"parallelism\":2,\"backoffLimitPerIndex\":1";
    put_job(fx, "1", NULL);
    put_pod(fx, "a0", 0, "Running", 0, NULL, "0");
    put_pod(fx, "a1", 1, "Failed", 1, "2023-11-14T22:13:16Z", "0");   /* 4 s ago */
    sync_now(fx);
    /* within its 10 s back-off: no replacement, and the failed pod keeps its
     * finalizer (not even listed as uncounted) so the replacement can read it */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, NULL), 0);
    assert_false(uncounted_failed_has(last_status(), "a1"));
    assert_string_equal(json_string_value(json_object_get(last_status(), "failedIndexes")), "");
    assert_null(json_object_get(last_status(), "conditions"));
    status_lands(fx, "2");
    ctrl_test_set_unix_ms(fx->rt, NOW_MS + 5500);   /* 9.5 s after the failure */
    sync_now(fx);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    ctrl_test_set_unix_ms(fx->rt, NOW_MS + 6500);   /* 10.5 s */
    sync_now(fx);
    const fx_action_t *c = fx_find(&sent, KUBUS__V1__VERB__CREATE, "pods");
    assert_string_equal(kobj_annotation(c->body, JOB_COMPLETION_INDEX_KEY), "1");
    assert_string_equal(kobj_annotation(c->body, JOB_INDEX_FAILURE_COUNT_KEY), "1");
    assert_string_equal(kobj_generate_name(c->body), "pi-1-");
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, NULL), 0);
    fx_answer(fx->rt, c, 201);
    status_lands(fx, "3");
    fx_apply(fx->rt, "pods", fx_created(c, "b1", "1"));
    /* the index is active again: the failed pod is counted and its finalizer goes */
    sync_now(fx);
    assert_true(uncounted_failed_has(last_status(), "a1"));
    assert_null(json_object_get(last_status(), "conditions"));   /* backoffLimit is MaxInt32 */
}

static void test_bad_count_reads_zero(void **state)
{
    fx_t *fx = *state;
    fx->fields = "\"completions\":1,\"parallelism\":1,\"backoffLimitPerIndex\":1";
    put_job(fx, "1", NULL);
    put_pod(fx, "a0", 0, "Failed", 1, "2023-11-14T22:12:50Z", "99999999999999999999");
    sync_now(fx);
    /* not failed by a count it cannot read: replaced, with count 1 */
    const fx_action_t *c = fx_find(&sent, KUBUS__V1__VERB__CREATE, "pods");
    assert_string_equal(kobj_annotation(c->body, JOB_INDEX_FAILURE_COUNT_KEY), "1");
    assert_string_equal(json_string_value(json_object_get(last_status(), "failedIndexes")), "");
}

static void test_failed_indexes_fail_the_job(void **state)
{
    fx_t *fx = *state;
    fx->fields = "\"completions\":2,\"parallelism\":2,\"backoffLimitPerIndex\":1";
    put_job(fx, "1", NULL);
    put_pod(fx, "a0", 0, "Succeeded", 0, "2023-11-14T22:13:00Z", "0");
    put_pod(fx, "a1", 1, "Failed", 1, "2023-11-14T22:12:50Z", "1");   /* its second failure */
    sync_now(fx);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    json_t *st = last_status();
    assert_string_equal(json_string_value(json_object_get(st, "failedIndexes")), "1");
    assert_string_equal(json_string_value(json_object_get(st, "completedIndexes")), "0");
    assert_string_equal(cond_field(st, "FailureTarget", "reason"), "FailedIndexes");
    assert_string_equal(cond_field(st, "FailureTarget", "message"), "Job has failed indexes");
    assert_null(cond_field(st, "Failed", "reason"));
    assert_true(uncounted_failed_has(st, "a1"));
    status_lands(fx, "2");
    sync_now(fx);   /* the finalizers go */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, NULL), 2);
    fx_answer_verb(fx->rt, &sent, KUBUS__V1__VERB__PATCH, 200);
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    st = last_status();
    assert_string_equal(cond_field(st, "Failed", "reason"), "FailedIndexes");
    assert_string_equal(cond_field(st, "Failed", "message"), "Job has failed indexes");
    assert_int_equal(json_integer_value(json_object_get(st, "failed")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "succeeded")), 1);
    fx_answer(fx->rt, fx_last(&sent, KUBUS__V1__VERB__UPDATE_STATUS), 200);
    assert_true(fx_has_event(&sent, "FailedIndexes", "Job has failed indexes"));
}

static void test_max_failed_indexes(void **state)
{
    fx_t *fx = *state;
    fx->fields = "\"completions\":4,\"parallelism\":4,\"backoffLimitPerIndex\":0,\"maxFailedIndexes\":0";
    put_job(fx, "1", NULL);
    put_pod(fx, "a0", 0, "Failed", 1, "2023-11-14T22:13:00Z", NULL);   /* limit 0: one failure fails it */
    put_pod(fx, "a1", 1, "Running", 0, NULL, "0");
    put_pod(fx, "a2", 2, "Running", 0, NULL, "0");
    put_pod(fx, "a3", 3, "Running", 0, NULL, "0");
    sync_now(fx);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, "pods"), 3);   /* the running pods go */
    json_t *st = last_status();
    assert_string_equal(json_string_value(json_object_get(st, "failedIndexes")), "0");
    assert_string_equal(cond_field(st, "FailureTarget", "reason"), "MaxFailedIndexesExceeded");
    assert_string_equal(cond_field(st, "FailureTarget", "message"),
                        "Job has exceeded the specified maximal number of failed indexes");
    assert_null(cond_field(st, "Failed", "reason"));   /* not before the pods are gone */
}

static void test_fail_index_rule(void **state)
{
    fx_t *fx = *state;
    fx->fields = "\"completions\":2,\"parallelism\":2,\"backoffLimitPerIndex\":5,\"podFailurePolicy\":{\"rules\":["
                 "{\"action\":\"FailIndex\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[42]}}]}";
    put_job(fx, "1", NULL);
    put_pod(fx, "a0", 0, "Failed", 42, "2023-11-14T22:12:50Z", "0");
    put_pod(fx, "a1", 1, "Running", 0, NULL, "0");
    sync_now(fx);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);   /* the index failed: no replacement */
    json_t *st = last_status();
    assert_string_equal(json_string_value(json_object_get(st, "failedIndexes")), "0");
    assert_true(uncounted_failed_has(st, "a0"));
    assert_null(json_object_get(st, "conditions"));   /* index 1 still runs */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_first_pods_count_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replacement_after_per_index_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_count_reads_zero, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_indexes_fail_the_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_failed_indexes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fail_index_rule, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
