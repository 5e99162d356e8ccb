/* Unit tests for controllers/deployment/dep_status.c, restating upstream's
 * TestDeploymentComplete, TestDeploymentProgressing, TestDeploymentTimedOut,
 * TestSetCondition/TestRemoveCondition, TestSyncRolloutStatus and
 * TestRequeueStuckDeployment, plus calculateStatus and paused conditions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "dep_status.h"

/* 2016-01-01T00:00:00Z */
#define T0 1451606400

static json_t *load(const char *s)
{
    json_error_t e;
    json_t *j = json_loads(s, 0, &e);
    if (!j)
        fail_msg("bad test json: %s", e.text);
    return j;
}

static json_t *counts(int32_t replicas, int32_t updated, int32_t ready, int32_t available)
{
    return json_pack("{s:i, s:i, s:i, s:i}", "replicas", replicas, "updatedReplicas", updated,
                     "readyReplicas", ready, "availableReplicas", available);
}

static dep_spec_t spec(int32_t replicas, int32_t max_unavailable)
{
    dep_spec_t s;
    memset(&s, 0, sizeof s);
    s.replicas = replicas;
    s.max_unavailable = max_unavailable;
    s.has_progress_deadline = true;
    s.progress_deadline = 600;
    return s;
}

static const char *field(const json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "";
}

/* ---- conditions ---------------------------------------------------------- */

static void test_conditions(void **state)
{
    (void)state;
    json_t *st = json_object();
    assert_null(dep_cond_get(st, "Available"));
    assert_true(dep_cond_set(st, dep_cond_new("Available", "True", "A", "m", T0)));
    assert_true(dep_cond_set(st, dep_cond_new("Progressing", "False", "ForSomeReason", "m", T0)));
    /* same status and reason: no change at all, not even the message */
    assert_false(dep_cond_set(st, dep_cond_new("Progressing", "False", "ForSomeReason", "new", T0 + 5)));
    assert_string_equal(field(dep_cond_get(st, "Progressing"), "message"), "m");
    /* same status, new reason: lastTransitionTime kept, moved to the end */
    assert_true(dep_cond_set(st, dep_cond_new("Available", "True", "B", "m2", T0 + 9)));
    json_t *c = dep_cond_get(st, "Available");
    assert_string_equal(field(c, "reason"), "B");
    assert_string_equal(field(c, "lastTransitionTime"), "2016-01-01T00:00:00Z");
    assert_string_equal(field(c, "lastUpdateTime"), "2016-01-01T00:00:09Z");
    assert_ptr_equal(json_array_get(json_object_get(st, "conditions"), 1), c);
    /* new status: new transition time */
    assert_true(dep_cond_set(st, dep_cond_new("Available", "False", "B", "m", T0 + 20)));
    assert_string_equal(field(dep_cond_get(st, "Available"), "lastTransitionTime"),
                        "2016-01-01T00:00:20Z");
    assert_true(dep_cond_remove(st, "Available"));
    assert_false(dep_cond_remove(st, "ReplicaFailure"));
    assert_true(dep_cond_remove(st, "Progressing"));
    assert_null(json_object_get(st, "conditions")); /* omitempty */
    json_decref(st);
}

/* ---- complete / progressing / timed out --------------------------------- */

static void test_complete_table(void **state)
{
    (void)state;
    struct { int32_t desired, current, updated, available, unavail; bool expect; } t[] = {
        {5, 5, 5, 4, 1, false}, /* min but not all pods available */
        {5, 5, 5, 3, 1, false},
        {5, 5, 5, 5, 0, true},
        {5, 5, 4, 5, 0, false}, /* all available but not updated */
        {1, 2, 1, 1, 0, false}, /* still running old pods */
        {1, 1, 1, 0, 1, false}, /* never comes up */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        dep_spec_t s = spec(t[i].desired, t[i].unavail);
        json_t *st = counts(t[i].current, t[i].updated, 0, t[i].available);
        assert_int_equal(dep_deployment_complete(&s, st), t[i].expect);
        json_decref(st);
    }
    /* a generation not yet observed is not complete */
    dep_spec_t s = spec(1, 0);
    s.generation = 2;
    json_t *st = load("{\"replicas\":1,\"updatedReplicas\":1,\"availableReplicas\":1,"
                      "\"observedGeneration\":1}");
    assert_false(dep_deployment_complete(&s, st));
    json_decref(st);
}

