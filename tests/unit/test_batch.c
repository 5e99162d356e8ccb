/* Unit tests for lib/batch.c (EventBatch frames) and the batch rules of
 * lib/msg.c: a built batch decodes to the events that went in and its header
 * reads back without a decode; truncated frames (at every byte), counts and
 * seqs that do not add up, foreign epochs, resources or event types, and
 * ambiguous envelopes are refused by both readers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "batch.h"
#include "msg.h"

static char g_names[64][16];

static void make_event(msg_event_t *ev, uint64_t epoch, uint64_t seq, const char *resource, int i)
{
    kubus__v1__watch_event__init(ev);
    snprintf(g_names[i % 64], sizeof g_names[0], "pod-%d", i);
    ev->epoch = epoch;
    ev->seq = seq;
    ev->resource = (char *)resource;
    ev->namespace_ = "default";
    ev->name = g_names[i % 64];
    ev->type = KUBUS__V1__EVENT_TYPE__MODIFIED;
    ev->object.data = (uint8_t *)"{\"kind\":\"Pod\"}";
    ev->object.len = 14;
    ev->resource_version = "7";
    ev->uid = "u";
}

/* A batch of n events of "pods", epoch 9, seqs first..first+n-1. */
static void build(batch_frame_t *f, uint64_t first, int n)
{
    batch_builder_t b;
    batch_builder_init(&b);
    char err[256];
    for (int i = 0; i < n; i++) {
        msg_event_t ev;
        make_event(&ev, 9, first + (uint64_t)i, "pods", i);
        assert_int_equal(batch_add(&b, &ev, err, sizeof err), 0);
    }
    assert_int_equal(batch_count(&b), n);
    assert_int_equal(batch_finish(&b, f), 0);
    assert_int_equal(batch_count(&b), 0);
    batch_builder_fini(&b);
}

static void test_round_trip(void **state)
{
    (void)state;
    batch_frame_t f;
    build(&f, 41, 3);
    char err[256];
    batch_header_t h;
    assert_int_equal(batch_header_read(batch_frame_data(&f), f.len, &h, err, sizeof err), 1);
    assert_int_equal(h.epoch, 9);
    assert_int_equal(h.first_seq, 41);
    assert_int_equal(h.count, 3);
    assert_string_equal(h.resource, "pods");
    msg_envelope_t *env = msg_decode(batch_frame_data(&f), f.len, err, sizeof err);
    assert_non_null(env);
    assert_int_equal(env->body_case, KUBUS__V1__ENVELOPE__BODY_EVENT_BATCH);
    const msg_batch_t *b = env->event_batch;
    assert_int_equal(b->n_events, 3);
    assert_int_equal(b->events[2]->seq, 43);
    assert_string_equal(b->events[1]->name, "pod-1");
    assert_memory_equal(b->events[0]->object.data, "{\"kind\":\"Pod\"}", 14);
    msg_free(env);
    batch_frame_free(&f);
}

/* A big batch: the builder's buffer grows, a long length prefix. */
static void test_large_batch(void **state)
{
    (void)state;
    batch_frame_t f;
    build(&f, 1, 5000);
    assert_true(f.len > 16 * 1024);
    batch_header_t h;
    char err[256];
    assert_int_equal(batch_header_read(batch_frame_data(&f), f.len, &h, err, sizeof err), 1);
    assert_int_equal(h.count, 5000);
    msg_envelope_t *env = msg_decode(batch_frame_data(&f), f.len, err, sizeof err);
    assert_non_null(env);
    assert_int_equal(env->event_batch->events[4999]->seq, 5000);
    msg_free(env);
    batch_frame_free(&f);
}

static void test_truncated_at_every_byte(void **state)
{
    (void)state;
    batch_frame_t f;
    build(&f, 7, 4);
    char err[256];
    batch_header_t h;
    for (size_t n = 0; n < f.len; n++) {
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, batch_frame_data(&f), n);
        int rc = batch_header_read(cut, n, &h, err, sizeof err);
        assert_true(rc <= 0); /* 0 only for a prefix that holds no batch field at all */
        assert_null(msg_decode(cut, n, err, sizeof err));
        free(cut);
    }
    batch_frame_free(&f);
}

/* Packs env without msg_encode's checks (that would refuse it). */
static uint8_t *pack_raw(const msg_envelope_t *env, size_t *len)
{
    *len = kubus__v1__envelope__get_packed_size(env);
    uint8_t *buf = malloc(*len);
    assert_int_equal(kubus__v1__envelope__pack(env, buf), *len);
    return buf;
}

typedef struct {
    msg_envelope_t env;
    msg_batch_t b;
    msg_event_t ev[3], *evp[3];
} raw_t;

static void raw_init(raw_t *r)
{
    kubus__v1__envelope__init(&r->env);
    kubus__v1__event_batch__init(&r->b);
    r->env.version = MSG_VERSION;
    r->env.body_case = KUBUS__V1__ENVELOPE__BODY_EVENT_BATCH;
    r->env.event_batch = &r->b;
    r->b.epoch = 9;
    r->b.resource = "pods";
    r->b.first_seq = 10;
    r->b.count = 3;
    r->b.n_events = 3;
    r->b.events = r->evp;
    for (int i = 0; i < 3; i++) {
        make_event(&r->ev[i], 9, 10 + (uint64_t)i, "pods", i);
        r->evp[i] = &r->ev[i];
    }
}

