/* Unit tests for the supervisor's leader election decisions (lease_core.c),
 * its flags (config.c) and what the reports say about it (report.c).
 *
 * A fake API server keeps one Lease with a resourceVersion and answers GET,
 * POST and PUT like kube-apiserver does (404, 409 on a stale
 * resourceVersion or an existing name); a fake clock moves only when a test
 * says so. Two electors may share one fake server to race for the lease. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <jansson.h>

#include "checks.h"
#include "config.h"
#include "leader.h"
#include "lease_core.h"
#include "report.h"
#include "table.h"

#define NS "kube-system"
#define NAME "kubus-shard-0-of-1"

typedef struct fake_api fake_api_t;
typedef void (*hook_fn)(fake_api_t *f);

struct fake_api {
    json_t *lease;           /* NULL: not found */
    int rv;
    uint64_t mono_ms;
    int64_t wall_us;
    int calls[4];
    json_t *last_event;      /* body of the last Event posted */
    int fail_calls;          /* the next n calls get no answer (code 0) */
    long force_code;         /* answer the next force_count calls with this */
    const char *force_body;
    int force_count;
    hook_fn before_update;   /* runs once, before the next PUT is handled */
    sup_elector_t *other;    /* for the hook */
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s);
    char *d = malloc(n + 1);
    assert_non_null(d);
    memcpy(d, s, n + 1);
    return d;
}

static void answer(sup_lease_resp_t *out, long code, const char *body)
{
    out->code = code;
    out->body = body ? dup_str(body) : NULL;
    out->len = body ? strlen(body) : 0;
}

static void answer_lease(fake_api_t *f, sup_lease_resp_t *out, long code)
{
    char *s = json_dumps(f->lease, JSON_COMPACT);
    assert_non_null(s);
    out->code = code;
    out->body = s;
    out->len = strlen(s);
}

static const char *body_rv(json_t *o)
{
    return json_string_value(json_object_get(json_object_get(o, "metadata"), "resourceVersion"));
}

static void store(fake_api_t *f, json_t *o)
{
    char rv[16];
    snprintf(rv, sizeof rv, "%d", ++f->rv);
    json_object_set_new(json_object_get(o, "metadata"), "resourceVersion", json_string(rv));
    json_decref(f->lease);
    f->lease = o;
}

static int fake_call(void *ctx, sup_lease_verb_t verb, const char *body, uint64_t timeout_ms,
                     sup_lease_resp_t *out)
{
    fake_api_t *f = ctx;
    assert_true(timeout_ms > 0);
    f->calls[verb]++;
    if (f->fail_calls > 0) {
        f->fail_calls--;
        answer(out, 0, NULL);
        return 0;
    }
    if (f->force_count > 0) {
        f->force_count--;
        answer(out, f->force_code, f->force_body);
        return 0;
    }
    if (verb == SUP_LEASE_EVENT) {
        json_decref(f->last_event);
        f->last_event = json_loads(body, 0, NULL);
        assert_non_null(f->last_event);
        answer(out, 201, body);
        return 0;
    }
    if (verb == SUP_LEASE_UPDATE && f->before_update) {
        hook_fn h = f->before_update;
        f->before_update = NULL;
        h(f);
    }
    if (verb == SUP_LEASE_GET) {
        if (!f->lease) answer(out, 404, "{\"kind\":\"Status\",\"code\":404,\"reason\":\"NotFound\"}");
        else answer_lease(f, out, 200);
        return 0;
    }
    json_t *o = json_loads(body, 0, NULL);
    assert_non_null(o);
    if (verb == SUP_LEASE_CREATE) {
        if (f->lease) {
            json_decref(o);
            answer(out, 409, "{\"kind\":\"Status\",\"code\":409,\"reason\":\"AlreadyExists\"}");
            return 0;
        }
        store(f, o);
        answer_lease(f, out, 201);
        return 0;
    }
    if (!f->lease || !body_rv(o) || strcmp(body_rv(o), body_rv(f->lease)) != 0) {
        json_decref(o);
        answer(out, f->lease ? 409 : 404, "{\"kind\":\"Status\",\"reason\":\"Conflict\"}");
        return 0;
    }
    /* The server keeps what the client cannot change. */
    json_t *uid = json_object_get(json_object_get(f->lease, "metadata"), "uid");
    if (uid) json_object_set(json_object_get(o, "metadata"), "uid", uid);
    store(f, o);
    answer_lease(f, out, 200);
    return 0;
}

