/* Unit tests for the CronJob controller's pure decisions (cj_core.c): the
 * most recent unmet schedule time (none / one / a few / more than 100
 * missed, startingDeadlineSeconds, irregular schedules, schedules that
 * never fire), the re-queue delay, spec reading, the Job made from the
 * template, Job states and the history deletion order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "cj_core.h"
#include "ctrl/kobj.h"

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = s };
    return (int64_t)timegm(&tm);
}

static cj_sched_t sched(const char *spec)
{
    cj_sched_t s;
    char err[200];
    assert_int_equal(cj_sched_parse(spec, NULL, &s, err, sizeof err), 0);
    return s;
}

/* startingDeadlineSeconds is an int64 the user sets: at its limit it means
 * "any missed time still counts", not an overflow. */
static void test_huge_starting_deadline(void **state)
{
    (void)state;
    cj_sched_t s = sched("*/1 * * * *");
    cj_spec_t sp = { .creation = utc(2024, 1, 15, 10, 0, 30), .has_deadline = true, .starting_deadline = INT64_MAX };
    cj_recent_t r;
    char err[128];
    int64_t now = utc(2024, 1, 15, 10, 5, 30) * 1000;
    assert_int_equal(cj_most_recent(&s, &sp, now, true, &r, err, sizeof err), 0);
    assert_int_equal(r.recent, utc(2024, 1, 15, 10, 5, 0));
    assert_int_equal(r.missed_count, 5);
}

static void test_most_recent(void **state)
{
    (void)state;
    cj_sched_t s = sched("*/1 * * * *");
    cj_spec_t sp = { .creation = utc(2024, 1, 15, 10, 0, 30) };
    cj_recent_t r;
    char err[128];
    /* before the first boundary: nothing, next in 10.1 s */
    int64_t now = utc(2024, 1, 15, 10, 0, 50) * 1000;
    assert_int_equal(cj_most_recent(&s, &sp, now, true, &r, err, sizeof err), 0);
    assert_false(r.has_recent);
    assert_int_equal(r.missed, CJ_MISSED_NONE);
    assert_int_equal(cj_next_delay_ms(&s, &sp, now), 10100);
    /* just after it: that boundary, none missed */
    now = utc(2024, 1, 15, 10, 1, 5) * 1000;
    assert_int_equal(cj_most_recent(&s, &sp, now, true, &r, err, sizeof err), 0);
    assert_true(r.has_recent);
    assert_int_equal(r.recent, utc(2024, 1, 15, 10, 1, 0));
    assert_int_equal(r.missed, CJ_MISSED_NONE);
    assert_int_equal(cj_next_delay_ms(&s, &sp, now), 55100);
    /* a few missed: the latest of them */
    now = utc(2024, 1, 15, 10, 5, 30) * 1000;
    assert_int_equal(cj_most_recent(&s, &sp, now, true, &r, err, sizeof err), 0);
    assert_int_equal(r.recent, utc(2024, 1, 15, 10, 5, 0));
    assert_int_equal(r.missed, CJ_MISSED_FEW);
    assert_int_equal(r.missed_count, 5);
    /* exactly on a boundary counts (not after now) */
    now = utc(2024, 1, 15, 10, 6, 0) * 1000;
    assert_int_equal(cj_most_recent(&s, &sp, now, true, &r, err, sizeof err), 0);
    assert_int_equal(r.recent, utc(2024, 1, 15, 10, 6, 0));
    /* lastScheduleTime wins over creation */
    sp.has_last_schedule = true;
    sp.last_schedule = utc(2024, 1, 15, 10, 6, 0);
    now = utc(2024, 1, 15, 10, 6, 0) * 1000 + 500;
    assert_int_equal(cj_most_recent(&s, &sp, now, true, &r, err, sizeof err), 0);
    assert_false(r.has_recent);
    assert_int_equal(cj_next_delay_ms(&s, &sp, now), 59600);
}

