/* Unit tests for controllers/deployment/dep_pending.c: an update blocks the
 * syncs of its object until another resourceVersion is seen, it fails, or
 * the TTL passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "dep_pending.h"

static void test_blocks_until_observed(void **state)
{
    (void)state;
    dep_pending_t *p = dep_pending_new();
    assert_non_null(p);
    assert_false(dep_pending_blocks(p, "u1", "10", 0));
    assert_int_equal(dep_pending_add(p, "u1", "10", 1000), 0);
    assert_true(dep_pending_blocks(p, "u1", "10", 1500));
    assert_false(dep_pending_blocks(p, "u2", "10", 1500)); /* other objects are free */
    dep_pending_observe(p, "u1", "10");                    /* the same version again */
    assert_true(dep_pending_blocks(p, "u1", "10", 1600));
    dep_pending_observe(p, "u1", "11");
    assert_false(dep_pending_blocks(p, "u1", "10", 1700)); /* gone once seen */
    dep_pending_destroy(&p);
    assert_null(p);
}

static void test_other_version_in_cache_unblocks(void **state)
{
    (void)state;
    dep_pending_t *p = dep_pending_new();
    assert_int_equal(dep_pending_add(p, "u1", "10", 0), 0);
    assert_false(dep_pending_blocks(p, "u1", "12", 1));
    assert_false(dep_pending_blocks(p, "u1", "10", 2)); /* dropped on the way */
    dep_pending_destroy(&p);
}

static void test_drop_and_ttl(void **state)
{
    (void)state;
    dep_pending_t *p = dep_pending_new();
    assert_int_equal(dep_pending_add(p, "u1", "10", 0), 0);
    dep_pending_drop(p, "u1");
    assert_false(dep_pending_blocks(p, "u1", "10", 1));
    assert_int_equal(dep_pending_add(p, "u2", "5", 0), 0);
    assert_true(dep_pending_blocks(p, "u2", "5", DEP_PENDING_TTL_MS - 1));
    assert_false(dep_pending_blocks(p, "u2", "5", DEP_PENDING_TTL_MS));
    dep_pending_observe(p, "u3", NULL); /* unknown: nothing */
    dep_pending_observe(p, NULL, NULL);
    assert_int_equal(dep_pending_add(p, "", "1", 0), -1);
    assert_int_equal(dep_pending_add(p, NULL, "1", 0), -1);
    assert_int_equal(dep_pending_add(NULL, "u", "1", 0), -1);
    assert_int_equal(dep_pending_add(p, "u4", "1", 0), 0);
    dep_pending_observe(p, "u4", NULL); /* deleted */
    assert_false(dep_pending_blocks(p, "u4", "1", 1));
    dep_pending_destroy(&p);
    dep_pending_destroy(NULL);
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
