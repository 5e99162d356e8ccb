/* Unit tests for the Job controller's pure decisions (job_core.c): spec
 * defaults and refusals, the pod-failure back-off (10 s doubling, capped,
 * reset by a later success), wantActive, condition rules, pod predicates
 * and finish time (sidecars included), the podFailurePolicy (matching,
 * messages, refusals), completed-index strings, and the pod a Job makes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/kobj.h"
#include "job_core.h"
#include "job_pfp.h"
#include "job_succ.h"

static json_t *job_with(const char *spec_extra)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"pi\",\"namespace\":\"ns\",\"uid\":\"j1\"},"
             "\"spec\":{%s%s\"selector\":{\"matchLabels\":{\"batch.kubernetes.io/controller-uid\":\"j1\"}},"
             "\"template\":{\"metadata\":{\"labels\":{\"job-name\":\"pi\"},\"finalizers\":[\"x/y\"]},"
             "\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
             spec_extra, *spec_extra ? "," : "");
    json_t *j = json_loads(buf, 0, NULL);
    assert_non_null(j);
    return j;
}

static void test_spec_defaults_and_refusals(void **state)
{
    (void)state;
    job_spec_t s;
    char err[256];
    json_t *j = job_with("");
    assert_int_equal(job_spec_read(j, &s, err, sizeof err), 0);
    assert_int_equal(s.parallelism, 1);
    assert_false(s.has_completions);
    assert_int_equal(s.backoff_limit, 6);
    assert_false(s.has_deadline);
    assert_false(s.suspend);
    assert_false(s.indexed);
    job_spec_free(&s);
    json_decref(j);
    j = job_with("\"completions\":3,\"parallelism\":2,\"backoffLimit\":2,\"suspend\":true,\"activeDeadlineSeconds\":9,"
                 "\"podReplacementPolicy\":\"Failed\"");
    assert_int_equal(job_spec_read(j, &s, err, sizeof err), 0);
    assert_true(s.has_completions && s.completions == 3 && s.parallelism == 2 && s.backoff_limit == 2);
    assert_true(s.suspend && s.has_deadline && s.active_deadline_s == 9 && s.only_replace_failed);
    job_spec_free(&s);
    json_decref(j);
    j = job_with("\"parallelism\":-1");
    assert_int_equal(job_spec_read(j, &s, err, sizeof err), -1);
    json_decref(j);
    j = job_with("\"completionMode\":\"Weird\"");
    assert_int_equal(job_spec_read(j, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "completion mode"));
    json_decref(j);
    j = job_with("\"completionMode\":\"Indexed\"");   /* Indexed needs completions */
    assert_int_equal(job_spec_read(j, &s, err, sizeof err), -1);
    json_decref(j);
    j = job_with("");
    json_object_set_new(json_object_get(j, "spec"), "selector", json_object());   /* selects everything */
    assert_int_equal(job_spec_read(j, &s, err, sizeof err), -1);
    json_decref(j);
}

static json_t *finished_pod(const char *phase, const char *finished_at)
{
    return json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:[{s:{s:{s:s}}}]}}", "metadata", "name", "p", "uid", "u",
                     "creationTimestamp", "2023-11-14T00:00:00Z", "status", "phase", phase, "containerStatuses",
                     "state", "terminated", "finishedAt", finished_at);
}

