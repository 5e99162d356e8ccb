/* Unit tests for the StatefulSet sync on the runtime's test mode (no bus):
 * a new set first gets its ControllerRevision and mysts-0's claim, then
 * (once both are observed) the pod, then nothing until the pod is Running
 * and Ready; expectations stop a sync from acting twice on one gap; events
 * carry upstream's messages; scale-down deletes the highest pod with a uid
 * precondition; status is written with the revision names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/kobj.h"
#include "ctrl/runtime.h"
#include "ctrl_fixture.h"
#include "sts_sync.h"

/* The actions the controller sent since the last fx_reset. */
static fx_sent_t sent;

/* The object a create asked for, as the informer would report it. */
static void observe(ctrl_runtime_t *rt, const fx_action_t *s, const char *uid, const char *phase, bool ready)
{
    json_t *o = fx_created(s, uid, "1");
    json_object_set_new(json_object_get(o, "metadata"), "creationTimestamp", json_string("2023-11-14T00:00:00Z"));
    if (phase)
        json_object_set_new(o, "status", json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "phase", phase, "conditions", "type",
                                                   "Ready", "status", ready ? "True" : "False", "lastTransitionTime",
                                                   "2023-11-14T00:00:00Z"));
    ctrl_test_apply(rt, s->resource, &o, false);
}

static void put_sts(ctrl_runtime_t *rt, int replicas, const char *rv, const char *status)
{
    char buf[2048];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"StatefulSet\",\"metadata\":{\"name\":\"mysts\",\"namespace\":\"ns\","
             "\"uid\":\"set-uid\",\"generation\":1,\"resourceVersion\":\"%s\"},\"spec\":{\"replicas\":%d,"
             "\"serviceName\":\"mysts\",\"selector\":{\"matchLabels\":{\"run\":\"nginx\"}},"
             "\"updateStrategy\":{\"type\":\"RollingUpdate\",\"rollingUpdate\":{\"partition\":0}},"
             "\"template\":{\"metadata\":{\"labels\":{\"run\":\"nginx\"}},\"spec\":{\"containers\":[{\"name\":\"nginx\","
             "\"image\":\"nginx\"}]}},\"volumeClaimTemplates\":[{\"metadata\":{\"name\":\"vol\"},\"spec\":"
             "{\"accessModes\":[\"ReadWriteOnce\"]}}]},\"status\":%s}",
             rv, replicas, status ? status : "{}");
    json_t *o = json_loads(buf, 0, NULL);
    assert_non_null(o);
    ctrl_test_apply(rt, "statefulsets", &o, false);
}

typedef struct {
    ctrl_runtime_t *rt;
    sts_ctrl_t *sc;
} fx_t;

static int setup(void **state)
{
    static fx_t fx;
    static const char *const res[] = { "statefulsets", "pods", "persistentvolumeclaims", "controllerrevisions", NULL };
    fx.sc = sts_ctrl_new();
    ctrl_config_t cfg = { .controller = "statefulset", .resources = res, .primary = "statefulsets",
                          .sync = sts_sync, .ud = fx.sc, .concurrent_syncs = 5 };
    fx.rt = fx_runtime_new(&cfg, &sent);
    assert_int_equal(sts_ctrl_attach(fx.sc, fx.rt), 0);
    fx_runtime_ready(fx.rt, &sent, 1700000000000ull);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    fx_runtime_destroy(&fx->rt, &sent);
    sts_ctrl_destroy(&fx->sc);
    return 0;
}