static void test_progressing_table(void **state)
{
    (void)state;
    struct { int32_t o[4], n[4]; bool expect; } t[] = {
        {{10, 4, 4, 4}, {10, 6, 4, 4}, true},  /* updated pods */
        {{10, 4, 4, 4}, {10, 4, 4, 4}, false},
        {{10, 4, 6, 6}, {8, 4, 6, 6}, true},   /* old pods removed */
        {{10, 7, 3, 3}, {10, 6, 3, 3}, false}, /* fewer new pods */
        {{10, 4, 7, 7}, {8, 8, 5, 5}, true},   /* fewer overall but more new */
        {{10, 10, 9, 8}, {10, 10, 10, 8}, true}, /* more ready */
        {{10, 10, 10, 9}, {10, 10, 10, 10}, true}, /* more available */
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        json_t *o = counts(t[i].o[0], t[i].o[1], t[i].o[2], t[i].o[3]);
        json_t *n = counts(t[i].n[0], t[i].n[1], t[i].n[2], t[i].n[3]);
        assert_int_equal(dep_deployment_progressing(o, n), t[i].expect);
        json_decref(o);
        json_decref(n);
    }
}

static json_t *with_progressing(const char *status, const char *reason, int64_t at)
{
    json_t *st = json_object();
    json_t *c = dep_cond_new("Progressing", status, reason, "", at);
    json_object_set_new(st, "conditions", json_pack("[o]", c));
    return st;
}

static void test_timed_out_table(void **state)
{
    (void)state;
    dep_spec_t s = spec(1, 0);
    s.progress_deadline = 10;
    int64_t from = T0 + 69; /* 00:01:09 */
    json_t *st = with_progressing("True", "", from);
    s.has_progress_deadline = false;
    assert_false(dep_deployment_timed_out(&s, st, T0 + 80));
    s.has_progress_deadline = true;
    assert_false(dep_deployment_timed_out(&s, st, T0 + 71));  /* no timeout */
    assert_true(dep_deployment_timed_out(&s, st, T0 + 80));   /* timeout */
    assert_false(dep_deployment_timed_out(&s, st, from + 10)); /* exactly at: not yet */
    json_decref(st);
    /* a finished rollout is not judged */
    st = with_progressing("True", "NewReplicaSetAvailable", from);
    assert_false(dep_deployment_timed_out(&s, st, T0 + 80));
    json_decref(st);
    /* already timed out stays timed out */
    st = with_progressing("False", "ProgressDeadlineExceeded", T0 + 79);
    assert_true(dep_deployment_timed_out(&s, st, T0 + 80));
    json_decref(st);
    st = json_object();
    assert_false(dep_deployment_timed_out(&s, st, T0 + 80)); /* no condition: no base */
    json_decref(st);
}

/* ---- calculateStatus ------------------------------------------------------ */

static dep_rs_t rs(const char *name, int32_t spec_replicas, int32_t status_replicas,
                   int32_t ready, int32_t available)
{
    dep_rs_t v;
    memset(&v, 0, sizeof v);
    v.name = name;
    v.spec_replicas = v.replicas = spec_replicas;
    v.status_replicas = status_replicas;
    v.ready = ready;
    v.available = available;
    return v;
}

