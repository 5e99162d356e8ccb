/* Unit tests for the ReplicaSet sync on the runtime's test mode (no bus):
 * slow-start batches driven by results, expectations that stop a second
 * sync from acting on the same gap, victim deletes with uid preconditions,
 * status updates only on change, and invalid specs refused quietly. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "ctrl/kobj.h"
#include "ctrl/runtime.h"
#include "rs_sync.h"

#define MAXA 64

typedef struct {
    uint64_t id;
    int verb;
    char name[128];
    char uid_pre[64];
    json_t *body;
} sent_t;

static sent_t sent[MAXA];
static int n_sent;

static int capture(const uint8_t *buf, size_t len, void *ud)
{
    (void)ud;
    char err[128];
    msg_envelope_t *env = msg_decode(buf, len, err, sizeof err);
    assert_non_null(env);
    if (env->body_case == KUBUS__V1__ENVELOPE__BODY_ACTION && n_sent < MAXA) {
        sent_t *s = &sent[n_sent++];
        s->id = env->action->id;
        s->verb = env->action->verb;
        snprintf(s->name, sizeof s->name, "%s", env->action->name);
        snprintf(s->uid_pre, sizeof s->uid_pre, "%s", env->action->precondition_uid);
        s->body = env->action->body.len ? json_loadb((char *)env->action->body.data, env->action->body.len, 0, NULL) : NULL;
    }
    msg_free(env);
    return 0;
}

static void reset_sent(void)
{
    for (int i = 0; i < n_sent; i++) json_decref(sent[i].body);
    n_sent = 0;
}

static int count_verb(int verb)
{
    int n = 0;
    for (int i = 0; i < n_sent; i++) n += sent[i].verb == verb;
    return n;
}

/* The i-th captured action of this verb. */
static const sent_t *nth(int verb, int i)
{
    for (int k = 0; k < n_sent; k++)
        if (sent[k].verb == verb && i-- == 0) return &sent[k];
    fail_msg("no action #%d of verb %d", i, verb);
    return NULL;
}

static void answer(ctrl_runtime_t *rt, const sent_t *s, uint32_t status)
{
    msg_result_t r;
    kubus__v1__action_result__init(&r);
    r.id = s->id;
    r.status = status;
    r.verb = s->verb;
    actions_on_result(ctrl_actions(rt), &r);
}

typedef struct {
    ctrl_runtime_t *rt;
    rs_ctrl_t *rc;
} fx_t;

static int setup(void **state)
{
    static fx_t fx;
    static const char *const res[] = { "replicasets", "pods", NULL };
    fx.rc = rs_ctrl_new();
    ctrl_config_t cfg = { .controller = "replicaset", .resources = res, .primary = "replicasets",
                          .sync = rs_sync, .ud = fx.rc, .concurrent_syncs = 5 };
    fx.rt = ctrl_runtime_new_test(&cfg, capture, NULL);
    assert_non_null(fx.rt);
    assert_int_equal(rs_ctrl_attach(fx.rc, fx.rt), 0);
    ctrl_test_set_unix_ms(fx.rt, 1700000000000ull);
    ctrl_test_mark_ready(fx.rt);
    reset_sent();
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    reset_sent();
    ctrl_runtime_destroy(&fx->rt);
    rs_ctrl_destroy(&fx->rc);
    return 0;
}

static void put_rs(ctrl_runtime_t *rt, int replicas, const char *rv, const char *status)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"web\",\"namespace\":\"ns\","
             "\"uid\":\"rs-uid\",\"generation\":1,\"resourceVersion\":\"%s\"},\"spec\":{\"replicas\":%d,"
             "\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},"
             "\"spec\":{\"containers\":[{\"name\":\"c\",\"image\":\"nginx\"}]}}},\"status\":%s}",
             rv, replicas, status ? status : "{}");
    json_t *o = json_loads(buf, 0, NULL);
    assert_non_null(o);
    ctrl_test_apply(rt, "replicasets", &o, false);
}

/* The pod a create asked for, as the informer would report it. */
static void observe_created(ctrl_runtime_t *rt, const sent_t *s, const char *uid)
{
    json_t *p = json_deep_copy(s->body);
    json_object_set_new(json_object_get(p, "metadata"), "uid", json_string(uid));
    json_object_set_new(json_object_get(p, "metadata"), "resourceVersion", json_string("1"));
    json_object_set_new(p, "status", json_pack("{s:s}", "phase", "Pending"));
    ctrl_test_apply(rt, "pods", &p, false);
}

