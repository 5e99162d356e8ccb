/* Unit tests for lib/ctrl/actions.c and names.c: ids, outstanding counts,
 * expectations raised and lowered by results, re-sends, inflight recovery,
 * and the generateName alphabet. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ctrl/actions.h"

static uint64_t fake_now = 5000;
static uint64_t fake_clock(void *ud) { (void)ud; return fake_now; }

typedef struct {
    int sent;
    uint64_t last_id;
    int last_verb;
    char last_body[512];
    int idle;
    char idle_key[64];
    int results;
    bool last_ok;
    int adopted_failed;
} rec_t;

static int rec_send(const uint8_t *buf, size_t len, void *ud)
{
    rec_t *r = ud;
    char err[128];
    msg_envelope_t *env = msg_decode(buf, len, err, sizeof err);
    assert_non_null(env);
    r->sent++;
    if (env->body_case == KUBUS__V1__ENVELOPE__BODY_ACTION) {
        r->last_id = env->action->id;
        r->last_verb = env->action->verb;
        size_t n = env->action->body.len < sizeof r->last_body - 1 ? env->action->body.len : sizeof r->last_body - 1;
        if (n) memcpy(r->last_body, env->action->body.data, n);
        r->last_body[n] = '\0';
    } else {
        r->last_verb = -1;
    }
    msg_free(env);
    return 0;
}

static void rec_idle(const char *key, void *ud)
{
    rec_t *r = ud;
    r->idle++;
    snprintf(r->idle_key, sizeof r->idle_key, "%s", key);
}

static void rec_adopted_failed(const char *key, void *ud)
{
    rec_t *r = ud;
    r->adopted_failed++;
    assert_string_equal(key, "ns/rs");
}

static void rec_cb(ctrl_runtime_t *rt, const ctrl_result_t *res, void *ud)
{
    (void)rt;
    rec_t *r = ud;
    r->results++;
    r->last_ok = res->ok;
}

static actions_t *newa(rec_t *r, expectations_t *e)
{
    actions_opts_t o = { .controller = "replicaset", .generation = 3, .expectations = e,
                         .send = rec_send, .send_ud = r, .idle = rec_idle, .idle_ud = r,
                         .adopted_failed = rec_adopted_failed, .adopted_failed_ud = r, .clock = fake_clock };
    actions_t *a = actions_new(&o);
    assert_non_null(a);
    return a;
}

static void result(actions_t *a, uint64_t id, int verb, uint32_t status)
{
    msg_result_t res;
    kubus__v1__action_result__init(&res);
    res.id = id;
    res.status = status;
    res.verb = verb;
    actions_on_result(a, &res);
}

static uint64_t create(actions_t *a, rec_t *r, const char *name)
{
    ctrl_action_spec_t sp = { .verb = KUBUS__V1__VERB__CREATE, .resource = "pods", .ns = "ns", .name = name,
                              .body = json_pack("{s:{s:s}}", "metadata", "name", name), .owner_key = "ns/rs",
                              .cb = rec_cb, .ud = r };
    return actions_issue(a, &sp);
}

static void test_ids_and_counts(void **state)
{
    (void)state;
    rec_t r = { 0 };
    expectations_t *e = expectations_new(fake_clock, NULL);
    actions_t *a = newa(&r, e);
    uint64_t id1 = create(a, &r, "rs-aaaaa");
    uint64_t id2 = create(a, &r, "rs-bbbbb");
    assert_int_not_equal(id1 >> 32, 0);
    assert_int_equal(id1 & 0xffffffffu, 1);
    assert_int_equal(id2, id1 + 1);
    assert_int_equal(r.sent, 2);
    assert_non_null(strstr(r.last_body, "rs-bbbbb"));
    assert_int_equal(actions_outstanding(a, "ns/rs"), 2);
    assert_false(expectations_satisfied(e, "ns/rs"));
    result(a, id1, KUBUS__V1__VERB__CREATE, 201);
    assert_int_equal(r.results, 1);
    assert_true(r.last_ok);
    assert_int_equal(r.idle, 0);
    /* success: still expected until observed */
    assert_true(expectations_expects_create(e, "pods/ns/rs-aaaaa"));
    result(a, id2, KUBUS__V1__VERB__CREATE, 403);
    assert_false(r.last_ok);
    assert_int_equal(r.idle, 1);
    assert_string_equal(r.idle_key, "ns/rs");
    /* failure: lowered */
    assert_false(expectations_expects_create(e, "pods/ns/rs-bbbbb"));
    result(a, id2, KUBUS__V1__VERB__CREATE, 201);      /* duplicate: ignored */
    assert_int_equal(r.results, 2);
    actions_destroy(&a);
    expectations_destroy(&e);
}

