/* Unit tests for backoffLimitPerIndex (job_bpi.c, and its spec rules in
 * job_core.c/job_pfp.c): the failure-count annotations as upstream reads
 * them (missing, non-numeric, negative, huge: 0), when a failed pod fails
 * its index (the per-index limit, FailIndex, Ignore), the counts a
 * replacement carries, which failed pod keeps its finalizer, the
 * per-index back-off, the Job's failure reasons, the failedIndexes
 * strings, and the spec refusals and defaults. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/kobj.h"
#include "job_bpi.h"
#include "job_core.h"

#define T0 "2023-11-14T22:13:20Z"
#define T0_MS 1700000000000ll

static json_t *job_with(const char *spec_extra)
{
    char buf[1536];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"batch/v1\",\"kind\":\"Job\",\"metadata\":{\"name\":\"pi\",\"namespace\":\"ns\",\"uid\":\"j1\"},"
             "\"spec\":{%s%s\"selector\":{\"matchLabels\":{\"batch.kubernetes.io/controller-uid\":\"j1\"}},"
             "\"template\":{\"spec\":{\"restartPolicy\":\"Never\",\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}",
             spec_extra, *spec_extra ? "," : "");
    json_t *j = json_loads(buf, 0, NULL);
    assert_non_null(j);
    return j;
}

static void read_ok(const json_t *job, job_spec_t *s)
{
    char err[256];
    if (job_spec_read(job, s, err, sizeof err) != 0) fail_msg("refused: %s", err);
}

/* A pod of index 0 in phase with these annotations (JSON members or ""),
 * its container c ended with exit code at finished (NULL: still running). */
static json_t *pod_with(const char *phase, const char *annotations, int exit_code, const char *finished)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"pi-0-a\",\"namespace\":\"ns\",\"uid\":\"p1\",\"creationTimestamp\":\"2023-11-14T22:00:00Z\","
             "\"annotations\":{\"batch.kubernetes.io/job-completion-index\":\"0\"%s%s}},\"status\":{\"phase\":\"%s\"}}",
             *annotations ? "," : "", annotations, phase);
    json_t *p = json_loads(buf, 0, NULL);
    assert_non_null(p);
    if (finished)
        json_object_set_new(json_object_get(p, "status"), "containerStatuses",
                            json_pack("[{s:s, s:{s:{s:i, s:s}}}]", "name", "c", "state", "terminated", "exitCode",
                                      exit_code, "finishedAt", finished));
    return p;
}

static json_t *failed_with_count(const char *count)
{
    char ann[160];
    snprintf(ann, sizeof ann, "\"" JOB_INDEX_FAILURE_COUNT_KEY "\":\"%s\"", count);
    return pod_with("Failed", ann, 1, T0);
}