static void test_calc_status(void **state)
{
    (void)state;
    dep_spec_t s = spec(10, 2);
    s.generation = 4;
    dep_rs_t old = rs("old", 8, 10, 10, 10), newrs = rs("new", 5, 5, 0, 0);
    old.replicas = 0; /* plans do not count: status is what the cluster has */
    dep_rs_t *all[] = {&old, &newrs};
    json_t *prev = load("{\"collisionCount\":2,\"terminatingReplicas\":3}");
    json_t *st = dep_calc_status(&s, prev, all, 2, &newrs, T0);
    assert_int_equal(json_integer_value(json_object_get(st, "observedGeneration")), 4);
    assert_int_equal(json_integer_value(json_object_get(st, "replicas")), 15);
    assert_int_equal(json_integer_value(json_object_get(st, "updatedReplicas")), 5);
    assert_int_equal(json_integer_value(json_object_get(st, "readyReplicas")), 10);
    assert_int_equal(json_integer_value(json_object_get(st, "availableReplicas")), 10);
    assert_int_equal(json_integer_value(json_object_get(st, "unavailableReplicas")), 3);
    assert_int_equal(json_integer_value(json_object_get(st, "collisionCount")), 2);
    assert_string_equal(field(dep_cond_get(st, "Available"), "reason"), "MinimumReplicasAvailable");
    /* neither ReplicaSet reports terminatingReplicas (nor was observed): 0 */
    assert_int_equal(json_integer_value(json_object_get(st, "terminatingReplicas")), 0);
    json_decref(st);
    /* one observed without it: unknown, left out */
    old.observed_generation = 1;
    st = dep_calc_status(&s, prev, all, 2, &newrs, T0);
    assert_null(json_object_get(st, "terminatingReplicas"));
    json_decref(st);
    /* both report: the sum */
    old.has_terminating = newrs.has_terminating = true;
    old.terminating = 2;
    newrs.terminating = 1;
    st = dep_calc_status(&s, prev, all, 2, &newrs, T0);
    assert_int_equal(json_integer_value(json_object_get(st, "terminatingReplicas")), 3);
    json_decref(st);
    old.has_terminating = newrs.has_terminating = false;
    old.observed_generation = 0;
    /* 7 available of 10 with maxUnavailable 2: not enough */
    old.available = 7;
    st = dep_calc_status(&s, prev, all, 2, &newrs, T0);
    assert_string_equal(field(dep_cond_get(st, "Available"), "status"), "False");
    assert_string_equal(field(dep_cond_get(st, "Available"), "reason"), "MinimumReplicasUnavailable");
    json_decref(st);
    /* zero counts are omitted, as the API server writes them */
    dep_spec_t zero = spec(0, 0);
    st = dep_calc_status(&zero, NULL, NULL, 0, NULL, T0);
    assert_null(json_object_get(st, "replicas"));
    assert_null(json_object_get(st, "observedGeneration"));
    json_decref(st);
    json_decref(prev);
}

/* ---- syncRolloutStatus ---------------------------------------------------- */

static json_t *rollout(const dep_spec_t *s, json_t *cur, dep_rs_t *const *all, size_t n,
                       const dep_rs_t *newrs, int64_t now, int64_t *requeue)
{
    return dep_rollout_status(s, cur, all, n, newrs, "foo", now * 1000, requeue);
}

static void test_rollout_no_deadline(void **state)
{
    (void)state;
    dep_spec_t s = spec(1, 0);
    s.has_progress_deadline = false;
    dep_rs_t n = rs("bar", 1, 1, 1, 1);
    dep_rs_t *all[] = {&n};
    json_t *cur = with_progressing("True", "ReplicaSetUpdated", T0);
    int64_t rq;
    json_t *st = rollout(&s, cur, all, 1, &n, T0 + 5, &rq);
    assert_null(dep_cond_get(st, "Progressing"));
    assert_int_equal(rq, -1);
    json_decref(st);
    json_decref(cur);
}

