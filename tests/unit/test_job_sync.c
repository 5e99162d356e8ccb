/* Unit tests for the Job sync on the runtime's test mode (no bus): the
 * stages upstream runs in one sync (uncounted pods and the interim
 * condition written first, then the tracking finalizers removed, then the
 * counters and the final condition), the wait for our own status write to
 * reach the cache, the pod-failure back-off holding creates back, and
 * BackoffLimitExceeded deleting nothing more and creating nothing,
 * status.active during the back-off, suspend clearing startTime, the
 * podFailurePolicy (FailJob, Ignore), the work queue's back-off on
 * failed syncs (1 s doubling to 60 s), and claiming pods: an orphan the Job
 * selects is adopted (with the tracking finalizer) after a live GET, a pod
 * it no longer selects is released (its finalizer removed). */
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
#include "job_core.h"
#include "job_sync.h"

#define NOW_MS 1700000000000ull   /* 2023-11-14T22:13:20Z */

/* The actions the controller sent since the last fx_reset. */
static fx_sent_t sent;

typedef struct {
    ctrl_runtime_t *rt;
    job_ctrl_t *jc;
} fx_t;

static int setup(void **state)
{
    static fx_t fx;
    fx.jc = job_ctrl_new();
    ctrl_config_t cfg;
    job_ctrl_config(fx.jc, &cfg);   /* main.c's config, with its queue back-off */
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

/* The Job "ns/pi" at resourceVersion rv with these spec fields (JSON
 * members, e.g. "\"parallelism\":2,") and this status (taken; NULL: {}). */
static void put_job_spec(ctrl_runtime_t *rt, const char *rv, const char *fields, json_t *status)
{
    char buf[1536];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"pi\",\"namespace\":\"ns\","
             "\"uid\":\"j1\",\"generation\":1,\"resourceVersion\":\"%s\"},\"spec\":{%s"
             "\"selector\":{\"matchLabels\":{\"batch.kubernetes.io/controller-uid\":\"j1\"}},"
             "\"template\":{\"metadata\":{\"labels\":{\"batch.kubernetes.io/controller-uid\":\"j1\"}},"
             "\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
             rv, fields);
    json_t *o = json_loads(buf, 0, NULL);
    assert_non_null(o);
    json_object_set_new(o, "status", status ? status : json_object());
    ctrl_test_apply(rt, "jobs", &o, false);
}

/* The same with parallelism 1, completions 1 and this backoffLimit. */
static void put_job(ctrl_runtime_t *rt, const char *rv, int backoff_limit, json_t *status)
{
    char fields[128];
    snprintf(fields, sizeof fields, "\"parallelism\":1,\"completions\":1,\"backoffLimit\":%d,", backoff_limit);
    put_job_spec(rt, rv, fields, status);
}

/* The status body of a sent status update (borrowed). */
static json_t *status_of(const fx_action_t *s) { return json_object_get(s->body, "status"); }

/* A pod of the Job in phase, finished at finished_at (NULL: running). */
static void put_pod(ctrl_runtime_t *rt, const char *name, const char *uid, const char *rv, const char *phase,
                    const char *finished_at, bool tracked)
{
    json_t *p = json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:{s:s}, s:[{s:s, s:s, s:s, s:s, s:b}]}, s:{s:s}}",
                          "metadata", "name", name, "namespace", "ns", "uid", uid, "resourceVersion", rv,
                          "creationTimestamp", "2023-11-14T22:13:00Z",
                          "labels", "batch.kubernetes.io/controller-uid", "j1", "ownerReferences", "apiVersion",
                          "batch/v1", "kind", "Job", "name", "pi", "uid", "j1", "controller", 1,
                          "status", "phase", phase);
    if (tracked) json_object_set_new(json_object_get(p, "metadata"), "finalizers", json_pack("[s]", JOB_TRACKING_FINALIZER));
    if (finished_at)
        json_object_set_new(json_object_get(p, "status"), "containerStatuses",
                            json_pack("[{s:{s:{s:s}}}]", "state", "terminated", "finishedAt", finished_at));
    ctrl_test_apply(rt, "pods", &p, false);
}

