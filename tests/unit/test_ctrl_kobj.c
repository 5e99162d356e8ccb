/* Unit tests for lib/ctrl/kobj.c: metadata, owner refs, times, pod state,
 * IntOrString. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/kobj.h"

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j) fail_msg("bad test JSON: %s", e.text);
    return j;
}

static void test_metadata(void **state)
{
    (void)state;
    json_t *o = J("{\"metadata\":{\"name\":\"a\",\"namespace\":\"ns\",\"uid\":\"u1\",\"resourceVersion\":\"7\","
                  "\"generation\":3,\"labels\":{\"x\":\"y\",\"n\":1},\"annotations\":{\"k\":\"v\"}}}");
    assert_string_equal(kobj_name(o), "a");
    assert_string_equal(kobj_namespace(o), "ns");
    assert_string_equal(kobj_uid(o), "u1");
    assert_string_equal(kobj_resource_version(o), "7");
    assert_int_equal(kobj_generation(o), 3);
    assert_string_equal(kobj_label(o, "x"), "y");
    assert_null(kobj_label(o, "n"));              /* not a string */
    assert_string_equal(kobj_annotation(o, "k"), "v");
    assert_false(kobj_being_deleted(o));
    char key[64], ns[16], name[16];
    assert_int_equal(kobj_key(o, key, sizeof key), 4);
    assert_string_equal(key, "ns/a");
    assert_int_equal(kobj_split_key("ns/a", ns, sizeof ns, name, sizeof name), 0);
    assert_string_equal(ns, "ns");
    assert_string_equal(name, "a");
    assert_int_equal(kobj_split_key("node1", ns, sizeof ns, name, sizeof name), 0);
    assert_string_equal(ns, "");
    assert_int_equal(kobj_split_key("a/b/c", ns, sizeof ns, name, sizeof name), -1);
    assert_int_equal(kobj_split_key("/b", ns, sizeof ns, name, sizeof name), -1);
    assert_int_equal(kobj_split_key("a/", ns, sizeof ns, name, sizeof name), -1);
    json_decref(o);
    /* garbage in, defaults out */
    o = J("{\"metadata\":[1,2]}");
    assert_string_equal(kobj_name(o), "");
    assert_int_equal(kobj_generation(o), 0);
    assert_null(kobj_labels(o));
    assert_int_equal(kobj_key(o, key, sizeof key), -1);
    json_decref(o);
    assert_string_equal(kobj_uid(NULL), "");
}

static void test_owner_refs(void **state)
{
    (void)state;
    json_t *o = J("{\"metadata\":{\"ownerReferences\":[{\"apiVersion\":\"v1\",\"kind\":\"X\",\"name\":\"n\"},"
                  "{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"d\",\"uid\":\"u0\"},"
                  "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"rs\",\"uid\":\"u1\",\"controller\":true,\"blockOwnerDeletion\":true}]}}");
    assert_int_equal(kobj_ownerref_count(o), 3);
    kobj_ownerref_t r;
    assert_int_equal(kobj_ownerref_at(o, 0, &r), -1);   /* no uid: skipped */
    assert_int_equal(kobj_ownerref_at(o, 1, &r), 0);
    assert_false(r.controller);
    assert_int_equal(kobj_controller_ref(o, &r), 0);
    assert_string_equal(r.kind, "ReplicaSet");
    assert_true(r.block_owner_deletion);
    assert_string_equal(kobj_controller_uid(o), "u1");
    json_decref(o);
    json_t *owner = J("{\"metadata\":{\"name\":\"rs\",\"uid\":\"u9\"}}");
    json_t *ref = kobj_new_controller_ref("apps/v1", "ReplicaSet", owner);
    assert_string_equal(json_string_value(json_object_get(ref, "uid")), "u9");
    assert_true(json_is_true(json_object_get(ref, "controller")));
    json_decref(ref);
    json_decref(owner);
}

static void test_times(void **state)
{
    (void)state;
    int64_t t;
    assert_int_equal(kobj_time_parse("1970-01-01T00:00:00Z", &t), 0);
    assert_int_equal(t, 0);
    assert_int_equal(kobj_time_parse("2024-02-29T12:34:56Z", &t), 0);
    assert_int_equal(t, 1709210096);
    assert_int_equal(kobj_time_parse("2024-02-29T14:34:56+02:00", &t), 0);
    assert_int_equal(t, 1709210096);
    assert_int_equal(kobj_time_parse("2024-02-29T12:34:56.999999Z", &t), 0);
    assert_int_equal(t, 1709210096);
    int64_t us;
    assert_int_equal(kobj_time_parse_us("2024-02-29T12:34:56.5Z", &us), 0);
    assert_int_equal(us, 1709210096500000LL);
    assert_int_equal(kobj_time_parse("2023-02-29T00:00:00Z", &t), -1);   /* not a leap year */
    assert_int_equal(kobj_time_parse("2024-01-01 00:00:00Z", &t), -1);
    assert_int_equal(kobj_time_parse("2024-01-01T00:00:00", &t), -1);
    assert_int_equal(kobj_time_parse("2024-01-01T00:00:00Zjunk", &t), -1);
    assert_int_equal(kobj_time_parse("", &t), -1);
    assert_int_equal(kobj_time_parse(NULL, &t), -1);
    char buf[32];
    assert_int_equal(kobj_time_format(1709210096, buf, sizeof buf), 20);
    assert_string_equal(buf, "2024-02-29T12:34:56Z");
    assert_int_equal(kobj_time_format(0, buf, 10), -1);
}