/* Two lives of one controller with the same generation (a supervisor that
 * could not count its lives) must not reuse ids: the executor's journal
 * would answer the second life with the first one's results. */
static void test_ids_differ_across_lives(void **state)
{
    (void)state;
    uint64_t first[8];
    for (int i = 0; i < 8; i++) {
        rec_t r = { 0 };
        actions_t *a = newa(&r, NULL);
        first[i] = create(a, &r, "rs-aaaaa");
        actions_destroy(&a);
        for (int k = 0; k < i; k++) assert_true(first[k] != first[i]);
    }
    /* a fixed life (tests) is used as is */
    rec_t r = { 0 };
    actions_opts_t o = { .controller = "replicaset", .generation = 3, .life = 0xabcdu, .send = rec_send, .send_ud = &r,
                         .clock = fake_clock };
    actions_t *a = actions_new(&o);
    assert_non_null(a);
    assert_int_equal(create(a, &r, "rs-aaaaa"), (0xabcdull << 32) | 1);
    actions_destroy(&a);
}

static void test_delete_and_unknown_outcome(void **state)
{
    (void)state;
    rec_t r = { 0 };
    expectations_t *e = expectations_new(fake_clock, NULL);
    actions_t *a = newa(&r, e);
    ctrl_action_spec_t sp = { .verb = KUBUS__V1__VERB__DELETE, .resource = "pods", .ns = "ns", .name = "p",
                              .precondition_uid = "uid-p", .owner_key = "ns/rs", .cb = rec_cb, .ud = &r };
    uint64_t id = actions_issue(a, &sp);
    assert_true(expectations_expects_delete(e, "uid-p"));
    result(a, id, KUBUS__V1__VERB__DELETE, 404);       /* gone already: ok, but our cache may lag */
    assert_true(r.last_ok);
    assert_true(expectations_expects_delete(e, "uid-p"));
    assert_string_equal(expectations_observe_delete(e, "uid-p"), "ns/rs"); /* its event lowers it */
    id = actions_issue(a, &sp);
    result(a, id, KUBUS__V1__VERB__DELETE, 403);       /* failed: lowered */
    assert_false(r.last_ok);
    assert_false(expectations_expects_delete(e, "uid-p"));
    /* a create without a known outcome (0) or timed out (504) counts as not
     * made, as upstream's: lowered, so the owner's next sync can act */
    id = create(a, &r, "rs-ccccc");
    result(a, id, KUBUS__V1__VERB__CREATE, 0);
    assert_false(r.last_ok);
    assert_false(expectations_expects_create(e, "pods/ns/rs-ccccc"));
    id = create(a, &r, "rs-ddddd");
    result(a, id, KUBUS__V1__VERB__CREATE, 504);
    assert_false(expectations_expects_create(e, "pods/ns/rs-ddddd"));
    assert_true(expectations_satisfied(e, "ns/rs"));
    /* malformed specs are refused */
    ctrl_action_spec_t bad = { .verb = KUBUS__V1__VERB__PATCH, .resource = "pods", .owner_key = "k" };
    assert_int_equal(actions_issue(a, &bad), 0);
    actions_destroy(&a);
    expectations_destroy(&e);
}

