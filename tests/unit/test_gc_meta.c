/* Unit tests for the GC's metadata parsing (gc_meta.c) and JSON patches
 * (gc_patch.c): what is accepted, what is refused, and the exact patch text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "gc_fixture.h"
#include "gc_meta.h"
#include "gc_patch.h"

/* The patch's compact text (frees the patch); NULL stays NULL. */
static char *text(json_t *patch)
{
    if (!patch) return NULL;
    char *s = json_dumps(patch, JSON_COMPACT);
    json_decref(patch);
    return s;
}

static gc_meta_t *pod_with(const char *finalizers, const char *refs, bool deleting)
{
    char *json = fx_obj("default", "web-1", "pod-uid", "42", deleting, finalizers, refs);
    gc_meta_t *m = fx_meta("v1", "Pod", json);
    free(json);
    return m;
}

static void test_parse_full(void **state)
{
    (void)state;
    char r1[512], r2[512], refs[1100];
    fx_ref(r1, sizeof r1, "apps/v1", "ReplicaSet", "web", "rs-uid", "cb");
    fx_ref(r2, sizeof r2, "v1", "Node", "n1", "node-uid", "");
    snprintf(refs, sizeof refs, "%s,%s", r1, r2);
    gc_meta_t *m = pod_with("\"orphan\",\"foregroundDeletion\"", refs, true);
    assert_non_null(m);
    assert_string_equal(m->uid, "pod-uid");
    assert_string_equal(m->namespace_, "default");
    assert_string_equal(m->resource_version, "42");
    assert_string_equal(m->kind, "Pod");
    assert_true(m->being_deleted);
    assert_int_equal(m->n_refs, 2);
    assert_string_equal(m->refs[0].uid, "rs-uid");
    assert_true(m->refs[0].controller);
    assert_true(m->refs[0].block_owner_deletion);
    assert_false(m->refs[1].block_owner_deletion);
    assert_int_equal(m->refs[1].index, 1);
    assert_int_equal(gc_meta_finalizer_index(m, "foregroundDeletion"), 1);
    assert_true(gc_meta_orphaning(m));
    assert_true(gc_meta_deleting_dependents(m));
    assert_non_null(gc_meta_ref_by_uid(m, "node-uid"));
    assert_null(gc_meta_ref_by_uid(m, "nope"));

    gc_meta_t copy;
    assert_int_equal(gc_meta_copy(&copy, m), 0);
    assert_string_equal(copy.refs[1].name, "n1");
    assert_string_equal(copy.finalizers[0], "orphan");
    gc_meta_clear(&copy);
    gc_meta_destroy(&m);
    assert_null(m);
}

static void test_parse_minimal_and_type_from_json(void **state)
{
    (void)state;
    const char *json = "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
                       "\"metadata\":{\"name\":\"rs\",\"uid\":\"u\"}}";
    gc_meta_t m;
    char err[128];
    assert_int_equal(gc_meta_parse(json, strlen(json), NULL, NULL, &m, err, sizeof err), 0);
    assert_string_equal(m.kind, "ReplicaSet");
    assert_string_equal(m.namespace_, "");
    assert_string_equal(m.resource_version, "");
    assert_false(m.being_deleted);
    assert_int_equal(m.n_refs, 0);
    assert_false(gc_meta_deleting_dependents(&m));
    gc_meta_clear(&m);
}

static void expect_refused(const char *json, const char *why)
{
    gc_meta_t m;
    char err[256] = "";
    assert_int_equal(gc_meta_parse(json, strlen(json), "v1", "Pod", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, why));
    assert_null(m.uid);
    assert_null(m.refs);
}

