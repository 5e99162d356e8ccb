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
#include "ctrl_fixture.h"
#include "rs_sync.h"
#include "worker.h"

/* The actions the controller sent since the last fx_reset. */
static fx_sent_t sent;

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
    fx.rt = fx_runtime_new(&cfg, &sent);
    assert_int_equal(rs_ctrl_attach(fx.rc, fx.rt), 0);
    fx_runtime_ready(fx.rt, &sent, 1700000000000ull);
    *state = &fx;
    return 0;
}

static int teardown(void **state)
{
    fx_t *fx = *state;
    fx_runtime_destroy(&fx->rt, &sent);
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
static void observe_created(ctrl_runtime_t *rt, const fx_action_t *s, const char *uid)
{
    json_t *p = fx_created(s, uid, "1");
    json_object_set_new(p, "status", json_pack("{s:s}", "phase", "Pending"));
    ctrl_test_apply(rt, "pods", &p, false);
}

static void test_slow_start_and_expectations(void **state)
{
    fx_t *fx = *state;
    put_rs(fx->rt, 7, "1", NULL);
    assert_int_equal(ctrl_test_step(fx->rt), 1);
    /* batch 1: one create, plus a status update (observedGeneration) */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL), 1);
    assert_string_equal(kobj_generate_name(sent.a[0].body), "web-");
    assert_int_equal(strncmp(sent.a[0].name, "web-", 4), 0);
    assert_false(expectations_satisfied(ctrl_expectations(fx->rt), "ns/web"));
    /* the key stays in sync while its actions are out: no second sync */
    ctrl_enqueue(fx->rt, "ns/web");
    assert_int_equal(ctrl_test_step(fx->rt), 0);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), 201);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0), 200);
    /* batch 2 (two creates) was issued from the result of batch 1 */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 3);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 1), 201);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 2), 409);   /* a failure stops the slow start */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 3);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__EVENT, NULL), 3); /* 2 SuccessfulCreate, 1 FailedCreate */
    /* 2 created, 1 observed so far: expectations hold the rest back */
    observe_created(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), "p0");
    assert_false(expectations_satisfied(ctrl_expectations(fx->rt), "ns/web"));
    int before = fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL);
    ctrl_test_step(fx->rt);                             /* re-queued sync: no creates while expecting */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), before);
    observe_created(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 1), "p1");
    assert_true(expectations_satisfied(ctrl_expectations(fx->rt), "ns/web"));
    /* now the gap is real again: 7 - 2 = 5 to create, slow start from 1 */
    fx_answer_verb(fx->rt, &sent, KUBUS__V1__VERB__UPDATE_STATUS, 200);
    ctrl_enqueue(fx->rt, "ns/web");
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
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
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, NULL), 2);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    /* the not-ready pod goes first, each delete carries the pod's uid */
    const fx_action_t *d0 = fx_nth(&sent, KUBUS__V1__VERB__DELETE, NULL, 0), *d1 = fx_nth(&sent, KUBUS__V1__VERB__DELETE, NULL, 1);
    assert_string_equal(d0->name, "b");
    assert_string_equal(d0->uid_pre, "ub");
    assert_string_equal(d1->uid_pre, d1->name[0] == 'a' ? "ua" : "uc");
    assert_int_equal(expectations_pending_deletes(ctrl_expectations(fx->rt), "ns/web"), 2);
    fx_answer(fx->rt, d0, 200);
    fx_answer(fx->rt, d1, 404);   /* already gone, but the cache may lag: still expected */
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
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    assert_int_equal(sent.n, 0);                        /* in sync and status current: nothing */
    p = running_pod("a", "ua", "n1", false);
    json_object_set_new(json_object_get(p, "metadata"), "resourceVersion", json_string("2"));
    ctrl_test_apply(fx->rt, "pods", &p, false);         /* the pod's readiness changed */
    ctrl_test_step(fx->rt);
    assert_int_equal(sent.n, 1);
    assert_int_equal(sent.a[0].verb, KUBUS__V1__VERB__UPDATE_STATUS);
    assert_int_equal(json_integer_value(kobj_get(sent.a[0].body, "status.readyReplicas")), 0);
    assert_string_equal(kobj_resource_version(sent.a[0].body), "3");
}