static void test_resend(void **state)
{
    (void)state;
    rec_t r = { 0 };
    actions_t *a = newa(&r, NULL);
    actions_on_executor_epoch(a, 11);
    uint64_t id = create(a, &r, "rs-ddddd");
    assert_int_equal(r.sent, 1);
    actions_tick(a);
    assert_int_equal(r.sent, 1);
    assert_int_equal(actions_next_due_ms(a), ACTIONS_RESEND_MS);
    fake_now += ACTIONS_RESEND_MS;
    actions_tick(a);
    assert_int_equal(r.sent, 2);
    assert_int_equal(r.last_id, id);                   /* same id: the executor dedups */
    actions_on_executor_epoch(a, 11);
    assert_int_equal(r.sent, 2);
    actions_on_executor_epoch(a, 12);                  /* new executor: outcome unknown */
    assert_int_equal(r.sent, 3);
    result(a, id, KUBUS__V1__VERB__CREATE, 201);
    assert_int_equal(actions_outstanding_total(a), 0);
    assert_int_equal(actions_next_due_ms(a), -1);
    actions_destroy(&a);
}

/* A killed broker takes the actions it held and the results on their way:
 * once the connection is made again, everything outstanding goes again at
 * once (same ids), and the InflightQuery if no report came, instead of
 * waiting out the 30 s re-send timer. */
static void test_resend_on_link_restored(void **state)
{
    (void)state;
    rec_t r = { 0 };
    actions_t *a = newa(&r, NULL);
    actions_query_inflight(a);
    uint64_t id = create(a, &r, "rs-fffff");
    assert_int_equal(r.sent, 2);
    actions_on_link_restored(a);
    assert_int_equal(r.sent, 4);                       /* the create and the query */
    Kubus__V1__InflightReport rep;
    kubus__v1__inflight_report__init(&rep);
    rep.controller = "replicaset";
    actions_on_report(a, &rep, NULL, NULL);
    actions_on_link_restored(a);
    assert_int_equal(r.sent, 5);                       /* the create only: the report came */
    assert_int_equal(r.last_id, id);
    result(a, id, KUBUS__V1__VERB__CREATE, 201);
    actions_on_link_restored(a);
    assert_int_equal(r.sent, 5);                       /* nothing outstanding */
    actions_destroy(&a);
}

static bool never_seen(const char *resource, const char *ns, const char *name, const char *uid, int verb, void *ud)
{
    (void)resource; (void)ns; (void)uid; (void)verb; (void)ud;
    return strcmp(name, "seen") == 0;
}

static void test_inflight_report(void **state)
{
    (void)state;
    rec_t r = { 0 };
    expectations_t *e = expectations_new(fake_clock, NULL);
    actions_t *a = newa(&r, e);
    actions_query_inflight(a);
    assert_int_equal(r.last_verb, -1);
    assert_false(actions_report_received(a));
    fake_now += 5000;
    actions_tick(a);
    assert_int_equal(r.sent, 2);                       /* asked again */

    msg_action_t pend;
    kubus__v1__action__init(&pend);
    pend.id = (1ull << 32) | 9;
    pend.controller = "replicaset";
    pend.verb = KUBUS__V1__VERB__CREATE;
    pend.resource = "pods";
    pend.namespace_ = "ns";
    pend.name = "rs-old01";
    pend.owner_key = "ns/rs";
    pend.body.data = (uint8_t *)"{}";
    pend.body.len = 2;
    msg_result_t rec1, rec2;
    kubus__v1__action_result__init(&rec1);
    rec1.id = (1ull << 32) | 7;
    rec1.status = 200;
    rec1.verb = KUBUS__V1__VERB__DELETE;
    rec1.resource = "pods";
    rec1.namespace_ = "ns";
    rec1.name = "victim";
    rec1.owner_key = "ns/rs";
    rec1.object.data = (uint8_t *)"{\"metadata\":{\"uid\":\"uv\"}}";
    rec1.object.len = strlen((char *)rec1.object.data);
    msg_result_t rec3 = rec1, rec4 = rec1;
    rec3.id += 10;                                     /* a Status answer: no object, the uid field */
    rec3.object.len = 0;
    rec3.uid = "us";
    rec3.name = "victim2";
    rec4.id += 11;                                     /* re-applied after the first one succeeded */
    rec4.status = 404;
    rec4.object.len = 0;
    rec4.uid = "u404";
    rec4.name = "victim3";
    rec2 = rec1;
    rec2.id++;
    rec2.verb = KUBUS__V1__VERB__CREATE;
    rec2.name = "seen";
    rec2.status = 201;
    rec2.object.len = 0;
    msg_action_t *pa[] = { &pend };
    msg_result_t *ra[] = { &rec1, &rec2, &rec3, &rec4 };
    Kubus__V1__InflightReport rep;
    kubus__v1__inflight_report__init(&rep);
    rep.controller = "replicaset";
    rep.n_pending = 1;
    rep.pending = pa;
    rep.n_recent = 4;
    rep.recent = ra;
    actions_on_report(a, &rep, never_seen, NULL);
    assert_true(actions_report_received(a));
    assert_true(expectations_expects_create(e, "pods/ns/rs-old01"));
    assert_true(expectations_expects_delete(e, "uv"));
    assert_true(expectations_expects_delete(e, "us"));
    assert_true(expectations_expects_delete(e, "u404"));
    assert_false(expectations_expects_create(e, "pods/ns/seen"));
    assert_int_equal(actions_outstanding(a, "ns/rs"), 1);  /* the pending one is ours now */
    result(a, pend.id, KUBUS__V1__VERB__CREATE, 500);
    assert_false(expectations_expects_create(e, "pods/ns/rs-old01"));
    assert_int_equal(r.idle, 1);
    /* no callback of ours handles it: the owner is asked to sync again */
    assert_int_equal(r.adopted_failed, 1);
    uint64_t own = create(a, &r, "rs-own01");
    result(a, own, KUBUS__V1__VERB__CREATE, 500);      /* ours: its callback decides */
    assert_int_equal(r.adopted_failed, 1);
    actions_destroy(&a);
    expectations_destroy(&e);
}