static const char *cond_type(const json_t *status, size_t i)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(status, "conditions"), i), "type"));
}

static void test_success_in_stages(void **state)
{
    fx_t *fx = *state;
    put_job(fx->rt, "1", 2, NULL);
    assert_int_equal(ctrl_test_step(fx->rt), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
    const fx_action_t *c = fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0);
    assert_string_equal(kobj_generate_name(c->body), "pi-");
    assert_true(job_pod_tracked(c->body));
    json_t *st = status_of(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0));
    assert_int_equal(json_integer_value(json_object_get(st, "active")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "ready")), 0);
    assert_non_null(json_object_get(st, "startTime"));
    json_t *st1 = json_deep_copy(st);
    fx_answer(fx->rt, c, 201);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0), 200);
    char pname[128];
    snprintf(pname, sizeof pname, "%s", c->name);
    put_pod(fx->rt, pname, "p1", "1", "Running", NULL, true);
    /* our write is not in the cache yet: a sync now waits for it */
    fx_reset(&sent);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    assert_int_equal(sent.n, 0);
    put_job(fx->rt, "2", 2, st1);
    /* the pod succeeds: stage 1 records it as uncounted, with SuccessCriteriaMet */
    put_pod(fx->rt, pname, "p1", "2", "Succeeded", "2023-11-14T22:13:18Z", true);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    assert_int_equal(sent.n, 1);
    st = status_of(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0));
    assert_string_equal(json_string_value(json_array_get(kobj_get(st, "uncountedTerminatedPods.succeeded"), 0)), "p1");
    assert_string_equal(cond_type(st, 0), "SuccessCriteriaMet");
    assert_null(json_array_get(json_object_get(st, "conditions"), 1));
    assert_null(json_object_get(st, "active"));
    json_t *st2 = json_deep_copy(st);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0), 200);
    put_job(fx->rt, "3", 2, st2);
    /* stage 2: the finalizer goes, nothing else */
    fx_reset(&sent);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    assert_int_equal(sent.n, 1);
    assert_int_equal(sent.a[0].verb, KUBUS__V1__VERB__PATCH);
    assert_non_null(kobj_get(sent.a[0].body, "metadata.$deleteFromPrimitiveList/finalizers"));
    /* stage 3 runs at once after the patch: counted, Complete */
    fx_answer(fx->rt, &sent.a[0], 200);
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL), 1);
    st = status_of(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0));
    assert_int_equal(json_integer_value(json_object_get(st, "succeeded")), 1);
    assert_int_equal(json_array_size(kobj_get(st, "uncountedTerminatedPods.succeeded")), 0);
    assert_string_equal(cond_type(st, 1), "Complete");
    assert_non_null(json_object_get(st, "completionTime"));
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0), 200);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__EVENT, NULL), 1);   /* Completed */
    assert_string_equal(json_string_value(json_object_get(sent.a[sent.n - 1].body, "reason")), "Completed");
}

