/* Unit tests for lib/watchparse.c: chunking anywhere gives the same events,
 * and every kind of bad input is reported as what it is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "watchparse.h"

#define MAXREC 64

/* What the callback saw: kind plus the object's name or the Status reason. */
typedef struct {
    int n;
    watchparse_kind_t kind[MAXREC];
    char what[MAXREC][64];
    int code[MAXREC];
    int stop_at; /* stop feeding at this event index (-1: never) */
} rec_t;

static int record(void *ctx, const watchparse_event_t *ev)
{
    rec_t *r = ctx;
    assert_true(r->n < MAXREC);
    r->kind[r->n] = ev->kind;
    r->code[r->n] = ev->status.code;
    const char *what = "";
    if (ev->object) {
        json_t *md = json_object_get(ev->object, "metadata");
        json_t *v = json_object_get(md, "name");
        if (!v) v = json_object_get(md, "resourceVersion");
        what = json_is_string(v) ? json_string_value(v) : "";
    } else if (ev->kind == WATCHPARSE_STATUS || ev->kind == WATCHPARSE_EXPIRED) {
        what = ev->status.reason;
    } else {
        assert_non_null(ev->error);
    }
    snprintf(r->what[r->n], sizeof r->what[0], "%s", what);
    r->n++;
    return r->stop_at >= 0 && r->n > r->stop_at ? 7 : 0;
}

static const char *STREAM =
    "{\"type\":\"ADDED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"a\",\"resourceVersion\":\"10\"}}}\n"
    "{\"type\":\"MODIFIED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"b\",\"resourceVersion\":\"11\"}}}\r\n"
    "\n"
    "{\"type\":\"BOOKMARK\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"resourceVersion\":\"12\"}}}\n"
    "{\"type\":\"DELETED\",\"object\":{\"kind\":\"Pod\",\"metadata\":{\"name\":\"\\u00e9\",\"resourceVersion\":\"13\"}}}\n"
    "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},\"status\":\"Failure\","
    "\"message\":\"too old resource version: 1 (13)\",\"reason\":\"Expired\",\"code\":410}}\n";

static void check_stream(const rec_t *r)
{
    assert_int_equal(r->n, 5);
    assert_int_equal(r->kind[0], WATCHPARSE_ADDED);
    assert_string_equal(r->what[0], "a");
    assert_int_equal(r->kind[1], WATCHPARSE_MODIFIED);
    assert_string_equal(r->what[1], "b");
    assert_int_equal(r->kind[2], WATCHPARSE_BOOKMARK);
    assert_string_equal(r->what[2], "12");
    assert_int_equal(r->kind[3], WATCHPARSE_DELETED);
    assert_string_equal(r->what[3], "\xc3\xa9");
    assert_int_equal(r->kind[4], WATCHPARSE_EXPIRED);
    assert_string_equal(r->what[4], "Expired");
    assert_int_equal(r->code[4], 410);
}

static void test_whole(void **state)
{
    (void)state;
    rec_t r = { .stop_at = -1 };
    watchparse_t *p = watchparse_new(0, record, &r);
    assert_int_equal(watchparse_feed(p, STREAM, strlen(STREAM)), 0);
    check_stream(&r);
    assert_int_equal(watchparse_pending(p), 0);
    watchparse_destroy(&p);
    assert_null(p);
}

/* Two cuts at every pair of positions (i < j): three chunks. */
static void test_split_everywhere(void **state)
{
    (void)state;
    size_t n = strlen(STREAM);
    for (size_t i = 0; i <= n; i++) {
        for (size_t j = i; j <= n; j += 7) {
            rec_t r = { .stop_at = -1 };
            watchparse_t *p = watchparse_new(0, record, &r);
            assert_int_equal(watchparse_feed(p, STREAM, i), 0);
            assert_int_equal(watchparse_feed(p, STREAM + i, j - i), 0);
            assert_int_equal(watchparse_feed(p, STREAM + j, n - j), 0);
            check_stream(&r);
            watchparse_destroy(&p);
        }
    }
}

static void test_byte_at_a_time(void **state)
{
    (void)state;
    rec_t r = { .stop_at = -1 };
    watchparse_t *p = watchparse_new(0, record, &r);
    for (size_t i = 0; STREAM[i]; i++) assert_int_equal(watchparse_feed(p, STREAM + i, 1), 0);
    check_stream(&r);
    watchparse_destroy(&p);
}

