/* Unit tests for rs_core.c: spec validation, claiming, diff, slow start,
 * status computation and the pod a template makes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/kobj.h"
#include "rs_core.h"

static json_t *J(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j) fail_msg("bad test JSON: %s (%s)", e.text, s);
    return j;
}

#define RS_JSON(extra_spec, extra_meta) \
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"myrs\",\"namespace\":\"ns\"," \
    "\"uid\":\"rs-uid\",\"generation\":4" extra_meta "},\"spec\":{\"selector\":{\"matchLabels\":{\"run\":\"web\"}}," \
    "\"template\":{\"metadata\":{\"labels\":{\"run\":\"web\",\"tier\":\"fe\"},\"annotations\":{\"a\":\"1\"}," \
    "\"finalizers\":[\"f/x\"]},\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}" extra_spec "}}"

static void test_spec(void **state)
{
    (void)state;
    rs_spec_t s;
    char err[256];
    json_t *rs = J(RS_JSON(",\"replicas\":3,\"minReadySeconds\":5", ""));
    assert_int_equal(rs_spec_read(rs, &s, err, sizeof err), 0);
    assert_int_equal(s.replicas, 3);
    assert_int_equal(s.min_ready_seconds, 5);
    rs_spec_free(&s);
    json_decref(rs);
    rs = J(RS_JSON("", ""));
    assert_int_equal(rs_spec_read(rs, &s, err, sizeof err), 0);
    assert_int_equal(s.replicas, 1);                  /* API default */
    rs_spec_free(&s);
    json_decref(rs);
    rs = J(RS_JSON(",\"replicas\":-1", ""));
    assert_int_equal(rs_spec_read(rs, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "replicas"));
    json_decref(rs);
    rs = J(RS_JSON(",\"replicas\":\"2\"", ""));
    assert_int_equal(rs_spec_read(rs, &s, err, sizeof err), -1);
    json_decref(rs);
    rs = J("{\"metadata\":{\"name\":\"r\"},\"spec\":{\"selector\":{},\"template\":{\"spec\":{}}}}");
    assert_int_equal(rs_spec_read(rs, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "empty selector"));
    json_decref(rs);
    rs = J("{\"metadata\":{\"name\":\"r\"},\"spec\":{\"template\":{\"spec\":{}}}}");
    assert_int_equal(rs_spec_read(rs, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "required"));
    json_decref(rs);
    rs = J("{\"metadata\":{\"name\":\"r\"},\"spec\":{\"selector\":{\"matchLabels\":{\"a\":\"b\"}},"
           "\"template\":{\"metadata\":{\"labels\":{\"a\":\"c\"}},\"spec\":{}}}}");
    assert_int_equal(rs_spec_read(rs, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "does not match"));
    json_decref(rs);
    rs = J("{\"metadata\":{\"name\":\"r\"},\"spec\":{\"selector\":{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Nope\"}]},"
           "\"template\":{\"spec\":{}}}}");
    assert_int_equal(rs_spec_read(rs, &s, err, sizeof err), -1);
    assert_non_null(strstr(err, "invalid selector"));
    json_decref(rs);
}

static json_t *pod(const char *labels, const char *owner_uid, bool controller, const char *extra)
{
    char buf[1024];
    char refs[256] = "";
    if (owner_uid)
        snprintf(refs, sizeof refs, ",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\","
                 "\"name\":\"o\",\"uid\":\"%s\",\"controller\":%s}]", owner_uid, controller ? "true" : "false");
    snprintf(buf, sizeof buf, "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\",\"uid\":\"pod-uid\","
             "\"labels\":%s%s%s},\"status\":{\"phase\":\"Running\"}}", labels, refs, extra ? extra : "");
    return J(buf);
}

