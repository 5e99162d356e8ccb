/* Unit tests for the StatefulSet controller's pure decisions: ordinals,
 * revision hashing (checked against the name upstream gives the tutorial's
 * template), the pod and claim builders, the plan (OrderedReady, Parallel,
 * claims first, condemned order, rolling update with partition and
 * maxUnavailable, failed pods) and the retention-policy ownerReferences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/kobj.h"
#include "sts_plan.h"
#include "sts_pod.h"
#include "sts_pvc.h"
#include "sts_revision.h"
#include "sts_spec.h"

/* The tutorial's mysts.yaml as the API server returns it (defaults applied). */
static const char *MYSTS =
    "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"mysts\",\"namespace\":\"ns\","
    "\"uid\":\"set-uid\",\"generation\":1},\"spec\":{\"replicas\":3,\"serviceName\":\"mysts\","
    "\"podManagementPolicy\":\"%s\",\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":"
    "{\"partition\":%d,\"maxUnavailable\":%d}},\"selector\":{\"matchLabels\":{\"run\":\"nginx\"}},"
    "\"persistentVolumeClaimRetentionPolicy\":{\"whenDeleted\":\"%s\",\"whenScaled\":\"%s\"},"
    "\"template\":{\"metadata\":{\"labels\":{\"run\":\"nginx\"}},\"spec\":{\"containers\":[{\"image\":\"nginx\","
    "\"imagePullPolicy\":\"Always\",\"name\":\"nginx\",\"resources\":{},\"terminationMessagePath\":"
    "\"/dev/termination-log\",\"terminationMessagePolicy\":\"File\",\"volumeMounts\":[{\"mountPath\":"
    "\"/usr/share/nginx/html\",\"name\":\"vol\"}]}],\"dnsPolicy\":\"ClusterFirst\",\"restartPolicy\":\"Always\","
    "\"schedulerName\":\"default-scheduler\",\"securityContext\":{},\"terminationGracePeriodSeconds\":30}},"
    "\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"vol\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],"
    "\"resources\":{\"requests\":{\"storage\":\"1Gi\"}}},\"status\":{\"phase\":\"Pending\"}}]}}";

static json_t *mysts(const char *policy, int partition, int max_unavail, const char *wd, const char *ws)
{
    char buf[4096];
    snprintf(buf, sizeof buf, MYSTS, policy, partition, max_unavail, wd, ws);
    json_t *o = json_loads(buf, 0, NULL);
    assert_non_null(o);
    return o;
}

static json_t *pod(const char *name, const char *rev, const char *phase, bool ready)
{
    return json_pack("{s:{s:s, s:s, s:s, s:{s:s, s:s, s:s}}, s:{s:s, s:[{s:s, s:s, s:s}]}}", "metadata", "name", name,
                     "namespace", "ns", "uid", name, "labels", "run", "nginx", "controller-revision-hash", rev,
                     "statefulset.kubernetes.io/pod-name", name, "status", "phase", phase, "conditions", "type",
                     "Ready", "status", ready ? "True" : "False", "lastTransitionTime", "2023-11-14T00:00:00Z");
}

static void test_ordinals(void **state)
{
    (void)state;
    char parent[64];
    assert_int_equal(sts_name_ordinal("web-0", parent, sizeof parent), 0);
    assert_string_equal(parent, "web");
    assert_int_equal(sts_name_ordinal("my-sts-12", parent, sizeof parent), 12);
    assert_string_equal(parent, "my-sts");
    assert_int_equal(sts_name_ordinal("web-x", NULL, 0), -1);
    assert_int_equal(sts_name_ordinal("web-", NULL, 0), -1);
    assert_int_equal(sts_name_ordinal("web", NULL, 0), -1);
    assert_int_equal(sts_name_ordinal("web-99999999999", NULL, 0), -1);   /* not an int32 */
    assert_int_equal(sts_name_ordinal(NULL, NULL, 0), -1);
    json_t *p = pod("mysts-2", "r", "Running", true);
    assert_int_equal(sts_member_ordinal(p, "mysts"), 2);
    assert_int_equal(sts_member_ordinal(p, "my"), -1);
    json_decref(p);
}

