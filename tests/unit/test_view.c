/* Unit tests for lib/view.c: what a pod's bus view keeps and drops, and
 * that ill-typed or missing fields never crash and never survive. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/kobj.h"
#include "jscan.h"
#include "sbuf.h"
#include "view.h"

/* A pod as the API server sends it (managedFields already gone). */
static const char *full_pod =
    "{\"apiVersion\":\"v1\",\"kind\":\"Pod\","
    "\"metadata\":{\"name\":\"web-0\",\"generateName\":\"web-\",\"namespace\":\"ns\",\"uid\":\"u1\","
    "\"resourceVersion\":\"7\",\"generation\":2,\"creationTimestamp\":\"2026-01-02T03:04:05Z\","
    "\"deletionTimestamp\":\"2026-01-02T03:05:05Z\",\"deletionGracePeriodSeconds\":30,"
    "\"labels\":{\"app\":\"web\"},"
    "\"annotations\":{\"controller.kubernetes.io/pod-deletion-cost\":\"5\","
    "\"batch.kubernetes.io/job-completion-index\":\"3\",\"example.k8s.io/x\":\"y\","
    "\"kubectl.kubernetes.io/last-applied-configuration\":\"{...}\",\"user.example.com/pad\":\"zzz\","
    "\"notkubernetes.io/z\":\"1\",\"plain\":\"1\"},"
    "\"ownerReferences\":[{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"rs\",\"uid\":\"o1\","
    "\"controller\":true,\"blockOwnerDeletion\":true}],"
    "\"finalizers\":[\"batch.kubernetes.io/job-tracking\"],\"selfLink\":\"/x\",\"managedFields\":[]},"
    "\"spec\":{\"nodeName\":\"n1\",\"hostname\":\"web-0\",\"subdomain\":\"web\",\"restartPolicy\":\"Never\","
    "\"schedulerName\":\"default-scheduler\",\"tolerations\":[{\"key\":\"k\"}],"
    "\"affinity\":{\"nodeAffinity\":{\"requiredDuringSchedulingIgnoredDuringExecution\":{\"nodeSelectorTerms\":[]}},"
    "\"podAntiAffinity\":{}},"
    "\"volumes\":[{\"name\":\"data\",\"persistentVolumeClaim\":{\"claimName\":\"data-web-0\"}},"
    "{\"name\":\"tok\",\"projected\":{\"sources\":[]}}],"
    "\"containers\":[{\"name\":\"c\",\"image\":\"nginx\",\"env\":[{\"name\":\"A\",\"value\":\"1\"}]}],"
    "\"initContainers\":[{\"name\":\"side\",\"image\":\"x\",\"restartPolicy\":\"Always\"}]},"
    "\"status\":{\"phase\":\"Failed\",\"reason\":\"Evicted\",\"message\":\"long text\",\"startTime\":\"2026-01-02T03:04:06Z\","
    "\"hostIP\":\"10.0.0.1\",\"podIP\":\"10.1.0.1\",\"qosClass\":\"BestEffort\","
    "\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\",\"lastTransitionTime\":\"2026-01-02T03:04:07Z\","
    "\"reason\":\"PodFailed\",\"message\":\"m\",\"lastProbeTime\":null}],"
    "\"containerStatuses\":[{\"name\":\"c\",\"ready\":false,\"started\":false,\"restartCount\":4,\"image\":\"nginx\","
    "\"imageID\":\"sha\",\"containerID\":\"cid\",\"state\":{\"terminated\":{\"exitCode\":42,\"reason\":\"Error\","
    "\"message\":\"boom\",\"startedAt\":\"2026-01-02T03:04:06Z\",\"finishedAt\":\"2026-01-02T03:04:07Z\","
    "\"containerID\":\"cid\"}},\"lastState\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\",\"message\":\"m\"}}}],"
    "\"initContainerStatuses\":[{\"name\":\"side\",\"restartCount\":1,\"state\":{\"running\":{\"startedAt\":"
    "\"2026-01-02T03:04:06Z\"}},\"image\":\"x\"}]}}";