/* Expectation for both readers: header (the broker) and full decode. */
static void expect(const raw_t *r, int header_rc, const char *why)
{
    size_t len;
    uint8_t *buf = pack_raw(&r->env, &len);
    char err[256] = "";
    batch_header_t h;
    assert_int_equal(batch_header_read(buf, len, &h, err, sizeof err), header_rc);
    err[0] = '\0';
    assert_null(msg_decode(buf, len, err, sizeof err));
    assert_non_null(strstr(err, why));
    free(buf);
}

static void test_counts_and_seqs(void **state)
{
    (void)state;
    raw_t r;
    raw_init(&r);
    r.b.count = 4;
    expect(&r, -1, "count 4 but 3 events");
    raw_init(&r);
    r.b.count = 0;
    r.b.n_events = 0;
    expect(&r, -1, "count 0");
    raw_init(&r);
    r.ev[1].seq = 12; /* a hole: only the full decode sees seqs */
    expect(&r, 1, "event 1 has seq 12, want 11");
    raw_init(&r);
    r.b.first_seq = 9;
    expect(&r, 1, "event 0 has seq 10, want 9");
    raw_init(&r);
    r.b.first_seq = UINT64_MAX - 1;
    expect(&r, -1, "overflow");
    raw_init(&r);
    r.b.first_seq = 0;
    expect(&r, -1, "without epoch, first seq or resource");
}

static void test_foreign_events(void **state)
{
    (void)state;
    raw_t r;
    raw_init(&r);
    r.ev[2].epoch = 8;
    expect(&r, 1, "event 2 of another epoch or resource");
    raw_init(&r);
    r.ev[0].resource = "nodes";
    expect(&r, 1, "event 0 of another epoch or resource");
    raw_init(&r);
    r.ev[1].type = KUBUS__V1__EVENT_TYPE__SNAPSHOT;
    expect(&r, 1, "not a live change");
    raw_init(&r);
    r.ev[1].name = "";
    expect(&r, 1, "no name");
    raw_init(&r);
    r.b.resource = "Pods/x";
    expect(&r, -1, "");
    raw_init(&r);
    r.b.epoch = 0;
    expect(&r, -1, "without epoch");
}

/* Hand-made envelopes: duplicated header fields, a batch next to another
 * body, a bad version, a group wire type. */
static void test_ambiguous_envelopes(void **state)
{
    (void)state;
    char err[256];
    batch_header_t h;
    /* version 1, event_batch{epoch 1, epoch 2, ...}: duplicate header field */
    static const uint8_t dup[] = { 0x08, 0x01, 0xa2, 0x01, 0x04, 0x08, 0x01, 0x08, 0x02 };
    assert_int_equal(batch_header_read(dup, sizeof dup, &h, err, sizeof err), -1);
    assert_non_null(strstr(err, "twice"));
    /* event_batch{} next to event (field 10) */
    static const uint8_t two[] = { 0x08, 0x01, 0x52, 0x00, 0xa2, 0x01, 0x00 };
    assert_int_equal(batch_header_read(two, sizeof two, &h, err, sizeof err), -1);
    assert_non_null(strstr(err, "another body"));
    /* version 2 */
    static const uint8_t v2[] = { 0x08, 0x02, 0xa2, 0x01, 0x00 };
    assert_int_equal(batch_header_read(v2, sizeof v2, &h, err, sizeof err), -1);
    /* a start-group key */
    static const uint8_t grp[] = { 0x08, 0x01, 0x0b };
    assert_int_equal(batch_header_read(grp, sizeof grp, &h, err, sizeof err), -1);
    /* not a batch at all: left to msg_decode */
    static const uint8_t other[] = { 0x08, 0x01, 0x52, 0x00 };
    assert_int_equal(batch_header_read(other, sizeof other, &h, err, sizeof err), 0);
}

static void test_builder_refuses(void **state)
{
    (void)state;
    batch_builder_t b;
    batch_builder_init(&b);
    char err[256];
    msg_event_t ev;
    make_event(&ev, 9, 5, "pods", 0);
    assert_int_equal(batch_add(&b, &ev, err, sizeof err), 0);
    make_event(&ev, 9, 7, "pods", 1);
    assert_int_equal(batch_add(&b, &ev, err, sizeof err), -1); /* hole */
    assert_non_null(strstr(err, "seq 7 after 5"));
    make_event(&ev, 9, 6, "nodes", 1);
    assert_int_equal(batch_add(&b, &ev, err, sizeof err), -1);
    make_event(&ev, 8, 6, "pods", 1);
    assert_int_equal(batch_add(&b, &ev, err, sizeof err), -1);
    make_event(&ev, 9, 6, "pods", 1);
    ev.type = KUBUS__V1__EVENT_TYPE__SNAPSHOT;
    assert_int_equal(batch_add(&b, &ev, err, sizeof err), -1);
    assert_int_equal(batch_count(&b), 1);
    size_t size = batch_size(&b);
    ev.type = KUBUS__V1__EVENT_TYPE__DELETED;
    assert_int_equal(batch_add(&b, &ev, err, sizeof err), 0);
    assert_int_equal(batch_size(&b), size + batch_event_size(&ev));
    batch_frame_t f, none = { 0 };
    assert_int_equal(batch_finish(&b, &f), 0);
    assert_int_equal(batch_finish(&b, &none), -1); /* empty now */
    assert_null(none.mem);
    batch_frame_free(&f);
    batch_builder_fini(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_large_batch),
        cmocka_unit_test(test_truncated_at_every_byte),
        cmocka_unit_test(test_counts_and_seqs),
        cmocka_unit_test(test_foreign_events),
        cmocka_unit_test(test_ambiguous_envelopes),
        cmocka_unit_test(test_builder_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