static void test_invalid_spec(void **state)
{
    fx_t *fx = *state;
    json_t *o = json_loads("{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":{\"name\":\"bad\","
                           "\"namespace\":\"ns\",\"uid\":\"u\",\"generation\":1},\"spec\":{\"replicas\":2,"
                           "\"selector\":{},\"template\":{\"spec\":{}}}}", 0, NULL);
    ctrl_test_apply(fx->rt, "replicasets", &o, false);
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__EVENT, NULL), 1);   /* one Warning */
    ctrl_enqueue(fx->rt, "ns/bad");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__EVENT, NULL), 1);   /* not repeated for the same generation */
    assert_string_equal(kobj_str(fx_nth(&sent, KUBUS__V1__VERB__EVENT, NULL, 0)->body, "reason"), "InvalidSpec");
}

static void test_failures_back_off(void **state)
{
    fx_t *fx = *state;
    put_rs(fx->rt, 1, "1", "{\"replicas\":0,\"observedGeneration\":1,\"terminatingReplicas\":0}");
    for (int round = 1; round <= 3; round++) {
        fx_reset(&sent);
        for (int tries = 0; tries < 200 && fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL) == 0; tries++) {
            ctrl_test_step(fx->rt);
            if (fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL) == 0) usleep(5000);
        }
        assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
        fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), 403);
        if (round == 2) {   /* the failure is now in status: ReplicaFailure/FailedCreate */
            const fx_action_t *st = fx_nth(&sent, KUBUS__V1__VERB__UPDATE_STATUS, NULL, 0);
            json_t *cond = json_array_get(kobj_get(st->body, "status.conditions"), 0);
            assert_string_equal(kobj_str(cond, "reason"), "FailedCreate");
            fx_answer(fx->rt, st, 200);
        }
        /* the failure is remembered past the end of the sync: 5, 10, 20 ms ... */
        assert_int_equal(workqueue_num_requeues(ctrl_queue(fx->rt), "ns/web"), round);
    }
}

/* ---- lost answers: the owner must not wait for the 5-minute expiry ------------ */

/* Moves the runtime's monotonic clock (queue, expectations, actions). */
static uint64_t mono;
static void clock_start(ctrl_runtime_t *rt)
{
    mono = now_mono_ms();
    ctrl_test_set_mono_ms(rt, mono);
}
static void clock_advance(ctrl_runtime_t *rt, uint64_t ms)
{
    mono += ms;
    ctrl_test_set_mono_ms(rt, mono);
}

/* Steps the runtime for up to `ms` of fake time, 5 ms at a time, until it
 * has sent `want` creates in all; returns the creates sent. */
static int step_until_creates(ctrl_runtime_t *rt, int want, uint64_t ms)
{
    for (uint64_t t = 0; t <= ms && fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL) < want; t += 5) {
        ctrl_test_step(rt);
        clock_advance(rt, 5);
    }
    return fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL);
}

/* A create the executor answered without knowing its outcome (status 0:
 * the request failed and the lookup could not tell; 504: every attempt
 * timed out). Upstream counts a create that returned an error as not made
 * and retries on the next sync; waiting to observe it would hold the owner
 * for 5 minutes. */
static void lost_create_answer(fx_t *fx, uint32_t status)
{
    clock_start(fx->rt);
    put_rs(fx->rt, 3, "1", "{\"replicas\":0,\"observedGeneration\":1,\"terminatingReplicas\":0}");
    assert_int_equal(ctrl_test_step(fx->rt), 1);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), status);
    assert_true(expectations_satisfied(ctrl_expectations(fx->rt), "ns/web"));
    fx_answer_verb(fx->rt, &sent, KUBUS__V1__VERB__UPDATE_STATUS, 200);
    /* the next sync (after the failure's back-off) creates again */
    assert_int_equal(step_until_creates(fx->rt, 2, 1000), 2);
    assert_int_equal(expectations_pending_creates(ctrl_expectations(fx->rt), "ns/web"), 1);
}

static void test_create_without_answer_retried(void **state) { lost_create_answer(*state, 0); }
static void test_create_timed_out_retried(void **state) { lost_create_answer(*state, 504); }

/* A create of the previous life as the InflightReport lists it: pending at
 * the executor, body and all. */
