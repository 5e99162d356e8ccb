/* Unit tests for lib/ctrl/selector.c: metav1.LabelSelector semantics as
 * apimachinery's LabelSelectorAsSelector + Selector.Matches define them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/selector.h"

static selector_t *compile(const char *json)
{
    json_t *j = json_loads(json, JSON_DECODE_ANY, NULL);
    char err[256];
    selector_t *s = selector_compile(j, err, sizeof err);
    json_decref(j);
    return s;
}

static bool matches(const char *sel_json, const char *labels_json)
{
    selector_t *s = compile(sel_json);
    assert_non_null(s);
    json_t *l = labels_json ? json_loads(labels_json, 0, NULL) : NULL;
    bool m = selector_matches(s, l);
    json_decref(l);
    selector_destroy(&s);
    assert_null(s);
    return m;
}

static void refused(const char *sel_json, const char *want_in_err)
{
    json_t *j = json_loads(sel_json, 0, NULL);
    assert_non_null(j);
    char err[256] = "";
    selector_t *s = selector_compile(j, err, sizeof err);
    json_decref(j);
    assert_null(s);
    if (!strstr(err, want_in_err)) fail_msg("error \"%s\" does not mention \"%s\"", err, want_in_err);
}

static void test_match_labels(void **state)
{
    (void)state;
    assert_true(matches("{\"matchLabels\":{\"a\":\"b\"}}", "{\"a\":\"b\",\"x\":\"y\"}"));
    assert_false(matches("{\"matchLabels\":{\"a\":\"b\"}}", "{\"a\":\"c\"}"));
    assert_false(matches("{\"matchLabels\":{\"a\":\"b\"}}", "{}"));
    assert_false(matches("{\"matchLabels\":{\"a\":\"b\"}}", NULL));
    assert_true(matches("{\"matchLabels\":{\"a\":\"b\",\"c\":\"d\"}}", "{\"a\":\"b\",\"c\":\"d\"}"));
    assert_false(matches("{\"matchLabels\":{\"a\":\"b\",\"c\":\"d\"}}", "{\"a\":\"b\"}"));
    /* an empty value is a value: the label must exist and be empty */
    assert_true(matches("{\"matchLabels\":{\"a\":\"\"}}", "{\"a\":\"\"}"));
    assert_false(matches("{\"matchLabels\":{\"a\":\"\"}}", "{}"));
}

static void test_expressions(void **state)
{
    (void)state;
    const char *in = "{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"In\",\"values\":[\"prod\",\"qa\"]}]}";
    assert_true(matches(in, "{\"env\":\"qa\"}"));
    assert_false(matches(in, "{\"env\":\"dev\"}"));
    assert_false(matches(in, "{}"));
    const char *notin = "{\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"prod\"]}]}";
    assert_true(matches(notin, "{}"));             /* absent counts as not in */
    assert_true(matches(notin, "{\"env\":\"dev\"}"));
    assert_false(matches(notin, "{\"env\":\"prod\"}"));
    const char *ex = "{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"Exists\"}]}";
    assert_true(matches(ex, "{\"tier\":\"\"}"));
    assert_false(matches(ex, "{\"other\":\"x\"}"));
    const char *dne = "{\"matchExpressions\":[{\"key\":\"tier\",\"operator\":\"DoesNotExist\",\"values\":[]}]}";
    assert_true(matches(dne, "{}"));
    assert_false(matches(dne, "{\"tier\":\"web\"}"));
    /* matchLabels and expressions are ANDed */
    const char *both = "{\"matchLabels\":{\"app\":\"web\"},\"matchExpressions\":[{\"key\":\"env\",\"operator\":\"NotIn\",\"values\":[\"prod\"]}]}";
    assert_true(matches(both, "{\"app\":\"web\",\"env\":\"dev\"}"));
    assert_false(matches(both, "{\"app\":\"web\",\"env\":\"prod\"}"));
    assert_false(matches(both, "{\"app\":\"db\"}"));
}