/* A recent create of a pod the same report also deletes (scaled away within
 * the minute, or being deleted) is not expected: its name will never show
 * up again, and waiting for it would hold the owner for 5 minutes. */
static void test_inflight_report_created_then_deleted(void **state)
{
    (void)state;
    rec_t r = { 0 };
    expectations_t *e = expectations_new(fake_clock, NULL);
    actions_t *a = newa(&r, e);
    actions_query_inflight(a);
    msg_result_t made[3], gone;
    const char *names[3] = { "rs-gone1", "rs-going", "rs-kept" };
    msg_result_t *ra[4];
    for (int i = 0; i < 3; i++) {
        kubus__v1__action_result__init(&made[i]);
        made[i].id = (1ull << 32) | (uint64_t)(20 + i);
        made[i].status = 201;
        made[i].verb = KUBUS__V1__VERB__CREATE;
        made[i].resource = "pods";
        made[i].namespace_ = "ns";
        made[i].name = (char *)names[i];
        made[i].owner_key = "ns/rs";
        ra[i] = &made[i];
    }
    gone = made[0];
    gone.id = (1ull << 32) | 30;
    gone.status = 200;
    gone.verb = KUBUS__V1__VERB__DELETE;
    gone.uid = "u-gone1";
    ra[3] = &gone;
    msg_action_t going;                                /* a delete still in flight */
    kubus__v1__action__init(&going);
    going.id = (1ull << 32) | 31;
    going.controller = "replicaset";
    going.verb = KUBUS__V1__VERB__DELETE;
    going.resource = "pods";
    going.namespace_ = "ns";
    going.name = "rs-going";
    going.precondition_uid = "u-going";
    going.owner_key = "ns/rs";
    msg_action_t *pa[] = { &going };
    Kubus__V1__InflightReport rep;
    kubus__v1__inflight_report__init(&rep);
    rep.controller = "replicaset";
    rep.n_pending = 1;
    rep.pending = pa;
    rep.n_recent = 4;
    rep.recent = ra;
    actions_on_report(a, &rep, never_seen, NULL);
    assert_false(expectations_expects_create(e, "pods/ns/rs-gone1"));
    assert_false(expectations_expects_create(e, "pods/ns/rs-going"));
    assert_true(expectations_expects_create(e, "pods/ns/rs-kept"));   /* not deleted: still awaited */
    assert_true(expectations_expects_delete(e, "u-gone1"));
    assert_true(expectations_expects_delete(e, "u-going"));
    actions_destroy(&a);
    expectations_destroy(&e);
}