static void test_claim(void **state)
{
    (void)state;
    json_t *rs = J(RS_JSON("", ""));
    rs_spec_t s;
    char err[128];
    assert_int_equal(rs_spec_read(rs, &s, err, sizeof err), 0);
    struct { json_t *p; rs_claim_t want; } cases[] = {
        { pod("{\"run\":\"web\"}", "rs-uid", true, NULL), RS_CLAIM_OWNED },
        { pod("{\"run\":\"db\"}", "rs-uid", true, NULL), RS_CLAIM_RELEASE },
        { pod("{\"run\":\"web\"}", "other", true, NULL), RS_CLAIM_IGNORE },
        { pod("{\"run\":\"web\"}", NULL, false, NULL), RS_CLAIM_ADOPT },
        { pod("{\"run\":\"web\"}", "other", false, NULL), RS_CLAIM_ADOPT },    /* non-controller ref: orphan */
        { pod("{\"run\":\"db\"}", NULL, false, NULL), RS_CLAIM_IGNORE },
        { pod("{\"run\":\"web\"}", NULL, false, ",\"deletionTimestamp\":\"2024-01-01T00:00:00Z\""), RS_CLAIM_IGNORE },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (rs_claim(rs, s.selector, cases[i].p) != cases[i].want) fail_msg("case %zu", i);
    }
    /* a ReplicaSet being deleted neither adopts nor releases */
    json_object_set_new(json_object_get(rs, "metadata"), "deletionTimestamp", json_string("2024-01-01T00:00:00Z"));
    assert_int_equal(rs_claim(rs, s.selector, cases[1].p), RS_CLAIM_IGNORE);
    assert_int_equal(rs_claim(rs, s.selector, cases[3].p), RS_CLAIM_IGNORE);
    assert_int_equal(rs_claim(rs, s.selector, cases[0].p), RS_CLAIM_OWNED);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) json_decref(cases[i].p);
    rs_spec_free(&s);
    json_decref(rs);
}

static void test_diff(void **state)
{
    (void)state;
    assert_int_equal(rs_diff(2, 4, 500), 2);
    assert_int_equal(rs_diff(4, 2, 500), -2);
    assert_int_equal(rs_diff(3, 3, 500), 0);
    assert_int_equal(rs_diff(0, 10000, 500), 500);
    assert_int_equal(rs_diff(10000, 0, 500), -500);
}

static void test_slow_start(void **state)
{
    (void)state;
    rs_slowstart_t s;
    rs_slowstart_init(&s, 10);
    int batches[8], nb = 0;
    int n;
    while ((n = rs_slowstart_next(&s)) > 0) {
        assert_int_equal(rs_slowstart_next(&s), 0);    /* nothing more while in flight */
        batches[nb++] = n;
        for (int i = 0; i < n; i++) rs_slowstart_result(&s, true);
    }
    assert_int_equal(nb, 4);
    assert_int_equal(batches[0], 1);
    assert_int_equal(batches[1], 2);
    assert_int_equal(batches[2], 4);
    assert_int_equal(batches[3], 3);                   /* what remains */
    assert_true(rs_slowstart_done(&s));
    assert_int_equal(s.succeeded, 10);
    /* a failure stops after the current batch, the rest is skipped */
    rs_slowstart_init(&s, 20);
    assert_int_equal(rs_slowstart_next(&s), 1);
    rs_slowstart_result(&s, true);
    assert_int_equal(rs_slowstart_next(&s), 2);
    rs_slowstart_result(&s, false);
    assert_false(rs_slowstart_done(&s));                /* one still in flight */
    assert_int_equal(rs_slowstart_next(&s), 0);
    rs_slowstart_result(&s, true);
    assert_true(rs_slowstart_done(&s));
    assert_int_equal(s.succeeded, 2);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.skipped, 17);
    assert_int_equal(rs_slowstart_next(&s), 0);
    /* a stop (namespace terminating) ends the plan without a failure */
    rs_slowstart_init(&s, 20);
    assert_int_equal(rs_slowstart_next(&s), 1);
    rs_slowstart_result(&s, true);
    assert_int_equal(rs_slowstart_next(&s), 2);
    rs_slowstart_stop(&s);
    assert_false(rs_slowstart_done(&s));
    rs_slowstart_result(&s, true);
    assert_true(rs_slowstart_done(&s));
    assert_int_equal(s.failed, 0);
    assert_int_equal(s.skipped, 17);
    assert_int_equal(rs_slowstart_next(&s), 0);
    rs_slowstart_init(&s, 0);
    assert_true(rs_slowstart_done(&s));
    assert_int_equal(rs_slowstart_next(&s), 0);
}