static uint64_t fake_mono(void *ctx) { return ((fake_api_t *)ctx)->mono_ms; }
static int64_t fake_wall(void *ctx) { return ((fake_api_t *)ctx)->wall_us + ((fake_api_t *)ctx)->mono_ms * 1000; }

static void fake_init(fake_api_t *f)
{
    memset(f, 0, sizeof *f);
    f->mono_ms = 1000000;
    f->wall_us = 1764000000000000LL;
}

static void elector_new(sup_elector_t *e, fake_api_t *f, const char *identity)
{
    sup_lease_config_t c = { .ns = NS, .name = NAME, .lease_ms = 15000, .renew_deadline_ms = 10000,
                             .retry_ms = 2000 };
    snprintf(c.identity, sizeof c.identity, "%s", identity);
    char err[256];
    assert_int_equal(sup_lease_config_check(&c, err, sizeof err), 0);
    sup_lease_ops_t ops = { .call = fake_call, .mono_ms = fake_mono, .wall_us = fake_wall, .ctx = f };
    sup_elector_init(e, &c, &ops, 42);
}

static const char *spec_str(fake_api_t *f, const char *key)
{
    return json_string_value(json_object_get(json_object_get(f->lease, "spec"), key));
}

static long long spec_int(fake_api_t *f, const char *key)
{
    return json_integer_value(json_object_get(json_object_get(f->lease, "spec"), key));
}

/* Steps e at every ms from now to now+ms (in 100 ms ticks) and returns the
 * first non-NOCHANGE event. */
static sup_lease_event_t run_for(sup_elector_t *e, fake_api_t *f, uint64_t ms)
{
    uint64_t end = f->mono_ms + ms;
    while (f->mono_ms < end) {
        f->mono_ms += 100;
        sup_lease_event_t ev = sup_elector_step(e);
        if (ev != SUP_LEASE_NOCHANGE) return ev;
    }
    return SUP_LEASE_NOCHANGE;
}

static void test_acquire_from_empty(void **state)
{
    (void)state;
    fake_api_t f;
    fake_init(&f);
    sup_elector_t a;
    elector_new(&a, &f, "host_a");
    assert_int_equal(sup_elector_step(&a), SUP_LEASE_STARTED);
    assert_true(a.leading);
    assert_int_equal(f.calls[SUP_LEASE_GET], 1);
    assert_int_equal(f.calls[SUP_LEASE_CREATE], 1);
    assert_string_equal(spec_str(&f, "holderIdentity"), "host_a");
    assert_int_equal(spec_int(&f, "leaseDurationSeconds"), 15);
    assert_int_equal(spec_int(&f, "leaseTransitions"), 0);
    assert_non_null(spec_str(&f, "acquireTime"));
    assert_string_equal(spec_str(&f, "acquireTime"), spec_str(&f, "renewTime"));
    assert_string_equal(json_string_value(json_object_get(f.lease, "kind")), "Lease");
    /* Renewals: one PUT each retry period on the object we hold; the term
     * (acquireTime, transitions) is kept, renewTime moves. */
    char acquired[64];
    snprintf(acquired, sizeof acquired, "%s", spec_str(&f, "acquireTime"));
    assert_int_equal(run_for(&a, &f, 10000), SUP_LEASE_NOCHANGE);
    assert_int_equal(f.calls[SUP_LEASE_GET], 1);
    assert_in_range(f.calls[SUP_LEASE_UPDATE], 4, 6);
    assert_string_equal(spec_str(&f, "acquireTime"), acquired);
    assert_string_not_equal(spec_str(&f, "renewTime"), acquired);
    assert_int_equal(spec_int(&f, "leaseTransitions"), 0);
    assert_true(a.leading);
    sup_elector_free(&a);
    json_decref(f.lease);
}