static void test_backoff(void **state)
{
    (void)state;
    int64_t t0;
    assert_int_equal(kobj_time_parse("2023-11-14T00:01:00Z", &t0), 0);
    json_t *f1 = finished_pod("Failed", "2023-11-14T00:01:00Z");
    json_t *f2 = finished_pod("Failed", "2023-11-14T00:02:00Z");
    json_t *ok = finished_pod("Succeeded", "2023-11-14T00:01:30Z");
    assert_int_equal(job_pod_finish_ms(f1), t0 * 1000);
    job_backoff_t b = { 0, 0 };
    assert_int_equal(job_backoff_remaining_ms(&b, t0 * 1000), 0);
    const json_t *fl[2] = { f1, NULL };
    b = job_backoff_update(b, NULL, 0, fl, 1);
    assert_int_equal(b.failures, 1);
    assert_int_equal(job_backoff_remaining_ms(&b, t0 * 1000 + 4000), 6000);    /* 10 s after the failure */
    assert_int_equal(job_backoff_remaining_ms(&b, t0 * 1000 + 10000), 0);
    b.failures = 2;
    assert_int_equal(job_backoff_remaining_ms(&b, t0 * 1000), 20000);
    b.failures = 30;                                                            /* capped at 10 min */
    assert_int_equal(job_backoff_remaining_ms(&b, t0 * 1000), 600000);
    /* a success resets: only failures after it count */
    const json_t *both[2] = { f2, f1 }, *oks[1] = { ok };
    b = job_backoff_update((job_backoff_t){ 5, 1 }, oks, 1, both, 2);
    assert_int_equal(b.failures, 1);
    assert_int_equal(b.last_failure_ms, (t0 + 60) * 1000);
    b = job_backoff_update((job_backoff_t){ 5, 1 }, oks, 1, NULL, 0);
    assert_int_equal(b.failures, 0);
    json_decref(f1);
    json_decref(f2);
    json_decref(ok);
}

static void test_want_active_and_complete(void **state)
{
    (void)state;
    job_spec_t s = { .parallelism = 2, .has_completions = true, .completions = 3 };
    assert_int_equal(job_want_active(&s, 0, 0), 2);
    assert_int_equal(job_want_active(&s, 2, 1), 1);
    assert_int_equal(job_want_active(&s, 4, 0), 0);
    assert_false(job_complete(&s, 3, 1));
    assert_true(job_complete(&s, 3, 0));
    job_spec_t w = { .parallelism = 3 };   /* no completions: work queue */
    assert_int_equal(job_want_active(&w, 0, 1), 3);
    assert_int_equal(job_want_active(&w, 1, 2), 2);   /* after a success: leave the rest running */
    assert_true(job_complete(&w, 1, 0));
    assert_false(job_complete(&w, 0, 0));
}

static void test_conditions(void **state)
{
    (void)state;
    json_t *st = json_object();
    assert_false(job_condition_ensure(st, "Suspended", "False", "JobResumed", "Job resumed", 100)); /* nothing -> False: no */
    assert_true(job_condition_ensure(st, "Suspended", "True", "JobSuspended", "Job suspended", 100));
    assert_false(job_condition_ensure(st, "Suspended", "True", "JobSuspended", "Job suspended", 200));
    assert_true(job_condition_ensure(st, "Suspended", "False", "JobResumed", "Job resumed", 300));
    json_t *job = json_pack("{s:o}", "status", st);
    const json_t *c = job_condition(job, "Suspended");
    assert_string_equal(json_string_value(json_object_get(c, "reason")), "JobResumed");
    assert_string_equal(json_string_value(json_object_get(c, "lastTransitionTime")), "1970-01-01T00:05:00Z");
    assert_false(job_is_finished(job));
    job_condition_ensure(json_object_get(job, "status"), "Failed", "True", "BackoffLimitExceeded", "m", 1);
    assert_true(job_is_finished(job));
    json_decref(job);
}

