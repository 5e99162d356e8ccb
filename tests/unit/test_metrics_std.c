/* Unit tests for the upstream families added beside the work queue and
 * REST client ones: the label escaping of lib/promtext.c, the Job
 * controller's job_controller_* (controllers/job/job_metrics.c), the
 * CronJob skew histogram (controllers/cronjob/cj_metrics.c),
 * rest_client_rate_limiter_duration_seconds (executor/restmetrics.c) and
 * the /proc/<pid>/stat parser and process_* text of the supervisor
 * (supervisor/procmetrics.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cj_metrics.h"
#include "job_metrics.h"
#include "procmetrics.h"
#include "promtext.h"
#include "restmetrics.h"

/* The value of the sample line `series v`; fails if none. */
static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *s = text; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
        if (strncmp(s, series, n) == 0 && s[n] == ' ') return strtod(s + n + 1, NULL);
    fail_msg("no sample %s in:\n%s", series, text);
    return -1;
}

static int count_lines(const char *text, const char *prefix)
{
    int c = 0;
    size_t n = strlen(prefix);
    for (const char *s = text; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL)
        if (strncmp(s, prefix, n) == 0) c++;
    return c;
}

static void test_label_value(void **state)
{
    (void)state;
    char out[32];
    prom_label_value(out, sizeof out, "a\"b\\c\nd");
    assert_string_equal(out, "a\\\"b\\\\c\\nd");
    prom_label_value(out, sizeof out, NULL);
    assert_string_equal(out, "");
    char small[4];
    prom_label_value(small, sizeof small, "ab\"c");   /* no half escape at the end */
    assert_string_equal(small, "ab");
}

#define SYNC "job_controller_job_sync_duration_seconds"

static void test_job_metrics(void **state)
{
    (void)state;
    job_metrics_t *m = job_metrics_new();
    assert_non_null(m);
    sbuf_t s = { 0 };
    job_metrics_render(m, &s);
    char *t = sbuf_take(&s);
    assert_true(t == NULL || *t == '\0');        /* empty vectors are not shown */
    free(t);

    job_metrics_sync(m, false, true, JOB_ACTION_PODS_CREATED, 0.003);
    job_metrics_sync(m, false, true, JOB_ACTION_PODS_CREATED, 0.01);
    job_metrics_sync(m, true, false, JOB_ACTION_RECONCILING, 100);
    job_metrics_finished(m, false, true, "CompletionsReached");
    job_metrics_finished(m, false, true, "CompletionsReached");
    job_metrics_finished(m, true, false, "BackoffLimitExceeded");
    job_metrics_pods_finished(m, false, true, 3);
    job_metrics_pods_finished(m, false, true, 0);      /* nothing */
    job_metrics_pods_finished(m, false, false, -2);    /* nothing */
    job_metrics_external(m, "kueue.x-k8s.io/multikueue");
    job_metrics_render(m, &s);
    t = sbuf_take(&s);
    assert_non_null(t);
    assert_int_equal(count_lines(t, "# TYPE " SYNC " histogram"), 1);
    assert_int_equal(count_lines(t, "# HELP " SYNC " [STABLE] The time it took to sync a job"), 1);
    const char *l = "{action=\"pods_created\",completion_mode=\"NonIndexed\",result=\"success\"";
    char series[300];
    snprintf(series, sizeof series, SYNC "_bucket%s,le=\"0.004\"}", l);
    assert_true(sample(t, series) == 1);
    snprintf(series, sizeof series, SYNC "_bucket%s,le=\"0.016\"}", l);
    assert_true(sample(t, series) == 2);
    snprintf(series, sizeof series, SYNC "_bucket%s,le=\"65.536\"}", l);
    assert_true(sample(t, series) == 2);
    snprintf(series, sizeof series, SYNC "_count%s}", l);
    assert_true(sample(t, series) == 2);
    /* 15 buckets and +Inf, as ExponentialBuckets(0.004, 2, 15) */
    snprintf(series, sizeof series, SYNC "_bucket%s,", l);
    assert_int_equal(count_lines(t, series), 16);
    assert_true(sample(t, SYNC "_bucket{action=\"reconciling\",completion_mode=\"Indexed\",result=\"error\",le=\"65.536\"}") == 0);
    assert_true(sample(t, SYNC "_bucket{action=\"reconciling\",completion_mode=\"Indexed\",result=\"error\",le=\"+Inf\"}") == 1);
    assert_true(sample(t, "job_controller_job_syncs_total{action=\"pods_created\",completion_mode=\"NonIndexed\",result=\"success\"}") == 2);
    assert_true(sample(t, "job_controller_job_syncs_total{action=\"reconciling\",completion_mode=\"Indexed\",result=\"error\"}") == 1);
    assert_int_equal(count_lines(t, "job_controller_job_syncs_total{"), 2);
    assert_true(sample(t, "job_controller_jobs_finished_total{completion_mode=\"NonIndexed\",reason=\"CompletionsReached\",result=\"succeeded\"}") == 2);
    assert_true(sample(t, "job_controller_jobs_finished_total{completion_mode=\"Indexed\",reason=\"BackoffLimitExceeded\",result=\"failed\"}") == 1);
    assert_true(sample(t, "job_controller_job_pods_finished_total{completion_mode=\"NonIndexed\",result=\"succeeded\"}") == 3);
    assert_int_equal(count_lines(t, "job_controller_job_pods_finished_total{"), 1);
    assert_true(sample(t, "job_controller_jobs_by_external_controller_total{controller_name=\"kueue.x-k8s.io/multikueue\"}") == 1);
    assert_int_equal(count_lines(t, "# HELP job_controller_jobs_finished_total [STABLE] The number of finished jobs"), 1);
    assert_int_equal(count_lines(t, "# HELP job_controller_job_pods_finished_total [STABLE] "), 1);
    free(t);
    job_metrics_destroy(&m);
    assert_null(m);
}