static void test_respect_unexpired_other(void **state)
{
    (void)state;
    fake_api_t f;
    fake_init(&f);
    sup_elector_t a, b;
    elector_new(&a, &f, "host_a");
    elector_new(&b, &f, "host_b");
    assert_int_equal(sup_elector_step(&a), SUP_LEASE_STARTED);
    /* A keeps renewing: B never gets it, however long it tries. */
    for (int i = 0; i < 300; i++) {
        f.mono_ms += 100;
        assert_int_equal(sup_elector_step(&a), SUP_LEASE_NOCHANGE);
        assert_int_equal(sup_elector_step(&b), SUP_LEASE_NOCHANGE);
    }
    assert_false(b.leading);
    assert_string_equal(sup_elector_holder(&b), "host_a");
    assert_string_equal(spec_str(&f, "holderIdentity"), "host_a");
    assert_int_equal(f.calls[SUP_LEASE_CREATE], 1);
    sup_elector_free(&a);
    sup_elector_free(&b);
    json_decref(f.lease);
}

static void test_take_over_expired(void **state)
{
    (void)state;
    fake_api_t f;
    fake_init(&f);
    sup_elector_t a, b;
    elector_new(&a, &f, "host_a");
    elector_new(&b, &f, "host_b");
    assert_int_equal(sup_elector_step(&a), SUP_LEASE_STARTED);
    /* A dies now. B first sees the record now, so it waits a full lease
     * duration by its own clock (not by renewTime) before taking over. */
    uint64_t died = f.mono_ms;
    assert_int_equal(sup_elector_step(&b), SUP_LEASE_NOCHANGE);
    assert_int_equal(run_for(&b, &f, 14800), SUP_LEASE_NOCHANGE);
    assert_false(b.leading);
    sup_lease_event_t ev = run_for(&b, &f, 5000);
    assert_int_equal(ev, SUP_LEASE_STARTED);
    assert_true(f.mono_ms >= died + 15000);
    assert_true(f.mono_ms <= died + 15000 + (uint64_t)(2000 * 2.2) + 100);
    assert_string_equal(spec_str(&f, "holderIdentity"), "host_b");
    assert_int_equal(spec_int(&f, "leaseTransitions"), 1);
    /* A was only paused: past its renew deadline it stops leading at its
     * first step, before it sends anything. */
    int puts = f.calls[SUP_LEASE_UPDATE];
    assert_int_equal(sup_elector_step(&a), SUP_LEASE_STOPPED);
    assert_int_equal(f.calls[SUP_LEASE_UPDATE], puts);
    assert_false(a.leading);
    /* B, leading, finds somebody else's name in the Lease (written behind
     * its back): its renewal gets 409, it reads the Lease and stops at
     * once instead of waiting for its deadline. */
    json_object_set_new(json_object_get(f.lease, "spec"), "holderIdentity", json_string("intruder"));
    store(&f, json_incref(f.lease));
    ev = run_for(&b, &f, 2100);
    assert_int_equal(ev, SUP_LEASE_STOPPED);
    assert_false(b.leading);
    assert_string_equal(sup_elector_holder(&b), "intruder");
    sup_elector_free(&a);
    sup_elector_free(&b);
    json_decref(f.lease);
}

static void test_lose_after_renew_deadline(void **state)
{
    (void)state;
    fake_api_t f;
    fake_init(&f);
    sup_elector_t a;
    elector_new(&a, &f, "host_a");
    assert_int_equal(sup_elector_step(&a), SUP_LEASE_STARTED);
    uint64_t renewed = f.mono_ms;
    /* The API server stops answering: still leading until the deadline. */
    f.fail_calls = 1000;
    assert_int_equal(run_for(&a, &f, 9900), SUP_LEASE_NOCHANGE);
    assert_true(a.leading);
    assert_true(sup_elector_next_ms(&a) <= renewed + 10000);
    assert_int_equal(run_for(&a, &f, 200), SUP_LEASE_STOPPED);
    assert_true(f.mono_ms >= renewed + 10000 && f.mono_ms <= renewed + 10100);
    assert_false(a.leading);
    assert_true(a.failed_tries > 0);
    /* Errors (500) count the same as silence. */
    f.fail_calls = 0;
    f.force_code = 500;
    f.force_body = "{\"kind\":\"Status\",\"code\":500}";
    f.force_count = 1000;
    assert_int_equal(run_for(&a, &f, 60000), SUP_LEASE_NOCHANGE);
    /* The API comes back: the lease still names us, so we lead again. */
    f.force_count = 0;
    assert_int_equal(run_for(&a, &f, 5000), SUP_LEASE_STARTED);
    sup_elector_free(&a);
    json_decref(f.lease);
}