static void test_pod_predicates(void **state)
{
    (void)state;
    json_t *p = json_pack("{s:{s:s, s:s, s:[s]}, s:{s:s}}", "metadata", "name", "p", "deletionTimestamp",
                          "2023-11-14T00:00:10Z", "finalizers", JOB_TRACKING_FINALIZER, "status", "phase", "Running");
    assert_true(job_pod_tracked(p));
    assert_true(job_pod_terminating(p));
    assert_true(job_pod_failed(p, false));    /* deleted before succeeding: a failure */
    assert_false(job_pod_failed(p, true));    /* ... unless only Failed pods count */
    json_object_set_new(json_object_get(p, "metadata"), "deletionGracePeriodSeconds", json_integer(10));
    int64_t t;
    kobj_time_parse("2023-11-14T00:00:00Z", &t);
    assert_int_equal(job_pod_finish_ms(p), t * 1000);
    /* a user-set grace period at the int64 limits: clamped, not overflowed */
    json_object_set_new(json_object_get(p, "metadata"), "deletionGracePeriodSeconds", json_integer(INT64_MAX));
    assert_true(job_pod_finish_ms(p) < 0);
    json_object_set_new(json_object_get(p, "metadata"), "deletionGracePeriodSeconds", json_integer(INT64_MIN));
    assert_int_equal(job_pod_finish_ms(p), INT64_MAX);
    json_decref(p);
}

/* upstream getFinishedTime with sidecars: restartable init containers
 * (restartPolicy Always) finish after the regular ones and count; other
 * init containers do not; one still running hides the container times. */
static void test_sidecar_finish_time(void **state)
{
    (void)state;
    json_t *p = json_pack("{s:{s:s, s:s}, s:{s:[{s:s, s:s}, {s:s}], s:[{s:s}]},"
                          " s:{s:s, s:[{s:s, s:{s:{s:s}}}], s:[{s:s, s:{s:{s:s}}}, {s:s, s:{s:{s:s}}}],"
                          " s:[{s:s, s:s, s:s}]}}",
                          "metadata", "name", "p", "creationTimestamp", "2023-11-14T00:00:00Z",
                          "spec", "initContainers", "name", "log", "restartPolicy", "Always", "name", "setup",
                          "containers", "name", "main",
                          "status", "phase", "Succeeded",
                          "containerStatuses", "name", "main", "state", "terminated", "finishedAt", "2023-11-14T00:01:00Z",
                          "initContainerStatuses", "name", "setup", "state", "terminated", "finishedAt",
                          "2023-11-14T00:00:30Z", "name", "log", "state", "terminated", "finishedAt", "2023-11-14T00:01:05Z",
                          "conditions", "type", "Ready", "status", "False", "lastTransitionTime", "2023-11-14T00:01:10Z");
    assert_non_null(p);
    int64_t t;
    kobj_time_parse("2023-11-14T00:01:05Z", &t);
    assert_int_equal(job_pod_finish_ms(p), t * 1000);                  /* the sidecar's end */
    json_t *log = json_array_get(kobj_get(p, "status.initContainerStatuses"), 1);
    json_object_set_new(log, "state", json_pack("{s:{}}", "running"));
    kobj_time_parse("2023-11-14T00:01:10Z", &t);
    assert_int_equal(job_pod_finish_ms(p), t * 1000);                  /* still running: Ready=False's time */
    json_object_set_new(log, "state", json_pack("{s:{s:s}}", "terminated", "finishedAt", "2023-11-14T00:01:05Z"));
    json_t *setup = json_array_get(kobj_get(p, "status.initContainerStatuses"), 0);
    json_object_set_new(setup, "state", json_pack("{s:{}}", "running"));
    kobj_time_parse("2023-11-14T00:01:05Z", &t);
    assert_int_equal(job_pod_finish_ms(p), t * 1000);                  /* a plain init container never counts */
    json_t *main_c = json_array_get(kobj_get(p, "status.containerStatuses"), 0);
    json_object_set_new(main_c, "state", json_pack("{s:{}}", "running"));
    assert_int_equal(job_pod_finish_ms(p), t * 1000);                  /* upstream folds the sidecars in from nothing */
    json_decref(p);
}

/* A Job with this spec.podFailurePolicy (JSON text). */
static json_t *job_with_pfp(const char *policy)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "\"podFailurePolicy\":%s", policy);
    return job_with(buf);
}

/* A failed pod ns/p with containers main (exit main_code) and, when
 * init_code >= 0, init container setup (exit init_code); cond_type NULL:
 * no condition. */