static void test_revision_hash_matches_upstream(void **state)
{
    (void)state;
    json_t *s = mysts("OrderedReady", 0, 1, "Retain", "Retain");
    json_t *data = sts_revision_data(s);
    char hash[STS_HASH_MAX], name[300];
    assert_int_equal(sts_revision_hash(data, 0, hash, sizeof hash), 0);
    assert_int_equal(sts_revision_name(name, sizeof name, "mysts", hash), 16);
    assert_string_equal(name, "mysts-7f47fc4df7");   /* what kube-controller-manager v1.36 names it */
    char h1[STS_HASH_MAX];
    assert_int_equal(sts_revision_hash(data, 1, h1, sizeof h1), 0);
    assert_string_not_equal(h1, hash);
    json_t *rev = sts_revision_new(s, data, name, hash, 3);
    assert_string_equal(kobj_label(rev, STS_REVISION_HASH_LABEL), "7f47fc4df7");
    assert_string_equal(kobj_label(rev, "run"), "nginx");
    assert_int_equal(kobj_int(rev, "revision", 0), 3);
    assert_string_equal(kobj_controller_uid(rev), "set-uid");
    assert_true(json_equal(sts_revision_template(rev), json_object_get(json_object_get(data, "spec"), "template")));
    json_decref(rev);
    json_decref(data);
    json_decref(s);
}

static void test_go_json_escapes(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:s, s:i}", "b", "<a&b>", "a", 1);
    char *s = sts_go_json(v);
    assert_string_equal(s, "{\"a\":1,\"b\":\"\\u003ca\\u0026b\\u003e\"}");
    free(s);
    json_decref(v);
}

static void test_revision_sort(void **state)
{
    (void)state;
    json_t *a = json_pack("{s:{s:s}, s:i}", "metadata", "name", "a", "revision", 3);
    json_t *b = json_pack("{s:{s:s}, s:i}", "metadata", "name", "b", "revision", 1);
    json_t *c = json_pack("{s:{s:s}, s:i}", "metadata", "name", "c", "revision", 2);
    const json_t *v[] = { a, b, c };
    sts_revisions_sort(v, 3);
    assert_ptr_equal(v[0], b);
    assert_ptr_equal(v[1], c);
    assert_ptr_equal(v[2], a);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

static void test_pod_and_claim_builders(void **state)
{
    (void)state;
    json_t *s = mysts("OrderedReady", 0, 1, "Retain", "Retain");
    json_t *p = sts_pod_new(s, kobj_get(s, "spec.template"), "mysts", 1, "mysts-abc");
    assert_string_equal(kobj_name(p), "mysts-1");
    assert_string_equal(kobj_namespace(p), "ns");
    assert_null(kobj_generate_name(p)[0] ? "x" : NULL);
    assert_string_equal(kobj_str(p, "spec.hostname"), "mysts-1");
    assert_string_equal(kobj_str(p, "spec.subdomain"), "mysts");
    assert_string_equal(kobj_label(p, STS_LABEL_POD_NAME), "mysts-1");
    assert_string_equal(kobj_label(p, STS_LABEL_POD_INDEX), "1");
    assert_string_equal(kobj_label(p, STS_LABEL_REVISION), "mysts-abc");
    assert_string_equal(kobj_label(p, "run"), "nginx");
    assert_string_equal(kobj_controller_uid(p), "set-uid");
    json_t *vol = json_array_get(kobj_get(p, "spec.volumes"), 0);
    assert_string_equal(json_string_value(json_object_get(vol, "name")), "vol");
    assert_string_equal(kobj_str(vol, "persistentVolumeClaim.claimName"), "vol-mysts-1");
    assert_true(sts_pod_identity_ok(p));
    json_decref(p);

    json_t *c = sts_claim_new(s, json_array_get(kobj_get(s, "spec.volumeClaimTemplates"), 0), 2);
    assert_string_equal(kobj_name(c), "vol-mysts-2");
    assert_string_equal(kobj_namespace(c), "ns");
    assert_string_equal(kobj_label(c, "run"), "nginx");
    assert_null(json_object_get(c, "status"));
    assert_string_equal(kobj_str(c, "spec.resources.requests.storage"), "1Gi");
    json_decref(c);
    json_decref(s);
}

/* ---- plans ------------------------------------------------------------------ */

typedef struct {
    json_t *sts;
    sts_spec_t spec;
    json_t *pods[8];
    size_t n;
    json_t *claims;   /* name -> claim */
    sts_plan_t plan;
} pf_t;

static const json_t *claim_get(void *ud, const char *name)
{
    pf_t *f = ud;
    return json_object_get(f->claims, name);
}

static void pf_init(pf_t *f, const char *policy, int partition, int max_unavail, int replicas)
{
    memset(f, 0, sizeof *f);
    f->sts = mysts(policy, partition, max_unavail, "Retain", "Retain");
    json_object_set_new(json_object_get(f->sts, "spec"), "replicas", json_integer(replicas));
    char err[128];
    assert_int_equal(sts_spec_read(f->sts, &f->spec, err, sizeof err), 0);
    f->claims = json_object();
}

static void pf_claims(pf_t *f, int n)
{
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "vol-mysts-%d", i);
        json_object_set_new(f->claims, name, json_pack("{s:{s:s, s:s}}", "metadata", "name", name, "uid", name));
    }
}