static void test_parse_refuses_malformed(void **state)
{
    (void)state;
    expect_refused("not json", "bad JSON");
    expect_refused("[1]", "not a JSON object");
    expect_refused("{}", "metadata");
    expect_refused("{\"metadata\":{\"name\":\"a\"}}", "uid missing");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":\"\"}}", "uid is empty");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":7}}", "uid is not a string");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"finalizers\":[1]}}", "finalizers[0]");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"ownerReferences\":{}}}", "not an array");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"ownerReferences\":"
                   "[{\"apiVersion\":\"v1\",\"kind\":\"X\",\"name\":\"x\"}]}}",
                   "ownerReferences[0]: uid missing");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"ownerReferences\":"
                   "[{\"apiVersion\":\"v1\",\"kind\":\"X\",\"name\":\"x\",\"uid\":\"o\","
                   "\"controller\":\"yes\"}]}}",
                   "controller is not a boolean");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"deletionTimestamp\":5}}",
                   "deletionTimestamp");
    expect_refused("{\"metadata\":{\"name\":\"a\",\"uid\":\"u\",\"uid\":\"v\"}}", "bad JSON");
    gc_meta_t m;
    assert_int_equal(gc_meta_parse(NULL, 0, "v1", "Pod", &m, NULL, 0), -1);
    assert_int_equal(gc_meta_from_json(NULL, "v1", "Pod", &m, NULL, 0), -1);
    assert_null(gc_meta_new_from_json(NULL, "v1", "Pod", NULL, 0));
    char longuid[300];
    memset(longuid, 'u', sizeof longuid - 1);
    longuid[sizeof longuid - 1] = '\0';
    char *json = fx_obj("ns", "a", longuid, "1", false, "", "");
    expect_refused(json, "uid longer");
    free(json);
}

static void test_from_json(void **state)
{
    (void)state;
    json_t *o = json_pack("{s:s,s:s,s:{s:s,s:s,s:s}}", "apiVersion", "apps/v1", "kind", "ReplicaSet",
                          "metadata", "name", "rs", "namespace", "ns", "uid", "u1");
    assert_non_null(o);
    char err[128];
    gc_meta_t *m = gc_meta_new_from_json(o, NULL, NULL, err, sizeof err);
    assert_non_null(m);
    assert_string_equal(m->api_version, "apps/v1");
    assert_string_equal(m->namespace_, "ns");
    gc_meta_destroy(&m);
    json_decref(o);
}

static void test_parse_refuses_too_many_refs(void **state)
{
    (void)state;
    size_t len = 64 + (GC_MAX_REFS + 1) * 80;
    char *refs = malloc(len);
    assert_non_null(refs);
    refs[0] = '\0';
    size_t used = 0;
    for (int i = 0; i <= GC_MAX_REFS; i++)
        used += (size_t)snprintf(refs + used, len - used,
                                 "%s{\"apiVersion\":\"v1\",\"kind\":\"K\",\"name\":\"n\",\"uid\":\"u%d\"}",
                                 i ? "," : "", i);
    char *json = fx_obj("ns", "a", "u", "1", false, "", refs);
    gc_meta_t m;
    char err[128];
    assert_int_equal(gc_meta_parse(json, strlen(json), "v1", "Pod", &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "ownerReferences"));
    free(json);
    free(refs);
}

static void test_same_refs(void **state)
{
    (void)state;
    char a[512], b[512], ab[1100], ba[1100], a2[512];
    fx_ref(a, sizeof a, "apps/v1", "ReplicaSet", "a", "ua", "cb");
    fx_ref(b, sizeof b, "v1", "Node", "n", "un", "");
    fx_ref(a2, sizeof a2, "apps/v1", "ReplicaSet", "a", "ua", "c");
    snprintf(ab, sizeof ab, "%s,%s", a, b);
    snprintf(ba, sizeof ba, "%s,%s", b, a);
    gc_meta_t *m1 = pod_with("", ab, false), *m2 = pod_with("\"x\"", ab, true);
    gc_meta_t *m3 = pod_with("", ba, false), *m4 = pod_with("", a2, false), *m5 = pod_with("", a, false);
    assert_true(gc_meta_same_refs(m1, m2));     /* other fields do not matter */
    assert_false(gc_meta_same_refs(m1, m3));    /* order does */
    assert_false(gc_meta_same_refs(m4, m5));    /* blockOwnerDeletion does */
    assert_false(gc_meta_same_refs(m1, m5));
    assert_false(gc_meta_same_refs(m1, NULL));
    gc_meta_destroy(&m1);
    gc_meta_destroy(&m2);
    gc_meta_destroy(&m3);
    gc_meta_destroy(&m4);
    gc_meta_destroy(&m5);
}

