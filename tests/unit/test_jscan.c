/* Unit tests for lib/jscan.c: every verdict equals jansson's
 * (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY), walking and decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "jscan.h"

static bool jscan_accepts(const char *text, size_t len)
{
    jscan_t s;
    jscan_init(&s, text, len);
    return jscan_skip(&s, true) && jscan_at_end(&s);
}

static bool jansson_accepts(const char *text, size_t len)
{
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, NULL);
    json_decref(o);
    return o != NULL;
}

static const char *const cases[] = {
    /* accepted */
    "{}", "[]", "0", "-0", "1.5", "-1.5e10", "1E+2", "2e-3", "true", "false", "null", "\"\"",
    " { \"a\" : [ 1 , 2 , { \"b\" : null } ] } ", "\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\"",
    "\"\\u00e9\\uD83D\\uDE00\"", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"", "9223372036854775807",
    "-9223372036854775808", "{\"a\":{\"a\":1}}", "[{\"a\":1},{\"a\":2}]",
    "{\"k01\":1,\"k02\":1,\"k03\":1,\"k04\":1,\"k05\":1,\"k06\":1,\"k07\":1,\"k08\":1,\"k09\":1,\"k10\":1,"
    "\"k11\":1,\"k12\":1,\"k13\":1,\"k14\":1,\"k15\":1,\"k16\":1,\"k17\":1,\"k18\":1}",
    /* refused */
    "", " ", "{", "}", "[1,]", "{\"a\":1,}", "{,}", "[,1]", "{\"a\" 1}", "{\"a\":1 \"b\":2}", "[1 2]",
    "{1:2}", "01", "1.", ".5", "-", "1e", "+1", "tru", "nul", "True", "\"abc", "\"a\x01\"",
    "\"\\x\"", "\"\\u12\"", "\"\\u0000\"", "\"\\uD800\"", "\"\\uDC00\"", "\"\\uD800\\u0041\"",
    "\"\xff\"", "\"\xc0\xaf\"", "\"\xe0\x80\xaf\"", "\"\xed\xa0\x80\"", "\"\xf4\x90\x80\x80\"", "\"\xc3\"",
    "9223372036854775808", "-9223372036854775809", "1e400", "{\"a\":1,\"a\":2}", "[{\"a\":1,\"a\":1}]",
    "{\"k01\":1,\"k02\":1,\"k03\":1,\"k04\":1,\"k05\":1,\"k06\":1,\"k07\":1,\"k08\":1,\"k09\":1,\"k10\":1,"
    "\"k11\":1,\"k12\":1,\"k13\":1,\"k14\":1,\"k15\":1,\"k16\":1,\"k17\":1,\"k01\":1}",
    "{} {}", "[1] x", "nulls",
};

static void test_verdicts_match_jansson(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        size_t len = strlen(cases[i]);
        bool want = jansson_accepts(cases[i], len), got = jscan_accepts(cases[i], len);
        if (want != got) fail_msg("case %zu (%s): jansson %d, jscan %d", i, cases[i], want, got);
    }
}

static void test_nul_byte_and_depth(void **state)
{
    (void)state;
    assert_false(jscan_accepts("\"a\0b\"", 5));      /* a raw NUL inside a string */
    assert_false(jscan_accepts("[1]\0", 4));         /* after the value */
    size_t n = JSCAN_MAX_DEPTH + 1;
    char *deep = malloc(2 * n);
    assert_non_null(deep);
    memset(deep, '[', n);
    memset(deep + n, ']', n);
    assert_false(jscan_accepts(deep, 2 * n));
    assert_true(jscan_accepts(deep + 1, 2 * n - 2));  /* at the limit */
    free(deep);
}

static void test_duplicates_only_when_asked(void **state)
{
    (void)state;
    const char *t = "{\"a\":1,\"a\":2}";
    jscan_t s;
    jscan_init(&s, t, strlen(t));
    assert_true(jscan_skip(&s, false));
    jscan_init(&s, t, strlen(t));
    assert_false(jscan_skip(&s, true));
    assert_string_equal(s.error, "duplicate object key");
    assert_false(jscan_skip(&s, false));   /* the first error sticks */
}

static void test_walk(void **state)
{
    (void)state;
    const char *t = " {\"a\": [1, \"x\"], \"b\\n\": {}} ";
    jscan_t s;
    jscan_init(&s, t, strlen(t));
    assert_false(jscan_enter_array(&s));   /* not an array: cursor unmoved, no error */
    assert_null(s.error);
    assert_true(jscan_enter_object(&s));
    jscan_str_t k;
    assert_int_equal(jscan_next_member(&s, &k), 1);
    assert_true(jscan_str_is(&k, "a"));
    assert_true(jscan_enter_array(&s));
    assert_int_equal(jscan_next_element(&s), 1);
    assert_true(jscan_skip(&s, true));
    assert_int_equal(jscan_next_element(&s), 1);
    assert_int_equal(jscan_peek(&s), '"');
    assert_true(jscan_skip(&s, true));
    assert_int_equal(jscan_next_element(&s), 0);
    assert_int_equal(jscan_next_member(&s, &k), 1);
    assert_true(k.escaped);
    assert_false(jscan_str_is(&k, "b\n"));   /* compared as written */
    char buf[8];
    assert_true(jscan_str_decode(&k, buf, sizeof buf));
    assert_string_equal(buf, "b\n");
    assert_true(jscan_skip(&s, true));
    assert_int_equal(jscan_next_member(&s, &k), 0);
    assert_true(jscan_at_end(&s));
    assert_int_equal(s.depth, 0);
}

static void test_walk_errors(void **state)
{
    (void)state;
    const char *t = "{\"a\":1 \"b\":2}";
    jscan_t s;
    jscan_str_t k;
    jscan_init(&s, t, strlen(t));
    assert_true(jscan_enter_object(&s));
    assert_int_equal(jscan_next_member(&s, &k), 1);
    assert_true(jscan_skip(&s, true));
    assert_int_equal(jscan_next_member(&s, &k), -1);
    assert_string_equal(s.error, "expected ',' or '}'");
    assert_int_equal(jscan_next_member(&s, &k), -1);   /* stays failed */
}

static void test_decode(void **state)
{
    (void)state;
    jscan_str_t k = { .raw = "\\u00e9\\uD83D\\uDE00\\/\\t", .escaped = true };
    k.len = strlen(k.raw);
    char buf[16];
    assert_true(jscan_str_decode(&k, buf, sizeof buf));
    assert_string_equal(buf, "\xc3\xa9\xf0\x9f\x98\x80/\t");
    assert_false(jscan_str_decode(&k, buf, 8));   /* does not fit */
    jscan_str_t plain = { .raw = "abc", .len = 3 };
    assert_true(jscan_str_decode(&plain, buf, 4));
    assert_string_equal(buf, "abc");
    assert_false(jscan_str_decode(&plain, buf, 3));   /* no room for the NUL */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_verdicts_match_jansson),
        cmocka_unit_test(test_nul_byte_and_depth),
        cmocka_unit_test(test_duplicates_only_when_asked),
        cmocka_unit_test(test_walk),
        cmocka_unit_test(test_walk_errors),
        cmocka_unit_test(test_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
