/* Unit tests for the DaemonSet controller's pure decisions: default
 * tolerations, node eligibility (nodeSelector, required affinity, taints),
 * node binding, the per-node plan, the rolling update step, status counts,
 * slow start, the failed-pod back-off and the revision history helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/kobj.h"
#include "ds_core.h"
#include "ds_history.h"
#include "ds_node.h"

static json_t *J(const char *text)
{
    json_error_t e;
    json_t *v = json_loads(text, 0, &e);
    if (!v) fail_msg("bad fixture JSON: %s: %s", e.text, text);
    return v;
}

static json_t *node(const char *name, const char *labels, const char *taints)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "{\"metadata\":{\"name\":\"%s\",\"labels\":%s},\"spec\":{\"taints\":%s}}", name,
             labels ? labels : "{}", taints ? taints : "[]");
    return J(buf);
}

static json_t *ds_obj(const char *podspec, const char *strategy)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"d\",\"namespace\":\"ns\","
             "\"uid\":\"ds-uid\",\"generation\":2,\"annotations\":{\"deprecated.daemonset.template.generation\":\"2\"}},"
             "\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"d\"}},\"updateStrategy\":%s,"
             "\"template\":{\"metadata\":{\"labels\":{\"app\":\"d\"}},\"spec\":%s}}}",
             strategy ? strategy : "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":1,\"maxSurge\":0}}",
             podspec ? podspec : "{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}");
    return J(buf);
}

static void test_default_tolerations(void **state)
{
    (void)state;
    json_t *spec = J("{\"tolerations\":[{\"key\":\"node.kubernetes.io/not-ready\",\"operator\":\"Exists\","
                     "\"effect\":\"NoExecute\",\"tolerationSeconds\":30},{\"key\":\"x\",\"operator\":\"Exists\"}]}");
    assert_int_equal(ds_add_default_tolerations(spec), 0);
    json_t *t = json_object_get(spec, "tolerations");
    assert_int_equal(json_array_size(t), 7);   /* not-ready replaced in place, x kept, 5 appended */
    assert_string_equal(kobj_str(json_array_get(t, 0), "key"), "node.kubernetes.io/not-ready");
    assert_null(json_object_get(json_array_get(t, 0), "tolerationSeconds"));
    assert_string_equal(kobj_str(json_array_get(t, 1), "key"), "x");
    assert_string_equal(kobj_str(json_array_get(t, 6), "key"), "node.kubernetes.io/unschedulable");
    assert_int_equal(ds_add_default_tolerations(spec), 0);   /* idempotent */
    assert_int_equal(json_array_size(t), 7);
    json_decref(spec);
    spec = J("{\"hostNetwork\":true}");
    ds_add_default_tolerations(spec);
    t = json_object_get(spec, "tolerations");
    assert_int_equal(json_array_size(t), 7);
    assert_string_equal(kobj_str(json_array_get(t, 6), "key"), "node.kubernetes.io/network-unavailable");
    json_decref(spec);
}

static void check_run(const char *podspec, const json_t *n, bool run, bool cont)
{
    json_t *spec = J(podspec);
    ds_add_default_tolerations(spec);
    bool r, c;
    ds_node_should_run(spec, n, &r, &c);
    assert_int_equal(r, run);
    assert_int_equal(c, cont);
    json_decref(spec);
}

