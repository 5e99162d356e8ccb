/* Unit tests for the CronJob sync on the runtime's test mode (no bus),
 * with a fixed clock: the Job made at a schedule time and the status
 * written from the create's answer; nothing before the first boundary;
 * suspend; Forbid (JobAlreadyActive), Allow and Replace (delete first,
 * then create); startingDeadlineSeconds; more than 100 missed times;
 * history limits deleting the oldest finished Jobs (Background, uid
 * precondition); finished active Jobs (SawCompletedJob,
 * lastSuccessfulTime); UnexpectedJob; MissingJob after a live 404;
 * AlreadyExists of our own Job; bad zones and schedules; a schedule
 * without a zone in the process's zone; and the re-queue for the next
 * schedule time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "cj_sync.h"
#include "ctrl/kobj.h"
#include "ctrl/runtime.h"
#include "ctrl_fixture.h"

#define T0 1705312800LL   /* 2024-01-15T10:00:00Z */
#define JOB0 "hello-28421880"

/* The actions the controller sent since the last fx_reset. */
static fx_sent_t sent;

typedef struct {
    ctrl_runtime_t *rt;
    cj_ctrl_t *cc;
} fx_t;

static int setup(void **state)
{
    static fx_t fx;
    static const char *const res[] = { "cronjobs", "jobs", NULL };
    fx.cc = cj_ctrl_new();
    ctrl_config_t cfg = { .controller = "cronjob", .component = "cronjob-controller", .resources = res,
                          .primary = "cronjobs", .sync = cj_sync, .ud = fx.cc, .concurrent_syncs = 5 };
    fx.rt = fx_runtime_new(&cfg, &sent);
    assert_int_equal(cj_ctrl_attach(fx.cc, fx.rt), 0);
    fx_runtime_ready(fx.rt, &sent, (uint64_t)(T0 + 5) * 1000);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    fx_runtime_destroy(&fx->rt, &sent);
    cj_ctrl_destroy(&fx->cc);
    return 0;
}

/* A CronJob "hello" in ns; spec_extra is spliced into spec, status is the
 * status object (NULL: {}). */
static json_t *cj_json(const char *rv, const char *created_at, const char *spec_extra, const char *status)
{
    char buf[4096];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"hello\",\"namespace\":\"ns\","
             "\"uid\":\"cj-uid\",\"resourceVersion\":\"%s\",\"creationTimestamp\":\"%s\"},"
             "\"spec\":{\"schedule\":\"*/1 * * * *\",\"concurrencyPolicy\":\"Allow\",\"suspend\":false,"
             "\"successfulJobsHistoryLimit\":3,\"failedJobsHistoryLimit\":1,"
             "\"jobTemplate\":{\"metadata\":{\"labels\":{\"app\":\"hello\"}},\"spec\":{\"template\":{\"spec\":"
             "{\"containers\":[{\"name\":\"hello\",\"image\":\"busybox\"}],\"restartPolicy\":\"OnFailure\"}}}}%s},"
             "\"status\":%s}",
             rv, created_at ? created_at : "2024-01-15T09:59:30Z", spec_extra ? spec_extra : "", status ? status : "{}");
    json_t *o = json_loads(buf, 0, NULL);
    assert_non_null(o);
    return o;
}

static void put_cj(ctrl_runtime_t *rt, const char *rv, const char *created_at, const char *spec_extra, const char *status)
{
    json_t *o = cj_json(rv, created_at, spec_extra, status);
    ctrl_test_apply(rt, "cronjobs", &o, false);
}

/* A Job controlled by the CronJob; cond NULL (running), "Complete" or "Failed". */
static void put_job(ctrl_runtime_t *rt, const char *name, const char *uid, const char *start, const char *cond,
                    const char *completion)
{
    json_t *j = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:s, s:[{s:s, s:s, s:s, s:s, s:b}]}, s:{}}", "apiVersion",
                          "batch/v1", "kind", "Job", "metadata", "name", name, "namespace", "ns", "uid", uid,
                          "resourceVersion", "9", "ownerReferences", "apiVersion", "batch/v1", "kind", "CronJob",
                          "name", "hello", "uid", "cj-uid", "controller", 1, "status");
    json_t *st = json_object_get(j, "status");
    if (start) json_object_set_new(st, "startTime", json_string(start));
    if (cond) json_object_set_new(st, "conditions", json_pack("[{s:s, s:s}]", "type", cond, "status", "True"));
    if (completion) json_object_set_new(st, "completionTime", json_string(completion));
    ctrl_test_apply(rt, "jobs", &j, false);
}