static void test_backoff_then_limit(void **state)
{
    fx_t *fx = *state;
    /* one failed pod (finished 4 s ago), already counted as failed once before */
    json_t *st = json_pack("{s:s, s:i, s:i, s:i, s:{}}", "startTime", "2023-11-14T22:12:00Z", "failed", 1, "ready", 0,
                           "terminating", 0, "uncountedTerminatedPods");
    put_job(fx->rt, "5", 2, st);
    put_pod(fx->rt, "pi-bbbbb", "p2", "3", "Failed", "2023-11-14T22:13:16Z", true);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    /* recorded as uncounted; no pod while the back-off runs */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL), 1);
    json_t *w = json_deep_copy(status_of(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0)));
    assert_string_equal(json_string_value(json_array_get(kobj_get(w, "uncountedTerminatedPods.failed"), 0)), "p2");
    assert_null(json_object_get(w, "conditions"));
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0), 200);
    put_job(fx->rt, "6", 2, w);
    fx_reset(&sent);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);                  /* the finalizer goes */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, NULL), 1);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__PATCH, NULL, 0), 200);
    fx_reset(&sent);
    ctrl_test_step(fx->rt);                  /* counted: failed 2 */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    w = json_deep_copy(status_of(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0)));
    assert_int_equal(json_integer_value(json_object_get(w, "failed")), 2);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0), 200);
    put_job(fx->rt, "7", 2, w);
    put_pod(fx->rt, "pi-bbbbb", "p2", "4", "Failed", "2023-11-14T22:13:16Z", false);
    fx_reset(&sent);
    /* the back-off record is the controller's memory: one failure seen, 10 s */
    ctrl_test_set_unix_ms(fx->rt, NOW_MS + 5500);    /* 9.5 s after the failure: still waiting */
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    ctrl_test_set_unix_ms(fx->rt, NOW_MS + 6500);    /* 10.5 s: a new pod */
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
    fx_answer_pending(fx->rt, &sent, 200);   /* creates get 201 */
    const fx_action_t *c = fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0);
    char nm[128];
    snprintf(nm, sizeof nm, "%s", c->name);
    /* it fails too: failed 3 > backoffLimit 2 -> FailureTarget, no new pod */
    put_job(fx->rt, "8", 2, json_pack("{s:s, s:i, s:i, s:i, s:i, s:{}}", "startTime", "2023-11-14T22:12:00Z", "failed", 2,
                                      "active", 1, "ready", 0, "terminating", 0, "uncountedTerminatedPods"));
    put_pod(fx->rt, nm, "p3", "5", "Failed", "2023-11-14T22:13:40Z", true);
    fx_reset(&sent);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    json_t *s3 = status_of(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0));
    assert_string_equal(cond_type(s3, 0), "FailureTarget");
    assert_null(json_array_get(json_object_get(s3, "conditions"), 1));
    assert_string_equal(json_string_value(json_object_get(json_array_get(json_object_get(s3, "conditions"), 0), "reason")),
                        "BackoffLimitExceeded");
}

/* A restarted controller rebuilds the back-off from the pods already
 * counted: no replacement pod before 10 s after the last failure. */
static void test_backoff_survives_restart(void **state)
{
    fx_t *fx = *state;
    put_job(fx->rt, "9", 3, json_pack("{s:s, s:i, s:i, s:i, s:{}}", "startTime", "2023-11-14T22:12:00Z", "failed", 1,
                                      "ready", 0, "terminating", 0, "uncountedTerminatedPods"));
    put_pod(fx->rt, "pi-ccccc", "p4", "3", "Failed", "2023-11-14T22:13:16Z", false);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    for (int i = 0; i < sent.n; i++)
        if (sent.a[i].verb != KUBUS__V1__VERB__EVENT) fx_answer(fx->rt, &sent.a[i], 200);
    fx_reset(&sent);
    ctrl_test_set_unix_ms(fx->rt, NOW_MS + 6500);    /* 10.5 s after the failure */
    put_job(fx->rt, "10", 3, json_pack("{s:s, s:i, s:i, s:i, s:{}}", "startTime", "2023-11-14T22:12:00Z", "failed", 1,
                                       "ready", 0, "terminating", 0, "uncountedTerminatedPods"));
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
}

/* upstream (since #139457): while the pod-failure back-off holds a
 * replacement back, status.active still counts the pods that run (0 would
 * be refused next to ready > active). */