static void test_slow_start_and_expectations(void **state)
{
    fx_t *fx = *state;
    put_rs(fx->rt, 7, "1", NULL);
    assert_int_equal(ctrl_test_step(fx->rt), 1);
    /* batch 1: one create, plus a status update (observedGeneration) */
    assert_int_equal(count_verb(KUBUS__V1__VERB__CREATE), 1);
    assert_int_equal(count_verb(KUBUS__V1__VERB__UPDATE_STATUS), 1);
    assert_string_equal(kobj_generate_name(sent[0].body), "web-");
    assert_int_equal(strncmp(sent[0].name, "web-", 4), 0);
    assert_false(expectations_satisfied(ctrl_expectations(fx->rt), "ns/web"));
    /* the key stays in sync while its actions are out: no second sync */
    ctrl_enqueue(fx->rt, "ns/web");
    assert_int_equal(ctrl_test_step(fx->rt), 0);
    answer(fx->rt, nth(KUBUS__V1__VERB__CREATE, 0), 201);
    answer(fx->rt, nth(KUBUS__V1__VERB__UPDATE_STATUS, 0), 200);
    /* batch 2 (two creates) was issued from the result of batch 1 */
    assert_int_equal(count_verb(KUBUS__V1__VERB__CREATE), 3);
    answer(fx->rt, nth(KUBUS__V1__VERB__CREATE, 1), 201);
    answer(fx->rt, nth(KUBUS__V1__VERB__CREATE, 2), 409);   /* a failure stops the slow start */
    assert_int_equal(count_verb(KUBUS__V1__VERB__CREATE), 3);
    assert_int_equal(count_verb(KUBUS__V1__VERB__EVENT), 3); /* 2 SuccessfulCreate, 1 FailedCreate */
    /* 2 created, 1 observed so far: expectations hold the rest back */
    observe_created(fx->rt, nth(KUBUS__V1__VERB__CREATE, 0), "p0");
    assert_false(expectations_satisfied(ctrl_expectations(fx->rt), "ns/web"));
    int before = count_verb(KUBUS__V1__VERB__CREATE);
    ctrl_test_step(fx->rt);                             /* re-queued sync: no creates while expecting */
    assert_int_equal(count_verb(KUBUS__V1__VERB__CREATE), before);
    observe_created(fx->rt, nth(KUBUS__V1__VERB__CREATE, 1), "p1");
    assert_true(expectations_satisfied(ctrl_expectations(fx->rt), "ns/web"));
    /* now the gap is real again: 7 - 2 = 5 to create, slow start from 1 */
    for (int i = 0; i < n_sent; i++)
        if (sent[i].verb == KUBUS__V1__VERB__UPDATE_STATUS) answer(fx->rt, &sent[i], 200);
    ctrl_enqueue(fx->rt, "ns/web");
    reset_sent();
    ctrl_test_step(fx->rt);
    assert_int_equal(count_verb(KUBUS__V1__VERB__CREATE), 1);
}

static json_t *running_pod(const char *name, const char *uid, const char *node, bool ready)
{
    return json_pack("{s:{s:s, s:s, s:s, s:s, s:{s:s}, s:[{s:s, s:s, s:s, s:s, s:b}]}, s:{s:s},"
                     " s:{s:s, s:[{s:s, s:s, s:s}]}}",
                     "metadata", "name", name, "namespace", "ns", "uid", uid, "resourceVersion", "1",
                     "labels", "app", "web", "ownerReferences", "apiVersion", "apps/v1", "kind", "ReplicaSet",
                     "name", "web", "uid", "rs-uid", "controller", 1,
                     "spec", "nodeName", node,
                     "status", "phase", "Running", "conditions", "type", "Ready", "status", ready ? "True" : "False",
                     "lastTransitionTime", "2023-11-14T00:00:00Z");
}

static void test_scale_down_victims(void **state)
{
    fx_t *fx = *state;
    const char *status = "{\"replicas\":3,\"fullyLabeledReplicas\":3,\"readyReplicas\":2,\"availableReplicas\":2,\"observedGeneration\":1}";
    put_rs(fx->rt, 1, "2", status);
    json_t *p;
    p = running_pod("a", "ua", "n1", true);  ctrl_test_apply(fx->rt, "pods", &p, false);
    p = running_pod("b", "ub", "n2", false); ctrl_test_apply(fx->rt, "pods", &p, false);
    p = running_pod("c", "uc", "n3", true);  ctrl_test_apply(fx->rt, "pods", &p, false);
    reset_sent();
    ctrl_test_step(fx->rt);
    assert_int_equal(count_verb(KUBUS__V1__VERB__DELETE), 2);
    assert_int_equal(count_verb(KUBUS__V1__VERB__CREATE), 0);
    /* the not-ready pod goes first, each delete carries the pod's uid */
    const sent_t *d0 = nth(KUBUS__V1__VERB__DELETE, 0), *d1 = nth(KUBUS__V1__VERB__DELETE, 1);
    assert_string_equal(d0->name, "b");
    assert_string_equal(d0->uid_pre, "ub");
    assert_string_equal(d1->uid_pre, d1->name[0] == 'a' ? "ua" : "uc");
    assert_int_equal(expectations_pending_deletes(ctrl_expectations(fx->rt), "ns/web"), 2);
    answer(fx->rt, d0, 200);
    answer(fx->rt, d1, 404);   /* already gone, but the cache may lag: still expected */
    assert_int_equal(expectations_pending_deletes(ctrl_expectations(fx->rt), "ns/web"), 2);
    p = running_pod("b", "ub", "n2", false);
    ctrl_test_apply(fx->rt, "pods", &p, true);          /* observed: one left */
    assert_int_equal(expectations_pending_deletes(ctrl_expectations(fx->rt), "ns/web"), 1);
    assert_false(expectations_satisfied(ctrl_expectations(fx->rt), "ns/web"));
    p = running_pod(d1->name, d1->uid_pre, "n1", true);
    ctrl_test_apply(fx->rt, "pods", &p, true);          /* its deletion observed: satisfied */
    assert_true(expectations_satisfied(ctrl_expectations(fx->rt), "ns/web"));
}

