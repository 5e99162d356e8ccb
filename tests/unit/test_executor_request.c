/* Unit tests for executor/request.c: which actions are refused before any
 * request is spent on them, and the HTTP request each verb becomes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "request.h"

#define RS_BODY(name, uid)                                                                           \
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"" name "\","     \
    "\"ownerReferences\":[{\"uid\":\"other\"},{\"uid\":\"" uid "\",\"controller\":true}]}}"

static msg_action_t action(int verb, const char *resource, const char *ns, const char *name, const char *body)
{
    msg_action_t a;
    kubus__v1__action__init(&a);
    a.id = 1;
    a.controller = "replicaset";
    a.verb = verb;
    a.resource = (char *)resource;
    a.namespace_ = (char *)ns;
    a.name = (char *)name;
    if (body) {
        a.body.data = (uint8_t *)body;
        a.body.len = strlen(body);
    }
    return a;
}

static void expect_refused(const msg_action_t *a, const char *why_contains)
{
    char err[256] = "";
    assert_int_equal(request_check(a, NULL, err, sizeof err), -1);
    if (!strstr(err, why_contains)) fail_msg("reason \"%s\" lacks \"%s\"", err, why_contains);
}

static void test_refusals(void **state)
{
    (void)state;
    msg_action_t a = action(KUBUS__V1__VERB__GET, "widgets", "ns", "x", NULL);
    expect_refused(&a, "unknown resource");
    a = action(KUBUS__V1__VERB__GET, "replicasets", "", "x", NULL);
    expect_refused(&a, "needs a namespace");
    a = action(KUBUS__V1__VERB__GET, "nodes", "ns", "x", NULL);
    expect_refused(&a, "cluster-scoped");
    a = action(KUBUS__V1__VERB__GET, "replicasets", "ns", "../../secrets/x", NULL);
    expect_refused(&a, "bad namespace, name");
    a = action(KUBUS__V1__VERB__GET, "replicasets", "ns", "x", NULL);
    a.api_group_version = "extensions/v1beta1";
    expect_refused(&a, "group/version");
    a = action(KUBUS__V1__VERB__CREATE, "replicasets", "ns", "", RS_BODY("web", "u"));
    expect_refused(&a, "client-chosen name");
    a = action(KUBUS__V1__VERB__CREATE, "replicasets", "ns", "web", "{\"metadata\":{}}");
    expect_refused(&a, "metadata.name");
    a = action(KUBUS__V1__VERB__CREATE, "replicasets", "ns", "db", RS_BODY("web", "u"));
    expect_refused(&a, "differs");
    a = action(KUBUS__V1__VERB__UPDATE, "replicasets", "ns", "web", "{not json");
    expect_refused(&a, "not JSON");
    a = action(KUBUS__V1__VERB__PATCH, "replicasets", "ns", "web", "{\"op\":\"add\"}");
    a.patch_type = KUBUS__V1__PATCH_TYPE__JSON_PATCH;
    expect_refused(&a, "array");
    a = action(KUBUS__V1__VERB__PATCH, "replicasets", "ns", "web", "[]");
    a.patch_type = KUBUS__V1__PATCH_TYPE__MERGE;
    expect_refused(&a, "object");
}

static void test_create(void **state)
{
    (void)state;
    msg_action_t a = action(KUBUS__V1__VERB__CREATE, "replicasets", "ns", "web", RS_BODY("web", "u-42"));
    char *uid = NULL;
    char err[256];
    assert_int_equal(request_check(&a, &uid, err, sizeof err), 0);
    assert_string_equal(uid, "u-42"); /* the controller=true reference, not the first */
    free(uid);
    request_t r;
    assert_int_equal(request_build(&a, &r), 0);
    assert_string_equal(r.method, "POST");
    assert_string_equal(r.path, "/apis/apps/v1/namespaces/ns/replicasets");
    assert_string_equal(r.content_type, "application/json");
    assert_ptr_equal(r.body, a.body.data); /* borrowed, not copied */
    request_clear(&r);

    assert_int_equal(request_build_lookup(&a, &r), 0);
    assert_string_equal(r.method, "GET");
    assert_string_equal(r.path, "/apis/apps/v1/namespaces/ns/replicasets/web");
    assert_null(r.body);
    request_clear(&r);
}