static const char *ACTIVE_J1 =
    "{\"active\":[{\"kind\":\"Job\",\"namespace\":\"ns\",\"name\":\"hello-28421879\",\"uid\":\"j1\","
    "\"apiVersion\":\"batch/v1\"}],\"lastScheduleTime\":\"2024-01-15T09:59:00Z\"}";

/* Created at 09:59:30, now 10:00:05: the 10:00 Job; its create's answer
 * brings the status write; a second sync (cache still old) makes nothing. */
static void test_creates_job_and_status(void **state)
{
    fx_t *fx = *state;
    put_cj(fx->rt, "1", NULL, NULL, NULL);
    assert_int_equal(ctrl_test_step(fx->rt), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL), 0);   /* waits for the create */
    const fx_action_t *c = fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0);
    assert_string_equal(c->resource, "jobs");
    assert_string_equal(c->name, JOB0);
    assert_string_equal(kobj_annotation(c->body, "batch.kubernetes.io/cronjob-scheduled-timestamp"), "2024-01-15T10:00:00Z");
    assert_string_equal(kobj_label(c->body, "app"), "hello");
    assert_string_equal(kobj_controller_uid(c->body), "cj-uid");
    json_t *job = fx_created(c, "job-uid", "50");
    fx_answer_with(fx->rt, c, 201, NULL, job);
    const char *msg = NULL;
    assert_int_equal(fx_event(&sent, "SuccessfulCreate", &msg), 1);
    assert_string_equal(msg, "Created job " JOB0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL), 1);
    const fx_action_t *u = fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0);
    json_t *act = kobj_get(u->body, "status.active");
    assert_int_equal(json_array_size(act), 1);
    assert_string_equal(kobj_str(json_array_get(act, 0), "uid"), "job-uid");
    assert_string_equal(kobj_str(json_array_get(act, 0), "name"), JOB0);
    assert_string_equal(kobj_str(json_array_get(act, 0), "kind"), "Job");
    assert_string_equal(kobj_str(u->body, "status.lastScheduleTime"), "2024-01-15T10:00:00Z");
    /* the server's answer to the status write */
    json_t *written = json_deep_copy(u->body);
    json_object_set_new(json_object_get(written, "metadata"), "resourceVersion", json_string("2"));
    fx_answer_with(fx->rt, u, 200, NULL, written);
    /* the Job shows up before our status write does: no second Job, no UnexpectedJob */
    json_t *observed = json_deep_copy(job);
    ctrl_test_apply(fx->rt, "jobs", &observed, false);
    fx_reset(&sent);
    ctrl_enqueue(fx->rt, "ns/hello");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    assert_int_equal(fx_event(&sent, "UnexpectedJob", NULL), 0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL), 0);
    /* with an active Job it is looked at again within a few seconds */
    int64_t due = workqueue_next_due_ms(ctrl_queue(fx->rt));
    assert_true(due > 0 && due <= 5000);
    json_decref(job);
    json_decref(written);
}

static void test_nothing_before_first_time(void **state)
{
    fx_t *fx = *state;
    put_cj(fx->rt, "1", "2024-01-15T10:00:02Z", NULL, NULL);
    ctrl_test_step(fx->rt);
    assert_int_equal(sent.n, 0);
    /* re-queued for 10:01:00.1, 55.1 s from now */
    int64_t due = workqueue_next_due_ms(ctrl_queue(fx->rt));
    assert_true(due > 54000 && due <= 55100);
}