static void test_cronjob_skew(void **state)
{
    (void)state;
    prom_hist_t h;
    cj_metrics_init(&h);
    sbuf_t s = { 0 };
    cj_metrics_render(&h, &s);                  /* shown before any Job, with zeros */
    char *t = sbuf_take(&s);
    assert_non_null(t);
    assert_true(sample(t, "cronjob_controller_job_creation_skew_duration_seconds_count") == 0);
    assert_int_equal(count_lines(t, "cronjob_controller_job_creation_skew_duration_seconds_bucket{le="), 11);
    free(t);
    cj_metrics_created(&h, 1000, 1000);
    cj_metrics_created(&h, 1003, 1000);
    cj_metrics_created(&h, 0, 1000);            /* no creationTimestamp: not observed */
    cj_metrics_render(&h, &s);
    t = sbuf_take(&s);
    assert_true(sample(t, "cronjob_controller_job_creation_skew_duration_seconds_bucket{le=\"1\"}") == 1);
    assert_true(sample(t, "cronjob_controller_job_creation_skew_duration_seconds_bucket{le=\"2\"}") == 1);
    assert_true(sample(t, "cronjob_controller_job_creation_skew_duration_seconds_bucket{le=\"4\"}") == 2);
    assert_true(sample(t, "cronjob_controller_job_creation_skew_duration_seconds_bucket{le=\"512\"}") == 2);
    assert_true(sample(t, "cronjob_controller_job_creation_skew_duration_seconds_sum") == 3);
    assert_int_equal(count_lines(t, "# HELP cronjob_controller_job_creation_skew_duration_seconds [STABLE] "), 1);
    free(t);
}

