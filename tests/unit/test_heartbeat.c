/* Unit tests for heartbeat framing on the status pipe (lib/worker.c) and the
 * supervisor's reading of it (supervisor/table.c: sup_worker_feed), with
 * truncated and garbled input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "components.h"
#include "table.h"
#include "worker.h"

static void make_hb(msg_heartbeat_t *hb, const char *name, int pid, uint32_t gen, uint64_t seq,
                    Kubus__V1__WorkerState st)
{
    kubus__v1__heartbeat__init(hb);
    hb->worker = (char *)name;
    hb->pid = pid;
    hb->generation = gen;
    hb->sequence = seq;
    hb->state = st;
    hb->unix_ms = 1700000000000ull;
}

static int frame(uint8_t *buf, size_t len, const char *name, int pid, uint32_t gen, uint64_t seq,
                 Kubus__V1__WorkerState st)
{
    msg_heartbeat_t hb;
    make_hb(&hb, name, pid, gen, seq, st);
    return worker_heartbeat_frame(&hb, buf, len);
}

static void test_round_trip(void **state)
{
    (void)state;
    uint8_t buf[WORKER_HB_FRAME_MAX];
    int n = frame(buf, sizeof buf, "broker", 42, 3, 99, KUBUS__V1__WORKER_STATE__READY);
    assert_true(n > 4);
    uint32_t len = (uint32_t)buf[0] << 24 | (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
    assert_int_equal(len + 4, n);
    msg_envelope_t *env = NULL;
    char err[256];
    assert_int_equal(worker_heartbeat_unframe(buf, (size_t)n, &env, err, sizeof err), n);
    assert_non_null(env);
    assert_string_equal(env->heartbeat->worker, "broker");
    assert_int_equal(env->heartbeat->pid, 42);
    assert_int_equal(env->heartbeat->generation, 3);
    assert_int_equal(env->heartbeat->sequence, 99);
    assert_int_equal(env->heartbeat->state, KUBUS__V1__WORKER_STATE__READY);
    msg_free(env);
}

static void test_frame_refuses(void **state)
{
    (void)state;
    uint8_t buf[WORKER_HB_FRAME_MAX];
    /* Invalid heartbeats are not framed. */
    assert_int_equal(frame(buf, sizeof buf, "", 1, 1, 0, 0), -1);
    assert_int_equal(frame(buf, sizeof buf, "x", 0, 1, 0, 0), -1);
    assert_int_equal(frame(buf, sizeof buf, "x", 1, 1, 0, (Kubus__V1__WorkerState)9), -1);
    /* Nor ones that do not fit. */
    assert_int_equal(frame(buf, 8, "broker", 1, 1, 0, 0), -1);
    char big[WORKER_HB_FRAME_MAX];
    memset(big, 'n', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    uint8_t large[4 * WORKER_HB_FRAME_MAX];
    assert_int_equal(frame(large, sizeof large, big, 1, 1, 0, 0), -1);
}

static void test_truncated(void **state)
{
    (void)state;
    uint8_t buf[WORKER_HB_FRAME_MAX];
    int n = frame(buf, sizeof buf, "informer", 7, 1, 5, KUBUS__V1__WORKER_STATE__STARTING);
    char err[256];
    for (int cut = 0; cut < n; cut++) {
        msg_envelope_t *env = (msg_envelope_t *)1;
        assert_int_equal(worker_heartbeat_unframe(buf, (size_t)cut, &env, err, sizeof err), 0);
        assert_null(env);
    }
}