static void test_eligibility(void **state)
{
    (void)state;
    json_t *plain = node("n1", "{\"disk\":\"ssd\",\"cores\":\"8\"}", NULL);
    json_t *nosched = node("n2", NULL, "[{\"key\":\"dedicated\",\"value\":\"x\",\"effect\":\"NoSchedule\"}]");
    json_t *noexec = node("n3", NULL, "[{\"key\":\"dedicated\",\"value\":\"x\",\"effect\":\"NoExecute\"}]");
    json_t *notready = node("n4", NULL, "[{\"key\":\"node.kubernetes.io/not-ready\",\"effect\":\"NoExecute\"},"
                                        "{\"key\":\"node.kubernetes.io/unschedulable\",\"effect\":\"NoSchedule\"},"
                                        "{\"key\":\"soft\",\"effect\":\"PreferNoSchedule\"}]");
    check_run("{}", plain, true, true);
    check_run("{\"nodeSelector\":{\"disk\":\"ssd\"}}", plain, true, true);
    check_run("{\"nodeSelector\":{\"disk\":\"hdd\"}}", plain, false, false);
    check_run("{\"nodeName\":\"other\"}", plain, false, false);
    /* NoSchedule: no new pod, an existing one may stay; NoExecute: neither */
    check_run("{}", nosched, false, true);
    check_run("{}", noexec, false, false);
    check_run("{\"tolerations\":[{\"key\":\"dedicated\",\"operator\":\"Equal\",\"value\":\"x\"}]}", noexec, true, true);
    check_run("{\"tolerations\":[{\"key\":\"dedicated\",\"value\":\"y\"}]}", nosched, false, true);
    check_run("{\"tolerations\":[{\"operator\":\"Exists\"}]}", noexec, true, true);
    /* the default tolerations cover the node condition taints */
    check_run("{}", notready, true, true);
    /* required affinity: terms ORed, expressions ANDed, matchFields on the name */
    const char *aff = "{\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                      "{\"nodeSelectorTerms\":[%s]}}}}";
    char buf[1024];
    snprintf(buf, sizeof buf, aff, "{\"matchExpressions\":[{\"key\":\"cores\",\"operator\":\"Gt\",\"values\":[\"4\"]},"
                                   "{\"key\":\"disk\",\"operator\":\"In\",\"values\":[\"ssd\",\"nvme\"]}]}");
    check_run(buf, plain, true, true);
    snprintf(buf, sizeof buf, aff, "{\"matchExpressions\":[{\"key\":\"cores\",\"operator\":\"Lt\",\"values\":[\"4\"]}]},"
                                   "{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"n1\"]}]}");
    check_run(buf, plain, true, true);
    snprintf(buf, sizeof buf, aff, "{\"matchExpressions\":[{\"key\":\"gpu\",\"operator\":\"Exists\"}]}");
    check_run(buf, plain, false, false);
    snprintf(buf, sizeof buf, aff, "{\"matchExpressions\":[{\"key\":\"gpu\",\"operator\":\"DoesNotExist\"},"
                                   "{\"key\":\"disk\",\"operator\":\"NotIn\",\"values\":[\"hdd\"]}]}");
    check_run(buf, plain, true, true);
    snprintf(buf, sizeof buf, aff, "{}");   /* an empty term matches nothing */
    check_run(buf, plain, false, false);
    snprintf(buf, sizeof buf, aff, "{\"matchExpressions\":[{\"key\":\"disk\",\"operator\":\"Bogus\"}]}");
    check_run(buf, plain, false, false);
    json_decref(plain);
    json_decref(nosched);
    json_decref(noexec);
    json_decref(notready);
}

static void test_bind_and_target(void **state)
{
    (void)state;
    json_t *spec = J("{\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":"
                     "{\"nodeSelectorTerms\":[{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\","
                     "\"values\":[\"old\"]}]},{\"matchExpressions\":[{\"key\":\"a\",\"operator\":\"Exists\"}]}]}},"
                     "\"podAffinity\":{}}}");
    assert_int_equal(ds_bind_to_node(spec, "n7"), 0);
    json_t *want = J("[{\"matchFields\":[{\"key\":\"metadata.name\",\"operator\":\"In\",\"values\":[\"n7\"]}]}]");
    assert_true(json_equal(kobj_get(spec, "affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"
                                          ".nodeSelectorTerms"), want));
    assert_non_null(kobj_get(spec, "affinity.podAffinity"));
    json_t *pod = json_pack("{s:O}", "spec", spec);
    assert_string_equal(ds_pod_target_node(pod), "n7");
    json_object_set_new(spec, "nodeName", json_string("n8"));
    json_decref(pod);
    pod = json_pack("{s:O}", "spec", spec);
    assert_string_equal(ds_pod_target_node(pod), "n8");
    json_decref(pod);
    pod = J("{\"spec\":{}}");
    assert_null(ds_pod_target_node(pod));
    json_decref(pod);
    json_decref(want);
    json_decref(spec);
}

static void test_pod_new(void **state)
{
    (void)state;
    json_t *ds = ds_obj(NULL, NULL);
    ds_spec_t s;
    char err[128];
    assert_int_equal(ds_spec_read(ds, &s, err, sizeof err), DS_SPEC_OK);
    json_t *pod = ds_pod_new(ds, &s, "abc", "n1", "d-xyz12");
    assert_non_null(pod);
    assert_string_equal(kobj_name(pod), "d-xyz12");
    assert_string_equal(kobj_generate_name(pod), "d-");
    assert_string_equal(kobj_namespace(pod), "ns");
    assert_string_equal(kobj_label(pod, "app"), "d");
    assert_string_equal(kobj_label(pod, "controller-revision-hash"), "abc");
    assert_string_equal(kobj_label(pod, "pod-template-generation"), "2");
    assert_string_equal(kobj_controller_uid(pod), "ds-uid");
    assert_string_equal(ds_pod_target_node(pod), "n1");
    assert_int_equal(json_array_size(kobj_get(pod, "spec.tolerations")), 6);
    assert_true(ds_pod_is_updated(pod, "other", &s));   /* the generation label matches */
    json_decref(pod);
    ds_spec_free(&s);
    json_decref(ds);
    ds = J("{\"metadata\":{\"name\":\"d\",\"generation\":1},\"spec\":{\"selector\":{},\"template\":{\"spec\":{}}}}");
    assert_int_equal(ds_spec_read(ds, &s, err, sizeof err), DS_SPEC_SELECTS_ALL);
    json_decref(ds);
}

static json_t *pod(const char *name, const char *node_name, const char *hash, const char *phase, bool ready,
                   const char *created)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"metadata\":{\"name\":\"%s\",\"uid\":\"u-%s\",\"creationTimestamp\":\"%s\",\"labels\":"
             "{\"app\":\"d\",\"controller-revision-hash\":\"%s\"}},\"spec\":{\"nodeName\":\"%s\"},"
             "\"status\":{\"phase\":\"%s\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"%s\","
             "\"lastTransitionTime\":\"2023-01-01T00:00:00Z\"}]}}",
             name, name, created, hash, node_name, phase, ready ? "True" : "False");
    return J(buf);
}