/* The text walker's view of text (NULL when it refuses it). */
static json_t *project_text(const char *text, const char *resource, const char *kind, const char *api_version,
                            view_meta_t *m)
{
    jscan_t s;
    jscan_init(&s, text, strlen(text));
    sbuf_t out = { 0 };
    view_meta_t local;
    const char *why = NULL;
    int rc = view_project_text(resource, &s, kind, api_version, &out, m ? m : &local, &why);
    json_t *o = rc == 1 ? json_loadb(out.s, out.len, JSON_REJECT_DUPLICATES, NULL) : NULL;
    if (rc == 1) assert_non_null(o);   /* the text walker writes JSON */
    free(out.s);
    return o;
}

/* Both walkers, which must agree: the tree's view is returned. */
static json_t *project(const char *text, const char *resource)
{
    json_error_t e;
    json_t *o = json_loads(text, 0, &e);
    assert_non_null(o);
    view_project(resource, o);
    json_t *t = project_text(text, resource, NULL, NULL, NULL);
    if (view_version(resource)) {
        assert_non_null(t);
        char *a = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS), *b = json_dumps(t, JSON_COMPACT | JSON_SORT_KEYS);
        assert_string_equal(a, b);
        free(a);
        free(b);
    } else {
        assert_null(t);   /* no view: the text walker refuses */
    }
    json_decref(t);
    return o;
}

static void assert_path_str(const json_t *o, const char *path, const char *want)
{
    const char *got = kobj_str(o, path);
    if (!want) { assert_null(kobj_get(o, path)); return; }
    assert_non_null(got);
    assert_string_equal(got, want);
}

static void test_versions(void **state)
{
    (void)state;
    assert_int_equal(view_version("pods"), VIEW_POD_VERSION);
    assert_int_equal(view_version("replicasets"), 0);
    assert_int_equal(view_version(NULL), 0);
    json_t *o = json_string("x");
    assert_int_equal(view_project("pods", o), 0);   /* not an object: no view claimed */
    json_decref(o);
}

static void test_pod_metadata(void **state)
{
    (void)state;
    json_t *p = project(full_pod, "pods");
    assert_path_str(p, "apiVersion", "v1");
    assert_path_str(p, "kind", "Pod");
    assert_string_equal(kobj_name(p), "web-0");
    assert_string_equal(kobj_generate_name(p), "web-");
    assert_string_equal(kobj_namespace(p), "ns");
    assert_string_equal(kobj_uid(p), "u1");
    assert_string_equal(kobj_resource_version(p), "7");
    assert_int_equal(kobj_generation(p), 2);
    assert_int_equal(kobj_creation_time(p), 1767323045);
    assert_true(kobj_being_deleted(p));
    assert_int_equal(kobj_int(p, "metadata.deletionGracePeriodSeconds", -1), 30);
    assert_string_equal(kobj_label(p, "app"), "web");
    assert_string_equal(kobj_controller_uid(p), "o1");
    assert_int_equal(json_array_size(kobj_get(p, "metadata.finalizers")), 1);
    assert_null(kobj_get(p, "metadata.selfLink"));
    assert_null(kobj_get(p, "metadata.managedFields"));
    json_decref(p);
}

static void test_pod_annotations(void **state)
{
    (void)state;
    json_t *p = project(full_pod, "pods");
    int32_t cost = 0;
    assert_int_equal(kpod_deletion_cost(p, &cost), 0);
    assert_int_equal(cost, 5);
    assert_string_equal(kobj_annotation(p, "batch.kubernetes.io/job-completion-index"), "3");
    assert_string_equal(kobj_annotation(p, "example.k8s.io/x"), "y");
    assert_null(kobj_annotation(p, "kubectl.kubernetes.io/last-applied-configuration"));
    assert_null(kobj_annotation(p, "user.example.com/pad"));
    assert_null(kobj_annotation(p, "notkubernetes.io/z"));   /* a suffix, not a subdomain */
    assert_null(kobj_annotation(p, "plain"));
    assert_int_equal(json_object_size(kobj_annotations(p)), 3);
    json_decref(p);

    /* Nothing left: no empty annotations object. */
    p = project("{\"metadata\":{\"name\":\"a\",\"annotations\":{\"x.example/y\":\"1\"}}}", "pods");
    assert_null(kobj_annotations(p));
    json_decref(p);
}