static void test_suspend(void **state)
{
    fx_t *fx = *state;
    put_cj(fx->rt, "1", NULL, ",\"suspend\":true", NULL);
    ctrl_test_step(fx->rt);
    assert_int_equal(sent.n, 0);
    assert_int_equal(workqueue_next_due_ms(ctrl_queue(fx->rt)), -1);
}

static void test_forbid(void **state)
{
    fx_t *fx = *state;
    put_job(fx->rt, "hello-28421879", "j1", "2024-01-15T09:59:01Z", NULL, NULL);
    put_cj(fx->rt, "1", NULL, ",\"concurrencyPolicy\":\"Forbid\"", ACTIVE_J1);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, NULL), 0);
    const char *msg = NULL;
    assert_int_equal(fx_event(&sent, "JobAlreadyActive", &msg), 1);
    assert_string_equal(msg, "Not starting job because prior execution is running and concurrency policy is Forbid");
}

static void test_allow_runs_concurrently(void **state)
{
    fx_t *fx = *state;
    put_job(fx->rt, "hello-28421879", "j1", "2024-01-15T09:59:01Z", NULL, NULL);
    put_cj(fx->rt, "1", NULL, NULL, ACTIVE_J1);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
    json_t *job = fx_created(fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), "j2", "50");
    fx_answer_with(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), 201, NULL, job);
    assert_int_equal(json_array_size(kobj_get(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0)->body, "status.active")), 2);
    json_decref(job);
}

static void test_replace(void **state)
{
    fx_t *fx = *state;
    put_job(fx->rt, "hello-28421879", "j1", "2024-01-15T09:59:01Z", NULL, NULL);
    put_cj(fx->rt, "1", NULL, ",\"concurrencyPolicy\":\"Replace\"", ACTIVE_J1);
    ctrl_test_step(fx->rt);
    /* the running Job goes first; the create waits for that */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, NULL), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    const fx_action_t *d = fx_nth(&sent, KUBUS__V1__VERB__DELETE, NULL, 0);
    assert_string_equal(d->name, "hello-28421879");
    assert_string_equal(d->uid_pre, "j1");
    assert_int_equal(d->propagation, KUBUS__V1__PROPAGATION__BACKGROUND);
    fx_answer(fx->rt, d, 200);
    const char *msg = NULL;
    assert_int_equal(fx_event(&sent, "SuccessfulDelete", &msg), 1);
    assert_string_equal(msg, "Deleted job hello-28421879");
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
    json_t *job = fx_created(fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), "j2", "50");
    fx_answer_with(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), 201, NULL, job);
    json_t *act = kobj_get(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0)->body, "status.active");
    assert_int_equal(json_array_size(act), 1);
    assert_string_equal(kobj_str(json_array_get(act, 0), "uid"), "j2");
    json_decref(job);
}

static void test_replace_delete_fails(void **state)
{
    fx_t *fx = *state;
    put_job(fx->rt, "hello-28421879", "j1", "2024-01-15T09:59:01Z", NULL, NULL);
    put_cj(fx->rt, "1", NULL, ",\"concurrencyPolicy\":\"Replace\"", ACTIVE_J1);
    ctrl_test_step(fx->rt);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__DELETE, NULL, 0), 500);
    assert_int_equal(fx_event(&sent, "FailedDelete", NULL), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);   /* no Job while the old one stays */
}

static void test_starting_deadline(void **state)
{
    fx_t *fx = *state;
    /* 10:00 passed 5 s ago; a 3 s deadline forbids starting it now */
    put_cj(fx->rt, "1", NULL, ",\"startingDeadlineSeconds\":3", "{\"lastScheduleTime\":\"2024-01-15T09:58:00Z\"}");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    int64_t due = workqueue_next_due_ms(ctrl_queue(fx->rt));
    assert_true(due > 54000 && due <= 55100);
    /* a 10 s deadline allows it */
    put_cj(fx->rt, "2", NULL, ",\"startingDeadlineSeconds\":10", "{\"lastScheduleTime\":\"2024-01-15T09:58:00Z\"}");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
    assert_string_equal(fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0)->name, JOB0);
}