static void test_backoff_keeps_active(void **state)
{
    fx_t *fx = *state;
    put_job_spec(fx->rt, "11", "\"parallelism\":2,\"completions\":2,\"backoffLimit\":3,",
                 json_pack("{s:s, s:i, s:i, s:i, s:i, s:{}}", "startTime", "2023-11-14T22:12:00Z", "failed", 1,
                           "active", 2, "ready", 0, "terminating", 0, "uncountedTerminatedPods"));
    put_pod(fx->rt, "pi-ddddd", "p5", "3", "Running", NULL, true);
    put_pod(fx->rt, "pi-fffff", "p6", "4", "Failed", "2023-11-14T22:13:16Z", false);   /* counted, 4 s ago */
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);   /* 6 s of back-off left */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL), 1);
    json_t *st = status_of(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0));
    assert_int_equal(json_integer_value(json_object_get(st, "active")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "failed")), 1);
}

/* Suspending a started Job: its pods go, Suspended=True, and startTime is
 * cleared with it (upstream 1.36, MutableSchedulingDirectivesForSuspendedJobs
 * on by default); resuming sets it to now again. */
static void test_suspend_clears_start_time(void **state)
{
    fx_t *fx = *state;
    put_job_spec(fx->rt, "12", "\"parallelism\":1,\"completions\":1,\"suspend\":true,",
                 json_pack("{s:s, s:i, s:i, s:i, s:{}}", "startTime", "2023-11-14T22:12:00Z", "active", 1, "ready", 0,
                           "terminating", 0, "uncountedTerminatedPods"));
    put_pod(fx->rt, "pi-ggggg", "p7", "3", "Running", NULL, true);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, "pods"), 1);   /* finalizer off, then delete */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL), 1);
    json_t *st = status_of(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0));
    assert_string_equal(cond_type(st, 0), "Suspended");
    assert_null(json_object_get(st, "startTime"));
    assert_true(fx_has_event(&sent, "Suspended", "Job suspended"));
    json_t *w = json_deep_copy(st);
    fx_answer_pending(fx->rt, &sent, 200);
    /* resumed: startTime is now */
    put_job_spec(fx->rt, "13", "\"parallelism\":1,\"completions\":1,\"suspend\":false,", w);
    put_pod(fx->rt, "pi-ggggg", "p7", "4", "Running", NULL, false);
    json_t *gone = json_pack("{s:{s:s, s:s, s:s}}", "metadata", "name", "pi-ggggg", "namespace", "ns", "uid", "p7");
    ctrl_test_apply(fx->rt, "pods", &gone, true);
    fx_reset(&sent);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    st = status_of(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0));
    assert_string_equal(json_string_value(json_object_get(st, "startTime")), "2023-11-14T22:13:20Z");
    assert_true(fx_has_event(&sent, "Resumed", "Job resumed"));
}

/* A failed pod of the Job: container c exited with code, cond_type (NULL:
 * none) True among its conditions. */
static void put_failed_pod(ctrl_runtime_t *rt, const char *name, const char *uid, const char *rv, int code,
                           const char *cond_type, bool tracked)
{
    put_pod(rt, name, uid, rv, "Failed", "2023-11-14T22:13:16Z", tracked);
    json_t *p = json_deep_copy(cache_get_ns(ctrl_cache(rt, "pods"), "ns", name));
    json_t *st = json_object_get(p, "status");
    json_t *cs = json_array_get(json_object_get(st, "containerStatuses"), 0);
    json_object_set_new(cs, "name", json_string("c"));
    json_object_set_new(kobj_get(cs, "state.terminated"), "exitCode", json_integer(code));
    if (cond_type) json_object_set_new(st, "conditions", json_pack("[{s:s, s:s}]", "type", cond_type, "status", "True"));
    json_object_set_new(json_object_get(p, "metadata"), "resourceVersion", json_string("99"));
    fx_apply(rt, "pods", p);
}

static const char *PFP_FIELDS =
    "\"parallelism\":1,\"completions\":1,\"backoffLimit\":0,\"podFailurePolicy\":{\"rules\":["
    "{\"action\":\"FailJob\",\"onExitCodes\":{\"containerName\":\"c\",\"operator\":\"In\",\"values\":[42]}},"
    "{\"action\":\"Ignore\",\"onPodConditions\":[{\"type\":\"DisruptionTarget\",\"status\":\"True\"}]}]},";