static void pf_pod(pf_t *f, int ord, const char *rev, const char *phase, bool ready)
{
    char name[32];
    snprintf(name, sizeof name, "mysts-%d", ord);
    f->pods[f->n++] = pod(name, rev, phase, ready);
}

static void pf_run(pf_t *f, const char *cur, const char *upd)
{
    sts_plan_in_t in = { .sts = f->sts, .spec = &f->spec, .current_rev = cur, .update_rev = upd,
                         .pods = (const json_t *const *)f->pods, .n_pods = f->n, .claim_get = claim_get,
                         .claim_ud = f, .now = 1700000000 };
    assert_int_equal(sts_plan_make(&in, &f->plan), 0);
}

static void pf_free(pf_t *f)
{
    sts_plan_free(&f->plan);
    for (size_t i = 0; i < f->n; i++) json_decref(f->pods[i]);
    json_decref(f->claims);
    json_decref(f->sts);
    sts_spec_free(&f->spec);
}

/* "kind:ordinal" of every step, space separated. */
static const char *steps(const pf_t *f)
{
    static char buf[256];
    static const char *const k[] = { "", "claim", "pod", "delete", "identity", "refs", "claimdel" };
    buf[0] = '\0';
    for (size_t i = 0; i < f->plan.n; i++) {
        size_t len = strlen(buf);
        snprintf(buf + len, sizeof buf - len, "%s%s:%d", i ? " " : "", k[f->plan.steps[i].kind],
                 f->plan.steps[i].ordinal);
    }
    return buf;
}

static void test_ordered_claims_then_pod_then_wait(void **state)
{
    (void)state;
    pf_t f;
    pf_init(&f, "OrderedReady", 0, 1, 3);
    pf_run(&f, "r1", "r1");
    assert_string_equal(steps(&f), "claim:0");            /* the claim comes first, alone */
    pf_free(&f);

    pf_init(&f, "OrderedReady", 0, 1, 3);
    pf_claims(&f, 3);
    pf_run(&f, "r1", "r1");
    assert_string_equal(steps(&f), "pod:0");
    pf_free(&f);

    pf_init(&f, "OrderedReady", 0, 1, 3);
    pf_claims(&f, 3);
    pf_pod(&f, 0, "r1", "Running", false);
    pf_run(&f, "r1", "r1");
    assert_string_equal(steps(&f), "");                   /* waits for mysts-0 to be ready */
    assert_int_equal(f.plan.replicas, 1);
    assert_int_equal(f.plan.ready, 0);
    pf_free(&f);

    pf_init(&f, "OrderedReady", 0, 1, 3);
    pf_claims(&f, 3);
    pf_pod(&f, 0, "r1", "Running", true);
    pf_run(&f, "r1", "r1");
    assert_string_equal(steps(&f), "pod:1");
    assert_int_equal(f.plan.ready, 1);
    assert_int_equal(f.plan.available, 1);
    assert_int_equal(f.plan.current, 1);
    assert_int_equal(f.plan.updated, 1);
    pf_free(&f);
}

static void test_parallel_creates_all(void **state)
{
    (void)state;
    pf_t f;
    pf_init(&f, "Parallel", 0, 1, 3);
    pf_claims(&f, 3);
    pf_pod(&f, 1, "r1", "Pending", false);
    pf_run(&f, "r1", "r1");
    assert_string_equal(steps(&f), "pod:0 pod:2");
    pf_free(&f);
}

static void test_failed_pod_is_deleted(void **state)
{
    (void)state;
    pf_t f;
    pf_init(&f, "OrderedReady", 0, 1, 3);
    pf_claims(&f, 3);
    pf_pod(&f, 0, "r1", "Failed", false);
    pf_run(&f, "r1", "r1");
    assert_string_equal(steps(&f), "delete:0");
    pf_free(&f);
}