static msg_action_t *prev_create(msg_action_t *a, uint64_t id, const char *name)
{
    static char bodies[4][512];
    char *body = bodies[id % 4];
    snprintf(body, sizeof bodies[0],
             "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"namespace\":\"ns\","
             "\"generateName\":\"web-\",\"labels\":{\"app\":\"web\"},\"ownerReferences\":[{\"apiVersion\":"
             "\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web\",\"uid\":\"rs-uid\",\"controller\":true}]}}",
             name);
    kubus__v1__action__init(a);
    a->id = id;
    a->controller = "replicaset";
    a->verb = KUBUS__V1__VERB__CREATE;
    a->resource = "pods";
    a->namespace_ = "ns";
    a->name = (char *)name;
    a->owner_key = "ns/web";
    a->body.data = (uint8_t *)body;
    a->body.len = strlen(body);
    return a;
}

/* A restarted controller: the report says two creates of its previous life
 * are still pending at the executor, so it waits for them instead of
 * creating again. Their answers then say they were not made (a failure or
 * an unknown outcome): nothing else will ever show up for the owner (no
 * callback of this life handles them, no pod event comes), so the owner
 * must sync again and create them itself. */
static void recovered_creates_fail(fx_t *fx, uint32_t status)
{
    clock_start(fx->rt);
    put_rs(fx->rt, 3, "1", "{\"replicas\":1,\"fullyLabeledReplicas\":1,\"readyReplicas\":1,"
                           "\"availableReplicas\":1,\"observedGeneration\":1,\"terminatingReplicas\":0}");
    json_t *p = running_pod("web-live1", "u-live1", "n1", true);
    ctrl_test_apply(fx->rt, "pods", &p, false);
    msg_action_t a1, a2;
    msg_action_t *pa[] = { prev_create(&a1, 7ull << 40 | 1, "web-prev1"), prev_create(&a2, 7ull << 40 | 2, "web-prev2") };
    Kubus__V1__InflightReport rep;
    kubus__v1__inflight_report__init(&rep);
    rep.controller = "replicaset";
    rep.n_pending = 2;
    rep.pending = pa;
    ctrl_test_report(fx->rt, &rep);
    assert_int_equal(expectations_pending_creates(ctrl_expectations(fx->rt), "ns/web"), 2);
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 0);   /* waits for the two */
    fx_action_t prev[2] = { { .id = a1.id, .verb = KUBUS__V1__VERB__CREATE },
                            { .id = a2.id, .verb = KUBUS__V1__VERB__CREATE } };
    fx_answer(fx->rt, &prev[0], status);
    fx_answer(fx->rt, &prev[1], status);
    assert_true(expectations_satisfied(ctrl_expectations(fx->rt), "ns/web"));
    fx_answer_verb(fx->rt, &sent, KUBUS__V1__VERB__UPDATE_STATUS, 200);
    assert_int_equal(step_until_creates(fx->rt, 1, 1000), 1);               /* slow start: 1 of the 2 */
}

static void test_recovered_creates_without_answer(void **state) { recovered_creates_fail(*state, 0); }
static void test_recovered_creates_refused(void **state) { recovered_creates_fail(*state, 403); }

/* A create that succeeded but whose pod never shows up (deleted by someone
 * else before our informer saw it): the expectation expires after 5
 * minutes as upstream's does, and the owner is synced again then, with no
 * event needed to wake it. */
static void test_expectations_expire_into_a_sync(void **state)
{
    fx_t *fx = *state;
    clock_start(fx->rt);
    put_rs(fx->rt, 1, "1", "{\"replicas\":0,\"observedGeneration\":1,\"terminatingReplicas\":0}");
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
    fx_answer_pending(fx->rt, &sent, 200);
    clock_advance(fx->rt, EXPECTATIONS_TTL_MS - 1000);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);   /* still waiting */
    clock_advance(fx->rt, 2000);
    assert_int_equal(ctrl_test_step(fx->rt), 1);                           /* expired: synced again */
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 2);
}

/* The namespace is being deleted: its API refuses every create with 403
 * and cause NamespaceTerminating. Upstream counts that as no error (no
 * FailedCreate Event, no ReplicaFailure, no retry); the batch's later
 * creates are not issued either, whatever order the batch's answers come
 * in. */