static void test_slow_renewals_lose(void **state)
{
    (void)state;
    /* Failures that are not outright errors: renewals that keep hitting
     * 409 (someone keeps writing) still end leadership at the deadline. */
    fake_api_t f;
    fake_init(&f);
    sup_elector_t a;
    elector_new(&a, &f, "host_a");
    assert_int_equal(sup_elector_step(&a), SUP_LEASE_STARTED);
    f.force_code = 409;
    f.force_body = "{\"kind\":\"Status\",\"code\":409,\"reason\":\"Conflict\"}";
    f.force_count = 1000;
    assert_int_equal(run_for(&a, &f, 9800), SUP_LEASE_NOCHANGE);
    assert_int_equal(run_for(&a, &f, 400), SUP_LEASE_STOPPED);
    sup_elector_free(&a);
    json_decref(f.lease);
}

/* B read the expired lease; A writes it before B's PUT arrives. */
static void a_acquires_first(fake_api_t *f)
{
    assert_int_equal(sup_elector_step(f->other), SUP_LEASE_STARTED);
}

static void test_conflict_one_winner(void **state)
{
    (void)state;
    fake_api_t f;
    fake_init(&f);
    sup_elector_t old, a, b;
    elector_new(&old, &f, "host_old");
    elector_new(&a, &f, "host_a");
    elector_new(&b, &f, "host_b");
    assert_int_equal(sup_elector_step(&old), SUP_LEASE_STARTED);
    /* old dies; A and B both watch the lease expire. */
    assert_int_equal(sup_elector_step(&a), SUP_LEASE_NOCHANGE);
    assert_int_equal(sup_elector_step(&b), SUP_LEASE_NOCHANGE);
    f.mono_ms += 16000;
    a.next_try_ms = b.next_try_ms = f.mono_ms;
    f.other = &a;
    f.before_update = a_acquires_first;
    assert_int_equal(sup_elector_step(&b), SUP_LEASE_NOCHANGE);
    assert_false(b.leading);
    assert_true(a.leading);
    assert_string_equal(spec_str(&f, "holderIdentity"), "host_a");
    assert_int_equal(spec_int(&f, "leaseTransitions"), 1);
    /* B sees A's fresh record and waits. */
    assert_int_equal(run_for(&b, &f, 10000), SUP_LEASE_NOCHANGE);
    assert_string_equal(sup_elector_holder(&b), "host_a");
    /* Two creates of a missing lease: the second gets 409, one winner. */
    json_decref(f.lease);
    f.lease = NULL;
    sup_elector_t c, d;
    elector_new(&c, &f, "host_c");
    elector_new(&d, &f, "host_d");
    f.other = &c;
    f.before_update = NULL;
    assert_int_equal(sup_elector_step(&c), SUP_LEASE_STARTED);
    assert_int_equal(sup_elector_step(&d), SUP_LEASE_NOCHANGE);
    assert_string_equal(spec_str(&f, "holderIdentity"), "host_c");
    sup_elector_free(&old);
    sup_elector_free(&a);
    sup_elector_free(&b);
    sup_elector_free(&c);
    sup_elector_free(&d);
    json_decref(f.lease);
}

static void test_release(void **state)
{
    (void)state;
    fake_api_t f;
    fake_init(&f);
    sup_elector_t a, b;
    elector_new(&a, &f, "host_a");
    elector_new(&b, &f, "host_b");
    /* Nothing to release before we ever led. */
    assert_int_equal(sup_elector_release(&a), 0);
    assert_null(f.lease);
    assert_int_equal(sup_elector_step(&a), SUP_LEASE_STARTED);
    assert_int_equal(sup_elector_step(&b), SUP_LEASE_NOCHANGE);
    assert_int_equal(run_for(&a, &f, 4000), SUP_LEASE_NOCHANGE);
    assert_int_equal(sup_elector_release(&a), 1);
    assert_false(a.leading);
    assert_string_equal(spec_str(&f, "holderIdentity"), "");
    assert_int_equal(spec_int(&f, "leaseDurationSeconds"), 1);
    assert_int_equal(spec_int(&f, "leaseTransitions"), 0);
    /* B takes over at its next try, without waiting for any expiry. */
    uint64_t released = f.mono_ms;
    assert_int_equal(run_for(&b, &f, 5000), SUP_LEASE_STARTED);
    assert_true(f.mono_ms - released <= 4500);
    assert_string_equal(spec_str(&f, "holderIdentity"), "host_b");
    assert_int_equal(spec_int(&f, "leaseTransitions"), 1);
    assert_int_equal(spec_int(&f, "leaseDurationSeconds"), 15);
    /* A released lease is not ours: a second release does nothing. */
    assert_int_equal(sup_elector_release(&a), 0);
    assert_string_equal(spec_str(&f, "holderIdentity"), "host_b");
    sup_elector_free(&a);
    sup_elector_free(&b);
    json_decref(f.lease);
}