static void test_update_patch_get(void **state)
{
    (void)state;
    msg_action_t a = action(KUBUS__V1__VERB__UPDATE_STATUS, "pods", "ns", "p", "{\"metadata\":{\"name\":\"p\"}}");
    assert_int_equal(request_check(&a, NULL, NULL, 0), 0);
    request_t r;
    assert_int_equal(request_build(&a, &r), 0);
    assert_string_equal(r.method, "PUT");
    assert_string_equal(r.path, "/api/v1/namespaces/ns/pods/p/status");
    request_clear(&r);

    const struct { int type; const char *ct; const char *body; } patches[] = {
        { KUBUS__V1__PATCH_TYPE__MERGE, "application/merge-patch+json", "{}" },
        { KUBUS__V1__PATCH_TYPE__JSON_PATCH, "application/json-patch+json", "[]" },
        { KUBUS__V1__PATCH_TYPE__STRATEGIC, "application/strategic-merge-patch+json", "{}" },
    };
    for (size_t i = 0; i < 3; i++) {
        a = action(KUBUS__V1__VERB__PATCH, "deployments", "ns", "d", patches[i].body);
        a.patch_type = patches[i].type;
        assert_int_equal(request_check(&a, NULL, NULL, 0), 0);
        assert_int_equal(request_build(&a, &r), 0);
        assert_string_equal(r.method, "PATCH");
        assert_string_equal(r.content_type, patches[i].ct);
        assert_string_equal(r.path, "/apis/apps/v1/namespaces/ns/deployments/d");
        request_clear(&r);
    }
    a = action(KUBUS__V1__VERB__GET, "nodes", "", "n1", NULL);
    assert_int_equal(request_check(&a, NULL, NULL, 0), 0);
    assert_int_equal(request_build(&a, &r), 0);
    assert_string_equal(r.path, "/api/v1/nodes/n1");
    assert_null(r.body);
    request_clear(&r);
}

static void test_delete_options(void **state)
{
    (void)state;
    const char *want[] = { NULL, "Background", "Foreground", "Orphan" };
    for (int p = 0; p <= 3; p++) {
        msg_action_t a = action(KUBUS__V1__VERB__DELETE, "replicasets", "ns", "web", NULL);
        a.precondition_uid = "u-1";
        a.precondition_resource_version = p == 2 ? "77" : "";
        a.propagation = p;
        assert_int_equal(request_check(&a, NULL, NULL, 0), 0);
        request_t r;
        assert_int_equal(request_build(&a, &r), 0);
        assert_string_equal(r.method, "DELETE");
        assert_string_equal(r.content_type, "application/json");
        json_t *o = json_loadb(r.body, r.body_len, 0, NULL);
        assert_non_null(o);
        assert_string_equal(json_string_value(json_object_get(o, "kind")), "DeleteOptions");
        json_t *pre = json_object_get(o, "preconditions");
        assert_string_equal(json_string_value(json_object_get(pre, "uid")), "u-1");
        if (p == 2) assert_string_equal(json_string_value(json_object_get(pre, "resourceVersion")), "77");
        else assert_null(json_object_get(pre, "resourceVersion"));
        const char *pol = json_string_value(json_object_get(o, "propagationPolicy"));
        if (want[p]) assert_string_equal(pol, want[p]);
        else assert_null(pol);
        json_decref(o);
        request_clear(&r);
    }
}

static void test_owned_by(void **state)
{
    (void)state;
    const char *obj = RS_BODY("web", "u-42");
    assert_true(request_owned_by(obj, strlen(obj), "u-42"));
    assert_false(request_owned_by(obj, strlen(obj), "other")); /* not the controller reference */
    assert_false(request_owned_by(obj, strlen(obj), ""));
    assert_false(request_owned_by(obj, strlen(obj), NULL));
    assert_false(request_owned_by("{}", 2, "u-42"));
    assert_false(request_owned_by("garbage", 7, "u-42"));
    assert_false(request_owned_by(NULL, 0, "u-42"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_create),
        cmocka_unit_test(test_update_patch_get),
        cmocka_unit_test(test_delete_options),
        cmocka_unit_test(test_owned_by),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
