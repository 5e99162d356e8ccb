/* Unit tests for informer/ring.c, the informer's replay ring: batches held
 * in push order within the byte budget (the oldest evicted first, the
 * newest always kept), wrap-around of the circular array as it grows, hits
 * (every event after a seq still held) and misses (evicted or forgotten). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "ring.h"

/* A fake frame of len bytes whose first byte tags it. */
static batch_frame_t frame(size_t len, uint8_t tag)
{
    batch_frame_t f = { .mem = malloc(len), .off = 0, .len = len };
    assert_non_null(f.mem);
    memset(f.mem, tag, len);
    return f;
}

typedef struct {
    uint8_t tags[1024];
    size_t n;
} seen_t;

static int collect(void *ctx, const batch_frame_t *f)
{
    seen_t *s = ctx;
    s->tags[s->n++] = batch_frame_data(f)[0];
    return 0;
}

static seen_t each(const replay_ring_t *r, int res, uint64_t seq)
{
    seen_t s = { .n = 0 };
    assert_int_equal(replay_ring_each(r, res, seq, collect, &s), 0);
    return s;
}

static void push(replay_ring_t *r, int res, uint64_t first, uint64_t last, size_t len, uint8_t tag)
{
    batch_frame_t f = frame(len, tag);
    assert_int_equal(replay_ring_push(r, res, first, last, &f), 0);
    assert_null(f.mem); /* taken */
}

static void test_hit_and_order(void **state)
{
    (void)state;
    replay_ring_t *r = replay_ring_new(1 << 20, 2);
    push(r, 0, 1, 3, 10, 'a');
    push(r, 1, 1, 1, 10, 'x');
    push(r, 0, 4, 9, 10, 'b');
    assert_true(replay_ring_covers(r, 0, 0));
    assert_true(replay_ring_covers(r, 0, 5));
    seen_t s = each(r, 0, 2);          /* seqs 3.. : both batches of resource 0 */
    assert_int_equal(s.n, 2);
    assert_memory_equal(s.tags, "ab", 2);
    s = each(r, 0, 3);                 /* 4.. : only the second */
    assert_int_equal(s.n, 1);
    assert_int_equal(s.tags[0], 'b');
    s = each(r, 0, 9);                 /* nothing newer */
    assert_int_equal(s.n, 0);
    s = each(r, 1, 0);
    assert_int_equal(s.n, 1);
    assert_int_equal(replay_ring_bytes(r), 30);
    replay_ring_destroy(&r);
    assert_null(r);
}

static void test_bytes_bound_and_miss(void **state)
{
    (void)state;
    replay_ring_t *r = replay_ring_new(100, 2);
    push(r, 0, 1, 10, 40, 'a');
    push(r, 1, 1, 5, 40, 'x');
    push(r, 0, 11, 20, 40, 'b');       /* 120 > 100: 'a' goes */
    assert_int_equal(replay_ring_len(r), 2);
    assert_int_equal(replay_ring_bytes(r), 80);
    assert_false(replay_ring_covers(r, 0, 9));   /* 10 is gone */
    assert_true(replay_ring_covers(r, 0, 10));
    assert_true(replay_ring_covers(r, 1, 0));    /* resource 1 untouched */
    push(r, 1, 6, 6, 500, 'y');        /* bigger than the budget: kept alone */
    assert_int_equal(replay_ring_len(r), 1);
    assert_int_equal(replay_ring_bytes(r), 500);
    assert_false(replay_ring_covers(r, 1, 4));
    assert_true(replay_ring_covers(r, 1, 5));
    assert_false(replay_ring_covers(r, 0, 15));  /* b (11..20) evicted too */
    assert_true(replay_ring_covers(r, 0, 20));
    assert_false(replay_ring_covers(r, 2, 0));   /* no such resource */
    replay_ring_destroy(&r);
}

static void test_forget(void **state)
{
    (void)state;
    replay_ring_t *r = replay_ring_new(1000, 1);
    push(r, 0, 1, 4, 10, 'a');
    replay_ring_forget(r, 0, 5);       /* seq 5 never made it into a batch */
    push(r, 0, 6, 7, 10, 'b');
    assert_false(replay_ring_covers(r, 0, 3));
    assert_true(replay_ring_covers(r, 0, 5));
    replay_ring_forget(r, 0, 2);       /* never moves back */
    assert_false(replay_ring_covers(r, 0, 4));
    replay_ring_destroy(&r);
}

/* Many pushes through a small budget: the circular array grows while its
 * head has moved (wrap-around), and order survives every growth. */
static void test_wrap_around(void **state)
{
    (void)state;
    replay_ring_t *r = replay_ring_new(300 * 10, 1);
    uint64_t seq = 0;
    for (int i = 0; i < 1000; i++) {
        push(r, 0, seq + 1, seq + 2, 10, (uint8_t)(i % 251));
        seq += 2;
    }
    assert_int_equal(replay_ring_len(r), 300);
    seen_t s = each(r, 0, 0);
    assert_int_equal(s.n, 300);
    for (size_t k = 0; k < s.n; k++) assert_int_equal(s.tags[k], (uint8_t)((700 + k) % 251));
    assert_false(replay_ring_covers(r, 0, 1399));
    assert_true(replay_ring_covers(r, 0, 1400));
    /* a budget that grows the array after wrapping */
    for (int i = 0; i < 2000; i++, seq++) push(r, 0, seq + 1, seq + 1, i < 1000 ? 10 : 1, (uint8_t)(i % 251));
    s = each(r, 0, seq - 5);
    assert_int_equal(s.n, 5);
    assert_int_equal(s.tags[4], (uint8_t)(1999 % 251));
    replay_ring_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hit_and_order),
        cmocka_unit_test(test_bytes_bound_and_miss),
        cmocka_unit_test(test_forget),
        cmocka_unit_test(test_wrap_around),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