static void test_parse_count(void **state)
{
    (void)state;
    static const struct { const char *in; int32_t want; } cases[] = {
        { NULL, 0 }, { "", 0 }, { "0", 0 }, { "3", 3 }, { "+7", 7 }, { "007", 7 },
        { "-3", 0 }, { "-0", 0 }, { "-", 0 }, { "+", 0 }, { "abc", 0 }, { "5x", 0 }, { " 5", 0 }, { "5 ", 0 },
        { "1.5", 0 }, { "0x10", 0 }, { "2147483647", INT32_MAX }, { "2147483648", 0 },
        { "99999999999999999999999999999", 0 }, { "-99999999999999999999999", 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (job_bpi_parse_count(cases[i].in) != cases[i].want)
            fail_msg("\"%s\" read %d, want %d", cases[i].in ? cases[i].in : "(null)", job_bpi_parse_count(cases[i].in),
                     cases[i].want);
}

static void test_pod_counts(void **state)
{
    (void)state;
    json_t *p = pod_with("Failed", "", 1, T0);
    assert_int_equal(job_pod_index_failures(p), 0);   /* missing */
    assert_int_equal(job_pod_index_ignored_failures(p), 0);
    json_decref(p);
    p = pod_with("Failed", "\"" JOB_INDEX_FAILURE_COUNT_KEY "\":\"4\",\"" JOB_INDEX_IGNORED_FAILURE_COUNT_KEY "\":\"2\"", 1,
                 T0);
    assert_int_equal(job_pod_index_failures(p), 4);
    assert_int_equal(job_pod_index_ignored_failures(p), 2);
    json_decref(p);
    p = failed_with_count("lots");
    assert_int_equal(job_pod_index_failures(p), 0);
    assert_false(job_pod_index_counts_readable(p));   /* reads 0, worth a warning */
    json_decref(p);
    p = failed_with_count("2147483648");
    assert_false(job_pod_index_counts_readable(p));
    json_decref(p);
    p = pod_with("Failed", "\"" JOB_INDEX_IGNORED_FAILURE_COUNT_KEY "\":\"-1\"", 1, T0);
    assert_false(job_pod_index_counts_readable(p));
    json_decref(p);
    p = pod_with("Failed", "", 1, T0);
    assert_true(job_pod_index_counts_readable(p));    /* absent is fine (pods made before the limit) */
    json_decref(p);
    p = failed_with_count("0");
    assert_true(job_pod_index_counts_readable(p));
    json_decref(p);
}

static void test_spec_rules(void **state)
{
    (void)state;
    job_spec_t s;
    char err[256];
    json_t *j = job_with("\"completionMode\":\"Indexed\",\"completions\":4,\"backoffLimitPerIndex\":1,\"maxFailedIndexes\":2");
    read_ok(j, &s);
    assert_true(s.has_bpi && s.backoff_limit_per_index == 1 && s.has_max_failed && s.max_failed_indexes == 2);
    assert_int_equal(s.backoff_limit, INT32_MAX);   /* the API's default with a per-index limit */
    job_spec_free(&s);
    json_decref(j);
    j = job_with("\"completionMode\":\"Indexed\",\"completions\":4,\"backoffLimitPerIndex\":0,\"backoffLimit\":3");
    read_ok(j, &s);
    assert_true(s.has_bpi && s.backoff_limit_per_index == 0 && !s.has_max_failed && s.backoff_limit == 3);
    job_spec_free(&s);
    json_decref(j);
    j = job_with("\"completionMode\":\"Indexed\",\"completions\":4");
    read_ok(j, &s);
    assert_false(s.has_bpi);
    assert_int_equal(s.backoff_limit, 6);
    job_spec_free(&s);
    json_decref(j);
    static const char *const bad[] = {
        "\"completions\":4,\"backoffLimitPerIndex\":1",                                        /* NonIndexed */
        "\"completionMode\":\"Indexed\",\"completions\":4,\"maxFailedIndexes\":1",             /* no per-index limit */
        "\"completionMode\":\"Indexed\",\"completions\":4,\"backoffLimitPerIndex\":1,\"maxFailedIndexes\":5",
        "\"completionMode\":\"Indexed\",\"completions\":4,\"backoffLimitPerIndex\":-1",
        "\"completionMode\":\"Indexed\",\"completions\":4,\"backoffLimitPerIndex\":\"1\"",
        "\"completionMode\":\"Indexed\",\"completions\":200000,\"backoffLimitPerIndex\":1",    /* needs maxFailedIndexes */
        ("\"completionMode\":\"Indexed\",\"completions\":4,\"podFailurePolicy\":{\"rules\":[{\"action\":\"FailIndex\","
         "\"onExitCodes\":{\"operator\":\"In\",\"values\":[3]}}]}"),                            /* FailIndex alone */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = job_with(bad[i]);
        if (job_spec_read(j, &s, err, sizeof err) == 0) {
            job_spec_free(&s);
            fail_msg("accepted: %s", bad[i]);
        }
        json_decref(j);
    }
    j = job_with("\"completionMode\":\"Indexed\",\"completions\":4,\"backoffLimitPerIndex\":1,\"podFailurePolicy\":"
                 "{\"rules\":[{\"action\":\"FailIndex\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[3]}}]}");
    read_ok(j, &s);   /* FailIndex with backoffLimitPerIndex */
    job_spec_free(&s);
    json_decref(j);
}

/* The Job's spec with backoffLimitPerIndex limit (and a podFailurePolicy if pfp). */
static json_t *bpi_job(int limit, const char *pfp, job_spec_t *s)
{
    char extra[768];
    snprintf(extra, sizeof extra, "\"completionMode\":\"Indexed\",\"completions\":3,\"backoffLimitPerIndex\":%d%s%s", limit,
             pfp ? ",\"podFailurePolicy\":" : "", pfp ? pfp : "");
    json_t *j = job_with(extra);
    read_ok(j, s);
    return j;
}

#define PFP_RULES "{\"rules\":[{\"action\":\"FailIndex\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[42]}}," \
                  "{\"action\":\"Ignore\",\"onExitCodes\":{\"operator\":\"In\",\"values\":[7]}}]}"

static void test_pod_fails_index(void **state)
{
    (void)state;
    job_spec_t s;
    json_t *j = bpi_job(1, NULL, &s);
    json_t *p = failed_with_count("0");
    assert_false(job_pod_fails_index(j, &s, p));   /* the first failure: one retry left */
    json_decref(p);
    p = failed_with_count("1");
    assert_true(job_pod_fails_index(j, &s, p));    /* backoffLimitPerIndex 1 used up */
    json_decref(p);
    p = failed_with_count("junk");
    assert_false(job_pod_fails_index(j, &s, p));   /* reads 0, as upstream */
    json_decref(p);
    p = failed_with_count("-5");
    assert_false(job_pod_fails_index(j, &s, p));
    json_decref(p);
    p = pod_with("Running", "\"" JOB_INDEX_FAILURE_COUNT_KEY "\":\"9\"", 0, NULL);
    assert_false(job_pod_fails_index(j, &s, p));   /* not failed */
    json_decref(p);
    job_spec_free(&s);
    json_decref(j);
    j = bpi_job(0, NULL, &s);
    p = pod_with("Failed", "", 1, T0);
    assert_true(job_pod_fails_index(j, &s, p));    /* limit 0: the first failure fails the index */
    json_decref(p);
    job_spec_free(&s);
    json_decref(j);
    j = bpi_job(5, PFP_RULES, &s);
    p = pod_with("Failed", "", 42, T0);
    assert_true(job_pod_fails_index(j, &s, p));    /* FailIndex: at once */
    json_decref(p);
    p = pod_with("Failed", "\"" JOB_INDEX_FAILURE_COUNT_KEY "\":\"5\"", 7, T0);
    assert_false(job_pod_fails_index(j, &s, p));   /* Ignore: never against the limit */
    json_decref(p);
    p = pod_with("Failed", "\"" JOB_INDEX_FAILURE_COUNT_KEY "\":\"5\"", 1, T0);
    assert_true(job_pod_fails_index(j, &s, p));    /* no rule: counted */
    json_decref(p);
    job_spec_free(&s);
    json_decref(j);
}

static void test_replacement_counts(void **state)
{
    (void)state;
    job_spec_t s;
    int32_t f, g;
    json_t *j = bpi_job(3, PFP_RULES, &s);
    job_bpi_replacement_counts(j, &s, NULL, &f, &g);
    assert_true(f == 0 && g == 0);                 /* a first pod */
    json_t *p = pod_with("Failed", "\"" JOB_INDEX_FAILURE_COUNT_KEY "\":\"2\"", 1, T0);
    job_bpi_replacement_counts(j, &s, p, &f, &g);
    assert_true(f == 3 && g == 0);
    json_decref(p);
    p = pod_with("Failed", "\"" JOB_INDEX_FAILURE_COUNT_KEY "\":\"2\",\"" JOB_INDEX_IGNORED_FAILURE_COUNT_KEY "\":\"4\"", 7,
                 T0);
    job_bpi_replacement_counts(j, &s, p, &f, &g);
    assert_true(f == 2 && g == 5);                 /* an ignored failure */
    json_decref(p);
    p = pod_with("Failed", "\"" JOB_INDEX_FAILURE_COUNT_KEY "\":\"2147483647\",\"" JOB_INDEX_IGNORED_FAILURE_COUNT_KEY
                 "\":\"2147483647\"", 7, T0);
    job_bpi_replacement_counts(j, &s, p, &f, &g);
    assert_true(f == INT32_MAX && g == INT32_MAX); /* stops, no wrap */
    json_decref(p);
    p = failed_with_count("x");
    job_bpi_replacement_counts(j, &s, p, &f, &g);
    assert_true(f == 1 && g == 0);                 /* a bad count restarts from 0 */
    json_decref(p);
    job_spec_free(&s);
    json_decref(j);
}

static void test_pod_annotations(void **state)
{
    (void)state;
    json_t *j = job_with("\"completionMode\":\"Indexed\",\"completions\":3,\"backoffLimitPerIndex\":1");
    json_t *p = job_pod_from_template(j, "pi-1-abcde", 1);
    assert_non_null(p);
    assert_int_equal(job_pod_set_index_failures(p, 0, 0), 0);
    assert_string_equal(kobj_annotation(p, JOB_INDEX_FAILURE_COUNT_KEY), "0");   /* always written */
    assert_null(kobj_annotation(p, JOB_INDEX_IGNORED_FAILURE_COUNT_KEY));      /* only above 0 */
    assert_string_equal(kobj_annotation(p, JOB_COMPLETION_INDEX_KEY), "1");
    assert_int_equal(job_pod_set_index_failures(p, 2, 3), 0);
    assert_string_equal(kobj_annotation(p, JOB_INDEX_FAILURE_COUNT_KEY), "2");
    assert_string_equal(kobj_annotation(p, JOB_INDEX_IGNORED_FAILURE_COUNT_KEY), "3");
    json_decref(p);
    json_decref(j);
    json_t *bare = json_object();
    assert_int_equal(job_pod_set_index_failures(bare, 1, 0), -1);   /* no metadata */
    json_decref(bare);
}

static void test_delay_prefer(void **state)
{
    (void)state;
    json_t *a = pod_with("Failed", "\"" JOB_INDEX_FAILURE_COUNT_KEY "\":\"1\"", 1, "2023-11-14T22:13:00Z");
    json_t *b = pod_with("Failed", "\"" JOB_INDEX_FAILURE_COUNT_KEY "\":\"2\"", 1, "2023-11-14T22:13:10Z");
    json_t *c = pod_with("Failed", "\"" JOB_INDEX_FAILURE_COUNT_KEY "\":\"3\"", 1, "2023-11-14T22:12:00Z");
    assert_true(job_bpi_delay_prefer(NULL, a));
    assert_true(job_bpi_delay_prefer(a, b));       /* more failures, later */
    assert_false(job_bpi_delay_prefer(b, a));
    assert_false(job_bpi_delay_prefer(b, c));      /* more failures but earlier: kept b */
    assert_true(job_bpi_delay_prefer(b, b));       /* ties go to the candidate, as upstream */
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static void test_backoff_per_index(void **state)
{
    (void)state;
    assert_int_equal(job_bpi_backoff_remaining_ms(NULL, T0_MS), 0);   /* no failed pod: at once */
    json_t *p = failed_with_count("0");
    assert_int_equal(job_bpi_backoff_remaining_ms(p, T0_MS), 10000);  /* 1 failure: 10 s from its end */
    assert_int_equal(job_bpi_backoff_remaining_ms(p, T0_MS + 4000), 6000);
    assert_int_equal(job_bpi_backoff_remaining_ms(p, T0_MS + 15000), 0);
    json_decref(p);
    p = pod_with("Failed", "\"" JOB_INDEX_FAILURE_COUNT_KEY "\":\"1\",\"" JOB_INDEX_IGNORED_FAILURE_COUNT_KEY "\":\"1\"", 1,
                 T0);
    assert_int_equal(job_bpi_backoff_remaining_ms(p, T0_MS), 40000);  /* 3 failures in all: 40 s */
    json_decref(p);
    p = failed_with_count("2147483647");
    assert_int_equal(job_bpi_backoff_remaining_ms(p, T0_MS), JOB_POD_BACKOFF_MAX_MS);   /* capped */
    json_decref(p);
    p = failed_with_count("garbage");
    assert_int_equal(job_bpi_backoff_remaining_ms(p, T0_MS), 10000);  /* reads 0: the first back-off */
    json_decref(p);
}

static void test_failure_reasons(void **state)
{
    (void)state;
    job_spec_t s;
    const char *msg;
    json_t *j = job_with("\"completionMode\":\"Indexed\",\"completions\":4,\"backoffLimitPerIndex\":1,\"maxFailedIndexes\":1");
    read_ok(j, &s);
    assert_null(job_bpi_failure(&s, 0, 4, &msg));
    assert_null(job_bpi_failure(&s, 1, 2, &msg));                     /* indexes still to run */
    assert_string_equal(job_bpi_failure(&s, 2, 0, &msg), "MaxFailedIndexesExceeded");
    assert_string_equal(msg, "Job has exceeded the specified maximal number of failed indexes");
    assert_string_equal(job_bpi_failure(&s, 1, 3, &msg), "FailedIndexes");
    assert_string_equal(msg, "Job has failed indexes");
    job_spec_free(&s);
    json_decref(j);
    j = job_with("\"completionMode\":\"Indexed\",\"completions\":4,\"backoffLimitPerIndex\":1");
    read_ok(j, &s);
    assert_null(job_bpi_failure(&s, 3, 0, &msg));                     /* no maxFailedIndexes: wait for all */
    assert_string_equal(job_bpi_failure(&s, 4, 0, &msg), "FailedIndexes");
    job_spec_free(&s);
    json_decref(j);
    j = job_with("\"completionMode\":\"Indexed\",\"completions\":4");
    read_ok(j, &s);
    assert_null(job_bpi_failure(&s, 4, 0, &msg));                     /* no per-index limit */
    job_spec_free(&s);
    json_decref(j);
}

static void test_failed_indexes_strings(void **state)
{
    (void)state;
    char buf[64];
    bool none[4] = { false, false, false, false };
    assert_int_equal(job_indexes_format(none, 4, buf, sizeof buf), 0);
    assert_string_equal(buf, "");   /* written as "" (upstream's failedIndexes is "" then, not absent) */
    bool some[9] = { true, true, false, true, true, true, false, false, true };
    job_indexes_format(some, 9, buf, sizeof buf);
    assert_string_equal(buf, "0,1,3-5,8");
    bool back[9];
    assert_int_equal(job_indexes_parse("0,1,3-5,8", back, 9), 0);
    assert_memory_equal(some, back, sizeof some);
    assert_int_equal(job_indexes_parse("0,1,3-5,8", back, 4), 0);   /* past completions: ignored */
    assert_true(back[0] && back[1] && back[3] && !back[2]);
    assert_int_equal(job_indexes_parse("2,a", back, 4), -1);        /* corrupt: refused */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_count),
        cmocka_unit_test(test_pod_counts),
        cmocka_unit_test(test_spec_rules),
        cmocka_unit_test(test_pod_fails_index),
        cmocka_unit_test(test_replacement_counts),
        cmocka_unit_test(test_pod_annotations),
        cmocka_unit_test(test_delay_prefer),
        cmocka_unit_test(test_backoff_per_index),
        cmocka_unit_test(test_failure_reasons),
        cmocka_unit_test(test_failed_indexes_strings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