static json_t *running_status(void)
{
    return json_pack("{s:s, s:i, s:i, s:{}}", "startTime", "2023-11-14T22:12:00Z", "ready", 0, "terminating", 0,
                     "uncountedTerminatedPods");
}

/* FailJob: FailureTarget (reason PodFailurePolicy, upstream's message)
 * with the pod uncounted, then its finalizer, then Failed and the Warning
 * event with the same reason and message. */
static void test_pfp_fail_job(void **state)
{
    fx_t *fx = *state;
    static const char *const msg = "Container c for pod ns/pi-hhhhh failed with exit code 42 matching FailJob rule at index 0";
    put_job_spec(fx->rt, "20", PFP_FIELDS, running_status());
    put_failed_pod(fx->rt, "pi-hhhhh", "p8", "3", 42, NULL, true);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL), 1);
    json_t *st = status_of(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0));
    json_t *c0 = json_array_get(json_object_get(st, "conditions"), 0);
    assert_string_equal(cond_type(st, 0), "FailureTarget");
    assert_string_equal(kobj_str(c0, "reason"), "PodFailurePolicy");
    assert_string_equal(kobj_str(c0, "message"), msg);
    assert_string_equal(json_string_value(json_array_get(kobj_get(st, "uncountedTerminatedPods.failed"), 0)), "p8");
    json_t *w = json_deep_copy(st);
    fx_answer_pending(fx->rt, &sent, 200);
    put_job_spec(fx->rt, "21", PFP_FIELDS, w);
    fx_reset(&sent);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);                  /* the finalizer goes */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, "pods"), 1);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__PATCH, "pods", 0), 200);
    fx_reset(&sent);
    ctrl_test_step(fx->rt);                  /* counted, Failed */
    st = status_of(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0));
    assert_int_equal(json_integer_value(json_object_get(st, "failed")), 1);
    assert_string_equal(cond_type(st, 1), "Failed");
    json_t *c1 = json_array_get(json_object_get(st, "conditions"), 1);
    assert_string_equal(kobj_str(c1, "reason"), "PodFailurePolicy");
    assert_string_equal(kobj_str(c1, "message"), msg);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0), 200);
    assert_true(fx_has_event(&sent, "PodFailurePolicy", msg));
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
}

/* No status write carries a condition or a failure count. */
static void assert_no_failure_written(const fx_sent_t *log)
{
    for (int i = 0; i < log->n; i++) {
        if (log->a[i].verb != KUBUS__V1__VERB__UPDATE_STATUS) continue;
        json_t *st = json_object_get(log->a[i].body, "status");
        assert_null(json_object_get(st, "conditions"));
        assert_null(json_object_get(st, "failed"));
        assert_int_equal(json_array_size(kobj_get(st, "uncountedTerminatedPods.failed")), 0);
    }
}

/* Ignore: with backoffLimit 0 a disrupted pod neither counts nor fails the
 * Job; its finalizer goes; the replacement still waits for the back-off
 * (upstream counts every failure there). */
static void test_pfp_ignore(void **state)
{
    fx_t *fx = *state;
    json_t *st0 = running_status();
    json_object_set_new(st0, "active", json_integer(1));   /* it ran until now */
    put_job_spec(fx->rt, "22", PFP_FIELDS, st0);
    put_failed_pod(fx->rt, "pi-jjjjj", "p9", "3", 137, "DisruptionTarget", true);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL), 1);   /* active 0 */
    assert_no_failure_written(&sent);
    json_t *w = json_deep_copy(status_of(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0)));
    fx_answer_pending(fx->rt, &sent, 200);
    put_job_spec(fx->rt, "23", PFP_FIELDS, w);
    fx_reset(&sent);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, "pods"), 1);   /* finalizer off, never counted */
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__PATCH, "pods", 0), 200);
    put_pod(fx->rt, "pi-jjjjj", "p9", "5", "Failed", "2023-11-14T22:13:16Z", false);
    fx_reset(&sent);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);    /* 6 s of back-off left */
    assert_no_failure_written(&sent);
    ctrl_test_set_unix_ms(fx->rt, NOW_MS + 6500);
    ctrl_enqueue(fx->rt, "ns/pi");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
    assert_no_failure_written(&sent);
}