static json_t *failed_pod(int main_code, int init_code, const char *cond_type)
{
    json_t *p = json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:[{s:s, s:{s:{s:i}}}]}}", "metadata", "name", "p", "namespace",
                          "ns", "uid", "u", "status", "phase", "Failed", "containerStatuses", "name", "main", "state",
                          "terminated", "exitCode", main_code);
    json_t *st = json_object_get(p, "status");
    if (init_code >= 0)
        json_object_set_new(st, "initContainerStatuses",
                            json_pack("[{s:s, s:{s:{s:i}}}]", "name", "setup", "state", "terminated", "exitCode", init_code));
    if (cond_type)
        json_object_set_new(st, "conditions", json_pack("[{s:s, s:s}, {s:s, s:s}]", "type", "Ready", "status", "False",
                                                        "type", cond_type, "status", "True"));
    return p;
}

static job_pfp_action_t match_of(const json_t *job, const json_t *pod, job_pfp_match_t *m)
{
    job_pfp_match(job, pod, m);
    return m->action;
}

static void test_pfp_exit_codes(void **state)
{
    (void)state;
    json_t *j = job_with_pfp("{\"rules\":[{\"action\":\"FailJob\",\"onExitCodes\":{\"containerName\":\"main\","
                             "\"operator\":\"In\",\"values\":[42]}},"
                             "{\"action\":\"Ignore\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[7,8]}},"
                             "{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"NotIn\",\"values\":[1,2]}}]}");
    job_pfp_match_t m;
    json_t *p = failed_pod(42, -1, NULL);
    assert_int_equal(match_of(j, p, &m), JOB_PFP_FAIL_JOB);
    assert_true(m.count_failed);
    assert_string_equal(m.message, "Container main for pod ns/p failed with exit code 42 matching FailJob rule at index 0");
    json_decref(p);
    p = failed_pod(1, 7, NULL);           /* the init container's 7: Ignore, not counted */
    assert_int_equal(match_of(j, p, &m), JOB_PFP_IGNORE);
    assert_false(m.count_failed);
    assert_string_equal(m.message, "");
    json_decref(p);
    p = failed_pod(5, -1, NULL);          /* NotIn [1,2] */
    assert_int_equal(match_of(j, p, &m), JOB_PFP_COUNT);
    assert_true(m.count_failed);
    json_decref(p);
    p = failed_pod(2, 0, NULL);           /* nothing matches (an exit code 0 never does): counted */
    assert_int_equal(match_of(j, p, &m), JOB_PFP_NO_MATCH);
    assert_true(m.count_failed);
    json_decref(p);
    p = failed_pod(1, 42, NULL);          /* 42 from setup is not main's: rule 0 skipped */
    assert_int_equal(match_of(j, p, &m), JOB_PFP_COUNT);
    json_decref(p);
    json_decref(j);
}