static json_t *status_pod(const char *labels, bool ready, const char *ltt)
{
    char buf[512];
    snprintf(buf, sizeof buf, "{\"metadata\":{\"name\":\"p\",\"labels\":%s},\"status\":{\"phase\":\"Running\","
             "\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\",\"lastTransitionTime\":\"%s\"}]}}",
             labels, ready ? "True" : "False", ltt);
    return J(buf);
}

static void test_status(void **state)
{
    (void)state;
    json_t *rs = J(RS_JSON(",\"replicas\":4,\"minReadySeconds\":30", ""));
    rs_spec_t s;
    char err[128];
    assert_int_equal(rs_spec_read(rs, &s, err, sizeof err), 0);
    int64_t t0;
    kobj_time_parse("2024-01-01T00:00:00Z", &t0);
    json_t *p[3] = {
        status_pod("{\"run\":\"web\",\"tier\":\"fe\"}", true, "2024-01-01T00:00:00Z"),   /* available */
        status_pod("{\"run\":\"web\"}", true, "2024-01-01T00:01:00Z"),                   /* ready, not yet available */
        status_pod("{\"run\":\"web\",\"tier\":\"fe\"}", false, "2024-01-01T00:00:00Z"),
    };
    int64_t next = 0;
    json_t *st = rs_status_compute(rs, &s, (const json_t *const *)p, 3, NULL, t0 + 65, &next);
    assert_int_equal(json_integer_value(json_object_get(st, "replicas")), 3);
    assert_int_equal(json_integer_value(json_object_get(st, "fullyLabeledReplicas")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "readyReplicas")), 2);
    assert_int_equal(json_integer_value(json_object_get(st, "availableReplicas")), 1);
    assert_int_equal(json_integer_value(json_object_get(st, "observedGeneration")), 4);
    assert_int_equal(next, t0 + 60 + 30 + 1);
    assert_false(rs_status_equal(json_object_get(rs, "status"), st));
    assert_true(rs_status_equal(st, st));
    /* a manage error adds ReplicaFailure; a later success removes it */
    rs_manage_err_t me = { "pods \"x\" is forbidden: quota", true };
    json_object_set_new(rs, "status", st);
    json_t *st2 = rs_status_compute(rs, &s, (const json_t *const *)p, 3, &me, t0 + 65, NULL);
    json_t *conds = json_object_get(st2, "conditions");
    assert_int_equal(json_array_size(conds), 1);
    assert_string_equal(kobj_str(json_array_get(conds, 0), "reason"), "FailedCreate");
    assert_string_equal(kobj_str(json_array_get(conds, 0), "type"), "ReplicaFailure");
    assert_false(rs_status_equal(json_object_get(rs, "status"), st2));
    json_object_set_new(rs, "status", st2);
    json_t *st3 = rs_status_compute(rs, &s, (const json_t *const *)p, 3, &me, t0 + 65, NULL);
    assert_true(rs_status_equal(json_object_get(rs, "status"), st3));   /* kept, not duplicated */
    json_decref(st3);
    json_t *st4 = rs_status_compute(rs, &s, (const json_t *const *)p, 3, NULL, t0 + 99, NULL);
    assert_null(json_object_get(st4, "conditions"));
    json_decref(st4);
    for (int i = 0; i < 3; i++) json_decref(p[i]);
    rs_spec_free(&s);
    json_decref(rs);
}

/* status.terminatingReplicas: owned pods being deleted (not terminal) that
 * the selector matches; written even as 0, and absent differs from 0. */
