/* Unit tests for lib/ctrl/pending.c: an update blocks the
 * syncs of its object until another resourceVersion is seen, it fails, or
 * the TTL passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ctrl/pending.h"

static void test_blocks_until_observed(void **state)
{
    (void)state;
    ctrl_pending_t *p = ctrl_pending_new();
    assert_non_null(p);
    assert_false(ctrl_pending_blocks(p, "u1", "10", 0));
    assert_int_equal(ctrl_pending_add(p, "u1", "10", 1000), 0);
    assert_true(ctrl_pending_blocks(p, "u1", "10", 1500));
    assert_false(ctrl_pending_blocks(p, "u2", "10", 1500)); /* other objects are free */
    ctrl_pending_observe(p, "u1", "10");                    /* the same version again */
    assert_true(ctrl_pending_blocks(p, "u1", "10", 1600));
    ctrl_pending_observe(p, "u1", "11");
    assert_false(ctrl_pending_blocks(p, "u1", "10", 1700)); /* gone once seen */
    ctrl_pending_destroy(&p);
    assert_null(p);
}

static void test_other_version_in_cache_unblocks(void **state)
{
    (void)state;
    ctrl_pending_t *p = ctrl_pending_new();
    assert_int_equal(ctrl_pending_add(p, "u1", "10", 0), 0);
    assert_false(ctrl_pending_blocks(p, "u1", "12", 1));
    assert_false(ctrl_pending_blocks(p, "u1", "10", 2)); /* dropped on the way */
    ctrl_pending_destroy(&p);
}

static void test_drop_and_ttl(void **state)
{
    (void)state;
    ctrl_pending_t *p = ctrl_pending_new();
    assert_int_equal(ctrl_pending_add(p, "u1", "10", 0), 0);
    ctrl_pending_drop(p, "u1");
    assert_false(ctrl_pending_blocks(p, "u1", "10", 1));
    assert_int_equal(ctrl_pending_add(p, "u2", "5", 0), 0);
    assert_true(ctrl_pending_blocks(p, "u2", "5", CTRL_PENDING_TTL_MS - 1));
    assert_false(ctrl_pending_blocks(p, "u2", "5", CTRL_PENDING_TTL_MS));
    ctrl_pending_observe(p, "u3", NULL); /* unknown: nothing */
    ctrl_pending_observe(p, NULL, NULL);
    assert_int_equal(ctrl_pending_add(p, "", "1", 0), -1);
    assert_int_equal(ctrl_pending_add(p, NULL, "1", 0), -1);
    assert_int_equal(ctrl_pending_add(NULL, "u", "1", 0), -1);
    assert_int_equal(ctrl_pending_add(p, "u4", "1", 0), 0);
    ctrl_pending_observe(p, "u4", NULL); /* deleted */
    assert_false(ctrl_pending_blocks(p, "u4", "1", 1));
    ctrl_pending_destroy(&p);
    ctrl_pending_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocks_until_observed),
        cmocka_unit_test(test_other_version_in_cache_unblocks),
        cmocka_unit_test(test_drop_and_ttl),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