static bool deny_terminal(const json_t *p, bool failed, void *ud)
{
    (void)p;
    (void)failed;
    (*(int *)ud)++;
    return false;
}

static void test_plan_node(void **state)
{
    (void)state;
    json_t *ds = ds_obj(NULL, NULL);
    ds_spec_t s;
    char err[128];
    assert_int_equal(ds_spec_read(ds, &s, err, sizeof err), DS_SPEC_OK);
    const json_t *del[4];
    ds_node_plan_t plan = { .del = del };
    ds_plan_node(&s, true, true, NULL, 0, false, "h", 0, NULL, NULL, &plan);
    assert_true(plan.create);
    json_t *a = pod("a", "n1", "h", "Running", true, "2023-01-01T00:00:02Z");
    json_t *b = pod("b", "n1", "h", "Running", true, "2023-01-01T00:00:01Z");
    json_t *f = pod("f", "n1", "h", "Failed", false, "2023-01-01T00:00:00Z");
    const json_t *pods[] = { a, b, f };
    /* two running: the newer goes; the failed one goes too */
    ds_plan_node(&s, true, true, pods, 3, true, "h", 0, NULL, NULL, &plan);
    assert_false(plan.create);
    assert_int_equal(plan.n_del, 2);
    assert_ptr_equal(plan.del[0], f);
    assert_ptr_equal(plan.del[1], a);
    /* the back-off may hold the failed pod */
    int asked = 0;
    ds_plan_node(&s, true, true, pods, 3, true, "h", 0, deny_terminal, &asked, &plan);
    assert_int_equal(asked, 1);
    assert_int_equal(plan.n_del, 1);
    /* a node the pod may no longer stay on: everything goes */
    ds_plan_node(&s, false, false, pods, 3, true, "h", 0, NULL, NULL, &plan);
    assert_int_equal(plan.n_del, 3);
    json_decref(a);
    json_decref(b);
    json_decref(f);
    ds_spec_free(&s);
    json_decref(ds);
}