static void test_scale_down_order(void **state)
{
    (void)state;
    pf_t f;
    pf_init(&f, "OrderedReady", 0, 1, 1);
    pf_claims(&f, 3);
    pf_pod(&f, 0, "r1", "Running", true);
    pf_pod(&f, 2, "r1", "Running", true);
    pf_pod(&f, 1, "r1", "Running", true);
    pf_run(&f, "r1", "r1");
    assert_string_equal(steps(&f), "delete:2");           /* highest first, one at a time */
    pf_free(&f);

    pf_init(&f, "OrderedReady", 0, 1, 1);
    pf_pod(&f, 0, "r1", "Running", true);
    pf_pod(&f, 1, "r1", "Running", true);
    pf_pod(&f, 2, "r1", "Running", true);
    json_object_set_new(json_object_get(f.pods[2], "metadata"), "deletionTimestamp",
                        json_string("2023-11-14T00:00:00Z"));
    pf_run(&f, "r1", "r1");
    assert_string_equal(steps(&f), "");                   /* waits for mysts-2 to be gone */
    pf_free(&f);

    pf_init(&f, "Parallel", 0, 1, 1);
    pf_pod(&f, 0, "r1", "Running", true);
    pf_pod(&f, 1, "r1", "Pending", false);
    pf_pod(&f, 2, "r1", "Running", true);
    pf_run(&f, "r1", "r1");
    assert_string_equal(steps(&f), "delete:2 delete:1");
    pf_free(&f);
}

static void test_rolling_update(void **state)
{
    (void)state;
    pf_t f;
    pf_init(&f, "OrderedReady", 0, 1, 3);
    for (int i = 0; i < 3; i++) pf_pod(&f, i, "old", "Running", true);
    pf_run(&f, "old", "new");
    assert_string_equal(steps(&f), "delete:2");
    assert_true(f.plan.steps[0].for_update);
    assert_int_equal(f.plan.current, 2);                  /* upstream decrements on the delete */
    pf_free(&f);

    pf_init(&f, "OrderedReady", 2, 1, 3);                 /* partition 2: web-2 updated, stop */
    pf_pod(&f, 0, "old", "Running", true);
    pf_pod(&f, 1, "old", "Running", true);
    pf_pod(&f, 2, "new", "Running", true);
    pf_run(&f, "old", "new");
    assert_string_equal(steps(&f), "");
    assert_int_equal(f.plan.updated, 1);
    pf_free(&f);

    pf_init(&f, "OrderedReady", 0, 2, 3);                 /* maxUnavailable 2 */
    for (int i = 0; i < 3; i++) pf_pod(&f, i, "old", "Running", true);
    pf_run(&f, "old", "new");
    assert_string_equal(steps(&f), "delete:2 delete:1");
    pf_free(&f);

    pf_init(&f, "Parallel", 0, 1, 3);                      /* one unavailable already: wait */
    pf_pod(&f, 0, "old", "Running", true);
    pf_pod(&f, 1, "old", "Running", true);
    pf_pod(&f, 2, "new", "Running", false);
    pf_run(&f, "old", "new");
    assert_string_equal(steps(&f), "");
    pf_free(&f);
}

static void test_new_pod_revision_below_partition(void **state)
{
    (void)state;
    pf_t f;
    pf_init(&f, "Parallel", 2, 1, 3);
    pf_claims(&f, 3);
    pf_run(&f, "old", "new");
    assert_string_equal(steps(&f), "pod:0 pod:1 pod:2");
    assert_true(f.plan.steps[0].use_current);
    assert_true(f.plan.steps[1].use_current);
    assert_false(f.plan.steps[2].use_current);
    pf_free(&f);
}

static void test_retention_refs(void **state)
{
    (void)state;
    json_t *s = mysts("OrderedReady", 0, 1, "Delete", "Delete");
    sts_spec_t spec;
    char err[128];
    assert_int_equal(sts_spec_read(s, &spec, err, sizeof err), 0);
    json_t *p = pod("mysts-1", "r", "Running", true);
    json_t *claim = json_pack("{s:{s:s}}", "metadata", "name", "vol-mysts-1");
    assert_false(sts_claim_refs_ok(claim, s, &spec, p, true));
    json_t *refs = sts_claim_refs_wanted(claim, s, &spec, p, true);
    assert_int_equal(json_array_size(refs), 1);
    assert_string_equal(kobj_str(json_array_get(refs, 0), "uid"), "set-uid");
    json_object_set_new(json_object_get(claim, "metadata"), "ownerReferences", refs);
    assert_true(sts_claim_refs_ok(claim, s, &spec, p, true));
    /* scaled down: the pod owns it instead */
    assert_false(sts_claim_refs_ok(claim, s, &spec, p, false));
    refs = sts_claim_refs_wanted(claim, s, &spec, p, false);
    assert_int_equal(json_array_size(refs), 1);
    assert_string_equal(kobj_str(json_array_get(refs, 0), "kind"), "Pod");
    assert_string_equal(kobj_str(json_array_get(refs, 0), "uid"), "mysts-1");
    json_decref(refs);
    /* another controller: hands off */
    json_object_set_new(json_object_get(claim, "metadata"), "ownerReferences",
                        json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion", "v1", "kind", "Thing", "name", "x",
                                  "uid", "other", "controller", 1));
    assert_true(sts_claim_refs_ok(claim, s, &spec, p, true));
    json_decref(claim);
    json_decref(p);
    sts_spec_free(&spec);
    json_decref(s);
}

