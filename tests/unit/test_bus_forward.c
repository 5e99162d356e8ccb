/* Tests kubus-broker as a process ($KUBUS_BIN/kubus-broker on a private bus
 * directory), through real ZeroMQ sockets: events are forwarded and
 * malformed or mis-topicked ones dropped; actions wait while no executor is
 * connected and arrive in order when one is; results reach the controller;
 * a controller cannot speak for another; SIGTERM gives a clean exit 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <zmq.h>

#include "bus.h"
#include "batch.h"
#include "msg.h"
#include "tmpdir_fixture.h"

typedef struct {
    char dir[64];
    bus_config_t bus;
    pid_t broker;
    void *z;
} fixture_t;

static int setup(void **state)
{
    const char *bin = getenv("KUBUS_BIN");
    if (!bin) {
        fprintf(stderr, "KUBUS_BIN not set: skipping\n");
        return -1;
    }
    fixture_t *f = calloc(1, sizeof *f);
    if (!f) return -1;
    if (tmpdir_make(f->dir, sizeof f->dir, "fwd") < 0 || bus_config_parse(&f->bus, f->dir) < 0) return -1;
    char path[512], busflag[128];
    snprintf(path, sizeof path, "%s/kubus-broker", bin);
    snprintf(busflag, sizeof busflag, "--bus-dir=%s", f->dir);
    f->broker = fork();
    if (f->broker == 0) {
        execl(path, path, busflag, "-v=0", (char *)NULL);
        _exit(127);
    }
    f->z = zmq_ctx_new();
    *state = f;
    return f->broker > 0 && f->z ? 0 : -1;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    int status = -1;
    kill(f->broker, SIGTERM);
    waitpid(f->broker, &status, 0);
    zmq_ctx_term(f->z);
    if (tmpdir_remove(f->dir) < 0) fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    /* A clean exit (also: no leaks under ASan) after SIGTERM. */
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void *sock(fixture_t *f, int type, bus_endpoint_t ep, const char *id)
{
    void *s = zmq_socket(f->z, type);
    assert_non_null(s);
    int zero = 0, timeout = 3000;
    zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    if (id) assert_int_equal(zmq_setsockopt(s, ZMQ_ROUTING_ID, id, strlen(id)), 0);
    char endpoint[256];
    assert_int_equal(bus_endpoint(&f->bus, ep, endpoint, sizeof endpoint), 0);
    assert_int_equal(zmq_connect(s, endpoint), 0);
    return s;
}

static void send_env(void *s, const char *first, const msg_envelope_t *env)
{
    assert_int_equal(bus_send(s, first, env, false), 0);
}

static void make_event(msg_envelope_t *env, msg_event_t *ev, const char *name)
{
    kubus__v1__envelope__init(env);
    kubus__v1__watch_event__init(ev);
    env->version = MSG_VERSION;
    env->body_case = KUBUS__V1__ENVELOPE__BODY_EVENT;
    env->event = ev;
    ev->epoch = 1;
    ev->seq = 1;
    ev->resource = "pods";
    ev->namespace_ = "default";
    ev->name = (char *)name;
    ev->type = KUBUS__V1__EVENT_TYPE__ADDED;
    ev->object.data = (uint8_t *)"{}";
    ev->object.len = 2;
}

/* A batch of n pods events from seq first, as the informer builds it. */
static void make_batch(batch_frame_t *f, uint64_t first, int n)
{
    batch_builder_t b;
    batch_builder_init(&b);
    char err[256];
    for (int i = 0; i < n; i++) {
        msg_envelope_t env;
        msg_event_t ev;
        make_event(&env, &ev, "batched");
        ev.seq = first + (uint64_t)i;
        assert_int_equal(batch_add(&b, &ev, err, sizeof err), 0);
    }
    assert_int_equal(batch_finish(&b, f), 0);
    batch_builder_fini(&b);
}

static void make_action(msg_envelope_t *env, msg_action_t *a, const char *controller, uint64_t id)
{
    kubus__v1__envelope__init(env);
    kubus__v1__action__init(a);
    env->version = MSG_VERSION;
    env->body_case = KUBUS__V1__ENVELOPE__BODY_ACTION;
    env->action = a;
    a->id = id;
    a->controller = (char *)controller;
    a->verb = KUBUS__V1__VERB__DELETE;
    a->resource = "pods";
    a->namespace_ = "default";
    a->name = "p";
}

static void executor_heartbeat(void *exec)
{
    msg_envelope_t env;
    msg_heartbeat_t hb;
    kubus__v1__envelope__init(&env);
    kubus__v1__heartbeat__init(&hb);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_HEARTBEAT;
    env.heartbeat = &hb;
    hb.worker = "executor";
    hb.pid = 1;
    send_env(exec, NULL, &env);
}

/* Receives an action on the executor side: [controller-id][envelope]. */
static uint64_t recv_action(void *exec, const char *want_id)
{
    char prefix[BUS_ID_MAX], err[256];
    msg_envelope_t *env = bus_recv(exec, prefix, sizeof prefix, false, err, sizeof err);
    if (!env) fail_msg("executor received nothing: %s", zmq_strerror(errno));
    assert_string_equal(prefix, want_id);
    assert_int_equal(env->body_case, KUBUS__V1__ENVELOPE__BODY_ACTION);
    uint64_t id = env->action->id;
    msg_free(env);
    return id;
}