static void test_pfp_conditions_and_checks(void **state)
{
    (void)state;
    json_t *j = job_with_pfp("{\"rules\":[{\"action\":\"Ignore\",\"onPodConditions\":[{\"type\":\"DisruptionTarget\"}]},"
                             "{\"action\":\"FailJob\",\"onPodConditions\":[{\"type\":\"ConfigIssue\",\"status\":\"True\"}]},"
                             "{\"action\":\"FailIndex\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[3]}}]}");
    /* FailIndex needs backoffLimitPerIndex, so an Indexed Job */
    json_t *spec = json_object_get(j, "spec");
    json_object_set_new(spec, "completionMode", json_string("Indexed"));
    json_object_set_new(spec, "completions", json_integer(2));
    json_object_set_new(spec, "backoffLimitPerIndex", json_integer(1));
    char err[256];
    job_spec_t s;
    assert_int_equal(job_spec_read(j, &s, err, sizeof err), 0);
    assert_true(s.has_pfp && s.only_replace_failed);
    job_spec_free(&s);
    job_pfp_match_t m;
    json_t *p = failed_pod(1, -1, "DisruptionTarget");   /* status defaults to True */
    assert_int_equal(match_of(j, p, &m), JOB_PFP_IGNORE);
    assert_false(m.count_failed);
    json_decref(p);
    p = failed_pod(1, -1, "ConfigIssue");
    assert_int_equal(match_of(j, p, &m), JOB_PFP_FAIL_JOB);
    assert_string_equal(m.message, "Pod ns/p has condition ConfigIssue matching FailJob rule at index 1");
    json_decref(p);
    p = failed_pod(3, -1, NULL);
    assert_int_equal(match_of(j, p, &m), JOB_PFP_FAIL_INDEX);
    assert_true(m.count_failed);
    json_decref(p);
    json_decref(j);
    /* refused as API validation would */
    static const char *const bad[] = {
        "{\"rules\":[{\"action\":\"Explode\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[1]}}]}",
        "{\"rules\":[{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"Is\",\"values\":[1]}}]}",
        "{\"rules\":[{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[0]}}]}",
        "{\"rules\":[{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[]}}]}",
        "{\"rules\":[{\"action\":\"Count\"}]}",
        "{\"rules\":[{\"action\":\"Count\",\"onPodConditions\":[{\"status\":\"True\"}]}]}",
        ("{\"rules\":[{\"action\":\"Count\",\"onPodConditions\":[{\"type\":\"X\"}],"
         "\"onExitCodes\":{\"operator\":\"In\",\"values\":[1]}}]}"),
        "{\"rules\":{}}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = job_with_pfp(bad[i]);
        if (job_spec_read(j, &s, err, sizeof err) == 0) {
            job_spec_free(&s);
            fail_msg("accepted: %s", bad[i]);
        }
        assert_non_null(strstr(err, "podFailurePolicy"));
        json_decref(j);
    }
    j = job_with_pfp("{\"rules\":[{\"action\":\"Count\",\"onExitCodes\":{\"operator\":\"NotIn\",\"values\":[0]}}]}");
    assert_int_equal(job_spec_read(j, &s, err, sizeof err), 0);   /* 0 is fine for NotIn */
    job_spec_free(&s);
    json_decref(j);
}

static void test_indexes(void **state)
{
    (void)state;
    bool d[8] = { true, false, true, true, true, false, false, true };
    char buf[64];
    job_indexes_format(d, 8, buf, sizeof buf);
    assert_string_equal(buf, "0,2-4,7");
    bool e[8];
    assert_int_equal(job_indexes_parse(buf, e, 8), 0);
    assert_memory_equal(d, e, sizeof d);
    bool two[6] = { false, true, true, false, true, true };
    job_indexes_format(two, 6, buf, sizeof buf);
    assert_string_equal(buf, "1,2,4,5");   /* upstream writes a run of two as two */
    assert_int_equal(job_indexes_parse(buf, e, 6), 0);
    assert_memory_equal(two, e, sizeof two);
    assert_int_equal(job_indexes_parse("1-", e, 8), -1);
    assert_int_equal(job_indexes_parse("3-5,9", e, 5), 0);   /* out of range ignored */
    assert_true(e[3] && e[4] && !e[2]);
}