static void test_rollout_complete(void **state)
{
    (void)state;
    dep_spec_t s = spec(1, 0);
    dep_rs_t n = rs("bar", 1, 1, 1, 1);
    dep_rs_t *all[] = {&n};
    int64_t rq;
    /* creates the condition when missing */
    json_t *cur = json_object();
    json_t *st = rollout(&s, cur, all, 1, &n, T0, &rq);
    json_t *c = dep_cond_get(st, "Progressing");
    assert_string_equal(field(c, "reason"), "NewReplicaSetAvailable");
    assert_string_equal(field(c, "message"), "ReplicaSet \"bar\" has successfully progressed.");
    json_decref(st);
    json_decref(cur);
    /* keeps lastTransitionTime of an existing True */
    cur = with_progressing("True", "ReplicaSetUpdated", T0);
    st = rollout(&s, cur, all, 1, &n, T0 + 30, &rq);
    c = dep_cond_get(st, "Progressing");
    assert_string_equal(field(c, "reason"), "NewReplicaSetAvailable");
    assert_string_equal(field(c, "lastTransitionTime"), "2016-01-01T00:00:00Z");
    json_decref(st);
    json_decref(cur);
    /* replaces a False entirely */
    cur = with_progressing("False", "ProgressDeadlineExceeded", T0);
    st = rollout(&s, cur, all, 1, &n, T0 + 30, &rq);
    c = dep_cond_get(st, "Progressing");
    assert_string_equal(field(c, "status"), "True");
    assert_string_equal(field(c, "lastTransitionTime"), "2016-01-01T00:00:30Z");
    json_decref(st);
    json_decref(cur);
    /* no new ReplicaSet (scaled to 0): the deployment is named */
    dep_spec_t z = spec(0, 0);
    cur = json_object();
    st = rollout(&z, cur, NULL, 0, NULL, T0, &rq);
    assert_string_equal(field(dep_cond_get(st, "Progressing"), "message"),
                        "Deployment \"foo\" has successfully progressed.");
    json_decref(st);
    json_decref(cur);
}

static void test_rollout_progressing(void **state)
{
    (void)state;
    dep_spec_t s = spec(3, 0);
    dep_rs_t old = rs("old", 2, 2, 2, 2), n = rs("bar", 2, 2, 1, 1);
    dep_rs_t *all[] = {&old, &n};
    int64_t rq;
    json_t *cur = with_progressing("True", "ReplicaSetUpdated", T0);
    json_t *before = counts(4, 1, 3, 3);
    json_object_update(cur, before);
    json_decref(before);
    json_t *st = rollout(&s, cur, all, 2, &n, T0 + 30, &rq);
    json_t *c = dep_cond_get(st, "Progressing");
    assert_string_equal(field(c, "reason"), "ReplicaSetUpdated");
    assert_string_equal(field(c, "message"), "ReplicaSet \"bar\" is progressing.");
    assert_string_equal(field(c, "lastUpdateTime"), "2016-01-01T00:00:30Z");   /* refreshed */
    assert_string_equal(field(c, "lastTransitionTime"), "2016-01-01T00:00:00Z"); /* kept */
    assert_int_equal(rq, -1); /* it changed: written, not requeued */
    json_decref(st);
    json_decref(cur);
}