/* upstream's Job queue: a failed key retries after 1 s, doubling to 60 s,
 * and no overall bucket holds back the 101st key (the other controllers
 * keep client-go's 5 ms .. 1000 s with a 10 qps bucket). */
static void test_queue_backoff(void **state)
{
    fx_t *fx = *state;
    workqueue_t *q = ctrl_queue(fx->rt);
    const uint64_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000 };
    for (int i = 0; i < 8; i++) {
        assert_int_equal(workqueue_when_peek(q, "ns/pi"), want[i]);
        ctrl_enqueue_rate_limited(fx->rt, "ns/pi");
    }
    char key[32];
    for (int i = 0; i < 150; i++) {
        snprintf(key, sizeof key, "ns/j%d", i);
        assert_int_equal(workqueue_when_peek(q, key), 1000);
        ctrl_enqueue_rate_limited(fx->rt, key);
    }
}

/* A pod "name" labelled app=<app> ("" none), controlled by the Job "pi"
 * (uid j1) or an orphan, Running. */
static void put_claim_pod(ctrl_runtime_t *rt, const char *name, const char *app, bool owned, const char *rv)
{
    char uid[64];
    snprintf(uid, sizeof uid, "%s-uid", name);
    json_t *p = json_pack("{s:{s:s, s:s, s:s, s:s, s:s, s:{}}, s:{s:s}}", "metadata", "name", name, "namespace",
                          "ns", "uid", uid, "resourceVersion", rv, "creationTimestamp", "2023-11-14T22:13:00Z",
                          "labels", "status", "phase", "Running");
    if (*app) json_object_set_new(kobj_get(p, "metadata.labels"), "app", json_string(app));
    if (owned) {
        json_object_set_new(json_object_get(p, "metadata"), "ownerReferences",
                            json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion", "batch/v1", "kind", "Job", "name",
                                      "pi", "uid", "j1", "controller", 1));
        json_object_set_new(json_object_get(p, "metadata"), "finalizers", json_pack("[s]", JOB_TRACKING_FINALIZER));
    }
    ctrl_test_apply(rt, "pods", &p, false);
}

/* The Job "pi" with manualSelector app=train, parallelism 2. */
static json_t *manual_job(ctrl_runtime_t *rt)
{
    json_t *o = json_loads("{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"pi\","
                           "\"namespace\":\"ns\",\"uid\":\"j1\",\"generation\":1,\"resourceVersion\":\"1\"},"
                           "\"spec\":{\"parallelism\":2,\"completions\":2,\"manualSelector\":true,"
                           "\"selector\":{\"matchLabels\":{\"app\":\"train\"}},\"template\":{\"metadata\":"
                           "{\"labels\":{\"app\":\"train\"}},\"spec\":{\"restartPolicy\":\"Never\","
                           "\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}},\"status\":{}}",
                           0, NULL);
    assert_non_null(o);
    json_t *copy = json_deep_copy(o);
    ctrl_test_apply(rt, "jobs", &copy, false);
    return o;
}

