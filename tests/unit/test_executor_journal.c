/* Unit tests for executor/journal.c: pending/recent per controller, expiry,
 * bounds, the InflightReport, and deduplication of re-sent action ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "journal.h"

/* A decoded-looking envelope the journal can own (freed with msg_free). */
static msg_envelope_t *action_env(uint64_t id, const char *name)
{
    msg_envelope_t env;
    msg_action_t a;
    kubus__v1__envelope__init(&env);
    kubus__v1__action__init(&a);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_ACTION;
    env.action = &a;
    a.id = id;
    a.controller = "replicaset";
    a.verb = KUBUS__V1__VERB__CREATE;
    a.resource = "pods";
    a.namespace_ = "ns";
    a.name = (char *)name;
    a.body.data = (uint8_t *)"{}";
    a.body.len = 2;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(msg_encode(&env, &buf, &len), 0);
    msg_envelope_t *out = msg_decode(buf, len, NULL, 0);
    free(buf);
    assert_non_null(out);
    return out;
}

static void result_for(msg_result_t *r, uint64_t id, uint32_t status)
{
    kubus__v1__action_result__init(r);
    r->id = id;
    r->controller = "replicaset";
    r->status = status;
    r->verb = KUBUS__V1__VERB__CREATE;
    r->resource = "pods";
    r->name = "p";
    r->object.data = (uint8_t *)"{\"kind\":\"Pod\"}";
    r->object.len = 14;
}

static journal_admit_t admit(journal_t *j, const char *ctl, uint64_t id, uint64_t now, const msg_result_t **done)
{
    msg_envelope_t *env = action_env(id, "p");
    journal_admit_t rc = journal_admit(j, ctl, &env, now, done);
    if (rc == JOURNAL_ADMITTED) assert_null(env);
    else msg_free(env);
    return rc;
}

/* The same id with other content is not the same action: refused, neither
 * absorbed as a duplicate nor answered with the other action's result. */
static void test_reused_id_refused(void **state)
{
    (void)state;
    journal_t *j = journal_new(JOURNAL_MAX_RECENT, JOURNAL_MAX_RECENT_BYTES, JOURNAL_RECENT_MS);
    const msg_result_t *done = NULL;
    assert_int_equal(admit(j, "replicaset.0", 7, 0, &done), JOURNAL_ADMITTED);
    msg_envelope_t *other = action_env(7, "q");
    assert_int_equal(journal_admit(j, "replicaset.0", &other, 1, &done), JOURNAL_ID_REUSED);
    assert_non_null(other);   /* the caller keeps it */
    assert_int_equal(journal_pending_count(j, "replicaset.0"), 1);
    msg_result_t r;
    result_for(&r, 7, 201);
    assert_int_equal(journal_complete(j, "replicaset.0", &r, 10), 0);   /* no duplicate was absorbed */
    done = NULL;
    assert_int_equal(journal_admit(j, "replicaset.0", &other, 11, &done), JOURNAL_ID_REUSED);
    assert_null(done);
    msg_free(other);
    assert_int_equal(admit(j, "replicaset.0", 7, 12, &done), JOURNAL_DUP_DONE);   /* a true re-send */
    journal_destroy(&j);
}

