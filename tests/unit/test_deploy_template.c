/* Unit tests for controllers/deployment/dep_template.c: template equality
 * that ignores the pod-template-hash label and serialisation noise (upstream
 * EqualIgnoreHash), and the pod-template-hash (stable, collision-aware,
 * rendered in rand.SafeEncodeString's alphabet). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dep_template.h"

static json_t *load(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j)
        fail_msg("bad test json: %s", e.text);
    return j;
}

#define DEPLOY_TMPL                                                                        \
    "{\"metadata\":{\"creationTimestamp\":null,\"labels\":{\"run\":\"nginx\"}},"            \
    "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx\",\"resources\":{},"   \
    "\"terminationMessagePath\":\"/dev/termination-log\",\"imagePullPolicy\":\"Always\"}]," \
    "\"restartPolicy\":\"Always\",\"dnsPolicy\":\"ClusterFirst\"}}"

static bool eq(const char *a, const char *b)
{
    json_t *ja = load(a), *jb = load(b);
    bool r = dep_template_equal(ja, jb);
    json_decref(ja);
    json_decref(jb);
    return r;
}

static void test_equal_ignores_hash_label(void **state)
{
    (void)state;
    const char *rs = "{\"metadata\":{\"labels\":{\"run\":\"nginx\",\"pod-template-hash\":\"7c5d\"}},"
                     "\"spec\":{\"containers\":[{\"name\":\"nginx\",\"image\":\"nginx\","
                     "\"resources\":{},\"terminationMessagePath\":\"/dev/termination-log\","
                     "\"imagePullPolicy\":\"Always\"}],\"restartPolicy\":\"Always\","
                     "\"dnsPolicy\":\"ClusterFirst\"}}";
    assert_true(eq(DEPLOY_TMPL, rs));
    /* key order does not matter */
    assert_true(eq("{\"spec\":{\"a\":1,\"b\":2}}", "{\"spec\":{\"b\":2,\"a\":1}}"));
}

static void test_equal_noise(void **state)
{
    (void)state;
    /* nulls, empty arrays and empty label maps are absent values */
    assert_true(eq("{\"metadata\":{\"labels\":{\"a\":\"b\"},\"annotations\":{}},\"spec\":{\"x\":[]}}",
                   "{\"metadata\":{\"labels\":{\"a\":\"b\"}},\"spec\":{\"y\":null}}"));
    assert_true(eq("{\"metadata\":{\"labels\":{\"pod-template-hash\":\"x\"}},\"spec\":{}}",
                   "{\"spec\":{}}"));
    /* but an empty object elsewhere means something (emptyDir: {}) */
    assert_false(eq("{\"spec\":{\"volumes\":[{\"name\":\"v\",\"emptyDir\":{}}]}}",
                    "{\"spec\":{\"volumes\":[{\"name\":\"v\"}]}}"));
}

static void test_not_equal(void **state)
{
    (void)state;
    assert_false(eq("{\"spec\":{\"containers\":[{\"image\":\"nginx\"}]}}",
                    "{\"spec\":{\"containers\":[{\"image\":\"nginx:1.9.1\"}]}}"));
    /* kubectl rollout restart changes a template annotation: a new template */
    assert_false(eq("{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"t1\"}}}",
                    "{\"metadata\":{\"annotations\":{\"kubectl.kubernetes.io/restartedAt\":\"t2\"}}}"));
    assert_false(eq("{\"metadata\":{\"labels\":{\"a\":\"1\"}}}", "{\"metadata\":{\"labels\":{\"a\":\"2\"}}}"));
    json_t *t = load("{}"), *arr = load("[]");
    assert_false(dep_template_equal(t, NULL));
    assert_false(dep_template_equal(arr, arr));
    json_decref(t);
    json_decref(arr);
}

static void hash_of(const char *tmpl, const int32_t *cc, char *out)
{
    json_t *t = load(tmpl);
    assert_int_equal(dep_template_hash(t, cc, out, DEP_HASH_MAX), 0);
    json_decref(t);
}

static void test_hash(void **state)
{
    (void)state;
    char a[DEP_HASH_MAX], b[DEP_HASH_MAX], c[DEP_HASH_MAX], d[DEP_HASH_MAX];
    hash_of(DEPLOY_TMPL, NULL, a);
    assert_true(strlen(a) >= 1 && strlen(a) <= 10);
    assert_int_equal(strspn(a, "bcdfghjklmnpqrstvwxz2456789"), strlen(a));
    /* stable: same template (in any key order, with noise) -> same hash */
    hash_of("{\"spec\":{\"dnsPolicy\":\"ClusterFirst\",\"restartPolicy\":\"Always\","
            "\"containers\":[{\"imagePullPolicy\":\"Always\",\"terminationMessagePath\":"
            "\"/dev/termination-log\",\"resources\":{},\"image\":\"nginx\",\"name\":\"nginx\"}]},"
            "\"metadata\":{\"labels\":{\"run\":\"nginx\"}}}",
            NULL, b);
    assert_string_equal(a, b);
    /* pinned: a change here renames every ReplicaSet kubus makes */
    assert_string_equal(a, "777fdb5d58");
    /* a collision count gives another name; 0 differs from none */
    int32_t zero = 0, one = 1;
    hash_of(DEPLOY_TMPL, &zero, c);
    hash_of(DEPLOY_TMPL, &one, d);
    assert_string_not_equal(a, c);
    assert_string_not_equal(c, d);
    char small[4];
    json_t *t = load("{}");
    assert_int_equal(dep_template_hash(t, NULL, small, sizeof small), -1);
    json_decref(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_equal_ignores_hash_label),
        cmocka_unit_test(test_equal_noise),
        cmocka_unit_test(test_not_equal),
        cmocka_unit_test(test_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
