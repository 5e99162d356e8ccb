/* Unit tests for controllers/deployment/dep_revision.c: revision numbers,
 * the annotations copied to and managed on ReplicaSets (upstream
 * SetNewReplicaSetAnnotations, annotationsToSkip, SetReplicasAnnotations)
 * and which old ReplicaSets the history limit deletes (upstream
 * TestDeploymentController_cleanupDeployment). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "dep_revision.h"

static json_t *load(const char *s)
{
    json_t *j = json_loads(s, 0, NULL);
    assert_non_null(j);
    return j;
}

static const char *ann(const json_t *a, const char *key)
{
    json_t *v = json_object_get(a, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void test_parse_int64(void **state)
{
    (void)state;
    int64_t v;
    assert_int_equal(dep_parse_int64("42", &v), 0);
    assert_int_equal(v, 42);
    assert_int_equal(dep_parse_int64("-7", &v), 0);
    assert_int_equal(v, -7);
    assert_int_equal(dep_parse_int64("+3", &v), 0);
    assert_int_equal(v, 3);
    assert_int_equal(dep_parse_int64("9223372036854775807", &v), 0);
    assert_int_equal(dep_parse_int64("9223372036854775808", &v), -1);
    assert_int_equal(dep_parse_int64("", &v), -1);
    assert_int_equal(dep_parse_int64("-", &v), -1);
    assert_int_equal(dep_parse_int64("1a", &v), -1);
    assert_int_equal(dep_parse_int64(" 1", &v), -1);
    assert_int_equal(dep_parse_int64(NULL, &v), -1);
}

static void test_skip_list(void **state)
{
    (void)state;
    assert_true(dep_annotation_skipped("kubectl.kubernetes.io/last-applied-configuration"));
    assert_true(dep_annotation_skipped("deployment.kubernetes.io/revision"));
    assert_true(dep_annotation_skipped("deployment.kubernetes.io/revision-history"));
    assert_true(dep_annotation_skipped("deployment.kubernetes.io/desired-replicas"));
    assert_true(dep_annotation_skipped("deployment.kubernetes.io/max-replicas"));
    assert_true(dep_annotation_skipped("deprecated.deployment.rollback.to"));
    assert_false(dep_annotation_skipped("kubernetes.io/change-cause"));
    assert_false(dep_annotation_skipped("deployment.kubernetes.io/other"));
}

static void test_max_revision(void **state)
{
    (void)state;
    dep_rs_t a = {.has_revision = true, .revision = 3}, b = {.has_revision = false},
             c = {.has_revision = true, .revision = 7};
    dep_rs_t *all[] = {&a, &b, NULL, &c};
    assert_int_equal(dep_max_revision(all, 4), 7);
    assert_int_equal(dep_max_revision(all, 0), 0);
}

static void test_new_rs_annotations_fresh(void **state)
{
    (void)state;
    json_t *d = load("{\"metadata\":{\"annotations\":{"
                     "\"kubernetes.io/change-cause\":\"image 1.9.1\","
                     "\"kubectl.kubernetes.io/last-applied-configuration\":\"{}\","
                     "\"deployment.kubernetes.io/revision\":\"9\"}}}");
    json_t *a = json_object();
    assert_true(dep_set_new_rs_annotations(d, a, 1, false, 10, 13));
    assert_string_equal(ann(a, "deployment.kubernetes.io/revision"), "1");
    assert_null(ann(a, "deployment.kubernetes.io/revision-history"));
    assert_string_equal(ann(a, "deployment.kubernetes.io/desired-replicas"), "10");
    assert_string_equal(ann(a, "deployment.kubernetes.io/max-replicas"), "13");
    assert_string_equal(ann(a, "kubernetes.io/change-cause"), "image 1.9.1");
    assert_null(ann(a, "kubectl.kubernetes.io/last-applied-configuration"));
    /* nothing new the second time; an existing RS does not get replica annotations */
    assert_false(dep_set_new_rs_annotations(d, a, 1, true, 99, 99));
    assert_string_equal(ann(a, "deployment.kubernetes.io/desired-replicas"), "10");
    json_decref(a);
    json_decref(d);
}

static void test_new_rs_annotations_rollback(void **state)
{
    (void)state;
    /* rollout undo: revision 2 becomes the new one again as revision 4 */
    json_t *d = load("{\"metadata\":{}}");
    json_t *a = load("{\"deployment.kubernetes.io/revision\":\"2\"}");
    assert_true(dep_set_new_rs_annotations(d, a, 4, true, 0, 0));
    assert_string_equal(ann(a, "deployment.kubernetes.io/revision"), "4");
    assert_string_equal(ann(a, "deployment.kubernetes.io/revision-history"), "2");
    /* and again later as 6 */
    assert_true(dep_set_new_rs_annotations(d, a, 6, true, 0, 0));
    assert_string_equal(ann(a, "deployment.kubernetes.io/revision-history"), "2,4");
    /* revisions only go up */
    assert_false(dep_set_new_rs_annotations(d, a, 5, true, 0, 0));
    assert_string_equal(ann(a, "deployment.kubernetes.io/revision"), "6");
    json_decref(a);
    json_decref(d);
}

static void test_new_rs_annotations_bad_revision(void **state)
{
    (void)state;
    json_t *d = load("{\"metadata\":{}}");
    json_t *a = load("{\"deployment.kubernetes.io/revision\":\"x1\"}");
    assert_false(dep_set_new_rs_annotations(d, a, 3, true, 0, 0));
    assert_string_equal(ann(a, "deployment.kubernetes.io/revision"), "x1");
    json_decref(a);
    json_decref(d);
}

