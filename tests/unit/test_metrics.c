/* Unit tests for the metrics path: lib/promtext.c (floats as the Go client
 * writes them, histograms, merging worker texts with garbage in them),
 * lib/metricsfd.c (publish/read, busy, malformed, stale sizes) and the work
 * queue's upstream metrics (lib/ctrl/wqmetrics.c through workqueue.c):
 * adds, depth back to 0, retries, queue and work durations, unfinished work;
 * and the executor's rest_client_* metrics (executor/restmetrics.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctrl/workqueue.h"
#include "ctrl/wqmetrics.h"
#include "metricsfd.h"
#include "promtext.h"
#include "restmetrics.h"

/* The value of the sample line that starts with `series ` in text; fails if none. */
static double sample(const char *text, const char *series)
{
    size_t n = strlen(series);
    for (const char *s = text; s && *s; s = strchr(s, '\n') ? strchr(s, '\n') + 1 : NULL) {
        if (strncmp(s, series, n) == 0 && s[n] == ' ') return strtod(s + n + 1, NULL);
    }
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

static void test_float_format(void **state)
{
    (void)state;
    struct { double v; const char *want; } cases[] = {
        { 0, "0" }, { 1, "1" }, { 10, "10" }, { 1e-8, "1e-08" }, { 1e-5, "1e-05" },
        { 1e-4, "0.0001" }, { 0.005, "0.005" }, { 0.025, "0.025" }, { 0.1, "0.1" },
        { 2.5, "2.5" }, { 123456, "123456" }, { 1e6, "1e+06" }, { 2353208, "2.353208e+06" },
        { -3, "-3" }, { 1.0 / 0.0, "+Inf" }, { -1.0 / 0.0, "-Inf" }, { 0.30000000000000004, "0.30000000000000004" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char out[40];
        prom_float(out, sizeof out, cases[i].v);
        assert_string_equal(out, cases[i].want);
    }
}

static void test_histogram(void **state)
{
    (void)state;
    static const double b[] = { 0.1, 1, 10 };
    prom_hist_t h;
    prom_hist_init(&h, b, 3);
    prom_hist_observe(&h, 0.05);
    prom_hist_observe(&h, 0.5);
    prom_hist_observe(&h, 0.5);
    prom_hist_observe(&h, 100);
    sbuf_t s = { 0 };
    prom_histogram(&s, "x_seconds", "name=\"q\"", &h);
    char *t = sbuf_take(&s);
    assert_string_equal(t, "x_seconds_bucket{name=\"q\",le=\"0.1\"} 1\n"
                           "x_seconds_bucket{name=\"q\",le=\"1\"} 3\n"
                           "x_seconds_bucket{name=\"q\",le=\"10\"} 3\n"
                           "x_seconds_bucket{name=\"q\",le=\"+Inf\"} 4\n"
                           "x_seconds_sum{name=\"q\"} 101.05\n"
                           "x_seconds_count{name=\"q\"} 4\n");
    free(t);
}

static void test_merge(void **state)
{
    (void)state;
    const char *a = "# HELP workqueue_depth [BETA] Current depth of workqueue\n"
                    "# TYPE workqueue_depth gauge\n"
                    "workqueue_depth{name=\"a\"} 1\n"
                    "# HELP h_seconds help\n# TYPE h_seconds histogram\n"
                    "h_seconds_bucket{le=\"+Inf\"} 2\nh_seconds_sum 3\nh_seconds_count 2\n";
    const char *b = "# HELP workqueue_depth [BETA] Current depth of workqueue\n"
                    "# TYPE workqueue_depth gauge\n"
                    "workqueue_depth{name=\"b\"} 0\n"
                    "other_family 5\n"                 /* not of the family it follows: dropped */
                    "# a comment\n"
                    "bad\x01line 1\n"                  /* a control character: dropped */
                    "# TYPE c_total counter\nc_total 7";  /* no final newline */
    const char *texts[] = { a, NULL, b };
    char *m = prom_merge(texts, 3);
    assert_non_null(m);
    assert_string_equal(m, "# HELP workqueue_depth [BETA] Current depth of workqueue\n"
                           "# TYPE workqueue_depth gauge\n"
                           "workqueue_depth{name=\"a\"} 1\n"
                           "workqueue_depth{name=\"b\"} 0\n"
                           "# HELP h_seconds help\n# TYPE h_seconds histogram\n"
                           "h_seconds_bucket{le=\"+Inf\"} 2\nh_seconds_sum 3\nh_seconds_count 2\n"
                           "# TYPE c_total counter\nc_total 7\n");
    free(m);
}

static void test_metricsfd(void **state)
{
    (void)state;
    int fd = metricsfd_create("test");
    assert_true(fd >= 0);
    char *text = NULL;
    uint64_t at = 0;
    assert_int_equal(metricsfd_read(fd, 1 << 20, &text, &at), 1);   /* nothing yet */
    assert_int_equal(metricsfd_publish(fd, "a_total 1\n", 10, 1234), 0);
    assert_int_equal(metricsfd_read(fd, 1 << 20, &text, &at), 0);
    assert_string_equal(text, "a_total 1\n");
    assert_int_equal(at, 1234);
    free(text);
    /* a shorter text replaces it entirely */
    assert_int_equal(metricsfd_publish(fd, "b 2\n", 4, 99), 0);
    assert_int_equal(metricsfd_read(fd, 1 << 20, &text, &at), 0);
    assert_string_equal(text, "b 2\n");
    assert_int_equal(at, 99);
    free(text);
    assert_int_equal(metricsfd_read(fd, 10, &text, &at), -1);        /* over the limit */
    /* a file that does not start with the header */
    assert_int_equal(ftruncate(fd, 0), 0);
    assert_int_equal(pwrite(fd, "garbage\n", 8, 0), 8);
    assert_int_equal(metricsfd_read(fd, 1 << 20, &text, &at), -1);
    close(fd);
}

static uint64_t fake_ms, fake_ns;
static uint64_t clock_ms(void *ud) { (void)ud; return fake_ms; }
static uint64_t clock_ns(void *ud) { (void)ud; return fake_ns; }

static char *render(workqueue_t *q)
{
    sbuf_t s = { 0 };
    workqueue_metrics_render(q, &s);
    char *t = sbuf_take(&s);
    assert_non_null(t);
    return t;
}

#define NAMED "{name=\"replicaset\"}"

static void test_queue_metrics(void **state)
{
    (void)state;
    fake_ms = 1000000;
    fake_ns = 5000000000ull;
    workqueue_opts_t o = { .clock = clock_ms, .max_active = 5 };
    workqueue_t *q = workqueue_new(&o);
    assert_non_null(q);
    char *t = render(q);
    assert_string_equal(t, "");                      /* unnamed: no metrics, as client-go */
    free(t);
    assert_int_equal(workqueue_set_name(q, "Bad Name"), -1);
    assert_int_equal(workqueue_set_name(q, "replicaset"), 0);
    wq_metrics_set_clock(workqueue_metrics(q), clock_ns, NULL);

    workqueue_add(q, "ns/a");
    workqueue_add(q, "ns/a");                        /* already waiting: not an add */
    workqueue_add(q, "ns/b");
    t = render(q);
    assert_true(sample(t, "workqueue_adds_total" NAMED) == 2);
    assert_true(sample(t, "workqueue_depth" NAMED) == 2);
    assert_int_equal(count_lines(t, "# TYPE workqueue_queue_duration_seconds histogram"), 1);
    assert_int_equal(count_lines(t, "workqueue_queue_duration_seconds_bucket{"), 11);
    assert_int_equal(count_lines(t, "workqueue_work_duration_seconds_bucket{"), 11);
    assert_int_equal(count_lines(t, "# TYPE workqueue_adds_total counter"), 1);
    assert_int_equal(count_lines(t, "# TYPE workqueue_retries_total counter"), 1);
    assert_int_equal(count_lines(t, "# TYPE workqueue_depth gauge"), 1);
    assert_int_equal(count_lines(t, "# TYPE workqueue_unfinished_work_seconds gauge"), 1);
    assert_int_equal(count_lines(t, "# TYPE workqueue_longest_running_processor_seconds gauge"), 1);
    free(t);

    fake_ns += 2000000;                              /* 2 ms in the queue */
    const char *a = workqueue_get(q);
    assert_string_equal(a, "ns/a");
    workqueue_add(q, "ns/a");                        /* dirty while processing: an add */
    fake_ns += 3000000000ull;                        /* 3 s of work */
    t = render(q);
    assert_true(sample(t, "workqueue_adds_total" NAMED) == 3);
    assert_true(sample(t, "workqueue_depth" NAMED) == 2);
    assert_true(sample(t, "workqueue_unfinished_work_seconds" NAMED) == 3);
    assert_true(sample(t, "workqueue_longest_running_processor_seconds" NAMED) == 3);
    assert_true(sample(t, "workqueue_queue_duration_seconds_bucket{name=\"replicaset\",le=\"0.001\"}") == 0);
    assert_true(sample(t, "workqueue_queue_duration_seconds_bucket{name=\"replicaset\",le=\"0.01\"}") == 1);
    assert_true(sample(t, "workqueue_queue_duration_seconds_count" NAMED) == 1);
    free(t);
    workqueue_done(q, "ns/a");                       /* re-queued: it was added meanwhile */
    t = render(q);
    assert_true(sample(t, "workqueue_work_duration_seconds_bucket{name=\"replicaset\",le=\"1\"}") == 0);
    assert_true(sample(t, "workqueue_work_duration_seconds_bucket{name=\"replicaset\",le=\"10\"}") == 1);
    assert_true(sample(t, "workqueue_work_duration_seconds_sum" NAMED) == 3);
    assert_true(sample(t, "workqueue_unfinished_work_seconds" NAMED) == 0);
    free(t);

    /* drain: depth back to 0, every get observed */
    const char *k;
    while ((k = workqueue_get(q)) != NULL) workqueue_done(q, k);
    workqueue_add_rate_limited(q, "ns/c");           /* a retry, not yet an add */
    workqueue_add_after(q, "ns/d", 0);               /* AddAfter(0) counts as a retry and adds */
    t = render(q);
    assert_true(sample(t, "workqueue_depth" NAMED) == 1);
    assert_true(sample(t, "workqueue_retries_total" NAMED) == 2);
    assert_true(sample(t, "workqueue_adds_total" NAMED) == 4);
    assert_true(sample(t, "workqueue_queue_duration_seconds_count" NAMED) == 3);
    assert_true(sample(t, "workqueue_work_duration_seconds_count" NAMED) == 3);
    free(t);
    fake_ms += 100;                                  /* ns/c is due */
    while ((k = workqueue_get(q)) != NULL) workqueue_done(q, k);
    t = render(q);
    assert_true(sample(t, "workqueue_depth" NAMED) == 0);
    assert_true(sample(t, "workqueue_adds_total" NAMED) == 5);
    free(t);
    workqueue_destroy(&q);
}

static void test_rest_metrics(void **state)
{
    (void)state;
    restmetrics_t *m = restmetrics_new("https://127.0.0.1:6443/prefix");
    assert_non_null(m);
    restmetrics_observe(m, "POST", 201, 0.003);
    restmetrics_observe(m, "POST", 201, 0.2);
    restmetrics_observe(m, "POST", 409, 0.01);
    restmetrics_observe(m, "DELETE", 0, 30);         /* no response */
    restmetrics_retry(m, "DELETE", 0);
    restmetrics_retry(m, "PUT", 429);
    restmetrics_retry(m, "PUT", 429);
    sbuf_t s = { 0 };
    restmetrics_render(m, &s);
    char *t = sbuf_take(&s);
    assert_non_null(t);
    assert_true(sample(t, "rest_client_requests_total{code=\"201\",host=\"127.0.0.1:6443\",method=\"POST\"}") == 2);
    assert_true(sample(t, "rest_client_requests_total{code=\"409\",host=\"127.0.0.1:6443\",method=\"POST\"}") == 1);
    assert_true(sample(t, "rest_client_requests_total{code=\"<error>\",host=\"127.0.0.1:6443\",method=\"DELETE\"}") == 1);
    assert_true(sample(t, "rest_client_request_duration_seconds_bucket{host=\"127.0.0.1:6443\",verb=\"POST\",le=\"0.005\"}") == 1);
    assert_true(sample(t, "rest_client_request_duration_seconds_bucket{host=\"127.0.0.1:6443\",verb=\"POST\",le=\"0.025\"}") == 2);
    assert_true(sample(t, "rest_client_request_duration_seconds_count{host=\"127.0.0.1:6443\",verb=\"POST\"}") == 3);
    assert_true(sample(t, "rest_client_request_duration_seconds_bucket{host=\"127.0.0.1:6443\",verb=\"DELETE\",le=\"15\"}") == 0);
    assert_true(sample(t, "rest_client_request_duration_seconds_bucket{host=\"127.0.0.1:6443\",verb=\"DELETE\",le=\"30\"}") == 1);
    assert_int_equal(count_lines(t, "rest_client_request_duration_seconds_bucket{host=\"127.0.0.1:6443\",verb=\"POST\","), 13);
    assert_true(sample(t, "rest_client_request_retries_total{code=\"<error>\",host=\"127.0.0.1:6443\",verb=\"DELETE\"}") == 1);
    assert_true(sample(t, "rest_client_request_retries_total{code=\"429\",host=\"127.0.0.1:6443\",verb=\"PUT\"}") == 2);
    assert_int_equal(count_lines(t, "# TYPE rest_client_request_retries_total counter"), 1);
    assert_int_equal(count_lines(t, "# TYPE rest_client_requests_total counter"), 1);
    assert_int_equal(count_lines(t, "# TYPE rest_client_request_duration_seconds histogram"), 1);
    assert_int_equal(count_lines(t, "rest_client_request_duration_seconds_count{"), 2);   /* GET never used */
    free(t);
    restmetrics_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_float_format),
        cmocka_unit_test(test_histogram),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_metricsfd),
        cmocka_unit_test(test_queue_metrics),
        cmocka_unit_test(test_rest_metrics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