static void test_pod_spec(void **state)
{
    (void)state;
    json_t *p = project(full_pod, "pods");
    assert_string_equal(kpod_node_name(p), "n1");
    assert_path_str(p, "spec.hostname", "web-0");
    assert_path_str(p, "spec.subdomain", "web");
    assert_path_str(p, "spec.restartPolicy", "Never");
    assert_null(kobj_get(p, "spec.schedulerName"));
    assert_null(kobj_get(p, "spec.tolerations"));
    assert_non_null(kobj_get(p, "spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution"));
    assert_null(kobj_get(p, "spec.affinity.podAntiAffinity"));
    json_t *vols = kobj_get(p, "spec.volumes");
    assert_int_equal(json_array_size(vols), 1);
    json_t *v0 = json_array_get(vols, 0);
    assert_int_equal(json_object_size(v0), 2);
    assert_path_str(v0, "persistentVolumeClaim.claimName", "data-web-0");
    json_t *c0 = json_array_get(kobj_get(p, "spec.containers"), 0);
    assert_int_equal(json_object_size(c0), 1);
    assert_path_str(c0, "name", "c");
    json_t *i0 = json_array_get(kobj_get(p, "spec.initContainers"), 0);
    assert_int_equal(json_object_size(i0), 2);
    assert_path_str(i0, "restartPolicy", "Always");
    json_decref(p);
}

static void test_pod_status(void **state)
{
    (void)state;
    json_t *p = project(full_pod, "pods");
    assert_string_equal(kpod_phase(p), "Failed");
    assert_path_str(p, "status.reason", "Evicted");
    assert_path_str(p, "status.startTime", "2026-01-02T03:04:06Z");
    assert_null(kobj_get(p, "status.message"));
    assert_null(kobj_get(p, "status.podIP"));
    assert_null(kobj_get(p, "status.qosClass"));
    json_t *c = json_array_get(kobj_get(p, "status.conditions"), 0);
    assert_int_equal(json_object_size(c), 4);
    assert_path_str(c, "reason", "PodFailed");
    assert_false(kpod_is_ready(p));
    assert_int_equal(kpod_max_restarts(p), 4);
    json_t *cs = json_array_get(kobj_get(p, "status.containerStatuses"), 0);
    assert_null(json_object_get(cs, "image"));
    assert_null(json_object_get(cs, "containerID"));
    assert_int_equal(kobj_int(cs, "state.terminated.exitCode", -1), 42);
    assert_path_str(cs, "state.terminated.reason", "Error");
    assert_path_str(cs, "state.terminated.finishedAt", "2026-01-02T03:04:07Z");
    assert_null(kobj_get(cs, "state.terminated.message"));
    assert_null(kobj_get(cs, "state.terminated.containerID"));
    assert_path_str(cs, "lastState.waiting.reason", "CrashLoopBackOff");
    assert_null(kobj_get(cs, "lastState.waiting.message"));
    json_t *ic = json_array_get(kobj_get(p, "status.initContainerStatuses"), 0);
    assert_path_str(ic, "state.running.startedAt", "2026-01-02T03:04:06Z");
    assert_int_equal(kobj_int(ic, "restartCount", -1), 1);
    assert_null(json_object_get(ic, "image"));
    json_decref(p);
}

/* Projecting a view again changes nothing: the informer may see its own
 * output (relists compare resourceVersions, but the rule must hold). */