static void test_adopt_orphans(void **state)
{
    fx_t *fx = *state;
    put_claim_pod(fx->rt, "stray", "train", false, "1");   /* selected: adopted */
    put_claim_pod(fx->rt, "other", "web", false, "1");     /* not selected: left alone */
    ctrl_test_set_mono_ms(fx->rt, 1000);
    json_t *job = manual_job(fx->rt);
    ctrl_test_step(fx->rt);
    /* nothing is created or written before the live GET */
    assert_int_equal(sent.n, 1);
    const fx_action_t *get = fx_find(&sent, KUBUS__V1__VERB__GET, "jobs");
    assert_string_equal(get->name, "pi");
    fx_answer_with(fx->rt, get, 200, NULL, job);
    const fx_action_t *a = fx_find(&sent, KUBUS__V1__VERB__PATCH, "pods");
    assert_string_equal(a->name, "stray");
    assert_string_equal(kobj_controller_uid(a->body), "j1");
    assert_string_equal(json_string_value(json_array_get(kobj_get(a->body, "metadata.finalizers"), 0)),
                        JOB_TRACKING_FINALIZER);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__PATCH, "pods"), 1);
    fx_answer(fx->rt, a, 200);
    /* adopted: the Job counts it as active and creates one pod more */
    put_claim_pod(fx->rt, "stray", "train", true, "2");
    fx_reset(&sent);
    ctrl_test_set_mono_ms(fx->rt, 3000);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, "pods"), 1);
    json_t *st = status_of(fx_find(&sent, KUBUS__V1__VERB__UPDATE_STATUS, "jobs"));
    assert_int_equal(json_integer_value(json_object_get(st, "active")), 2);
    json_decref(job);
}

static void test_release_unselected(void **state)
{
    fx_t *fx = *state;
    put_claim_pod(fx->rt, "mine", "train", true, "1");
    put_claim_pod(fx->rt, "gone", "web", true, "1");   /* relabelled */
    json_t *job = manual_job(fx->rt);
    ctrl_test_step(fx->rt);
    const fx_action_t *r = fx_named(&sent, KUBUS__V1__VERB__PATCH, "gone");
    assert_non_null(r);
    assert_string_equal(kobj_str(json_array_get(kobj_get(r->body, "metadata.ownerReferences"), 0), "$patch"),
                        "delete");
    assert_string_equal(json_string_value(json_array_get(
                            kobj_get(r->body, "metadata.$deleteFromPrimitiveList/finalizers"), 0)),
                        JOB_TRACKING_FINALIZER);
    assert_null(fx_named(&sent, KUBUS__V1__VERB__PATCH, "mine"));
    /* the released pod is not counted: one active, one to create */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, "pods"), 1);
    json_t *st = status_of(fx_find(&sent, KUBUS__V1__VERB__UPDATE_STATUS, "jobs"));
    assert_int_equal(json_integer_value(json_object_get(st, "active")), 2);
    json_decref(job);
}

static void test_orphan_routed_batched(void **state)
{
    fx_t *fx = *state;
    json_t *job = manual_job(fx->rt);
    ctrl_test_set_mono_ms(fx->rt, 1000);
    ctrl_test_step(fx->rt);
    fx_answer_pending(fx->rt, &sent, 200);
    fx_reset(&sent);
    ctrl_test_set_mono_ms(fx->rt, 1500);
    assert_int_equal(ctrl_test_step(fx->rt), 0);   /* nothing else queued */
    put_claim_pod(fx->rt, "stray", "train", false, "1");
    put_claim_pod(fx->rt, "other", "web", false, "1");   /* selected by nobody */
    ctrl_test_set_mono_ms(fx->rt, 2499);
    assert_int_equal(ctrl_test_step(fx->rt), 0);   /* batched: a second later */
    ctrl_test_set_mono_ms(fx->rt, 2500);
    assert_int_equal(ctrl_test_step(fx->rt), 1);
    json_decref(job);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_success_in_stages, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backoff_then_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backoff_survives_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_backoff_keeps_active, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suspend_clears_start_time, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pfp_fail_job, setup, teardown),
        cmocka_unit_test_setup_teardown(test_pfp_ignore, setup, teardown),
        cmocka_unit_test_setup_teardown(test_queue_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_adopt_orphans, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release_unselected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphan_routed_batched, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