static void test_start_ordinal(void **state)
{
    (void)state;
    pf_t f;
    pf_init(&f, "OrderedReady", 0, 1, 2);
    json_object_set_new(json_object_get(f.sts, "spec"), "ordinals", json_pack("{s:i}", "start", 5));
    sts_spec_free(&f.spec);
    char err[128];
    assert_int_equal(sts_spec_read(f.sts, &f.spec, err, sizeof err), 0);
    pf_run(&f, "r1", "r1");
    assert_string_equal(steps(&f), "claim:5");
    sts_plan_free(&f.plan);
    json_object_set_new(f.claims, "vol-mysts-5", json_pack("{s:{s:s}}", "metadata", "name", "vol-mysts-5"));
    json_object_set_new(f.claims, "vol-mysts-6", json_pack("{s:{s:s}}", "metadata", "name", "vol-mysts-6"));
    pf_pod(&f, 5, "r1", "Running", true);
    pf_pod(&f, 6, "r1", "Running", true);
    pf_pod(&f, 0, "r1", "Running", true);   /* below the range: condemned */
    pf_run(&f, "r1", "r1");
    assert_string_equal(steps(&f), "delete:0");
    pf_free(&f);
}

static void test_stale_claim_blocks_the_pod(void **state)
{
    (void)state;
    pf_t f;
    memset(&f, 0, sizeof f);
    f.sts = mysts("OrderedReady", 0, 1, "Retain", "Delete");
    char err[128];
    assert_int_equal(sts_spec_read(f.sts, &f.spec, err, sizeof err), 0);
    f.claims = json_object();
    pf_claims(&f, 3);
    json_object_set_new(json_object_get(json_object_get(f.claims, "vol-mysts-0"), "metadata"), "ownerReferences",
                        json_pack("[{s:s, s:s, s:s, s:s, s:b}]", "apiVersion", "v1", "kind", "Pod", "name", "mysts-0",
                                  "uid", "old-pod", "controller", 1));
    pf_run(&f, "r1", "r1");
    assert_string_equal(steps(&f), "");   /* wait for the garbage collector to take the old claim */
    pf_free(&f);
}

static void test_spec_validation(void **state)
{
    (void)state;
    json_t *s = mysts("OrderedReady", 0, 1, "Retain", "Retain");
    sts_spec_t spec;
    char err[128];
    assert_int_equal(sts_spec_read(s, &spec, err, sizeof err), 0);
    assert_int_equal(spec.replicas, 3);
    assert_string_equal(spec.service_name, "mysts");
    assert_int_equal(spec.history_limit, 10);
    assert_int_equal(sts_spec_max_unavailable(&spec), 1);
    sts_spec_free(&spec);
    json_object_set_new(json_object_get(s, "spec"), "selector", json_pack("{s:{s:s}}", "matchLabels", "run", "other"));
    assert_int_equal(sts_spec_read(s, &spec, err, sizeof err), -1);
    json_object_set_new(json_object_get(s, "spec"), "selector", json_object());
    assert_int_equal(sts_spec_read(s, &spec, err, sizeof err), -1);
    json_object_del(json_object_get(s, "spec"), "template");
    assert_int_equal(sts_spec_read(s, &spec, err, sizeof err), -1);
    json_decref(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordinals),
        cmocka_unit_test(test_revision_hash_matches_upstream),
        cmocka_unit_test(test_go_json_escapes),
        cmocka_unit_test(test_revision_sort),
        cmocka_unit_test(test_pod_and_claim_builders),
        cmocka_unit_test(test_ordered_claims_then_pod_then_wait),
        cmocka_unit_test(test_parallel_creates_all),
        cmocka_unit_test(test_failed_pod_is_deleted),
        cmocka_unit_test(test_scale_down_order),
        cmocka_unit_test(test_rolling_update),
        cmocka_unit_test(test_new_pod_revision_below_partition),
        cmocka_unit_test(test_retention_refs),
        cmocka_unit_test(test_start_ordinal),
        cmocka_unit_test(test_stale_claim_blocks_the_pod),
        cmocka_unit_test(test_spec_validation),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
