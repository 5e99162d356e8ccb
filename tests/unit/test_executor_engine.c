/* Unit tests for executor/engine.c without an API server: refusals answered
 * without a request, re-sent ids answered once (dedup), the InflightReport,
 * and clean teardown with requests in flight. The "server" is a closed port,
 * so every request fails to connect and is retried with back-off. */
#include <setjmp.h>
#include <sys/stat.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "journal_fixture.h"
#include <stdio.h>
#include <unistd.h>

#include "engine.h"
#include "journal.h"
#include "khttp.h"

typedef struct {
    int results, reports;
    uint64_t last_id;
    uint32_t last_status;
    char last_reason[64];
    size_t report_pending, report_recent;
    char last_to[64];
} sink_t;

static int sink_send(const char *reply_to, const msg_envelope_t *env, void *ud)
{
    sink_t *s = ud;
    snprintf(s->last_to, sizeof s->last_to, "%s", reply_to);
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(msg_encode(env, &buf, &len), 0); /* everything sent is valid */
    free(buf);
    if (env->body_case == KUBUS__V1__ENVELOPE__BODY_ACTION_RESULT) {
        s->results++;
        s->last_id = env->action_result->id;
        s->last_status = env->action_result->status;
        snprintf(s->last_reason, sizeof s->last_reason, "%s", env->action_result->reason);
    } else if (env->body_case == KUBUS__V1__ENVELOPE__BODY_INFLIGHT_REPORT) {
        s->reports++;
        s->report_pending = env->inflight_report->n_pending;
        s->report_recent = env->inflight_report->n_recent;
    }
    return 0;
}

static msg_envelope_t *get_action_by(const char *controller, uint64_t id, const char *resource)
{
    msg_envelope_t env;
    msg_action_t a;
    kubus__v1__envelope__init(&env);
    kubus__v1__action__init(&a);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_ACTION;
    env.action = &a;
    a.id = id;
    a.controller = (char *)controller;
    a.verb = KUBUS__V1__VERB__GET;
    a.resource = (char *)resource;
    a.namespace_ = "ns";
    a.name = "web";
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(msg_encode(&env, &buf, &len), 0);
    msg_envelope_t *out = msg_decode(buf, len, NULL, 0);
    free(buf);
    assert_non_null(out);
    return out;
}

/* An engine whose API server is a closed port (every request fails to
 * connect), answering into s; o's limits and epoch as given. */
static engine_t *closed_port_engine(kubeconfig_t *kc, engine_opts_t *o, sink_t *s)
{
    assert_int_equal(khttp_global_init(), 0);
    memset(kc, 0, sizeof *kc);
    kc->server = strdup("http://127.0.0.1:1");
    o->kc = kc;
    o->send = sink_send;
    o->send_ud = s;
    char err[256];
    engine_t *e = engine_new(o, err, sizeof err);
    assert_non_null(e);
    return e;
}

/* A GET from the controller whose routing id reply_to is ("<name>.<n>"). */
static void submit_as(engine_t *e, const char *reply_to, uint64_t id, const char *resource, uint64_t now)
{
    char controller[64];
    snprintf(controller, sizeof controller, "%.*s", (int)strcspn(reply_to, "."), reply_to);
    msg_envelope_t *env = get_action_by(controller, id, resource);
    engine_submit(e, reply_to, &env, now);
    assert_null(env); /* always taken */
}

static void submit(engine_t *e, uint64_t id, const char *resource, uint64_t now)
{
    submit_as(e, "replicaset.0", id, resource, now);
}

/* Every controller has its own --kube-api-qps/--kube-api-burst bucket, as
 * each of kube-controller-manager's controllers has its own client: one
 * that spent its burst neither slows another nor is topped up by it. */
static void test_bucket_per_controller(void **state)
{
    (void)state;
    kubeconfig_t kc;
    sink_t s = { 0 };
    engine_opts_t o = { .qps = 0.001, .burst = 2, .max_in_flight = 16, .epoch = 5 };
    engine_t *e = closed_port_engine(&kc, &o, &s);
    for (uint64_t i = 1; i <= 5; i++) submit_as(e, "replicaset.0", i, "replicasets", 1000);
    engine_step(e, 1001, 100);
    assert_int_equal(engine_in_flight(e), 2);   /* its burst */
    assert_int_equal(engine_queued(e), 3);
    submit_as(e, "deployment.0", 100, "deployments", 1002);
    submit_as(e, "deployment.0", 101, "deployments", 1002);
    submit_as(e, "deployment.0", 102, "deployments", 1002);
    int timeout = engine_step(e, 1003, 1000);
    assert_int_equal(engine_in_flight(e), 4);   /* the other controller's burst, untouched */
    assert_int_equal(engine_queued(e), 4);
    assert_true(timeout > 0);                   /* waiting for tokens, not spinning */
    engine_destroy(&e);
    kubeconfig_free(&kc);
}

