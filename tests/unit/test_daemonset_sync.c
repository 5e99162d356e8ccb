/* Unit tests for the DaemonSet sync on the runtime's test mode (no bus):
 * the first revision is created (and observed) before any pod; one pod per
 * eligible node in slow-start batches; a node added later wakes the
 * DaemonSet; a failed pod is deleted with a FailedDaemonPod event and the
 * next failure on that node waits out the back-off; a {} selector gets one
 * SelectingAll Warning; status is written only on change; a new template
 * gets revision 2 first, then one old pod at a time is deleted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/kobj.h"
#include "ctrl/runtime.h"
#include "ctrl_fixture.h"
#include "ds_node.h"
#include "ds_sync.h"

/* The actions the controller sent since the last fx_reset. */
static fx_sent_t sent;

typedef struct {
    ctrl_runtime_t *rt;
    ds_ctrl_t *dc;
} fx_t;

static int setup(void **state)
{
    static fx_t fx;
    static const char *const res[] = { DS_RESOURCE, DS_POD_RESOURCE, DS_NODE_RESOURCE, DS_CR_RESOURCE, NULL };
    fx.dc = ds_ctrl_new();
    ctrl_config_t cfg = { .controller = "daemonset", .resources = res, .primary = DS_RESOURCE, .sync = ds_sync,
                          .ud = fx.dc, .concurrent_syncs = 2 };
    fx.rt = fx_runtime_new(&cfg, &sent);
    assert_int_equal(ds_ctrl_attach(fx.dc, fx.rt), 0);
    fx_runtime_ready(fx.rt, &sent, 1700000000000ull);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    fx_runtime_destroy(&fx->rt, &sent);
    ds_ctrl_destroy(&fx->dc);
    return 0;
}

static void put_node(ctrl_runtime_t *rt, const char *name, const char *taints)
{
    char buf[512];
    snprintf(buf, sizeof buf, "{\"metadata\":{\"name\":\"%s\",\"uid\":\"n-%s\",\"resourceVersion\":\"1\"},"
                              "\"spec\":{\"taints\":%s}}", name, name, taints ? taints : "[]");
    json_t *o = json_loads(buf, 0, NULL);
    assert_non_null(o);
    ctrl_test_apply(rt, DS_NODE_RESOURCE, &o, false);
}

static void put_ds(ctrl_runtime_t *rt, const char *selector, const char *rv, const char *status)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"DaemonSet\",\"metadata\":{\"name\":\"d\",\"namespace\":\"ns\","
             "\"uid\":\"ds-uid\",\"generation\":1,\"resourceVersion\":\"%s\",\"annotations\":"
             "{\"deprecated.daemonset.template.generation\":\"1\"}},\"spec\":{\"selector\":%s,"
             "\"template\":{\"metadata\":{\"labels\":{\"app\":\"d\"}},"
             "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"i\"}]}}},\"status\":%s}",
             rv, selector ? selector : "{\"matchLabels\":{\"app\":\"d\"}}", status ? status : "{}");
    json_t *o = json_loads(buf, 0, NULL);
    assert_non_null(o);
    ctrl_test_apply(rt, DS_RESOURCE, &o, false);
}

/* What a create asked for, as the informer would report it. */
static void observe_created(ctrl_runtime_t *rt, const fx_action_t *s, const char *uid, const char *phase)
{
    json_t *p = fx_created(s, uid, "1");
    if (phase) json_object_set_new(p, "status", json_pack("{s:s}", "phase", phase));
    ctrl_test_apply(rt, s->resource, &p, false);
}

/* Syncs until the revision exists and is observed; returns its hash. */
static void first_revision(fx_t *fx)
{
    assert_int_equal(ctrl_test_step(fx->rt), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, DS_CR_RESOURCE), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE), 0);   /* no pod before the revision */
    const fx_action_t *cr = fx_nth(&sent, KUBUS__V1__VERB__CREATE, DS_CR_RESOURCE, 0);
    assert_int_equal(json_integer_value(json_object_get(cr->body, "revision")), 1);
    assert_int_equal(strncmp(cr->name, "d-", 2), 0);
    fx_answer(fx->rt, cr, 201);
    observe_created(fx->rt, cr, "cr-1", NULL);
    fx_reset(&sent);
}