static void test_too_many_missed(void **state)
{
    fx_t *fx = *state;
    put_cj(fx->rt, "1", "2024-01-15T06:00:00Z", NULL, NULL);
    ctrl_test_step(fx->rt);
    const char *msg = NULL;
    assert_int_equal(fx_event(&sent, "TooManyMissedTimes", &msg), 1);
    assert_string_equal(msg, "too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew");
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);   /* still starts the latest */
    assert_string_equal(fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0)->name, JOB0);
}

static void test_history_limits(void **state)
{
    fx_t *fx = *state;
    put_job(fx->rt, "hello-a", "ua", "2024-01-15T09:50:00Z", "Complete", "2024-01-15T09:50:09Z");
    put_job(fx->rt, "hello-b", "ub", "2024-01-15T09:55:00Z", "Complete", "2024-01-15T09:55:09Z");
    put_job(fx->rt, "hello-c", "uc", "2024-01-15T09:57:00Z", "Complete", "2024-01-15T09:57:09Z");
    put_job(fx->rt, "hello-d", "ud", "2024-01-15T09:58:00Z", "Complete", "2024-01-15T09:58:09Z");
    put_job(fx->rt, "hello-f1", "uf1", "2024-01-15T09:40:00Z", "Failed", NULL);
    put_job(fx->rt, "hello-f2", "uf2", "2024-01-15T09:45:00Z", "Failed", NULL);
    put_job(fx->rt, "hello-r", "ur", "2024-01-15T09:30:00Z", NULL, NULL);   /* running: never pruned */
    put_cj(fx->rt, "1", NULL, ",\"successfulJobsHistoryLimit\":2",
           "{\"active\":[{\"kind\":\"Job\",\"namespace\":\"ns\",\"name\":\"hello-r\",\"uid\":\"ur\"}],"
           "\"lastScheduleTime\":\"2024-01-15T10:00:00Z\"}");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, NULL), 3);
    const char *names[3];
    for (int i = 0; i < 3; i++) {
        const fx_action_t *d = fx_nth(&sent, KUBUS__V1__VERB__DELETE, NULL, i);
        names[i] = d->name;
        assert_int_equal(d->propagation, KUBUS__V1__PROPAGATION__BACKGROUND);
        assert_true(strlen(d->uid_pre) > 0);
    }
    assert_string_equal(names[0], "hello-a");   /* the two oldest successful */
    assert_string_equal(names[1], "hello-b");
    assert_string_equal(names[2], "hello-f1");  /* the oldest failed */
    assert_string_equal(fx_nth(&sent, KUBUS__V1__VERB__DELETE, NULL, 0)->uid_pre, "ua");
    for (int i = 0; i < 3; i++) fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__DELETE, NULL, i), 200);
    assert_int_equal(fx_event(&sent, "SuccessfulDelete", NULL), 3);
    /* lastSuccessfulTime: the newest completion */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL), 1);
    assert_string_equal(kobj_str(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0)->body, "status.lastSuccessfulTime"),
                        "2024-01-15T09:58:09Z");
    /* while the deletes are not yet seen, a new sync does not ask again */
    fx_reset(&sent);
    ctrl_enqueue(fx->rt, "ns/hello");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, NULL), 0);
}

static void test_zero_limit(void **state)
{
    fx_t *fx = *state;
    put_job(fx->rt, "hello-a", "ua", "2024-01-15T09:50:00Z", "Complete", "2024-01-15T09:50:09Z");
    put_cj(fx->rt, "1", NULL, ",\"successfulJobsHistoryLimit\":0", "{\"lastScheduleTime\":\"2024-01-15T10:00:00Z\"}");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, NULL), 1);
}

/* Limit 0 and the finished Job still active: upstream's cleanup deletes it
 * (taking it out of status.active) before its reconcile could report it. */
