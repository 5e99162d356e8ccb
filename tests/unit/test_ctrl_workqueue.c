/* Unit tests for lib/ctrl/workqueue.c: dedup, processing/dirty, delays,
 * rate limiting (per-key exponential + token bucket, or the per-key
 * back-off alone with another base and cap) and max_active. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/workqueue.h"

static uint64_t fake_now;
static uint64_t fake_clock(void *ud) { (void)ud; return fake_now; }

static workqueue_t *newq(int max_active)
{
    fake_now = 1000000;
    workqueue_opts_t o = { .clock = fake_clock, .max_active = max_active };
    workqueue_t *q = workqueue_new(&o);
    assert_non_null(q);
    return q;
}

static void test_dedup_fifo(void **state)
{
    (void)state;
    workqueue_t *q = newq(10);
    workqueue_add(q, "a");
    workqueue_add(q, "b");
    workqueue_add(q, "a");
    assert_int_equal(workqueue_len(q), 2);
    const char *k = workqueue_get(q);
    assert_string_equal(k, "a");
    workqueue_done(q, k);
    k = workqueue_get(q);
    assert_string_equal(k, "b");
    workqueue_done(q, k);
    assert_null(workqueue_get(q));
    workqueue_destroy(&q);
    assert_null(q);
}

static void test_processing_dirty(void **state)
{
    (void)state;
    workqueue_t *q = newq(10);
    workqueue_add(q, "a");
    const char *k = workqueue_get(q);
    assert_true(workqueue_is_processing(q, "a"));
    workqueue_add(q, "a");                 /* while processing: dirty, not handed out */
    workqueue_add(q, "a");
    assert_int_equal(workqueue_len(q), 0);
    assert_null(workqueue_get(q));
    workqueue_done(q, k);                  /* re-queued once */
    assert_int_equal(workqueue_len(q), 1);
    k = workqueue_get(q);
    assert_string_equal(k, "a");
    workqueue_done(q, k);
    assert_int_equal(workqueue_len(q), 0);
    workqueue_done(q, "never");            /* harmless */
    workqueue_destroy(&q);
}

static void test_max_active(void **state)
{
    (void)state;
    workqueue_t *q = newq(2);
    workqueue_add(q, "a");
    workqueue_add(q, "b");
    workqueue_add(q, "c");
    const char *a = workqueue_get(q), *b = workqueue_get(q);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(workqueue_get(q));         /* two in sync already */
    assert_int_equal(workqueue_active(q), 2);
    workqueue_done(q, a);
    const char *c = workqueue_get(q);
    assert_string_equal(c, "c");
    workqueue_done(q, b);
    workqueue_done(q, c);
    workqueue_destroy(&q);
}

static void test_delayed(void **state)
{
    (void)state;
    workqueue_t *q = newq(5);
    workqueue_add_after(q, "a", 100);
    workqueue_add_after(q, "b", 50);
    workqueue_add_after(q, "a", 500);      /* later: keeps the earlier time */
    assert_int_equal(workqueue_delayed(q), 2);
    assert_null(workqueue_get(q));
    assert_int_equal(workqueue_next_due_ms(q), 50);
    fake_now += 60;
    const char *k = workqueue_get(q);
    assert_string_equal(k, "b");
    workqueue_done(q, k);
    assert_null(workqueue_get(q));
    workqueue_add_after(q, "a", 10);       /* earlier: wins */
    fake_now += 10;
    k = workqueue_get(q);
    assert_string_equal(k, "a");
    workqueue_done(q, k);
    fake_now += 1000;                      /* the stale 100 ms entry fires nothing */
    assert_null(workqueue_get(q));
    assert_int_equal(workqueue_next_due_ms(q), -1);
    workqueue_add_after(q, "z", 0);        /* 0 = now */
    assert_int_equal(workqueue_next_due_ms(q), 0);
    workqueue_destroy(&q);
}

static void test_item_backoff(void **state)
{
    (void)state;
    workqueue_t *q = newq(5);
    assert_int_equal(workqueue_when_peek(q, "a"), 5);
    uint64_t want[] = { 5, 10, 20, 40, 80 };
    for (int i = 0; i < 5; i++) {
        assert_int_equal(workqueue_when_peek(q, "a"), want[i]);
        workqueue_add_rate_limited(q, "a");
        fake_now += want[i];
        const char *k = workqueue_get(q);
        assert_non_null(k);
        workqueue_done(q, k);
    }
    assert_int_equal(workqueue_num_requeues(q, "a"), 5);
    workqueue_forget(q, "a");
    assert_int_equal(workqueue_num_requeues(q, "a"), 0);
    assert_int_equal(workqueue_when_peek(q, "a"), 5);
    /* the cap: 5 ms * 2^n never exceeds 1000 s */
    for (int i = 0; i < 40; i++) workqueue_add_rate_limited(q, "b");
    assert_int_equal(workqueue_when_peek(q, "b"), 1000u * 1000u);
    workqueue_destroy(&q);
}

static void test_token_bucket(void **state)
{
    (void)state;
    workqueue_t *q = newq(5);
    char key[16];
    /* 100 distinct keys use the burst; the 101st waits for a token (100 ms at 10 qps) */
    for (int i = 0; i < 100; i++) {
        snprintf(key, sizeof key, "k%d", i);
        workqueue_add_rate_limited(q, key);
    }
    assert_int_equal(workqueue_when_peek(q, "fresh"), 100);
    workqueue_add_rate_limited(q, "fresh");
    assert_int_equal(workqueue_when_peek(q, "fresh2"), 200);
    fake_now += 1000;                      /* 10 tokens back */
    assert_int_equal(workqueue_when_peek(q, "fresh3"), 5);
    workqueue_destroy(&q);
}

/* The per-key back-off alone (the Job controller's 1 s doubling to 60 s):
 * no bucket delays the 101st key, and the cap holds. */
static void test_item_only_limiter(void **state)
{
    (void)state;
    fake_now = 1000000;
    workqueue_opts_t o = { .clock = fake_clock, .max_active = 5, .base_delay_ms = 1000, .max_delay_ms = 60000,
                           .no_bucket = true };
    workqueue_t *q = workqueue_new(&o);
    assert_non_null(q);
    const uint64_t want[] = { 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000 };
    for (int i = 0; i < 8; i++) {
        assert_int_equal(workqueue_when_peek(q, "job"), want[i]);
        workqueue_add_rate_limited(q, "job");
    }
    char key[16];
    for (int i = 0; i < 300; i++) {
        snprintf(key, sizeof key, "k%d", i);
        assert_int_equal(workqueue_when_peek(q, key), 1000);
        workqueue_add_rate_limited(q, key);
    }
    fake_now += 999;
    assert_null(workqueue_get(q));
    fake_now += 1;
    assert_non_null(workqueue_get(q));   /* the first keys are due after exactly 1 s */
    workqueue_destroy(&q);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dedup_fifo),
        cmocka_unit_test(test_processing_dirty),
        cmocka_unit_test(test_max_active),
        cmocka_unit_test(test_delayed),
        cmocka_unit_test(test_item_backoff),
        cmocka_unit_test(test_token_bucket),
        cmocka_unit_test(test_item_only_limiter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