static json_t *pod(const char *phase, const char *ready, const char *ltt, bool deleting)
{
    json_t *p = json_pack("{s:{s:s, s:s}, s:{s:s, s:[{s:s, s:s, s:s}], s:[{s:i},{s:i}]}, s:{s:s}}",
                          "metadata", "name", "p", "uid", "u", "status", "phase", phase, "conditions", "type",
                          "Ready", "status", ready, "lastTransitionTime", ltt, "containerStatuses",
                          "restartCount", 2, "restartCount", 7, "spec", "nodeName", "n1");
    if (deleting) json_object_set_new(json_object_get(p, "metadata"), "deletionTimestamp", json_string(ltt));
    return p;
}

static void test_pods(void **state)
{
    (void)state;
    json_t *p = pod("Running", "True", "2024-01-01T00:00:00Z", false);
    int64_t t0;
    kobj_time_parse("2024-01-01T00:00:00Z", &t0);
    assert_true(kpod_is_active(p));
    assert_true(kpod_is_ready(p));
    assert_int_equal(kpod_ready_since(p), t0);
    assert_true(kpod_is_available(p, 0, t0));
    assert_false(kpod_is_available(p, 10, t0 + 10));   /* strictly after ltt + minReady */
    assert_true(kpod_is_available(p, 10, t0 + 11));
    assert_int_equal(kpod_max_restarts(p), 7);
    assert_string_equal(kpod_node_name(p), "n1");
    json_decref(p);
    p = pod("Running", "False", "2024-01-01T00:00:00Z", false);
    assert_false(kpod_is_ready(p));
    assert_int_equal(kpod_ready_since(p), 0);
    assert_false(kpod_is_available(p, 0, t0 + 100));
    json_decref(p);
    p = pod("Succeeded", "False", "2024-01-01T00:00:00Z", false);
    assert_false(kpod_is_active(p));
    json_decref(p);
    p = pod("Running", "True", "2024-01-01T00:00:00Z", true);
    assert_false(kpod_is_active(p));
    json_decref(p);
    p = pod("Running", "True", "garbage", false);
    assert_true(kpod_is_available(p, 0, t0));
    assert_false(kpod_is_available(p, 5, t0 + 1000));  /* no time: not available with minReady */
    json_decref(p);
}

static void test_deletion_cost(void **state)
{
    (void)state;
    json_t *p = J("{\"metadata\":{\"annotations\":{\"controller.kubernetes.io/pod-deletion-cost\":\"-25\"}}}");
    int32_t c = 9;
    assert_int_equal(kpod_deletion_cost(p, &c), 0);
    assert_int_equal(c, -25);
    json_decref(p);
    p = J("{\"metadata\":{\"annotations\":{\"controller.kubernetes.io/pod-deletion-cost\":\"99999999999\"}}}");
    assert_int_equal(kpod_deletion_cost(p, &c), -1);
    assert_int_equal(c, 0);
    json_decref(p);
    p = J("{\"metadata\":{}}");
    assert_int_equal(kpod_deletion_cost(p, &c), 0);
    assert_int_equal(c, 0);
    json_decref(p);
}

static void test_intstr(void **state)
{
    (void)state;
    kobj_intstr_t v;
    char err[128];
    json_t *j = json_integer(3);
    assert_int_equal(kobj_intstr_parse(j, &v, err, sizeof err), 0);
    assert_false(v.is_percent);
    assert_int_equal(v.value, 3);
    json_decref(j);
    j = json_string("25%");
    assert_int_equal(kobj_intstr_parse(j, &v, err, sizeof err), 0);
    assert_true(v.is_percent);
    int32_t out;
    kobj_intstr_scaled(&v, 10, true, &out);
    assert_int_equal(out, 3);                          /* 2.5 rounded up */
    kobj_intstr_scaled(&v, 10, false, &out);
    assert_int_equal(out, 2);                          /* rounded down */
    json_decref(j);
    j = json_string("abc%");
    assert_int_equal(kobj_intstr_parse(j, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid value \"abc%\""));
    json_decref(j);
    j = json_string("5");
    assert_int_equal(kobj_intstr_parse(j, &v, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a percentage"));
    json_decref(j);
    j = json_string("%");
    assert_int_equal(kobj_intstr_parse(j, &v, err, sizeof err), -1);
    json_decref(j);
    assert_int_equal(kobj_intstr_parse(NULL, &v, err, sizeof err), -1);
    j = json_integer(1LL << 40);
    assert_int_equal(kobj_intstr_parse(j, &v, err, sizeof err), -1);
    json_decref(j);
    j = json_true();
    assert_int_equal(kobj_intstr_parse(j, &v, err, sizeof err), -1);
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metadata),
        cmocka_unit_test(test_owner_refs),
        cmocka_unit_test(test_times),
        cmocka_unit_test(test_pods),
        cmocka_unit_test(test_deletion_cost),
        cmocka_unit_test(test_intstr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