static void test_zero_limit_active_job(void **state)
{
    fx_t *fx = *state;
    const char *active = "{\"active\":[{\"kind\":\"Job\",\"namespace\":\"ns\",\"name\":\"hello-a\",\"uid\":\"ua\"}],"
                         "\"lastScheduleTime\":\"2024-01-15T10:00:00Z\"}";
    put_job(fx->rt, "hello-a", "ua", "2024-01-15T09:50:00Z", "Complete", "2024-01-15T09:50:09Z");
    put_cj(fx->rt, "1", NULL, ",\"successfulJobsHistoryLimit\":0", active);
    ctrl_test_step(fx->rt);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__DELETE, NULL, 0), 200);
    assert_int_equal(fx_event(&sent, "SuccessfulDelete", NULL), 1);
    assert_int_equal(fx_event(&sent, "SawCompletedJob", NULL), 0);
    const fx_action_t *u = fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0);
    assert_null(kobj_get(u->body, "status.active"));
    assert_string_equal(kobj_str(u->body, "status.lastSuccessfulTime"), "2024-01-15T09:50:09Z");
    fx_answer(fx->rt, u, 200);
    /* a failed delete leaves it to the reconcile: SawCompletedJob (another
     * Job: the first one's delete is still expected to be seen) */
    fx_reset(&sent);
    json_t *gone = json_pack("{s:{s:s, s:s, s:s}}", "metadata", "name", "hello-a", "namespace", "ns", "uid", "ua");
    ctrl_test_apply(fx->rt, "jobs", &gone, true);
    put_job(fx->rt, "hello-a", "ua2", "2024-01-15T09:50:00Z", "Complete", "2024-01-15T09:50:09Z");
    put_cj(fx->rt, "2", NULL, ",\"successfulJobsHistoryLimit\":0",
           "{\"active\":[{\"kind\":\"Job\",\"namespace\":\"ns\",\"name\":\"hello-a\",\"uid\":\"ua2\"}],\"lastScheduleTime\":\"2024-01-15T10:00:00Z\"}");
    ctrl_test_step(fx->rt);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__DELETE, NULL, 0), 500);
    assert_int_equal(fx_event(&sent, "FailedDelete", NULL), 1);
    const char *msg = NULL;
    assert_int_equal(fx_event(&sent, "SawCompletedJob", &msg), 1);
    assert_string_equal(msg, "Saw completed job: hello-a, condition: Complete");
    assert_null(kobj_get(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0)->body, "status.active"));
}

static void test_completed_active_job(void **state)
{
    fx_t *fx = *state;
    put_job(fx->rt, "hello-28421879", "j1", "2024-01-15T09:59:01Z", "Complete", "2024-01-15T09:59:20Z");
    put_cj(fx->rt, "1", NULL, ",\"concurrencyPolicy\":\"Forbid\"", ACTIVE_J1);
    ctrl_test_step(fx->rt);
    const char *msg = NULL;
    assert_int_equal(fx_event(&sent, "SawCompletedJob", &msg), 1);
    assert_string_equal(msg, "Saw completed job: hello-28421879, condition: Complete");
    /* no longer active, so Forbid lets the 10:00 Job start */
    assert_int_equal(fx_event(&sent, "JobAlreadyActive", NULL), 0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
    json_t *job = fx_created(fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), "j2", "50");
    fx_answer_with(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), 201, NULL, job);
    const fx_action_t *u = fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0);
    assert_string_equal(kobj_str(u->body, "status.lastSuccessfulTime"), "2024-01-15T09:59:20Z");
    json_t *act = kobj_get(u->body, "status.active");
    assert_int_equal(json_array_size(act), 1);
    assert_string_equal(kobj_str(json_array_get(act, 0), "uid"), "j2");
    json_decref(job);
}

static void test_failed_active_job(void **state)
{
    fx_t *fx = *state;
    put_job(fx->rt, "hello-28421879", "j1", "2024-01-15T09:59:01Z", "Failed", NULL);
    put_cj(fx->rt, "1", NULL, NULL, "{\"active\":[{\"kind\":\"Job\",\"namespace\":\"ns\",\"name\":\"hello-28421879\","
                                   "\"uid\":\"j1\"}],\"lastScheduleTime\":\"2024-01-15T10:00:00Z\"}");
    ctrl_test_step(fx->rt);
    const char *msg = NULL;
    assert_int_equal(fx_event(&sent, "SawCompletedJob", &msg), 1);
    assert_string_equal(msg, "Saw completed job: hello-28421879, condition: Failed");
    const fx_action_t *u = fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0);
    assert_null(kobj_get(u->body, "status.active"));
    assert_null(kobj_get(u->body, "status.lastSuccessfulTime"));
}