static void test_dedup_and_report(void **state)
{
    (void)state;
    kubeconfig_t kc;
    sink_t s = { 0 };
    engine_opts_t o = { .qps = 100, .burst = 10, .max_in_flight = 4, .epoch = 77 };
    engine_t *e = closed_port_engine(&kc, &o, &s);

    /* Refused without a request, answered at once. */
    submit(e, 1, "widgets", 1000);
    assert_int_equal(s.results, 1);
    assert_int_equal(s.last_id, 1);
    assert_int_equal(s.last_status, 400);
    assert_string_equal(s.last_reason, "BadRequest");
    assert_string_equal(s.last_to, "replicaset.0");
    /* Re-sent after its result: the same result again, nothing applied. */
    submit(e, 1, "widgets", 1001);
    assert_int_equal(s.results, 2);
    assert_int_equal(s.last_status, 400);
    assert_int_equal(engine_stats(e)->duplicates, 1);
    assert_int_equal(engine_stats(e)->refused, 1);

    /* A valid action goes out (and fails to connect, so it is retried). */
    submit(e, 2, "replicasets", 1002);
    assert_int_equal(engine_queued(e), 1);
    engine_step(e, 1003, 100);
    assert_int_equal(engine_queued(e), 0);
    assert_int_equal(engine_in_flight(e), 1);
    /* Re-sent while in flight: absorbed, no second request, no result yet. */
    submit(e, 2, "replicasets", 1004);
    assert_int_equal(engine_queued(e), 0);
    assert_int_equal(engine_in_flight(e), 1);
    assert_int_equal(s.results, 2);
    assert_int_equal(engine_stats(e)->duplicates, 2);

    Kubus__V1__InflightQuery q;
    kubus__v1__inflight_query__init(&q);
    q.controller = "replicaset";
    engine_query(e, "replicaset.0", &q);
    assert_int_equal(s.reports, 1);
    assert_int_equal(s.report_pending, 1);
    assert_int_equal(s.report_recent, 1);

    /* The same id with another action (another life of the controller drew
     * it): answered 400 at once, neither absorbed nor applied. */
    submit(e, 2, "pods", 1004);
    assert_int_equal(s.results, 3);
    assert_int_equal(s.last_id, 2);
    assert_int_equal(s.last_status, 400);
    assert_int_equal(engine_stats(e)->id_reused, 1);
    assert_int_equal(engine_stats(e)->duplicates, 2);
    assert_int_equal(engine_queued(e) + engine_in_flight(e), 1);

    /* Let the connection failure come back and schedule a retry. */
    for (int i = 0; i < 20 && engine_stats(e)->retries == 0; i++) {
        engine_wait(e, NULL, 0, 50);
        engine_step(e, 1005 + (uint64_t)i, 100);
    }
    assert_true(engine_stats(e)->retries >= 1);
    assert_int_equal(s.results, 3); /* still owed: it is retried, not failed */
    engine_destroy(&e); /* ASan: nothing leaks with a retry pending */
    assert_null(e);
    kubeconfig_free(&kc);
}

/* An Event about ReplicaSet ns/<object> (each object has its own
 * aggregation key and spam budget). */
static msg_envelope_t *event_about(uint64_t id, const char *object)
{
    char spec[512];
    int n = snprintf(spec, sizeof spec,
                     "{\"involvedObject\":{\"kind\":\"ReplicaSet\",\"namespace\":\"ns\",\"name\":\"%s\"},"
                     "\"type\":\"Warning\",\"reason\":\"FailedCreate\",\"message\":\"quota\","
                     "\"source\":{\"component\":\"replicaset-controller\"}}", object);
    assert_true(n > 0 && (size_t)n < sizeof spec);
    msg_envelope_t env;
    msg_action_t a;
    kubus__v1__envelope__init(&env);
    kubus__v1__action__init(&a);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_ACTION;
    env.action = &a;
    a.id = id;
    a.controller = "replicaset";
    a.verb = KUBUS__V1__VERB__EVENT;
    a.resource = "events";
    a.namespace_ = "ns";
    a.body.data = (uint8_t *)spec;
    a.body.len = (size_t)n;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(msg_encode(&env, &buf, &len), 0);
    msg_envelope_t *out = msg_decode(buf, len, NULL, 0);
    free(buf);
    assert_non_null(out);
    return out;
}

static msg_envelope_t *event_action(uint64_t id) { return event_about(id, "web"); }

/* A busy controller's Events get one token per ENGINE_EVENT_SHARE work
 * requests, as client-go's one event writer among 5 workers does; an idle
 * one's go at once. 12 tokens, 10 Events queued before 10 GETs: 2 Events
 * (one at once, one after 5 GETs) and 10 GETs, not 6 and 6. */