static void test_too_many_missed(void **state)
{
    (void)state;
    cj_sched_t s = sched("*/1 * * * *");
    cj_spec_t sp = { .creation = utc(2024, 1, 15, 6, 0, 0) };
    cj_recent_t r;
    char err[128];
    int64_t now = utc(2024, 1, 15, 10, 0, 5) * 1000;
    assert_int_equal(cj_most_recent(&s, &sp, now, true, &r, err, sizeof err), 0);
    assert_int_equal(r.missed, CJ_MISSED_MANY);
    assert_true(r.has_recent);
    assert_int_equal(r.recent, utc(2024, 1, 15, 10, 0, 0));   /* still the latest */
    /* 100 missed is not "too many"; 101 is */
    sp.creation = utc(2024, 1, 15, 8, 20, 0);
    assert_int_equal(cj_most_recent(&s, &sp, now, true, &r, err, sizeof err), 0);
    assert_int_equal(r.missed_count, 100);
    assert_int_equal(r.missed, CJ_MISSED_FEW);
    sp.creation = utc(2024, 1, 15, 8, 19, 0);
    assert_int_equal(cj_most_recent(&s, &sp, now, true, &r, err, sizeof err), 0);
    assert_int_equal(r.missed, CJ_MISSED_MANY);
    /* years of an hourly schedule: quick, and the latest hour */
    cj_sched_t h = sched("@hourly");
    sp.creation = utc(2014, 1, 1, 0, 0, 0);
    assert_int_equal(cj_most_recent(&h, &sp, now, true, &r, err, sizeof err), 0);
    assert_int_equal(r.recent, utc(2024, 1, 15, 10, 0, 0));
}

static void test_starting_deadline(void **state)
{
    (void)state;
    cj_sched_t s = sched("*/1 * * * *");
    cj_spec_t sp = { .creation = utc(2024, 1, 15, 9, 0, 0), .has_last_schedule = true,
                     .last_schedule = utc(2024, 1, 15, 9, 58, 0), .has_deadline = true, .starting_deadline = 3 };
    cj_recent_t r;
    char err[128];
    int64_t now = utc(2024, 1, 15, 10, 0, 5) * 1000;
    /* 10:00 is more than 3 s ago: nothing may start now */
    assert_int_equal(cj_most_recent(&s, &sp, now, true, &r, err, sizeof err), 0);
    assert_false(r.has_recent);
    /* without the deadline (the re-queue computation) the misses are seen */
    assert_int_equal(cj_most_recent(&s, &sp, now, false, &r, err, sizeof err), 0);
    assert_true(r.has_recent);
    assert_int_equal(r.recent, utc(2024, 1, 15, 10, 0, 0));
    assert_int_equal(cj_next_delay_ms(&s, &sp, now), 55100);
    sp.starting_deadline = 10;
    assert_int_equal(cj_most_recent(&s, &sp, now, true, &r, err, sizeof err), 0);
    assert_true(r.has_recent);
    assert_int_equal(r.recent, utc(2024, 1, 15, 10, 0, 0));
    assert_int_equal(r.missed, CJ_MISSED_NONE);
}

static void test_irregular_and_invalid(void **state)
{
    (void)state;
    cj_sched_t s = sched("30 6-16/4 * * 1-5");
    cj_spec_t sp = { .creation = utc(2024, 1, 1, 0, 0, 0), .has_last_schedule = true,
                     .last_schedule = utc(2024, 1, 19, 14, 30, 0) };   /* a Friday */
    cj_recent_t r;
    char err[128];
    assert_int_equal(cj_most_recent(&s, &sp, utc(2024, 1, 22, 7, 0, 0) * 1000, true, &r, err, sizeof err), 0);
    assert_int_equal(r.recent, utc(2024, 1, 22, 6, 30, 0));
    assert_int_equal(cj_most_recent(&s, &sp, utc(2024, 1, 23, 7, 0, 0) * 1000, true, &r, err, sizeof err), 0);
    assert_int_equal(r.recent, utc(2024, 1, 23, 6, 30, 0));
    assert_int_equal(cj_most_recent(&s, &sp, utc(2024, 1, 23, 15, 0, 0) * 1000, true, &r, err, sizeof err), 0);
    assert_int_equal(r.recent, utc(2024, 1, 23, 14, 30, 0));
    /* never fires: upstream's "less than 1 second" error */
    cj_sched_t never = sched("0 0 30 2 *");
    assert_int_equal(cj_most_recent(&never, &sp, utc(2024, 1, 23, 7, 0, 0) * 1000, true, &r, err, sizeof err), -1);
    assert_non_null(strstr(err, "less than 1 second"));
    /* @every counts from the last schedule time */
    cj_sched_t every = sched("@every 90s");
    sp.last_schedule = utc(2024, 1, 15, 10, 0, 0);
    assert_int_equal(cj_most_recent(&every, &sp, utc(2024, 1, 15, 10, 4, 0) * 1000, true, &r, err, sizeof err), 0);
    assert_int_equal(r.recent, utc(2024, 1, 15, 10, 3, 0));
}