static void test_garbled(void **state)
{
    (void)state;
    char err[256];
    msg_envelope_t *env = NULL;
    uint8_t zero[8] = { 0, 0, 0, 0, 1, 2, 3, 4 };
    assert_int_equal(worker_heartbeat_unframe(zero, sizeof zero, &env, err, sizeof err), -1);
    assert_non_null(strstr(err, "length"));
    uint8_t huge[8] = { 0x7f, 0xff, 0xff, 0xff, 1, 2, 3, 4 };
    assert_int_equal(worker_heartbeat_unframe(huge, sizeof huge, &env, err, sizeof err), -1);
    uint8_t junk[12] = { 0, 0, 0, 8, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    assert_int_equal(worker_heartbeat_unframe(junk, sizeof junk, &env, err, sizeof err), -1);
    assert_null(env);
    /* A valid envelope that is not a heartbeat. */
    msg_envelope_t other;
    Kubus__V1__InflightQuery q;
    kubus__v1__envelope__init(&other);
    kubus__v1__inflight_query__init(&q);
    other.version = MSG_VERSION;
    other.body_case = KUBUS__V1__ENVELOPE__BODY_INFLIGHT_QUERY;
    other.inflight_query = &q;
    q.controller = "job";
    uint8_t buf[64];
    size_t n = kubus__v1__envelope__pack(&other, buf + 4);
    buf[0] = buf[1] = buf[2] = 0;
    buf[3] = (uint8_t)n;
    assert_int_equal(worker_heartbeat_unframe(buf, n + 4, &env, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a heartbeat"));
    assert_null(env);
    /* Every single-byte corruption is refused or decoded, never a crash. */
    int good = frame(buf, sizeof buf, "job", 9, 2, 1, KUBUS__V1__WORKER_STATE__READY);
    for (int i = 0; i < good; i++) {
        for (int bit = 0; bit < 8; bit++) {
            uint8_t copy[64];
            memcpy(copy, buf, (size_t)good);
            copy[i] ^= (uint8_t)(1u << bit);
            int rc = worker_heartbeat_unframe(copy, (size_t)good, &env, err, sizeof err);
            if (rc > 0) msg_free(env);
            env = NULL;
        }
    }
}

static sup_worker_t *feed_worker(void)
{
    static sup_worker_t w;
    memset(&w, 0, sizeof w);
    w.comp = sup_component((size_t)sup_component_by_name("broker"));
    w.pid = 1234;
    w.generation = 2;
    w.status_fd = -1;
    return &w;
}

static void test_feed_stream(void **state)
{
    (void)state;
    sup_worker_t *w = feed_worker();
    uint8_t stream[3 * WORKER_HB_FRAME_MAX];
    size_t len = 0;
    len += (size_t)frame(stream + len, sizeof stream - len, "broker", 1234, 2, 1, KUBUS__V1__WORKER_STATE__STARTING);
    len += (size_t)frame(stream + len, sizeof stream - len, "broker", 1234, 2, 2, KUBUS__V1__WORKER_STATE__READY);
    len += (size_t)frame(stream + len, sizeof stream - len, "broker", 1234, 2, 3, KUBUS__V1__WORKER_STATE__READY);
    char err[256];
    /* One byte at a time: frames are reassembled. */
    for (size_t i = 0; i < len; i++)
        assert_int_equal(sup_worker_feed(w, stream + i, 1, 100 + i, err, sizeof err), 0);
    assert_int_equal(w->progress, 3);
    assert_true(w->reported_ready);
    assert_int_equal(w->heard_ms, 100 + len - 1);
    assert_int_equal(w->hblen, 0);
    /* All at once. */
    w->progress = 0;
    assert_int_equal(sup_worker_feed(w, stream, len, 5000, err, sizeof err), 0);
    assert_int_equal(w->progress, 3);
    assert_int_equal(w->heard_ms, 5000);
}

static void test_feed_refuses(void **state)
{
    (void)state;
    sup_worker_t *w = feed_worker();
    uint8_t buf[WORKER_HB_FRAME_MAX];
    char err[256];
    int n = frame(buf, sizeof buf, "broker", 999, 2, 1, KUBUS__V1__WORKER_STATE__READY);
    assert_int_equal(sup_worker_feed(w, buf, (size_t)n, 10, err, sizeof err), 1);
    assert_non_null(strstr(err, "pid 999"));
    n = frame(buf, sizeof buf, "broker", 1234, 1, 1, KUBUS__V1__WORKER_STATE__READY);
    assert_int_equal(sup_worker_feed(w, buf, (size_t)n, 10, err, sizeof err), 1);
    assert_non_null(strstr(err, "generation 1"));
    n = frame(buf, sizeof buf, "executor", 1234, 2, 1, KUBUS__V1__WORKER_STATE__READY);
    assert_int_equal(sup_worker_feed(w, buf, (size_t)n, 10, err, sizeof err), 1);
    assert_non_null(strstr(err, "executor"));
    assert_int_equal(w->heard_ms, 0); /* none of those counted as a sign of life */
    assert_false(w->reported_ready);
    /* Garbage: refused, buffer dropped, and the next good frame is read. */
    uint8_t junk[] = { 0xde, 0xad, 0xbe, 0xef, 0, 1 };
    assert_int_equal(sup_worker_feed(w, junk, sizeof junk, 20, err, sizeof err), 1);
    assert_int_equal(w->hblen, 0);
    n = frame(buf, sizeof buf, "broker", 1234, 2, 7, KUBUS__V1__WORKER_STATE__READY);
    assert_int_equal(sup_worker_feed(w, buf, (size_t)n, 30, err, sizeof err), 0);
    assert_int_equal(w->progress, 7);
    assert_int_equal(w->heard_ms, 30);
    /* A flood larger than the buffer is consumed without overflow. */
    uint8_t flood[10000];
    memset(flood, 0x41, sizeof flood);
    assert_true(sup_worker_feed(w, flood, sizeof flood, 40, err, sizeof err) >= 1);
    assert_true(w->hblen < sizeof w->hb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_frame_refuses),
        cmocka_unit_test(test_truncated),
        cmocka_unit_test(test_garbled),
        cmocka_unit_test(test_feed_stream),
        cmocka_unit_test(test_feed_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