static void test_bad_answers(void **state)
{
    (void)state;
    static const char *bad[] = {
        "not json",
        "[]",
        "{\"kind\":\"Pod\",\"metadata\":{\"name\":\"" NAME "\",\"resourceVersion\":\"1\"}}",
        "{\"metadata\":{\"name\":\"other\",\"resourceVersion\":\"1\"}}",
        "{\"metadata\":{\"name\":\"" NAME "\"}}",
        "{\"metadata\":{\"name\":\"" NAME "\",\"resourceVersion\":7}}",
        "{\"metadata\":{\"name\":\"" NAME "\",\"resourceVersion\":\"1\"},\"spec\":[]}",
        "{\"metadata\":{\"name\":\"" NAME "\",\"resourceVersion\":\"1\"},\"spec\":{\"holderIdentity\":5}}",
        "{\"metadata\":{\"name\":\"" NAME "\",\"resourceVersion\":\"1\"},\"spec\":{\"leaseDurationSeconds\":-3}}",
        "{\"metadata\":{\"name\":\"" NAME "\",\"resourceVersion\":\"1\"},\"spec\":{\"leaseDurationSeconds\":1e99}}",
        "{\"metadata\":{\"name\":\"" NAME "\",\"resourceVersion\":\"1\"},\"spec\":{\"leaseTransitions\":\"x\"}}",
        "{\"metadata\":{\"name\":\"" NAME "\",\"resourceVersion\":\"1\"},\"spec\":{\"renewTime\":{}}}",
        "{\"metadata\":{\"name\":\"" NAME "\",\"resourceVersion\":\"1\",\"resourceVersion\":\"2\"}}",
        "",
    };
    fake_api_t f;
    fake_init(&f);
    sup_elector_t a;
    elector_new(&a, &f, "host_a");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        f.force_code = 200;
        f.force_body = bad[i];
        f.force_count = 1;
        a.next_try_ms = f.mono_ms;
        assert_int_equal(sup_elector_step(&a), SUP_LEASE_NOCHANGE);
        assert_false(a.leading);
        assert_int_equal(a.bad_answers, i + 1);
    }
    /* Good answers again: we lead. */
    f.force_count = 0;
    a.next_try_ms = f.mono_ms;
    f.fail_calls = 0;
    assert_int_equal(sup_elector_step(&a), SUP_LEASE_STARTED);
    /* A leader whose renewals get garbage back loses at the deadline. */
    f.force_code = 200;
    f.force_body = "{\"spec\":";
    f.force_count = 1000;
    assert_int_equal(run_for(&a, &f, 10100), SUP_LEASE_STOPPED);
    sup_elector_free(&a);
    json_decref(f.lease);

    sup_lease_record_t r;
    char err[160];
    const char *good = "{\"kind\":\"Lease\",\"metadata\":{\"name\":\"" NAME "\",\"namespace\":\"" NS
                       "\",\"resourceVersion\":\"9\"},\"spec\":{\"holderIdentity\":\"h_1\","
                       "\"leaseDurationSeconds\":15,\"leaseTransitions\":3,\"renewTime\":null}}";
    assert_int_equal(sup_lease_parse(good, strlen(good), NS, NAME, NULL, &r, err, sizeof err), 0);
    assert_string_equal(r.holder, "h_1");
    assert_int_equal(r.duration_s, 15);
    assert_int_equal(r.transitions, 3);
    assert_string_equal(r.renew_time, "");
    assert_int_equal(sup_lease_parse(good, strlen(good), "default", NAME, NULL, &r, err, sizeof err), -1);
}