static void test_group_kind(void **state)
{
    (void)state;
    char g[32];
    assert_string_equal(gc_api_group("apps/v1", g, sizeof g), "apps");
    assert_string_equal(gc_api_group("v1", g, sizeof g), "");
    assert_true(gc_same_group_kind("apps/v1", "ReplicaSet", "apps/v1beta2", "ReplicaSet"));
    assert_false(gc_same_group_kind("apps/v1", "ReplicaSet", "extensions/v1beta1", "ReplicaSet"));
    assert_false(gc_same_group_kind("v1", "Pod", "v1", "Node"));
}

static void test_patch_remove_refs(void **state)
{
    (void)state;
    char r1[512], r2[512], r3[512], refs[1600];
    fx_ref(r1, sizeof r1, "apps/v1", "ReplicaSet", "a", "ua", "cb");
    fx_ref(r2, sizeof r2, "apps/v1", "ReplicaSet", "b", "ub", "");
    fx_ref(r3, sizeof r3, "apps/v1", "ReplicaSet", "c", "uc", "b");
    snprintf(refs, sizeof refs, "%s,%s,%s", r1, r2, r3);
    gc_meta_t *m = pod_with("", refs, false);
    assert_non_null(m);
    bool drop[3] = {true, false, true};
    char *p = text(gc_patch_remove_refs(m, drop));
    assert_string_equal(p,
        "[{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/2/uid\",\"value\":\"uc\"},"
        "{\"op\":\"remove\",\"path\":\"/metadata/ownerReferences/2\"},"
        "{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/0/uid\",\"value\":\"ua\"},"
        "{\"op\":\"remove\",\"path\":\"/metadata/ownerReferences/0\"}]");
    free(p);
    bool none[3] = {false, false, false};
    assert_null(gc_patch_remove_refs(m, none));

    p = text(gc_patch_remove_owner(m, "ub"));
    assert_string_equal(p,
        "[{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/1/uid\",\"value\":\"ub\"},"
        "{\"op\":\"remove\",\"path\":\"/metadata/ownerReferences/1\"}]");
    free(p);
    assert_null(gc_patch_remove_owner(m, "nobody"));

    p = text(gc_patch_unblock_refs(m));
    assert_string_equal(p,
        "[{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/0/uid\",\"value\":\"ua\"},"
        "{\"op\":\"replace\",\"path\":\"/metadata/ownerReferences/0/blockOwnerDeletion\",\"value\":false},"
        "{\"op\":\"test\",\"path\":\"/metadata/ownerReferences/2/uid\",\"value\":\"uc\"},"
        "{\"op\":\"replace\",\"path\":\"/metadata/ownerReferences/2/blockOwnerDeletion\",\"value\":false}]");
    free(p);
    gc_meta_destroy(&m);
}

static void test_patch_remove_finalizer(void **state)
{
    (void)state;
    gc_meta_t *m = pod_with("\"a\",\"orphan\",\"b\"", "", true);
    assert_non_null(m);
    char *p = text(gc_patch_remove_finalizer(m, "orphan"));
    assert_string_equal(p, "[{\"op\":\"test\",\"path\":\"/metadata/finalizers/1\",\"value\":\"orphan\"},"
                           "{\"op\":\"remove\",\"path\":\"/metadata/finalizers/1\"}]");
    free(p);
    assert_null(gc_patch_remove_finalizer(m, "foregroundDeletion"));
    assert_null(gc_patch_unblock_refs(m));
    gc_meta_destroy(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_full),
        cmocka_unit_test(test_parse_minimal_and_type_from_json),
        cmocka_unit_test(test_parse_refuses_malformed),
        cmocka_unit_test(test_parse_refuses_too_many_refs),
        cmocka_unit_test(test_same_refs),
        cmocka_unit_test(test_group_kind),
        cmocka_unit_test(test_from_json),
        cmocka_unit_test(test_patch_remove_refs),
        cmocka_unit_test(test_patch_remove_finalizer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
