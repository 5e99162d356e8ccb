/* Unit tests for lib/hash.c: FNV-1 and FNV-1a against the published test
 * vectors, and the continuing forms agreeing with the one-shot ones (the
 * shard function and every hash table depend on these values). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hash.h"

static void test_fnv1a32(void **state)
{
    (void)state;
    assert_int_equal(fnv1a32_str(""), 0x811c9dc5u);
    assert_int_equal(fnv1a32_str("a"), 0xe40c292cu);
    assert_int_equal(fnv1a32_str("foobar"), 0xbf9cf968u);
    /* in pieces = at once */
    uint32_t h = fnv1a32_update(FNV32_OFFSET, "foo", 3);
    assert_int_equal(fnv1a32_update(h, "bar", 3), 0xbf9cf968u);
    assert_int_equal(fnv1a32_update(FNV32_OFFSET, "", 0), FNV32_OFFSET);
    /* bytes, not chars: high bytes are not sign-extended */
    assert_int_equal(fnv1a32_str("\xe9"), fnv1a32_update(FNV32_OFFSET, "\xe9", 1));
}

static void test_fnv1_32(void **state)
{
    (void)state;
    assert_int_equal(fnv1_32_update(FNV32_OFFSET, "a", 1), 0x050c5d7eu);
    assert_int_equal(fnv1_32_update(FNV32_OFFSET, "foobar", 6), 0x31f0b262u);
    uint32_t h = fnv1_32_update(FNV32_OFFSET, "foo", 3);
    assert_int_equal(fnv1_32_update(h, "bar", 3), 0x31f0b262u);
}

static void test_fnv1a64(void **state)
{
    (void)state;
    assert_true(fnv1a64_str("") == 0xcbf29ce484222325ull);
    assert_true(fnv1a64_str("a") == 0xaf63dc4c8601ec8cull);
    assert_true(fnv1a64_str("foobar") == 0x85944171f73967e8ull);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fnv1a32),
        cmocka_unit_test(test_fnv1_32),
        cmocka_unit_test(test_fnv1a64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