static void test_unexpected_job(void **state)
{
    fx_t *fx = *state;
    put_job(fx->rt, "hello-stray", "js", "2024-01-15T09:59:01Z", NULL, NULL);
    put_cj(fx->rt, "1", NULL, NULL, "{\"lastScheduleTime\":\"2024-01-15T10:00:00Z\"}");
    ctrl_test_step(fx->rt);
    const char *msg = NULL;
    assert_int_equal(fx_event(&sent, "UnexpectedJob", &msg), 1);
    assert_string_equal(msg, "Saw a job that the controller did not create or forgot: hello-stray");
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL), 0);
}

static void test_missing_job(void **state)
{
    fx_t *fx = *state;
    put_cj(fx->rt, "1", NULL, NULL, ACTIVE_J1);
    ctrl_test_step(fx->rt);
    /* not in the cache: a live GET first, no new Job meanwhile */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__GET, NULL), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__GET, NULL, 0), 404);
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    const char *msg = NULL;
    assert_int_equal(fx_event(&sent, "MissingJob", &msg), 1);
    assert_string_equal(msg, "Active job went missing: hello-28421879");
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
    json_t *job = fx_created(fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), "j2", "50");
    fx_answer_with(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), 201, NULL, job);
    json_t *act = kobj_get(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0)->body, "status.active");
    assert_int_equal(json_array_size(act), 1);
    assert_string_equal(kobj_str(json_array_get(act, 0), "uid"), "j2");
    json_decref(job);
}

static void test_missing_job_found_live(void **state)
{
    fx_t *fx = *state;
    put_cj(fx->rt, "1", NULL, NULL, ACTIVE_J1);
    ctrl_test_step(fx->rt);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__GET, NULL, 0), 200);   /* it exists: our cache is behind */
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_event(&sent, "MissingJob", NULL), 0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
}

static void test_already_exists_ours(void **state)
{
    fx_t *fx = *state;
    put_cj(fx->rt, "1", NULL, NULL, NULL);
    ctrl_test_step(fx->rt);
    const fx_action_t *c = fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0);
    json_t *job = fx_created(c, "job-uid", "50");
    fx_answer_with(fx->rt, c, 200, "AlreadyExists", job);   /* the executor: it exists and is ours */
    assert_int_equal(fx_event(&sent, "SuccessfulCreate", NULL), 0);
    json_t *act = kobj_get(fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0)->body, "status.active");
    assert_string_equal(kobj_str(json_array_get(act, 0), "uid"), "job-uid");
    json_decref(job);
}

static void test_create_fails(void **state)
{
    fx_t *fx = *state;
    put_cj(fx->rt, "1", NULL, NULL, NULL);
    ctrl_test_step(fx->rt);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), 500);
    assert_int_equal(fx_event(&sent, "FailedCreate", NULL), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL), 0);
    fx_reset(&sent);
    /* someone else's Job of that name: no event, no status */
    put_cj(fx->rt, "2", NULL, NULL, NULL);
    ctrl_test_step(fx->rt);
    fx_answer_with(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), 409, "AlreadyExists", NULL);
    assert_int_equal(fx_event(&sent, "FailedCreate", NULL), 0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL), 0);
}

