/* Unit tests for executor/fairq.c: per-controller FIFOs served round-robin. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fairq.h"

typedef struct {
    const char *owner;
    int n;
} item_t;

static item_t items[3][1000];

static void fill(fairq_t *q, int owner_idx, const char *owner, int count)
{
    for (int i = 0; i < count; i++) {
        items[owner_idx][i].owner = owner;
        items[owner_idx][i].n = i;
        assert_int_equal(fairq_push(q, owner, &items[owner_idx][i]), 0);
    }
}

static void test_busy_controller_cannot_starve_another(void **state)
{
    (void)state;
    fairq_t *q = fairq_new();
    assert_non_null(q);
    fill(q, 0, "replicaset.0", 1000);
    fill(q, 1, "deployment.0", 2);
    assert_int_equal(fairq_len(q), 1002);
    assert_int_equal(fairq_owner_len(q, "deployment.0"), 2);
    /* Both deployment actions go out within the first four pops. */
    int seen_deploy = 0;
    for (int i = 0; i < 4; i++) {
        item_t *it = fairq_pop(q);
        assert_non_null(it);
        if (strcmp(it->owner, "deployment.0") == 0) seen_deploy++;
    }
    assert_int_equal(seen_deploy, 2);
    assert_int_equal(fairq_owner_len(q, "deployment.0"), 0);
    /* The rest is the busy one's, in FIFO order. */
    int expect = 2;
    item_t *it;
    while ((it = fairq_pop(q)) != NULL) {
        assert_string_equal(it->owner, "replicaset.0");
        assert_int_equal(it->n, expect++);
    }
    assert_int_equal(expect, 1000);
    assert_int_equal(fairq_len(q), 0);
    fairq_destroy(&q, NULL);
    assert_null(q);
}

static bool not_owner(void *item, void *arg) { return strcmp(((item_t *)item)->owner, arg) != 0; }
static bool refuse_all(void *item, void *arg) { (void)item; (void)arg; return false; }

/* An owner whose head is refused is skipped, keeps its place in the round
 * and its FIFO order. */
static void test_pop_if_skips_refused_owner(void **state)
{
    (void)state;
    fairq_t *q = fairq_new();
    fill(q, 0, "a", 3);
    fill(q, 1, "b", 2);
    fill(q, 2, "c", 1);
    assert_null(fairq_pop_if(q, refuse_all, NULL));
    assert_int_equal(fairq_len(q), 6);
    item_t *it = fairq_pop_if(q, not_owner, "a");
    assert_string_equal(it->owner, "b");
    assert_int_equal(it->n, 0);
    /* a was skipped, not sent to the back: a plain pop serves it next. */
    it = fairq_pop(q);
    assert_string_equal(it->owner, "a");
    assert_int_equal(it->n, 0);
    it = fairq_pop_if(q, not_owner, "b");   /* b's turn refused: c */
    assert_string_equal(it->owner, "c");
    it = fairq_pop_if(q, not_owner, "b");   /* c gone, a next */
    assert_string_equal(it->owner, "a");
    assert_int_equal(it->n, 1);
    assert_int_equal(fairq_len(q), 2);
    fairq_destroy(&q, NULL);
}

static void test_round_robin_order(void **state)
{
    (void)state;
    fairq_t *q = fairq_new();
    fill(q, 0, "a", 3);
    fill(q, 1, "b", 3);
    fill(q, 2, "c", 3);
    const char *want = "abcabcabc";
    for (int i = 0; i < 9; i++) {
        item_t *peek = fairq_peek(q);
        item_t *it = fairq_pop(q);
        assert_ptr_equal(peek, it);
        assert_int_equal(it->owner[0], want[i]);
        assert_int_equal(it->n, i / 3);
    }
    assert_null(fairq_pop(q));
    assert_null(fairq_peek(q));
    /* A drained owner comes back as a new one. */
    fill(q, 0, "a", 1);
    assert_int_equal(fairq_len(q), 1);
    fairq_destroy(&q, NULL);
}

static int counted;
static void count_item(void *item, void *arg)
{
    (void)item;
    (void)arg;
    counted++;
}

static void free_item(void *item) { free(item); }

static void test_each_and_destroy_frees_items(void **state)
{
    (void)state;
    fairq_t *q = fairq_new();
    for (int i = 0; i < 10; i++) {
        int *p = malloc(sizeof *p);
        assert_non_null(p);
        *p = i;
        assert_int_equal(fairq_push(q, i % 2 ? "odd" : "even", p), 0);
    }
    counted = 0;
    fairq_each(q, "odd", count_item, NULL);
    assert_int_equal(counted, 5);
    fairq_each(q, "nobody", count_item, NULL);
    assert_int_equal(counted, 5);
    fairq_destroy(&q, free_item); /* ASan: nothing leaks */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy_controller_cannot_starve_another),
        cmocka_unit_test(test_round_robin_order),
        cmocka_unit_test(test_pop_if_skips_refused_owner),
        cmocka_unit_test(test_each_and_destroy_frees_items),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