static void test_rate_limiter_latency(void **state)
{
    (void)state;
    restmetrics_t *m = restmetrics_new("https://10.0.0.1:6443");
    assert_non_null(m);
    restmetrics_throttled(m, "POST", 0);
    restmetrics_throttled(m, "POST", 0.3);
    restmetrics_throttled(m, "GET", 2);
    sbuf_t s = { 0 };
    restmetrics_render(m, &s);
    char *t = sbuf_take(&s);
    assert_non_null(t);
    assert_int_equal(count_lines(t, "# TYPE rest_client_rate_limiter_duration_seconds histogram"), 1);
    assert_true(sample(t, "rest_client_rate_limiter_duration_seconds_bucket{host=\"10.0.0.1:6443\",verb=\"POST\",le=\"0.005\"}") == 1);
    assert_true(sample(t, "rest_client_rate_limiter_duration_seconds_bucket{host=\"10.0.0.1:6443\",verb=\"POST\",le=\"0.5\"}") == 2);
    assert_true(sample(t, "rest_client_rate_limiter_duration_seconds_count{host=\"10.0.0.1:6443\",verb=\"GET\"}") == 1);
    assert_int_equal(count_lines(t, "rest_client_rate_limiter_duration_seconds_bucket{host=\"10.0.0.1:6443\",verb=\"POST\","), 13);
    assert_int_equal(count_lines(t, "rest_client_rate_limiter_duration_seconds_count{"), 2);
    free(t);
    restmetrics_destroy(&m);
}

static void test_procstat_parse(void **state)
{
    (void)state;
    procstat_t st;
    /* a command with spaces and a parenthesis, as /proc shows it */
    const char *text = "4242 (kubus (x) y) S 1 4242 4242 0 -1 4194560 900 0 0 0 "
                       "250 75 0 0 20 0 3 0 123456 104857600 2560 18446744073709551615 1 1 0 0 0\n";
    assert_int_equal(procstat_parse(text, &st), 0);
    assert_int_equal(st.utime, 250);
    assert_int_equal(st.stime, 75);
    assert_int_equal(st.starttime, 123456);
    assert_int_equal(st.vsize, 104857600);
    assert_int_equal(st.rss, 2560);
    assert_int_equal(procstat_parse("4242 (short) S 1 2 3", &st), -1);
    assert_int_equal(procstat_parse("no parenthesis", &st), -1);
    assert_int_equal(procstat_parse("1 (x) S 1 2 3 4 5 6 7 8 9 10 11 zz", &st), -1);
    assert_int_equal(procstat_parse(NULL, &st), -1);
}

static void test_process_metrics(void **state)
{
    (void)state;
    procmetrics_t one, two;
    procmetrics_read(NULL, 0, &one);
    pid_t self[1] = { getpid() };
    procmetrics_read(self, 1, &two);            /* this process counted twice: the sums double */
    assert_true(one.resident_bytes > 0);
    assert_true(two.resident_bytes >= 1.5 * one.resident_bytes);
    assert_true(two.open_fds > one.open_fds);
    assert_true(one.max_fds > 0);
    assert_true(one.start_time_seconds > 1.5e9);
    sbuf_t s = { 0 };
    procmetrics_render(&one, &s);
    char *t = sbuf_take(&s);
    assert_non_null(t);
    assert_int_equal(count_lines(t, "# TYPE process_cpu_seconds_total counter"), 1);
    assert_int_equal(count_lines(t, "# HELP process_resident_memory_bytes Resident memory size in bytes."), 1);
    assert_true(sample(t, "process_max_fds") == one.max_fds);
    assert_int_equal(count_lines(t, "process_start_time_seconds "), 1);
    assert_int_equal(count_lines(t, "process_virtual_memory_bytes "), 1);
    assert_int_equal(count_lines(t, "process_open_fds "), 1);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_label_value),
        cmocka_unit_test(test_job_metrics),
        cmocka_unit_test(test_cronjob_skew),
        cmocka_unit_test(test_rate_limiter_latency),
        cmocka_unit_test(test_procstat_parse),
        cmocka_unit_test(test_process_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
