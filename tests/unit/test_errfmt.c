/* Unit tests for lib/errfmt.c: the reason lands in the caller's buffer,
 * cut to fit, and no buffer at all is fine; the answer is always -1. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "errfmt.h"

static void test_errfmt(void **state)
{
    (void)state;
    char err[16] = "untouched";
    assert_int_equal(errfmt(err, sizeof err, "bad %s: %d", "value", 42), -1);
    assert_string_equal(err, "bad value: 42");
    assert_int_equal(errfmt(err, 6, "%s", "much too long"), -1);
    assert_string_equal(err, "much ");          /* cut, NUL-terminated */
    strcpy(err, "untouched");
    assert_int_equal(errfmt(err, 0, "x"), -1);   /* no room: buffer left alone */
    assert_string_equal(err, "untouched");
    assert_int_equal(errfmt(NULL, 16, "x"), -1);  /* the caller wants no reason */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errfmt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
