/* Unit tests for executor/ratelimit.c: --kube-api-qps/--kube-api-burst. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ratelimit.h"

#define MS 1000000ull
#define SEC 1000000000ull

static int take_all(ratelimit_t *rl, uint64_t now)
{
    int n = 0;
    while (ratelimit_try_take(rl, now)) n++;
    return n;
}

static void test_burst_then_rate(void **state)
{
    (void)state;
    ratelimit_t rl;
    ratelimit_init(&rl, 5.0, 5, 1000 * SEC);
    /* A full bucket: the first `burst` requests go at once. */
    assert_int_equal(take_all(&rl, 1000 * SEC), 5);
    /* Then one every 1/qps = 200 ms. */
    assert_int_equal(ratelimit_wait_ns(&rl, 1000 * SEC), 200 * MS);
    assert_false(ratelimit_try_take(&rl, 1000 * SEC + 199 * MS));
    assert_true(ratelimit_try_take(&rl, 1000 * SEC + 200 * MS));
    assert_false(ratelimit_try_take(&rl, 1000 * SEC + 200 * MS));
    /* Waiting exactly what wait_ns says always finds a token. */
    uint64_t now = 1000 * SEC + 200 * MS;
    for (int i = 0; i < 45; i++) {
        now += ratelimit_wait_ns(&rl, now);
        assert_true(ratelimit_try_take(&rl, now));
    }
    /* 5 at once + 46 at 5/s: 9.2 s after the start. */
    assert_in_range(now, 1009 * SEC, 1009 * SEC + 250 * MS);
}

static void test_refill_caps_at_burst(void **state)
{
    (void)state;
    ratelimit_t rl;
    ratelimit_init(&rl, 10.0, 3, 0);
    assert_int_equal(take_all(&rl, 0), 3);
    /* An hour idle refills to burst, not to 36000. */
    assert_int_equal(take_all(&rl, 3600 * SEC), 3);
}

static void test_unlimited(void **state)
{
    (void)state;
    ratelimit_t rl;
    ratelimit_init(&rl, 0.0, 1, 0);
    assert_true(ratelimit_unlimited(&rl));
    for (int i = 0; i < 100000; i++) assert_true(ratelimit_try_take(&rl, 0));
    assert_int_equal(ratelimit_wait_ns(&rl, 0), 0);
    ratelimit_init(&rl, -1.0, 1, 0);
    assert_true(ratelimit_try_take(&rl, 0));
}

static void test_burst_below_one_and_clock_backwards(void **state)
{
    (void)state;
    ratelimit_t rl;
    ratelimit_init(&rl, 1.0, 0, 10 * SEC);
    assert_true(ratelimit_try_take(&rl, 10 * SEC));
    assert_false(ratelimit_try_take(&rl, 10 * SEC));
    /* A clock stepping back must not mint tokens. */
    assert_false(ratelimit_try_take(&rl, 5 * SEC));
    assert_true(ratelimit_try_take(&rl, 11 * SEC));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_refill_caps_at_burst),
        cmocka_unit_test(test_unlimited),
        cmocka_unit_test(test_burst_below_one_and_clock_backwards),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
