/* Unit tests for lib/ctrl/expectations.c: raise, observe, lower, expire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/expectations.h"

static uint64_t fake_now = 1000;
static uint64_t fake_clock(void *ud) { (void)ud; return fake_now; }

static void test_creates_and_deletes(void **state)
{
    (void)state;
    expectations_t *e = expectations_new(fake_clock, NULL);
    char id[128];
    assert_true(expectations_satisfied(e, "ns/rs"));
    expectations_create_id(id, sizeof id, "pods", "ns", "rs-abcde");
    assert_string_equal(id, "pods/ns/rs-abcde");
    assert_int_equal(expectations_expect_create(e, "ns/rs", id), 0);
    assert_int_equal(expectations_expect_delete(e, "ns/rs", "uid-1"), 0);
    assert_false(expectations_satisfied(e, "ns/rs"));
    assert_int_equal(expectations_pending_creates(e, "ns/rs"), 1);
    assert_int_equal(expectations_pending_deletes(e, "ns/rs"), 1);
    assert_true(expectations_expects_create(e, id));
    const char *owner = expectations_observe_create(e, id);
    assert_non_null(owner);
    assert_string_equal(owner, "ns/rs");
    assert_null(expectations_observe_create(e, id));     /* once only */
    assert_false(expectations_satisfied(e, "ns/rs"));
    assert_string_equal(expectations_observe_delete(e, "uid-1"), "ns/rs");
    assert_true(expectations_satisfied(e, "ns/rs"));
    assert_null(expectations_observe_delete(e, "unknown"));
    expectations_destroy(&e);
    assert_null(e);
}

static void test_expiry(void **state)
{
    (void)state;
    expectations_t *e = expectations_new(fake_clock, NULL);
    expectations_expect_create(e, "ns/rs", "pods/ns/x");
    assert_int_equal(expectations_expires_in_ms(e, "ns/rs"), EXPECTATIONS_TTL_MS + 1);
    assert_int_equal(expectations_expires_in_ms(e, "ns/other"), -1);
    fake_now += EXPECTATIONS_TTL_MS;
    assert_false(expectations_satisfied(e, "ns/rs"));   /* exactly 5 min: not yet */
    assert_int_equal(expectations_expires_in_ms(e, "ns/rs"), 1);
    fake_now += 1;
    assert_int_equal(expectations_expires_in_ms(e, "ns/rs"), 0);
    assert_true(expectations_satisfied(e, "ns/rs"));    /* expired: dropped */
    assert_false(expectations_expects_create(e, "pods/ns/x"));
    assert_null(expectations_observe_create(e, "pods/ns/x"));
    expectations_destroy(&e);
}

static void test_raise_refreshes_and_forget(void **state)
{
    (void)state;
    expectations_t *e = expectations_new(fake_clock, NULL);
    expectations_expect_create(e, "ns/a", "pods/ns/1");
    fake_now += EXPECTATIONS_TTL_MS - 10;
    expectations_expect_create(e, "ns/a", "pods/ns/2");  /* raising again restarts the clock */
    fake_now += 20;
    assert_false(expectations_satisfied(e, "ns/a"));
    expectations_forget(e, "ns/a");
    assert_true(expectations_satisfied(e, "ns/a"));
    assert_false(expectations_expects_create(e, "pods/ns/1"));
    /* an identity moves to the owner that raised it last */
    expectations_expect_delete(e, "ns/a", "u");
    expectations_expect_delete(e, "ns/b", "u");
    assert_int_equal(expectations_pending_deletes(e, "ns/a"), 0);
    assert_string_equal(expectations_observe_delete(e, "u"), "ns/b");
    assert_int_equal(expectations_expect_create(e, "ns/a", ""), -1);
    assert_int_equal(expectations_expect_create(e, NULL, "x"), -1);
    expectations_destroy(&e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_creates_and_deletes),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_raise_refreshes_and_forget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