static void test_rolling_update(void **state)
{
    (void)state;
    json_t *ds = ds_obj(NULL, "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":1}}");
    json_object_del(kobj_annotations(ds), DS_ANN_TEMPLATE_GENERATION);
    ds_spec_t s;
    char err[128];
    assert_int_equal(ds_spec_read(ds, &s, err, sizeof err), DS_SPEC_OK);
    json_t *o1 = pod("o1", "n1", "old", "Running", true, "2023-01-01T00:00:00Z");
    json_t *o2 = pod("o2", "n2", "old", "Running", true, "2023-01-01T00:00:00Z");
    json_t *o3 = pod("o3", "n3", "old", "Running", false, "2023-01-01T00:00:00Z");
    json_t *n4 = pod("n4", "n4", "new", "Running", false, "2023-01-01T00:00:00Z");
    const json_t *p1[] = { o1 }, *p2[] = { o2 }, *p3[] = { o3 }, *p4[] = { n4 };
    ds_node_pods_t nodes[] = { { "n1", p1, 1, true }, { "n2", p2, 1, true }, { "n3", p3, 1, true },
                               { "n4", p4, 1, true } };
    int32_t surge, unavail;
    ds_rolling_limits(&s, 4, &surge, &unavail);
    assert_int_equal(surge, 0);
    assert_int_equal(unavail, 1);
    const json_t *del[8];
    const char *create[8];
    size_t nd, nc;
    /* two available old pods: one replaced at a time */
    ds_rolling_update(&s, nodes, 2, "new", surge, unavail, 4, 1700000000, del, &nd, create, &nc);
    assert_int_equal(nd, 1);
    assert_ptr_equal(del[0], o1);
    /* o3 is unavailable: replaced at once, and it uses up the budget */
    ds_rolling_update(&s, nodes, 3, "new", surge, unavail, 4, 1700000000, del, &nd, create, &nc);
    assert_int_equal(nd, 1);
    assert_ptr_equal(del[0], o3);
    ds_rolling_update(&s, nodes, 4, "new", surge, unavail, 4, 1700000000, del, &nd, create, &nc);
    assert_int_equal(nd, 1);
    assert_ptr_equal(del[0], o3);
    assert_int_equal(nc, 0);
    /* with maxSurge 1: a new pod beside an available old one, none deleted yet */
    ds_spec_free(&s);
    json_decref(ds);
    ds = ds_obj(NULL, "{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"maxUnavailable\":0,\"maxSurge\":1}}");
    json_object_del(kobj_annotations(ds), DS_ANN_TEMPLATE_GENERATION);
    assert_int_equal(ds_spec_read(ds, &s, err, sizeof err), DS_SPEC_OK);
    assert_true(ds_allows_surge(&s));
    ds_rolling_limits(&s, 2, &surge, &unavail);
    assert_int_equal(surge, 1);
    ds_rolling_update(&s, nodes, 2, "new", surge, unavail, 2, 1700000000, del, &nd, create, &nc);
    assert_int_equal(nd, 0);
    assert_int_equal(nc, 1);
    assert_string_equal(create[0], "n1");
    ds_spec_free(&s);
    json_decref(ds);
    json_decref(o1);
    json_decref(o2);
    json_decref(o3);
    json_decref(n4);
}

