/* Unit tests for lib/ctrl/turntrees.c: kept trees live until the release
 * (one reference each, dropped exactly once), the array survives a release
 * and grows past its first size. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "ctrl/turntrees.h"

static void test_keep_release(void **state)
{
    (void)state;
    turn_trees_t tt = {0};
    assert_int_equal(turn_trees_count(&tt), 0);
    json_t *held = json_object();
    json_t *t = json_incref(held);              /* refcount 2: ours and the one kept */
    assert_true(turn_trees_keep(&tt, t));
    assert_int_equal(turn_trees_count(&tt), 1);
    assert_int_equal(held->refcount, 2);
    turn_trees_release(&tt);
    assert_int_equal(turn_trees_count(&tt), 0);
    assert_int_equal(held->refcount, 1);        /* the kept reference was dropped once */
    turn_trees_release(&tt);                    /* a second release drops nothing */
    assert_int_equal(held->refcount, 1);
    json_decref(held);
    turn_trees_free(&tt);
}

static void test_grows_and_reuses(void **state)
{
    (void)state;
    turn_trees_t tt = {0};
    for (int i = 0; i < 200; i++) assert_true(turn_trees_keep(&tt, json_integer(i)));
    assert_int_equal(turn_trees_count(&tt), 200);
    size_t cap = tt.cap;
    assert_true(cap >= 200);
    turn_trees_release(&tt);
    assert_int_equal(tt.cap, cap);              /* the next turn reuses the array */
    assert_true(turn_trees_keep(&tt, json_object()));
    turn_trees_free(&tt);                       /* frees the kept tree too (ASan checks) */
    assert_null(tt.v);
    assert_int_equal(turn_trees_count(&tt), 0);
    assert_false(turn_trees_keep(NULL, NULL));
    assert_int_equal(turn_trees_count(NULL), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keep_release),
        cmocka_unit_test(test_grows_and_reuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
