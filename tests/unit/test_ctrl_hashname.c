/* Unit tests for lib/ctrl/hashname.c: rand.SafeEncodeString, ComputeHash
 * and HashControllerRevision suffixes. The pinned values were computed
 * independently of the C code; a change to any of them renames every
 * ReplicaSet and ControllerRevision kubus makes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "ctrl/hashname.h"

#define TMPL "{\"metadata\":{\"labels\":{\"run\":\"nginx\"}},\"spec\":{\"containers\":[{\"image\":\"nginx\",\"name\":\"nginx\"}]}}"

static void test_safe_encode(void **state)
{
    (void)state;
    char out[16];
    /* rand.SafeEncodeString: byte % 27 into bcdfghjklmnpqrstvwxz2456789 */
    ctrl_safe_encode("0123456789", out, sizeof out);
    assert_string_equal(out, "456789bcdf");
    ctrl_safe_encode("abc", out, 3);
    assert_string_equal(out, "vw");  /* truncated to fit */
    ctrl_safe_encode("abc", out, 0); /* no room at all: untouched, no crash */
}

static void test_compute_hash(void **state)
{
    (void)state;
    char h[CTRL_HASH_MAX];
    int32_t zero = 0, one = 1, minus = -1;
    assert_int_equal(ctrl_compute_hash(TMPL, NULL, h, sizeof h), 0);
    assert_string_equal(h, "c5785b44f");
    assert_int_equal(ctrl_compute_hash(TMPL, &zero, h, sizeof h), 0);
    assert_string_equal(h, "668dc5596f");   /* 0 differs from none */
    assert_int_equal(ctrl_compute_hash(TMPL, &one, h, sizeof h), 0);
    assert_string_equal(h, "bd648f4fb");
    assert_int_equal(ctrl_compute_hash(TMPL, &minus, h, sizeof h), 0);
    assert_string_equal(h, "6b474cfb65");   /* as uint32 0xffffffff */
    assert_int_equal(ctrl_compute_hash("", NULL, h, sizeof h), 0);
    assert_string_equal(h, "65bb57b6b5");
    char small[CTRL_HASH_MAX - 1];
    assert_int_equal(ctrl_compute_hash(TMPL, NULL, small, sizeof small), -1);
}

static void test_revision_hash(void **state)
{
    (void)state;
    char h[CTRL_HASH_MAX];
    int32_t zero = 0, one = 1, minus = -1;
    assert_int_equal(ctrl_revision_hash(TMPL, NULL, h, sizeof h), 0);
    assert_string_equal(h, "7c99565789");
    assert_int_equal(ctrl_revision_hash(TMPL, &zero, h, sizeof h), 0);
    assert_string_equal(h, "86d88f695");
    assert_int_equal(ctrl_revision_hash(TMPL, &one, h, sizeof h), 0);
    assert_string_equal(h, "86d88f694");
    assert_int_equal(ctrl_revision_hash(TMPL, &minus, h, sizeof h), 0);
    assert_string_equal(h, "d76d56ccf");    /* "-1" in decimal */
    char small[CTRL_HASH_MAX - 1];
    assert_int_equal(ctrl_revision_hash(TMPL, NULL, small, sizeof small), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_safe_encode),
        cmocka_unit_test(test_compute_hash),
        cmocka_unit_test(test_revision_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