static void test_status_terminating(void **state)
{
    (void)state;
    json_t *rs = J(RS_JSON(",\"replicas\":2", ""));
    rs_spec_t s;
    char err[128];
    assert_int_equal(rs_spec_read(rs, &s, err, sizeof err), 0);
#define TPOD(uid, labels, phase, del)                                                                  \
    "{\"metadata\":{\"name\":\"p\",\"labels\":" labels del ",\"ownerReferences\":[{\"apiVersion\":\"apps/v1\"," \
    "\"kind\":\"ReplicaSet\",\"name\":\"myrs\",\"uid\":\"" uid "\",\"controller\":true}]}," \
    "\"status\":{\"phase\":\"" phase "\"}}"
#define DEL ",\"deletionTimestamp\":\"2024-01-01T00:00:00Z\""
    json_t *terminating = J(TPOD("rs-uid", "{\"run\":\"web\"}", "Running", DEL));
    json_t *active = J(TPOD("rs-uid", "{\"run\":\"web\"}", "Running", ""));
    json_t *terminal = J(TPOD("rs-uid", "{\"run\":\"web\"}", "Succeeded", DEL));
    json_t *other = J(TPOD("other-uid", "{\"run\":\"web\"}", "Running", DEL));
    json_t *unmatched = J(TPOD("rs-uid", "{\"run\":\"db\"}", "Pending", DEL));
    assert_true(rs_pod_terminating(rs, s.selector, terminating));
    assert_false(rs_pod_terminating(rs, s.selector, active));
    assert_false(rs_pod_terminating(rs, s.selector, terminal));
    assert_false(rs_pod_terminating(rs, s.selector, other));
    assert_false(rs_pod_terminating(rs, s.selector, unmatched));
#undef TPOD
#undef DEL
    json_t *st = rs_status_compute(rs, &s, NULL, 0, NULL, 0, NULL);
    json_t *st0 = json_deep_copy(st);
    rs_status_set_terminating(st0, 0);
    assert_int_equal(json_integer_value(json_object_get(st0, "terminatingReplicas")), 0);
    assert_false(rs_status_equal(st, st0));   /* absent != 0 */
    json_t *st1 = json_deep_copy(st0);
    rs_status_set_terminating(st1, 1);
    assert_false(rs_status_equal(st0, st1));
    assert_true(rs_status_equal(st1, st1));
    json_decref(st);
    json_decref(st0);
    json_decref(st1);
    json_decref(terminating);
    json_decref(active);
    json_decref(terminal);
    json_decref(other);
    json_decref(unmatched);
    rs_spec_free(&s);
    json_decref(rs);
}

static void test_pod_from_template(void **state)
{
    (void)state;
    json_t *rs = J(RS_JSON("", ""));
    json_t *pod = rs_pod_from_template(rs, "myrs-b2c4d");
    assert_string_equal(kobj_name(pod), "myrs-b2c4d");
    assert_string_equal(kobj_generate_name(pod), "myrs-");
    assert_string_equal(kobj_namespace(pod), "ns");
    assert_string_equal(kobj_label(pod, "tier"), "fe");
    assert_string_equal(kobj_annotation(pod, "a"), "1");
    assert_string_equal(json_string_value(json_array_get(kobj_get(pod, "metadata.finalizers"), 0)), "f/x");
    kobj_ownerref_t r;
    assert_int_equal(kobj_controller_ref(pod, &r), 0);
    assert_string_equal(r.uid, "rs-uid");
    assert_string_equal(r.kind, "ReplicaSet");
    assert_string_equal(r.api_version, "apps/v1");
    assert_true(r.block_owner_deletion);
    assert_string_equal(kobj_str(pod, "kind"), "Pod");
    assert_non_null(kobj_get(pod, "spec.containers"));
    json_decref(pod);
    json_decref(rs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec),
        cmocka_unit_test(test_claim),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_slow_start),
        cmocka_unit_test(test_status),
        cmocka_unit_test(test_status_terminating),
        cmocka_unit_test(test_pod_from_template),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
