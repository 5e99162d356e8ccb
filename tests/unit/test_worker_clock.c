/* Unit tests for the timer helpers of lib/worker.c: ms_until is the due
 * time's distance from now, 0 at and past it, and never more than INT_MAX
 * (every caller hands it to a poll as an int), and now_mono_ms does not go
 * back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <limits.h>

#include "worker.h"

static void test_ms_until(void **state)
{
    (void)state;
    assert_int_equal(ms_until(1250, 1000), 250);
    assert_int_equal(ms_until(1001, 1000), 1);
    assert_int_equal(ms_until(1000, 1000), 0);
    assert_int_equal(ms_until(999, 1000), 0);
    assert_int_equal(ms_until(0, UINT64_MAX), 0);
    assert_int_equal(ms_until(UINT64_MAX, 0), INT_MAX);   /* "never": clamped */
    assert_int_equal(ms_until((uint64_t)INT_MAX + 7, 7), INT_MAX);
    assert_int_equal(ms_until((uint64_t)INT_MAX + 8, 7), INT_MAX);
}

static void test_mono_monotonic(void **state)
{
    (void)state;
    uint64_t a = now_mono_ms(), b = now_mono_ms();
    assert_true(a > 0);
    assert_true(b >= a);
    assert_int_equal(ms_until(a, b), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ms_until),
        cmocka_unit_test(test_mono_monotonic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