static void test_dedup_of_repeated_ids(void **state)
{
    (void)state;
    journal_t *j = journal_new(JOURNAL_MAX_RECENT, JOURNAL_MAX_RECENT_BYTES, JOURNAL_RECENT_MS);
    const msg_result_t *done = NULL;
    assert_int_equal(admit(j, "replicaset.0", 7, 0, &done), JOURNAL_ADMITTED);
    /* Re-sent while in flight: not applied twice. */
    assert_int_equal(admit(j, "replicaset.0", 7, 1, &done), JOURNAL_DUP_PENDING);
    assert_int_equal(admit(j, "replicaset.0", 7, 2, &done), JOURNAL_DUP_PENDING);
    assert_int_equal(journal_pending_count(j, "replicaset.0"), 1);
    /* Same id from another controller is another action. */
    assert_int_equal(admit(j, "deployment.0", 7, 2, &done), JOURNAL_ADMITTED);

    msg_result_t r;
    result_for(&r, 7, 201);
    assert_int_equal(journal_complete(j, "replicaset.0", &r, 10), 2);
    assert_int_equal(journal_complete(j, "replicaset.0", &r, 10), -1); /* only once */
    assert_int_equal(journal_pending_count(j, "replicaset.0"), 0);
    assert_int_equal(journal_recent_count(j, "replicaset.0"), 1);

    /* Re-sent after it finished: the stored result goes back. */
    done = NULL;
    assert_int_equal(admit(j, "replicaset.0", 7, 20, &done), JOURNAL_DUP_DONE);
    assert_non_null(done);
    assert_int_equal(done->id, 7);
    assert_int_equal(done->status, 201);
    assert_int_equal(done->object.len, 14);
    assert_int_equal(journal_pending_total(j), 1);
    journal_destroy(&j);
    assert_null(j);
}

static void test_expiry_forgets(void **state)
{
    (void)state;
    journal_t *j = journal_new(JOURNAL_MAX_RECENT, JOURNAL_MAX_RECENT_BYTES, JOURNAL_RECENT_MS);
    const msg_result_t *done = NULL;
    msg_result_t r;
    for (uint64_t id = 1; id <= 3; id++) {
        assert_int_equal(admit(j, "c.0", id, 0, &done), JOURNAL_ADMITTED);
        result_for(&r, id, 200);
        assert_int_equal(journal_complete(j, "c.0", &r, id * 1000), 0);
    }
    journal_expire(j, 1000 + JOURNAL_RECENT_MS);  /* id 1 is exactly 60 s old: kept */
    assert_int_equal(journal_recent_count(j, "c.0"), 3);
    journal_expire(j, 2500 + JOURNAL_RECENT_MS);
    assert_int_equal(journal_recent_count(j, "c.0"), 1);
    /* An expired id is new again (the controller's 30 s re-send is long past). */
    assert_int_equal(admit(j, "c.0", 1, 2600 + JOURNAL_RECENT_MS, &done), JOURNAL_ADMITTED);
    assert_int_equal(admit(j, "c.0", 3, 2600 + JOURNAL_RECENT_MS, &done), JOURNAL_DUP_DONE);
    /* Pending actions never expire. */
    journal_expire(j, 1000000 + JOURNAL_RECENT_MS);
    assert_int_equal(journal_recent_count(j, "c.0"), 0);
    assert_int_equal(journal_pending_count(j, "c.0"), 1);
    journal_destroy(&j);
}

static void test_bounds(void **state)
{
    (void)state;
    journal_t *j = journal_new(100, JOURNAL_MAX_RECENT_BYTES, JOURNAL_RECENT_MS);
    const msg_result_t *done = NULL;
    msg_result_t r;
    for (uint64_t id = 1; id <= 1000; id++) {
        assert_int_equal(admit(j, "c.0", id, id, &done), JOURNAL_ADMITTED);
        result_for(&r, id, 200);
        journal_complete(j, "c.0", &r, id);
    }
    assert_int_equal(journal_recent_count(j, "c.0"), 100);
    assert_int_equal(admit(j, "c.0", 1000, 1001, &done), JOURNAL_DUP_DONE);
    assert_int_equal(admit(j, "c.0", 900, 1001, &done), JOURNAL_ADMITTED); /* dropped: oldest first */
    journal_destroy(&j);

    /* A byte budget bounds big objects too. */
    j = journal_new(10000, 1000, JOURNAL_RECENT_MS);
    for (uint64_t id = 1; id <= 200; id++) {
        assert_int_equal(admit(j, "c.0", id, id, &done), JOURNAL_ADMITTED);
        result_for(&r, id, 200);
        journal_complete(j, "c.0", &r, id);
    }
    assert_true(journal_recent_count(j, "c.0") < 50);
    assert_true(journal_recent_count(j, "c.0") > 0);
    journal_destroy(&j);
}