static void test_status_only_when_changed(void **state)
{
    fx_t *fx = *state;
    const char *status = "{\"replicas\":1,\"fullyLabeledReplicas\":1,\"readyReplicas\":1,\"availableReplicas\":1,\"observedGeneration\":1,\"terminatingReplicas\":0}";
    put_rs(fx->rt, 1, "3", status);
    json_t *p = running_pod("a", "ua", "n1", true);
    ctrl_test_apply(fx->rt, "pods", &p, false);
    reset_sent();
    ctrl_test_step(fx->rt);
    assert_int_equal(n_sent, 0);                        /* in sync and status current: nothing */
    p = running_pod("a", "ua", "n1", false);
    json_object_set_new(json_object_get(p, "metadata"), "resourceVersion", json_string("2"));
    ctrl_test_apply(fx->rt, "pods", &p, false);         /* the pod's readiness changed */
    ctrl_test_step(fx->rt);
    assert_int_equal(n_sent, 1);
    assert_int_equal(sent[0].verb, KUBUS__V1__VERB__UPDATE_STATUS);
    assert_int_equal(json_integer_value(kobj_get(sent[0].body, "status.readyReplicas")), 0);
    assert_string_equal(kobj_resource_version(sent[0].body), "3");
}

static void test_invalid_spec(void **state)
{
    fx_t *fx = *state;
    json_t *o = json_loads("{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"bad\","
                           "\"namespace\":\"ns\",\"uid\":\"u\",\"generation\":1},\"spec\":{\"replicas\":2,"
                           "\"selector\":{},\"template\":{\"spec\":{}}}}", 0, NULL);
    ctrl_test_apply(fx->rt, "replicasets", &o, false);
    reset_sent();
    ctrl_test_step(fx->rt);
    assert_int_equal(count_verb(KUBUS__V1__VERB__CREATE), 0);
    assert_int_equal(count_verb(KUBUS__V1__VERB__EVENT), 1);   /* one Warning */
    ctrl_enqueue(fx->rt, "ns/bad");
    ctrl_test_step(fx->rt);
    assert_int_equal(count_verb(KUBUS__V1__VERB__EVENT), 1);   /* not repeated for the same generation */
    assert_string_equal(kobj_str(nth(KUBUS__V1__VERB__EVENT, 0)->body, "reason"), "InvalidSpec");
}

static void test_failures_back_off(void **state)
{
    fx_t *fx = *state;
    put_rs(fx->rt, 1, "1", "{\"replicas\":0,\"observedGeneration\":1,\"terminatingReplicas\":0}");
    for (int round = 1; round <= 3; round++) {
        reset_sent();
        for (int tries = 0; tries < 200 && count_verb(KUBUS__V1__VERB__CREATE) == 0; tries++) {
            ctrl_test_step(fx->rt);
            if (count_verb(KUBUS__V1__VERB__CREATE) == 0) usleep(5000);
        }
        assert_int_equal(count_verb(KUBUS__V1__VERB__CREATE), 1);
        answer(fx->rt, nth(KUBUS__V1__VERB__CREATE, 0), 403);
        if (round == 2) {   /* the failure is now in status: ReplicaFailure/FailedCreate */
            const sent_t *st = nth(KUBUS__V1__VERB__UPDATE_STATUS, 0);
            json_t *cond = json_array_get(kobj_get(st->body, "status.conditions"), 0);
            assert_string_equal(kobj_str(cond, "reason"), "FailedCreate");
            answer(fx->rt, st, 200);
        }
        /* the failure is remembered past the end of the sync: 5, 10, 20 ms ... */
        assert_int_equal(workqueue_num_requeues(ctrl_queue(fx->rt), "ns/web"), round);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_slow_start_and_expectations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scale_down_victims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_only_when_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_spec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures_back_off, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