static void test_idempotent_and_small(void **state)
{
    (void)state;
    json_t *p = project(full_pod, "pods");
    char *once = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
    view_project("pods", p);
    char *twice = json_dumps(p, JSON_COMPACT | JSON_SORT_KEYS);
    assert_string_equal(once, twice);
    assert_true(strlen(once) < strlen(full_pod));
    free(once);
    free(twice);
    json_decref(p);
}

/* Missing parts stay missing, ill-typed parts are dropped, never a crash. */
static void test_missing_and_ill_typed(void **state)
{
    (void)state;
    json_t *p = project("{\"metadata\":{\"name\":\"a\"}}", "pods");
    assert_null(kobj_get(p, "spec"));
    assert_null(kobj_get(p, "status"));
    json_decref(p);

    p = project("{\"metadata\":{\"name\":\"a\",\"annotations\":[1],\"labels\":{\"x\":\"y\"}},"
                "\"spec\":[1,2],\"status\":\"Running\",\"extra\":{}}", "pods");
    assert_null(kobj_annotations(p));
    assert_string_equal(kobj_label(p, "x"), "y");
    assert_null(kobj_get(p, "spec"));
    assert_null(kobj_get(p, "status"));
    assert_null(kobj_get(p, "extra"));
    json_decref(p);

    p = project("{\"metadata\":{\"name\":\"a\"},\"spec\":{\"affinity\":\"x\",\"volumes\":{\"a\":1},"
                "\"containers\":\"c\",\"initContainers\":[\"s\",{\"name\":\"i\",\"image\":\"x\"}]},"
                "\"status\":{\"conditions\":{\"type\":\"Ready\"},\"containerStatuses\":[{\"name\":\"c\","
                "\"state\":\"bad\",\"lastState\":{\"terminated\":7}}]}}", "pods");
    assert_null(kobj_get(p, "spec.affinity"));
    assert_null(kobj_get(p, "spec.volumes"));
    assert_null(kobj_get(p, "spec.containers"));
    json_t *inits = kobj_get(p, "spec.initContainers");
    assert_int_equal(json_array_size(inits), 2);
    assert_int_equal(json_object_size(json_array_get(inits, 1)), 1);
    assert_null(kobj_get(p, "status.conditions"));
    json_t *cs = json_array_get(kobj_get(p, "status.containerStatuses"), 0);
    assert_null(json_object_get(cs, "state"));
    assert_null(kobj_get(cs, "lastState.terminated"));   /* not an object: dropped */
    assert_false(kpod_is_ready(p));
    json_decref(p);
}

/* Other resources travel whole. */
static void test_other_resources_untouched(void **state)
{
    (void)state;
    const char *rs = "{\"metadata\":{\"name\":\"rs\",\"annotations\":{\"user/x\":\"1\"}},"
                     "\"spec\":{\"template\":{\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}}}";
    json_t *o = project(rs, "replicasets");
    json_t *want = json_loads(rs, 0, NULL);
    assert_true(json_equal(o, want));
    json_decref(o);
    json_decref(want);
}

/* The text walker: where the keys are, type meta for list items, values
 * copied as written, and what it refuses. */
static void test_text_captures(void **state)
{
    (void)state;
    view_meta_t m;
    json_t *p = project_text(full_pod, "pods", "Pod", "v1", &m);
    assert_non_null(p);
    char buf[64];
    assert_string_equal(view_span_string(&m.cap[VIEW_CAP_NAME], buf, sizeof buf), "web-0");
    assert_string_equal(view_span_string(&m.cap[VIEW_CAP_NAMESPACE], buf, sizeof buf), "ns");
    assert_string_equal(view_span_string(&m.cap[VIEW_CAP_UID], buf, sizeof buf), "u1");
    assert_string_equal(view_span_string(&m.cap[VIEW_CAP_RV], buf, sizeof buf), "7");
    assert_int_equal(m.cap[VIEW_CAP_OWNERS].p[0], '[');
    assert_null(view_span_string(&m.cap[VIEW_CAP_OWNERS], buf, sizeof buf));   /* not a string */
    assert_null(view_span_string(&m.cap[VIEW_CAP_NAME], buf, 3));              /* does not fit */
    json_decref(p);
}