static void test_pod_from_template(void **state)
{
    (void)state;
    json_t *j = job_with("\"completionMode\":\"Indexed\",\"completions\":3");
    json_t *p = job_pod_from_template(j, "pi-xxxxx", -1);
    assert_non_null(p);
    assert_string_equal(kobj_generate_name(p), "pi-");
    assert_string_equal(kobj_label(p, "job-name"), "pi");
    json_t *fins = kobj_get(p, "metadata.finalizers");
    assert_int_equal(json_array_size(fins), 2);
    assert_string_equal(json_string_value(json_array_get(fins, 1)), JOB_TRACKING_FINALIZER);
    kobj_ownerref_t ref;
    assert_int_equal(kobj_controller_ref(p, &ref), 0);
    assert_string_equal(ref.kind, "Job");
    assert_string_equal(ref.api_version, "batch/v1");
    assert_true(ref.block_owner_deletion);
    json_decref(p);
    p = job_pod_from_template(j, "pi-2-xxxxx", 2);
    assert_string_equal(kobj_generate_name(p), "pi-2-");
    assert_string_equal(kobj_annotation(p, JOB_COMPLETION_INDEX_KEY), "2");
    assert_string_equal(kobj_label(p, JOB_COMPLETION_INDEX_KEY), "2");
    assert_string_equal(kobj_str(p, "spec.hostname"), "pi-2");
    assert_int_equal(job_pod_index(p), 2);
    json_t *env = json_object_get(json_array_get(kobj_get(p, "spec.containers"), 0), "env");
    assert_string_equal(json_string_value(json_object_get(json_array_get(env, 0), "name")), "JOB_COMPLETION_INDEX");
    json_decref(p);
    char prefix[80];
    json_object_set_new(json_object_get(j, "metadata"), "name",
                        json_string("a-very-long-job-name-that-goes-on-and-on-and-on-and-on-and-on"));
    job_pod_prefix(j, 12, prefix, sizeof prefix);
    assert_int_equal(strlen(prefix), 58);
    assert_string_equal(prefix + 54, "-12-");
    json_decref(j);
}

/* successPolicy: rule order, succeededIndexes alone / with succeededCount,
 * succeededCount alone, rules naming only out-of-range indexes skipped,
 * malformed strings keep their parsed prefix, nothing before a success. */
static void test_success_policy(void **st)
{
    (void)st;
    json_t *j = job_with("\"completionMode\":\"Indexed\",\"completions\":6,\"successPolicy\":{\"rules\":["
                         "{\"succeededIndexes\":\"7-9\"},"
                         "{\"succeededIndexes\":\"0,2-3\"},"
                         "{\"succeededIndexes\":\"1-5\",\"succeededCount\":3},"
                         "{\"succeededCount\":5}]}");
    bool succ[6] = { 0 };
    char msg[64];
    assert_false(job_success_policy_met(j, succ, 6, msg, sizeof msg));
    succ[0] = succ[2] = true;
    assert_false(job_success_policy_met(j, succ, 6, msg, sizeof msg));
    succ[3] = true;
    assert_true(job_success_policy_met(j, succ, 6, msg, sizeof msg));
    assert_string_equal(msg, "Matched rules at index 1");
    memset(succ, 0, sizeof succ);
    succ[1] = succ[4] = true;
    assert_false(job_success_policy_met(j, succ, 6, msg, sizeof msg));
    succ[5] = true;
    assert_true(job_success_policy_met(j, succ, 6, msg, sizeof msg));
    assert_string_equal(msg, "Matched rules at index 2");
    json_decref(j);
    j = job_with("\"completionMode\":\"Indexed\",\"completions\":6,\"successPolicy\":{\"rules\":["
                 "{\"succeededIndexes\":\"1,x\"},{\"succeededCount\":2}]}");
    memset(succ, 0, sizeof succ);
    succ[1] = true;
    assert_true(job_success_policy_met(j, succ, 6, msg, sizeof msg));
    assert_string_equal(msg, "Matched rules at index 0");
    succ[1] = false;
    succ[0] = succ[5] = true;
    assert_true(job_success_policy_met(j, succ, 6, msg, sizeof msg));
    assert_string_equal(msg, "Matched rules at index 1");
    json_decref(j);
    j = job_with("\"completionMode\":\"Indexed\",\"completions\":6");
    assert_false(job_success_policy_met(j, succ, 6, msg, sizeof msg));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_defaults_and_refusals),
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_want_active_and_complete),
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_pod_predicates),
        cmocka_unit_test(test_sidecar_finish_time),
        cmocka_unit_test(test_pfp_exit_codes),
        cmocka_unit_test(test_pfp_conditions_and_checks),
        cmocka_unit_test(test_indexes),
        cmocka_unit_test(test_success_policy),
        cmocka_unit_test(test_pod_from_template),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
