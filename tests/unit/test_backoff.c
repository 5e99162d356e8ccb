/* Unit tests for the supervisor's restart schedule (supervisor/backoff.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <signal.h>

#include "backoff.h"

static void test_schedule(void **state)
{
    (void)state;
    /* First exit of a streak: immediate; then 0.1 s doubling to 30 s. */
    uint64_t want[] = { 0, 100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 30000, 30000 };
    for (unsigned i = 0; i < sizeof want / sizeof want[0]; i++)
        assert_int_equal(sup_backoff_delay_ms(i + 1), want[i]);
    assert_int_equal(sup_backoff_delay_ms(0), 0);
    assert_int_equal(sup_backoff_delay_ms(1000000), SUP_BACKOFF_MAX_MS);
}

static void test_streak(void **state)
{
    (void)state;
    /* Dying before staying ready 10 s extends the streak ... */
    assert_int_equal(sup_backoff_streak(0, 0), 1);
    assert_int_equal(sup_backoff_streak(1, 9999), 2);
    assert_int_equal(sup_backoff_streak(5, 0), 6);
    /* ... a run ready for 10 s or more starts a new one (immediate restart). */
    assert_int_equal(sup_backoff_streak(7, 10000), 1);
    assert_int_equal(sup_backoff_streak(7, 3600000), 1);
    assert_int_equal(sup_backoff_delay_ms(sup_backoff_streak(9, 20000)), 0);
    /* No overflow however long a worker crash-loops. */
    assert_true(sup_backoff_streak(1000000u, 0) >= 1000000u);
}

/* Kills from outside restart at once; the worker's own failures do not. */
static void test_outside_kill(void **state)
{
    (void)state;
    int killed = 0, termed = 0, segv = 0, exit1 = 0;
    /* Build wait statuses the way the kernel encodes them. */
    killed = SIGKILL;
    termed = SIGTERM;
    segv = SIGSEGV;
    exit1 = 1 << 8;
    assert_true(sup_backoff_outside_kill(killed, false));
    assert_true(sup_backoff_outside_kill(termed, false));
    assert_false(sup_backoff_outside_kill(killed, true)); /* our own hang kill */
    assert_false(sup_backoff_outside_kill(segv, false));  /* a crash */
    assert_false(sup_backoff_outside_kill(exit1, false)); /* exit 1 */
    assert_false(sup_backoff_outside_kill(0, false));     /* clean exit */
}

/* A worker crashing at start-up: restarts within 5 s stay few. */
static void test_crash_loop_rate(void **state)
{
    (void)state;
    unsigned streak = 0;
    uint64_t t = 0;
    int starts = 0;
    while (t <= 5000) {
        starts++;
        streak = sup_backoff_streak(streak, 0);
        t += 10 + sup_backoff_delay_ms(streak); /* 10 ms to crash */
    }
    assert_true(starts <= 9);
    assert_true(starts >= 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule),
        cmocka_unit_test(test_streak),
        cmocka_unit_test(test_crash_loop_rate),
        cmocka_unit_test(test_outside_kill),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