static void test_rollout_timeout_and_requeue(void **state)
{
    (void)state;
    dep_spec_t s = spec(3, 0);
    s.progress_deadline = 15;
    dep_rs_t old = rs("old", 3, 3, 3, 3), n = rs("bar", 1, 1, 0, 0);
    dep_rs_t *all[] = {&old, &n};
    int64_t rq;
    /* stuck since T0, deadline 15 s: at T0+5 nothing changes, look again at T0+15 (+1 s) */
    json_t *cur = with_progressing("True", "NewReplicaSetCreated", T0);
    json_t *now_status = rollout(&s, cur, all, 2, &n, T0, &rq);
    json_decref(cur);
    cur = now_status; /* what the controller wrote */
    json_t *st = rollout(&s, cur, all, 2, &n, T0 + 5, &rq);
    assert_true(json_equal(st, cur));
    assert_int_equal(rq, 11000);
    json_decref(st);
    /* less than a second left: now */
    st = rollout(&s, cur, all, 2, &n, T0 + 15, &rq);
    assert_int_equal(rq, 0);
    json_decref(st);
    /* past the deadline: ProgressDeadlineExceeded */
    st = rollout(&s, cur, all, 2, &n, T0 + 16, &rq);
    json_t *c = dep_cond_get(st, "Progressing");
    assert_string_equal(field(c, "status"), "False");
    assert_string_equal(field(c, "reason"), "ProgressDeadlineExceeded");
    assert_string_equal(field(c, "message"), "ReplicaSet \"bar\" has timed out progressing.");
    assert_int_equal(rq, -1);
    /* and then it stays, without requeues */
    json_t *st2 = rollout(&s, st, all, 2, &n, T0 + 100, &rq);
    assert_true(json_equal(st, st2));
    assert_int_equal(rq, -1);
    json_decref(st2);
    json_decref(st);
    json_decref(cur);
}

static void test_replica_failure_copied(void **state)
{
    (void)state;
    dep_spec_t s = spec(2, 0);
    json_t *rsobj = load("{\"status\":{\"conditions\":[{\"type\":\"ReplicaFailure\",\"status\":\"True\","
                         "\"reason\":\"FailedCreate\",\"message\":\"quota\","
                         "\"lastTransitionTime\":\"2016-01-01T00:00:05Z\"}]}}");
    dep_rs_t n = rs("bar", 2, 1, 1, 1);
    n.obj = rsobj;
    dep_rs_t *all[] = {&n};
    int64_t rq;
    json_t *cur = json_object();
    json_t *st = rollout(&s, cur, all, 1, &n, T0 + 30, &rq);
    json_t *c = dep_cond_get(st, "ReplicaFailure");
    assert_non_null(c);
    assert_string_equal(field(c, "reason"), "FailedCreate");
    assert_string_equal(field(c, "lastUpdateTime"), "2016-01-01T00:00:05Z");
    /* gone from the ReplicaSet: gone from the Deployment */
    n.obj = NULL;
    json_t *st2 = rollout(&s, st, all, 1, &n, T0 + 40, &rq);
    assert_null(dep_cond_get(st2, "ReplicaFailure"));
    json_decref(st2);
    json_decref(st);
    json_decref(cur);
    json_decref(rsobj);
}

static void test_paused_conditions(void **state)
{
    (void)state;
    dep_spec_t s = spec(1, 0);
    s.paused = true;
    json_t *st = json_object();
    assert_true(dep_check_paused_conditions(&s, st, T0));
    assert_string_equal(field(dep_cond_get(st, "Progressing"), "reason"), "DeploymentPaused");
    assert_string_equal(field(dep_cond_get(st, "Progressing"), "status"), "Unknown");
    assert_false(dep_check_paused_conditions(&s, st, T0 + 1));
    s.paused = false;
    assert_true(dep_check_paused_conditions(&s, st, T0 + 2));
    assert_string_equal(field(dep_cond_get(st, "Progressing"), "reason"), "DeploymentResumed");
    json_decref(st);
    /* a reported timeout is not overwritten by pausing */
    s.paused = true;
    st = with_progressing("False", "ProgressDeadlineExceeded", T0);
    assert_false(dep_check_paused_conditions(&s, st, T0 + 2));
    json_decref(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conditions),
        cmocka_unit_test(test_complete_table),
        cmocka_unit_test(test_progressing_table),
        cmocka_unit_test(test_timed_out_table),
        cmocka_unit_test(test_calc_status),
        cmocka_unit_test(test_rollout_no_deadline),
        cmocka_unit_test(test_rollout_complete),
        cmocka_unit_test(test_rollout_progressing),
        cmocka_unit_test(test_rollout_timeout_and_requeue),
        cmocka_unit_test(test_replica_failure_copied),
        cmocka_unit_test(test_paused_conditions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
