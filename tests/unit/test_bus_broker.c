/* Unit tests for the broker's pure parts: per-path checks (broker/route.c)
 * and the bounded queue of held actions (broker/actq.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <zmq.h>

#include "actq.h"
#include "msg.h"
#include "route.h"

static void make_action(msg_envelope_t *env, msg_action_t *a, const char *controller)
{
    kubus__v1__envelope__init(env);
    kubus__v1__action__init(a);
    env->version = MSG_VERSION;
    env->body_case = KUBUS__V1__ENVELOPE__BODY_ACTION;
    env->action = a;
    a->id = 1;
    a->controller = (char *)controller;
    a->verb = KUBUS__V1__VERB__DELETE;
    a->resource = "pods";
    a->name = "p";
}

static void test_controller_id(void **state)
{
    (void)state;
    assert_true(broker_id_is_controller("replicaset.0", 12, "replicaset"));
    assert_true(broker_id_is_controller("job.12", 6, "job"));
    assert_false(broker_id_is_controller("replicaset", 10, "replicaset"));  /* no shard */
    assert_false(broker_id_is_controller("replicaset.", 11, "replicaset")); /* empty shard */
    assert_false(broker_id_is_controller("replicasetx.0", 13, "replicaset"));
    assert_false(broker_id_is_controller("deployment.0", 12, "replicaset"));
    assert_false(broker_id_is_controller("job.0", 5, ""));
    assert_false(broker_id_is_controller("", 0, "job"));
    assert_false(broker_id_is_controller("\0A\0B\0", 5, "job")); /* zmq-generated id */
}

static void test_from_controller(void **state)
{
    (void)state;
    msg_envelope_t env;
    msg_action_t a;
    char err[256];
    make_action(&env, &a, "replicaset");
    assert_int_equal(broker_check_from_controller("replicaset.0", 12, &env, err, sizeof err), 0);
    assert_int_equal(broker_check_from_controller("deployment.0", 12, &env, err, sizeof err), -1);
    assert_non_null(strstr(err, "controller \"replicaset\""));
    Kubus__V1__InflightQuery q;
    kubus__v1__inflight_query__init(&q);
    q.controller = "job";
    env.body_case = KUBUS__V1__ENVELOPE__BODY_INFLIGHT_QUERY;
    env.inflight_query = &q;
    assert_int_equal(broker_check_from_controller("job.0", 5, &env, err, sizeof err), 0);
    assert_int_equal(broker_check_from_controller("cronjob.0", 9, &env, err, sizeof err), -1);
    msg_heartbeat_t hb;
    kubus__v1__heartbeat__init(&hb);
    env.body_case = KUBUS__V1__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    assert_int_equal(broker_check_from_controller("job.0", 5, &env, err, sizeof err), -1);
}

static void test_to_controller(void **state)
{
    (void)state;
    msg_envelope_t env;
    msg_result_t r;
    char err[256];
    kubus__v1__envelope__init(&env);
    kubus__v1__action_result__init(&r);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_ACTION_RESULT;
    env.action_result = &r;
    r.controller = "deployment";
    assert_int_equal(broker_check_to_controller("deployment.0", 12, &env, err, sizeof err), 0);
    assert_int_equal(broker_check_to_controller("replicaset.0", 12, &env, err, sizeof err), -1);
    msg_action_t a;
    make_action(&env, &a, "deployment");
    assert_int_equal(broker_check_to_controller("deployment.0", 12, &env, err, sizeof err), -1);
}

static void test_publish(void **state)
{
    (void)state;
    msg_envelope_t env;
    msg_event_t ev;
    char err[256];
    kubus__v1__envelope__init(&env);
    kubus__v1__watch_event__init(&ev);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_EVENT;
    env.event = &ev;
    ev.resource = "pods";
    ev.namespace_ = "default";
    const char *ok = "E/pods/default/";
    assert_int_equal(broker_check_publish(ok, strlen(ok), &env, err, sizeof err), 0);
    const char *wrong = "E/pods/kube-system/";
    assert_int_equal(broker_check_publish(wrong, strlen(wrong), &env, err, sizeof err), -1);
    assert_int_equal(broker_check_publish("E/pods/", 7, &env, err, sizeof err), -1);
    assert_int_equal(broker_check_publish("", 0, &env, err, sizeof err), -1);
    ev.resource = "nodes";
    ev.namespace_ = "";
    assert_int_equal(broker_check_publish("E/nodes//", 9, &env, err, sizeof err), 0);
    Kubus__V1__InformerStatus is;
    kubus__v1__informer_status__init(&is);
    env.body_case = KUBUS__V1__ENVELOPE__BODY_INFORMER_STATUS;
    env.informer_status = &is;
    assert_int_equal(broker_check_publish("H/informer", 10, &env, err, sizeof err), 0);
    assert_int_equal(broker_check_publish("H/executor", 10, &env, err, sizeof err), -1);
    Kubus__V1__ExecutorStatus es;
    kubus__v1__executor_status__init(&es);
    env.body_case = KUBUS__V1__ENVELOPE__BODY_EXECUTOR_STATUS;
    env.executor_status = &es;
    assert_int_equal(broker_check_publish("H/executor", 10, &env, err, sizeof err), 0);
    msg_action_t a;
    make_action(&env, &a, "x");
    assert_int_equal(broker_check_publish("E/pods/default/", 15, &env, err, sizeof err), -1);
}