static void test_report(void **state)
{
    (void)state;
    journal_t *j = journal_new(JOURNAL_MAX_RECENT, JOURNAL_MAX_RECENT_BYTES, JOURNAL_RECENT_MS);
    const msg_result_t *done = NULL;
    msg_result_t r;
    for (uint64_t id = 1; id <= 5; id++) assert_int_equal(admit(j, "rs.0", id, 0, &done), JOURNAL_ADMITTED);
    for (uint64_t id = 2; id <= 3; id++) {
        result_for(&r, id, 201);
        journal_complete(j, "rs.0", &r, 100 + id);
    }
    Kubus__V1__InflightReport rep;
    assert_int_equal(journal_report(j, "rs.0", 99, &rep), 0);
    assert_int_equal(rep.executor_epoch, 99);
    assert_string_equal(rep.controller, "rs.0");
    assert_int_equal(rep.n_pending, 3);
    assert_int_equal(rep.pending[0]->id, 1);
    assert_int_equal(rep.pending[1]->id, 4);
    assert_int_equal(rep.pending[2]->id, 5);
    assert_int_equal(rep.n_recent, 2);
    assert_int_equal(rep.recent[0]->id, 2);
    assert_int_equal(rep.recent[1]->id, 3);
    assert_int_equal(rep.recent[0]->object.len, 0); /* stripped */
    /* It encodes and passes validation. */
    msg_envelope_t env;
    kubus__v1__envelope__init(&env);
    env.version = MSG_VERSION;
    env.body_case = KUBUS__V1__ENVELOPE__BODY_INFLIGHT_REPORT;
    env.inflight_report = &rep;
    uint8_t *buf = NULL;
    size_t len = 0;
    assert_int_equal(msg_encode(&env, &buf, &len), 0);
    free(buf);
    journal_report_clear(&rep);
    /* A controller the journal never saw: an empty report. */
    assert_int_equal(journal_report(j, "nobody.0", 99, &rep), 0);
    assert_int_equal(rep.n_pending + rep.n_recent, 0);
    journal_report_clear(&rep);
    journal_destroy(&j);
}

/* The engine's results borrow their strings from the action they answer,
 * which the journal frees on completion: the stored copy must not. */
static void test_result_borrowing_from_action(void **state)
{
    (void)state;
    journal_t *j = journal_new(JOURNAL_MAX_RECENT, JOURNAL_MAX_RECENT_BYTES, JOURNAL_RECENT_MS);
    msg_envelope_t *env = action_env(42, "web-abcde");
    const msg_action_t *a = env->action;
    const msg_result_t *done = NULL;
    assert_int_equal(journal_admit(j, "replicaset.0", &env, 0, &done), JOURNAL_ADMITTED);
    msg_result_t r;
    result_for(&r, 42, 201);
    r.controller = a->controller;
    r.name = a->name;
    r.resource = a->resource;
    assert_int_equal(journal_complete(j, "replicaset.0", &r, 1), 0);
    env = action_env(42, "web-abcde");   /* the same action re-sent */
    assert_int_equal(journal_admit(j, "replicaset.0", &env, 2, &done), JOURNAL_DUP_DONE);
    msg_free(env);
    assert_string_equal(done->controller, "replicaset");
    assert_string_equal(done->name, "web-abcde");
    assert_string_equal(done->resource, "pods");
    journal_destroy(&j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dedup_of_repeated_ids),
        cmocka_unit_test(test_reused_id_refused),
        cmocka_unit_test(test_expiry_forgets),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_report),
        cmocka_unit_test(test_result_borrowing_from_action),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