static void test_timeouts_respect_deadline(void **state)
{
    (void)state;
    fake_api_t f;
    fake_init(&f);
    sup_elector_t a;
    elector_new(&a, &f, "host_a");
    assert_int_equal(sup_elector_step(&a), SUP_LEASE_STARTED);
    /* Late in the term, a renewal may wait only for what is left of it. */
    f.mono_ms += 9500;
    f.fail_calls = 1000;
    uint64_t before = f.calls[SUP_LEASE_UPDATE];
    assert_int_equal(sup_elector_step(&a), SUP_LEASE_NOCHANGE);
    assert_true((uint64_t)f.calls[SUP_LEASE_UPDATE] > before);
    f.mono_ms += 600;
    assert_int_equal(sup_elector_step(&a), SUP_LEASE_STOPPED);
    sup_elector_free(&a);
    json_decref(f.lease);
}

static const char *ev_str(fake_api_t *f, const char *path1, const char *path2)
{
    json_t *v = json_object_get(f->last_event, path1);
    if (path2) v = json_object_get(v, path2);
    return json_string_value(v);
}

static void test_events(void **state)
{
    (void)state;
    fake_api_t f;
    fake_init(&f);
    sup_elector_t a;
    elector_new(&a, &f, "host_a");
    assert_int_equal(sup_elector_step(&a), SUP_LEASE_STARTED);
    json_object_set_new(json_object_get(f.lease, "metadata"), "uid", json_string("u-1"));
    a.next_try_ms = f.mono_ms;
    assert_int_equal(sup_elector_step(&a), SUP_LEASE_NOCHANGE); /* picks up the uid */
    assert_int_equal(sup_elector_record_event(&a, "became leader"), 0);
    assert_string_equal(ev_str(&f, "kind", NULL), "Event");
    assert_string_equal(ev_str(&f, "reason", NULL), "LeaderElection");
    assert_string_equal(ev_str(&f, "type", NULL), "Normal");
    assert_string_equal(ev_str(&f, "message", NULL), "host_a became leader");
    assert_string_equal(ev_str(&f, "metadata", "namespace"), NS);
    assert_non_null(strstr(ev_str(&f, "metadata", "name"), NAME "."));
    assert_string_equal(ev_str(&f, "involvedObject", "kind"), "Lease");
    assert_string_equal(ev_str(&f, "involvedObject", "apiVersion"), "coordination.k8s.io/v1");
    assert_string_equal(ev_str(&f, "involvedObject", "name"), NAME);
    assert_string_equal(ev_str(&f, "involvedObject", "uid"), "u-1");
    assert_string_equal(ev_str(&f, "source", "component"), "kube-controller-manager");
    const char *ts = ev_str(&f, "firstTimestamp", NULL);
    assert_non_null(ts);
    assert_int_equal(strlen(ts), 20); /* 2006-01-02T15:04:05Z */
    /* A failed post is reported, nothing else. */
    f.force_code = 403;
    f.force_body = "{}";
    f.force_count = 1;
    assert_int_equal(sup_elector_record_event(&a, "stopped leading"), -1);
    assert_true(a.leading);
    sup_elector_free(&a);
    json_decref(f.lease);
    json_decref(f.last_event);
}

static void test_config_check(void **state)
{
    (void)state;
    char err[256];
    sup_lease_config_t c = { .ns = NS, .name = NAME, .identity = "h_1", .lease_ms = 15000,
                             .renew_deadline_ms = 10000, .retry_ms = 2000 };
    assert_int_equal(sup_lease_config_check(&c, err, sizeof err), 0);
    c.renew_deadline_ms = 15000;
    assert_int_equal(sup_lease_config_check(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "lease-duration"));
    c.renew_deadline_ms = 2400; /* must exceed retry * 1.2 */
    assert_int_equal(sup_lease_config_check(&c, err, sizeof err), -1);
    assert_non_null(strstr(err, "retry-period"));
    c.renew_deadline_ms = 2401;
    assert_int_equal(sup_lease_config_check(&c, err, sizeof err), 0);
    snprintf(c.ns, sizeof c.ns, "Kube_System");
    assert_int_equal(sup_lease_config_check(&c, err, sizeof err), -1);
    snprintf(c.ns, sizeof c.ns, NS);
    snprintf(c.name, sizeof c.name, "a..b");
    assert_int_equal(sup_lease_config_check(&c, err, sizeof err), -1);
    snprintf(c.name, sizeof c.name, "kube-controller-manager");
    assert_int_equal(sup_lease_config_check(&c, err, sizeof err), 0);
    c.lease_ms = 500;
    assert_int_equal(sup_lease_config_check(&c, err, sizeof err), -1);

    char id[SUP_LEASE_IDENTITY_MAX];
    assert_int_equal(sup_lease_identity(id, sizeof id), 0);
    assert_non_null(strchr(id, '_'));
    assert_int_equal(strlen(strrchr(id, '_') + 1), 36);
    char t[SUP_LEASE_TIME_MAX];
    assert_int_equal(sup_lease_format_time(1764000000123456LL, t, sizeof t), 0);
    assert_string_equal(t, "2025-11-24T16:00:00.123456Z");
}