static void test_subscription(void **state)
{
    (void)state;
    assert_true(broker_is_subscription("\x01" "E/pods/", 8));
    assert_true(broker_is_subscription("\x00" "E/pods/", 8));
    assert_true(broker_is_subscription("\x01", 1)); /* subscribe to everything */
    assert_false(broker_is_subscription("", 0));
    assert_false(broker_is_subscription("\x02" "E/", 3));
}

static void msg_of(zmq_msg_t *m, const char *s)
{
    assert_int_equal(zmq_msg_init_size(m, strlen(s)), 0);
    memcpy(zmq_msg_data(m), s, strlen(s));
}

static void push(broker_actq_t *q, const char *id, const char *env)
{
    zmq_msg_t i, e;
    msg_of(&i, id);
    msg_of(&e, env);
    assert_int_equal(broker_actq_push(q, &i, &e), 0);
    assert_int_equal(zmq_msg_size(&i), 0); /* moved */
    zmq_msg_close(&i);
    zmq_msg_close(&e);
}

static void expect_front(broker_actq_t *q, const char *id, const char *env)
{
    broker_item_t *it = broker_actq_front(q);
    assert_non_null(it);
    assert_int_equal(zmq_msg_size(&it->id), strlen(id));
    assert_memory_equal(zmq_msg_data(&it->id), id, strlen(id));
    assert_int_equal(zmq_msg_size(&it->env), strlen(env));
    assert_memory_equal(zmq_msg_data(&it->env), env, strlen(env));
    broker_actq_pop(q);
}

static void test_actq_fifo_and_growth(void **state)
{
    (void)state;
    broker_actq_t q;
    broker_actq_init(&q, 100000, 0);
    char id[32], env[64];
    /* Enough to grow several times, with a wrapped head in between. */
    for (int i = 0; i < 100; i++) {
        snprintf(id, sizeof id, "c.%d", i);
        push(&q, id, "e");
    }
    for (int i = 0; i < 50; i++) {
        snprintf(id, sizeof id, "c.%d", i);
        expect_front(&q, id, "e");
    }
    for (int i = 100; i < 3000; i++) {
        snprintf(id, sizeof id, "c.%d", i);
        snprintf(env, sizeof env, "a long envelope that does not fit inline %d", i);
        push(&q, id, env);
    }
    assert_int_equal(broker_actq_len(&q), 2950);
    for (int i = 50; i < 3000; i++) {
        snprintf(id, sizeof id, "c.%d", i);
        if (i < 100)
            expect_front(&q, id, "e");
        else {
            snprintf(env, sizeof env, "a long envelope that does not fit inline %d", i);
            expect_front(&q, id, env);
        }
    }
    assert_null(broker_actq_front(&q));
    assert_int_equal(q.dropped, 0);
    assert_int_equal(q.bytes, 0);
    broker_actq_fini(&q);
}

static void test_actq_bounds(void **state)
{
    (void)state;
    broker_actq_t q;
    broker_actq_init(&q, 3, 0);
    push(&q, "a.0", "1");
    push(&q, "a.0", "2");
    push(&q, "a.0", "3");
    push(&q, "a.0", "4"); /* drops "1", the oldest */
    assert_int_equal(q.dropped, 1);
    assert_int_equal(broker_actq_len(&q), 3);
    expect_front(&q, "a.0", "2");
    broker_actq_fini(&q);

    broker_actq_init(&q, 100, 11); /* byte bound: 11 bytes of frames */
    push(&q, "a.0", "xx");  /* 5 */
    push(&q, "a.0", "yy");  /* 10 */
    push(&q, "a.0", "zzz"); /* 16 > 11: drop the oldest, then 11 fits */
    assert_int_equal(q.dropped, 1);
    expect_front(&q, "a.0", "yy");
    /* A single entry larger than the bound is still taken: never lose the newest. */
    push(&q, "a.0", "0123456789abcdef");
    assert_int_equal(broker_actq_len(&q), 1);
    broker_actq_fini(&q); /* frees what is still held (ASan checks) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_controller_id),
        cmocka_unit_test(test_from_controller),
        cmocka_unit_test(test_to_controller),
        cmocka_unit_test(test_publish),
        cmocka_unit_test(test_subscription),
        cmocka_unit_test(test_actq_fifo_and_growth),
        cmocka_unit_test(test_actq_bounds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