static void test_revision_history_limit(void **state)
{
    (void)state;
    /* a history at the length limit drops its oldest entries */
    size_t cap = DEP_REVISION_HISTORY_MAX_CHARS;
    char *hist = malloc(cap + 1);
    assert_non_null(hist);
    size_t len = 0;
    int i = 1000;
    while (len + 5 <= cap) { /* "1000," ... four digits and a comma */
        len += (size_t)snprintf(hist + len, cap + 1 - len, len ? ",%d" : "%d", i++);
    }
    json_t *d = load("{\"metadata\":{}}");
    json_t *a = json_pack("{s:s, s:s}", "deployment.kubernetes.io/revision", "5000",
                          "deployment.kubernetes.io/revision-history", hist);
    assert_true(dep_set_new_rs_annotations(d, a, 6000, true, 0, 0));
    const char *h = ann(a, "deployment.kubernetes.io/revision-history");
    assert_true(strlen(h) <= cap);
    assert_true(strncmp(h, "1000,", 5) != 0);              /* oldest gone */
    assert_string_equal(h + strlen(h) - 5, ",5000");        /* newest appended */
    free(hist);
    json_decref(a);
    json_decref(d);
}

static void test_replicas_annotations(void **state)
{
    (void)state;
    json_t *a = json_object();
    assert_true(dep_replicas_annotations_need_update(a, 3, 4));
    assert_true(dep_set_replicas_annotations(a, 3, 4));
    assert_false(dep_replicas_annotations_need_update(a, 3, 4));
    assert_false(dep_set_replicas_annotations(a, 3, 4));
    assert_true(dep_replicas_annotations_need_update(a, 3, 5));
    json_decref(a);
}

/* upstream newRSWithStatus(name, specReplicas, statusReplicas) */
static dep_rs_t hist_rs(const char *name, int32_t spec, int32_t status, int64_t revision)
{
    dep_rs_t v;
    memset(&v, 0, sizeof v);
    v.name = name;
    v.spec_replicas = v.replicas = spec;
    v.status_replicas = status;
    v.has_revision = true;
    v.revision = revision;
    v.created = 100 + revision;
    return v;
}

static size_t cleanup(int32_t limit, dep_rs_t *rs, size_t n, dep_rs_t **out)
{
    dep_spec_t s = {.has_history_limit = limit != DEP_INT32_MAX, .history_limit = limit};
    dep_rs_t *old[8];
    for (size_t i = 0; i < n; i++)
        old[i] = &rs[i];
    return dep_history_to_delete(&s, old, n, out);
}

static void test_history_cleanup_table(void **state)
{
    (void)state;
    dep_rs_t *out[8];
    dep_rs_t a[] = {hist_rs("foo-1", 0, 0, 1), hist_rs("foo-2", 0, 0, 2), hist_rs("foo-3", 0, 0, 3)};
    assert_int_equal(cleanup(1, a, 3, out), 2);
    assert_string_equal(out[0]->name, "foo-1"); /* oldest first */
    assert_string_equal(out[1]->name, "foo-2");
    /* only a ReplicaSet with spec = status = 0 */
    dep_rs_t b[] = {hist_rs("foo-1", 0, 0, 1), hist_rs("foo-2", 0, 1, 2), hist_rs("foo-3", 1, 0, 3),
                    hist_rs("foo-4", 1, 1, 4)};
    assert_int_equal(cleanup(0, b, 4, out), 1);
    assert_string_equal(out[0]->name, "foo-1");
    dep_rs_t c[] = {hist_rs("foo-1", 0, 0, 1), hist_rs("foo-2", 0, 0, 2)};
    assert_int_equal(cleanup(0, c, 2, out), 2);
    dep_rs_t d[] = {hist_rs("foo-1", 1, 1, 1), hist_rs("foo-2", 1, 1, 2)};
    assert_int_equal(cleanup(0, d, 2, out), 0);
    dep_rs_t e[] = {hist_rs("foo-1", 0, 0, 1)};
    e[0].deleting = true; /* already being deleted */
    assert_int_equal(cleanup(0, e, 1, out), 0);
    dep_rs_t f[] = {hist_rs("foo-1", 0, 0, 1), hist_rs("foo-2", 0, 0, 2), hist_rs("foo-3", 0, 0, 3)};
    assert_int_equal(cleanup(DEP_INT32_MAX, f, 3, out), 0); /* unlimited */
    /* a generation the ReplicaSet controller has not seen yet: it may still make pods */
    dep_rs_t g[] = {hist_rs("foo-1", 0, 0, 1)};
    g[0].generation = 2;
    g[0].observed_generation = 1;
    assert_int_equal(cleanup(0, g, 1, out), 0);
}

static void test_history_cleanup_order(void **state)
{
    (void)state;
    dep_rs_t *out[8];
    /* revision order, not creation order; unparsable revisions by creation */
    dep_rs_t a[] = {hist_rs("r5", 0, 0, 5), hist_rs("r2", 0, 0, 2), hist_rs("r9", 0, 0, 9)};
    a[1].created = 999;
    assert_int_equal(cleanup(1, a, 3, out), 2);
    assert_string_equal(out[0]->name, "r2");
    assert_string_equal(out[1]->name, "r5");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_int64),
        cmocka_unit_test(test_skip_list),
        cmocka_unit_test(test_max_revision),
        cmocka_unit_test(test_new_rs_annotations_fresh),
        cmocka_unit_test(test_new_rs_annotations_rollback),
        cmocka_unit_test(test_new_rs_annotations_bad_revision),
        cmocka_unit_test(test_revision_history_limit),
        cmocka_unit_test(test_replicas_annotations),
        cmocka_unit_test(test_history_cleanup_table),
        cmocka_unit_test(test_history_cleanup_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