static sup_config_rc_t load(sup_config_t *c, const char **args, int n, char *err, size_t errlen)
{
    char *argv[16];
    argv[0] = (char *)"kcm";
    for (int i = 0; i < n; i++) argv[i + 1] = (char *)args[i];
    return sup_config_load(c, n + 1, argv, 1, err, errlen);
}

static void test_flags(void **state)
{
    (void)state;
    static sup_config_t c;
    char err[512];
    const char *none[] = { "--bus-dir=/tmp/x" };
    assert_int_equal(load(&c, none, 1, err, sizeof err), SUP_CONFIG_OK);
    assert_false(c.leader_elect);
    assert_int_equal(c.leader_elect_lease_ms, 15000);
    assert_int_equal(c.leader_elect_renew_ms, 10000);
    assert_int_equal(c.leader_elect_retry_ms, 2000);
    assert_string_equal(c.leader_elect_namespace, "kube-system");
    assert_string_equal(c.leader_elect_name, "");

    const char *on[] = { "--bus-dir=/tmp/x", "--leader-elect", "--shard-index=2", "--shard-count=3",
                         "--leader-elect-lease-duration=30s", "--leader-elect-renew-deadline=20s",
                         "--leader-elect-retry-period=5s", "--leader-elect-resource-namespace=kubus" };
    assert_int_equal(load(&c, on, 8, err, sizeof err), SUP_CONFIG_OK);
    assert_true(c.leader_elect);
    assert_int_equal(c.leader_elect_lease_ms, 30000);
    sup_lease_config_t lc;
    sup_leader_lease_config(&c, &lc);
    assert_string_equal(lc.name, "kubus-shard-2-of-3");
    assert_string_equal(lc.ns, "kubus");

    const char *named[] = { "--bus-dir=/tmp/x", "--leader-elect=true",
                            "--leader-elect-resource-name=kube-controller-manager",
                            "--leader-elect-resource-lock=leases" };
    assert_int_equal(load(&c, named, 4, err, sizeof err), SUP_CONFIG_OK);
    sup_leader_lease_config(&c, &lc);
    assert_string_equal(lc.name, "kube-controller-manager");

    const char *bad1[] = { "--bus-dir=/tmp/x", "--leader-elect", "--leader-elect-renew-deadline=15s" };
    assert_int_equal(load(&c, bad1, 3, err, sizeof err), SUP_CONFIG_ERROR);
    assert_non_null(strstr(err, "must be greater than"));
    /* Without --leader-elect the durations are not checked (like upstream). */
    const char *off[] = { "--bus-dir=/tmp/x", "--leader-elect-renew-deadline=15s" };
    assert_int_equal(load(&c, off, 2, err, sizeof err), SUP_CONFIG_OK);
    const char *bad2[] = { "--bus-dir=/tmp/x", "--leader-elect", "--leader-elect-retry-period=9s" };
    assert_int_equal(load(&c, bad2, 3, err, sizeof err), SUP_CONFIG_ERROR);
    const char *bad3[] = { "--bus-dir=/tmp/x", "--leader-elect-resource-namespace=Bad_NS" };
    assert_int_equal(load(&c, bad3, 2, err, sizeof err), SUP_CONFIG_ERROR);
    const char *bad4[] = { "--bus-dir=/tmp/x", "--leader-elect-resource-name=-x-" };
    assert_int_equal(load(&c, bad4, 2, err, sizeof err), SUP_CONFIG_ERROR);
    const char *bad5[] = { "--bus-dir=/tmp/x", "--leader-elect-resource-lock=endpoints" };
    assert_int_equal(load(&c, bad5, 2, err, sizeof err), SUP_CONFIG_ERROR);
    const char *bad6[] = { "--bus-dir=/tmp/x", "--leader-elect-lease-duration=abc" };
    assert_int_equal(load(&c, bad6, 2, err, sizeof err), SUP_CONFIG_ERROR);
    const char *bad7[] = { "--bus-dir=/tmp/x", "--leader-elect-lease-duration=0s" };
    assert_int_equal(load(&c, bad7, 2, err, sizeof err), SUP_CONFIG_ERROR);
}