static void test_empty_and_null(void **state)
{
    (void)state;
    selector_t *s = compile("{}");
    assert_true(selector_is_empty(s));
    assert_false(selector_is_nothing(s));
    assert_true(selector_matches(s, NULL));            /* {} selects everything */
    selector_destroy(&s);
    s = compile("{\"matchLabels\":{},\"matchExpressions\":[]}");
    assert_true(selector_is_empty(s));
    selector_destroy(&s);
    s = compile("null");
    assert_non_null(s);
    assert_true(selector_is_nothing(s));
    assert_false(selector_is_empty(s));
    json_t *l = json_pack("{s:s}", "a", "b");
    assert_false(selector_matches(s, l));              /* null selects nothing */
    json_decref(l);
    selector_destroy(&s);
    s = selector_compile(NULL, NULL, 0);
    assert_true(selector_is_nothing(s));
    selector_destroy(&s);
    selector_destroy(&s);                              /* idempotent */
}

static void test_invalid(void **state)
{
    (void)state;
    refused("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Foo\",\"values\":[\"b\"]}]}", "not a valid label selector operator");
    refused("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"In\",\"values\":[]}]}", "non-empty");
    refused("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"NotIn\"}]}", "non-empty");
    refused("{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\",\"values\":[\"x\"]}]}", "must be empty");
    refused("{\"matchExpressions\":[{\"key\":\"a b\",\"operator\":\"Exists\"}]}", "key");
    refused("{\"matchLabels\":{\"a\":\"-bad\"}}", "invalid value");
    refused("{\"matchLabels\":{\"a\":5}}", "invalid value");
    refused("{\"matchLabels\":[\"a\"]}", "object");
    refused("{\"matchExpressions\":{}}", "array");
    refused("[]", "object");
    refused("{\"matchLabels\":{\"Example.com/app\":\"x\"}}", "invalid key");
}

static void test_key_value_rules(void **state)
{
    (void)state;
    char k63[64], k64[65];
    memset(k63, 'a', 63); k63[63] = '\0';
    memset(k64, 'a', 64); k64[64] = '\0';
    assert_true(selector_valid_key(k63));
    assert_false(selector_valid_key(k64));
    assert_true(selector_valid_key("app.kubernetes.io/name"));
    assert_true(selector_valid_key("a_b.c-d"));
    assert_false(selector_valid_key("/name"));
    assert_false(selector_valid_key("a/b/c"));
    assert_false(selector_valid_key("_a"));
    assert_false(selector_valid_key(""));
    assert_true(selector_valid_value(""));
    assert_true(selector_valid_value(k63));
    assert_false(selector_valid_value(k64));
    assert_false(selector_valid_value("a."));
    assert_false(selector_valid_value("a b"));
}

static void test_from_labels_and_string(void **state)
{
    (void)state;
    json_t *l = json_pack("{s:s}", "run", "nginx");
    char err[128];
    selector_t *s = selector_from_labels(l, err, sizeof err);
    assert_non_null(s);
    json_t *pod = json_pack("{s:s, s:s}", "run", "nginx", "extra", "1");
    assert_true(selector_matches(s, pod));
    json_decref(pod);
    json_decref(l);
    selector_destroy(&s);
    s = compile("{\"matchLabels\":{\"a\":\"b\"},\"matchExpressions\":[{\"key\":\"c\",\"operator\":\"In\",\"values\":[\"d\",\"e\"]},{\"key\":\"f\",\"operator\":\"DoesNotExist\"}]}");
    char out[128];
    selector_string(s, out, sizeof out);
    assert_string_equal(out, "a=b,c in (d,e),!f");
    char tiny[5];
    selector_string(s, tiny, sizeof tiny);
    assert_string_equal(tiny, "a=b,");
    selector_destroy(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_match_labels),
        cmocka_unit_test(test_expressions),
        cmocka_unit_test(test_empty_and_null),
        cmocka_unit_test(test_invalid),
        cmocka_unit_test(test_key_value_rules),
        cmocka_unit_test(test_from_labels_and_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