static void test_status(void **state)
{
    (void)state;
    json_t *ds = ds_obj(NULL, NULL);
    json_object_del(kobj_annotations(ds), DS_ANN_TEMPLATE_GENERATION);
    ds_spec_t s;
    char err[128];
    assert_int_equal(ds_spec_read(ds, &s, err, sizeof err), DS_SPEC_OK);
    json_t *a = pod("a", "n1", "h", "Running", true, "2023-01-01T00:00:00Z");
    json_t *b = pod("b", "n2", "old", "Running", false, "2023-01-01T00:00:00Z");
    json_t *c = pod("c", "n3", "h", "Running", true, "2023-01-01T00:00:00Z");
    const json_t *p1[] = { a }, *p2[] = { b }, *p3[] = { c };
    ds_node_pods_t nodes[] = { { "n1", p1, 1, true }, { "n2", p2, 1, true }, { "n3", p3, 1, false },
                               { "n4", NULL, 0, true } };
    ds_counts_t cnt;
    ds_status_count(&s, nodes, 4, "h", 1700000000, &cnt);
    assert_int_equal(cnt.desired, 3);
    assert_int_equal(cnt.current, 2);
    assert_int_equal(cnt.misscheduled, 1);
    assert_int_equal(cnt.ready, 1);
    assert_int_equal(cnt.available, 1);
    assert_int_equal(cnt.updated, 1);
    assert_int_equal(cnt.unavailable, 2);
    assert_false(ds_status_unchanged(ds, &cnt));
    json_t *st = ds_status_build(ds, &cnt, true);
    assert_int_equal(json_integer_value(json_object_get(st, "observedGeneration")), 2);
    json_object_set_new(ds, "status", st);
    assert_true(ds_status_unchanged(ds, &cnt));
    ds_spec_free(&s);
    json_decref(ds);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static void test_slowstart_backoff(void **state)
{
    (void)state;
    ds_slowstart_t ss;
    ds_slowstart_init(&ss, 6);
    assert_int_equal(ds_slowstart_next(&ss), 1);
    assert_int_equal(ds_slowstart_next(&ss), 0);   /* wait for the batch */
    ds_slowstart_result(&ss, true);
    assert_int_equal(ds_slowstart_next(&ss), 2);
    ds_slowstart_result(&ss, true);
    ds_slowstart_result(&ss, true);
    assert_int_equal(ds_slowstart_next(&ss), 3);   /* 4 capped by what remains */
    ds_slowstart_result(&ss, false);
    ds_slowstart_result(&ss, true);
    assert_false(ds_slowstart_done(&ss));
    ds_slowstart_result(&ss, true);
    assert_true(ds_slowstart_done(&ss));
    ds_slowstart_init(&ss, 7);
    ds_slowstart_next(&ss);
    ds_slowstart_result(&ss, false);                 /* the first failure skips the rest */
    assert_true(ds_slowstart_done(&ss));
    assert_int_equal(ss.skipped, 6);

    ds_backoff_t b = { 0 };
    assert_false(ds_backoff_active(&b, 1000));
    ds_backoff_next(&b, 1000);
    assert_int_equal(b.delay_ms, 1000);
    assert_true(ds_backoff_active(&b, 1500));
    assert_false(ds_backoff_active(&b, 2000));
    ds_backoff_next(&b, 2000);
    assert_int_equal(b.delay_ms, 2000);
    for (int i = 0; i < 20; i++) ds_backoff_next(&b, 3000);
    assert_int_equal(b.delay_ms, DS_BACKOFF_MAX_MS);
    ds_backoff_next(&b, 3000 + 2ull * DS_BACKOFF_MAX_MS + 1);   /* quiet long enough: starts over */
    assert_int_equal(b.delay_ms, DS_BACKOFF_INITIAL_MS);
}

static void test_history(void **state)
{
    (void)state;
    json_t *ds = ds_obj(NULL, NULL);
    json_object_set_new(kobj_annotations(ds), "kubernetes.io/change-cause", json_string("why"));
    char h1[DS_HASH_MAX], h2[DS_HASH_MAX], h3[DS_HASH_MAX];
    assert_int_equal(ds_template_hash(kobj_get(ds, "spec.template"), NULL, h1, sizeof h1), 0);
    int32_t one = 1;
    assert_int_equal(ds_template_hash(kobj_get(ds, "spec.template"), &one, h2, sizeof h2), 0);
    assert_string_not_equal(h1, h2);
    assert_int_equal(strspn(h1, "bcdfghjklmnpqrstvwxz2456789"), strlen(h1));
    assert_string_equal(h1, "78c89cf64c");   /* pinned: a change renames every revision kubus made */
    assert_string_equal(h2, "865c749986");
    json_t *cr = ds_history_new(ds, h1, 3);
    assert_non_null(cr);
    char want[64];
    snprintf(want, sizeof want, "d-%s", h1);
    assert_string_equal(kobj_name(cr), want);
    assert_string_equal(kobj_label(cr, "controller-revision-hash"), h1);
    assert_string_equal(kobj_label(cr, "app"), "d");
    assert_string_equal(kobj_annotation(cr, "kubernetes.io/change-cause"), "why");
    assert_int_equal(ds_history_revision(cr), 3);
    assert_string_equal(kobj_str(cr, "data.spec.template.$patch"), "replace");
    /* the data is written with sorted keys, as Go marshals a map */
    char *text = json_dumps(json_object_get(cr, "data"), JSON_COMPACT);
    assert_non_null(text);
    assert_int_equal(strncmp(text, "{\"spec\":{\"template\":{\"$patch\":\"replace\",\"metadata\":", 51), 0);
    free(text);
    assert_true(ds_history_matches(ds, cr));
    /* serialisation noise (nulls) does not matter; content does */
    json_object_set_new(json_object_get(kobj_get(ds, "spec.template"), "metadata"), "creationTimestamp", json_null());
    assert_true(ds_history_matches(ds, cr));
    json_object_set_new(json_array_get(kobj_get(ds, "spec.template.spec.containers"), 0), "image", json_string("j"));
    assert_false(ds_history_matches(ds, cr));
    assert_int_equal(ds_template_hash(kobj_get(ds, "spec.template"), NULL, h3, sizeof h3), 0);
    assert_string_not_equal(h1, h3);
    /* cleanup: oldest first, live hashes kept */
    json_t *r1 = J("{\"metadata\":{\"name\":\"d-a\",\"labels\":{\"controller-revision-hash\":\"a\"}},\"revision\":1}");
    json_t *r2 = J("{\"metadata\":{\"name\":\"d-b\",\"labels\":{\"controller-revision-hash\":\"b\"}},\"revision\":2}");
    json_t *r3 = J("{\"metadata\":{\"name\":\"d-c\",\"labels\":{\"controller-revision-hash\":\"c\"}},\"revision\":3}");
    const json_t *old[] = { r3, r1, r2 }, *out[3];
    json_t *live = J("{\"a\":true}");
    assert_int_equal(ds_history_to_delete(old, 3, 1, live, out), 2);
    assert_ptr_equal(out[0], r2);
    assert_ptr_equal(out[1], r3);
    assert_int_equal(ds_history_to_delete(old, 3, 3, live, out), 0);
    json_decref(live);
    json_decref(r1);
    json_decref(r2);
    json_decref(r3);
    json_decref(cr);
    json_decref(ds);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_default_tolerations), cmocka_unit_test(test_eligibility),
        cmocka_unit_test(test_bind_and_target),     cmocka_unit_test(test_pod_new),
        cmocka_unit_test(test_plan_node),           cmocka_unit_test(test_rolling_update),
        cmocka_unit_test(test_status),              cmocka_unit_test(test_slowstart_backoff),
        cmocka_unit_test(test_history),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