static void test_namespace_terminating_stops_quietly(void **state)
{
    fx_t *fx = *state;
    clock_start(fx->rt);
    put_rs(fx->rt, 9, "1", "{\"replicas\":0,\"observedGeneration\":1,\"terminatingReplicas\":0}");
    ctrl_test_step(fx->rt);
    fx_answer_verb(fx->rt, &sent, KUBUS__V1__VERB__UPDATE_STATUS, 200);
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), 201);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 3);   /* batch 2 */
    /* known by its cause (the message need not say so) */
    fx_answer_status(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 1), 403, "Forbidden",
                     "pods \"web-x\" is forbidden: refused", "NamespaceTerminating");
    fx_answer(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 2), 201);
    assert_int_equal(fx_event(&sent, "FailedCreate", NULL), 0);
    assert_int_equal(workqueue_num_requeues(ctrl_queue(fx->rt), "ns/web"), 0);
    for (int i = 0; i < 200; i++) {                                          /* 1 s: nothing more */
        assert_int_equal(ctrl_test_step(fx->rt), 0);
        clock_advance(fx->rt, 5);
    }
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 3);
    /* the refused create is not awaited: only the two made are */
    assert_int_equal(expectations_pending_creates(ctrl_expectations(fx->rt), "ns/web"), 2);
}

/* Without the cause (an older executor), the admission plugin's words. */
static void test_namespace_terminating_by_message(void **state)
{
    fx_t *fx = *state;
    clock_start(fx->rt);
    put_rs(fx->rt, 9, "1", "{\"replicas\":0,\"observedGeneration\":1,\"terminatingReplicas\":0}");
    ctrl_test_step(fx->rt);
    fx_answer_status(fx->rt, fx_nth(&sent, KUBUS__V1__VERB__CREATE, NULL, 0), 403, "Forbidden",
                     "pods \"web-x\" is forbidden: unable to create new content in namespace ns because it is "
                     "being terminated", NULL);
    assert_int_equal(fx_event(&sent, "FailedCreate", NULL), 0);
    assert_int_equal(workqueue_num_requeues(ctrl_queue(fx->rt), "ns/web"), 0);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__CREATE, NULL), 1);
}

/* The last status write sent, or NULL. */
static const json_t *last_status(void)
{
    const fx_action_t *st = fx_last(&sent, KUBUS__V1__VERB__UPDATE_STATUS);
    return st ? kobj_get(st->body, "status") : NULL;
}

/* Upstream's DeletePod records the Event "Error deleting: <err>" and
 * returns "unable to delete pods: <err>", which calculateStatus puts in the
 * ReplicaFailure condition (reason FailedDelete). */
static void test_failed_delete_wording(void **state)
{
    fx_t *fx = *state;
    clock_start(fx->rt);
    const char *status = "{\"replicas\":2,\"fullyLabeledReplicas\":2,\"readyReplicas\":2,\"availableReplicas\":2,"
                         "\"observedGeneration\":1,\"terminatingReplicas\":0}";
    put_rs(fx->rt, 1, "2", status);
    json_t *p = running_pod("a", "ua", "n1", true);
    ctrl_test_apply(fx->rt, "pods", &p, false);
    p = running_pod("b", "ub", "n2", true);
    ctrl_test_apply(fx->rt, "pods", &p, false);
    fx_reset(&sent);
    ctrl_test_step(fx->rt);
    assert_int_equal(fx_count(&sent, KUBUS__V1__VERB__DELETE, NULL), 1);
    fx_answer_status(fx->rt, fx_find(&sent, KUBUS__V1__VERB__DELETE, NULL), 500, "InternalError",
                     "etcdserver: request timed out", NULL);
    assert_true(fx_has_event(&sent, "FailedDelete", "Error deleting: etcdserver: request timed out"));
    fx_answer_verb(fx->rt, &sent, KUBUS__V1__VERB__UPDATE_STATUS, 200);
    for (int i = 0; i < 200 && !kobj_get(last_status(), "conditions"); i++) {
        ctrl_test_step(fx->rt);
        clock_advance(fx->rt, 5);
    }
    json_t *cond = json_array_get(kobj_get(last_status(), "conditions"), 0);
    assert_non_null(cond);
    assert_string_equal(kobj_str(cond, "type"), "ReplicaFailure");
    assert_string_equal(kobj_str(cond, "reason"), "FailedDelete");
    assert_string_equal(kobj_str(cond, "message"), "unable to delete pods: etcdserver: request timed out");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_slow_start_and_expectations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_scale_down_victims, setup, teardown),
        cmocka_unit_test_setup_teardown(test_status_only_when_changed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_spec, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failures_back_off, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_without_answer_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_timed_out_retried, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovered_creates_without_answer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovered_creates_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expectations_expire_into_a_sync, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_terminating_stops_quietly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_namespace_terminating_by_message, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_delete_wording, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