static void test_one_pod_per_node(void **state)
{
    fx_t *fx = *state;
    put_node(fx->rt, "n1", NULL);
    put_node(fx->rt, "n2", NULL);
    put_node(fx->rt, "n3", NULL);
    put_node(fx->rt, "tainted", "[{\"key\":\"k\",\"effect\":\"NoSchedule\"}]");
    put_ds(fx->rt, NULL, "1", NULL);
    first_revision(fx);
    assert_int_equal(ctrl_test_step(fx->rt), 1);
    /* slow start: batch 1 is one create; the status is written (desired 3) */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE), 1);
    const fx_action_t *st = fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0);
    assert_int_equal(kobj_int(st->body, "status.desiredNumberScheduled", -1), 3);
    assert_int_equal(kobj_int(st->body, "status.observedGeneration", -1), 1);
    const fx_action_t *c0 = fx_nth(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE, 0);
    assert_string_equal(kobj_generate_name(c0->body), "d-");
    assert_string_equal(ds_pod_target_node(c0->body), "n1");   /* nodes in name order */
    fx_answer(fx->rt, c0, 201);
    /* batch 2: the other two nodes */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE), 3);
    assert_int_equal(fx_event(&sent, "SuccessfulCreate", NULL), 1);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE, 1), 201);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE, 2), 201);
    fx_answer_verb(fx->rt, &sent, KUBUS__V1__VERB__UPDATE_STATUS, 200);
    assert_int_equal(fx_event(&sent, "SuccessfulCreate", NULL), 3);
    /* nothing more while the creates are not observed */
    assert_false(expectations_satisfied(ctrl_expectations(fx->rt), "ns/d"));
    for (int i = 0; i < 3; i++) {
        char uid[16];
        snprintf(uid, sizeof uid, "p%d", i);
        observe_created(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE, i), uid, "Pending");
    }
    assert_true(expectations_satisfied(ctrl_expectations(fx->rt), "ns/d"));
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE), 0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, DS_POD_RESOURCE), 0);
    fx_answer_verb(fx->rt, &sent, KUBUS__V1__VERB__UPDATE_STATUS, 200);
    /* a new node wakes the DaemonSet: one more pod, for it */
    put_node(fx->rt, "n4", NULL);
    fx_reset(&sent);
    assert_int_equal(ctrl_test_step(fx->rt), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE), 1);
}

static void test_failed_pod_backoff(void **state)
{
    fx_t *fx = *state;
    put_node(fx->rt, "n1", NULL);
    put_ds(fx->rt, NULL, "1", NULL);
    first_revision(fx);
    ctrl_test_step(fx->rt);
    const fx_action_t *c0 = fx_nth(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE, 0);
    fx_answer(fx->rt, c0, 201);
    fx_answer_verb(fx->rt, &sent, KUBUS__V1__VERB__UPDATE_STATUS, 200);
    observe_created(fx->rt, c0, "p1", "Failed");
    json_t *gone = json_deep_copy(c0->body);   /* the log is reused below */
    json_object_set_new(json_object_get(gone, "metadata"), "uid", json_string("p1"));
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    /* the failed pod is deleted, with upstream's Warning */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, DS_POD_RESOURCE), 1);
    assert_string_equal(fx_nth(&sent, KUBUS__V1__VERB__DELETE, DS_POD_RESOURCE, 0)->uid_pre, "p1");
    assert_int_equal(fx_event(&sent, "FailedDaemonPod", NULL), 1);
    const fx_action_t *ev = fx_nth(&sent, KUBUS__V1__VERB__EVENT, NULL, 0);
    assert_non_null(strstr(kobj_str(ev->body, "message"), "will try to kill it"));
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__DELETE, DS_POD_RESOURCE, 0), 200);
    fx_answer_verb(fx->rt, &sent, KUBUS__V1__VERB__UPDATE_STATUS, 200);
    ctrl_test_apply(fx->rt, DS_POD_RESOURCE, &gone, true);
    /* the node is empty again: a new pod */
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE), 1);
    const fx_action_t *c1 = fx_nth(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE, 0);
    fx_answer(fx->rt, c1, 201);
    fx_answer_verb(fx->rt, &sent, KUBUS__V1__VERB__UPDATE_STATUS, 200);
    observe_created(fx->rt, c1, "p2", "Failed");
    /* it fails at once too: within the 1 s back-off it is left alone */
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, DS_POD_RESOURCE), 0);
    assert_int_equal(fx_event(&sent, "FailedDaemonPod", NULL), 0);
    fx_answer_verb(fx->rt, &sent, KUBUS__V1__VERB__UPDATE_STATUS, 200);
    /* after it: deleted */
    ctrl_test_set_unix_ms(fx->rt, 1700000001500ull);
    ctrl_enqueue(fx->rt, "ns/d");
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, DS_POD_RESOURCE), 1);
    assert_int_equal(fx_event(&sent, "FailedDaemonPod", NULL), 1);
}

