/* Unit tests for lib/msg.c: round trips and refusal of malformed envelopes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "msg.h"

static void make_event(msg_envelope_t *env, msg_event_t *ev, const char *json)
{
    kubus__v1__envelope__init(env);
    kubus__v1__watch_event__init(ev);
    env->version = MSG_VERSION;
    env->body_case = KUBUS__V1__ENVELOPE__BODY_EVENT;
    env->event = ev;
    ev->epoch = 7;
    ev->seq = 42;
    ev->resource = "pods";
    ev->namespace_ = "default";
    ev->name = "web-abcde";
    ev->type = KUBUS__V1__EVENT_TYPE__ADDED;
    ev->object.data = (uint8_t *)json;
    ev->object.len = strlen(json);
    ev->resource_version = "123";
    ev->uid = "u-1";
}

static void test_event_round_trip(void **state)
{
    (void)state;
    msg_envelope_t env;
    msg_event_t ev;
    const char *json = "{\"metadata\":{\"name\":\"web-abcde\"}}";
    make_event(&env, &ev, json);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(msg_encode(&env, &buf, &len), 0);
    char err[128];
    msg_envelope_t *back = msg_decode(buf, len, err, sizeof err);
    assert_non_null(back);
    assert_int_equal(back->body_case, KUBUS__V1__ENVELOPE__BODY_EVENT);
    assert_int_equal(back->event->seq, 42);
    assert_string_equal(back->event->namespace_, "default");
    assert_int_equal(back->event->object.len, strlen(json));
    assert_memory_equal(back->event->object.data, json, strlen(json));
    msg_free(back);
    free(buf);
}

static void test_action_round_trip(void **state)
{
    (void)state;
    msg_envelope_t env;
    msg_action_t a;
    kubus__v1__envelope__init(&env);
    kubus__v1__action__init(&a);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_ACTION;
    env.action = &a;
    a.id = (3ull << 32) | 9;
    a.controller = "replicaset";
    a.verb = KUBUS__V1__VERB__DELETE;
    a.resource = "pods";
    a.namespace_ = "ns";
    a.name = "p";
    a.precondition_uid = "uid-1";
    a.propagation = KUBUS__V1__PROPAGATION__BACKGROUND;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(msg_encode(&env, &buf, &len), 0);
    msg_envelope_t *back = msg_decode(buf, len, NULL, 0);
    assert_non_null(back);
    assert_int_equal(back->action->id, (3ull << 32) | 9);
    assert_string_equal(back->action->precondition_uid, "uid-1");
    assert_int_equal(back->action->propagation, KUBUS__V1__PROPAGATION__BACKGROUND);
    msg_free(back);
    free(buf);
}

static void test_refuses_truncated(void **state)
{
    (void)state;
    msg_envelope_t env;
    msg_event_t ev;
    make_event(&env, &ev, "{\"a\":1}");
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(msg_encode(&env, &buf, &len), 0);
    char err[128];
    for (size_t cut = 0; cut < len; cut++) {
        msg_envelope_t *back = msg_decode(buf, cut, err, sizeof err);
        /* A prefix may happen to parse as a smaller valid message only if
         * it still carries every required field; ours never does. */
        assert_null(back);
    }
    free(buf);
}

static void test_refuses_garbage_and_bad_fields(void **state)
{
    (void)state;
    char err[128];
    const uint8_t junk[] = { 0xff, 0xff, 0xff, 0xff, 0x0f, 0x01 };
    assert_null(msg_decode(junk, sizeof junk, err, sizeof err));
    assert_null(msg_decode(NULL, 0, err, sizeof err));

    msg_envelope_t env;
    msg_event_t ev;
    make_event(&env, &ev, "{}");
    uint8_t *buf = NULL;
    size_t len = 0;

    env.version = 2; /* unknown version */
    assert_int_equal(msg_encode(&env, &buf, &len), -1);
    env.version = MSG_VERSION;
    ev.type = 99; /* unknown event type */
    assert_int_equal(msg_validate(&env, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown type"));
    ev.type = KUBUS__V1__EVENT_TYPE__ADDED;
    ev.resource = "";
    assert_int_equal(msg_validate(&env, err, sizeof err), -1);
    ev.resource = "pods";
    ev.object.len = 0;
    assert_int_equal(msg_validate(&env, err, sizeof err), -1);
    env.body_case = KUBUS__V1__ENVELOPE__BODY__NOT_SET;
    assert_int_equal(msg_validate(&env, err, sizeof err), -1);
}

static void test_action_rules(void **state)
{
    (void)state;
    msg_envelope_t env;
    msg_action_t a;
    kubus__v1__envelope__init(&env);
    kubus__v1__action__init(&a);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_ACTION;
    env.action = &a;
    a.id = 1;
    a.controller = "rs";
    a.resource = "pods";
    a.verb = KUBUS__V1__VERB__PATCH;
    a.name = "p";
    a.body.data = (uint8_t *)"{}";
    a.body.len = 2;
    char err[128];
    assert_int_equal(msg_validate(&env, err, sizeof err), -1); /* no patch type */
    a.patch_type = KUBUS__V1__PATCH_TYPE__MERGE;
    assert_int_equal(msg_validate(&env, err, sizeof err), 0);
    a.verb = KUBUS__V1__VERB__CREATE;
    a.body.len = 0;
    assert_int_equal(msg_validate(&env, err, sizeof err), -1);
    a.verb = 42;
    assert_int_equal(msg_validate(&env, err, sizeof err), -1);
    a.verb = KUBUS__V1__VERB__GET;
    a.id = 0;
    assert_int_equal(msg_validate(&env, err, sizeof err), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_event_round_trip),
        cmocka_unit_test(test_action_round_trip),
        cmocka_unit_test(test_refuses_truncated),
        cmocka_unit_test(test_refuses_garbage_and_bad_fields),
        cmocka_unit_test(test_action_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