/* The report arrives before the snapshot: every delete it names is expected
 * (the cache cannot tell yet). Once the caches are complete, those whose pod
 * is gone or terminating are dropped; the others keep the owner waiting, so
 * a restarted controller does not pick extra victims for deletes still in
 * flight. */
static bool gone_or_terminating(const char *resource, const char *ns, const char *name, const char *uid, int verb,
                                void *ud)
{
    (void)ns; (void)name; (void)ud;
    assert_string_equal(resource, "pods");
    assert_int_equal(verb, KUBUS__V1__VERB__DELETE);
    return strcmp(uid, "u-done") == 0;
}

static void test_inflight_report_recheck_deletes(void **state)
{
    (void)state;
    rec_t r = { 0 };
    expectations_t *e = expectations_new(fake_clock, NULL);
    actions_t *a = newa(&r, e);
    actions_query_inflight(a);
    msg_action_t going;
    kubus__v1__action__init(&going);
    going.id = (1ull << 32) | 41;
    going.controller = "replicaset";
    going.verb = KUBUS__V1__VERB__DELETE;
    going.resource = "pods";
    going.namespace_ = "ns";
    going.name = "rs-going";
    going.precondition_uid = "u-going";
    going.owner_key = "ns/rs";
    msg_result_t done;
    kubus__v1__action_result__init(&done);
    done.id = (1ull << 32) | 40;
    done.status = 200;
    done.verb = KUBUS__V1__VERB__DELETE;
    done.resource = "pods";
    done.namespace_ = "ns";
    done.name = "rs-done";
    done.uid = "u-done";
    done.owner_key = "ns/rs";
    msg_action_t *pa[] = { &going };
    msg_result_t *ra[] = { &done };
    Kubus__V1__InflightReport rep;
    kubus__v1__inflight_report__init(&rep);
    rep.controller = "replicaset";
    rep.n_pending = 1;
    rep.pending = pa;
    rep.n_recent = 1;
    rep.recent = ra;
    actions_on_report(a, &rep, never_seen, NULL);
    assert_true(expectations_expects_delete(e, "u-going"));
    assert_true(expectations_expects_delete(e, "u-done"));
    actions_recheck_recovered(a, gone_or_terminating, NULL);
    assert_false(expectations_expects_delete(e, "u-done"));
    assert_true(expectations_expects_delete(e, "u-going"));   /* still in the cache: wait for it */
    assert_false(expectations_satisfied(e, "ns/rs"));
    actions_recheck_recovered(a, gone_or_terminating, NULL);  /* once only: nothing left to settle */
    assert_true(expectations_expects_delete(e, "u-going"));
    actions_destroy(&a);
    expectations_destroy(&e);
}

static void test_names(void **state)
{
    (void)state;
    char out[80];
    int seen[256] = { 0 };
    for (int i = 0; i < 2000; i++) {
        assert_int_equal(ctrl_name_generate("myreplicaset-", out, sizeof out), 18);
        assert_memory_equal(out, "myreplicaset-", 13);
        for (int j = 13; j < 18; j++) {
            if (!strchr(CTRL_NAME_ALPHABET, out[j])) fail_msg("'%c' not in the alphabet", out[j]);
            seen[(unsigned char)out[j]]++;
        }
    }
    for (const char *p = CTRL_NAME_ALPHABET; *p; p++) assert_true(seen[(unsigned char)*p] > 0);
    char longp[100];
    memset(longp, 'x', 80);
    longp[80] = '\0';
    assert_int_equal(ctrl_name_generate(longp, out, sizeof out), 63);   /* prefix cut to 58 */
    assert_int_equal(ctrl_name_generate("abc", out, 8), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_and_counts),
        cmocka_unit_test(test_ids_differ_across_lives),
        cmocka_unit_test(test_delete_and_unknown_outcome),
        cmocka_unit_test(test_resend),
        cmocka_unit_test(test_resend_on_link_restored),
        cmocka_unit_test(test_inflight_report),
        cmocka_unit_test(test_inflight_report_created_then_deleted),
        cmocka_unit_test(test_inflight_report_recheck_deletes),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