static void test_revision_and_claim_before_pod(void **state)
{
    fx_t *fx = *state;
    put_sts(fx->rt, 2, "1", NULL);
    assert_int_equal(ctrl_test_step(fx->rt), 1);
    const fx_action_t *rev = fx_find(&sent, KUBUS__V1__VERB__CREATE, "controllerrevisions");
    const fx_action_t *claim = fx_find(&sent, KUBUS__V1__VERB__CREATE, "persistentvolumeclaims");
    const fx_action_t *st = fx_find(&sent, KUBUS__V1__VERB__UPDATE_STATUS, "statefulsets");
    assert_int_equal(strncmp(rev->name, "mysts-", 6), 0);
    assert_int_equal(kobj_int(rev->body, "revision", 0), 1);
    assert_string_equal(claim->name, "vol-mysts-0");
    assert_string_equal(kobj_str(st->body, "status.updateRevision"), rev->name);
    assert_string_equal(kobj_str(st->body, "status.currentRevision"), rev->name);
    assert_int_equal(kobj_int(st->body, "status.observedGeneration", 0), 1);
    assert_int_equal(kobj_int(st->body, "status.collisionCount", -1), 0);
    for (int i = 0; i < sent.n; i++) assert_false(strcmp(sent.a[i].resource, "pods") == 0);
    char rev_name[128];
    snprintf(rev_name, sizeof rev_name, "%s", rev->name);

    /* results in, nothing observed yet: a new sync does nothing */
    fx_answer_pending(fx->rt, &sent, 200);
    assert_true(fx_has_event(&sent, "SuccessfulCreate", "Create Claim vol-mysts-0 Pod mysts-0 in StatefulSet mysts success"));
    int before = sent.n;
    ctrl_enqueue(fx->rt, "ns/mysts");
    ctrl_test_step(fx->rt);
    assert_int_equal(sent.n, before);

    /* revision and claim observed: the pod comes, at that revision */
    observe(fx->rt, fx_find(&sent, KUBUS__V1__VERB__CREATE, "controllerrevisions"), "rev-uid", NULL, false);
    observe(fx->rt, fx_find(&sent, KUBUS__V1__VERB__CREATE, "persistentvolumeclaims"), "claim0", NULL, false);
    put_sts(fx->rt, 2, "2", NULL);
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    const fx_action_t *pod = fx_find(&sent, KUBUS__V1__VERB__CREATE, "pods");
    assert_string_equal(pod->name, "mysts-0");
    assert_string_equal(kobj_label(pod->body, "controller-revision-hash"), rev_name);
    assert_string_equal(kobj_str(pod->body, "spec.hostname"), "mysts-0");
    assert_string_equal(kobj_str(pod->body, "spec.subdomain"), "mysts");
    fx_answer_pending(fx->rt, &sent, 200);
    assert_true(fx_has_event(&sent, "SuccessfulCreate", "Create Pod mysts-0 in StatefulSet mysts successful"));

    /* Pending: wait (OrderedReady) */
    observe(fx->rt, fx_find(&sent, KUBUS__V1__VERB__CREATE, "pods"), "pod0", "Pending", false);
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    assert_string_equal(fx_actions_text(&sent), "3:statefulsets/mysts");   /* status only (replicas 1) */
    fx_answer_pending(fx->rt, &sent, 200);
    /* Running and Ready: the next ordinal's claim */
    json_t *p = json_pack("{s:{s:s, s:s, s:s, s:s, s:{s:s, s:s, s:s}, s:[{s:s, s:s, s:s, s:s, s:b}]},"
                          " s:{s:s, s:[{s:s, s:s, s:s}]}}",
                          "metadata", "name", "mysts-0", "namespace", "ns", "uid", "pod0", "resourceVersion", "2",
                          "labels", "run", "nginx", "controller-revision-hash", rev_name,
                          "statefulset.kubernetes.io/pod-name", "mysts-0", "ownerReferences", "apiVersion", "apps/v1",
                          "kind", "StatefulSet", "name", "mysts", "uid", "set-uid", "controller", 1, "status", "phase",
                          "Running", "conditions", "type", "Ready", "status", "True", "lastTransitionTime",
                          "2023-11-14T00:00:00Z");
    ctrl_test_apply(fx->rt, "pods", &p, false);
    ctrl_test_step(fx->rt);
    assert_string_equal(fx_find(&sent, KUBUS__V1__VERB__CREATE, "persistentvolumeclaims")->name, "vol-mysts-1");
}

static json_t *ready_pod(const char *name, const char *uid)
{
    return json_pack("{s:{s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:[{s:s, s:s, s:s, s:s, s:b}]},"
                     " s:{s:s, s:[{s:s, s:s, s:s}]}}",
                     "metadata", "name", name, "namespace", "ns", "uid", uid, "resourceVersion", "1", "labels", "run",
                     "nginx", "statefulset.kubernetes.io/pod-name", name, "ownerReferences", "apiVersion", "apps/v1",
                     "kind", "StatefulSet", "name", "mysts", "uid", "set-uid", "controller", 1, "status", "phase",
                     "Running", "conditions", "type", "Ready", "status", "True", "lastTransitionTime",
                     "2023-11-14T00:00:00Z");
}

static void test_scale_down_highest_first(void **state)
{
    fx_t *fx = *state;
    put_sts(fx->rt, 1, "1", NULL);
    const char *names[] = { "mysts-0", "mysts-1", "mysts-2" }, *uids[] = { "u0", "u1", "u2" };
    for (int i = 0; i < 3; i++) {
        json_t *p = ready_pod(names[i], uids[i]);
        ctrl_test_apply(fx->rt, "pods", &p, false);
    }
    for (int i = 0; i < 3; i++) {
        char cn[32];
        snprintf(cn, sizeof cn, "vol-mysts-%d", i);
        json_t *c = json_pack("{s:{s:s, s:s, s:s, s:s}}", "metadata", "name", cn, "namespace", "ns", "uid", cn,
                              "resourceVersion", "1");
        ctrl_test_apply(fx->rt, "persistentvolumeclaims", &c, false);
    }
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    const fx_action_t *del = fx_find(&sent, KUBUS__V1__VERB__DELETE, "pods");
    assert_string_equal(del->name, "mysts-2");
    assert_string_equal(del->uid_pre, "u2");
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, NULL), 1);
    fx_answer_pending(fx->rt, &sent, 200);
    assert_true(fx_has_event(&sent, "SuccessfulDelete", "Delete Pod mysts-2 in StatefulSet mysts successful"));
    /* the pods' revision labels are absent: every pod counts as neither current nor updated */
    const fx_action_t *st = fx_find(&sent, KUBUS__V1__VERB__UPDATE_STATUS, "statefulsets");
    assert_int_equal(kobj_int(st->body, "status.replicas", -1), 3);
    assert_int_equal(kobj_int(st->body, "status.readyReplicas", -1), 3);
    /* a second sync before the delete is observed does nothing */
    int before = sent.n;
    ctrl_enqueue(fx->rt, "ns/mysts");
    ctrl_test_step(fx->rt);
    assert_int_equal(sent.n, before);
}