static void test_reports(void **state)
{
    (void)state;
    static sup_config_t c;
    char err[256];
    const char *a1[] = { "--bus-dir=/tmp/x", "--controllers=replicaset" };
    assert_int_equal(load(&c, a1, 2, err, sizeof err), SUP_CONFIG_OK);
    static sup_table_t t;
    sup_table_build(&t, &c, NULL);
    /* Broker and informer up; executor and replicaset down (standby). */
    for (size_t i = 0; i < t.n; i++) {
        bool infra_up = strcmp(t.w[i].comp->name, "broker") == 0 || strcmp(t.w[i].comp->name, "informer") == 0;
        t.w[i].state = infra_up ? SUP_W_UP : SUP_W_DOWN;
        t.w[i].reported_ready = infra_up;
    }
    sup_report_leader_t ld = { .enabled = true, .leading = false, .shard_index = 0,
                               .lease = NS "/" NAME, .identity = "h_me", .holder = "h_other" };
    /* A standby is ready with the workers it runs: broker and informer. */
    sup_checks_ctx_t x = { .now_ms = 1000, .stale_ms = 3000, .ld = &ld };
    sup_checks_t l;
    sup_checks_readyz(&t, &x, &l);
    assert_int_equal(l.n, 3); /* shutdown, broker, informer */
    for (size_t i = 0; i < l.n; i++) assert_true(l.c[i].ok);
    assert_null(sup_checks_find(&l, "executor"));
    ld.leading = true;
    sup_checks_readyz(&t, &x, &l);
    assert_false(sup_checks_find(&l, "executor")->ok);
    assert_false(sup_checks_find(&l, "replicaset-controller")->ok);
    char *s;
    s = sup_report_statusz_ex(&t, 5000, &ld);
    assert_non_null(strstr(s, "\nleader: yes lease=" NS "/" NAME " identity=h_me holder=h_other\n"));
    free(s);
    ld.leading = false;
    s = sup_report_metrics_ex(&t, &ld, NULL);
    assert_non_null(strstr(s, "\nkubus_leader{shard=\"0\"} 0\n"));
    assert_non_null(strstr(s, "\nleader_election_master_status{name=\"" NAME "\"} 0\n"));
    free(s);
    sup_report_leader_t off = { .enabled = false, .leading = true, .shard_index = 3 };
    s = sup_report_metrics_ex(&t, &off, NULL);
    assert_non_null(strstr(s, "\nkubus_leader{shard=\"3\"} 1\n"));
    assert_null(strstr(s, "leader_election_master_status"));
    free(s);
    /* Election off: everything runs, so everything counts. */
    x.ld = &off;
    sup_checks_readyz(&t, &x, &l);
    assert_false(sup_checks_find(&l, "executor")->ok);
    sup_checks_healthz(&t, &x, &l);
    assert_null(sup_checks_find(&l, "leaderElection"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acquire_from_empty),
        cmocka_unit_test(test_respect_unexpired_other),
        cmocka_unit_test(test_take_over_expired),
        cmocka_unit_test(test_lose_after_renew_deadline),
        cmocka_unit_test(test_slow_renewals_lose),
        cmocka_unit_test(test_conflict_one_winner),
        cmocka_unit_test(test_release),
        cmocka_unit_test(test_bad_answers),
        cmocka_unit_test(test_timeouts_respect_deadline),
        cmocka_unit_test(test_events),
        cmocka_unit_test(test_config_check),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_reports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