static void test_events_take_a_share_of_a_busy_bucket(void **state)
{
    (void)state;
    kubeconfig_t kc;
    sink_t s = { 0 };
    engine_opts_t o = { .qps = 0.001, .burst = 12, .max_in_flight = 64, .epoch = 5 };
    engine_t *e = closed_port_engine(&kc, &o, &s);
    char name[32];
    for (uint64_t i = 1; i <= 10; i++) {
        snprintf(name, sizeof name, "web-%llu", (unsigned long long)i);
        msg_envelope_t *env = event_about(i, name);
        engine_submit(e, "replicaset.0", &env, 1000);
    }
    for (uint64_t i = 11; i <= 20; i++) submit(e, i, "replicasets", 1000);
    engine_step(e, 1001, 100);
    assert_int_equal(engine_in_flight(e), 12);
    assert_int_equal(engine_stats(e)->event_tokens, 2);
    engine_destroy(&e);
    kubeconfig_free(&kc);
}

/* At most ENGINE_MAX_QUEUED_EVENTS Events wait per controller; more are
 * dropped (answered Filtered, counted), as client-go's broadcaster drops. */
static void test_event_queue_bounded(void **state)
{
    (void)state;
    kubeconfig_t kc;
    sink_t s = { 0 };
    engine_opts_t o = { .qps = 0.001, .burst = 1, .max_in_flight = 64, .epoch = 5 };
    engine_t *e = closed_port_engine(&kc, &o, &s);
    char name[32];
    for (uint64_t i = 1; i <= ENGINE_MAX_QUEUED_EVENTS + 2; i++) {
        snprintf(name, sizeof name, "web-%llu", (unsigned long long)i);
        msg_envelope_t *env = event_about(i, name);
        engine_submit(e, "replicaset.0", &env, 1000);
    }
    assert_int_equal(s.results, 2);
    assert_string_equal(s.last_reason, "Filtered");
    assert_int_equal(engine_stats(e)->events_dropped, 2);
    assert_int_equal(engine_queued(e), ENGINE_MAX_QUEUED_EVENTS);
    submit(e, 9999, "replicasets", 1000);   /* work still queues */
    assert_int_equal(engine_queued(e), ENGINE_MAX_QUEUED_EVENTS + 1);
    engine_destroy(&e);
    kubeconfig_free(&kc);
}

/* Identical Events go one at a time (POST, then PATCH count+1); those
 * waiting for their key hold no slot, so they cannot crowd out other work. */
static void test_same_event_key_parks_without_a_slot(void **state)
{
    (void)state;
    kubeconfig_t kc;
    memset(&kc, 0, sizeof kc);
    kc.server = strdup("http://127.0.0.1:1");
    sink_t s = { 0 };
    engine_opts_t o = { .kc = &kc, .qps = 100, .burst = 10, .max_in_flight = 2, .epoch = 7,
                        .send = sink_send, .send_ud = &s };
    char err[256];
    engine_t *e = engine_new(&o, err, sizeof err);
    assert_non_null(e);
    for (uint64_t id = 1; id <= 5; id++) {
        msg_envelope_t *env = event_action(id);
        engine_submit(e, "replicaset.0", &env, 1000);
    }
    submit(e, 6, "replicasets", 1000);
    engine_step(e, 1001, 100);
    /* One event request and the GET hold the two slots; four events wait. */
    assert_int_equal(engine_in_flight(e), 2);
    assert_int_equal(engine_queued(e), 4);
    assert_int_equal(s.results, 0);
    engine_destroy(&e);
    kubeconfig_free(&kc);
}

/* A GET outside the controller's role (replicaset may get replicasets,
 * not deployments) is answered 403 without a request, and counted. */
static void test_outside_the_role_forbidden(void **state)
{
    (void)state;
    kubeconfig_t kc;
    sink_t s = { 0 };
    engine_opts_t o = { .qps = 100, .burst = 10, .max_in_flight = 4, .epoch = 3 };
    engine_t *e = closed_port_engine(&kc, &o, &s);
    submit_as(e, "replicaset.0", 1, "deployments", 1000);
    assert_int_equal(s.results, 1);
    assert_int_equal(s.last_status, 403);
    assert_string_equal(s.last_reason, "Forbidden");
    assert_int_equal(engine_stats(e)->forbidden, 1);
    engine_step(e, 1001, 100);
    assert_int_equal(engine_in_flight(e), 0);
    assert_int_equal(engine_queued(e), 0);
    submit_as(e, "deployment.0", 2, "deployments", 1002); /* its own: goes out */
    engine_step(e, 1003, 100);
    assert_int_equal(engine_in_flight(e), 1);
    assert_int_equal(engine_stats(e)->forbidden, 1);
    engine_destroy(&e);
    kubeconfig_free(&kc);
}