static void test_selecting_all(void **state)
{
    fx_t *fx = *state;
    put_node(fx->rt, "n1", NULL);
    put_ds(fx->rt, "{}", "1", NULL);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    assert_int_equal(fx_event(&sent, "SelectingAll", NULL), 1);
    ctrl_enqueue(fx->rt, "ns/d");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_event(&sent, "SelectingAll", NULL), 1);   /* once per generation */
}

static void test_status_only_on_change(void **state)
{
    fx_t *fx = *state;
    put_ds(fx->rt, NULL, "1", NULL);
    first_revision(fx);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL), 1);   /* observedGeneration 1, desired 0 */
    fx_answer_verb(fx->rt, &sent, KUBUS__V1__VERB__UPDATE_STATUS, 200);
    put_ds(fx->rt, NULL, "2", "{\"observedGeneration\":1,\"desiredNumberScheduled\":0,\"numberUnavailable\":0}");
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    assert_int_equal(sent.n, 0);
}

/* A ready pod of d on node, from the create body the controller sent. */
static void observe_ready(ctrl_runtime_t *rt, const json_t *body, const char *uid, const char *node)
{
    json_t *p = json_deep_copy(body);
    json_object_set_new(json_object_get(p, "metadata"), "uid", json_string(uid));
    json_object_set_new(json_object_get(p, "metadata"), "resourceVersion", json_string("2"));
    json_object_set_new(json_object_get(p, "spec"), "nodeName", json_string(node));
    json_object_set_new(p, "status", json_pack("{s:s, s:[{s:s, s:s, s:s}]}", "phase", "Running", "conditions", "type",
                                               "Ready", "status", "True", "lastTransitionTime", "2023-01-01T00:00:00Z"));
    ctrl_test_apply(rt, DS_POD_RESOURCE, &p, false);
}

static void test_rolling_update_one_at_a_time(void **state)
{
    fx_t *fx = *state;
    put_node(fx->rt, "n1", NULL);
    put_node(fx->rt, "n2", NULL);
    put_ds(fx->rt, NULL, "1", NULL);
    first_revision(fx);
    ctrl_test_step(fx->rt);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE, 0), 201);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE, 1), 201);
    fx_answer_verb(fx->rt, &sent, KUBUS__V1__VERB__UPDATE_STATUS, 200);
    json_t *b0 = json_deep_copy(fx_nth(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE, 0)->body);
    json_t *b1 = json_deep_copy(fx_nth(&sent, KUBUS__V1__VERB__CREATE, DS_POD_RESOURCE, 1)->body);
    observe_ready(fx->rt, b0, "p1", "n1");
    observe_ready(fx->rt, b1, "p2", "n2");
    const char *old_hash = kobj_label(b0, "controller-revision-hash");
    /* a new template (generation 2) */
    json_t *ds = json_deep_copy(cache_get(ctrl_cache(fx->rt, DS_RESOURCE), "ns/d"));
    json_object_set_new(json_object_get(ds, "metadata"), "generation", json_integer(2));
    json_object_set_new(json_object_get(ds, "metadata"), "resourceVersion", json_string("5"));
    json_object_set_new(kobj_annotations(ds), "deprecated.daemonset.template.generation", json_string("2"));
    json_object_set_new(json_array_get(kobj_get(ds, "spec.template.spec.containers"), 0), "image", json_string("j"));
    ctrl_test_apply(fx->rt, DS_RESOURCE, &ds, false);
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    /* first the revision 2, nothing else */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, DS_CR_RESOURCE), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, NULL), 0);
    const fx_action_t *cr = fx_nth(&sent, KUBUS__V1__VERB__CREATE, DS_CR_RESOURCE, 0);
    assert_int_equal(json_integer_value(json_object_get(cr->body, "revision")), 2);
    assert_string_not_equal(kobj_label(cr->body, "controller-revision-hash"), old_hash);
    fx_answer(fx->rt, cr, 201);
    observe_created(fx->rt, cr, "cr-2", NULL);
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    /* maxUnavailable 1: one old pod goes, the first node first */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, DS_POD_RESOURCE), 1);
    assert_string_equal(fx_nth(&sent, KUBUS__V1__VERB__DELETE, DS_POD_RESOURCE, 0)->uid_pre, "p1");
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    const fx_action_t *st = fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0);
    assert_int_equal(kobj_int(st->body, "status.updatedNumberScheduled", -1), 0);
    assert_int_equal(kobj_int(st->body, "status.observedGeneration", -1), 2);
    json_decref(b0);
    json_decref(b1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_one_pod_per_node, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_pod_backoff, setup, teardown),
        cmocka_unit_test_setup_teardown(test_selecting_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_only_on_change, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rolling_update_one_at_a_time, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