static void test_orphan_adopted_after_live_check(void **state)
{
    fx_t *fx = *state;
    put_sts(fx->rt, 1, "1", NULL);
    json_t *p = json_pack("{s:{s:s, s:s, s:s, s:s, s:{s:s}}, s:{s:s}}", "metadata", "name", "mysts-0", "namespace",
                          "ns", "uid", "orphan", "resourceVersion", "1", "labels", "run", "nginx", "status", "phase",
                          "Running");
    ctrl_test_apply(fx->rt, "pods", &p, false);
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    const fx_action_t *get = fx_find(&sent, KUBUS__V1__VERB__GET, "statefulsets");
    for (int i = 0; i < sent.n; i++) assert_false(strcmp(sent.a[i].resource, "pods") == 0);   /* nothing yet */
    json_t *live = json_pack("{s:{s:s, s:s, s:s}}", "metadata", "name", "mysts", "namespace", "ns", "uid", "set-uid");
    char *txt = json_dumps(live, JSON_COMPACT);
    msg_result_t r;
    kubus__v1__action_result__init(&r);
    r.id = get->id;
    r.status = 200;
    r.verb = KUBUS__V1__VERB__GET;
    r.object.data = (uint8_t *)txt;
    r.object.len = strlen(txt);
    actions_on_result(ctrl_actions(fx->rt), &r);
    free(txt);
    json_decref(live);
    const fx_action_t *patch = fx_find(&sent, KUBUS__V1__VERB__PATCH, "pods");
    assert_string_equal(patch->name, "mysts-0");
    assert_string_equal(kobj_str(patch->body, "metadata.uid"), "orphan");
    assert_string_equal(kobj_str(json_array_get(kobj_get(patch->body, "metadata.ownerReferences"), 0), "uid"),
                        "set-uid");
}

static void test_orphan_revision_adopted_and_reused(void **state)
{
    fx_t *fx = *state;
    /* what the first sync would create, left behind as an orphan */
    put_sts(fx->rt, 0, "1", NULL);
    ctrl_test_step(fx->rt);
    json_t *rev = json_deep_copy(fx_find(&sent, KUBUS__V1__VERB__CREATE, "controllerrevisions")->body);
    fx_answer_pending(fx->rt, &sent, 500);
    json_t *m = json_object_get(rev, "metadata");
    json_object_del(m, "ownerReferences");
    json_object_set_new(m, "uid", json_string("rev-uid"));
    json_object_set_new(m, "resourceVersion", json_string("1"));
    char name[128];
    snprintf(name, sizeof name, "%s", kobj_name(rev));
    ctrl_test_apply(fx->rt, "controllerrevisions", &rev, false);
    fx_reset(&sent);
    ctrl_enqueue(fx->rt, "ns/mysts");
    ctrl_test_step(fx->rt);
    const fx_action_t *patch = fx_find(&sent, KUBUS__V1__VERB__PATCH, "controllerrevisions");
    assert_string_equal(patch->name, name);
    assert_string_equal(kobj_str(patch->body, "metadata.uid"), "rev-uid");
    for (int i = 0; i < sent.n; i++)
        assert_false(sent.a[i].verb == KUBUS__V1__VERB__CREATE && strcmp(sent.a[i].resource, "controllerrevisions") == 0);
    assert_string_equal(kobj_str(fx_find(&sent, KUBUS__V1__VERB__UPDATE_STATUS, "statefulsets")->body, "status.updateRevision"),
                        name);
}

static void test_invalid_spec_is_refused_quietly(void **state)
{
    fx_t *fx = *state;
    json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:i}, s:{s:i, s:{}, s:{s:{s:{s:s}}, s:{s:[]}}}}",
                          "apiVersion", "apps/v1", "kind", "StatefulSet", "metadata", "name", "bad", "namespace", "ns",
                          "uid", "bad-uid", "generation", 1, "spec", "replicas", 1, "selector", "template", "metadata",
                          "labels", "a", "b", "spec", "containers");
    ctrl_test_apply(fx->rt, "statefulsets", &o, false);
    ctrl_test_step(fx->rt);
    assert_string_equal(fx_actions_text(&sent), "");
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__EVENT, NULL), 1);
    ctrl_enqueue(fx->rt, "ns/bad");
    ctrl_test_step(fx->rt);
    assert_int_equal(sent.n, 1);   /* one warning per generation */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_revision_and_claim_before_pod, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scale_down_highest_first, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphan_adopted_after_live_check, setup, teardown),
        cmocka_unit_test_setup_teardown(test_orphan_revision_adopted_and_reused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_spec_is_refused_quietly, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