static void test_bad_zone_and_schedules(void **state)
{
    fx_t *fx = *state;
    const char *msg = NULL;
    put_cj(fx->rt, "1", NULL, ",\"timeZone\":\"Nowhere/Zone\"", NULL);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_event(&sent, "UnknownTimeZone", &msg), 1);
    assert_string_equal(msg, "invalid timeZone: \"Nowhere/Zone\": unknown time zone Nowhere/Zone");
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    fx_reset(&sent);
    json_t *o = cj_json("2", NULL, NULL, NULL);
    json_object_set_new(json_object_get(o, "spec"), "schedule", json_string("61 * * * *"));
    ctrl_test_apply(fx->rt, "cronjobs", &o, false);
    ctrl_test_step(fx->rt);
    /* the schedule changed to something unparseable: the handler warns, the sync too */
    assert_int_equal(fx_event(&sent, "UnParseableCronJobSchedule", NULL), 1);
    ctrl_enqueue(fx->rt, "ns/hello");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_event(&sent, "UnparseableSchedule", &msg), 1);
    assert_string_equal(msg, "unparseable schedule: \"61 * * * *\" : end of range (61) above maximum (59): 61");
    fx_reset(&sent);
    o = cj_json("3", NULL, NULL, NULL);
    json_object_set_new(json_object_get(o, "spec"), "schedule", json_string("0 0 30 2 *"));
    ctrl_test_apply(fx->rt, "cronjobs", &o, false);
    ctrl_enqueue(fx->rt, "ns/hello");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_event(&sent, "InvalidSchedule", NULL), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
}

static void test_tz_in_schedule_and_zone(void **state)
{
    fx_t *fx = *state;
    json_t *o = cj_json("1", NULL, ",\"timeZone\":\"Asia/Tokyo\"", NULL);
    ctrl_test_apply(fx->rt, "cronjobs", &o, false);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
    assert_string_equal(kobj_annotation(fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0)->body,
                                        "batch.kubernetes.io/cronjob-scheduled-timestamp"),
                        "2024-01-15T19:00:00+09:00");
}

/* No timeZone: the schedule runs in the controller process's zone (19:00
 * in Tokyo is 10:00 UTC), the annotation is in UTC as upstream writes it. */
static void test_no_zone_is_process_local(void **state)
{
    fx_t *fx = *state;
    setenv("TZ", "Asia/Tokyo", 1);
    json_t *o = cj_json("1", NULL, NULL, NULL);
    json_object_set_new(json_object_get(o, "spec"), "schedule", json_string("0 19 * * *"));
    ctrl_test_apply(fx->rt, "cronjobs", &o, false);
    ctrl_test_step(fx->rt);
    setenv("TZ", "UTC", 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
    const fx_action_t *c = fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0);
    assert_string_equal(c->name, JOB0);
    assert_string_equal(kobj_annotation(c->body, "batch.kubernetes.io/cronjob-scheduled-timestamp"), "2024-01-15T10:00:00Z");
}

static void test_tz_prefix_warns(void **state)
{
    fx_t *fx = *state;
    json_t *o = cj_json("1", NULL, NULL, NULL);
    json_object_set_new(json_object_get(o, "spec"), "schedule", json_string("TZ=UTC */1 * * * *"));
    ctrl_test_apply(fx->rt, "cronjobs", &o, false);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_event(&sent, "UnsupportedSchedule", NULL), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);   /* and runs it, as upstream's parser does */
}

static void test_deleted_cronjob_is_forgotten(void **state)
{
    fx_t *fx = *state;
    put_cj(fx->rt, "1", NULL, ",\"suspend\":true", NULL);
    ctrl_test_step(fx->rt);
    json_t *o = cj_json("2", NULL, ",\"suspend\":true", NULL);
    ctrl_test_apply(fx->rt, "cronjobs", &o, true);
    ctrl_test_step(fx->rt);
    assert_int_equal(sent.n, 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
    /* schedules without a zone run in the process's zone: pin it */
    setenv("TZ", "UTC", 1);
    const struct CMUnitTest tests[] = {
        T(test_creates_job_and_status), T(test_nothing_before_first_time), T(test_suspend), T(test_forbid),
        T(test_allow_runs_concurrently), T(test_replace), T(test_replace_delete_fails), T(test_starting_deadline),
        T(test_too_many_missed), T(test_history_limits), T(test_zero_limit), T(test_zero_limit_active_job), T(test_completed_active_job),
        T(test_failed_active_job), T(test_unexpected_job), T(test_missing_job), T(test_missing_job_found_live),
        T(test_already_exists_ours), T(test_create_fails), T(test_bad_zone_and_schedules),
        T(test_tz_in_schedule_and_zone), T(test_no_zone_is_process_local), T(test_tz_prefix_warns), T(test_deleted_cronjob_is_forgotten),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