static json_t *cronjob(const char *extra_spec)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"batch/v1\",\"kind\":\"CronJob\",\"metadata\":{\"name\":\"hello\",\"namespace\":\"ns\","
             "\"uid\":\"cj-uid\",\"creationTimestamp\":\"2024-01-15T09:59:30Z\"},\"spec\":{\"schedule\":\"*/1 * * * *\","
             "\"jobTemplate\":{\"metadata\":{\"labels\":{\"app\":\"hello\"},\"annotations\":{\"a\":\"b\"}},"
             "\"spec\":{\"backoffLimit\":2,\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"busybox\"}],"
             "\"restartPolicy\":\"OnFailure\"}}}}%s},\"status\":{\"lastScheduleTime\":\"2024-01-15T09:59:00Z\"}}",
             extra_spec ? extra_spec : "");
    json_t *o = json_loads(buf, 0, NULL);
    assert_non_null(o);
    return o;
}

static void test_spec_read(void **state)
{
    (void)state;
    json_t *cj = cronjob(",\"concurrencyPolicy\":\"Forbid\",\"suspend\":true,\"startingDeadlineSeconds\":30,"
                         "\"successfulJobsHistoryLimit\":3,\"failedJobsHistoryLimit\":1,\"timeZone\":\"Asia/Tokyo\"");
    cj_spec_t sp;
    char err[200];
    assert_int_equal(cj_spec_read(cj, &sp, err, sizeof err), 0);
    assert_string_equal(sp.schedule, "*/1 * * * *");
    assert_string_equal(sp.time_zone, "Asia/Tokyo");
    assert_true(sp.suspend);
    assert_int_equal(sp.concurrency, CJ_FORBID);
    assert_true(sp.has_deadline);
    assert_int_equal(sp.starting_deadline, 30);
    assert_int_equal(sp.success_limit, 3);
    assert_int_equal(sp.failed_limit, 1);
    assert_int_equal(sp.creation, utc(2024, 1, 15, 9, 59, 30));
    assert_true(sp.has_last_schedule);
    assert_int_equal(sp.last_schedule, utc(2024, 1, 15, 9, 59, 0));
    json_decref(cj);
    cj = cronjob(",\"concurrencyPolicy\":\"Sometimes\"");
    assert_int_equal(cj_spec_read(cj, &sp, err, sizeof err), -1);
    json_decref(cj);
    cj = cronjob(",\"successfulJobsHistoryLimit\":-1");
    assert_int_equal(cj_spec_read(cj, &sp, err, sizeof err), -1);
    json_decref(cj);
    cj = cronjob(NULL);
    assert_int_equal(cj_spec_read(cj, &sp, err, sizeof err), 0);
    assert_int_equal(sp.concurrency, CJ_ALLOW);
    assert_false(sp.has_success_limit);
    assert_null(sp.time_zone);
    json_decref(cj);
}

static void test_job_from_template(void **state)
{
    (void)state;
    json_t *cj = cronjob(NULL);
    int64_t t = utc(2024, 1, 15, 10, 0, 0);
    json_t *job = cj_job_from_template(cj, t, NULL);
    assert_non_null(job);
    assert_string_equal(kobj_name(job), "hello-28421880");
    assert_string_equal(kobj_namespace(job), "ns");
    assert_string_equal(kobj_str(job, "kind"), "Job");
    assert_string_equal(kobj_str(job, "apiVersion"), "batch/v1");
    assert_string_equal(kobj_label(job, "app"), "hello");
    assert_string_equal(kobj_annotation(job, "a"), "b");
    assert_string_equal(kobj_annotation(job, CJ_SCHEDULED_ANNOTATION), "2024-01-15T10:00:00Z");
    kobj_ownerref_t ref;
    assert_int_equal(kobj_controller_ref(job, &ref), 0);
    assert_string_equal(ref.kind, "CronJob");
    assert_string_equal(ref.api_version, "batch/v1");
    assert_string_equal(ref.name, "hello");
    assert_string_equal(ref.uid, "cj-uid");
    assert_true(ref.block_owner_deletion);
    assert_int_equal(kobj_int(job, "spec.backoffLimit", -1), 2);
    assert_string_equal(kobj_str(job, "spec.template.spec.restartPolicy"), "OnFailure");
    assert_null(kobj_get(job, "metadata.generateName"));
    json_decref(job);
    job = cj_job_from_template(cj, t, "Asia/Tokyo");
    assert_string_equal(kobj_annotation(job, CJ_SCHEDULED_ANNOTATION), "2024-01-15T19:00:00+09:00");
    json_decref(job);
    /* the template is not changed */
    assert_null(kobj_annotation(kobj_get(cj, "spec.jobTemplate"), CJ_SCHEDULED_ANNOTATION));
    json_decref(cj);
}

