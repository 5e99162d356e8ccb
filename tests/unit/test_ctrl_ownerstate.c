/* Unit tests for lib/ctrl/ownerstate.c: a state is found by key while the
 * owner keeps its uid, starts afresh (the old one freed, the controller's
 * fini called) when the name holds a new uid, goes with forget, and warns
 * once per generation. Leaks show under the sanitizer build. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "ctrl/ownerstate.h"

typedef struct {
    ctrl_ostate_t base;
    int *counter;                /* made by init, freed by fini */
    int syncs;
} test_state_t;

static int g_inits, g_finis, g_fail_init;

static int test_init(void *p)
{
    test_state_t *s = p;
    g_inits++;
    if (g_fail_init) return -1;
    s->counter = calloc(1, sizeof *s->counter);
    return s->counter ? 0 : -1;
}

static void test_fini(void *p)
{
    test_state_t *s = p;
    g_finis++;
    free(s->counter);
}

static const ctrl_ostate_type_t type = { .size = sizeof(test_state_t), .init = test_init, .fini = test_fini };

static json_t *owner(const char *uid, int generation)
{
    return json_pack("{s:{s:s, s:s, s:s, s:i}}", "metadata", "namespace", "ns", "name", "a", "uid", uid,
                     "generation", generation);
}

static int reset(void **state)
{
    (void)state;
    g_inits = g_finis = g_fail_init = 0;
    return 0;
}

static void test_same_uid_same_state(void **state)
{
    (void)state;
    ctrl_ostates_t *m = ctrl_ostates_new(&type);
    assert_non_null(m);
    json_t *o = owner("u1", 1);
    test_state_t *s = ctrl_ostates_for(m, "ns/a", o);
    assert_non_null(s);
    assert_string_equal(s->base.uid, "u1");
    assert_int_equal(s->base.warned_generation, -1);
    assert_non_null(s->counter);
    s->syncs = 3;
    assert_ptr_equal(ctrl_ostates_for(m, "ns/a", o), s);
    assert_ptr_equal(ctrl_ostates_get(m, "ns/a"), s);
    assert_null(ctrl_ostates_get(m, "ns/b"));
    assert_int_equal(g_inits, 1);
    json_decref(o);
    ctrl_ostates_destroy(&m);
    assert_null(m);
    assert_int_equal(g_finis, 1);
}

static void test_new_uid_starts_afresh(void **state)
{
    (void)state;
    ctrl_ostates_t *m = ctrl_ostates_new(&type);
    json_t *old = owner("u1", 1), *again = owner("u2", 1);
    test_state_t *s = ctrl_ostates_for(m, "ns/a", old);
    s->syncs = 3;
    test_state_t *t = ctrl_ostates_for(m, "ns/a", again);
    assert_non_null(t);
    assert_string_equal(t->base.uid, "u2");
    assert_int_equal(t->syncs, 0);
    assert_int_equal(g_finis, 1);         /* the old one is gone */
    assert_ptr_equal(ctrl_ostate_same(t, again), again);
    assert_null(ctrl_ostate_same(t, old)); /* the deleted owner's results are not ours */
    assert_null(ctrl_ostate_same(t, NULL));
    assert_null(ctrl_ostate_same(NULL, again));
    ctrl_ostates_forget(m, "ns/a");
    assert_int_equal(g_finis, 2);
    assert_null(ctrl_ostates_get(m, "ns/a"));
    ctrl_ostates_forget(m, "ns/a");        /* twice is harmless */
    json_decref(old);
    json_decref(again);
    ctrl_ostates_destroy(&m);
    assert_int_equal(g_finis, 2);
}

static void test_failed_init_keeps_nothing(void **state)
{
    (void)state;
    ctrl_ostates_t *m = ctrl_ostates_new(&type);
    json_t *o = owner("u1", 1);
    g_fail_init = 1;
    assert_null(ctrl_ostates_for(m, "ns/a", o));
    assert_int_equal(g_finis, 1);          /* fini cleaned up after init */
    assert_null(ctrl_ostates_get(m, "ns/a"));
    json_decref(o);
    ctrl_ostates_destroy(&m);
    assert_null(ctrl_ostates_new(&(ctrl_ostate_type_t){ .size = sizeof(ctrl_ostate_t) - 1 }));
    assert_null(ctrl_ostates_new(NULL));
}

static void test_warn_once_per_generation(void **state)
{
    (void)state;
    ctrl_ostates_t *m = ctrl_ostates_new(&(ctrl_ostate_type_t){ .size = sizeof(ctrl_ostate_t) });
    json_t *g1 = owner("u1", 1), *g2 = owner("u1", 2);
    void *s = ctrl_ostates_for(m, "ns/a", g1);
    assert_true(ctrl_ostate_warn_once(s, g1));
    assert_false(ctrl_ostate_warn_once(s, g1));
    assert_true(ctrl_ostate_warn_once(s, g2));   /* edited: warn again */
    assert_false(ctrl_ostate_warn_once(s, g2));
    json_decref(g1);
    json_decref(g2);
    ctrl_ostates_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_same_uid_same_state, reset),
        cmocka_unit_test_setup(test_new_uid_starts_afresh, reset),
        cmocka_unit_test_setup(test_failed_init_keeps_nothing, reset),
        cmocka_unit_test_setup(test_warn_once_per_generation, reset),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