static void test_events(void **state)
{
    fixture_t *f = *state;
    void *pub = sock(f, ZMQ_PUB, BUS_EP_EVENTS_IN, NULL);
    void *sub = sock(f, ZMQ_SUB, BUS_EP_EVENTS, NULL);
    assert_int_equal(zmq_setsockopt(sub, ZMQ_SUBSCRIBE, "E/pods/", 7), 0);
    msg_envelope_t env;
    msg_event_t ev;
    char topic[BUS_TOPIC_MAX], prefix[BUS_TOPIC_MAX], err[256];
    /* Subscriptions travel up through the broker: publish until one arrives. */
    make_event(&env, &ev, "warmup");
    bus_topic_event(topic, sizeof topic, "pods", "default");
    int timeout = 100;
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    msg_envelope_t *got = NULL;
    for (int i = 0; i < 50 && !got; i++) {
        send_env(pub, topic, &env);
        got = bus_recv(sub, prefix, sizeof prefix, false, err, sizeof err);
    }
    assert_non_null(got);
    msg_free(got);
    while ((got = bus_recv(sub, prefix, sizeof prefix, false, err, sizeof err))) msg_free(got);
    timeout = 3000;
    zmq_setsockopt(sub, ZMQ_RCVTIMEO, &timeout, sizeof timeout);
    /* Garbage, a lying topic and a lone frame are dropped; the marker passes. */
    assert_int_equal(bus_send_raw(pub, "E/pods/default/", "\xff\xff\xff", 3, false), 0);
    make_event(&env, &ev, "liar");
    send_env(pub, "E/pods/kube-system/", &env);
    assert_true(zmq_send(pub, "E/pods/x", 8, 0) == 8);
    make_event(&env, &ev, "marker");
    send_env(pub, topic, &env);
    got = bus_recv(sub, prefix, sizeof prefix, false, err, sizeof err);
    assert_non_null(got);
    assert_string_equal(prefix, "E/pods/default/");
    assert_string_equal(got->event->name, "marker");
    msg_free(got);
    /* Batches: under a namespace topic, miscounted or cut short, dropped; the
     * good one passes as it was sent, under "E/pods/". */
    batch_frame_t fr;
    make_batch(&fr, 5, 3);
    assert_int_equal(bus_send_raw(pub, "E/pods/default/", batch_frame_data(&fr), fr.len, false), 0);
    assert_int_equal(bus_send_raw(pub, "E/pods/", batch_frame_data(&fr), fr.len - 1, false), 0);
    uint8_t *miscounted = malloc(fr.len);
    memcpy(miscounted, batch_frame_data(&fr), fr.len);
    uint8_t *count = memmem(miscounted, 24, "\x20\x03", 2);   /* EventBatch.count = 3 */
    assert_non_null(count);
    count[1] = 4;
    assert_int_equal(bus_send_raw(pub, "E/pods/", miscounted, fr.len, false), 0);
    free(miscounted);
    assert_int_equal(bus_send_raw(pub, "E/pods/", batch_frame_data(&fr), fr.len, false), 0);
    zmq_msg_t m;
    zmq_msg_init(&m);
    assert_true(zmq_msg_recv(&m, sub, 0) >= 0);
    assert_true(zmq_msg_size(&m) == 7 && memcmp(zmq_msg_data(&m), "E/pods/", 7) == 0);
    assert_true(zmq_msg_recv(&m, sub, 0) >= 0);
    assert_int_equal(zmq_msg_size(&m), fr.len);
    assert_memory_equal(zmq_msg_data(&m), batch_frame_data(&fr), fr.len);
    zmq_msg_close(&m);
    batch_frame_free(&fr);
    zmq_close(pub);
    zmq_close(sub);
}

static void test_actions_held_then_flushed(void **state)
{
    fixture_t *f = *state;
    void *ctl = sock(f, ZMQ_DEALER, BUS_EP_ACTIONS, "replicaset.0");
    msg_envelope_t env;
    msg_action_t a;
    /* No executor yet: the broker holds these. */
    for (uint64_t id = 1; id <= 3; id++) {
        make_action(&env, &a, "replicaset", id);
        send_env(ctl, NULL, &env);
    }
    /* Someone else's action from our socket: refused. */
    make_action(&env, &a, "deployment", 99);
    send_env(ctl, NULL, &env);
    make_action(&env, &a, "replicaset", 4);
    send_env(ctl, NULL, &env);
    usleep(200 * 1000);
    void *exec = sock(f, ZMQ_DEALER, BUS_EP_EXEC, BUS_EXECUTOR_ID);
    executor_heartbeat(exec);
    for (uint64_t id = 1; id <= 4; id++) assert_int_equal(recv_action(exec, "replicaset.0"), id);

    /* A result goes back to the controller that asked. */
    msg_result_t r;
    kubus__v1__action_result__init(&r);
    r.id = 2;
    r.controller = "replicaset";
    r.status = 200;
    r.verb = KUBUS__V1__VERB__DELETE;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_ACTION_RESULT;
    env.action_result = &r;
    send_env(exec, "replicaset.0", &env);
    char prefix[64], err[256];
    msg_envelope_t *got = bus_recv(ctl, prefix, sizeof prefix, false, err, sizeof err);
    assert_non_null(got);
    assert_int_equal(got->body_case, KUBUS__V1__ENVELOPE__BODY_ACTION_RESULT);
    assert_int_equal(got->action_result->id, 2);
    msg_free(got);

    /* The executor goes away: actions wait again and follow it to its successor. */
    zmq_close(exec);
    usleep(200 * 1000);
    make_action(&env, &a, "replicaset", 5);
    send_env(ctl, NULL, &env);
    usleep(200 * 1000);
    exec = sock(f, ZMQ_DEALER, BUS_EP_EXEC, BUS_EXECUTOR_ID);
    executor_heartbeat(exec);
    assert_int_equal(recv_action(exec, "replicaset.0"), 5);
    zmq_close(exec);
    zmq_close(ctl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_actions_held_then_flushed),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