static void test_garbage(void **state)
{
    (void)state;
    const char *s =
        "<html><body><h1>502 Bad Gateway</h1></body></html>\n"
        "[1,2,3]\n"
        "{\"object\":{}}\n"
        "{\"type\":\"ADDED\"}\n"
        "{\"type\":5,\"object\":{}}\n"
        "{\"type\":\"ADDED\",\"object\":\"pod\"}\n"
        "{\"type\":\"SYNC\",\"object\":{}}\n"
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Pod\"}}\n"
        "{\"type\":\"ADDED\",\"type\":\"DELETED\",\"object\":{}}\n"
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"ok\"}}} trailing\n"
        "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"ok\"}}}\n";
    rec_t r = { .stop_at = -1 };
    watchparse_t *p = watchparse_new(0, record, &r);
    assert_int_equal(watchparse_feed(p, s, strlen(s)), 0);
    watchparse_kind_t want[] = { WATCHPARSE_BAD_LINE, WATCHPARSE_BAD_LINE, WATCHPARSE_BAD_LINE, WATCHPARSE_BAD_LINE,
                                 WATCHPARSE_BAD_LINE, WATCHPARSE_BAD_LINE, WATCHPARSE_UNKNOWN_TYPE,
                                 WATCHPARSE_BAD_LINE, WATCHPARSE_BAD_LINE, WATCHPARSE_BAD_LINE, WATCHPARSE_ADDED };
    assert_int_equal(r.n, 11);
    for (int i = 0; i < 11; i++) assert_int_equal(r.kind[i], want[i]);
    assert_string_equal(r.what[10], "ok");
    watchparse_destroy(&p);
}

static void test_status_kinds(void **state)
{
    (void)state;
    const char *s =
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"reason\":\"InternalError\",\"code\":500}}\n"
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"reason\":\"Gone\",\"code\":410}}\n"
        "{\"type\":\"ERROR\",\"object\":{\"kind\":\"Status\",\"reason\":\"Expired\"}}\n"
        "{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"reason\":\"Expired\",\"code\":410}\n"
        "{\"kind\":\"Status\",\"status\":\"Failure\",\"reason\":\"Forbidden\",\"code\":403}\n";
    rec_t r = { .stop_at = -1 };
    watchparse_t *p = watchparse_new(0, record, &r);
    assert_int_equal(watchparse_feed(p, s, strlen(s)), 0);
    assert_int_equal(r.n, 5);
    assert_int_equal(r.kind[0], WATCHPARSE_STATUS);
    assert_int_equal(r.code[0], 500);
    assert_int_equal(r.kind[1], WATCHPARSE_EXPIRED);
    assert_int_equal(r.kind[2], WATCHPARSE_EXPIRED);
    assert_int_equal(r.kind[3], WATCHPARSE_EXPIRED);
    assert_int_equal(r.kind[4], WATCHPARSE_STATUS);
    assert_string_equal(r.what[4], "Forbidden");
    watchparse_destroy(&p);
}

static void test_too_long_resyncs(void **state)
{
    (void)state;
    const char *ok = "{\"type\":\"ADDED\",\"object\":{\"metadata\":{\"name\":\"x\"}}}\n";
    rec_t r = { .stop_at = -1 };
    watchparse_t *p = watchparse_new(64, record, &r);
    /* An over-long line arriving in pieces, then a good one in the same chunk as its end. */
    char big[100];
    memset(big, 'a', sizeof big);
    assert_int_equal(watchparse_feed(p, big, 40), 0);
    assert_int_equal(watchparse_feed(p, big, 40), 0);  /* 80 > 64: reported now */
    assert_int_equal(watchparse_feed(p, big, 100), 0); /* still skipping */
    char tail[200];
    snprintf(tail, sizeof tail, "zzz\n%s", ok);
    assert_int_equal(watchparse_feed(p, tail, strlen(tail)), 0);
    /* An over-long line entirely within one chunk. */
    char one[300];
    memset(one, 'b', 100);
    snprintf(one + 100, sizeof one - 100, "\n%s", ok);
    assert_int_equal(watchparse_feed(p, one, strlen(one)), 0);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.kind[0], WATCHPARSE_TOO_LONG);
    assert_int_equal(r.kind[1], WATCHPARSE_ADDED);
    assert_int_equal(r.kind[2], WATCHPARSE_TOO_LONG);
    assert_int_equal(r.kind[3], WATCHPARSE_ADDED);
    /* Exactly at the limit is fine. */
    assert_true(strlen(ok) - 1 <= 64);
    watchparse_destroy(&p);
}

static void test_stop_and_pending(void **state)
{
    (void)state;
    rec_t r = { .stop_at = 1 };
    watchparse_t *p = watchparse_new(0, record, &r);
    assert_int_equal(watchparse_feed(p, STREAM, strlen(STREAM)), 7);
    assert_int_equal(r.n, 2);
    assert_int_equal(watchparse_pending(p), 0);
    r.stop_at = -1;
    assert_int_equal(watchparse_feed(p, STREAM, 30), 0);
    assert_int_equal(watchparse_pending(p), 30); /* a stream cut here would leave half an event */
    watchparse_reset(p);
    assert_int_equal(watchparse_pending(p), 0);
    watchparse_destroy(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_whole),         cmocka_unit_test(test_split_everywhere),
        cmocka_unit_test(test_byte_at_a_time), cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_status_kinds),  cmocka_unit_test(test_too_long_resyncs),
        cmocka_unit_test(test_stop_and_pending),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