static void test_text_type_meta_and_escapes(void **state)
{
    (void)state;
    view_meta_t m;
    json_t *p = project_text("{\"metadata\":{\"name\":\"a\\u00e9\\n\",\"labels\":{\"k\":\"<\\u003c>\"}},\"kind\":7}",
                             "pods", "Pod", "v1", &m);
    assert_non_null(p);
    assert_string_equal(kobj_str(p, "kind"), "Pod");         /* ill-typed: replaced */
    assert_string_equal(kobj_str(p, "apiVersion"), "v1");    /* absent: added */
    assert_string_equal(kobj_name(p), "a\xc3\xa9\n");
    assert_string_equal(kobj_label(p, "k"), "<<>");
    char buf[16];
    assert_string_equal(view_span_string(&m.cap[VIEW_CAP_NAME], buf, sizeof buf), "a\xc3\xa9\n");
    json_decref(p);
    p = project_text("{\"kind\":\"Pod\",\"apiVersion\":\"v1\"}", "pods", "X", "y", NULL);
    assert_string_equal(kobj_str(p, "kind"), "Pod");         /* present: kept */
    assert_int_equal(json_object_size(p), 2);
    json_decref(p);
}

static int text_rc(const char *text, const char **err)
{
    jscan_t s;
    jscan_init(&s, text, strlen(text));
    sbuf_t out = { 0 };
    view_meta_t m;
    const char *why = NULL;
    int rc = view_project_text("pods", &s, NULL, NULL, &out, &m, &why);
    free(out.s);
    if (err) *err = rc < 0 ? s.error : why;
    return rc;
}

static void test_text_refusals(void **state)
{
    (void)state;
    const char *err = NULL;
    assert_int_equal(text_rc("[1,2]", &err), 0);                     /* not an object: skipped */
    assert_string_equal(err, "object is not a JSON object");
    assert_int_equal(text_rc("{\"metadata\":{\"name\":\"a\",\"name\":\"b\"}}", &err), -1);   /* kept twice */
    assert_string_equal(err, "duplicate object key");
    assert_int_equal(text_rc("{\"metadata\":{\"labels\":{\"a\":\"1\",\"a\":\"2\"}}}", &err), -1);
    assert_int_equal(text_rc("{\"spec\":{\"volumes\":[{\"name\":\"a\",\"name\":\"b\"}]}}", &err), -1);
    assert_int_equal(text_rc("{\"spec\":{\"schedulerName\":1,\"schedulerName\":2}}", &err), 1);   /* dropped */
    assert_int_equal(text_rc("{\"metadata\":{\"name\":\"a\"", &err), -1);
    assert_int_equal(text_rc("{\"spec\":{\"image\":tru}}", &err), -1);      /* dropped parts are checked too */
    assert_int_equal(text_rc("{\"status\":{\"phase\":\"\xff\"}}", &err), -1);
    assert_int_equal(text_rc("{\"metadata\":{\"generation\":99999999999999999999}}", &err), -1);
    assert_string_equal(err, "integer out of range");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_versions),
        cmocka_unit_test(test_pod_metadata),
        cmocka_unit_test(test_pod_annotations),
        cmocka_unit_test(test_pod_spec),
        cmocka_unit_test(test_pod_status),
        cmocka_unit_test(test_idempotent_and_small),
        cmocka_unit_test(test_missing_and_ill_typed),
        cmocka_unit_test(test_other_resources_untouched),
        cmocka_unit_test(test_text_captures),
        cmocka_unit_test(test_text_type_meta_and_escapes),
        cmocka_unit_test(test_text_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
