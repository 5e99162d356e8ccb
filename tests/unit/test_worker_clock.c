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
    static const struct { uint64_t due, now, want; } cases[] = {
        { 1250, 1000, 250 },
        { 1001, 1000, 1 },
        { 1000, 1000, 0 },                          /* due now */
        { 999, 1000, 0 },                           /* past */
        { 0, UINT64_MAX, 0 },
        { UINT64_MAX, 0, INT_MAX },                 /* "never": clamped */
        { (uint64_t)INT_MAX + 7, 7, INT_MAX },      /* exactly the clamp */
        { (uint64_t)INT_MAX + 8, 7, INT_MAX },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(ms_until(cases[i].due, cases[i].now), cases[i].want);
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