static json_t *job(const char *name, const char *start, const char *cond)
{
    json_t *j = json_pack("{s:{s:s, s:s, s:s}, s:{}}", "metadata", "name", name, "namespace", "ns", "uid", name,
                          "status");
    json_t *st = json_object_get(j, "status");
    if (start) json_object_set_new(st, "startTime", json_string(start));
    if (cond)
        json_object_set_new(st, "conditions", json_pack("[{s:s, s:s}]", "type", cond, "status", "True"));
    return j;
}

static void test_job_state_and_order(void **state)
{
    (void)state;
    json_t *a = job("a", "2024-01-15T10:02:00Z", "Complete"), *b = job("b", "2024-01-15T10:01:00Z", "Failed");
    json_t *c = job("c", NULL, "Complete"), *d = job("d", "2024-01-15T10:01:00Z", NULL);
    json_t *e = job("e", "2024-01-15T10:00:00Z", "Suspended");
    assert_int_equal(cj_job_state(a), CJ_JOB_COMPLETE);
    assert_int_equal(cj_job_state(b), CJ_JOB_FAILED);
    assert_int_equal(cj_job_state(d), CJ_JOB_RUNNING);
    assert_int_equal(cj_job_state(e), CJ_JOB_RUNNING);
    const json_t *list[] = { c, a, d, b };
    cj_sort_by_start_time(list, 4);
    /* oldest start first, name breaks ties, never-started last */
    assert_ptr_equal(list[0], b);
    assert_ptr_equal(list[1], d);
    assert_ptr_equal(list[2], a);
    assert_ptr_equal(list[3], c);
    assert_int_equal(cj_history_excess(5, 3), 2);
    assert_int_equal(cj_history_excess(3, 3), 0);
    assert_int_equal(cj_history_excess(2, 0), 2);
    json_object_set_new(json_object_get(a, "status"), "completionTime", json_string("2024-01-15T10:03:07Z"));
    assert_int_equal(cj_job_completion_time(a), utc(2024, 1, 15, 10, 3, 7));
    assert_int_equal(cj_job_completion_time(c), 0);
    json_decref(a); json_decref(b); json_decref(c); json_decref(d); json_decref(e);
}

static void test_active_list(void **state)
{
    (void)state;
    json_t *st = json_object();
    json_t *j = json_pack("{s:{s:s, s:s, s:s, s:s}}", "metadata", "name", "hello-1", "namespace", "ns", "uid", "u1",
                          "resourceVersion", "7");
    assert_int_equal(cj_active_add(st, j), 0);
    assert_int_equal(cj_active_count(st), 1);
    assert_true(cj_active_has_uid(st, "u1"));
    assert_true(cj_active_has_name(st, "ns", "hello-1"));
    assert_false(cj_active_has_name(st, "other", "hello-1"));
    json_t *ref = json_array_get(json_object_get(st, "active"), 0);
    assert_string_equal(kobj_str(ref, "kind"), "Job");
    assert_string_equal(kobj_str(ref, "apiVersion"), "batch/v1");
    assert_string_equal(kobj_str(ref, "resourceVersion"), "7");
    assert_false(cj_active_remove(st, "nope"));
    assert_true(cj_active_remove(st, "u1"));
    assert_null(json_object_get(st, "active"));   /* an empty list is omitted, as upstream's omitempty */
    json_decref(j);
    json_decref(st);
}

int main(void)
{
    /* schedules without a zone run in the process's zone: pin it */
    setenv("TZ", "UTC", 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_most_recent),
        cmocka_unit_test(test_huge_starting_deadline),
        cmocka_unit_test(test_too_many_missed),
        cmocka_unit_test(test_starting_deadline),
        cmocka_unit_test(test_irregular_and_invalid),
        cmocka_unit_test(test_spec_read),
        cmocka_unit_test(test_job_from_template),
        cmocka_unit_test(test_job_state_and_order),
        cmocka_unit_test(test_active_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