/* A controller name with CR/LF (it would end the User-Agent header and
 * start another) is refused before the journal or the network sees it. */
static void test_controller_name_injection_refused(void **state)
{
    (void)state;
    kubeconfig_t kc;
    sink_t s = { 0 };
    engine_opts_t o = { .qps = 100, .burst = 10, .max_in_flight = 4, .epoch = 3 };
    engine_t *e = closed_port_engine(&kc, &o, &s);
    for (int i = 0; i < 2; i++) {
        msg_envelope_t *env = get_action_by("replicaset\r\nImpersonate-User: system:admin", 9, "replicasets");
        engine_submit(e, "replicaset.0", &env, 1000);
        assert_null(env);
    }
    assert_int_equal(s.results, 2);
    assert_int_equal(s.last_status, 400);
    assert_string_equal(s.last_reason, "BadRequest");
    assert_int_equal(engine_stats(e)->refused, 2);
    assert_int_equal(engine_stats(e)->duplicates, 0); /* never journaled */
    engine_step(e, 1001, 100);
    assert_int_equal(engine_in_flight(e), 0);
    Kubus__V1__InflightQuery q;
    kubus__v1__inflight_query__init(&q);
    q.controller = "replicaset";
    engine_query(e, "replicaset.0", &q);
    assert_int_equal(s.report_pending + s.report_recent, 0);
    engine_destroy(&e);
    kubeconfig_free(&kc);
}

/* The result of an action is on file before it is sent: the send callback
 * replays a copy of the journal file and finds it there. */
typedef struct {
    sink_t sink;
    const char *path;            /* the engine's journal */
    char copy[300];
    size_t recent_at_send;
} journal_sink_t;

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    assert_non_null(in);
    assert_non_null(out);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, in)) > 0) assert_int_equal(fwrite(buf, 1, n, out), n);
    fclose(in);
    assert_int_equal(fclose(out), 0);
    assert_int_equal(chmod(to, 0600), 0);   /* a journal must not be readable by others */
}

static int journal_sink_send(const char *reply_to, const msg_envelope_t *env, void *ud)
{
    journal_sink_t *js = ud;
    if (env->body_case == KUBUS__V1__ENVELOPE__BODY_ACTION_RESULT) {
        copy_file(js->path, js->copy);
        journal_t *j = journal_new(JOURNAL_MAX_RECENT, JOURNAL_MAX_RECENT_BYTES, JOURNAL_RECENT_MS);
        journal_replay_t rp;
        char err[256];
        assert_int_equal(journal_open_file(j, js->copy, "http://127.0.0.1:1", 1000, 1700000000000ull, &rp, err,
                                           sizeof err), 0);
        js->recent_at_send = rp.recent;
        journal_destroy(&j);
    }
    return sink_send(reply_to, env, &js->sink);
}

static void test_result_journaled_before_sent(void **state)
{
    (void)state;
    journal_fixture_t jf;
    assert_int_equal(journal_fixture_make(&jf, "engine-test"), 0);
    journal_sink_t js = { .recent_at_send = 99, .path = jf.path };
    assert_int_equal(journal_fixture_file(&jf, "copy.journal", js.copy, sizeof js.copy), 0);
    kubeconfig_t kc;
    memset(&kc, 0, sizeof kc);
    kc.server = strdup("http://127.0.0.1:1");
    assert_int_equal(khttp_global_init(), 0);
    engine_opts_t o = { .kc = &kc, .qps = 100, .burst = 10, .max_in_flight = 4, .epoch = 3,
                        .send = journal_sink_send, .send_ud = &js, .journal_path = js.path,
                        .now_ms = 1000, .now_unix_ms = 1700000000000ull };
    char err[256];
    engine_t *e = engine_new(&o, err, sizeof err);
    assert_non_null(e);
    submit(e, 1, "widgets", 1000); /* refused at once: 400 */
    assert_int_equal(js.sink.results, 1);
    assert_int_equal(js.recent_at_send, 1);
    engine_destroy(&e);
    kubeconfig_free(&kc);
    assert_int_equal(journal_fixture_remove(&jf), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dedup_and_report),
        cmocka_unit_test(test_bucket_per_controller),
        cmocka_unit_test(test_same_event_key_parks_without_a_slot),
        cmocka_unit_test(test_events_take_a_share_of_a_busy_bucket),
        cmocka_unit_test(test_event_queue_bounded),
        cmocka_unit_test(test_outside_the_role_forbidden),
        cmocka_unit_test(test_controller_name_injection_refused),
        cmocka_unit_test(test_result_journaled_before_sent),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
